# Representation distance, Algorithm 1 (§4.2, figs 9, 10): one CPU job per (model, method,
# test set, layer) computes both sublayers and every pairing the method supports (paper:
# parallel and the shuffled control; authors_code: pooled, parallel only) with bootstrap CIs
# over sentence pairs; one job per model gathers the rows into its table.
from ffnscope.cluster import cpu_job_resources
from ffnscope.testsets import pair_languages

DISTANCE = config["distance"]
# test set -> (source, target) language under `distance.direction`
DISTANCE_LANGUAGES = {t: pair_languages(spec["langs"], DISTANCE["direction"], t) for t, spec in TESTSETS.items()}
# model -> its distance rows: every method, test set and analysed layer
DISTANCE_FILES = {
    m: [distance_layer_path(m, method, t, layer) for method in METHODS for t in TESTSETS for layer in spec.layers]
    for m, spec in MODELS.items()
}
# every table of this file
DISTANCE_TABLES = [table_path(m, "representation_distance") for m in MODELS]


rule distance_layer:
    input:
        src=lambda w: shard_path(w.model, w.testset, DISTANCE_LANGUAGES[w.testset][0], w.layer),
        tgt=lambda w: shard_path(w.model, w.testset, DISTANCE_LANGUAGES[w.testset][1], w.layer),
    output:
        distance_layer_path("{model}", "{method}", "{testset}", "{layer}"),
    log:
        "logs/distance/{model}/{method}/{testset}_layer{layer}.log",
    benchmark:
        "benchmarks/distance_layer/{model}/{method}/{testset}_layer{layer}.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 2
    resources:
        **cpu_job_resources(CLUSTER, base_mem_mb=3000, mem_mb_per_input_mb=0),
    params:
        languages=lambda w: DISTANCE_LANGUAGES[w.testset],
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
    script:
        "../workflow/scripts/distance_table.py"
