"""Table schemas: the one home of every table's columns, row keys and place.

Each table is written by one rule and read by figures, the summary and tests; the column
lists here are that contract. Per-layer row files (`scope="layer"`) are what the per-layer
jobs write and the gather jobs read. A table that names sides carries, beside each side's
column, the normalised language and script of its code (`Table.languages`, ffnscope.sides):
the gather job adds them, so per-layer rows (`Table.row_columns`) hold the side names only.

Free of heavy imports: the workflow uses it while parsing the Snakefile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageColumns:
    """The columns a side's code (`side`: a code, or a side name "testset/lang") adds: its
    normalised language subtag and script (ffnscope.sides.Language)."""

    side: str
    language: str
    script: str


def _language_columns(specs: tuple[LanguageColumns, ...]) -> tuple[str, ...]:
    return tuple(c for spec in specs for c in (spec.language, spec.script))


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # ending with the `languages` columns
    keys: tuple[str, ...]  # each combination of these occurs once
    scope: str  # "model": one table per model; "run": one table for the run; "layer": per-layer rows
    description: str
    languages: tuple[LanguageColumns, ...] = ()
    optional: bool = False  # of an analysis run only on request (a named target), not by `all`

    @property
    def language_columns(self) -> tuple[str, ...]:
        return _language_columns(self.languages)

    @property
    def row_columns(self) -> tuple[str, ...]:
        """The columns of a per-layer row of this table: all but the language columns."""
        return tuple(c for c in self.columns if c not in self.language_columns)


_STATS_KEYS = ("model", "method", "testset", "lang", "sublayer", "layer")
_DISTANCE_KEYS = ("model", "method", "metric", "testset", "src_lang", "tgt_lang", "sublayer", "layer", "pairing")
_RANK_KEYS = ("model", "method", "comparison", "side_a", "side_b", "sublayer", "layer", "pairing")
_SIDE_LANGUAGE = (LanguageColumns("lang", "language", "script"),)
_PAIR_LANGUAGES = (
    LanguageColumns("src_lang", "src_language", "src_script"),
    LanguageColumns("tgt_lang", "tgt_language", "tgt_script"),
)
_RANK_LANGUAGES = (
    LanguageColumns("side_a", "language_a", "script_a"),
    LanguageColumns("side_b", "language_b", "script_b"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "layer_stats",
            _STATS_KEYS
            + (
                "neuron_value",
                "firing_rule",
                "not_measurable",
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
            _STATS_KEYS
            + ("mean", "std", "ci_low", "ci_high", "n_prefixes", "n_sentences", "neuron_value", "firing_rule")
            + ("not_measurable",)
            + _language_columns(_SIDE_LANGUAGE),
            _STATS_KEYS,
            "model",
            "activation frequency per neuron: mean and std over neurons (figs 2, 3)",
            _SIDE_LANGUAGE,
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
                "neuron_value",
            )
            + _language_columns(_SIDE_LANGUAGE),
            _STATS_KEYS,
            "model",
            "flatness A (eq. 1) and A per prefix (figs 4, 6)",
            _SIDE_LANGUAGE,
        ),
        Table(
            "representation_distance",
            _DISTANCE_KEYS
            + ("distance", "distance_mean", "ci_low", "ci_high", "n_pairs", "n_prefixes")
            + _language_columns(_PAIR_LANGUAGES),
            _DISTANCE_KEYS,
            "model",
            "Algorithm 1 distance between two sides of a test set (figs 9, 10)",
            _PAIR_LANGUAGES,
        ),
        Table(
            "rank_correlation",
            _RANK_KEYS + ("rho", "p_value", "ci_low", "ci_high", "n_sentences") + _language_columns(_RANK_LANGUAGES),
            _RANK_KEYS,
            "model",
            "Spearman correlation of neuron activation sums between sides (figs 12-15, 17, 18)",
            _RANK_LANGUAGES,
        ),
        Table(
            "language_neurons",
            ("model", "method", "layer", "neuron", "languages", "entropy", "probabilities"),
            ("model", "method", "layer", "neuron"),
            "model",
            "language-specific neurons selected by LAPE (Tang et al. 2024): the languages each is assigned to "
            "(comma-separated, none: selected but above no language's bar), the entropy of its activation "
            "probabilities over languages, and each language's probability (language=p; ...)",
        ),
        Table(
            "language_neuron_counts",
            ("model", "method", "layer", "language", "n_neurons", "ci_low", "ci_high")
            + ("n_selected", "n_candidates", "n_resamples"),
            ("model", "method", "layer", "language"),
            "model",
            "LAPE neurons of each layer assigned to each language, with bootstrap intervals over sentences "
            "(every resample selects anew); n_selected and n_candidates: of the whole model",
        ),
        Table(
            "language_neuron_overlap",
            ("model", "method", "language_a", "language_b", "shared"),
            ("model", "method", "language_a", "language_b"),
            "model",
            "LAPE neurons assigned to both languages (language_a = language_b: to that language)",
        ),
        Table(
            "causal_perplexity",
            ("model", "method", "deactivated", "condition", "draw", "evaluated", "n_neurons", "n_sentences")
            + ("ppl_base", "ppl", "delta", "ci_low", "ci_high"),
            ("model", "method", "deactivated", "condition", "draw", "evaluated"),
            "model",
            "causal test: perplexity of each evaluated language on held-out sentences without (ppl_base) and "
            "with (ppl) the deactivated language's LAPE neurons switched off (condition language) or as many "
            "random neurons of the same layers (condition random, one row per draw); delta = ppl - ppl_base "
            "with its paired bootstrap interval over sentences",
            optional=True,
        ),
        Table(
            "sides",
            (
                "model",
                "testset",
                "lang",
                "unit",
                "variant",
                "n_sentences",
                "words_per_sentence",
                "tokens_per_word",
                "n_prefixes",
                "n_merged_words",
                "n_short_lines",
                "n_ineligible_lines",
                "compute_dtype",
            ),
            ("model", "testset", "lang"),
            "model",
            "per side: words (prefixes.unit) per sentence, tokens per word, prefixes, words merged into "
            "the previous word's prefix (a token spanning both), source lines with too few words for a "
            "prefix on this side (short) and on some side (ineligible: never sampled), and the dtype its "
            "activations were computed in (snapshot.compute_dtype)",
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

# The per-model tables of the analyses (per method), in the order above: what the summary reads.
MODEL_TABLES = tuple(
    name for name, t in TABLES.items() if t.scope == "model" and "method" in t.columns and not t.optional
)

# Columns read as text whatever they hold (a model named "7" is not a number).
TEXT_COLUMNS = (
    "model",
    "testset",
    "lang",
    "sublayer",
    "method",
    "firing_rule",
    "neuron_value",
    "not_measurable",
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
    "unit",
    "variant",
    "language",
    "languages",
    "probabilities",
    "language_a",
    "language_b",
    "deactivated",
    "evaluated",
    "condition",
) + tuple(dict.fromkeys(c for t in TABLES.values() for c in t.language_columns))


def table(name: str) -> Table:
    """The registered table `name`, or one error naming the valid ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; valid: {', '.join(TABLES)}") from None
