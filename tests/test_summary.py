import numpy as np
import pandas as pd
import pytest

from ffnscope.sides import lang_of, language_of
from ffnscope.summary import CLAIMS, check_claims, markdown, one_metric, summary_table, thirds, write_summary
from ffnscope.tables import read_tsv

SIDES = [
    ("wmt14-cs-en", "cs"),
    ("wmt14-cs-en", "en"),
    ("wmt14-de-en", "de"),
    ("wmt14-de-en", "en"),
    ("wmt14-hi-en", "hi"),
    ("wmt14-hi-en", "en"),
]
LAYERS = range(9)  # thirds: 0-2, 3-5, 6-8
V = np.array  # a per-layer curve
DECREASING = V([9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
INCREASING = DECREASING[::-1]
U_SHAPE = V([9, 7, 5, 3, 1, 3, 5, 7, 9], dtype=float)  # minimum at layer 4 (middle third)


def per_side(values, layers=LAYERS, sides=SIDES, model="m", method="paper"):
    """Rows of activation_frequency / flatness: values(lang, sublayer) -> {column: curve}."""
    return pd.DataFrame(
        [
            {
                "model": model,
                "method": method,
                "testset": t,
                "lang": lang,
                "sublayer": s,
                "layer": k,
                **{c: float(curve[i]) for c, curve in values(lang, s).items()},
                "language": language_of(lang).language,
            }
            for t, lang in sides
            for s in ("detector", "combinator")
            for i, k in enumerate(layers)
        ]
    )


def distance(values, model="m", method="paper", layers=LAYERS, pairings=("parallel", "shuffled")):
    """representation_distance rows: values(src, sublayer, pairing) -> distance_mean curve."""
    return pd.DataFrame(
        [
            {
                "model": model,
                "method": method,
                "metric": "euclidean",
                "testset": f"wmt14-{src}-en",
                "src_lang": src,
                "tgt_lang": "en",
                "sublayer": s,
                "layer": k,
                "pairing": p,
                "distance": 10 * float(values(src, s, p)[i]),
                "distance_mean": float(values(src, s, p)[i]),
            }
            for src in ("de", "hi")
            for s in ("detector", "combinator")
            for p in pairings
            for i, k in enumerate(layers)
        ]
    )


RANK_PLAN = [
    ("cross_language", "wmt14-cs-en/cs", "wmt14-de-en/de"),
    ("cross_language", "wmt14-de-en/de", "wmt14-de-en/en"),
    ("cross_language", "wmt14-de-en/en", "wmt14-hi-en/hi"),
    ("intra_english", "wmt14-cs-en/en", "wmt14-de-en/en"),
    ("parallel", "wmt14-de-en/de", "wmt14-de-en/en"),
    ("parallel", "wmt14-hi-en/hi", "wmt14-hi-en/en"),
]


def rank(values, plan=RANK_PLAN, model="m"):
    """rank_correlation rows: values(comparison, side_a, side_b, sublayer, pairing) -> rho curve."""
    return pd.DataFrame(
        [
            {
                "model": model,
                "method": "paper",
                "comparison": c,
                "side_a": a,
                "side_b": b,
                "sublayer": s,
                "layer": k,
                "pairing": p,
                "rho": float(values(c, a, b, s, p)[i]),
                "language_a": language_of(lang_of(a)).language,
                "language_b": language_of(lang_of(b)).language,
            }
            for c, a, b in plan
            for s in ("detector", "combinator")
            for p in (("parallel", "non_parallel") if c == "parallel" else ("parallel",))
            for i, k in enumerate(LAYERS)
        ]
    )


def results(tables, claim, models=None):
    return [(c.model, c.method, c.sublayer, c.result) for c in check_claims(tables, models) if c.claim == claim]


def evidence(tables, claim):
    return [c.evidence for c in check_claims(tables) if c.claim == claim]


def const(x):
    return np.full(len(LAYERS), float(x))


def test_metrics_that_cannot_vary_are_not_measurable_not_scored():
    drop = V([1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5])
    table = per_side(lambda lang, s: {"mean": drop, "std": const(0.1)})
    reason = "gelu is non-zero for every non-zero input: ~1.0 by construction"
    table["not_measurable"] = reason
    assert results({"activation_frequency": table}, "frequency-drops-late") == [
        ("m", "paper", "detector", "NOT MEASURABLE")
    ]
    assert evidence({"activation_frequency": table}, "frequency-drops-late") == [
        f"not measurable on this architecture: {reason}"
    ]
    table["not_measurable"] = np.nan  # read back from a table: measurable rows are empty
    assert results({"activation_frequency": table}, "frequency-drops-late")[0][3] == "PASS"


def test_thirds():
    assert thirds(range(9)) == ([0, 1, 2], [3, 4, 5], [6, 7, 8])
    assert thirds([4, 0, 2, 6]) == ([0, 2], [4], [6])


def test_frequency_drops_late():
    drop = V([1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5])
    table = per_side(lambda lang, s: {"mean": drop, "std": const(0.1)})
    assert results({"activation_frequency": table}, "frequency-drops-late") == [("m", "paper", "detector", "PASS")]
    assert evidence({"activation_frequency": table}, "frequency-drops-late") == [
        "last third 0.5 vs middle third 1 (mean over sides); lower in 6/6 sides"
    ]
    table = per_side(lambda lang, s: {"mean": drop if lang != "hi" else const(1), "std": const(0.1)})
    assert results({"activation_frequency": table}, "frequency-drops-late")[0][3] == "FAIL"
    assert evidence({"activation_frequency": table}, "frequency-drops-late")[0].endswith("lower in 5/6 sides")


def test_sparse_at_both_ends():
    ends = V([0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2])
    table = per_side(lambda lang, s: {"mean": const(0.5), "std": ends if s == "detector" else np.sort(ends)})
    assert results({"activation_frequency": table}, "sparse-at-both-ends") == [
        ("m", "paper", "detector", "PASS"),
        ("m", "paper", "combinator", "FAIL"),
    ]
    assert evidence({"activation_frequency": table}, "sparse-at-both-ends")[0] == (
        "std over neurons: first third 0.3, middle 0.1, last 0.2 (mean over sides)"
    )


def test_sparsity_by_language_group():
    def values(lang, s):
        low = lang in ("cs", "hi")
        if s == "detector":  # later layers: en/de sparser (lower frequency) than cs/hi
            return {"mean": V([0.9] * 6 + ([0.7] * 3 if low else [0.5] * 3)), "std": const(0.1)}
        return {"mean": const(0.4 if low else 0.6), "std": const(0.1)}

    tables = {"activation_frequency": per_side(values)}
    assert results(tables, "detector-sparsity-well-represented")[0][3] == "PASS"
    assert evidence(tables, "detector-sparsity-well-represented") == [
        "last-third activation frequency: en/de/fr 0.5 vs cs/hi 0.7"
    ]
    assert results(tables, "combinator-sparsity-less-represented")[0][3] == "PASS"
    swapped = {"activation_frequency": per_side(lambda lang, s: values("cs" if lang in ("en", "de") else "de", s))}
    assert results(swapped, "detector-sparsity-well-represented")[0][3] == "FAIL"
    assert results(swapped, "combinator-sparsity-less-represented")[0][3] == "FAIL"
    english_only = {"activation_frequency": per_side(values, sides=[("wmt14-de-en", "de"), ("wmt14-de-en", "en")])}
    assert results(english_only, "combinator-sparsity-less-represented")[0][3] == "SKIP"


def test_flatness_claims():
    tables = {"flatness": per_side(lambda lang, s: {"flatness_mean": DECREASING if s == "detector" else U_SHAPE})}
    assert results(tables, "detector-flatness-decreases")[0][3] == "PASS"
    assert evidence(tables, "detector-flatness-decreases") == [
        "Spearman \u03c1(layer, flatness) = -1; minimum at layer 8 (late third of 9)"
    ]
    assert results(tables, "combinator-flatness-dip")[0][3] == "PASS"
    assert results(tables, "flatness-minimum-shared") == [
        ("m", "paper", "detector", "PASS"),
        ("m", "paper", "combinator", "PASS"),
    ]
    swapped = {"flatness": per_side(lambda lang, s: {"flatness_mean": U_SHAPE if s == "detector" else DECREASING})}
    assert results(swapped, "detector-flatness-decreases")[0][3] == "FAIL"
    assert results(swapped, "combinator-flatness-dip")[0][3] == "FAIL"
    # one language's minimum 4 layers away from the others' (allowed: max(1, round(0.9)) = 1)
    apart = {"flatness": per_side(lambda lang, s: {"flatness_mean": DECREASING if lang == "hi" else U_SHAPE})}
    assert results(apart, "flatness-minimum-shared")[0][3] == "FAIL"
    assert evidence(apart, "flatness-minimum-shared")[0] == (
        "per-side minima at layers 4-8 (spread 4, allowed 1 of 9 layers)"
    )


def test_combinator_flatness_near_paper_layer_20():
    layers = range(30)

    def dip_at(layer):
        return per_side(lambda lang, s: {"flatness_mean": np.abs(np.arange(30.0) - layer) + 1}, layers=layers)

    assert results({"flatness": dip_at(21)}, "combinator-flatness-layer-20")[0][3] == "PASS"
    assert evidence({"flatness": dip_at(21)}, "combinator-flatness-layer-20") == [
        "minimum at layer 21 (paper layer 22)"
    ]
    assert results({"flatness": dip_at(10)}, "combinator-flatness-layer-20")[0][3] == "FAIL"
    shallow = {"flatness": per_side(lambda lang, s: {"flatness_mean": U_SHAPE})}
    assert results(shallow, "combinator-flatness-layer-20")[0][3] == "SKIP"
    assert "last layer is 8" in evidence(shallow, "combinator-flatness-layer-20")[0]


def test_distance_claims():
    def values(src, s, p):
        return DECREASING + (5 if p == "shuffled" else 0)

    tables = {"representation_distance": distance(values)}
    assert results(tables, "detector-distance-decreases")[0][3] == "PASS"
    assert results(tables, "combinator-distance-final")[0][3] == "PASS"
    assert results(tables, "distance-beats-shuffled") == [
        ("m", "paper", "detector", "PASS"),
        ("m", "paper", "combinator", "PASS"),
    ]
    assert evidence(tables, "distance-beats-shuffled")[0] == (
        "parallel < shuffled at 18/18 (pair, layer) points; parallel/shuffled ratio 0.1667-0.6429"
    )

    def worse(src, s, p):  # increasing with depth, minimum in the middle, one layer above chance
        curve = U_SHAPE if s == "combinator" else INCREASING
        if p == "shuffled":
            curve = curve + 5
            curve[0] -= 6 if src == "hi" else 0
        return curve

    tables = {"representation_distance": distance(worse)}
    assert results(tables, "detector-distance-decreases")[0][3] == "FAIL"
    assert results(tables, "combinator-distance-final")[0][3] == "FAIL"
    assert [r[3] for r in results(tables, "distance-beats-shuffled")] == ["FAIL", "FAIL"]
    assert evidence(tables, "distance-beats-shuffled")[0].startswith("parallel < shuffled at 17/18")
    pooled = {"representation_distance": distance(values, method="authors_code", pairings=("parallel",))}
    assert results(pooled, "distance-beats-shuffled")[0] == ("m", "authors_code", "detector", "SKIP")


def test_last_layer_distance_grows_with_size():
    def model(name, last):
        return distance(lambda src, s, p: np.append(DECREASING[:-1], last), model=name)

    tables = {"representation_distance": pd.concat([model("big", 8.0), model("small", 3.0)])}
    assert results(tables, "last-layer-distance-grows-with-size", models=["small", "big"]) == [
        ("all", "paper", "combinator", "PASS")
    ]
    assert evidence(
        {"representation_distance": tables["representation_distance"]}, "last-layer-distance-grows-with-size"
    ) == ["big: 8, small: 3"]
    assert results(tables, "last-layer-distance-grows-with-size", models=["big", "small"])[0][3] == "FAIL"
    assert (
        results({"representation_distance": model("small", 3.0)}, "last-layer-distance-grows-with-size")[0][3] == "SKIP"
    )


def test_rank_correlation_claims():
    def values(c, a, b, s, p):
        if c == "cross_language":
            scale = 1.0 if {a[-2:], b[-2:]} <= {"de", "en", "fr"} else 0.5
            return (DECREASING / 10 if s == "detector" else (10 - U_SHAPE) / 10 + 0.1) * scale
        if c == "intra_english":
            return DECREASING / 10 if s == "detector" else DECREASING[::-1] / 10
        return DECREASING / 10 - (0.2 if p == "non_parallel" else 0.0)

    tables = {"rank_correlation": rank(values)}
    for claim in (
        "combinators-correlate-more",
        "combinators-multilingual-middle",
        "intra-english-detectors-early",
        "intra-english-combinators-late",
        "parallel-detectors-early",
    ):
        assert [r[3] for r in results(tables, claim)] == ["PASS"], claim
    for claim in ("de-en-fr-correlate-more", "rank-correlation-beats-control"):
        assert [r[3] for r in results(tables, claim)] == ["PASS", "PASS"], claim
    assert [r[3] for r in results(tables, "rank-correlation-early-middle")] == ["PASS", "PASS"]
    assert evidence(tables, "de-en-fr-correlate-more")[0] == "mean \u03c1 de/en/fr pairs 0.5 vs pairs with cs/hi 0.25"

    def opposite(c, a, b, s, p):  # every curve rises with depth; equal for all pairs and sublayers
        if c == "intra_english" and s == "combinator":
            return DECREASING / 10
        return INCREASING / 10 + (0.2 if p == "non_parallel" else 0.0)

    flipped = {"rank_correlation": rank(opposite)}
    for claim in (
        "combinators-correlate-more",
        "combinators-multilingual-middle",
        "intra-english-detectors-early",
        "intra-english-combinators-late",
        "parallel-detectors-early",
    ):
        assert [r[3] for r in results(flipped, claim)] == ["FAIL"], claim
    for claim in ("rank-correlation-early-middle", "de-en-fr-correlate-more", "rank-correlation-beats-control"):
        assert [r[3] for r in results(flipped, claim)] == ["FAIL", "FAIL"], claim

    def one_layer_below_chance(c, a, b, s, p):
        curve = values(c, a, b, s, p)
        if p == "non_parallel" and a.endswith("hi"):
            curve = curve + V([0.5] + [0.0] * 8)
        return curve

    tables = {"rank_correlation": rank(one_layer_below_chance)}
    assert [r[3] for r in results(tables, "rank-correlation-beats-control")] == ["FAIL", "FAIL"]
    assert evidence(tables, "rank-correlation-beats-control")[0].startswith("parallel > non-parallel at 17/18")
    hindi_only = {"rank_correlation": rank(values, plan=[p for p in RANK_PLAN if "de-en/de" not in p[1]])}
    assert results(hindi_only, "parallel-detectors-early")[0][3] == "SKIP"


FLORES = {"cs": "ces_Latn", "de": "deu_Latn", "en": "eng_Latn", "fr": "fra_Latn", "hi": "hin_Deva"}


def test_claims_read_languages_not_codes():
    # the same tables with FLORES-200 codes (eng_Latn, deu_Latn, ...) for the sides: the
    # language groups of §4.1 and §4.4 come from the normalised languages, so every check agrees
    def frequency(lang, s):
        low = lang in ("cs", "hi")
        return {"mean": V([0.9] * 6 + ([0.7] * 3 if low else [0.5] * 3)), "std": const(0.1)}

    def rho(c, a, b, s, p):
        close = {lang_of(a), lang_of(b)} <= {"de", "en", "fr"}
        return DECREASING / 10 * (1.0 if close else 0.5) - (0.2 if p == "non_parallel" else 0.0)

    def flores(df):
        df = df.copy()
        if "lang" in df:
            df["lang"] = df["lang"].map(FLORES)
            df["language"] = [language_of(code).language for code in df["lang"]]
        for x in ("a", "b"):
            if f"side_{x}" in df:
                df[f"side_{x}"] = [f"{t}/{FLORES[lang]}" for t, _, lang in df[f"side_{x}"].str.rpartition("/").values]
                df[f"language_{x}"] = [language_of(lang_of(side)).language for side in df[f"side_{x}"]]
        return df

    wmt = {"activation_frequency": per_side(frequency), "rank_correlation": rank(rho)}
    checks = check_claims(wmt)
    assert check_claims({name: flores(df) for name, df in wmt.items()}) == checks
    passed = {c.claim for c in checks if c.result == "PASS"}
    assert {"detector-sparsity-well-represented", "de-en-fr-correlate-more", "parallel-detectors-early"} <= passed


def test_combinator_peak_value_by_hand():
    # mean over the 3 cross-language pairs at layer 4: combinator curve (10 - 1) / 10 + 0.1 = 1.0,
    # scaled 0.5 (cs-de), 1.0 (de-en), 0.5 (en-hi) -> (0.5 + 1.0 + 0.5) / 3
    rows = rank(lambda c, a, b, s, p: ((10 - U_SHAPE) / 10 + 0.1) * (1.0 if {a[-2:], b[-2:]} <= {"de", "en"} else 0.5))
    assert evidence({"rank_correlation": rows}, "combinators-multilingual-middle") == [
        f"maximum \u03c1 {2 / 3:.4g} at layer 4 (middle third of 9)"
    ]


def test_missing_table_is_one_skip_per_claim():
    checks = check_claims({})
    assert len(checks) == len(CLAIMS) and {c.result for c in checks} == {"SKIP"}
    assert checks[0].evidence == "no activation_frequency table"


@pytest.fixture
def tables():
    flat = per_side(lambda lang, s: {"flatness_mean": U_SHAPE + (lang == "hi")})
    dist = distance(lambda src, s, p: DECREASING + (src == "hi") + (4 if p == "shuffled" else 0))
    rho = rank(lambda c, a, b, s, p: (10 - U_SHAPE) / 10 + (0.1 if a.endswith("cs") else 0.0))
    return {"flatness": flat, "representation_distance": dist, "rank_correlation": rho}


def test_summary_table_extremes(tables):
    summary = summary_table(tables)
    assert list(summary["sublayer"]) == ["detector", "combinator"]
    row = summary.iloc[0]
    assert (row["model"], row["method"], row["n_layers"], row["distance_metric"]) == ("m", "paper", 9, "euclidean")
    assert row["min_flatness_layer"] == 4 and row["min_flatness"] == pytest.approx(1 + 1 / 6)  # hi: +1, 1 of 6 sides
    assert row["min_distance_layer"] == 8 and row["min_distance"] == pytest.approx(1.5)  # parallel only
    assert row["max_rank_correlation_layer"] == 4 and row["max_rank_correlation"] == pytest.approx(0.9 + 0.1 / 3)
    no_rank = summary_table({"flatness": tables["flatness"]})
    assert no_rank["max_rank_correlation_layer"].isna().all() and no_rank["min_flatness_layer"].tolist() == [4, 4]


def test_distance_metric_must_be_single(tables):
    both = dict(
        tables,
        representation_distance=pd.concat(
            [tables["representation_distance"], tables["representation_distance"].assign(metric="cosine")]
        ),
    )
    with pytest.raises(ValueError, match=r"several metrics \['cosine', 'euclidean'\]"):
        summary_table(both)
    assert set(one_metric(both, "cosine")["representation_distance"]["metric"]) == {"cosine"}
    with pytest.raises(ValueError, match="no rows of metric 'manhattan'"):
        one_metric(both, "manhattan")


def test_write_summary_tsv_and_markdown(tables, tmp_path):
    checks = write_summary(tables, tmp_path / "tables" / "summary.tsv", tmp_path / "summary.md")
    tsv = read_tsv(tmp_path / "tables" / "summary.tsv")
    assert tsv["min_flatness_layer"].tolist() == [4, 4] and tsv["max_rank_correlation_layer"].tolist() == [4, 4]
    md = (tmp_path / "summary.md").read_text()
    n = {r: sum(c.result == r for c in checks) for r in ("PASS", "FAIL", "SKIP")}
    assert f"{len(checks)} checks: {n['PASS']} PASS, {n['FAIL']} FAIL, 0 NOT MEASURABLE, {n['SKIP']} SKIP." in md
    assert "| m | paper | detector | 9 | 4 | 1.167 | 8 | 1.5 | 4 | 0.9333 |" in md
    assert "### combinator-flatness-dip (§4.2, Fig. 6)" in md
    assert "| m | paper | combinator | **PASS** | minimum 1.167 at layer 4; layer 0: 9.167, layer 8: 9.167 |" in md
    assert "|  |  |  | **SKIP** | no activation_frequency table |" in md


def test_markdown_without_checks_lists_every_claim():
    md = markdown(pd.DataFrame(columns=["model"]), [], [])
    assert md.count("### ") == len(CLAIMS) and "0 checks: 0 PASS, 0 FAIL, 0 NOT MEASURABLE, 0 SKIP." in md


def test_causal_findings_are_in_the_summary_when_the_run_has_them():
    """The causal test's findings (ffnscope.causal.findings) from its table, or how to run it."""
    rows = [
        dict(model="m", method="paper", deactivated=d, condition=c, draw=int(c == "random"), evaluated=e)
        | dict(n_neurons=4, ppl_base=10.0, ppl=15.0 if (d, c, e) == ("de", "language", "de") else 10.1)
        for d in ("de", "en")
        for c in ("language", "random")
        for e in ("de", "en")
    ]
    causal = pd.DataFrame(rows).assign(delta=lambda df: df["ppl"] - df["ppl_base"])
    causal = causal.assign(ci_low=causal["delta"] - 0.5, ci_high=causal["delta"] + 0.5)
    md = markdown(pd.DataFrame(columns=["model"]), [], ["causal_perplexity"], causal)
    section = md[md.index("## Language neurons switched off (causal test)") :]
    assert "- m, de (neurons off: 4): its perplexity changes by +5 (95 % CI +4.5 to +5.5; 10 -> 15)" in section
    assert "switching them off hurts it more than the other languages and more than random neurons." in section
    assert "- m, en (neurons off: 4)" in section and "does not clearly hurt it more" in section
    absent = markdown(pd.DataFrame(columns=["model"]), [], [])
    assert "Not part of this run: `snakemake causal`" in absent
