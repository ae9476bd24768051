"""Image figures: normalised activations of all prefixes (paper figs 5, 7), the combinator
activation profile of every prefix (fig 8), representational similarity between models
(fig 11) and the overlap of the English test-set sides (fig 16).

Activation inputs are the npz files of `ffnscope.heatmaps`, one per (model, method, side,
layer): `detector`, `combinator` (min-max scaled per prefix, [prefixes, columns]) and, where
the layer was subsampled or pooled, `row_index` and `{sublayer}_neuron_start`, which the
axes follow. Layers are numbered as in the tables (from 0; the paper counts from 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ffnscope.plots.layout import layer_ticks, notice_figure, panel_grid, single_value
from ffnscope.plots.lines import NEEDS_TWO_ENGLISH_SIDES, require_columns
from ffnscope.sides import Side

IMAGE_MAX_PIXELS = (480, 480)  # (prefixes, neurons) per heat-map panel: about its size in pixels at 150 dpi
PROFILE_MAX_PREFIXES = 400  # prefixes drawn per fig-8 panel
IMAGE_PANEL_SIZE = (3.6, 3.4)
MATRIX_PANEL_SIZE = (4.4, 4.0)
SCOPE_TITLES = {"sampled": "sampled sentences (analysed)", "full": "full test-set files"}


@dataclass(frozen=True)
class HeatmapPanel:
    """One npz file of normalised activations and what it shows."""

    model: str
    side: str
    layer: int
    path: str | Path

    @property
    def title(self) -> str:
        return f"{self.model}, layer {self.layer}"


@dataclass(frozen=True)
class Activations:
    """One sublayer of a heat-map npz: the [prefixes, columns] matrix, the first neuron of
    each column (columns are groups of neurons when the layer was max-pooled; one neuron
    each otherwise) and the shard row of each prefix."""

    matrix: np.ndarray
    neuron_start: np.ndarray
    row_index: np.ndarray

    def neuron_label(self, column: int) -> str:
        start = int(self.neuron_start[column])
        end = int(self.neuron_start[column + 1]) - 1 if column + 1 < len(self.neuron_start) else start
        return f"neuron {start}" if end <= start else f"neurons {start}-{end}"


def read_activations(path: str | Path, sublayer: str) -> Activations:
    """One sublayer from a heat-map npz; without `{sublayer}_neuron_start` / `row_index`
    arrays, columns are single neurons and rows consecutive prefixes."""
    with np.load(path) as data:
        if sublayer not in data.files:
            raise ValueError(f"{path}: no {sublayer!r} array (has {sorted(data.files)})")
        matrix = data[sublayer].astype(np.float32, copy=False)
        if matrix.ndim != 2 or 0 in matrix.shape:
            raise ValueError(f"{path}: {sublayer!r} must be a non-empty [prefixes, neurons] matrix, got {matrix.shape}")
        starts = (
            data[f"{sublayer}_neuron_start"] if f"{sublayer}_neuron_start" in data.files else np.arange(matrix.shape[1])
        )
        rows = data["row_index"] if "row_index" in data.files else np.arange(matrix.shape[0])
    return Activations(matrix, starts, rows)


def span(positions: np.ndarray) -> tuple[float, float]:
    """Image extent along one axis whose cells start at evenly spaced `positions`."""
    step = positions[-1] - positions[-2] if len(positions) > 1 else 1
    return positions[0] - 0.5, positions[-1] + step - 0.5


def display_matrix(a: Activations) -> np.ndarray:
    """At most IMAGE_MAX_PIXELS cells, max-pooled (as the npz's own neuron pooling) so that a
    neuron peaking in a single prefix stays visible: a mean would wash the peaks out."""
    from ffnscope.heatmaps import pool_neurons  # here, not at the top: it loads torch, which line figures never need

    rows, cols = IMAGE_MAX_PIXELS
    pooled, _ = pool_neurons(a.matrix, cols)
    return pool_neurons(pooled.T, rows)[0].T


def panel_title(panel: HeatmapPanel, panels: Sequence[HeatmapPanel]) -> str:
    """Model and layer; the side too when the figure shows several."""
    return panel.title + (f", {panel.side}" if len({p.side for p in panels}) > 1 else "")


def figure_side(panels: Sequence[HeatmapPanel]) -> str:
    """The side for the figure's title: the only one, or "several sides" (named per panel)."""
    sides = {p.side for p in panels}
    return sides.pop() if len(sides) == 1 else "several sides"


def panel_rows(panels: Sequence[HeatmapPanel]) -> tuple[list[HeatmapPanel | None], int]:
    """Panels laid out one (model, side) per row, layers in the given order, padded with None."""
    if not panels:
        raise ValueError("no heat-map panels to draw")
    by_row: dict[tuple[str, str], list[HeatmapPanel]] = {}
    for p in panels:
        by_row.setdefault((p.model, p.side), []).append(p)
    ncols = max(len(row) for row in by_row.values())
    cells = [cell for row in by_row.values() for cell in row + [None] * (ncols - len(row))]
    return cells, ncols


def make_activation_heatmap_figure(panels: Sequence[HeatmapPanel], sublayer: str, *, method: str) -> Figure:
    """Figures 5/7: one image per (model, layer), x = neuron, y = prefix (in sentence order),
    colour = min-max normalised activation; a uniform image means flat activations, bright
    columns mean a few neurons dominate (low flatness)."""
    cells, ncols = panel_rows(panels)
    fig, axes = panel_grid(
        [panel_title(c, panels) if c else None for c in cells],
        ncols=ncols,
        sharey=False,
        panel_size=IMAGE_PANEL_SIZE,
        legend_height=0.4,
    )
    norm = Normalize(0.0, 1.0)
    for ax, panel in zip(axes, [c for c in cells if c]):
        a = read_activations(panel.path, sublayer)
        top, bottom = span(a.row_index)
        image = ax.imshow(
            display_matrix(a),
            aspect="auto",
            interpolation="nearest",
            cmap="viridis",
            norm=norm,
            extent=(*span(a.neuron_start), bottom, top),
        )
        ax.set_xlabel("Neuron")
        ax.set_ylabel("Prefix")
    fig.colorbar(image, ax=axes, label="Normalised activation", shrink=0.9)
    fig.suptitle(f"Normalised {sublayer} activations of every prefix, {figure_side(panels)}\nmethod: {method}")
    return fig


def peak_columns(matrix: np.ndarray) -> tuple[int, float, int]:
    """(most frequent per-prefix argmax column, the share of prefixes that peak there,
    column with the largest standard deviation across prefixes): the two neurons §4.2 names
    for layer 1 of the 2.9B model."""
    counts = np.bincount(matrix.argmax(axis=1), minlength=matrix.shape[1])
    top = int(counts.argmax())
    return top, counts[top] / matrix.shape[0], int(matrix.std(axis=0).argmax())


def make_activation_profile_figure(
    panels: Sequence[HeatmapPanel], sublayer: str = "combinator", *, method: str
) -> Figure:
    """Figure 8: per panel (one model and layer, stacked), the normalised activation of every
    neuron for each prefix, one translucent line per prefix (at most PROFILE_MAX_PREFIXES,
    evenly spaced over the sentences); the most frequent peak neuron and the neuron of largest
    spread across prefixes are marked."""
    if not panels:
        raise ValueError("no heat-map panels to draw")
    fig, axes = panel_grid(
        [panel_title(p, panels) for p in panels], ncols=1, sharey=True, panel_size=(9.0, 2.8), legend_height=0.4
    )
    for ax, panel in zip(axes, panels):
        a = read_activations(panel.path, sublayer)
        n = a.matrix.shape[0]
        rows = np.unique(np.linspace(0, n - 1, min(n, PROFILE_MAX_PREFIXES)).astype(int))
        segments = np.stack(
            [np.broadcast_to(a.neuron_start, (len(rows), len(a.neuron_start))), a.matrix[rows]], axis=-1
        )
        ax.add_collection(
            LineCollection(
                segments, colors="tab:blue", alpha=max(0.02, 1.0 / len(rows)), linewidths=0.6, gid="prefixes", zorder=2
            )
        )
        ax.autoscale_view()
        top, share, spread = peak_columns(a.matrix)
        ax.axvline(
            a.neuron_start[top],
            color="tab:red",
            linestyle="--",
            linewidth=1,
            zorder=1,
            label=f"most frequent peak: {a.neuron_label(top)} ({share:.0%} of prefixes)",
        )
        ax.axvline(
            a.neuron_start[spread],
            color="tab:orange",
            linestyle=":",
            linewidth=1.5,
            zorder=1,
            label=f"largest std across prefixes: {a.neuron_label(spread)}",
        )
        ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
        ax.set_xlabel("Neuron")
        ax.set_ylabel("Normalised activation")
        ax.set_title(f"{panel_title(panel, panels)} ({len(rows)} of {n} prefixes)")
    fig.suptitle(f"{sublayer.capitalize()} activation of every prefix, {figure_side(panels)}\nmethod: {method}")
    return fig


def make_rsa_figure(df: pd.DataFrame, sublayer: str) -> Figure:
    """Figure 11: per pair of models, the representational similarity of every layer of one
    model (y) with every layer of the other (x), on the same prefixes; one colour scale for
    all panels. Table rsa.tsv."""
    require_columns(df, ["model_a", "model_b", "method", "side", "layer_a", "layer_b", "similarity"], "rsa")
    df = df[df["sublayer"] == sublayer]
    if df.empty:
        raise ValueError(f"no RSA rows for sublayer {sublayer!r}")
    pairs = list(dict.fromkeys(zip(df["model_a"], df["model_b"])))
    fig, axes = panel_grid(
        [f"{a} vs {b}" for a, b in pairs], sharey=False, panel_size=MATRIX_PANEL_SIZE, legend_height=0.4
    )
    norm = Normalize(float(df["similarity"].min()), float(df["similarity"].max()))
    for ax, (a, b) in zip(axes, pairs):
        grid = df[(df["model_a"] == a) & (df["model_b"] == b)].pivot(
            index="layer_a", columns="layer_b", values="similarity"
        )
        image = ax.imshow(
            grid.to_numpy(), origin="lower", aspect="auto", interpolation="nearest", cmap="magma", norm=norm
        )
        layer_ticks(ax.xaxis, grid.columns)
        layer_ticks(ax.yaxis, grid.index)
        ax.set_xlabel(f"Layer of {b}")
        ax.set_ylabel(f"Layer of {a}")
    fig.colorbar(image, ax=axes, label="Representational similarity", shrink=0.9)
    fig.suptitle(
        f"Representational similarity between models ({sublayer}s), {single_value(df, 'side')}\n"
        f"method: {single_value(df, 'method')}"
    )
    return fig


def overlap_matrix(rows: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(sides, shared counts, Jaccard) as symmetric matrices from one scope's pair rows; the
    diagonal holds each side's own sentence count and Jaccard 1."""
    sides = list(dict.fromkeys([*rows["side_a"], *rows["side_b"]]))
    index = {s: i for i, s in enumerate(sides)}
    shared = np.zeros((len(sides), len(sides)), dtype=np.int64)
    jaccard = np.eye(len(sides))
    for r in rows.itertuples():
        i, j = index[r.side_a], index[r.side_b]
        shared[i, j] = shared[j, i] = r.shared
        jaccard[i, j] = jaccard[j, i] = r.jaccard
        shared[i, i], shared[j, j] = r.n_a, r.n_b
    return sides, shared, jaccard


def make_overlap_figure(df: pd.DataFrame) -> Figure:
    """Figure 16: shared sentences between the English sides of the test sets, one panel
    per scope (the sampled sentences analysed, the full files): colour = Jaccard index, text
    = shared count and Jaccard. Table english_overlap.tsv."""
    require_columns(df, ["side_a", "side_b", "scope", "n_a", "n_b", "shared", "jaccard"], "english_overlap")
    if df.empty:
        return notice_figure("Overlap of English sentences between test sets", NEEDS_TWO_ENGLISH_SIDES)
    scopes = list(dict.fromkeys(df["scope"]))
    fig, axes = panel_grid(
        [SCOPE_TITLES.get(s, s) for s in scopes], sharey=False, panel_size=MATRIX_PANEL_SIZE, legend_height=0.4
    )
    norm = Normalize(0.0, 1.0)
    for ax, scope in zip(axes, scopes):
        sides, shared, jaccard = overlap_matrix(df[df["scope"] == scope])
        image = ax.imshow(jaccard, cmap="Blues", norm=norm)
        names = [Side.parse(s).testset for s in sides]
        ax.set_xticks(range(len(sides)), names, rotation=30, ha="right")
        ax.set_yticks(range(len(sides)), names)
        for (i, j), count in np.ndenumerate(shared):
            ax.text(
                j,
                i,
                f"{count}\n{jaccard[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize="small",
                color="white" if jaccard[i, j] > 0.6 else "black",
            )
        ax.set_xlabel("English side of test set")
        ax.set_ylabel("English side of test set")
    fig.colorbar(image, ax=axes, label="Jaccard index", shrink=0.9)
    fig.suptitle("Overlap of English sentences between test sets\n(cell: shared sentences, Jaccard index)")
    return fig


def make_language_neuron_overlap_figure(df: pd.DataFrame) -> Figure:
    """LAPE: language-specific neurons assigned to both of two languages, one panel per
    model (diagonal: the language's own neurons). Table language_neuron_overlap.tsv."""
    require_columns(df, ["model", "language_a", "language_b", "shared", "method"], "language_neuron_overlap")
    models = list(dict.fromkeys(df["model"]))
    n = df["language_a"].nunique()
    many = n > 12  # then no numbers in the cells, and room for every language's label
    size = (max(MATRIX_PANEL_SIZE[0], 0.2 * n + 2), max(MATRIX_PANEL_SIZE[1], 0.2 * n + 1.5))
    fig, axes = panel_grid(models, sharey=False, panel_size=size, legend_height=0.4)
    for ax, model in zip(axes, models):
        matrix = df[df["model"] == model].pivot(index="language_a", columns="language_b", values="shared")
        languages = list(matrix.index)
        shared = matrix.loc[languages, languages].to_numpy()
        image = ax.imshow(shared, cmap="Blues")
        labels = {"fontsize": "x-small"} if many else {}
        ax.set_xticks(range(len(languages)), languages, rotation=90 if len(languages) > 8 else 0, **labels)
        ax.set_yticks(range(len(languages)), languages, **labels)
        if not many:
            for (i, j), count in np.ndenumerate(shared):
                light = count > 0.6 * shared.max()
                ax.text(j, i, count, ha="center", va="center", fontsize="small", color="white" if light else "black")
        ax.set_xlabel("language")
        ax.set_ylabel("language")
        fig.colorbar(image, ax=ax, label="shared neurons", shrink=0.8)
    fig.suptitle(f"Language-specific neurons shared between languages (LAPE)\nmethod: {single_value(df, 'method')}")
    return fig


def make_causal_figure(df: pd.DataFrame) -> Figure:
    """The causal test (LAPE's Figure 3 with a control): per model, how each evaluated
    language's perplexity (columns) changes when the language neurons of a language (rows) are
    switched off, beside the same for as many random neurons of the same layers (mean over
    draws). Colour: log2 of the perplexity ratio (with / without, saturating at a factor of
    4), so that a change from 100 to 200 and one from 200 to 400 look alike; text: the change
    itself. Table
    causal_perplexity.tsv."""
    require_columns(
        df, ["model", "deactivated", "condition", "evaluated", "delta", "ppl", "ppl_base"], "causal_perplexity"
    )
    df = df.assign(log_ratio=np.log2(df["ppl"] / df["ppl_base"]))
    models = list(dict.fromkeys(df["model"]))
    conditions = {"language": "language neurons off", "random": "as many random neurons off\n(mean of draws)"}
    titles = [f"{model}\n{label}" for model in models for label in conditions.values()]
    n = df["deactivated"].nunique()
    many = n > 12
    size = (max(MATRIX_PANEL_SIZE[0], 0.2 * n + 2), max(MATRIX_PANEL_SIZE[1], 0.2 * n + 1.5))
    fig, axes = panel_grid(titles, ncols=2, sharey=False, panel_size=size, legend_height=0.4)
    cells = df.groupby(["model", "condition", "deactivated", "evaluated"])[["log_ratio", "delta"]].mean()
    # saturating at a factor of 4, so that one huge change leaves the others visible
    limit = min(float(np.nanmax(np.abs(cells["log_ratio"]))), 2.0) or 1.0
    norm = Normalize(-limit, limit)
    axes = iter(axes)
    for model in models:
        for condition in conditions:
            ax = next(axes)
            block = cells.loc[(model, condition)]
            colour = block["log_ratio"].unstack("evaluated")
            languages = list(colour.index)
            image = ax.imshow(colour.loc[languages, languages].to_numpy(), cmap="RdBu_r", norm=norm)
            labels = {"fontsize": "x-small"} if many else {}
            ax.set_xticks(range(len(languages)), languages, rotation=90 if len(languages) > 8 else 0, **labels)
            ax.set_yticks(range(len(languages)), languages, **labels)
            if not many:
                text = block["delta"].unstack("evaluated").loc[languages, languages].to_numpy()
                for (i, j), value in np.ndenumerate(text):
                    dark = abs(colour.loc[languages, languages].to_numpy()[i, j]) > 0.6 * limit
                    ax.text(
                        j,
                        i,
                        f"{value:+.3g}",
                        ha="center",
                        va="center",
                        fontsize="x-small",
                        color="white" if dark else "black",
                    )
            ax.set_xlabel("perplexity of")
            ax.set_ylabel("neurons switched off of")
    fig.colorbar(
        image,
        ax=fig.axes,
        label="log2 perplexity ratio (off / on)\ntext: change of perplexity",
        shrink=0.8,
        extend="both",
    )
    fig.suptitle(
        f"Causal test: switching language-specific neurons off (LAPE)\nneurons of method {single_value(df, 'method')}"
    )
    return fig
