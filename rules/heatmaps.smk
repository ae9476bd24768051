# Normalised activation heat maps (figs 5, 7, 8): one job per (model, method, side, layer)
# writes both sublayers' prefixes x neurons maps, min-max scaled per prefix (eq. 3), bounded
# in size by heatmaps.max_prefixes / max_neurons.
from ffnscope.cluster import analysis_job_resources
from ffnscope.sides import check_sides

HEATMAPS = config["heatmaps"]
HEATMAP_SIDES = check_sides(HEATMAPS["sides"], SIDES, "heatmaps.sides")
# model -> heatmaps.layers[model], else its first, middle and last analysed layer. Entries for
# models not configured are ignored (a --configfile may replace the model list).
HEATMAP_LAYERS = {
    m: sorted(set(HEATMAPS["layers"].get(m) or [spec.layers[0], spec.layers[len(spec.layers) // 2], spec.layers[-1]]))
    for m, spec in MODELS.items()
}
for _m, _layers in HEATMAP_LAYERS.items():
    _missing = sorted(set(_layers) - set(MODELS[_m].layers))
    if _missing:
        raise ValueError(
            f"config heatmaps.layers[{_m}]: layers {_missing} are not analysed for this model "
            f"(models[name={_m}].layers)"
        )
# every heat map: configured sides x each model's chosen layers x methods
HEATMAP_FILES = [
    heatmap_path(m, method, t, l, layer)
    for m in MODELS
    for method in METHODS
    for t, l in HEATMAP_SIDES
    for layer in HEATMAP_LAYERS[m]
]


rule heatmap:
    input:
        snapshot_dir("{model}", "{testset}", "{lang}"),
    output:
        heatmap_path("{model}", "{method}", "{testset}", "{lang}", "{layer}"),
    log:
        "logs/heatmap/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/heatmap/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    group:
        ANALYSIS_GROUP
    conda:
        "../envs/analysis.yaml"
    resources:
        **analysis_job_resources(CLUSTER, base_mem_mb=2000, mem_mb_per_input_mb=0, reads=lambda w: [layer_shard(w)]),
    params:
        shard=layer_shard,
        max_prefixes=HEATMAPS["max_prefixes"],
        max_neurons=HEATMAPS["max_neurons"],
        gated_neurons=config["metrics"]["gated_neurons"],
    script:
        "../workflow/scripts/heatmap.py"
