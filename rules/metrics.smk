# Metrics: one CPU job per shard (model, method, test set, language, layer) streams the shard
# once for both sublayers, accumulating per sentence: a statistics row per sublayer (with
# bootstrap CIs over sentences) and the per-sentence activation sums that rank correlation
# reads; one job per model gathers the rows into tables.
from ffnscope import methods
from ffnscope.cluster import analysis_job_resources

# model -> its statistics rows: every method, side and analysed layer
LAYER_STATS_FILES = {
    m: [layer_stats_path(m, method, t, lang, layer) for method in METHODS for t, lang in SIDES for layer in spec.layers]
    for m, spec in MODELS.items()
}
# every table of this file
METRIC_TABLES = [table_path(m, t) for m in MODELS for t in ("activation_frequency", "flatness")]


rule layer_stats:
    input:
        snapshot_dir("{model}", "{testset}", "{lang}"),
    output:
        stats=layer_stats_path("{model}", "{method}", "{testset}", "{lang}", "{layer}"),
        sums=sentence_sums_path("{model}", "{method}", "{testset}", "{lang}", "{layer}"),
    log:
        "logs/layer_stats/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/layer_stats/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    group:
        ANALYSIS_GROUP
    conda:
        "../envs/analysis.yaml"
    resources:
        **analysis_job_resources(CLUSTER, reads=lambda w: [layer_shard(w)]),
    params:
        shard=layer_shard,
        firing_rule=lambda w: methods.firing_rule_for(w.method, config["metrics"]["firing_rule"]),
        chunk_rows=config["metrics"]["chunk_rows"],
        gated_neurons=config["metrics"]["gated_neurons"],
        bootstrap=config["bootstrap"],
    script:
        "../workflow/scripts/layer_stats.py"


rule metric_tables:
    input:
        lambda w: LAYER_STATS_FILES[w.model],
    output:
        frequency=table_path("{model}", "activation_frequency"),
        flatness=table_path("{model}", "flatness"),
    log:
        "logs/metric_tables/{model}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        languages=LANGUAGES,
    script:
        "../workflow/scripts/metric_tables.py"
