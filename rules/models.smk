# Model preparation: a GGUF shipped on PyPI is dequantised once into a plain safetensors
# directory that every snapshot job reloads in seconds. Hub/local models need no rule.


rule convert_gguf_model:
    output:
        directory("resources/models/{model}"),
    params:
        package=lambda w: MODELS[w.model].gguf_package,
    conda:
        "../envs/snapshot.yaml"
    log:
        "logs/convert_gguf_model/{model}.log",
    benchmark:
        "benchmarks/convert_gguf_model/{model}.tsv"
    resources:
        **cpu_job_resources(base_mem_mb=8000, base_minutes=30),
    script:
        "../workflow/scripts/convert_gguf_model.py"
