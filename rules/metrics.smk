# Metrics: one CPU job per shard (model, test set, language, layer) streams the shard once
# for both sublayers; one job per model gathers the per-layer rows into tables.


rule layer_stats:
    input:
        lambda w: shard_path(w.model, w.testset, w.lang, w.layer),
    output:
        "results/metrics/{model}/{method}/{testset}/{lang}/layer{layer}.tsv",
    params:
        firing_rule=config["metrics"]["firing_rule"],
        chunk_rows=config["metrics"]["chunk_rows"],
    conda:
        "../envs/analysis.yaml"
    log:
        "logs/layer_stats/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    resources:
        slurm_partition=config["cluster"]["cpu_partition"],
        mem_mb=lambda w, input, attempt: int((1000 + 4 * input.size_mb) * attempt),
        runtime=lambda w, attempt: 30 * attempt,
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
    conda:
        "../envs/analysis.yaml"
    log:
        "logs/metric_tables/{model}.log",
    script:
        "../workflow/scripts/metric_tables.py"
