"""The paper's figures, one `make_*_figure` function per kind, each returning a matplotlib
`Figure` that `save_figure` writes (atomically) to PNG/PDF/SVG paths. `draw_figure` draws a
figure of the registry (ffnscope.figures.FIGURES) with the function its entry names.

    figs 2/3    make_activation_frequency_figure(activation_frequency table, sublayer)
    figs 4/6    make_flatness_figure(flatness table, sublayer)
    figs 5/7    make_activation_heatmap_figure([HeatmapPanel], sublayer)
    fig 8       make_activation_profile_figure([HeatmapPanel], "combinator")
    figs 9/10   make_distance_figure(representation_distance table, sublayer)
    fig 11      make_rsa_figure(rsa table, sublayer)
    figs 12-15, 17/18  make_rank_correlation_figure(rank_correlation table, sublayer, comparison=...)
    fig 16      make_overlap_figure(english_overlap table)
"""

from ffnscope.plots.draw import draw_figure
from ffnscope.plots.heatmaps import (
    HeatmapPanel,
    make_activation_heatmap_figure,
    make_activation_profile_figure,
    make_overlap_figure,
    make_rsa_figure,
)
from ffnscope.plots.layout import save_figure
from ffnscope.plots.lines import (
    make_activation_frequency_figure,
    make_distance_figure,
    make_flatness_figure,
    make_rank_correlation_figure,
)

__all__ = [
    "HeatmapPanel",
    "draw_figure",
    "make_activation_frequency_figure",
    "make_activation_heatmap_figure",
    "make_activation_profile_figure",
    "make_distance_figure",
    "make_flatness_figure",
    "make_overlap_figure",
    "make_rank_correlation_figure",
    "make_rsa_figure",
    "save_figure",
]
