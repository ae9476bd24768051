# Language-specific neurons (LAPE, Tang et al. 2024; ffnscope.lape): one job per (model, method,
# layer) pools every side's per-sentence detector firings (written by layer_stats) by language
# into activation probabilities, with bootstrap resamples of the sentences; one job per model
# selects the neurons over all its layers, on the full sample and on every resample.
from ffnscope.cluster import analysis_job_resources, cpu_job_resources, gpu_job_resources
from ffnscope.sides import side_name

LANGUAGE_NEURONS = config["language_neurons"]
# the run's languages (normalised tags, ffnscope.sides); a language pools its sides
NEURON_LANGUAGES = sorted({LANGUAGES[lang] for _, lang in SIDES})
CAUSAL = config["causal_test"]
if CAUSAL["method"] not in METHODS:
    raise ValueError(f"config causal_test.method: {CAUSAL['method']!r} is not one of metrics.methods {METHODS}")
# every table of this file (the causal test's only on request: target causal)
CAUSAL_TABLES = [table_path(m, "causal_perplexity") for m in MODELS]
LANGUAGE_NEURON_TABLES = [
    table_path(m, t) for m in MODELS for t in ("language_neurons", "language_neuron_counts", "language_neuron_overlap")
]


rule language_probabilities_layer:
    input:
        lambda w: [sentence_sums_path(w.model, w.method, t, lang, w.layer) for t, lang in SIDES],
    output:
        language_probabilities_path("{model}", "{method}", "{layer}"),
    log:
        "logs/language_probabilities/{model}/{method}/layer{layer}.log",
    benchmark:
        "benchmarks/language_probabilities_layer/{model}/{method}/layer{layer}.tsv"
    group:
        ANALYSIS_GROUP
    conda:
        "../envs/analysis.yaml"
    resources:
        # every side's firing counts (int32) + the resampled probabilities
        **analysis_job_resources(CLUSTER, base_mem_mb=2000, mem_mb_per_input_mb=2),
    params:
        sides=[side_name(t, lang) for t, lang in SIDES],
        language_of={side_name(t, lang): LANGUAGES[lang] for t, lang in SIDES},
        languages=NEURON_LANGUAGES,
        n_resamples=LANGUAGE_NEURONS["n_resamples"],
        seed=config["bootstrap"]["seed"],
    script:
        "../workflow/scripts/language_probabilities.py"


rule language_neuron_tables:
    input:
        lambda w: [
            language_probabilities_path(w.model, method, layer)
            for method in METHODS
            for layer in MODELS[w.model].layers
        ],
    output:
        neurons=table_path("{model}", "language_neurons"),
        counts=table_path("{model}", "language_neuron_counts"),
        overlap=table_path("{model}", "language_neuron_overlap"),
    log:
        "logs/language_neuron_tables/{model}.log",
    benchmark:
        "benchmarks/language_neuron_tables/{model}.tsv"
    conda:
        "../envs/analysis.yaml"
    resources:
        # every layer's resampled probabilities at once
        **cpu_job_resources(CLUSTER, base_mem_mb=2000, mem_mb_per_input_mb=2),
    params:
        methods=METHODS,
        layers=lambda w: list(MODELS[w.model].layers),
        languages=NEURON_LANGUAGES,
        settings={k: LANGUAGE_NEURONS[k] for k in ("filter_rate", "top_rate", "activation_bar_ratio")},
        confidence=config["bootstrap"]["confidence"],
    script:
        "../workflow/scripts/language_neuron_tables.py"


rule causal_test:
    """Switch one language's neurons off (and random ones), measure every language's NLL."""
    input:
        neurons=table_path("{model}", "language_neurons"),
        heldout=[heldout_dir(t) for t in TESTSETS],
        model=lambda w: model_input(w.model),
    output:
        causal_path("{model}", "{language}"),
    log:
        "logs/causal_test/{model}/{language}.log",
    benchmark:
        "benchmarks/causal_test/{model}/{language}.tsv"
    wildcard_constraints:
        language=names_regex(NEURON_LANGUAGES),
    conda:
        "../envs/snapshot.yaml"
    threads: 4
    resources:
        **gpu_job_resources(CLUSTER, lambda w: MODELS[w.model].size_gb),
    params:
        model_path=lambda w: MODELS[w.model].path,
        revision=lambda w: MODELS[w.model].revision,
        device=SNAP["device"],
        compute_dtype=SNAP["compute_dtype"],
        method=CAUSAL["method"],
        # per language, the held-out sentences of its sides
        heldout={
            lang: [heldout_path(t, code) for t, code in SIDES if LANGUAGES[code] == lang] for lang in NEURON_LANGUAGES
        },
        random_draws=CAUSAL["random_draws"],
        seed=CAUSAL["seed"],
        batch_size=CAUSAL["batch_size"],
    script:
        "../workflow/scripts/causal_test.py"


rule causal_table:
    input:
        lambda w: [causal_path(w.model, lang) for lang in NEURON_LANGUAGES],
    output:
        table=table_path("{model}", "causal_perplexity"),
        findings=causal_findings_path("{model}"),
    log:
        "logs/causal_table/{model}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        languages=NEURON_LANGUAGES,
        method=CAUSAL["method"],
        n_resamples=config["bootstrap"]["n_resamples"],
        seed=config["bootstrap"]["seed"],
        confidence=config["bootstrap"]["confidence"],
    script:
        "../workflow/scripts/causal_table.py"
