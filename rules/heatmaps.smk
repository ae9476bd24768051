# Normalised activation heat maps (figs 5, 7, 8): one job per (model, method, side, layer)
# writes both sublayers' prefixes x neurons maps, min-max scaled per prefix (eq. 3), bounded
# in size by heatmaps.max_prefixes / max_neurons.


rule heatmap:
    input:
        lambda w: shard_path(w.model, w.testset, w.lang, w.layer),
    output:
        "results/heatmaps/{model}/{method}/{testset}/{lang}/layer{layer}.npz",
    log:
        "logs/heatmap/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/heatmap/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    conda:
        "../envs/analysis.yaml"
    resources:
        **cpu_job_resources(base_mem_mb=2000, mem_mb_per_input_mb=0),
    params:
        max_prefixes=HEATMAPS["max_prefixes"],
        max_neurons=HEATMAPS["max_neurons"],
    script:
        "../workflow/scripts/heatmap.py"
