# Rank correlation of neurons between sides (§4.4, figs 12-15, 17-18): one CPU job per
# (model, method, layer) reads every side's per-sentence activation sums; one job per model
# gathers the rows. English overlap (fig. 16): one job over the English sides of all test sets.


rule rank_correlation_layer:
    input:
        lambda w: [sentence_sums_path(w.model, w.method, t, lang, w.layer) for t, lang in SIDES],
    output:
        "results/metrics/{model}/{method}/rank_correlation/layer{layer}.tsv",
    log:
        "logs/rank_correlation/{model}/{method}/layer{layer}.log",
    benchmark:
        "benchmarks/rank_correlation_layer/{model}/{method}/layer{layer}.tsv"
    conda:
        "../envs/analysis.yaml"
    resources:
        # one sublayer of every side in memory (float32, about half the input) + ranks
        **cpu_job_resources(base_mem_mb=2000, mem_mb_per_input_mb=1),
    params:
        sides=SIDES,
        language_sides=config["rank_correlation"]["language_sides"],
        bootstrap=config["bootstrap"],
    script:
        "../workflow/scripts/rank_correlation.py"


rule rank_correlation_table:
    input:
        lambda w: [
            rank_correlation_layer_path(w.model, method, layer)
            for method in METHODS
            for layer in MODELS[w.model].layers
        ],
    output:
        rank_correlation=table_path("{model}", "rank_correlation"),
    log:
        "logs/rank_correlation_table/{model}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/metric_tables.py"


rule english_overlap:
    input:
        sampled=[sentences_path(t, ENGLISH) for t in ENGLISH_TESTSETS],
        full=[testset_source(t, ENGLISH) for t in ENGLISH_TESTSETS],
    output:
        "results/tables/english_overlap.tsv",
    log:
        "logs/english_overlap.log",
    conda:
        "../envs/analysis.yaml"
    params:
        sides=[f"{t}/{ENGLISH}" for t in ENGLISH_TESTSETS],
    script:
        "../workflow/scripts/english_overlap.py"
