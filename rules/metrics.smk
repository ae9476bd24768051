# Metrics: one CPU job per shard (model, method, test set, language, layer) streams the shard
# once for both sublayers, accumulating per sentence: a statistics row per sublayer (with
# bootstrap CIs over sentences) and the per-sentence activation sums that rank correlation
# reads; one job per model gathers the rows into tables.


rule layer_stats:
    input:
        lambda w: shard_path(w.model, w.testset, w.lang, w.layer),
    output:
        stats="results/metrics/{model}/{method}/{testset}/{lang}/layer{layer}.tsv",
        sums="results/metrics/{model}/{method}/{testset}/{lang}/layer{layer}.npz",
    log:
        "logs/layer_stats/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/layer_stats/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    conda:
        "../envs/analysis.yaml"
    resources:
        **cpu_job_resources(),
    params:
        firing_rule=lambda w: firing_rule_for(w.method),
        chunk_rows=config["metrics"]["chunk_rows"],
        bootstrap=config["bootstrap"],
    script:
        "../workflow/scripts/layer_stats.py"


rule metric_tables:
    input:
        lambda w: [
            layer_stats_path(w.model, method, t, lang, layer)
            for method in METHODS
            for t, lang in SIDES
            for layer in MODELS[w.model].layers
        ],
    output:
        frequency=table_path("{model}", "activation_frequency"),
        flatness=table_path("{model}", "flatness"),
    log:
        "logs/metric_tables/{model}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/metric_tables.py"
