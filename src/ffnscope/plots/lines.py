"""Per-layer figures: activation frequency (paper figs 2/3), activation flatness (4/6),
representation distance (9/10) and rank correlation (12-15, 17/18).

Layout, for all: one panel per model (a row, or a grid of 3 columns for more than 3 models),
sharing the y axis; x = layer, one line per series (a side "testset/lang", or a pair of
sides), one legend below the panels. A measurement and its chance-level control (shuffled /
non-parallel pairs) share a colour: solid = parallel pairs, dashed = control. Bootstrap
intervals (ci columns; NaN when switched off) are shaded bands around their line.

With more than grids.MAX_LINES series (many languages) the same data is drawn in the forms
of ffnscope.plots.grids instead: heat maps of series x layer, matrices of language x language.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ffnscope.neurons import not_measurable
from ffnscope.plots.grids import MAX_LINES, is_dense, layer_heatmaps, pair_matrices, side_labels
from ffnscope.plots.layout import (
    PAIRING_LABELS,
    PAIRING_STYLES,
    add_legend,
    band_handles,
    draw_band,
    layer_panels,
    notice_figure,
    pairings_of,
    series_handles,
    series_styles,
    single_value,
)
from ffnscope.sides import pair_label, side_name

FLATNESS_LABELS = {
    "flatness": "Activation flatness A (eq. 1)",
    "flatness_mean": "Activation flatness / prefix",
}
# The CI columns of each flatness value (flatness.tsv): ci_* for the sum A, mean_ci_* per prefix.
FLATNESS_CI = {"flatness": ("ci_low", "ci_high"), "flatness_mean": ("mean_ci_low", "mean_ci_high")}
COMPARISONS = {
    "cross_language": "between languages",
    "intra_english": "between the English sides of the test sets",
    "parallel": "between the sides of each test set",
}

NEEDS_TWO_ENGLISH_SIDES = (
    "Fewer than two test sets of this run have an English side: no pair of English sides to compare."
)


def side_column(df: pd.DataFrame, lang_column: str) -> list[str]:
    """The side name of every row, from its test set and the language in `lang_column`."""
    return [side_name(t, lang) for t, lang in zip(df["testset"], df[lang_column])]


def require_columns(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"the {table} table lacks columns {missing}")


def select(df: pd.DataFrame, sublayer: str, sides: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of one sublayer (and of `sides`, if given and non-empty) with a `side` column."""
    df = df[df["sublayer"] == sublayer]
    df = df.assign(side=side_column(df, "lang"))
    if sides:
        missing = [s for s in sides if s not in set(df["side"])]
        if missing:
            raise ValueError(f"no {sublayer} rows for sides {missing}")
        df = df[df["side"].isin(sides)]
    if df.empty:
        raise ValueError(f"no rows for sublayer {sublayer!r}" + (f" and sides {list(sides)}" if sides else ""))
    return df


def pair_labels(pairs: Sequence[tuple[str, str]], joiner: str) -> dict[tuple[str, str], str]:
    """Short legend labels for pairs of sides (`sides.pair_label`); the full side names if the
    short labels would not tell every pair apart."""
    labels = {p: pair_label(*p, joiner) for p in pairs}
    if len(set(labels.values())) < len(labels):
        labels = {p: joiner.join(p) for p in pairs}
    return labels


def draw_layer_lines(
    df: pd.DataFrame,
    *,
    series: str,
    value: str,
    ylabel: str,
    bands: dict[str, tuple[str, str]],
    pairing: str | None = None,
) -> Figure:
    """One panel per model, one line per value of column `series` of `value` against layer.
    `bands` maps a band kind (layout.BANDS) to the (low, high) columns shaded around each line.
    `pairing` names a column whose values (PAIRING_STYLES) set the line style."""
    models = list(dict.fromkeys(df["model"]))
    styles = series_styles(list(dict.fromkeys(df[series])))
    pairings = pairings_of(df, pairing)
    fig, axes = layer_panels(models, ylabel)
    drawn = set()
    for ax, model in zip(axes, models):
        for keys, rows in df[df["model"] == model].groupby([series] + ([pairing] if pairing else []), sort=False):
            rows = rows.sort_values("layer")
            style = dict(styles[keys[0]], linestyle=PAIRING_STYLES[keys[1]] if pairing else "-")
            ax.plot(rows["layer"], rows[value], markersize=4, linewidth=1.3, label=keys[0], **style)
            for kind, (low, high) in bands.items():
                if draw_band(ax, rows["layer"], rows[low], rows[high], style["color"], kind, len(styles)) is not None:
                    drawn.add(kind)
    keys = (
        [Line2D([], [], color="0.2", linestyle=PAIRING_STYLES[p], label=PAIRING_LABELS[p]) for p in pairings]
        if len(pairings) > 1
        else []
    )
    add_legend(
        fig,
        series_handles({k: dict(s, linestyle="-") for k, s in styles.items()}),
        keys + band_handles([k for k in bands if k in drawn]),
    )
    return fig


def draw_layer_series(
    df: pd.DataFrame,
    *,
    series: str,
    value: str,
    ylabel: str,
    bands: dict[str, tuple[str, str]],
    row_labels: dict[str, str],
    pairing: str | None = None,
) -> Figure:
    """Lines (`draw_layer_lines`) for up to MAX_LINES series; beyond, a heat map per model
    whose rows are the series, labelled by `row_labels` (grids.layer_heatmaps)."""
    if df[series].nunique() <= MAX_LINES:
        return draw_layer_lines(df, series=series, value=value, ylabel=ylabel, bands=bands, pairing=pairing)
    return layer_heatmaps(df, series=series, value=value, label=ylabel, row_labels=row_labels, pairing=pairing)


def draw_pair_series(
    df: pd.DataFrame, *, value: str, ylabel: str, languages: tuple[str, str], scripts: tuple[str, str], joiner: str
) -> Figure:
    """`value` per layer of pairs of sides (columns side_a, side_b; their languages and
    scripts in the columns `languages`, `scripts` where present; controls in column
    `pairing`): a line per pair, labelled as `pair_labels` with `joiner`, for up to MAX_LINES
    pairs; beyond, language x language matrices where the pairs fill most of them (every pair
    of many languages), else a heat map of pair x layer, both labelled by the sides'
    languages (grids.side_labels)."""
    pairs = list(zip(df["side_a"], df["side_b"]))
    unique = list(dict.fromkeys(pairs))
    sides = side_labels(df, [("side_a", languages[0], scripts[0]), ("side_b", languages[1], scripts[1])])
    if len(unique) > MAX_LINES and is_dense(unique):
        return pair_matrices(df, value=value, label=ylabel, side_label=sides)
    legend = pair_labels(unique, joiner)
    return draw_layer_series(
        df.assign(pair=[legend[p] for p in pairs]),
        series="pair",
        value=value,
        ylabel=ylabel,
        bands={"ci": ("ci_low", "ci_high")},
        row_labels={legend[p]: f"{sides[p[0]]}{joiner}{sides[p[1]]}" for p in unique},
        pairing="pairing",
    )


def mark_not_measurable(fig: Figure, reason: str) -> None:
    """Across every panel, where the plotted value cannot vary on the model ("" : nothing)."""
    if not reason:
        return
    for ax in (a for a in fig.axes if a.get_label() != "<colorbar>"):
        ax.text(
            0.5,
            0.5,
            textwrap.fill(f"NOT MEASURABLE on this architecture: {reason}", 48),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize="medium",
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9},
        )


def make_activation_frequency_figure(df: pd.DataFrame, sublayer: str, *, sides: Sequence[str] | None = None) -> Figure:
    """Figures 2/3: per side, the mean over neurons of each neuron's activation frequency,
    with the spread over neurons (+/- std, light band) and the bootstrap interval of the
    mean over sentences (darker band). Table activation_frequency.tsv."""
    require_columns(
        df, ["mean", "std", "ci_low", "ci_high", "method", "neuron_value", "firing_rule"], "activation_frequency"
    )
    df = select(df, sublayer, sides)
    df = df.assign(std_low=df["mean"] - df["std"], std_high=df["mean"] + df["std"])
    fig = draw_layer_series(
        df,
        series="side",
        value="mean",
        ylabel="Activation frequency",
        bands={"std": ("std_low", "std_high"), "ci": ("ci_low", "ci_high")},
        row_labels=side_labels(df, [("side", "language", "script")]),
    )
    fig.suptitle(
        f"Activation frequency of {sublayer}s (mean over neurons)\n"
        f"method: {single_value(df, 'method')}, neuron value: {single_value(df, 'neuron_value')}, "
        f"firing rule: {single_value(df, 'firing_rule')}"
    )
    mark_not_measurable(fig, not_measurable(df))
    return fig


def make_flatness_figure(
    df: pd.DataFrame, sublayer: str, *, flatness_value: str = "flatness", sides: Sequence[str] | None = None
) -> Figure:
    """Figures 4/6: activation flatness per layer, as the sum A of eq. (1) or per prefix,
    with its bootstrap interval. Table flatness.tsv."""
    if flatness_value not in FLATNESS_LABELS:
        raise ValueError(f"unknown flatness value {flatness_value!r}; valid: {', '.join(FLATNESS_LABELS)}")
    require_columns(df, [flatness_value, *FLATNESS_CI[flatness_value], "method", "neuron_value"], "flatness")
    df = select(df, sublayer, sides)
    fig = draw_layer_series(
        df,
        series="side",
        value=flatness_value,
        ylabel=FLATNESS_LABELS[flatness_value],
        bands={"ci": FLATNESS_CI[flatness_value]},
        row_labels=side_labels(df, [("side", "language", "script")]),
    )
    fig.suptitle(
        f"Activation flatness of {sublayer}s (eq. 1-3)\n"
        f"method: {single_value(df, 'method')}, neuron value: {single_value(df, 'neuron_value')}"
    )
    return fig


def make_distance_figure(df: pd.DataFrame, sublayer: str, *, metric: str | None = None) -> Figure:
    """Figures 9/10: representation distance (Algorithm 1: per source prefix the minimum
    distance to a prefix of the paired target sentence, summed) per language pair, parallel
    pairs solid, shuffled pairs (chance level) dashed. `metric` picks one distance metric;
    None requires the table to hold exactly one. Table representation_distance.tsv."""
    require_columns(
        df,
        ["metric", "testset", "src_lang", "tgt_lang", "pairing", "distance", "ci_low", "ci_high", "method"],
        "representation_distance",
    )
    df = df[df["sublayer"] == sublayer]
    if metric is not None:
        df = df[df["metric"] == metric]
    if df.empty:
        raise ValueError(
            f"no representation distance rows for sublayer {sublayer!r}"
            + (f" and metric {metric!r}" if metric is not None else "")
        )
    metric = single_value(df, "metric")
    fig = draw_pair_series(
        df.assign(side_a=side_column(df, "src_lang"), side_b=side_column(df, "tgt_lang")),
        value="distance",
        ylabel=f"Summed minimum {metric} distance",
        languages=("src_language", "tgt_language"),
        scripts=("src_script", "tgt_script"),
        joiner=" \u2192 ",
    )
    fig.suptitle(
        f"Representation distance of {sublayer}s (Algorithm 1, {metric})\n"
        f"method: {single_value(df, 'method')}; lower = more similar across languages"
    )
    return fig


def make_rank_correlation_figure(df: pd.DataFrame, sublayer: str, *, comparison: str) -> Figure:
    """Figures 12/13 (cross_language), 14/15 (intra_english), 17/18 (parallel): Spearman
    correlation of the neurons' activation sums between two sides, per layer, one line per
    pair; the non-parallel control (if present) dashed. Table rank_correlation.tsv."""
    if comparison not in COMPARISONS:
        raise ValueError(f"unknown comparison {comparison!r}; valid: {', '.join(COMPARISONS)}")
    require_columns(
        df, ["comparison", "side_a", "side_b", "pairing", "rho", "ci_low", "ci_high", "method"], "rank_correlation"
    )
    df = df[(df["sublayer"] == sublayer) & (df["comparison"] == comparison)]
    if df.empty:
        return notice_figure(
            f"Rank correlation of {sublayer} neurons {COMPARISONS[comparison]}",
            NEEDS_TWO_ENGLISH_SIDES
            if comparison == "intra_english"
            else f"No {comparison} rank correlations in this run's tables.",
        )
    fig = draw_pair_series(
        df,
        value="rho",
        ylabel="Spearman \u03c1 of neuron activation sums",
        languages=("language_a", "language_b"),
        scripts=("script_a", "script_b"),
        joiner=" vs ",
    )
    fig.suptitle(
        f"Rank correlation of {sublayer} neurons {COMPARISONS[comparison]}\nmethod: {single_value(df, 'method')}"
    )
    return fig


def make_language_neuron_count_figure(df: pd.DataFrame) -> Figure:
    """LAPE: per layer, the language-specific neurons assigned to each language (Tang et al.
    2024), with the bootstrap interval over sentences (each resample selects anew). Table
    language_neuron_counts.tsv."""
    require_columns(
        df, ["language", "n_neurons", "ci_low", "ci_high", "n_selected", "method"], "language_neuron_counts"
    )
    fig = draw_layer_series(
        df,
        series="language",
        value="n_neurons",
        ylabel="Language-specific neurons",
        bands={"ci": ("ci_low", "ci_high")},
        row_labels={lang: lang for lang in df["language"]},
    )
    selected = ", ".join(f"{m}: {n}" for m, n in df.groupby("model", sort=False)["n_selected"].first().items())
    fig.suptitle(
        f"Language-specific neurons per layer (LAPE)\nmethod: {single_value(df, 'method')}, selected: {selected}"
    )
    return fig
