import numpy as np
import pytest
from scipy.stats import spearmanr

from ffnscope.bootstrap import Bootstrap, resample_indices
from ffnscope.comparisons import Comparison, plan_comparisons
from ffnscope.metrics import sentence_statistics
from ffnscope.rankcorr import (
    control_halves,
    load_sentence_fires,
    load_sentence_sums,
    rank_correlations,
    save_sentence_sums,
    spearman,
    standardized_ranks,
)

WMT = [
    ("wmt14-cs-en", "cs"),
    ("wmt14-cs-en", "en"),
    ("wmt14-de-en", "de"),
    ("wmt14-de-en", "en"),
    ("wmt14-hi-en", "hi"),
    ("wmt14-hi-en", "en"),
]


def test_plan_comparisons():
    plan = plan_comparisons(WMT)
    c = lambda kind, a, b: Comparison(kind, a, b)  # noqa: E731
    # English stands for itself through the first configured test set with it (cs-en)
    assert plan == [
        c("cross_language", "wmt14-cs-en/cs", "wmt14-de-en/de"),
        c("cross_language", "wmt14-cs-en/cs", "wmt14-cs-en/en"),
        c("cross_language", "wmt14-cs-en/cs", "wmt14-hi-en/hi"),
        c("cross_language", "wmt14-de-en/de", "wmt14-cs-en/en"),
        c("cross_language", "wmt14-de-en/de", "wmt14-hi-en/hi"),
        c("cross_language", "wmt14-cs-en/en", "wmt14-hi-en/hi"),
        c("intra_english", "wmt14-cs-en/en", "wmt14-de-en/en"),
        c("intra_english", "wmt14-cs-en/en", "wmt14-hi-en/en"),
        c("intra_english", "wmt14-de-en/en", "wmt14-hi-en/en"),
        c("parallel", "wmt14-cs-en/cs", "wmt14-cs-en/en"),
        c("parallel", "wmt14-de-en/de", "wmt14-de-en/en"),
        c("parallel", "wmt14-hi-en/hi", "wmt14-hi-en/en"),
    ]
    chosen = plan_comparisons(WMT, {"en": "wmt14-de-en"})
    cross = [
        (p.side_a, p.side_b)
        for p in chosen
        if p.comparison == "cross_language" and "en" in (p.side_a[-2:], p.side_b[-2:])
    ]
    assert cross == [
        ("wmt14-cs-en/cs", "wmt14-de-en/en"),
        ("wmt14-de-en/de", "wmt14-de-en/en"),
        ("wmt14-de-en/en", "wmt14-hi-en/hi"),
    ]
    with pytest.raises(ValueError, match=r"language_sides: en: 'wmt14-fr-en' is not a configured test set"):
        plan_comparisons(WMT, {"en": "wmt14-fr-en"})


def test_plan_comparisons_n_way_and_normalised_languages():
    sides = [
        ("flores", "eng_Latn"),
        ("flores", "deu_Latn"),
        ("flores", "hin_Deva"),
        ("wmt14-de-en", "de"),
        ("wmt14-de-en", "en"),
    ]
    c = lambda kind, a, b: Comparison(kind, a, b)  # noqa: E731
    # de and deu_Latn are one language, as are en and eng_Latn: one side each in cross_language
    # (the first test set's); the English sides of both test sets are intra_english; every
    # pair of sides of a test set is parallel, in listed order
    assert plan_comparisons(sides) == [
        c("cross_language", "flores/deu_Latn", "flores/eng_Latn"),
        c("cross_language", "flores/deu_Latn", "flores/hin_Deva"),
        c("cross_language", "flores/eng_Latn", "flores/hin_Deva"),
        c("intra_english", "flores/eng_Latn", "wmt14-de-en/en"),
        c("parallel", "flores/eng_Latn", "flores/deu_Latn"),
        c("parallel", "flores/eng_Latn", "flores/hin_Deva"),
        c("parallel", "flores/deu_Latn", "flores/hin_Deva"),
        c("parallel", "wmt14-de-en/de", "wmt14-de-en/en"),
    ]
    # language_sides by any code of the language
    chosen = plan_comparisons(sides, {"eng": "wmt14-de-en", "deu_Latn": "wmt14-de-en"})
    assert [(p.side_a, p.side_b) for p in chosen if p.comparison == "cross_language"] == [
        ("wmt14-de-en/de", "wmt14-de-en/en"),
        ("wmt14-de-en/de", "flores/hin_Deva"),
        ("wmt14-de-en/en", "flores/hin_Deva"),
    ]
    # an override makes a code English (en-GB and en: two languages, both English)
    assert plan_comparisons([("t", "xx"), ("u", "en")], languages={"xx": "en-GB"}) == [
        c("cross_language", "u/en", "t/xx"),
        c("intra_english", "t/xx", "u/en"),
    ]


def test_spearman_matches_scipy_with_ties_and_constant_input():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 6, size=40).astype(float)  # many ties
    b = a + rng.normal(size=40)
    rho, p = spearman(a, b)
    ref = spearmanr(a, b)
    assert rho == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-9)
    # hand: ranks [1,2,3] vs [3,1,2] -> rho = 1 - 6*(4+1+1)/(3*8) = -0.5
    assert spearman(np.array([1.0, 2, 3]), np.array([9.0, 1, 5]))[0] == pytest.approx(-0.5, rel=1e-12)
    assert np.isnan(spearman(np.ones(5), np.arange(5.0))).all()


def test_standardized_ranks_dot_products_are_spearman():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 4, size=(6, 25)).astype(float)
    y = rng.normal(size=(6, 25))
    rho = np.einsum("rn,rn->r", standardized_ranks(x), standardized_ranks(y))
    np.testing.assert_allclose(rho, [spearmanr(a, b).statistic for a, b in zip(x, y)], rtol=1e-12)


def sums_for(rng, sides, n=10, neurons=30):
    """Per-sentence sums: a shared neuron profile plus per-side noise."""
    profile = rng.gamma(2.0, size=neurons)
    return {s: profile * rng.gamma(1.0, size=(n, 1)) + rng.normal(scale=0.5, size=(n, neurons)) for s in sides}


def test_point_estimates_and_intervals_equal_brute_force():
    rng = np.random.default_rng(3)
    sums = sums_for(rng, ["a/de", "a/en", "b/en"])
    plan = [Comparison("parallel", "a/de", "a/en"), Comparison("intra_english", "a/en", "b/en")]
    boot = Bootstrap(n_resamples=60, seed=9, confidence=0.9)
    rows = rank_correlations(sums, plan, boot)
    assert [(r["comparison"], r["pairing"]) for r in rows] == [
        ("parallel", "parallel"),
        ("parallel", "non_parallel"),
        ("intra_english", "parallel"),
    ]
    total = {s: x.sum(axis=0) for s, x in sums.items()}
    ref = spearmanr(total["a/de"], total["a/en"])
    assert rows[0]["rho"] == pytest.approx(ref.statistic, rel=1e-12)
    assert rows[0]["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert rows[2]["rho"] == pytest.approx(spearmanr(total["a/en"], total["b/en"]).statistic, rel=1e-12)
    # brute force: paired (the same draws for both sides of test set a), independent for a vs b
    draws_a = resample_indices(10, 60, seed=9, stream="a")
    draws_b = resample_indices(10, 60, seed=9, stream="b")
    paired = [spearmanr(sums["a/de"][i].sum(0), sums["a/en"][i].sum(0)).statistic for i in draws_a]
    independent = [
        spearmanr(sums["a/en"][i].sum(0), sums["b/en"][j].sum(0)).statistic for i, j in zip(draws_a, draws_b)
    ]
    # median-centred percentile interval clipped to [-1, 1]; float32 resampled sums (BLAS) vs float64 here: ~1e-6
    for r, reps in ((rows[0], paired), (rows[2], independent)):
        centred = np.asarray(reps) - np.median(reps) + r["rho"]
        expected = np.clip(np.percentile(centred, [5, 95]), -1, 1)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(tuple(expected), abs=1e-6)
    for r in rows:
        assert r["ci_low"] <= r["rho"] <= r["ci_high"]
        assert r["n_sentences"] == (5 if r["pairing"] == "non_parallel" else 10)
    # the control: side A over H1 vs side B over H2
    h1, h2 = control_halves(10, 9, "a")
    assert len(h1) == len(h2) == 5 and not set(h1) & set(h2)
    assert rows[1]["rho"] == pytest.approx(
        spearmanr(sums["a/de"][h1].sum(0), sums["a/en"][h2].sum(0)).statistic, rel=1e-12
    )
    # no resamples: NaN intervals, same point estimates (the halves follow bootstrap.seed)
    plain = rank_correlations(sums, plan, Bootstrap(n_resamples=0, seed=9))
    assert [r["rho"] for r in plain] == [r["rho"] for r in rows]
    assert all(np.isnan(r["ci_low"]) and np.isnan(r["ci_high"]) for r in plain)


def test_interval_is_centred_where_resampling_lowers_rho():
    # weak shared profile, strong noise, independent sides: resampled sums (duplicated
    # sentences) are noisier, so the replicates fall below rho; the interval is centred on it
    rng = np.random.default_rng(0)
    profile = rng.gamma(2.0, size=200)
    sums = {s: profile * 0.3 + rng.gamma(0.5, size=(8, 200)) for s in ("a/en", "b/en")}
    boot = Bootstrap(n_resamples=200, seed=1)
    row = rank_correlations(sums, [Comparison("intra_english", "a/en", "b/en")], boot)[0]
    reps = [
        spearmanr(sums["a/en"][i].sum(0), sums["b/en"][j].sum(0)).statistic
        for i, j in zip(resample_indices(8, 200, seed=1, stream="a"), resample_indices(8, 200, seed=1, stream="b"))
    ]
    assert np.percentile(reps, 97.5) < row["rho"]  # the plain percentile interval misses rho
    assert row["ci_low"] < row["rho"] < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] == pytest.approx(np.ptp(np.percentile(reps, [2.5, 97.5])), abs=1e-6)


def test_pairing_of_the_bootstrap():
    # identical data on two sides: resampled PAIRED (same test set) every replicate is 1, so
    # the interval is [1, 1]; resampled independently (different test sets) it is not
    rng = np.random.default_rng(4)
    x = rng.gamma(1.0, size=(12, 40))
    boot = Bootstrap(n_resamples=50, seed=1)
    same = rank_correlations({"t/de": x, "t/en": x}, [Comparison("parallel", "t/de", "t/en")], boot)[0]
    assert same["rho"] == same["ci_low"] == pytest.approx(1.0, abs=1e-12) and same["ci_high"] == pytest.approx(1.0)
    other = rank_correlations({"t/en": x, "u/en": x}, [Comparison("intra_english", "t/en", "u/en")], boot)[0]
    assert other["rho"] == pytest.approx(1.0) and other["ci_low"] < 0.99
    assert other["ci_high"] == 1.0  # the centred interval would pass 1: clipped


def test_non_parallel_control_differs_where_it_must():
    # each sentence drives its own block of 4 neurons, with the same strength in both
    # languages (a translation); neuron sums over all sentences are then identical up to
    # noise on both sides (rho = 1), while halves H1 and H2 light up disjoint blocks
    n, block = 20, 4
    strength = np.linspace(1.0, 3.0, n)
    x = np.zeros((n, n * block))
    for s in range(n):
        x[s, s * block : (s + 1) * block] = strength[s] * np.arange(1, block + 1)
    rows = rank_correlations(
        {"t/de": x, "t/en": 1.5 * x}, [Comparison("parallel", "t/de", "t/en")], Bootstrap(n_resamples=40, seed=5)
    )
    parallel, control = rows
    assert parallel["rho"] == pytest.approx(1.0, abs=1e-12) and control["pairing"] == "non_parallel"
    # side A is 0 on H2's blocks, side B on H1's: the rankings are opposed
    assert control["rho"] < -0.5 and control["ci_high"] < 0
    assert control["n_sentences"] == 10


def test_unequal_sides_of_one_test_set_are_rejected():
    with pytest.raises(ValueError, match="t/de has 3 sentences but t/en has 4"):
        rank_correlations(
            {"t/de": np.ones((3, 2)), "t/en": np.ones((4, 2))},
            [Comparison("parallel", "t/de", "t/en")],
            Bootstrap(n_resamples=0),
        )


def test_sentence_sums_round_trip(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    stats = {
        s: sentence_statistics([(x, np.array([0, 0, 2, 2]))], 3, "> 0", "paper") for s in ("detector", "combinator")
    }
    save_sentence_sums(tmp_path / "layer01.npz", stats)
    sums = load_sentence_sums(tmp_path / "layer01.npz", "combinator")
    assert sums.dtype == np.float32 and sums.tolist() == [[3, 5, 7], [0, 0, 0], [15, 17, 19]]
    with np.load(tmp_path / "layer01.npz") as data:
        assert data["n_prefixes"].tolist() == [2, 0, 2]
    # rows 0..3 = [0 1 2], [3 4 5], [6 7 8], [9 10 11]: "> 0" fires on all but the first 0
    fires, n_prefixes = load_sentence_fires(tmp_path / "layer01.npz")
    assert fires.tolist() == [[1, 2, 2], [0, 0, 0], [2, 2, 2]] and n_prefixes.tolist() == [2, 0, 2]
    with pytest.raises(ValueError, match="no per-sentence sums for sublayer 'fc1'"):
        load_sentence_sums(tmp_path / "layer01.npz", "fc1")
