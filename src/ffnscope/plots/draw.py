"""The one entry point from a figure of the registry (ffnscope.figures) to its drawing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure as MplFigure

from ffnscope.figures import HEATMAPS, Figure
from ffnscope.plots.heatmaps import HeatmapPanel
from ffnscope.tables import read_tsv


def draw_function(figure: Figure) -> Callable[..., MplFigure]:
    """The function that draws `figure`: its `draw`, "module.function" of ffnscope.plots."""
    module, _, name = figure.draw.rpartition(".")
    return getattr(import_module(f"ffnscope.plots.{module}"), name)


def draw_figure(
    figure: Figure,
    inputs: Sequence[str | Path],
    *,
    method: str,
    settings: Mapping[str, Any],
    panels: Sequence[tuple[str, str, int]],
) -> MplFigure:
    """Draw `figure` for `method` from its input files: heat maps (`panels` names the model,
    side and layer of each, in input order) or tables, concatenated, of which only the
    method's rows are drawn unless the figure is method-independent. The figure's `draw`
    function gets its sublayer (where it is about one), fixed options and config settings."""
    draw = draw_function(figure)
    if figure.table == HEATMAPS:
        if len(panels) != len(inputs):
            raise ValueError(f"{figure.id}: {len(inputs)} heat-map files for {len(panels)} panels")
        data = [HeatmapPanel(model, side, layer, path) for (model, side, layer), path in zip(panels, inputs)]
        named = {"method": method}  # heat-map files do not record their method; tables do
    else:
        df = pd.concat([read_tsv(path) for path in inputs], ignore_index=True)
        data = df if figure.method_independent else df[df["method"] == method]
        named = {}
    sublayer = () if figure.sublayer is None else (figure.sublayer,)
    return draw(data, *sublayer, **figure.options, **settings, **named)
