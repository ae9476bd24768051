"""Scaffolding shared by every figure: panel grids, per-series styles, shaded bands, legends,
and atomic saving.

Figures are built on matplotlib's Agg-backed `Figure` directly, not pyplot, so no global
figure state is kept and nothing needs closing: a figure is freed with its last reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ffnscope.atomic import atomic_path

MAX_COLUMNS = 3
PANEL_SIZE = (4.0, 3.2)  # inches per panel
MIN_WIDTH = 6.5  # inches: room for two-line titles and a two-column legend under a single panel
LEGEND_HEIGHT = 0.9  # inches reserved below the panels for the legend: LEGEND_ROWS rows
LEGEND_ROWS = 3
LEGEND_ROW_HEIGHT = 0.25  # inches per further legend row
LEGEND_HANDLE_WIDTH = 0.7  # inches per legend column for the line sample and padding
LEGEND_CHAR_WIDTH = 0.085  # inches per label character at the default font size
_MARKERS = (".", "x", "+", "^", "s")
# Shaded bands, by kind: the spread over neurons is drawn lighter than the (narrower)
# bootstrap interval, so the interval stays visible inside it. Each band's `gid` is its kind.
# Beyond BAND_SERIES series per panel the bands fade, so that overlapping bands stay see-through.
BANDS = {
    "std": {"alpha": 0.12, "label": "\u00b11 std over neurons"},
    "ci": {"alpha": 0.3, "label": "95 % bootstrap CI over sentences"},
}
BAND_SERIES = 3
# A measurement and its chance-level control (shuffled / non-parallel pairs): line style and name.
PAIRING_STYLES = {"parallel": "-", "shuffled": "--", "non_parallel": "--"}
PAIRING_LABELS = {
    "parallel": "parallel pairs",
    "shuffled": "shuffled pairs (control)",
    "non_parallel": "non-parallel halves (control)",
}


def single_value(df: pd.DataFrame, column: str) -> str:
    """The one value of `column` in the selection; mixing methods (or firing rules, distance
    metrics, ...) in one figure is an error."""
    values = sorted(df[column].astype(str).unique())
    if len(values) != 1:
        raise ValueError(f"the figure's rows mix several {column} values: {values}")
    return values[0]


def pairings_of(df: pd.DataFrame, column: str | None) -> list[str]:
    """The pairings in `column` (none without one), in PAIRING_STYLES order; unknown values
    are an error."""
    if column is None:
        return []
    unknown = sorted(set(df[column]) - set(PAIRING_STYLES))
    if unknown:
        raise ValueError(f"unknown {column} values {unknown}; valid: {', '.join(PAIRING_STYLES)}")
    return [p for p in PAIRING_STYLES if p in set(df[column])]


def series_styles(keys: Sequence[str]) -> dict[str, dict]:
    """Colour and marker per series, identical in every panel: tab10 up to 10 series, tab20
    up to 20, then the colours repeat with another marker. Line styles are left free for
    telling a measurement from its control."""
    palette = colormaps["tab10" if len(keys) <= 10 else "tab20"].colors
    return {
        k: {"color": palette[i % len(palette)], "marker": _MARKERS[(i // len(palette)) % len(_MARKERS)]}
        for i, k in enumerate(keys)
    }


def grid_columns(n_panels: int) -> int:
    """Up to MAX_COLUMNS panels in a row; beyond, the column count (2 or 3) that leaves
    fewer cells empty (4 models: 2 x 2, not 3 + 1)."""
    if n_panels <= MAX_COLUMNS:
        return n_panels
    return min((MAX_COLUMNS, 2), key=lambda c: -n_panels % c)


def panel_grid(
    titles: Sequence[str | None],
    *,
    ncols: int | None = None,
    sharey: bool = True,
    panel_size: tuple[float, float] = PANEL_SIZE,
    legend_height: float = LEGEND_HEIGHT,
) -> tuple[Figure, list]:
    """A constrained-layout figure with one panel per title, filled row by row (at most
    MAX_COLUMNS columns unless `ncols` is given); a None title leaves its cell empty. Returns
    the figure and the panels of the non-None titles, in order."""
    ncols = ncols or grid_columns(len(titles))
    nrows = math.ceil(len(titles) / ncols)
    fig = Figure(
        figsize=(max(MIN_WIDTH, panel_size[0] * ncols), panel_size[1] * nrows + legend_height), layout="constrained"
    )
    grid = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    axes = []
    for i, ax in enumerate(grid.flat):
        if i >= len(titles) or titles[i] is None:
            fig.delaxes(ax)
        else:
            ax.set_title(titles[i])
            axes.append(ax)
    return fig, axes


def notice_figure(title: str, message: str) -> Figure:
    """A figure that says why there is nothing to draw (a comparison this run's test sets do
    not allow), so `snakemake all` completes and the report shows the reason."""
    fig = Figure(figsize=(9, 2.5), layout="constrained")
    ax = fig.add_subplot()
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    return fig


def layer_panels(models: Sequence[str], ylabel: str) -> tuple[Figure, list]:
    """One shared-y panel per model with x = layer (integer ticks); y label on the left column."""
    fig, axes = panel_grid(models)
    for ax in axes:
        ax.set_xlabel("Layer")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(ylabel)
    return fig, axes


def layer_ticks(axis, layers: Sequence[int], max_ticks: int = 12) -> None:
    """Label the cells of a layer axis with their layer numbers: cells are the analysed
    layers, which need not be consecutive (config models[].layers). At most `max_ticks`."""
    step = -(-len(layers) // max_ticks)
    positions = list(range(0, len(layers), step))
    axis.set_ticks(positions, [str(layers[i]) for i in positions])


def draw_band(
    ax, x: np.ndarray, low: np.ndarray, high: np.ndarray, color, kind: str, n_series: int = 1
) -> PolyCollection | None:
    """A shaded band between `low` and `high` (one of `n_series` in the panel); nothing where
    the bounds are NaN (intervals switched off), no artist if they are NaN everywhere."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    finite = np.isfinite(low) & np.isfinite(high)
    if not finite.any():
        return None
    alpha = BANDS[kind]["alpha"] * min(1.0, BAND_SERIES / n_series)
    band = ax.fill_between(x, low, high, where=finite, color=color, alpha=alpha, linewidth=0)
    band.set_gid(kind)
    return band


def band_handles(kinds: Sequence[str]) -> list[Patch]:
    """Legend entries explaining the band kinds that were drawn."""
    return [Patch(facecolor="0.4", alpha=BANDS[k]["alpha"] + 0.1, label=BANDS[k]["label"]) for k in kinds]


def series_handles(styles: dict[str, dict]) -> list[Line2D]:
    return [Line2D([], [], label=key, **style) for key, style in styles.items()]


def entry_width(handles: Sequence) -> float:
    """Inches a legend column needs for the longest of these entries (handle + text)."""
    return LEGEND_HANDLE_WIDTH + LEGEND_CHAR_WIDTH * max(len(h.get_label()) for h in handles)


def add_legend(fig: Figure, series: list, keys: Sequence = ()) -> None:
    """One legend for all panels, below them: the series in as many columns as the width
    allows (filled column by column, so the two sides of a test set stack in one column),
    then the keys (line styles, bands) in a column of their own. The figure grows by the
    rows beyond LEGEND_ROWS, so a long legend never squeezes the panels."""
    keys = list(keys)
    width = fig.get_figwidth() - (entry_width(keys) if keys else 0.0)
    columns = max(1, int(width / entry_width(series)))
    rows = max(len(keys), math.ceil(len(series) / columns))
    blank = Line2D([], [], linestyle="none", label=" ")
    handles = series + [blank] * (-len(series) % rows) + keys + [blank] * (-len(keys) % rows)
    fig.set_figheight(fig.get_figheight() + max(0, rows - LEGEND_ROWS) * LEGEND_ROW_HEIGHT)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles) // rows, frameon=False)


def save_figure(fig: Figure, out_paths: Sequence[str | Path]) -> None:
    """Save to every path atomically; the format follows each path's extension."""
    for path in out_paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=150, format=Path(path).suffix.lstrip(".") or None)
