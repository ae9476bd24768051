"""Findings of a run: where the per-layer metrics reach their extremes (summary.tsv), and the
paper's qualitative claims turned into tests with their numbers and PASS / FAIL (summary.md).

The paper states its findings about XGLM in words (§4.1-4.4, §5); each is stated here as a
test on the tables that can pass or fail on any model, so a run says whether the same
pattern holds. A test that cannot be evaluated (a table, language, control or layer it needs
is absent) is a SKIP with the reason; one whose metric cannot vary on the model by
construction (the tables' `not_measurable` column, ffnscope.neurons: e.g. "!= 0" firing of an
activation that is never 0) is NOT MEASURABLE with the reason, instead of a PASS or FAIL that
would mean nothing. Layers are numbered as in the tables, from 0; the
paper counts from 1 (its "layer 20" is layer 19 here).

Conventions: a per-layer curve is the mean over sides (or pairs of sides) of one value; the
"thirds" of a model are its layers split in order into three near-equal parts
(`numpy.array_split`). Values compared across sides use per-prefix quantities
(flatness_mean, distance_mean): sums over prefixes differ between sides by their prefix counts.
Languages are the tables' normalised language columns (ffnscope.sides), so `eng_Latn` counts as
English and `deu_Latn` as German whatever code a test set uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ffnscope.atomic import write_text
from ffnscope.causal import findings as causal_findings
from ffnscope.neurons import not_measurable
from ffnscope.schemas import MODEL_TABLES
from ffnscope.shards import SUBLAYERS
from ffnscope.sides import ENGLISH, side_name
from ffnscope.tables import read_tsv, table_frame, write_tsv

# §4.1: languages well represented in XGLM's training data vs. lesser represented ones
# (normalised language subtags, the tables' language columns).
WELL_REPRESENTED = (ENGLISH, "de", "fr")
LESS_REPRESENTED = ("cs", "hi")
PAPER_LAYER_20 = 19  # §4.2 "near layer 20" (1-based) in the tables' numbering
NEAR = 3  # layers either side of PAPER_LAYER_20 that count as "near"


RESULTS = ("PASS", "FAIL", "NOT MEASURABLE", "SKIP")


class Skip(Exception):
    """A claim cannot be evaluated on these tables; the message says why."""


@dataclass(frozen=True)
class Check:
    """One claim evaluated for one (model, method, sublayer)."""

    claim: str
    model: str
    method: str
    sublayer: str
    result: str  # one of RESULTS
    evidence: str


@dataclass(frozen=True)
class Claim:
    """A qualitative statement of the paper as a test. `test(rows)` gets the table's rows of
    one model, method and sublayer (of one method and all models if `across_models`; of both
    sublayers if `sublayers` is ("both",)) and returns (passed, evidence), or raises Skip."""

    id: str
    source: str
    statement: str
    table: str
    sublayers: tuple[str, ...]
    test: Callable[[pd.DataFrame], tuple[bool, str]]
    across_models: bool = False


# --- per-layer curves ---------------------------------------------------------------------------


def fmt(x: float) -> str:
    return f"{x:.4g}"


def curve(rows: pd.DataFrame, value: str) -> pd.Series:
    """Mean of `value` over the rows of each layer, by layer."""
    if rows.empty:
        raise Skip("no rows")
    return rows.groupby("layer")[value].mean().sort_index()


def thirds(layers: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """The layers, in order, split into early, middle and late thirds (near-equal sizes)."""
    layers = sorted(layers)
    if len(layers) < 3:
        raise Skip(f"needs at least 3 layers, has {len(layers)}")
    return tuple(list(part) for part in np.array_split(np.array(layers), 3))


def third_means(c: pd.Series) -> tuple[float, float, float]:
    return tuple(float(c[part].mean()) for part in thirds(c.index))


def third_of(layer: int, layers: Sequence[int]) -> str:
    return ("early", "middle", "late")[[layer in part for part in thirds(layers)].index(True)]


def depth_trend(c: pd.Series) -> float:
    """Spearman correlation of a curve with depth (< 0: decreasing); NaN for a flat curve."""
    if c.nunique() < 2:
        return float("nan")
    return float(spearmanr(c.index, c.to_numpy()).statistic)


def distance_rows(rows: pd.DataFrame, pairing: str = "parallel") -> pd.DataFrame:
    rows = rows[rows["pairing"] == pairing]
    if rows.empty:
        raise Skip(f"no {pairing} representation distance rows")
    return rows


def rank_rows(rows: pd.DataFrame, comparison: str, pairing: str = "parallel") -> pd.DataFrame:
    rows = rows[(rows["comparison"] == comparison) & (rows["pairing"] == pairing)]
    if rows.empty:
        raise Skip(f"no {comparison} rank correlations with {pairing} pairing")
    return rows


# --- the claims ----------------------------------------------------------------------------------


def frequency_drops_late(rows: pd.DataFrame) -> tuple[bool, str]:
    lower = []
    for _, side_rows in rows.groupby(["testset", "lang"]):
        _, middle, late = third_means(curve(side_rows, "mean"))
        lower.append(late < middle)
    _, middle, late = third_means(curve(rows, "mean"))
    return all(lower), (
        f"last third {fmt(late)} vs middle third {fmt(middle)} (mean over sides); "
        f"lower in {sum(lower)}/{len(lower)} sides"
    )


def sparse_at_both_ends(rows: pd.DataFrame) -> tuple[bool, str]:
    early, middle, late = third_means(curve(rows, "std"))
    return early > middle and late > middle, (
        f"std over neurons: first third {fmt(early)}, middle {fmt(middle)}, last {fmt(late)} (mean over sides)"
    )


def language_groups(rows: pd.DataFrame, value: str, layers: Sequence[int] | None = None) -> tuple[float, float]:
    """Mean of `value` over the sides of well vs. less represented languages (§4.1)."""
    if layers is not None:
        rows = rows[rows["layer"].isin(layers)]
    well, less = rows[rows["language"].isin(WELL_REPRESENTED)], rows[rows["language"].isin(LESS_REPRESENTED)]
    if well.empty or less.empty:
        raise Skip(f"needs sides of both {'/'.join(WELL_REPRESENTED)} and {'/'.join(LESS_REPRESENTED)}")
    return float(well[value].mean()), float(less[value].mean())


def detector_sparsity_well_represented(rows: pd.DataFrame) -> tuple[bool, str]:
    late = thirds(rows["layer"].unique())[2]
    well, less = language_groups(rows, "mean", late)
    return well < less, f"last-third activation frequency: en/de/fr {fmt(well)} vs cs/hi {fmt(less)}"


def combinator_sparsity_less_represented(rows: pd.DataFrame) -> tuple[bool, str]:
    well, less = language_groups(rows, "mean")
    return less < well, f"activation frequency over all layers: cs/hi {fmt(less)} vs en/de/fr {fmt(well)}"


def flatness_decreases(rows: pd.DataFrame) -> tuple[bool, str]:
    c = curve(rows, "flatness_mean")
    rho, argmin = depth_trend(c), int(c.idxmin())
    where = third_of(argmin, c.index)
    return rho < 0 and where == "late", (
        f"Spearman \u03c1(layer, flatness) = {fmt(rho)}; minimum at layer {argmin} ({where} third of {len(c)})"
    )


def interior_flatness_minimum(rows: pd.DataFrame) -> tuple[bool, str]:
    c = curve(rows, "flatness_mean")
    argmin = int(c.idxmin())
    first, last = int(c.index[0]), int(c.index[-1])
    return first < argmin < last, (
        f"minimum {fmt(c[argmin])} at layer {argmin}; layer {first}: {fmt(c[first])}, layer {last}: {fmt(c[last])}"
    )


def flatness_minimum_near_layer_20(rows: pd.DataFrame) -> tuple[bool, str]:
    c = curve(rows, "flatness_mean")
    if c.index.max() < PAPER_LAYER_20 + NEAR:
        raise Skip(
            f"the model's last layer is {c.index.max()}; the claim is about paper layer 20 "
            f"(layer {PAPER_LAYER_20} here) and the layers after it"
        )
    argmin = int(c.idxmin())
    return abs(argmin - PAPER_LAYER_20) <= NEAR, f"minimum at layer {argmin} (paper layer {argmin + 1})"


def flatness_minimum_shared(rows: pd.DataFrame) -> tuple[bool, str]:
    argmins = {
        side_name(t, lang): int(curve(r, "flatness_mean").idxmin())
        for (t, lang), r in rows.groupby(["testset", "lang"])
    }
    n_layers = rows["layer"].nunique()
    tolerance = max(1, round(0.1 * n_layers))
    spread = max(argmins.values()) - min(argmins.values())
    return spread <= tolerance, (
        f"per-side minima at layers {min(argmins.values())}-{max(argmins.values())} "
        f"(spread {spread}, allowed {tolerance} of {n_layers} layers)"
    )


def distance_decreases(rows: pd.DataFrame) -> tuple[bool, str]:
    c = curve(distance_rows(rows), "distance_mean")
    rho = depth_trend(c)
    return rho < 0, (
        f"Spearman \u03c1(layer, distance per prefix) = {fmt(rho)}; first layer {fmt(c.iloc[0])}, "
        f"last {fmt(c.iloc[-1])} (mean over pairs)"
    )


def distance_minimum_late(rows: pd.DataFrame) -> tuple[bool, str]:
    c = curve(distance_rows(rows), "distance_mean")
    argmin = int(c.idxmin())
    where = third_of(argmin, c.index)
    return where == "late", f"minimum {fmt(c[argmin])} at layer {argmin} ({where} third of {len(c)})"


def paired_values(rows: pd.DataFrame, keys: list[str], value: str, pairings: tuple[str, str]) -> pd.DataFrame:
    """Rows of the measurement and of its control side by side, matched on `keys`."""
    table = rows[rows["pairing"].isin(pairings)].pivot_table(index=keys, columns="pairing", values=value)
    if pairings[1] not in table.columns or pairings[0] not in table.columns:
        raise Skip(f"no {pairings[1]} control rows")
    return table.dropna()


def distance_beats_control(rows: pd.DataFrame) -> tuple[bool, str]:
    t = paired_values(rows, ["testset", "src_lang", "tgt_lang", "layer"], "distance_mean", ("parallel", "shuffled"))
    closer = t["parallel"] < t["shuffled"]
    ratio = t["parallel"] / t["shuffled"]
    return bool(closer.all()), (
        f"parallel < shuffled at {int(closer.sum())}/{len(t)} (pair, layer) points; "
        f"parallel/shuffled ratio {fmt(ratio.min())}-{fmt(ratio.max())}"
    )


def last_layer_distance_grows_with_size(rows: pd.DataFrame) -> tuple[bool, str]:
    rows = distance_rows(rows)
    models = list(dict.fromkeys(rows["model"]))
    if len(models) < 2:
        raise Skip("needs at least 2 models")
    last = [
        float(r[r["layer"] == r["layer"].max()]["distance_mean"].mean())
        for r in (rows[rows["model"] == m] for m in models)
    ]
    return bool(np.all(np.diff(last) > 0)), ", ".join(f"{m}: {fmt(v)}" for m, v in zip(models, last))


def combinators_correlate_more(rows: pd.DataFrame) -> tuple[bool, str]:
    rows = rank_rows(rows, "cross_language")
    by = {s: curve(rows[rows["sublayer"] == s], "rho") for s in SUBLAYERS}
    det, comb = by["detector"], by["combinator"]
    higher = (comb > det.reindex(comb.index)).sum()
    return comb.mean() > det.mean(), (
        f"mean \u03c1 combinators {fmt(comb.mean())} vs detectors {fmt(det.mean())}; "
        f"combinators higher at {higher}/{len(comb)} layers"
    )


def early_middle_above_late(comparison: str) -> Callable[[pd.DataFrame], tuple[bool, str]]:
    def test(rows: pd.DataFrame) -> tuple[bool, str]:
        c = curve(rank_rows(rows, comparison), "rho")
        early, middle, late = thirds(c.index)
        before, after = float(c[early + middle].mean()), float(c[late].mean())
        return before > after, f"mean \u03c1 first two thirds {fmt(before)} vs last third {fmt(after)}"

    return test


def peak_in(comparison: str, third: str) -> Callable[[pd.DataFrame], tuple[bool, str]]:
    def test(rows: pd.DataFrame) -> tuple[bool, str]:
        c = curve(rank_rows(rows, comparison), "rho")
        argmax = int(c.idxmax())
        where = third_of(argmax, c.index)
        return where == third, f"maximum \u03c1 {fmt(c[argmax])} at layer {argmax} ({where} third of {len(c)})"

    return test


def pair_languages(rows: pd.DataFrame) -> list[set[str]]:
    """The normalised languages of each rank correlation row's two sides."""
    return [{a, b} for a, b in zip(rows["language_a"], rows["language_b"])]


def de_en_fr_pairs_correlate_more(rows: pd.DataFrame) -> tuple[bool, str]:
    rows = rank_rows(rows, "cross_language")
    langs = pair_languages(rows)
    close = np.array([pair <= set(WELL_REPRESENTED) for pair in langs])
    other = np.array([bool(pair & set(LESS_REPRESENTED)) for pair in langs])
    if not close.any() or not other.any():
        raise Skip("needs pairs among de/en/fr and pairs with cs or hi")
    high, low = float(rows["rho"][close].mean()), float(rows["rho"][other].mean())
    return high > low, f"mean \u03c1 de/en/fr pairs {fmt(high)} vs pairs with cs/hi {fmt(low)}"


def parallel_detectors_early(rows: pd.DataFrame) -> tuple[bool, str]:
    rows = rank_rows(rows, "parallel")
    # the sides of a well-represented language and English: de-en, fr-en
    wanted = [{lang, ENGLISH} for lang in WELL_REPRESENTED if lang != ENGLISH]
    rows = rows[[pair in wanted for pair in pair_languages(rows)]]
    if rows.empty:
        raise Skip("needs a de-en or fr-en test set")
    early, _, late = third_means(curve(rows, "rho"))
    return early > late, f"mean \u03c1 first third {fmt(early)} vs last third {fmt(late)} (de-en, fr-en)"


def rank_beats_control(rows: pd.DataFrame) -> tuple[bool, str]:
    rows = rows[rows["comparison"] == "parallel"]
    t = paired_values(rows, ["side_a", "side_b", "layer"], "rho", ("parallel", "non_parallel"))
    higher = t["parallel"] > t["non_parallel"]
    return bool(higher.all()), (
        f"parallel > non-parallel at {int(higher.sum())}/{len(t)} (pair, layer) points; "
        f"mean \u03c1 {fmt(t['parallel'].mean())} vs {fmt(t['non_parallel'].mean())}"
    )


BOTH = ("both",)
CLAIMS = [
    Claim(
        "frequency-drops-late",
        "§4.1, Fig. 2",
        "Detector activation frequency drops near the output: for every side, its mean over the last third of "
        "layers is below that over the middle third.",
        "activation_frequency",
        ("detector",),
        frequency_drops_late,
    ),
    Claim(
        "sparse-at-both-ends",
        "§4.1, Figs. 2-3; §5",
        "Representations are sparser near the input and the output: the std of activation frequency over neurons "
        "is higher in the first and in the last third of layers than in the middle third.",
        "activation_frequency",
        SUBLAYERS,
        sparse_at_both_ends,
    ),
    Claim(
        "detector-sparsity-well-represented",
        "§4.1",
        "Well-represented languages (en, de, fr) have sparser detectors in the later layers: lower activation "
        "frequency over the last third of layers than cs and hi.",
        "activation_frequency",
        ("detector",),
        detector_sparsity_well_represented,
    ),
    Claim(
        "combinator-sparsity-less-represented",
        "§4.1",
        "Less-represented languages (cs, hi) have sparser combinators: lower activation frequency over all layers "
        "than en, de and fr.",
        "activation_frequency",
        ("combinator",),
        combinator_sparsity_less_represented,
    ),
    Claim(
        "detector-flatness-decreases",
        "§4.2, Fig. 4; §5",
        "Detector activations get more peaked with depth: flatness decreases with the layer (Spearman \u03c1 < 0) "
        "and is lowest in the last third.",
        "flatness",
        ("detector",),
        flatness_decreases,
    ),
    Claim(
        "combinator-flatness-dip",
        "§4.2, Fig. 6",
        "Combinator flatness has a distinct dip inside the model: its minimum is at neither the first nor the "
        "last layer.",
        "flatness",
        ("combinator",),
        interior_flatness_minimum,
    ),
    Claim(
        "combinator-flatness-layer-20",
        "§4.2, Fig. 6; §4.3; §5",
        f"Combinator flatness is lowest near (paper) layer 20, whatever the depth: the minimum is within {NEAR} "
        f"layers of layer {PAPER_LAYER_20} (0-based).",
        "flatness",
        ("combinator",),
        flatness_minimum_near_layer_20,
    ),
    Claim(
        "flatness-minimum-shared",
        "§4.2",
        "Low flatness occurs at the same layers for all languages: the per-side layers of minimum flatness lie "
        "within 10 % of the layers (at least 1) of each other.",
        "flatness",
        SUBLAYERS,
        flatness_minimum_shared,
    ),
    Claim(
        "detector-distance-decreases",
        "§4.2, Fig. 9",
        "Detectors get more multilingual with depth: the representation distance of parallel pairs decreases "
        "with the layer (Spearman \u03c1 < 0; the paper excepts xglm-7.5B).",
        "representation_distance",
        ("detector",),
        distance_decreases,
    ),
    Claim(
        "combinator-distance-final",
        "§4.2, Fig. 10",
        "Final combinator layers are the most multilingual: the distance of parallel pairs is lowest in the last "
        "third of layers (the paper excepts xglm-2.9B).",
        "representation_distance",
        ("combinator",),
        distance_minimum_late,
    ),
    Claim(
        "distance-beats-shuffled",
        "§4.2, Algorithm 1 (control)",
        "Translations are closer than chance: at every layer and for every language pair, the distance of "
        "parallel pairs is below that of shuffled pairs.",
        "representation_distance",
        SUBLAYERS,
        distance_beats_control,
    ),
    Claim(
        "last-layer-distance-grows-with-size",
        "§4.2, Fig. 10",
        "Larger models separate languages more at the output: the last combinator layer's distance (per prefix, "
        "mean over parallel pairs) increases with model size (models in configured order, smallest first).",
        "representation_distance",
        ("combinator",),
        last_layer_distance_grows_with_size,
        across_models=True,
    ),
    Claim(
        "combinators-correlate-more",
        "§4.4, Figs. 12-13",
        "Combinators show greater cross-language rank correlation than detectors (mean over pairs and layers).",
        "rank_correlation",
        BOTH,
        combinators_correlate_more,
    ),
    Claim(
        "rank-correlation-early-middle",
        "§4.4, Figs. 12-13",
        "Cross-language rank correlation is high in the early and middle layers: its mean over the first two "
        "thirds of layers exceeds that over the last third.",
        "rank_correlation",
        SUBLAYERS,
        early_middle_above_late("cross_language"),
    ),
    Claim(
        "de-en-fr-correlate-more",
        "§4.4, Figs. 12-13",
        "Rank correlation is consistently high for German-English-French: pairs among de/en/fr correlate more "
        "than pairs with cs or hi (mean over layers).",
        "rank_correlation",
        SUBLAYERS,
        de_en_fr_pairs_correlate_more,
    ),
    Claim(
        "combinators-multilingual-middle",
        "§5",
        "Combinators are most multilingual around the middle layers: cross-language rank correlation peaks in the "
        "middle third of layers.",
        "rank_correlation",
        ("combinator",),
        peak_in("cross_language", "middle"),
    ),
    Claim(
        "intra-english-detectors-early",
        "§4.4, Fig. 14",
        "English-English detector rank correlation is high in the early and middle layers: its mean over the "
        "first two thirds exceeds that over the last third.",
        "rank_correlation",
        ("detector",),
        early_middle_above_late("intra_english"),
    ),
    Claim(
        "intra-english-combinators-late",
        "§4.4, Fig. 15",
        "English-English combinator rank correlation is maximal close to the output: it peaks in the last third "
        "of layers.",
        "rank_correlation",
        ("combinator",),
        peak_in("intra_english", "late"),
    ),
    Claim(
        "parallel-detectors-early",
        "§4.4, Fig. 17",
        "For the de-en and fr-en test sets, detector rank correlation between the two sides is higher in the "
        "first third of layers than in the last third.",
        "rank_correlation",
        ("detector",),
        parallel_detectors_early,
    ),
    Claim(
        "rank-correlation-beats-control",
        "§4.4, Figs. 17-18 (control)",
        "Parallel sides share their neurons' ranking beyond chance: at every layer and for every test set, the "
        "rank correlation of the parallel sides exceeds that of the non-parallel control halves.",
        "rank_correlation",
        SUBLAYERS,
        rank_beats_control,
    ),
]


def evaluate(claim: Claim, rows: pd.DataFrame, model: str, method: str, sublayer: str) -> Check:
    reason = not_measurable(rows)
    if reason:
        return Check(
            claim.id, model, method, sublayer, "NOT MEASURABLE", f"not measurable on this architecture: {reason}"
        )
    try:
        passed, evidence = claim.test(rows)
        result = "PASS" if passed else "FAIL"
    except Skip as skip:
        result, evidence = "SKIP", str(skip)
    return Check(claim.id, model, method, sublayer, result, evidence)


def ordered_models(df: pd.DataFrame, models: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(df["model"]))
    return [m for m in models if m in present] if models is not None else present


def check_claims(tables: Mapping[str, pd.DataFrame], models: Sequence[str] | None = None) -> list[Check]:
    """Every claim for every method (and model, sublayer) of its table; a claim whose table
    is absent gives one SKIP. `models` orders the models (config order, smallest first)."""
    checks = []
    for claim in CLAIMS:
        df = tables.get(claim.table)
        if df is None or df.empty:
            checks.append(Check(claim.id, "", "", "", "SKIP", f"no {claim.table} table"))
            continue
        for method in dict.fromkeys(df["method"]):
            by_method = df[df["method"] == method]
            order = ordered_models(by_method, models)
            scopes = (
                [("all", by_method[by_method["model"].isin(order)].set_index("model").loc[order].reset_index())]
                if claim.across_models
                else [(m, by_method[by_method["model"] == m]) for m in order]
            )
            for model, rows in scopes:
                for sublayer in claim.sublayers:
                    selected = rows if sublayer == "both" else rows[rows["sublayer"] == sublayer]
                    checks.append(evaluate(claim, selected, model, method, sublayer))
    return checks


# --- the table of extremes -----------------------------------------------------------------------


def one_metric(tables: Mapping[str, pd.DataFrame], metric: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables with representation distance rows of one metric: `metric`, or the table's
    only one (several without a choice is an error)."""
    df = tables.get("representation_distance")
    if df is None or df.empty:
        return dict(tables)
    metrics = sorted(df["metric"].unique())
    if metric is None and len(metrics) != 1:
        raise ValueError(f"representation_distance holds several metrics {metrics}; choose one")
    metric = metrics[0] if metric is None else metric
    if metric not in metrics:
        raise ValueError(f"representation_distance has no rows of metric {metric!r} (has {metrics})")
    return dict(tables, representation_distance=df[df["metric"] == metric])


def extreme(rows: pd.DataFrame | None, value: str, largest: bool) -> tuple[object, float]:
    """(layer, value) of the minimum (maximum if `largest`) of the mean curve; <NA>, NaN if no rows."""
    if rows is None or rows.empty:
        return pd.NA, float("nan")
    c = curve(rows, value)
    layer = c.idxmax() if largest else c.idxmin()
    return int(layer), float(c[layer])


def summary_table(tables: Mapping[str, pd.DataFrame], models: Sequence[str] | None = None) -> pd.DataFrame:
    """Per model, method and sublayer: the layer (and value) of minimum flatness per prefix
    (mean over sides), of minimum representation distance per prefix (mean over parallel
    pairs; the tables pass through `one_metric` first), and of maximum cross-language rank
    correlation (mean over pairs)."""
    tables = one_metric(tables)
    flatness = tables.get("flatness")
    distance = tables.get("representation_distance")
    rank = tables.get("rank_correlation")
    metric = ""
    if distance is not None and not distance.empty:
        metric = distance["metric"].iloc[0]
        distance = distance[distance["pairing"] == "parallel"]
    if rank is not None:
        rank = rank[(rank["comparison"] == "cross_language") & (rank["pairing"] == "parallel")]
    present = [t for t in (flatness, distance, rank) if t is not None and not t.empty]
    if not present:
        raise ValueError("no flatness, representation_distance or rank_correlation rows to summarise")
    keys = pd.concat([t[["model", "method"]] for t in present]).drop_duplicates()
    order = ordered_models(keys, models)
    rows = []
    for model in order:
        for method in dict.fromkeys(keys[keys["model"] == model]["method"]):

            def part(t, model=model, method=method):
                return None if t is None else t[(t["model"] == model) & (t["method"] == method)]

            layers = pd.concat([part(t)["layer"] for t in present])
            for sublayer in SUBLAYERS:

                def sub(t, sublayer=sublayer):
                    p = part(t)
                    return None if p is None else p[p["sublayer"] == sublayer]

                f_layer, f_value = extreme(sub(flatness), "flatness_mean", largest=False)
                d_layer, d_value = extreme(sub(distance), "distance_mean", largest=False)
                r_layer, r_value = extreme(sub(rank), "rho", largest=True)
                rows.append(
                    {
                        "model": model,
                        "method": method,
                        "sublayer": sublayer,
                        "n_layers": layers.nunique(),
                        "min_flatness_layer": f_layer,
                        "min_flatness": f_value,
                        "distance_metric": metric,
                        "min_distance_layer": d_layer,
                        "min_distance": d_value,
                        "max_rank_correlation_layer": r_layer,
                        "max_rank_correlation": r_value,
                    }
                )
    table = table_frame(rows, "summary")
    for column in ("min_flatness_layer", "min_distance_layer", "max_rank_correlation_layer"):
        table[column] = table[column].astype("Int64")
    return table


# --- markdown ------------------------------------------------------------------------------------


def md_cell(value) -> str:
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return fmt(value) if isinstance(value, float) else str(value)


# The causal test's table, read by the summary where the run includes the test
CAUSAL = "causal_perplexity"


def markdown(summary: pd.DataFrame, checks: Sequence[Check], tables: Sequence[str], causal=None) -> str:
    """summary.md: the extremes table, every claim with its per-model results, and the causal
    test's findings (the `causal` table) or how to get them."""
    counts = {r: sum(c.result == r for c in checks) for r in RESULTS}
    lines = [
        "# Findings",
        "",
        f"Generated from the tables {', '.join(tables) or '(none)'}. Layers are numbered from 0 as in the "
        "tables (the paper counts from 1). Per-prefix values (flatness, distance) are means over sides or "
        "language pairs; rank correlations are cross-language, parallel pairing.",
        "",
        "## Layers of extreme values",
        "",
        "| model | method | sublayer | layers | min flatness: layer | value | min distance: layer | value | "
        "max rank correlation: layer | \u03c1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        cells = [
            r.model,
            r.method,
            r.sublayer,
            r.n_layers,
            r.min_flatness_layer,
            r.min_flatness,
            r.min_distance_layer,
            r.min_distance,
            r.max_rank_correlation_layer,
            r.max_rank_correlation,
        ]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    lines += [
        "",
        "## The paper's claims as tests",
        "",
        f"{len(checks)} checks: " + ", ".join(f"{n} {r}" for r, n in counts.items()) + ". "
        "The paper's statements are about XGLM; on other models they say whether the same pattern holds.",
    ]
    for claim in CLAIMS:
        lines += [
            "",
            f"### {claim.id} ({claim.source})",
            "",
            claim.statement,
            "",
            "| model | method | sublayer | result | numbers |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {c.model} | {c.method} | {c.sublayer} | **{c.result}** | {c.evidence} |"
            for c in checks
            if c.claim == claim.id
        ]
    lines += ["", "## Language neurons switched off (causal test)", ""]
    if causal is None:
        lines.append(
            "Not part of this run: `snakemake causal` (with this run's `--configfile`) writes the findings to "
            "`results/causal_test/{model}.md`; with `causal_test.in_summary: true` they are here."
        )
    else:
        lines.append(
            "Each language's neurons (LAPE) switched off: the change of every language's perplexity on held-out "
            "sentences, with a bootstrap interval over sentences, against as many random neurons of the same layers."
        )
        lines += ["", *causal_findings(causal)]
    return "\n".join(lines) + "\n"


def load_tables(
    paths: Mapping[str, Sequence[str | Path]], methods: Sequence[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Each named table, concatenated over its per-model files, keeping only `methods`."""
    known = (*MODEL_TABLES, CAUSAL)
    unknown = sorted(set(paths) - set(known))
    if unknown:
        raise ValueError(f"unknown tables {unknown}; valid: {', '.join(known)}")
    tables = {}
    for name, files in paths.items():
        if files:
            df = pd.concat([read_tsv(p) for p in files], ignore_index=True)
            tables[name] = df[df["method"].isin(methods)] if methods is not None else df
    return tables


def write_summary(
    tables: Mapping[str, pd.DataFrame],
    tsv_path: str | Path,
    md_path: str | Path,
    *,
    models: Sequence[str] | None = None,
    distance_metric: str | None = None,
) -> list[Check]:
    """summary.tsv and summary.md from the tables (distance rows of `distance_metric`, or of
    the table's only metric); returns the checks."""
    tables = one_metric(tables, distance_metric)
    summary = summary_table(tables, models)
    checks = check_claims(tables, models)
    write_tsv(summary, tsv_path)
    write_text(md_path, markdown(summary, checks, list(tables), tables.get(CAUSAL)))
    return checks
