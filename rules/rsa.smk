# Representational similarity between models (§4.2, fig 11) on the prefixes of one side
# (`rsa.side`). Stage 1, one CPU job per (model, method, layer): the prefix x prefix
# correlation structure of both sublayers of a seeded prefix subsample. Stage 2, one job:
# every layer x layer similarity of every model pair (self-pairs included), both methods.
from ffnscope.cluster import analysis_job_resources, cpu_job_resources
from ffnscope.sides import check_sides

RSA = config["rsa"]
(RSA_SIDE,) = check_sides([RSA["side"]], SIDES, "rsa.side")
# method -> model -> layer -> stage-1 file of the RSA side
RSA_FILES = {
    method: {
        m: {layer: rsa_layer_path(m, method, *RSA_SIDE, layer) for layer in spec.layers} for m, spec in MODELS.items()
    }
    for method in METHODS
}
RSA_LAYER_FILES = [
    path for by_model in RSA_FILES.values() for by_layer in by_model.values() for path in by_layer.values()
]
# every table of this file
RSA_TABLES = [run_table_path("rsa")]


rule rsa_layer:
    input:
        snapshot_dir("{model}", "{testset}", "{lang}"),
    output:
        rsa_layer_path("{model}", "{method}", "{testset}", "{lang}", "{layer}"),
    log:
        "logs/rsa_layer/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/rsa_layer/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    group:
        ANALYSIS_GROUP
    conda:
        "../envs/analysis.yaml"
    resources:
        **analysis_job_resources(CLUSTER, base_mem_mb=3000, mem_mb_per_input_mb=0, reads=lambda w: [layer_shard(w)]),
    params:
        shard=layer_shard,
        max_prefixes=RSA["max_prefixes"],
        batch_prefixes=RSA["batch_prefixes"],
        seed=RSA["seed"],
    script:
        "../workflow/scripts/rsa_layer.py"


rule rsa_table:
    input:
        RSA_LAYER_FILES,
    output:
        run_table_path("rsa"),
    log:
        "logs/rsa_table.log",
    benchmark:
        "benchmarks/rsa_table/rsa.tsv"
    localrule: True
    conda:
        "../envs/analysis.yaml"
    resources:
        **cpu_job_resources(CLUSTER, base_mem_mb=4000, mem_mb_per_input_mb=0),
    params:
        files=RSA_FILES,
        models=list(MODELS),  # every pair of them, self-pairs included (rsa.model_pairs)
        side=RSA["side"],
    script:
        "../workflow/scripts/rsa.py"
