# Representational similarity between models (§4.2, fig 11) on the prefixes of one side
# (`rsa.side`). Stage 1, one CPU job per (model, method, layer): the prefix x prefix
# correlation structure of both sublayers of a seeded prefix subsample. Stage 2, one job:
# every layer x layer similarity of every model pair (self-pairs included), both methods.


rule rsa_layer:
    input:
        lambda w: shard_path(w.model, w.testset, w.lang, w.layer),
    output:
        "results/metrics/{model}/{method}/rsa/{testset}/{lang}/layer{layer}.h5",
    log:
        "logs/rsa_layer/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/rsa_layer/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    conda:
        "../envs/analysis.yaml"
    resources:
        **cpu_job_resources(base_mem_mb=3000, mem_mb_per_input_mb=0),
    params:
        max_prefixes=RSA["max_prefixes"],
        batch_prefixes=RSA["batch_prefixes"],
        seed=RSA["seed"],
    script:
        "../workflow/scripts/rsa_layer.py"


rule rsa_table:
    input:
        [path for by_model in rsa_files().values() for by_layer in by_model.values() for path in by_layer.values()],
    output:
        "results/tables/rsa.tsv",
    log:
        "logs/rsa_table.log",
    benchmark:
        "benchmarks/rsa_table/rsa.tsv"
    conda:
        "../envs/analysis.yaml"
    resources:
        **cpu_job_resources(base_mem_mb=4000, mem_mb_per_input_mb=0),
    params:
        files=rsa_files(),
        pairs=model_pairs(list(MODELS)),
        side=RSA["side"],
    script:
        "../workflow/scripts/rsa.py"
