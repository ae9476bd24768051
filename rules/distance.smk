# Representation distance, Algorithm 1 (§4.2, figs 9, 10): one CPU job per (model, method,
# test set, source and target side, layer) computes both sublayers and every pairing the method
# supports (paper: parallel and the shuffled control; authors_code: pooled, parallel only) with
# bootstrap CIs over sentence pairs; one job per model gathers the rows into its table.
from ffnscope.cluster import analysis_job_resources
from ffnscope.sides import distance_pairs

DISTANCE = config["distance"]
# test set -> its (source, target) codes: distance.pairs, else by distance.direction
DISTANCE_PAIRS = distance_pairs(
    {t: spec["langs"] for t, spec in TESTSETS.items()}, DISTANCE["direction"], DISTANCE["pairs"], LANGUAGES
)
# model -> its distance rows: every method, pair of sides and analysed layer
DISTANCE_FILES = {
    m: [
        distance_layer_path(m, method, t, src, tgt, layer)
        for method in METHODS
        for t, pairs in DISTANCE_PAIRS.items()
        for src, tgt in pairs
        for layer in spec.layers
    ]
    for m, spec in MODELS.items()
}
# every table of this file
DISTANCE_TABLES = [table_path(m, "representation_distance") for m in MODELS]


rule distance_layer:
    input:
        src=snapshot_dir("{model}", "{testset}", "{src}"),
        tgt=snapshot_dir("{model}", "{testset}", "{tgt}"),
    output:
        distance_layer_path("{model}", "{method}", "{testset}", "{src}", "{tgt}", "{layer}"),
    log:
        "logs/distance/{model}/{method}/{testset}/{src}/{tgt}/layer{layer}.log",
    benchmark:
        "benchmarks/distance_layer/{model}/{method}/{testset}/{src}/{tgt}/layer{layer}.tsv"
    group:
        ANALYSIS_GROUP
    conda:
        "../envs/analysis.yaml"
    threads: 2
    resources:
        **analysis_job_resources(CLUSTER, base_mem_mb=3000, mem_mb_per_input_mb=0, reads=pair_shards),
    params:
        shards=pair_shards,
        metric=DISTANCE["metric"],
        seed=DISTANCE["seed"],
        block_sentences=DISTANCE["block_sentences"],
        block_rows=DISTANCE["block_rows"],
        bootstrap=config["bootstrap"],
    script:
        "../workflow/scripts/distance.py"


rule distance_table:
    input:
        lambda w: DISTANCE_FILES[w.model],
    output:
        table_path("{model}", "representation_distance"),
    log:
        "logs/distance_table/{model}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        languages=LANGUAGES,
    script:
        "../workflow/scripts/distance_table.py"
