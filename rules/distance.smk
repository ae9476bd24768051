# Representation distance, Algorithm 1 (§4.2, figs 9, 10): one CPU job per (model, method,
# test set, layer) computes both sublayers and every pairing the method supports (paper:
# parallel and the shuffled control; authors_code: pooled, parallel only) with bootstrap CIs
# over sentence pairs; one job per model gathers the rows into its table.


rule distance_layer:
    input:
        src=lambda w: shard_path(w.model, w.testset, distance_languages(w.testset)[0], w.layer),
        tgt=lambda w: shard_path(w.model, w.testset, distance_languages(w.testset)[1], w.layer),
    output:
        "results/metrics/{model}/{method}/distance/{testset}/layer{layer}.tsv",
    log:
        "logs/distance/{model}/{method}/{testset}_layer{layer}.log",
    benchmark:
        "benchmarks/distance_layer/{model}/{method}/{testset}_layer{layer}.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 2
    resources:
        **cpu_job_resources(base_mem_mb=3000, mem_mb_per_input_mb=0),
    params:
        languages=lambda w: distance_languages(w.testset),
        metric=DISTANCE["metric"],
        seed=DISTANCE["seed"],
        block_sentences=DISTANCE["block_sentences"],
        block_rows=DISTANCE["block_rows"],
        bootstrap=config["bootstrap"],
    script:
        "../workflow/scripts/distance.py"


rule distance_table:
    input:
        lambda w: [
            distance_layer_path(w.model, method, t, layer)
            for method in METHODS
            for t in TESTSETS
            for layer in MODELS[w.model].layers
        ],
    output:
        table_path("{model}", "representation_distance"),
    log:
        "logs/distance_table/{model}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/distance_table.py"
