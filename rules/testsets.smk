# Test sets: (download ->) alignment check, §3.1 cleaning, seeded sampling.
# One `prepare_testset` job per test set writes the sample's lines and counts into the test
# set's folder, one `prepare_side` job per side that side's sentences. The rules are light
# and the download needs the internet, which compute nodes often lack: they run locally.


for _ts in TESTSETS.values():
    if config["data"]["source"] == "sacrebleu":
        if len(_ts["langs"]) != 2:
            raise ValueError(
                f"config testsets[name={_ts['name']}]: data.source sacrebleu downloads language pairs; "
                f"langs {_ts['langs']} has {len(_ts['langs'])} (use data.source local for N-way test sets)"
            )
        _src, _ref = _ts["langs"]

        rule:
            """Online only: fetch one test set's source and reference sides with sacrebleu."""
            name:
                f"download_{rule_id(_ts['name'])}"
            output:
                src=testset_source(_ts["name"], _src),
                ref=testset_source(_ts["name"], _ref),
            log:
                f"logs/download_testset/{_ts['name']}.log",
            localrule: True
            conda:
                "../envs/analysis.yaml"
            params:
                test=_ts["sacrebleu"]["test"],
                langpair=_ts["sacrebleu"]["langpair"],
            shell:
                "(sacrebleu -t {params.test} -l {params.langpair} --echo src > {output.src}.tmp"
                " && sacrebleu -t {params.test} -l {params.langpair} --echo ref > {output.ref}.tmp"
                " && mv {output.src}.tmp {output.src} && mv {output.ref}.tmp {output.ref}) 2> {log}"


rule prepare_testset:
    """Check the sides are aligned, clean them (§3.1) and draw the sample: which lines, and
    how many each side's short lines left out (the sides' sentences: prepare_side)."""
    input:
        # ancient: the files' times do not matter, what they give does (params.sample_sha256)
        sources_of_testset,
    output:
        directory(testset_dir("{testset}")),
    log:
        "logs/prepare_testset/{testset}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        # what the local files give, not their times: a copy with old timestamps (cp -p,
        # rsync -a, tar x) of edited files prepares the test set again, an edit of a line
        # that is not sampled prepares nothing
        sample_sha256=lambda w: sample_digest(w.testset),
        # the sample's settings stand in the digest; alone where there is none
        settings=lambda w: sampling_settings(w.testset),
        lines=lambda w: line_numbers_path(w.testset),
        eligibility=lambda w: eligibility_path(w.testset),
    script:
        "../workflow/scripts/prepare_testset.py"


rule prepare_side:
    """One side's sampled sentences, cleaned, and their source lines. Drawn from every side's
    file, as the sample is, but written per side and re-run only when what it writes changes
    (params.side_sha256): an edit of one side's file re-runs that side's snapshot only."""
    input:
        sources_of_testset,
    output:
        sentences=sentences_path("{testset}", "{lang}"),
        lines=side_line_numbers_path("{testset}", "{lang}"),
    log:
        "logs/prepare_side/{testset}_{lang}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        side_sha256=lambda w: side_digest(w.testset, w.lang),
        settings=lambda w: sampling_settings(w.testset),
    script:
        "../workflow/scripts/prepare_side.py"


rule heldout_testset:
    """Draw held-out sentences (eligible lines outside the sample) for the causal test."""
    input:
        sources_of_testset,
    output:
        directory(heldout_dir("{testset}")),
    log:
        "logs/heldout_testset/{testset}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        sources_sha256=lambda w: sources_digest(w.testset),
        langs=lambda w: TESTSETS[w.testset]["langs"],
        heldout=lambda w: [heldout_path(w.testset, lang) for lang in TESTSETS[w.testset]["langs"]],
        n_heldout=config["causal_test"]["heldout_sentences"],
        n_sentences=config["sampling"]["n_sentences"],
        seed=config["sampling"]["seed"],
        prefixes=config["prefixes"],
    script:
        "../workflow/scripts/heldout_testset.py"
