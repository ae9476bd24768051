"""Table schemas: the one home of every table's columns, row keys and place.

Each table is written by one rule and read by figures, the summary and tests; the column
lists here are that contract. Per-layer row files (`scope="layer"`) are what the per-layer
jobs write and the gather jobs read.

Free of heavy imports: the workflow uses it while parsing the Snakefile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]  # each combination of these occurs once
    scope: str  # "model": one table per model; "run": one table for the run; "layer": per-layer rows
    description: str


_STATS_KEYS = ("model", "method", "testset", "lang", "sublayer", "layer")
_DISTANCE_KEYS = ("model", "method", "metric", "testset", "src_lang", "tgt_lang", "sublayer", "layer", "pairing")
_RANK_KEYS = ("model", "method", "comparison", "side_a", "side_b", "sublayer", "layer", "pairing")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "layer_stats",
            _STATS_KEYS
            + (
                "firing_rule",
                "mean",
                "std",
                "frequency_ci_low",
                "frequency_ci_high",
                "n_prefixes",
                "n_sentences",
                "flatness",
                "flatness_mean",
                "flatness_ci_low",
                "flatness_ci_high",
                "flatness_mean_ci_low",
                "flatness_mean_ci_high",
            ),
            _STATS_KEYS,
            "layer",
            "one shard's statistics: both tables' values, CIs named after their quantity",
        ),
        Table(
            "activation_frequency",
            _STATS_KEYS + ("mean", "std", "ci_low", "ci_high", "n_prefixes", "n_sentences", "firing_rule"),
            _STATS_KEYS,
            "model",
            "activation frequency per neuron: mean and std over neurons (figs 2, 3)",
        ),
        Table(
            "flatness",
            _STATS_KEYS
            + (
                "flatness",
                "flatness_mean",
                "ci_low",
                "ci_high",
                "mean_ci_low",
                "mean_ci_high",
                "n_prefixes",
                "n_sentences",
            ),
            _STATS_KEYS,
            "model",
            "flatness A (eq. 1) and A per prefix (figs 4, 6)",
        ),
        Table(
            "representation_distance",
            _DISTANCE_KEYS + ("distance", "distance_mean", "ci_low", "ci_high", "n_pairs", "n_prefixes"),
            _DISTANCE_KEYS,
            "model",
            "Algorithm 1 distance between the sides of a test set (figs 9, 10)",
        ),
        Table(
            "rank_correlation",
            _RANK_KEYS + ("rho", "p_value", "ci_low", "ci_high", "n_sentences"),
            _RANK_KEYS,
            "model",
            "Spearman correlation of neuron activation sums between sides (figs 12-15, 17, 18)",
        ),
        Table(
            "rsa",
            ("model_a", "model_b", "method", "side", "sublayer", "layer_a", "layer_b", "similarity", "n_prefixes"),
            ("model_a", "model_b", "method", "side", "sublayer", "layer_a", "layer_b"),
            "run",
            "representational similarity of every layer pair of every model pair (fig 11)",
        ),
        Table(
            "english_overlap",
            ("side_a", "side_b", "scope", "n_a", "n_b", "shared", "jaccard"),
            ("side_a", "side_b", "scope"),
            "run",
            "English sentences shared between test sets (fig 16)",
        ),
        Table(
            "summary",
            (
                "model",
                "method",
                "sublayer",
                "n_layers",
                "min_flatness_layer",
                "min_flatness",
                "distance_metric",
                "min_distance_layer",
                "min_distance",
                "max_rank_correlation_layer",
                "max_rank_correlation",
            ),
            ("model", "method", "sublayer"),
            "run",
            "per model, method and sublayer the layers of the extreme values",
        ),
    )
}

# The per-model tables, in the order above: what the summary reads.
MODEL_TABLES = tuple(name for name, t in TABLES.items() if t.scope == "model")

# Columns read as text whatever they hold (a model named "7" is not a number).
TEXT_COLUMNS = (
    "model",
    "testset",
    "lang",
    "sublayer",
    "method",
    "firing_rule",
    "metric",
    "src_lang",
    "tgt_lang",
    "pairing",
    "comparison",
    "side",
    "side_a",
    "side_b",
    "model_a",
    "model_b",
    "scope",
)


def table(name: str) -> Table:
    """The registered table `name`, or one error naming the valid ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; valid: {', '.join(TABLES)}") from None
