"""The many-language forms of the per-layer figures.

An N-way test set of ~30 languages has 29 sides, 28 pairs with English and 406 pairs in all:
drawn as lines (ffnscope.plots.lines) they are a tangle. Beyond MAX_LINES series a figure is
drawn instead as

- a heat map per model (and per pairing, where a chance-level control was measured):
  rows = the sides or pairs, sorted by label; columns = the analysed layers; colour = what
  the line form plots on y, on one colour scale for all panels (figs 2-4, 6; figs 9, 10 and
  12-15, 17, 18 where the pairs mostly share a side, e.g. every language with English);
- a language x language matrix per model at its first, middle and last analysed layer, where
  the pairs are most of all pairs of their languages (figs 12-15, 17, 18 by default; 9, 10
  for a test set without English): symmetric with an empty diagonal, or, where a control was
  measured, the measurement above the diagonal and the control below.

Sides are labelled by their language's name where the table carries the normalised language
(`language`, `src_language`/`tgt_language`, `language_a`/`language_b`), by their code
otherwise. Every row (matrix cell) gets CELL_INCHES of height, so tick labels never overlap
however many languages there are. Intervals are left to the tables in these forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ffnscope.plots.layout import (
    PAIRING_LABELS,
    grid_columns,
    layer_ticks,
    pairings_of,
    panel_grid,
)
from ffnscope.sides import Side, parse_language

MAX_LINES = 10  # series per panel drawn as lines; beyond, the heat-map or matrix form
MATRIX_MIN_FILL = 0.5  # share of a language x language matrix the pairs must fill to be drawn as one
TICK_FONTSIZE = 7
CELL_INCHES = 0.16  # height of a row (width of a matrix column): a label at TICK_FONTSIZE and a gap
LABEL_CHAR_INCHES = 0.055  # width of a tick-label character at TICK_FONTSIZE
# Inches: the cells of a heat-map panel are HEATMAP_WIDTH wide, those of any panel at least
# MIN_CELLS wide and tall (room for its title and the colour bar's label). Around the cells,
# room for a panel's title, a layer axis (ticks and label), the figure's two-line title and
# the colour bar (with its label) at the right, COLORBAR_HEIGHT tall at most.
HEATMAP_WIDTH = 4.0
MIN_CELLS = 3.0
PANEL_TITLE = 0.35
LAYER_AXIS = 0.55
FIGURE_TITLE = 0.8
COLORBAR_WIDTH = 1.2
COLORBAR_HEIGHT = 5.0
CMAP = "viridis"


def language_name(language, script=None) -> str | None:
    """The English name of a table's normalised language (and script): "zh", "Hans" ->
    "Chinese (Simplified)"; None where it is missing or names no language."""
    if not isinstance(language, str) or not language:
        return None
    parsed = parse_language(f"{language}-{script}" if isinstance(script, str) and script else language)
    return parsed.name if parsed else None


def side_labels(df: pd.DataFrame, columns: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """A unique, readable label per side named in `columns`, triples of a side column and its
    language and script columns (schemas.LanguageColumns): the language's name where the
    table carries it, else the side's code; where that leaves two sides alike, the code,
    then the test set, is added."""
    names: dict[str, str | None] = {}
    for side_column, language_column, script_column in columns:
        missing = [None] * len(df)
        languages = df[language_column] if language_column in df.columns else missing
        scripts = df[script_column] if script_column in df.columns else missing
        for side, language, script in zip(df[side_column], languages, scripts):
            names.setdefault(side, language_name(language, script))
    code = {s: Side.parse(s).lang for s in names}
    name = {s: names[s] or code[s] for s in names}
    for label in (
        lambda s: name[s],
        lambda s: name[s] if name[s] == code[s] else f"{name[s]} ({code[s]})",
        lambda s: f"{name[s]} ({Side.parse(s).testset})",
    ):
        labels = {s: label(s) for s in names}
        if len(set(labels.values())) == len(labels):
            return labels
    return {s: s for s in names}


def by_label(labels: Mapping[str, str]) -> list[str]:
    """The keys of `labels`, sorted by their labels (case-insensitively)."""
    return sorted(labels, key=lambda k: labels[k].casefold())


def tick_labels(axis, labels: Sequence[str], rotation: float = 0) -> None:
    """One tick per cell, labelled at TICK_FONTSIZE. Axes that share the axis share these
    labels too: inner panels hide them with tick_params."""
    axis.set_ticks(range(len(labels)), labels, fontsize=TICK_FONTSIZE, rotation=rotation)


def label_inches(labels: Sequence[str]) -> float:
    return LABEL_CHAR_INCHES * max(len(label) for label in labels) + 0.3


def add_colorbar(fig: Figure, image, axes: Sequence, label: str) -> None:
    """One colour bar for all panels, at the right, at most COLORBAR_HEIGHT tall."""
    fig.colorbar(image, ax=axes, label=label, shrink=min(0.9, COLORBAR_HEIGHT / fig.get_figheight()))


def shared_norm(values: pd.Series) -> Normalize:
    return Normalize(float(np.nanmin(values)), float(np.nanmax(values)))


def is_dense(pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether the pairs fill at least MATRIX_MIN_FILL of the matrix of the sides they name
    (every pair of 29 languages: yes; 28 languages each with English: no)."""
    sides = {s for pair in pairs for s in pair}
    unordered = {frozenset(p) for p in pairs if p[0] != p[1]}
    return len(unordered) >= MATRIX_MIN_FILL * len(sides) * (len(sides) - 1) / 2


def layer_heatmaps(
    df: pd.DataFrame,
    *,
    series: str,
    value: str,
    label: str,
    row_labels: Mapping[str, str],
    pairing: str | None = None,
) -> Figure:
    """One image per model (and value of column `pairing`, side by side): rows = the values
    of column `series`, labelled by `row_labels` and sorted by label, columns = the model's
    layers, colour = `value` on one scale for all panels, whose colour bar says `label`."""
    rows = by_label(row_labels)
    names = [row_labels[r] for r in rows]
    models = list(dict.fromkeys(df["model"]))
    pairings = pairings_of(df, pairing) or [None]
    cells = [(m, p) for m in models for p in pairings]
    ncols = len(pairings) if len(pairings) > 1 else grid_columns(len(models))
    fig, axes = panel_grid(
        [m if len(pairings) == 1 else f"{m}, {PAIRING_LABELS[p]}" for m, p in cells],
        ncols=ncols,
        panel_size=(
            HEATMAP_WIDTH + (label_inches(names) + COLORBAR_WIDTH) / ncols,
            max(MIN_CELLS, len(rows) * CELL_INCHES) + PANEL_TITLE + LAYER_AXIS,
        ),
        legend_height=FIGURE_TITLE,
    )
    norm = shared_norm(df[value])
    for ax, (model, p) in zip(axes, cells):
        selected = df[(df["model"] == model) & ((df[pairing] == p) if p else True)]
        grid = selected.pivot(index=series, columns="layer", values=value).reindex(rows).sort_index(axis=1)
        image = ax.imshow(grid.to_numpy(), aspect="auto", interpolation="nearest", cmap=CMAP, norm=norm)
        tick_labels(ax.yaxis, names)  # shared: panel_grid shows them in the first column only
        layer_ticks(ax.xaxis, list(grid.columns))
        ax.set_xlabel("Layer")
    add_colorbar(fig, image, axes, label)
    return fig


def matrix_layers(layers: Sequence[int]) -> list[int]:
    """The first, middle and last of the analysed layers (fewer where they coincide)."""
    layers = sorted(set(layers))
    return list(dict.fromkeys([layers[0], layers[len(layers) // 2], layers[-1]]))


def pair_matrix(
    rows: pd.DataFrame, index: Mapping[str, int], value: str, pairing: str, below: str | None
) -> np.ndarray:
    """The [side, side] matrix of `value` over one layer's pairs, NaN where no pair was
    measured (the diagonal): symmetric, or with the `below` pairing's values below the
    diagonal and the others above. A cell holds one pair in one direction: a pair measured
    both ways (a distance from a to b and from b to a) is an error."""
    matrix = np.full((len(index), len(index)), np.nan)
    seen = set()
    for a, b, p, v in zip(rows["side_a"], rows["side_b"], rows[pairing], rows[value]):
        if (frozenset((a, b)), p) in seen:
            raise ValueError(f"{a} and {b} are paired twice ({p}): a matrix cell shows one value per pair")
        seen.add((frozenset((a, b)), p))
        low, high = sorted((index[a], index[b]))
        if p != below:
            matrix[low, high] = v
        if below is None or p == below:
            matrix[high, low] = v
    return matrix


def pair_matrices(
    df: pd.DataFrame, *, value: str, label: str, side_label: Mapping[str, str], pairing: str = "pairing"
) -> Figure:
    """Per model a row of language x language matrices of `value` (pairs of sides in columns
    side_a, side_b) at its first, middle and last analysed layer; sides sorted by label; one
    colour scale, whose colour bar says `label`. A control pairing (a second value of column
    `pairing`) fills the lower triangle."""
    pairings = pairings_of(df, pairing)
    if len(pairings) > 2:
        raise ValueError(f"a matrix shows at most a measurement and its control, not {pairings}")
    below = pairings[1] if len(pairings) == 2 else None
    sides = by_label(side_label)
    names = [side_label[s] for s in sides]
    index = {s: i for i, s in enumerate(sides)}
    models = list(dict.fromkeys(df["model"]))
    layers = {m: matrix_layers(df.loc[df["model"] == m, "layer"]) for m in models}
    ncols = max(len(chosen) for chosen in layers.values())
    cells = [(m, chosen[i] if i < len(chosen) else None) for m, chosen in layers.items() for i in range(ncols)]
    side_inches = max(MIN_CELLS, len(sides) * CELL_INCHES)
    fig, axes = panel_grid(
        [f"{m}, layer {layer}" if layer is not None else None for m, layer in cells],
        ncols=ncols,
        panel_size=(side_inches + (label_inches(names) + COLORBAR_WIDTH) / ncols, side_inches + PANEL_TITLE),
        legend_height=FIGURE_TITLE + label_inches(names) + (PANEL_TITLE if below else 0.0),
    )
    norm = shared_norm(df[value])
    drawn = [i for i, (_, layer) in enumerate(cells) if layer is not None]
    for ax, i in zip(axes, drawn):
        model, layer = cells[i]
        rows = df[(df["model"] == model) & (df["layer"] == layer)]
        image = ax.imshow(
            pair_matrix(rows, index, value, pairing, below), interpolation="nearest", cmap=CMAP, norm=norm
        )
        tick_labels(ax.yaxis, names)  # shared: panel_grid shows them in the first column only
        tick_labels(ax.xaxis, names, rotation=90)
        ax.tick_params(labelbottom=i + ncols not in drawn)  # in the lowest panel of a column only
    add_colorbar(fig, image, axes, label)
    if below:
        fig.supxlabel(
            f"Above the diagonal: {PAIRING_LABELS[pairings[0]]}; below: {PAIRING_LABELS[below]}",
            fontsize="medium",
        )
    return fig
