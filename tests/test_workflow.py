"""The workflow end to end on the tiny XGLM (real WMT14 sentences), then the dry-run job
lists that prove a setting change re-runs only the jobs that depend on it."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ffnscope.activations import activate
from ffnscope.distance import paired_distances
from ffnscope.figures import FIGURES
from ffnscope.shards import read_attrs, read_dataset
from ffnscope.tables import read_tsv
from ffnscope.testsets import clean_sentence

REPO = Path(__file__).resolve().parents[1]
FIGURE_STEMS = [fig.stem for fig in FIGURES.values() if not fig.optional]  # what `all` draws
METHOD_INDEPENDENT = {fig.stem for fig in FIGURES.values() if fig.method_independent}
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
# Parsing the Snakefile, done again by every cluster job, imports only light modules.
HEAVY_MODULES = {"numpy", "pandas", "scipy", "h5py", "torch", "matplotlib"}


def rule_imports():
    """The ffnscope modules the Snakefile and rules/*.smk import."""
    modules = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        for package, names in re.findall(r"^\s*from (ffnscope[\w.]*) import ([\w, ]+)$", path.read_text(), re.M):
            if package == "ffnscope":  # from ffnscope import methods
                modules |= {f"ffnscope.{name.strip()}" for name in names.split(",")}
            else:
                modules.add(package)
        modules |= set(re.findall(r"^\s*import (ffnscope[\w.]*)", path.read_text(), re.M))
    return modules


def test_parsing_the_workflow_imports_no_heavy_module():
    modules = rule_imports()
    assert modules == {
        "ffnscope.cluster",
        "ffnscope.comparisons",
        "ffnscope.figures",
        "ffnscope.methods",
        "ffnscope.runlock",
        "ffnscope.schemas",
        "ffnscope.sides",
        "ffnscope.testsets",
    }
    code = f"import json, sys\nfor m in {sorted(modules)!r}: __import__(m)\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert modules <= set(loaded) and not {m.split(".")[0] for m in loaded} & HEAVY_MODULES


def run_snakemake(workdir, *args, check=True):
    result = subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(workdir / "test.yaml"), *args],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def planned_jobs(workdir, *targets, **config_override):
    """Rule name -> job count of a dry run of `targets` (default: all), with `config_override`
    as --config values."""
    extra = [f"{k}={v}" for k, v in config_override.items()]
    out = run_snakemake(workdir, "-n", *targets, "--quiet", "rules", *(["--config", *extra] if extra else [])).stdout
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M) if m[1] != "total"}


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory, tiny_xglm_dir, shared_data):
    workdir = tmp_path_factory.mktemp("workflow")
    config = {
        "data": {"source": "local", "local_dir": str(shared_data / "wmt14")},
        "testsets": [
            {"name": "wmt14-de-en", "dir": "de-en", "langs": ["de", "en"]},
            {"name": "wmt14-hi-en", "dir": "hi-en", "langs": ["hi", "en"]},
        ],
        "sampling": {"n_sentences": 3, "seed": 5},
        "models": [{"name": "tiny-xglm", "path": str(tiny_xglm_dir), "n_layers": 4}],
        "metrics": {"methods": ["paper", "authors_code"]},
        "bootstrap": {"n_resamples": 200},
    }
    (workdir / "test.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(workdir, "--cores", "2")
    return workdir


def test_outputs_and_values(workflow_run):
    shard = workflow_run / "results/snapshots/tiny-xglm/wmt14-hi-en/hi/layer02.h5"
    attrs = read_attrs(shard)
    assert attrs["model"] == "tiny-xglm" and attrs["layer"] == 2 and attrs["storage_dtype"] == "float16"
    assert attrs["second_linear_module"] == "layers.2.fc2"
    assert (attrs["ffn_family"], attrs["activation"]) == ("plain", "gelu")
    freq = read_tsv(workflow_run / "results/tables/tiny-xglm/activation_frequency.tsv")
    assert list(freq.columns) == [
        "model",
        "method",
        "testset",
        "lang",
        "sublayer",
        "layer",
        "mean",
        "std",
        "ci_low",
        "ci_high",
        "n_prefixes",
        "n_sentences",
        "neuron_value",
        "firing_rule",
        "not_measurable",
        "language",
        "script",
    ]
    assert sorted(set(zip(freq.lang, freq.language, freq.script))) == [
        ("de", "de", "Latn"),
        ("en", "en", "Latn"),
        ("hi", "hi", "Deva"),
    ]
    assert len(freq) == 2 * 4 * 4 * 2  # methods x sides x layers x sublayers
    hi_det = "testset == 'wmt14-hi-en' and lang == 'hi' and layer == 2 and sublayer == 'detector'"
    row = freq.query(f"method == 'paper' and {hi_det}").iloc[0]
    det = read_dataset(shard, "detector").astype(np.float32)
    per_neuron = (det > 0).mean(axis=0)
    assert row.n_prefixes == det.shape[0] and row.n_sentences == 3 and row.firing_rule == "> 0"
    assert row.neuron_value == "w2_input" and pd.isna(row.not_measurable)
    assert row["mean"] == pytest.approx(per_neuron.mean(), abs=1e-12)
    assert row["std"] == pytest.approx(per_neuron.std(), abs=1e-12)
    assert row.ci_low <= row["mean"] <= row.ci_high
    # the authors' detectors: GELU of the stored fc1 output, counted with != 0
    authors = freq.query(f"method == 'authors_code' and {hi_det}").iloc[0]
    pre = activate(read_dataset(shard, "detector_pre").astype(np.float32), "gelu")
    assert authors["mean"] == pytest.approx((pre != 0).mean(), abs=1e-12) and authors.firing_rule == "!= 0"
    assert authors.neuron_value == "act(w1)" and "~1.0 by construction" in authors.not_measurable
    flat = read_tsv(workflow_run / "results/tables/tiny-xglm/flatness.tsv")
    assert set(flat.sublayer) == {"detector", "combinator"} and set(flat.method) == {"paper", "authors_code"}
    figures = sorted(p.relative_to(workflow_run).as_posix() for p in (workflow_run / "results/figures").rglob("*.png"))
    expected = [f"results/figures/{stem}.png" for stem in FIGURE_STEMS] + [
        f"results/figures/authors_code/{stem}.png" for stem in FIGURE_STEMS if stem not in METHOD_INDEPENDENT
    ]
    assert set(expected) <= set(figures)
    for path in expected:
        assert (workflow_run / path).stat().st_size > 1000


def test_nothing_left_to_do(workflow_run):
    assert planned_jobs(workflow_run) == {}


def test_figure_setting_reruns_only_that_figure(workflow_run):
    assert planned_jobs(workflow_run, figures={"flatness_value": "flatness_mean"}) == {
        "plot_fig04": 1,
        "plot_fig06": 1,
        "plot_fig04_authors_code": 1,
        "plot_fig06_authors_code": 1,
        "all": 1,
    }


def test_firing_rule_reruns_metrics_not_snapshots(workflow_run):
    jobs = planned_jobs(workflow_run, metrics={"firing_rule": "!= 0"})
    assert jobs["layer_stats"] == 16 and "snapshot" not in jobs and "prepare_testset" not in jobs


def test_bad_config_value_names_the_key(workflow_run):
    result = run_snakemake(workflow_run, "-n", "--config", "snapshot={'storage_dtype': 'int8'}", check=False)
    assert result.returncode != 0
    assert "storage_dtype" in result.stdout + result.stderr


def test_duplicate_names_are_an_error(workflow_run, tmp_path):
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        "models:\n  - {name: tiny-xglm, path: a, n_layers: 4}\n  - {name: tiny-xglm, path: b, n_layers: 4}\n"
    )
    result = run_snakemake(workflow_run, "-n", "--configfile", str(workflow_run / "test.yaml"), str(twice), check=False)
    assert result.returncode != 0
    assert "config models[1]: name 'tiny-xglm' is used twice" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "models:\n  - {name: tiny-xglm, path: ./no/such/model, n_layers: 4}\n",
            "config models[name=tiny-xglm].path: './no/such/model' is not there",
        ),
        (
            "rank_correlation: {language_sides: {de: wmt14-fr-en}}\n",
            "rank_correlation.language_sides: de: 'wmt14-fr-en' is not a configured test set with language 'de'",
        ),
    ],
)
def test_settings_a_job_would_fail_on_fail_the_dry_run(workflow_run, tmp_path, setting, message):
    (tmp_path / "bad.yaml").write_text(setting)
    result = run_snakemake(
        workflow_run, "-n", "--configfile", str(workflow_run / "test.yaml"), str(tmp_path / "bad.yaml"), check=False
    )
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_language_neurons_equal_lape_recomputed_from_the_shards(workflow_run):
    """Method paper: a detector fires where it is > 0; the languages' firing counts over every
    prefix row of their shards (English: both test sets) through a transcription of Tang et
    al.'s identify.py give the selected neurons of language_neurons.tsv."""
    import torch
    from test_lape import identify_py

    # the languages as the tables name them (normalised tags), in their sorted order
    sides = {
        "de-Latn": ["wmt14-de-en/de"],
        "en-Latn": ["wmt14-de-en/en", "wmt14-hi-en/en"],
        "hi-Deva": ["wmt14-hi-en/hi"],
    }
    fires = np.zeros((4, 0, 3))
    prefixes = np.zeros(3)
    for layer in range(4):
        per_language = []
        for k, lang in enumerate(sides):
            rows = np.concatenate(
                [
                    read_dataset(workflow_run / f"results/snapshots/tiny-xglm/{side}/layer{layer:02d}.h5", "detector")
                    for side in sides[lang]
                ]
            ).astype(np.float32)
            per_language.append((rows > 0).sum(axis=0))
            prefixes[k] = len(rows)
        if layer == 0:
            fires = np.zeros((4, len(per_language[0]), 3))
        fires[layer] = np.stack(per_language, axis=-1)
    expected = identify_py(torch.tensor(fires), torch.tensor(prefixes))
    # identify.py fills up its share with non-candidates (no probability above the filter
    # quantile) when too few candidates exist; ffnscope selects candidates only
    probs = fires / prefixes
    flat = np.sort(probs.ravel())
    candidate = (probs > flat[round(flat.size * 0.95) - 1]).any(axis=-1)
    expected = {lang: [n for n in pairs if candidate[n]] for lang, pairs in expected.items()}
    table = read_tsv(workflow_run / "results/tables/tiny-xglm/language_neurons.tsv")
    table = table[table["method"] == "paper"]
    got = {
        k: sorted((int(r.layer), int(r.neuron)) for r in table.itertuples() if lang in str(r.languages).split(","))
        for k, lang in enumerate(sides)
    }
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    assert sum(map(len, got.values())) > 0  # not vacuous
    counts = read_tsv(workflow_run / "results/tables/tiny-xglm/language_neuron_counts.tsv")
    paper = counts[counts["method"] == "paper"]
    assert len(paper) == 4 * 3 and (paper["n_resamples"] == 100).all()
    for k, lang in enumerate(sides):
        per_layer = paper[paper["language"] == lang].sort_values("layer")["n_neurons"].tolist()
        assert per_layer == [sum(1 for layer, _ in got[k] if layer == i) for i in range(4)]
    assert (paper["ci_low"] <= paper["ci_high"]).all()


def test_causal_test_on_request(workflow_run, tiny_xglm_dir):
    """Target `causal`: per switched-off language and evaluated language, the perplexity
    change with its interval, for the language's neurons and 3 random draws; the baseline
    perplexity equals transformers' own loss on the held-out sentences."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert "causal_test" not in planned_jobs(workflow_run)  # `all` does not run it
    run_snakemake(workflow_run, "--cores", "2", "causal")
    table = read_tsv(workflow_run / "results/tables/tiny-xglm/causal_perplexity.tsv")
    languages = ["de-Latn", "en-Latn", "hi-Deva"]
    assert len(table) == 3 * (1 + 3) * 3 and set(table["deactivated"]) == set(languages)
    assert (table["method"] == "paper").all() and (table["ci_low"] <= table["ci_high"]).all()
    neurons = read_tsv(workflow_run / "results/tables/tiny-xglm/language_neurons.tsv")
    neurons = neurons[neurons["method"] == "paper"]
    for lang in languages:
        own = table[(table["deactivated"] == lang) & (table["condition"] == "language")]
        assigned = sum(lang in str(langs).split(",") for langs in neurons["languages"])
        assert (own["n_neurons"] == assigned).all()
    # baseline: English pools the held-out sentences of both test sets
    heldout = [
        line
        for t in ("wmt14-de-en", "wmt14-hi-en")
        for line in (workflow_run / f"results/heldout/{t}/en.txt").read_text(encoding="utf-8").splitlines()
    ]
    assert (table[table["evaluated"] == "en-Latn"]["n_sentences"] == len(heldout)).all() and len(heldout) > 6
    tokenizer = AutoTokenizer.from_pretrained(tiny_xglm_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_xglm_dir).eval()
    nll = tokens = 0.0
    with torch.no_grad():
        for sentence in heldout:
            ids = torch.tensor([tokenizer(sentence)["input_ids"]])
            nll += model(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1)
            tokens += ids.shape[1] - 1
    assert table[table["evaluated"] == "en-Latn"]["ppl_base"].to_numpy() == pytest.approx(
        np.exp(nll / tokens), rel=1e-4
    )
    findings = (workflow_run / "results/causal_test/tiny-xglm.md").read_text()
    assert all(f"tiny-xglm, {lang} (" in findings for lang in languages)
    assert (workflow_run / "results/figures/lape3_causal_test.png").is_file()
    # a causal-test setting re-runs the causal test only
    fewer = workflow_run / "fewer_heldout.yaml"
    fewer.write_text("causal_test: {heldout_sentences: 5}\n")
    out = run_snakemake(
        workflow_run, "-n", "causal", "--quiet", "rules", "--configfile", str(workflow_run / "test.yaml"), str(fewer)
    ).stdout
    rerun = {m[1] for m in re.finditer(r"^(\w+)\s+\d+$", out, re.M)} - {"total"}
    assert rerun == {"heldout_testset", "causal_test", "causal_table", "plot_lape3", "causal"}
    # with causal_test.in_summary the summary states the same findings; nothing is computed again
    in_summary = workflow_run / "in_summary.yaml"
    in_summary.write_text("causal_test: {in_summary: true}\n")
    args = ("--configfile", str(workflow_run / "test.yaml"), str(in_summary))
    out = run_snakemake(workflow_run, "-n", "--quiet", "rules", *args).stdout
    assert {m[1] for m in re.finditer(r"^(\w+)\s+\d+$", out, re.M)} - {"total"} == {"summary", "all"}
    run_snakemake(workflow_run, "--cores", "2", *args)
    summary = (workflow_run / "results/summary.md").read_text()
    assert all(line in summary for line in findings.splitlines() if line.startswith("- "))


def test_report_has_every_figure_and_the_findings(workflow_run):
    run_snakemake(workflow_run, "--report", "report.zip")
    names = zipfile.ZipFile(workflow_run / "report.zip").namelist()
    for stem in FIGURE_STEMS:
        assert any(name.endswith(f"{stem}.png") for name in names), stem
    assert any(name.endswith("summary.md") for name in names)
    summary = read_tsv(workflow_run / "results/tables/summary.tsv")
    assert set(summary.method) == {"paper", "authors_code"} and set(summary.sublayer) == {"detector", "combinator"}


def test_job_resources_cover_exactly_this_runs_jobs(workflow_run):
    stale = workflow_run / "benchmarks/layer_stats/tiny-xglm/paper/wmt14-de-en_de_layer09.tsv"
    stale.write_text((workflow_run / "benchmarks/layer_stats/tiny-xglm/paper/wmt14-de-en_de_layer00.tsv").read_text())
    run_snakemake(workflow_run, "--cores", "1", "--forcerun", "job_resources")
    jobs = read_tsv(workflow_run / "results/tables/job_resources_per_rule.tsv").set_index("rule")["jobs"]
    # 2 methods x 4 sides x 4 layers; 4 sides; 2 methods x 2 test sets x 4 layers; 2 methods x 4 layers
    assert jobs.to_dict() == {
        "distance_layer": 16,
        "heatmap": 6,
        "language_neuron_tables": 1,
        "language_probabilities_layer": 8,
        "layer_stats": 32,
        "rank_correlation_layer": 8,
        "rsa_layer": 8,
        "rsa_table": 1,
        "snapshot": 4,
    }


def test_random_init_control_is_planned_like_any_model(tmp_path, tiny_xglm_dir, shared_data):
    config = {
        "data": {"source": "local", "local_dir": str(shared_data / "wmt14")},
        "testsets": [{"name": "wmt14-de-en", "dir": "de-en", "langs": ["de", "en"]}],
        "sampling": {"n_sentences": 3, "seed": 5},
        "models": [
            {"name": "tiny-xglm", "path": str(tiny_xglm_dir), "n_layers": 4},
            {
                "name": "tiny-xglm-random",
                "random_init": {"like": "tiny-xglm", "seed": 3},
                "n_layers": 4,
                "layers": [1, 3],
            },
        ],
        "metrics": {"methods": ["paper"]},
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(config))
    jobs = planned_jobs(tmp_path)
    assert jobs["random_init_model"] == 1 and "convert_gguf_model" not in jobs
    assert jobs["snapshot"] == 2 + 2  # one per model and side
    assert jobs["rsa_layer"] == 4 + 2  # both models' layers: RSA compares the model with its control
    config["models"][1]["random_init"]["like"] = "tiny-xglm-2"
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "-n", check=False)
    assert result.returncode != 0
    assert "models[name=tiny-xglm-random].random_init.like: 'tiny-xglm-2' must name" in result.stdout + result.stderr


# --- an N-way test set with FLORES-200 codes ------------------------------------------------------

FLORES_LANGS = ["eng_Latn", "deu_Latn", "hin_Deva"]
FLORES_TABLES = [
    f"results/tables/tiny-xglm/{t}.tsv"
    for t in ("activation_frequency", "flatness", "representation_distance", "rank_correlation")
]


def flores_config(tiny_xglm_dir, data_dir, langs=FLORES_LANGS, **extra):
    return {
        "data": {"source": "local", "local_dir": str(data_dir)},
        "testsets": [{"name": "flores", "dir": "devtest", "langs": langs}],
        "sampling": {"n_sentences": 3, "seed": 5},
        "models": [{"name": "tiny-xglm", "path": str(tiny_xglm_dir), "n_layers": 4}],
        "prefixes": {"unit": "whitespace"},
        "metrics": {"methods": ["paper"]},
        "bootstrap": {"n_resamples": 20},
        "rsa": {"side": "flores/deu_Latn"},
        "heatmaps": {"sides": ["flores/eng_Latn"]},
        **extra,
    }


@pytest.fixture(scope="module")
def flores_run(tmp_path_factory, tiny_xglm_dir, excerpt_data):
    """Three languages of one FLORES test set, distance between every pair (direction listed)."""
    workdir = tmp_path_factory.mktemp("flores")
    shutil.copytree(excerpt_data / "flores", workdir / "data")  # a copy that tests may edit
    config = flores_config(tiny_xglm_dir, workdir / "data", distance={"direction": "listed"})
    (workdir / "test.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(workdir, "--cores", "2", *FLORES_TABLES)
    return workdir


def test_n_way_sample_and_one_capture_per_side(flores_run, excerpt_data):
    results = flores_run / "results"
    lines = [int(n) for n in (results / "sentences/flores/eng_Latn.line_numbers.txt").read_text().split()]
    assert len(lines) == 3
    for lang in FLORES_LANGS:  # one sample of lines for the whole set: the same lines of every side
        source = (excerpt_data / f"flores/devtest/{lang}.txt").read_text(encoding="utf-8").splitlines()
        sampled = (results / f"sentences/flores/{lang}.txt").read_text(encoding="utf-8").splitlines()
        assert sampled == [clean_sentence(source[n - 1]) for n in lines]
        assert (results / f"sentences/flores/{lang}.line_numbers.txt").read_text().split() == list(map(str, lines))
    captured = sorted(p.relative_to(results / "snapshots/tiny-xglm/flores").as_posix() for p in results.rglob("*.h5"))
    assert captured == [f"{lang}/layer{k:02d}.h5" for lang in sorted(FLORES_LANGS) for k in range(4)]


def test_edited_test_set_with_old_timestamps_is_prepared_again(flores_run):
    """A sampled line edited in a copy that keeps the old timestamp (cp -p, rsync -a, tar x):
    that side is prepared and captured again, no other; the original content back, nothing is
    to do."""
    source = flores_run / "data/devtest/deu_Latn.txt"
    original, times = source.read_bytes(), (source.stat().st_atime_ns, source.stat().st_mtime_ns)
    line = int((flores_run / "results/sentences/flores/deu_Latn.line_numbers.txt").read_text().split()[0])
    lines = original.decode().splitlines(keepends=True)
    lines[line - 1] = "Ein ganz anderer Satz steht jetzt hier.\n"
    source.write_text("".join(lines), encoding="utf-8")
    os.utime(source, ns=times)
    try:
        planned = planned_jobs(flores_run, *FLORES_TABLES)
        assert (planned.get("prepare_side"), planned.get("snapshot")) == (1, 1), planned
    finally:
        source.write_bytes(original)
        os.utime(source, ns=times)
    assert planned_jobs(flores_run, *FLORES_TABLES) == {}


def test_edited_line_that_is_not_sampled_reruns_nothing(flores_run):
    """The prepared test set would be byte-identical: nothing is prepared or captured again."""
    source = flores_run / "data/devtest/deu_Latn.txt"
    original = source.read_bytes()
    sampled = {int(n) for n in (flores_run / "results/sentences/flores/deu_Latn.line_numbers.txt").read_text().split()}
    lines = original.decode().splitlines(keepends=True)
    unsampled = next(i for i in range(len(lines)) if i + 1 not in sampled)
    lines[unsampled] = "Ein ganz anderer Satz steht jetzt hier.\n"
    try:
        source.write_text("".join(lines), encoding="utf-8")
        assert planned_jobs(flores_run, *FLORES_TABLES) == {}
    finally:
        source.write_bytes(original)


def test_n_way_tables_carry_pairs_and_languages(flores_run):
    tables = flores_run / "results/tables/tiny-xglm"
    freq = read_tsv(tables / "activation_frequency.tsv")
    assert freq[["lang", "language", "script"]].drop_duplicates().sort_values("lang").values.tolist() == [
        ["deu_Latn", "de", "Latn"],
        ["eng_Latn", "en", "Latn"],
        ["hin_Deva", "hi", "Deva"],
    ]
    assert set(freq["n_sentences"]) == {3}
    # distance: every pair in listed order, X-Y between non-English languages included
    dist = read_tsv(tables / "representation_distance.tsv")
    pairs = dist[["src_lang", "tgt_lang", "src_language", "tgt_language", "tgt_script"]].drop_duplicates()
    assert sorted(map(tuple, pairs.values.tolist())) == [
        ("deu_Latn", "hin_Deva", "de", "hi", "Deva"),
        ("eng_Latn", "deu_Latn", "en", "de", "Latn"),
        ("eng_Latn", "hin_Deva", "en", "hi", "Deva"),
    ]
    assert len(dist) == 3 * 4 * 2 * 2  # pairs x layers x sublayers x pairings (parallel, shuffled)
    row = dist.query("src_lang == 'deu_Latn' and layer == 2 and sublayer == 'combinator' and pairing == 'parallel'")
    shards = flores_run / "results/snapshots/tiny-xglm/flores"
    direct = paired_distances(shards / "deu_Latn/layer02.h5", shards / "hin_Deva/layer02.h5", "combinator")
    assert row["distance"].item() == pytest.approx(direct["parallel"].distance, rel=1e-12)
    # rank correlation: one side per language, every pair of sides of the test set parallel
    rank = read_tsv(tables / "rank_correlation.tsv").query("layer == 0 and sublayer == 'detector'")
    compared = rank[["comparison", "side_a", "side_b", "pairing", "language_a", "language_b"]].values.tolist()
    assert compared == sorted(
        [
            ["cross_language", "flores/deu_Latn", "flores/eng_Latn", "parallel", "de", "en"],
            ["cross_language", "flores/deu_Latn", "flores/hin_Deva", "parallel", "de", "hi"],
            ["cross_language", "flores/eng_Latn", "flores/hin_Deva", "parallel", "en", "hi"],
        ]
        + [
            ["parallel", f"flores/{a}", f"flores/{b}", pairing, la, lb]
            for a, b, la, lb in [
                ("eng_Latn", "deu_Latn", "en", "de"),
                ("eng_Latn", "hin_Deva", "en", "hi"),
                ("deu_Latn", "hin_Deva", "de", "hi"),
            ]
            for pairing in ("non_parallel", "parallel")
        ]
    )


def test_n_way_distance_defaults_to_english_and_reuses_the_captures(flores_run):
    # to_english: each other language to English; the sides are captured already
    jobs = planned_jobs(flores_run, *FLORES_TABLES, distance={"direction": "to_english"})
    assert jobs == {"distance_layer": 2 * 4, "distance_table": 1}


def test_unknown_code_fails_the_parse_unless_named(tmp_path, tiny_xglm_dir, excerpt_data):
    data = tmp_path / "data" / "devtest"
    data.mkdir(parents=True)
    for lang, source in (("eng_Latn", "eng_Latn"), ("xx", "deu_Latn")):
        (data / f"{lang}.txt").write_bytes((excerpt_data / "flores/devtest" / f"{source}.txt").read_bytes())
    config = flores_config(tiny_xglm_dir, tmp_path / "data", langs=["eng_Latn", "xx"], rsa={"side": "flores/xx"})
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "-n", check=False)
    assert result.returncode != 0
    assert "config testsets[name=flores].langs: 'xx' is not a language code" in result.stdout + result.stderr
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({**config, "languages": {"xx": "de"}}))
    assert planned_jobs(tmp_path, *FLORES_TABLES)["distance_layer"] == 4  # xx -> eng_Latn, 4 layers
