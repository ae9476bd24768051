import numpy as np
import pytest

from ffnscope.metrics import LayerStats, firing_rule, gelu, layer_statistics, row_flatness


def rows(*values):
    return np.array(values, dtype=np.float32)


# --- flatness, eq. (2)-(3) -------------------------------------------------------------------

def test_flatness_paper_hand_computed():
    # x = [0,1,2,3] -> S = [0, 1/3, 2/3, 1]
    # flatness = -(1/4) (0 + 1/3 log2 1/3 + 2/3 log2 2/3 + 1 log2 1) = 0.2295739585136224
    assert row_flatness(rows([0, 1, 2, 3]))[0] == pytest.approx(0.2295739585136224, rel=1e-12)


def test_flatness_is_invariant_to_shift_and_scale_in_paper_variant():
    # x = [-2, 0, 2] -> S = [0, 1/2, 1] -> -(1/3)(1/2 log2 1/2) = 1/6
    # and 10*x + 7 = [-13, 7, 27] gives the same S
    f = row_flatness(rows([-2, 0, 2], [-13, 7, 27]))
    assert f == pytest.approx([1 / 6, 1 / 6], rel=1e-12)


@pytest.mark.parametrize("variant", ["paper", "authors_code"])
@pytest.mark.parametrize("row", [[5, 5, 5, 5], [0, 0, 0], [-3.5], [0]])
def test_flatness_of_constant_row_is_zero(variant, row):
    # constant (incl. all-zero and m = 1) rows: S = 1 everywhere -> 1 log2 1 = 0
    assert row_flatness(rows(row), variant)[0] == 0.0


def test_flatness_is_per_row():
    f = row_flatness(rows([0, 1, 2, 3], [4, 4, 4, 4], [-2, 0, 0, 2]))
    # third row: S = [0, 1/2, 1/2, 1] -> -(1/4)(2 * 1/2 log2 1/2) = 1/4
    assert f == pytest.approx([0.2295739585136224, 0.0, 0.25], rel=1e-12)


def test_flatness_authors_code_with_negative_min():
    # x = [-2, 0, 2]: denominator max - 2 min = 2 + 4 = 6 -> S = [0, 2/6, 4/6]
    # -(1/3)(1/3 log2 1/3 + 2/3 log2 2/3) = 0.3060986113514965  (paper variant: 1/6)
    x = rows([-2, 0, 2])
    assert row_flatness(x, "authors_code")[0] == pytest.approx(0.3060986113514965, rel=1e-12)
    assert row_flatness(x, "paper")[0] == pytest.approx(1 / 6, rel=1e-12)


def test_flatness_authors_code_with_positive_min_can_be_negative():
    # x = [1, 3]: denominator 3 - 2 = 1 -> S = [0, 2] -> -(1/2)(2 log2 2) = -1
    assert row_flatness(rows([1, 3]), "authors_code")[0] == pytest.approx(-1.0, rel=1e-12)


def test_flatness_authors_code_zero_denominator_uses_constant_row_convention():
    # x = [1, 2]: max - 2 min = 0 -> S = 1 everywhere -> 0
    assert row_flatness(rows([1, 2]), "authors_code")[0] == 0.0


def test_flatness_unknown_variant():
    with pytest.raises(ValueError, match="unknown flatness variant 'nope'"):
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
    assert stats.n_prefixes == 4
    assert stats.frequency().tolist() == [1.0, 0.25, 0.0]
    # mean = 1.25/3; population std = sqrt(mean of squared deviations)
    assert stats.frequency_mean() == pytest.approx(1.25 / 3, rel=1e-12)
    m = 1.25 / 3
    std = np.sqrt(((1 - m) ** 2 + (0.25 - m) ** 2 + (0 - m) ** 2) / 3)  # = 0.4249182927993987
    assert stats.frequency_std() == pytest.approx(std, rel=1e-12)
    assert stats.frequency_std() == pytest.approx(0.4249182927993987, rel=1e-12)
    assert stats.frequency_std() != pytest.approx(np.std([1.0, 0.25, 0.0], ddof=1))
    assert stats.activation_sums.tolist() == [4.5, 0.0, -7.0]


def test_flatness_sum_and_mean_over_prefixes():
    # eq. (1): A = 0.2295739585136224 + 0 + 0.25
    stats = layer_statistics([rows([0, 1, 2, 3], [4, 4, 4, 4], [-2, 0, 0, 2])], "> 0", "paper")
    assert stats.flatness_sum() == pytest.approx(0.4795739585136224, rel=1e-12)
    assert stats.flatness_mean() == pytest.approx(0.4795739585136224 / 3, rel=1e-12)


def test_streaming_equals_one_chunk():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(103, 17)).astype(np.float32)
    x[rng.random(x.shape) < 0.3] = 0.0
    for method in ("paper", "authors_code"):
        whole = layer_statistics([x], "!= 0", method)
        parts = layer_statistics([x[:1], x[1:1], x[1:51], x[51:]], "!= 0", method)
        assert parts.n_prefixes == whole.n_prefixes == 103
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
    stats = LayerStats(firing_rule="> 0", method="paper")
    stats.update(rows([1, 2, 3]))
    with pytest.raises(ValueError, match="4 neurons, earlier chunks had 3"):
        stats.update(rows([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="2-D"):
        stats.update(np.zeros(3, np.float32))


def test_unknown_method_and_rule_fail_at_construction():
    with pytest.raises(ValueError, match="unknown method 'gelu'"):
        LayerStats(firing_rule="> 0", method="gelu")
    with pytest.raises(ValueError, match="invalid firing rule"):
        LayerStats(firing_rule="> zero", method="paper")


# --- authors_code method: GELU first -----------------------------------------------------------

def test_gelu_values():
    x = np.array([-10, -1, 0, 1, 2], dtype=np.float32)
    g = gelu(x)
    assert g.dtype == np.float32
    # x * Phi(x): Phi(1) = 0.8413447460685429, Phi(2) = 0.9772498680518208, Phi(-1) = 1 - Phi(1)
    np.testing.assert_allclose(g[1:], [-0.15865525393145707, 0.0, 0.8413447460685429, 1.9544997361036416], rtol=1e-6)
    # GELU(-10) = -10 * Phi(-10) = -7.619853e-23: tiny, but representable in float32 and != 0
    assert g[0] != 0 and g[0] == pytest.approx(-7.619853024160583e-23, rel=1e-6)
    assert gelu(x.astype(np.float16))[0] == 0  # float16 underflows to (-)0


def test_authors_code_applies_gelu_before_counting():
    x = rows([-10, 1], [2, -10])
    neq = layer_statistics([x], "!= 0", "authors_code")
    gt = layer_statistics([x], "> 0", "authors_code")
    # GELU(-10) is a tiny negative: "!= 0" counts it, "> 0" does not
    assert neq.frequency().tolist() == [1.0, 1.0]
    assert gt.frequency().tolist() == [0.5, 0.5]
    # activation sums are of GELU'd values: GELU(2) + GELU(-10), GELU(1) + GELU(-10)
    np.testing.assert_allclose(neq.activation_sums, [1.9544997361036416, 0.8413447460685429], rtol=1e-6)
    paper = layer_statistics([x], "> 0", "paper")
    assert paper.activation_sums.tolist() == [-8.0, -9.0]


def test_authors_code_flatness_uses_gelu_and_authors_variant():
    # GELU([-1, 0, 1, 2]) = [-0.158655, 0, 0.841345, 1.954500] (float32)
    # denominator max - 2 min = 1.954500 + 2 * 0.158655 = 2.271810
    # S = [0, 0.069836, 0.440178, 0.930164]; -(1/4) sum S log2 S = 0.2216035143489079
    stats = layer_statistics([rows([-1, 0, 1, 2])], "> 0", "authors_code")
    assert stats.flatness_sum() == pytest.approx(0.2216035143489079, rel=1e-9)
    # paper method on the raw values: S = [0, 1/3, 2/3, 1] -> 0.2295739585136224
    assert layer_statistics([rows([-1, 0, 1, 2])], "> 0", "paper").flatness_sum() == pytest.approx(
        0.2295739585136224, rel=1e-12)
