"""The models' FFN activation functions (ffnscope.activations) against transformers' own
modules, on every float16 value, and the known values of exact GELU."""

import numpy as np
import pytest
import torch
from transformers.activations import ACT2FN

from ffnscope.activations import (
    ACTIVATIONS,
    activate,
    activate_rows,
    check_activation,
    float16_table,
    zero_only_at_zero,
)

EVERY_FLOAT16 = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
FINITE = EVERY_FLOAT16[np.isfinite(EVERY_FLOAT16)]


def torch_module(name):
    """The module a model with this activation runs (BLOOM's is its own class)."""
    if name == "bloom_gelu":
        from transformers.models.bloom.modeling_bloom import BloomGelu

        return BloomGelu()
    return ACT2FN[name]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_float16_value_as_the_models_module_computes_it(name):
    """Above -5, where torch's float64 evaluation of 1 + erf / 1 + tanh loses little, the
    float32 results agree to float32 precision (BLOOM's constants are rounded to 8 digits);
    below, ours keeps the tiny value that torch's cancellation loses."""
    x = FINITE.astype(np.float64)
    ours = activate(x, name)
    with torch.no_grad():
        theirs = torch_module(name)(torch.from_numpy(x)).numpy()
    moderate = x > -5
    np.testing.assert_allclose(
        ours[moderate].astype(np.float32), theirs[moderate].astype(np.float32), rtol=3e-7, atol=1e-45
    )
    assert np.all(np.abs(ours[~moderate] - theirs[~moderate]) <= 1e-5 * np.abs(x[~moderate]))
    assert np.all(np.sign(ours[~moderate]) <= 0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float16_rows_take_the_table_with_the_same_numbers(name):
    table = float16_table(name)
    rows = EVERY_FLOAT16.reshape(256, 256)
    got = activate_rows(rows, name)
    assert got.dtype == np.float32 and table.dtype == np.float32
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(got, activate(rows.astype(np.float32), name))


def test_exact_gelu_values():
    x = np.array([-10, -1, 0, 1, 2], dtype=np.float32)
    g = activate(x, "gelu")
    assert g.dtype == np.float32
    # x * Phi(x): Phi(1) = 0.8413447460685429, Phi(2) = 0.9772498680518208, Phi(-1) = 1 - Phi(1)
    np.testing.assert_allclose(g[1:], [-0.15865525393145707, 0.0, 0.8413447460685429, 1.9544997361036416], rtol=1e-6)
    # GELU(-10) = -10 * Phi(-10) = -7.619853e-23: tiny, but representable in float32 and != 0
    assert g[0] != 0 and g[0] == pytest.approx(-7.619853024160583e-23, rel=1e-6)


def test_gated_models_activations_fire_exactly_where_the_gate_is_positive():
    """act(x) > 0 iff x > 0 for every activation of a gated FFN, on every float16 value: the
    firing of a gate does not depend on which of them the model uses."""
    for name in ("gelu", "gelu_pytorch_tanh", "silu"):
        np.testing.assert_array_equal(activate_rows(FINITE, name) > 0, FINITE > 0)


def test_only_relu_is_zero_on_a_whole_half_line():
    """ "!= 0" firing is not measurable for every other activation (ffnscope.neurons)."""
    assert [name for name in ACTIVATIONS if not zero_only_at_zero(name)] == ["relu"]


def test_unknown_activation_names_the_supported_ones():
    with pytest.raises(ValueError, match=r"unsupported FFN activation 'mish'; supported: gelu, gelu_new"):
        check_activation("mish")
