"""Figures 2/3 (activation frequency) and 4/6 (activation flatness) of the paper.

Layout, for both: one panel per model (a row, or a grid of 3 columns for more than 3 models),
sharing the y axis; x = layer, one line per side ("testset/lang"; the English sides of
different test sets are separate lines), one legend below the panels. Figures are built on
matplotlib's Agg-backed `Figure` directly, not pyplot, so no global figure state is kept.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ffnscope.atomic import atomic_path

MAX_COLUMNS = 3
PANEL_SIZE = (4.0, 3.2)  # inches per panel
LEGEND_ENTRY_WIDTH = 2.2  # inches per legend column, room for "wmt14-de-en/de"-like labels
FLATNESS_LABELS = {
    "flatness": "Activation flatness A (eq. 1)",
    "flatness_mean": "Activation flatness / prefix",
}
_LINESTYLES = ("-", "--", ":", "-.")


def side_label(testset: str, lang: str) -> str:
    return f"{testset}/{lang}"


def select(df: pd.DataFrame, sublayer: str, sides: list[str] | None) -> pd.DataFrame:
    """Rows of one sublayer (and of `sides`, if given) with a `side` column added."""
    df = df[df["sublayer"] == sublayer]
    df = df.assign(side=[side_label(t, lang) for t, lang in zip(df["testset"], df["lang"])])
    if sides is not None:
        missing = [s for s in sides if s not in set(df["side"])]
        if missing:
            raise ValueError(f"no {sublayer} rows for sides {missing}")
        df = df[df["side"].isin(sides)]
    if df.empty:
        raise ValueError(f"no rows for sublayer {sublayer!r}" + (f" and sides {sides}" if sides is not None else ""))
    return df


def single_value(df: pd.DataFrame, column: str) -> str:
    """The one value of `column` in the selection; mixing methods or rules in a figure is an error."""
    values = sorted(df[column].astype(str).unique())
    if len(values) != 1:
        raise ValueError(f"the figure's rows mix several {column} values: {values}")
    return values[0]


def side_styles(sides: list[str]) -> dict[str, dict]:
    """Colour (tab10) and, past 10 sides, line style per side: identical in every panel."""
    palette = colormaps["tab10"].colors
    return {s: {"color": palette[i % 10], "linestyle": _LINESTYLES[(i // 10) % len(_LINESTYLES)]}
            for i, s in enumerate(sides)}


def panel_figure(models: list[str]) -> tuple[Figure, list]:
    """A constrained-layout figure with one shared-y panel per model, in model order."""
    ncols = min(len(models), MAX_COLUMNS)
    nrows = math.ceil(len(models) / ncols)
    fig = Figure(figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows + 0.9), layout="constrained")
    grid = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    axes = list(grid.flat)
    for ax in axes[len(models):]:
        fig.delaxes(ax)
    for ax, model in zip(axes, models):
        ax.set_title(model)
        ax.set_xlabel("Layer")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    return fig, axes[:len(models)]


def legend_columns(n_entries: int, fig: Figure) -> int:
    """As many columns as fit the figure's width, balanced over the rows; the legend fills
    column by column, so the two sides of a test set end up stacked in one column."""
    fit = max(1, int(fig.get_figwidth() / LEGEND_ENTRY_WIDTH))
    rows = math.ceil(n_entries / fit)
    return math.ceil(n_entries / rows)


def draw_sides(df: pd.DataFrame, value: str, ylabel: str, band: str | None) -> Figure:
    """One panel per model, one line per side of `value` against layer; `band` names a
    column drawn as a shaded value +/- band."""
    models = list(dict.fromkeys(df["model"]))
    sides = list(dict.fromkeys(df["side"]))
    styles = side_styles(sides)
    fig, axes = panel_figure(models)
    for ax, model in zip(axes, models):
        for side, rows in df[df["model"] == model].groupby("side", sort=False):
            rows = rows.sort_values("layer")
            ax.plot(rows["layer"], rows[value], marker=".", markersize=4, linewidth=1.3, label=side, **styles[side])
            if band is not None:
                ax.fill_between(rows["layer"], rows[value] - rows[band], rows[value] + rows[band],
                                color=styles[side]["color"], alpha=0.15, linewidth=0)
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(ylabel)
    handles = [Line2D([], [], marker=".", label=s, **styles[s]) for s in sides]
    fig.legend(handles=handles, loc="outside lower center", ncols=legend_columns(len(sides), fig), frameon=False)
    return fig


def make_activation_frequency_figure(df: pd.DataFrame, sublayer: str, *, title_suffix: str = "",
                                     sides: list[str] | None = None) -> Figure:
    """Figures 2/3: mean activation frequency over the neurons of each layer, band = +/- std."""
    df = select(df, sublayer, sides)
    title = (f"Activation frequency of {sublayer}s (mean \u00b1 std over neurons)\n"
             f"method: {single_value(df, 'method')}, firing rule: {single_value(df, 'firing_rule')}{title_suffix}")
    fig = draw_sides(df, "mean", "Activation frequency", band="std")
    fig.suptitle(title)
    return fig


def make_flatness_figure(df: pd.DataFrame, sublayer: str, *, value: str = "flatness", title_suffix: str = "",
                         sides: list[str] | None = None) -> Figure:
    """Figures 4/6: activation flatness per layer, as the sum A of eq. (1) or per prefix."""
    if value not in FLATNESS_LABELS:
        raise ValueError(f"unknown flatness value {value!r}; valid: {', '.join(FLATNESS_LABELS)}")
    df = select(df, sublayer, sides)
    title = f"Activation flatness of {sublayer}s\nmethod: {single_value(df, 'method')}{title_suffix}"
    fig = draw_sides(df, value, FLATNESS_LABELS[value], band=None)
    fig.suptitle(title)
    return fig


def save_figure(fig: Figure, out_paths: list[str]) -> None:
    """Save to every path atomically; the format follows each path's extension. The figure
    is not registered with pyplot, so there is nothing to close: it is freed with `fig`."""
    for path in out_paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=150, format=Path(path).suffix.lstrip(".") or None)


def plot_activation_frequency(df: pd.DataFrame, sublayer: str, out_paths: list[str], *, title_suffix: str = "",
                              sides: list[str] | None = None) -> None:
    save_figure(make_activation_frequency_figure(df, sublayer, title_suffix=title_suffix, sides=sides), out_paths)


def plot_flatness(df: pd.DataFrame, sublayer: str, out_paths: list[str], *, value: str = "flatness",
                  title_suffix: str = "", sides: list[str] | None = None) -> None:
    save_figure(make_flatness_figure(df, sublayer, value=value, title_suffix=title_suffix, sides=sides), out_paths)
