# Normalised activation heat maps (figs 5, 7, 8): one job per (model, method, side, layer)
# writes both sublayers' prefixes x neurons maps, min-max scaled per prefix (eq. 3), bounded
# in size by heatmaps.max_prefixes / max_neurons.
from ffnscope.rankcorr import side_name, split_side

HEATMAPS = config["heatmaps"]
HEATMAP_SIDES = [split_side(side) for side in HEATMAPS["sides"]]
_unknown = [side_name(*side) for side in HEATMAP_SIDES if side not in SIDES]
if _unknown:
    raise ValueError(f"config heatmaps.sides: {_unknown} are not configured sides; valid: "
                     f"{', '.join(side_name(*side) for side in SIDES)}")


def heatmap_layers(model):
    """heatmaps.layers[model], else the first, middle and last analysed layer. Entries for
    models not configured are ignored (a --configfile may replace the model list)."""
    analysed = MODELS[model].layers
    chosen = HEATMAPS["layers"].get(model) or [analysed[0], analysed[len(analysed) // 2], analysed[-1]]
    missing = sorted(set(chosen) - set(analysed))
    if missing:
        raise ValueError(f"config heatmaps.layers[{model}]: layers {missing} are not analysed for this model "
                         f"(models[name={model}].layers)")
    return sorted(set(chosen))


def heatmap_path(model, method, testset, lang, layer):
    return f"results/heatmaps/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.npz"


def heatmap_targets():
    """Every heat map: configured sides x each model's chosen layers x methods."""
    return [heatmap_path(m, method, t, l, layer) for m in MODELS for method in METHODS
            for t, l in HEATMAP_SIDES for layer in heatmap_layers(m)]


rule heatmap:
    input:
        lambda w: shard_path(w.model, w.testset, w.lang, w.layer),
    output:
        "results/heatmaps/{model}/{method}/{testset}/{lang}/layer{layer}.npz",
    params:
        max_prefixes=HEATMAPS["max_prefixes"],
        max_neurons=HEATMAPS["max_neurons"],
    conda:
        "../envs/analysis.yaml"
    log:
        "logs/heatmap/{model}/{method}/{testset}_{lang}_layer{layer}.log",
    benchmark:
        "benchmarks/heatmap/{model}/{method}/{testset}_{lang}_layer{layer}.tsv"
    resources:
        **cpu_job_resources(base_mem_mb=2000, mem_mb_per_input_mb=0),
    script:
        "../workflow/scripts/heatmap.py"
