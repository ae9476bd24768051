"""The figure registry: per paper figure what it reads, how it is drawn and captioned.

Rules (a job and a named target per figure), the plotting script, the report and the tests
all read FIGURES. Adding a figure = one entry here + its `draw` function in ffnscope.plots +
its caption `report/{id}.rst`.

Free of heavy imports: the workflow uses it while parsing the Snakefile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

HEATMAPS = "heatmaps"  # `table` of the figures drawn from heat-map files, not from a table


@dataclass(frozen=True)
class Figure:
    id: str  # "fig02": the named target; the caption is report/{id}.rst
    stem: str  # file name without extension
    table: str  # the schemas.TABLES table it is drawn from, or HEATMAPS
    draw: str  # the ffnscope.plots function that draws it
    sublayer: str | None  # None: the figure is not about one sublayer
    settings: tuple[str, ...] = ()  # config figures.* keys it reads (its job's params)
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # fixed draw arguments
    panel_layers: str = "all"  # heat maps: every chosen layer ("all") or the "first" only
    method_independent: bool = False  # drawn once (for the first method): its data has no method

    @property
    def caption(self) -> str:
        return f"report/{self.id}.rst"


def _options(**kw: Any) -> Mapping[str, Any]:
    return MappingProxyType(kw)


FIGURES: dict[str, Figure] = {
    f.id: f
    for f in (
        Figure(
            "fig02",
            "fig02_activation_frequency_detectors",
            "activation_frequency",
            "make_activation_frequency_figure",
            "detector",
            ("sides",),
        ),
        Figure(
            "fig03",
            "fig03_activation_frequency_combinators",
            "activation_frequency",
            "make_activation_frequency_figure",
            "combinator",
            ("sides",),
        ),
        Figure(
            "fig04",
            "fig04_flatness_detectors",
            "flatness",
            "make_flatness_figure",
            "detector",
            ("sides", "flatness_value"),
        ),
        Figure("fig05", "fig05_activations_detectors", HEATMAPS, "make_activation_heatmap_figure", "detector"),
        Figure(
            "fig06",
            "fig06_flatness_combinators",
            "flatness",
            "make_flatness_figure",
            "combinator",
            ("sides", "flatness_value"),
        ),
        Figure("fig07", "fig07_activations_combinators", HEATMAPS, "make_activation_heatmap_figure", "combinator"),
        Figure(
            "fig08",
            "fig08_combinator_profiles_first_layer",
            HEATMAPS,
            "make_activation_profile_figure",
            "combinator",
            panel_layers="first",
        ),
        Figure("fig09", "fig09_distance_detectors", "representation_distance", "make_distance_figure", "detector"),
        Figure("fig10", "fig10_distance_combinators", "representation_distance", "make_distance_figure", "combinator"),
        Figure("fig11", "fig11_rsa_combinators", "rsa", "make_rsa_figure", "combinator"),
        Figure(
            "fig12",
            "fig12_rank_correlation_detectors",
            "rank_correlation",
            "make_rank_correlation_figure",
            "detector",
            options=_options(comparison="cross_language"),
        ),
        Figure(
            "fig13",
            "fig13_rank_correlation_combinators",
            "rank_correlation",
            "make_rank_correlation_figure",
            "combinator",
            options=_options(comparison="cross_language"),
        ),
        Figure(
            "fig14",
            "fig14_rank_correlation_english_detectors",
            "rank_correlation",
            "make_rank_correlation_figure",
            "detector",
            options=_options(comparison="intra_english"),
        ),
        Figure(
            "fig15",
            "fig15_rank_correlation_english_combinators",
            "rank_correlation",
            "make_rank_correlation_figure",
            "combinator",
            options=_options(comparison="intra_english"),
        ),
        Figure(
            "fig16", "fig16_english_overlap", "english_overlap", "make_overlap_figure", None, method_independent=True
        ),
        Figure(
            "fig17",
            "fig17_rank_correlation_parallel_detectors",
            "rank_correlation",
            "make_rank_correlation_figure",
            "detector",
            options=_options(comparison="parallel"),
        ),
        Figure(
            "fig18",
            "fig18_rank_correlation_parallel_combinators",
            "rank_correlation",
            "make_rank_correlation_figure",
            "combinator",
            options=_options(comparison="parallel"),
        ),
    )
}
