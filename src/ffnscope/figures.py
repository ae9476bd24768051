"""The figure registry: per figure (the paper's, then those of analyses beyond it: LAPE) what
it reads, how it is drawn and captioned.

Rules (a job and a named target per figure), the plotting script, the report and the tests
all read FIGURES. Adding a figure = one entry here + its `draw` function in a module of
ffnscope.plots + its caption `report/{id}.rst`.

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
    draw: str  # "module.function" of ffnscope.plots that draws it, e.g. "lines.make_flatness_figure"
    sublayer: str | None  # None: the figure is not about one sublayer
    settings: tuple[str, ...] = ()  # config figures.* keys it reads (its job's params)
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # fixed draw arguments
    panel_layers: str = "all"  # heat maps: every chosen layer ("all") or the "first" only
    method_independent: bool = False  # drawn once (for the first method): its data has no method
    optional: bool = False  # of an analysis run only on request (a named target), not by `all`

    @property
    def caption(self) -> str:
        return f"report/{self.id}.rst"


def _options(**kw: Any) -> Mapping[str, Any]:
    return MappingProxyType(kw)


FIGURES: dict[str, Figure] = {
    f.id: f
    for f in (
        Figure(
            id="fig02",
            stem="fig02_activation_frequency_detectors",
            table="activation_frequency",
            draw="lines.make_activation_frequency_figure",
            sublayer="detector",
            settings=("sides",),
        ),
        Figure(
            id="fig03",
            stem="fig03_activation_frequency_combinators",
            table="activation_frequency",
            draw="lines.make_activation_frequency_figure",
            sublayer="combinator",
            settings=("sides",),
        ),
        Figure(
            id="fig04",
            stem="fig04_flatness_detectors",
            table="flatness",
            draw="lines.make_flatness_figure",
            sublayer="detector",
            settings=(
                "sides",
                "flatness_value",
            ),
        ),
        Figure(
            id="fig05",
            stem="fig05_activations_detectors",
            table=HEATMAPS,
            draw="heatmaps.make_activation_heatmap_figure",
            sublayer="detector",
        ),
        Figure(
            id="fig06",
            stem="fig06_flatness_combinators",
            table="flatness",
            draw="lines.make_flatness_figure",
            sublayer="combinator",
            settings=(
                "sides",
                "flatness_value",
            ),
        ),
        Figure(
            id="fig07",
            stem="fig07_activations_combinators",
            table=HEATMAPS,
            draw="heatmaps.make_activation_heatmap_figure",
            sublayer="combinator",
        ),
        Figure(
            id="fig08",
            stem="fig08_combinator_profiles_first_layer",
            table=HEATMAPS,
            draw="heatmaps.make_activation_profile_figure",
            sublayer="combinator",
            panel_layers="first",
        ),
        Figure(
            id="fig09",
            stem="fig09_distance_detectors",
            table="representation_distance",
            draw="lines.make_distance_figure",
            sublayer="detector",
        ),
        Figure(
            id="fig10",
            stem="fig10_distance_combinators",
            table="representation_distance",
            draw="lines.make_distance_figure",
            sublayer="combinator",
        ),
        Figure(
            id="fig11",
            stem="fig11_rsa_combinators",
            table="rsa",
            draw="heatmaps.make_rsa_figure",
            sublayer="combinator",
        ),
        Figure(
            id="fig12",
            stem="fig12_rank_correlation_detectors",
            table="rank_correlation",
            draw="lines.make_rank_correlation_figure",
            sublayer="detector",
            options=_options(comparison="cross_language"),
        ),
        Figure(
            id="fig13",
            stem="fig13_rank_correlation_combinators",
            table="rank_correlation",
            draw="lines.make_rank_correlation_figure",
            sublayer="combinator",
            options=_options(comparison="cross_language"),
        ),
        Figure(
            id="fig14",
            stem="fig14_rank_correlation_english_detectors",
            table="rank_correlation",
            draw="lines.make_rank_correlation_figure",
            sublayer="detector",
            options=_options(comparison="intra_english"),
        ),
        Figure(
            id="fig15",
            stem="fig15_rank_correlation_english_combinators",
            table="rank_correlation",
            draw="lines.make_rank_correlation_figure",
            sublayer="combinator",
            options=_options(comparison="intra_english"),
        ),
        Figure(
            id="fig16",
            stem="fig16_english_overlap",
            table="english_overlap",
            draw="heatmaps.make_overlap_figure",
            sublayer=None,
            method_independent=True,
        ),
        Figure(
            id="fig17",
            stem="fig17_rank_correlation_parallel_detectors",
            table="rank_correlation",
            draw="lines.make_rank_correlation_figure",
            sublayer="detector",
            options=_options(comparison="parallel"),
        ),
        Figure(
            id="fig18",
            stem="fig18_rank_correlation_parallel_combinators",
            table="rank_correlation",
            draw="lines.make_rank_correlation_figure",
            sublayer="combinator",
            options=_options(comparison="parallel"),
        ),
        Figure(
            id="lape1",
            stem="lape1_language_neurons_per_layer",
            table="language_neuron_counts",
            draw="lines.make_language_neuron_count_figure",
            sublayer=None,
        ),
        Figure(
            id="lape3",
            stem="lape3_causal_test",
            table="causal_perplexity",
            draw="heatmaps.make_causal_figure",
            sublayer=None,
            method_independent=True,  # one method's neurons (causal_test.method), named in the table
            optional=True,
        ),
        Figure(
            id="lape2",
            stem="lape2_language_neuron_overlap",
            table="language_neuron_overlap",
            draw="heatmaps.make_language_neuron_overlap_figure",
            sublayer=None,
        ),
    )
}
