# Test sets: (download ->) alignment check, §3.1 cleaning, seeded sampling.
# One rule per test set, because all its sides (two or more) are written by one job. Both are
# light and the download needs the internet, which compute nodes often lack: they run locally.


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

    rule:
        """Check the sides are aligned, clean them (§3.1) and sample the same lines of each."""
        name:
            f"prepare_{rule_id(_ts['name'])}"
        input:
            # ancient: the files' times do not matter, what they give does (params.sample_sha256)
            [ancient(testset_source(_ts["name"], lang)) for lang in _ts["langs"]],
        output:
            sentences=[sentences_path(_ts["name"], lang) for lang in _ts["langs"]],
            lines=f"results/testsets/{_ts['name']}/line_numbers.txt",
            eligibility=eligibility_path(_ts["name"]),
        log:
            f"logs/prepare_testset/{_ts['name']}.log",
        localrule: True
        conda:
            "../envs/analysis.yaml"
        params:
            # what the local files give, not their times: a copy with old timestamps (cp -p,
            # rsync -a, tar x) of edited files prepares the test set again, an edit of a line
            # that is not sampled prepares nothing (a plain value: Snakemake records no params
            # given as functions)
            sample_sha256=sample_digest(_ts["name"]),
            langs=_ts["langs"],
            n_sentences=config["sampling"]["n_sentences"],
            seed=config["sampling"]["seed"],
            # sampled lines have the words a prefix needs on every side
            prefixes=config["prefixes"],
        script:
            "../workflow/scripts/prepare_testset.py"
