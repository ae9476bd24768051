import numpy as np
import pytest

from ffnscope.activations import activate
from ffnscope.bootstrap import Bootstrap, resample_indices
from ffnscope.metrics import (
    SentenceStats,
    firing_rule,
    row_flatness,
    sentence_statistics,
    shard_statistics,
)
from ffnscope.neurons import source
from ffnscope.shards import ShardSet
from tiny_xglm import XGLM_FFN

F32 = 1e-6  # flatness of float32 rows is computed in float32 (relative error ~1e-7)


def rows(*values):
    return np.array(values, dtype=np.float32)


def layer_statistics(chunks, rule, method):
    """Whole-shard statistics of XGLM-like detector rows (neuron values as the method takes
    them) with every row in sentence 0 (the per-sentence split does not change whole-shard
    values; see test_per_sentence_sums_equal_whole_shard_values)."""
    neurons = source("detector", method, "neuron", "plain", "gelu")
    return sentence_statistics(((c, np.zeros(len(c), int)) for c in chunks), 1, rule, method, neurons)


# --- flatness, eq. (2)-(3) -------------------------------------------------------------------


def test_flatness_paper_hand_computed():
    # x = [0,1,2,3] -> S = [0, 1/3, 2/3, 1]
    # flatness = -(1/4) (0 + 1/3 log2 1/3 + 2/3 log2 2/3 + 1 log2 1) = 0.2295739585136224
    assert row_flatness(rows([0, 1, 2, 3]))[0] == pytest.approx(0.2295739585136224, rel=F32)


def test_flatness_is_invariant_to_shift_and_scale_in_paper_variant():
    # x = [-2, 0, 2] -> S = [0, 1/2, 1] -> -(1/3)(1/2 log2 1/2) = 1/6
    # and 10*x + 7 = [-13, 7, 27] gives the same S
    f = row_flatness(rows([-2, 0, 2], [-13, 7, 27]))
    assert f == pytest.approx([1 / 6, 1 / 6], rel=F32)


@pytest.mark.parametrize("method", ["paper", "authors_code"])
@pytest.mark.parametrize("row", [[5, 5, 5, 5], [0, 0, 0], [-3.5], [0]])
def test_flatness_of_constant_row_is_zero(method, row):
    # constant (incl. all-zero and m = 1) rows: S = 1 everywhere -> 1 log2 1 = 0
    assert row_flatness(rows(row), method)[0] == 0.0


def test_flatness_is_per_row():
    f = row_flatness(rows([0, 1, 2, 3], [4, 4, 4, 4], [-2, 0, 0, 2]))
    # third row: S = [0, 1/2, 1/2, 1] -> -(1/4)(2 * 1/2 log2 1/2) = 1/4
    assert f == pytest.approx([0.2295739585136224, 0.0, 0.25], rel=F32)


def test_flatness_authors_code_with_negative_min():
    # x = [-2, 0, 2]: denominator max - 2 min = 2 + 4 = 6 -> S = [0, 2/6, 4/6]
    # -(1/3)(1/3 log2 1/3 + 2/3 log2 2/3) = 0.3060986113514965  (paper variant: 1/6)
    x = rows([-2, 0, 2])
    assert row_flatness(x, "authors_code")[0] == pytest.approx(0.3060986113514965, rel=F32)
    assert row_flatness(x, "paper")[0] == pytest.approx(1 / 6, rel=F32)


def test_flatness_authors_code_with_positive_min_can_be_negative():
    # x = [1, 3]: denominator 3 - 2 = 1 -> S = [0, 2] -> -(1/2)(2 log2 2) = -1
    assert row_flatness(rows([1, 3]), "authors_code")[0] == pytest.approx(-1.0, rel=F32)


def test_flatness_authors_code_zero_denominator_uses_constant_row_convention():
    # x = [1, 2]: max - 2 min = 0 -> S = 1 everywhere -> 0
    assert row_flatness(rows([1, 2]), "authors_code")[0] == 0.0


def test_flatness_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'nope'; valid: paper, authors_code"):
        row_flatness(rows([0, 1]), "nope")


# --- firing rules ----------------------------------------------------------------------------


def test_firing_rules():
    x = rows([-1.0, -1e-4, 0.0, 1e-4, 2e-3])
    assert firing_rule("> 0")(x).tolist() == [[False, False, False, True, True]]
    assert firing_rule("!= 0")(x).tolist() == [[True, True, False, True, True]]
    assert firing_rule("|x| > 1e-3")(x).tolist() == [[True, False, False, False, True]]
    assert firing_rule("|x| > 0.5")(x).tolist() == [[True, False, False, False, False]]
    assert firing_rule(" >0 ")(x).tolist() == firing_rule("> 0")(x).tolist()


@pytest.mark.parametrize("spec", [">= 0", "x > 0", "|x| > -1", "|x| > abc", "|x| > inf", "", "< 0"])
def test_invalid_firing_rule_names_spec_and_valid_forms(spec):
    with pytest.raises(ValueError) as err:
        firing_rule(spec)
    message = str(err.value)
    assert repr(spec) in message
    assert '"> 0"' in message and '"!= 0"' in message and "|x| > EPS" in message


# --- activation frequency ---------------------------------------------------------------------


def test_activation_frequency_hand_computed():
    # 4 prefixes x 3 neurons; "> 0" fires: neuron 0: 4/4, neuron 1: 1/4, neuron 2: 0/4
    x = rows([1, 0, -1], [2, 3, -1], [0.5, -2, 0], [1, -1, -5])
    stats = layer_statistics([x], "> 0", "paper")
    assert stats.total_prefixes() == 4
    assert stats.frequency().tolist() == [1.0, 0.25, 0.0]
    # mean = 1.25/3; population std = sqrt(mean of squared deviations)
    assert stats.frequency_mean() == pytest.approx(1.25 / 3, rel=1e-12)
    m = 1.25 / 3
    std = np.sqrt(((1 - m) ** 2 + (0.25 - m) ** 2 + (0 - m) ** 2) / 3)  # = 0.4249182927993987
    assert stats.frequency_std() == pytest.approx(std, rel=1e-12)
    assert stats.frequency_std() == pytest.approx(0.4249182927993987, rel=1e-12)
    assert stats.frequency_std() != pytest.approx(np.std([1.0, 0.25, 0.0], ddof=1))
    assert stats.activation_sums.tolist() == [[4.5, 0.0, -7.0]]


def test_flatness_sum_and_mean_over_prefixes():
    # eq. (1): A = 0.2295739585136224 + 0 + 0.25
    stats = layer_statistics([rows([0, 1, 2, 3], [4, 4, 4, 4], [-2, 0, 0, 2])], "> 0", "paper")
    assert stats.flatness_sum() == pytest.approx(0.4795739585136224, rel=F32)
    assert stats.flatness_mean() == pytest.approx(0.4795739585136224 / 3, rel=F32)


def test_streaming_equals_one_chunk():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(103, 17)).astype(np.float32)
    x[rng.random(x.shape) < 0.3] = 0.0
    for method in ("paper", "authors_code"):
        whole = layer_statistics([x], "!= 0", method)
        parts = layer_statistics([x[:1], x[1:1], x[1:51], x[51:]], "!= 0", method)
        assert parts.total_prefixes() == whole.total_prefixes() == 103
        assert np.array_equal(parts.fires, whole.fires)
        assert np.array_equal(parts.frequency(), whole.frequency())
        assert parts.frequency_std() == whole.frequency_std()
        # float sums differ only by summation order
        assert parts.flatness_sum() == pytest.approx(whole.flatness_sum(), rel=1e-12)
        np.testing.assert_allclose(parts.activation_sums, whole.activation_sums, rtol=1e-12, atol=1e-12)


def test_empty_input_raises_on_results():
    stats = layer_statistics([np.zeros((0, 5), np.float32)], "> 0", "paper")
    for result in (stats.frequency, stats.frequency_mean, stats.frequency_std, stats.flatness_sum, stats.flatness_mean):
        with pytest.raises(ValueError, match="no rows"):
            result()
    with pytest.raises(ValueError, match="no rows"):
        layer_statistics([], "> 0", "paper").flatness_mean()


def test_chunk_shape_checks():
    stats = SentenceStats(firing_rule="> 0", method="paper", n_sentences=3)
    stats.update(rows([1, 2, 3]), [0])
    with pytest.raises(ValueError, match="4 neurons, earlier chunks had 3"):
        stats.update(rows([1, 2, 3, 4]), [1])
    with pytest.raises(ValueError, match="2-D"):
        stats.update(np.zeros(3, np.float32), [0, 0, 0])
    with pytest.raises(ValueError, match="sentence_index has shape"):
        stats.update(rows([1, 2, 3]), [0, 1])
    with pytest.raises(ValueError, match=r"outside 0..2: 1..3"):
        stats.update(rows([1, 2, 3], [1, 2, 3]), [1, 3])
    with pytest.raises(ValueError, match="not contiguous"):
        stats.update(rows([1, 2, 3], [1, 2, 3], [1, 2, 3]), [1, 2, 1])


def test_unknown_method_and_rule_fail_at_construction():
    with pytest.raises(ValueError, match="unknown method 'gelu'"):
        SentenceStats(firing_rule="> 0", method="gelu", n_sentences=1)
    with pytest.raises(ValueError, match="invalid firing rule"):
        SentenceStats(firing_rule="> zero", method="paper", n_sentences=1)


# --- authors_code method: GELU first -----------------------------------------------------------


def test_authors_code_applies_gelu_before_counting():
    x = rows([-10, 1], [2, -10])
    neq = layer_statistics([x], "!= 0", "authors_code")
    gt = layer_statistics([x], "> 0", "authors_code")
    # GELU(-10) is a tiny negative: "!= 0" counts it, "> 0" does not
    assert neq.frequency().tolist() == [1.0, 1.0]
    assert gt.frequency().tolist() == [0.5, 0.5]
    # activation sums are of GELU'd values: GELU(2) + GELU(-10), GELU(1) + GELU(-10)
    np.testing.assert_allclose(neq.activation_sums, [[1.9544997361036416, 0.8413447460685429]], rtol=1e-6)
    paper = layer_statistics([x], "> 0", "paper")
    assert paper.activation_sums.tolist() == [[-8.0, -9.0]]


def test_authors_code_flatness_uses_gelu_and_authors_variant():
    # GELU([-1, 0, 1, 2]) = [-0.158655, 0, 0.841345, 1.954500] (float32)
    # denominator max - 2 min = 1.954500 + 2 * 0.158655 = 2.271810
    # S = [0, 0.069836, 0.440178, 0.930164]; -(1/4) sum S log2 S = 0.2216035143489079
    stats = layer_statistics([rows([-1, 0, 1, 2])], "> 0", "authors_code")
    assert stats.flatness_sum() == pytest.approx(0.2216035143489079, rel=F32)
    # paper method on the raw values: S = [0, 1/3, 2/3, 1] -> 0.2295739585136224
    assert layer_statistics([rows([-1, 0, 1, 2])], "> 0", "paper").flatness_sum() == pytest.approx(
        0.2295739585136224, rel=F32
    )


# --- per-sentence accumulation ----------------------------------------------------------------


def test_per_sentence_values_hand_computed():
    # 5 prefixes of 4 sentences; sentence 2 has no prefix (e.g. a one-word sentence under the
    # authors' prefix variant) and keeps zeros
    x = rows(
        [1, 0, -1],
        [2, 3, -1],  # sentence 0
        [0, 1, 2, 3][:3],  # sentence 1: [0, 1, 2]
        [4, 4, 4],
        [-2, 0, 2],
    )  # sentence 3
    stats = sentence_statistics([(x, np.array([0, 0, 1, 3, 3]))], 4, "> 0", "paper")
    assert stats.fires.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 0], [1, 1, 2]]
    assert stats.activation_sums.tolist() == [[3, 3, -2], [0, 1, 2], [0, 0, 0], [2, 4, 6]]
    assert stats.n_prefixes.tolist() == [2, 1, 0, 2]
    # flatness: [1,0,-1] -> S=[1,1/2,0] -> -(1/3)(1/2 log2 1/2) = 1/6;
    # [2,3,-1] -> S=[3/4,1,0] -> -(1/3)(3/4 log2 3/4) = 0.10375937481971094;
    # [0,1,2] -> 1/6; [4,4,4] -> 0; [-2,0,2] -> 1/6
    np.testing.assert_allclose(stats.flatness, [1 / 6 + 0.10375937481971094, 1 / 6, 0, 1 / 6], rtol=F32)
    # whole shard: neuron firings 3/5, 3/5, 3/5
    assert stats.frequency().tolist() == [0.6, 0.6, 0.6] and stats.frequency_std() == 0
    assert stats.flatness_sum() == pytest.approx(0.5 + 0.10375937481971094, rel=F32)
    assert stats.flatness_mean() == pytest.approx((0.5 + 0.10375937481971094) / 5, rel=F32)


def grouped_rows(seed=0, n_sentences=9, neurons=13):
    """Random rows of sentences with 0-6 prefixes each, rows grouped by sentence."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 7, size=n_sentences)
    index = np.repeat(np.arange(n_sentences), lengths)
    x = rng.normal(size=(len(index), neurons)).astype(np.float32)
    x[rng.random(x.shape) < 0.3] = 0.0
    return x, index


@pytest.mark.parametrize("method", ["paper", "authors_code"])
def test_per_sentence_sums_equal_whole_shard_values(method):
    x, index = grouped_rows()
    cuts = [0, 1, 5, 6, 17, 30, len(x)]  # chunk boundaries inside sentences
    neurons = source("detector", method, "neuron", "plain", "gelu")
    blocks = [(x[a:b], index[a:b]) for a, b in zip(cuts, cuts[1:])]
    stats = sentence_statistics(blocks, 9, "!= 0", method, neurons)
    y = activate(x, "gelu") if method == "authors_code" else x
    # whole-shard values computed directly from all rows
    assert stats.total_prefixes() == len(x)
    assert np.array_equal(stats.frequency(), (y != 0).mean(axis=0))
    assert stats.flatness_sum() == pytest.approx(row_flatness(y, method).sum(), rel=1e-12)
    np.testing.assert_allclose(stats.activation_sums.sum(axis=0), y.sum(axis=0, dtype=np.float64), rtol=1e-12)
    # and per sentence, directly from that sentence's rows
    for s in range(9):
        mine = y[index == s]
        assert stats.fires[s].tolist() == (mine != 0).sum(axis=0).tolist()
        np.testing.assert_allclose(stats.activation_sums[s], mine.sum(axis=0, dtype=np.float64), rtol=1e-12, atol=1e-12)
        assert stats.flatness[s] == pytest.approx(row_flatness(mine, method).sum(), rel=1e-12, abs=1e-15)


def test_confidence_intervals_equal_brute_force_and_cover_the_estimate():
    x, index = grouped_rows(seed=4)
    stats = sentence_statistics([(x, index)], 9, "> 0", "paper")
    boot = Bootstrap(n_resamples=300, seed=7)
    draws = resample_indices(9, 300, seed=7, stream="wmt14-de-en")
    fired = (x > 0).sum(axis=1)
    freq, flat, flat_mean = [], [], []
    for draw in draws:
        rows_drawn = np.concatenate([np.flatnonzero(index == s) for s in draw])
        freq.append(fired[rows_drawn].sum() / (13 * len(rows_drawn)))
        flat.append(row_flatness(x[rows_drawn]).sum())
        flat_mean.append(flat[-1] / len(rows_drawn))
    for ci, reps, point in [
        (stats.frequency_mean_ci(boot, "wmt14-de-en"), freq, stats.frequency_mean()),
        (stats.flatness_ci(boot, "wmt14-de-en"), flat, stats.flatness_sum()),
        (stats.flatness_mean_ci(boot, "wmt14-de-en"), flat_mean, stats.flatness_mean()),
    ]:
        assert ci == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])), rel=1e-9)
        assert ci[0] < point < ci[1]


def test_shard_statistics_reads_the_method_source(tmp_path):
    # 3 sentences, 5 prefixes; authors_code detectors are GELU(detector_pre), not detector
    detector = rows([0, 1], [2, 0], [1, 1], [0, 0], [3, 1])
    pre = rows([-1, 2], [0.5, -3], [1, -1], [-2, -2], [2, 0])
    combinator = rows([1, -1, 0], [0, 2, -2], [1, 1, 1], [-1, 0, 1], [2, 2, -3])
    index = np.array([0, 0, 1, 2, 2])
    path = tmp_path / "layer03.h5"
    with ShardSet({3: path}, 5, "float32", "none", {3: {"n_sentences": 3, "layer": 3, **XGLM_FFN}}) as shard:
        shard.write(0, {3: {"detector": detector, "combinator": combinator, "detector_pre": pre}}, index, np.arange(5))
    for chunk_rows in (2, 4096):  # chunks of 2 rows split sentence 2 across chunks
        paper = shard_statistics(path, "detector", "paper", "> 0", chunk_rows)
        assert paper.n_sentences == 3 and paper.n_prefixes.tolist() == [2, 1, 2]
        assert paper.activation_sums.tolist() == [[2, 1], [1, 1], [3, 1]]
        authors = shard_statistics(path, "detector", "authors_code", "> 0", chunk_rows)
        np.testing.assert_allclose(
            authors.activation_sums,
            [activate(pre[:2], "gelu").sum(0), activate(pre[2], "gelu"), activate(pre[3:], "gelu").sum(0)],
            rtol=1e-6,
        )
        # GELU > 0 exactly where pre > 0: neuron 0 fires in 3 of 5 prefixes, neuron 1 in 1
        assert authors.frequency().tolist() == [0.6, 0.2]
        comb = shard_statistics(path, "combinator", "authors_code", "> 0", chunk_rows)
        np.testing.assert_allclose(comb.activation_sums.sum(0), activate(combinator, "gelu").sum(0), rtol=1e-6)


def test_missing_pre_activation_dataset_is_a_clear_error(tmp_path):
    path = tmp_path / "layer00.h5"
    with ShardSet({0: path}, 1, "float32", "none", {0: {"n_sentences": 1, **XGLM_FFN}}) as shard:
        shard.write(0, {0: {"detector": rows([1, 2]), "combinator": rows([3])}}, np.array([0]), np.array([0]))
    assert shard_statistics(path, "detector", "paper", "> 0").total_prefixes() == 1
    with pytest.raises(ValueError, match=r"layer00.h5: no dataset 'detector_pre', which method 'authors_code'"):
        shard_statistics(path, "detector", "authors_code", "> 0")
