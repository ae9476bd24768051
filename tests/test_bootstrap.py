import numpy as np
import pytest

from ffnscope.bootstrap import Bootstrap, bootstrap_ci, percentile_interval, resample_counts, resample_indices


def test_counts_are_the_drawn_indices():
    idx = resample_indices(7, 50, seed=3, stream="wmt14-de-en")
    counts = resample_counts(7, 50, seed=3, stream="wmt14-de-en")
    assert idx.shape == counts.shape == (50, 7)
    for row, c in zip(idx, counts):
        assert c.tolist() == np.bincount(row, minlength=7).tolist()
    assert (counts.sum(axis=1) == 7).all()


def test_streams_are_reproducible_and_distinct():
    a = resample_indices(20, 5, seed=1, stream="wmt14-cs-en")
    assert np.array_equal(a, resample_indices(20, 5, seed=1, stream="wmt14-cs-en"))
    assert not np.array_equal(a, resample_indices(20, 5, seed=1, stream="wmt14-hi-en"))
    assert not np.array_equal(a, resample_indices(20, 5, seed=2, stream="wmt14-cs-en"))


def test_percentile_interval_hand_computed():
    # replicates 0..100: the 5th and 95th percentiles of a 90 % interval are 5 and 95
    assert percentile_interval(np.arange(101.0), 0.90) == pytest.approx((5.0, 95.0), rel=1e-12)
    # 1..4, 50 %: 25th percentile at position 0.75 -> 1.75; 75th at 2.25 -> 3.25
    assert percentile_interval(np.array([4.0, 1.0, 3.0, 2.0]), 0.5) == (1.75, 3.25)
    assert np.isnan(percentile_interval(np.array([1.0, np.nan]), 0.95)).all()
    # centred: median 3 moved to 5 -> [3, 4, 5, 6, 12]; 25th and 75th percentiles 4 and 6
    assert percentile_interval(np.array([1.0, 2, 3, 4, 10]), 0.5, center=5.0) == (4.0, 6.0)
    assert np.isnan(percentile_interval(np.empty(0), 0.95)).all()


def ratio(f, p):
    return f / p


def test_ratio_ci_equals_brute_force_loop():
    rng = np.random.default_rng(0)
    fires = rng.integers(0, 30, size=12).astype(float)
    prefixes = fires + rng.integers(1, 10, size=12)
    boot = Bootstrap(n_resamples=200, seed=11, confidence=0.9)
    low, high = bootstrap_ci(ratio, [fires, prefixes], boot, stream="t")
    # the same draws, one resample at a time
    reps = [fires[i].sum() / prefixes[i].sum() for i in resample_indices(12, 200, seed=11, stream="t")]
    expected = np.percentile(reps, [5, 95])
    assert (low, high) == pytest.approx(tuple(expected), rel=1e-12)
    point = fires.sum() / prefixes.sum()
    assert low < point < high


def test_vector_statistic_equals_brute_force_loop():
    # per-sentence [n, k] arrays: statistic = mean over k columns of the resampled totals
    x = np.arange(15, dtype=float).reshape(5, 3) ** 1.5
    boot = Bootstrap(n_resamples=64, seed=2)
    low, high = bootstrap_ci(lambda t: t.mean(axis=1), [x], boot, stream="s")
    reps = [x[i].sum(axis=0).mean() for i in resample_indices(5, 64, seed=2, stream="s")]
    assert (low, high) == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])), rel=1e-12)
    assert low <= x.sum(axis=0).mean() <= high


def test_single_sentence_gives_a_degenerate_interval():
    # every resample draws the one sentence: CI = point estimate
    assert bootstrap_ci(ratio, [np.array([3.0]), np.array([4.0])], Bootstrap(n_resamples=10)) == (0.75, 0.75)


def test_zero_resamples_disable_the_interval():
    low, high = bootstrap_ci(ratio, [np.ones(4), np.ones(4)], Bootstrap(n_resamples=0))
    assert np.isnan(low) and np.isnan(high)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="n_resamples must be >= 0"):
        Bootstrap(n_resamples=-1)
    with pytest.raises(ValueError, match="confidence must lie strictly between 0 and 1"):
        Bootstrap(confidence=1.0)
    with pytest.raises(ValueError, match="differ in length"):
        bootstrap_ci(ratio, [np.ones(3), np.ones(4)], Bootstrap(n_resamples=5))
