"""Rule script: draw one paper figure (params.kind) from its tables or heat-map files.

params: kind (FIGURES[fig]["kind"], default its table), sublayer, method, settings (the
figure's config settings) and, where the figure has them, options (fixed keyword arguments,
FIGURES[fig]["options"]) and panels ((model, side, layer) of each heat-map input file, in
input order)."""

import pandas as pd

from ffnscope.plots import (
    HeatmapPanel,
    make_activation_frequency_figure,
    make_activation_heatmap_figure,
    make_activation_profile_figure,
    make_distance_figure,
    make_flatness_figure,
    make_overlap_figure,
    make_rank_correlation_figure,
    make_rsa_figure,
    save_figure,
)
from ffnscope.tables import read_tsv

TABLE_FIGURES = {
    "activation_frequency": make_activation_frequency_figure,
    "flatness": make_flatness_figure,
    "representation_distance": make_distance_figure,
    "rank_correlation": make_rank_correlation_figure,
    "rsa": make_rsa_figure,
}
HEATMAP_FIGURES = {
    "activation_heatmap": make_activation_heatmap_figure,
    "activation_profile": make_activation_profile_figure,
}

p = snakemake.params
if p.kind in HEATMAP_FIGURES:
    panels = [HeatmapPanel(model, side, layer, path) for (model, side, layer), path in zip(p.panels, snakemake.input)]
    fig = HEATMAP_FIGURES[p.kind](panels, p.sublayer, method=p.method)
else:
    df = pd.concat([read_tsv(path) for path in snakemake.input], ignore_index=True)
    if p.kind == "english_overlap":  # the same for every method: no method column
        fig = make_overlap_figure(df)
    else:
        fig = TABLE_FIGURES[p.kind](df[df["method"] == p.method], p.sublayer, **p.get("options", {}), **p.settings)
save_figure(fig, list(snakemake.output))
