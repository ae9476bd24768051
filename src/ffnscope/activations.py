"""The FFN activation functions of the supported models, by their transformers names
(`ACT2FN` keys, read from the model's config by `adapters.FFNAdapter.activation_of`), where
the analysis applies a model's activation to stored pre-activations: the gate's firing of a
gated FFN and the authors' "activation at analysis" (ffnscope.neurons).

Each is evaluated in float64 in a form without cancellation (GELU as x/2 * erfc(-x/sqrt 2),
the tanh approximation as x * sigmoid(2u), since 1 + tanh(u) = 2 sigmoid(2u)), so a strongly
negative input gives its tiny non-zero value instead of 0, and is rounded once to float32.
tests/test_activations.py holds every one to transformers' own modules. Stored float16 rows
are activated by looking their bit patterns up in a table of all 65,536 float16 values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from scipy.special import erfc, expit

_TANH_SCALE = np.sqrt(2 / np.pi)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * erfc(x * (-1 / np.sqrt(2.0)))


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return x * expit(2 * _TANH_SCALE * (x + 0.044715 * x**3))


def _silu(x: np.ndarray) -> np.ndarray:
    return x * expit(x)


def _quick_gelu(x: np.ndarray) -> np.ndarray:
    return x * expit(1.702 * x)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


# transformers' names of one function share its implementation; bloom_gelu is BLOOM's
# hard-wired tanh approximation (its config names no activation).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "gelu": _gelu,
    "gelu_new": _gelu_tanh,
    "gelu_fast": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "gelu_python_tanh": _gelu_tanh,
    "bloom_gelu": _gelu_tanh,
    "silu": _silu,
    "swish": _silu,
    "quick_gelu": _quick_gelu,
    "relu": _relu,
}


def check_activation(name: str) -> str:
    """`name` when it is a supported activation, else one error naming the supported ones."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unsupported FFN activation {name!r}; supported: {', '.join(ACTIVATIONS)}")
    return name


def activate(x: np.ndarray, name: str) -> np.ndarray:
    """The activation `name` of `x`, evaluated in float64, in x's dtype (at least float32)."""
    function = ACTIVATIONS[check_activation(name)]
    x = np.asarray(x)
    with np.errstate(over="ignore", invalid="ignore"):
        y = function(x.astype(np.float64))
    return y.astype(np.result_type(x.dtype, np.float32), copy=False)


def zero_only_at_zero(name: str) -> bool:
    """Whether the activation is non-zero for every non-zero input (GELU, SiLU, ...; not ReLU):
    a "!= 0" firing rule then fires on every prefix but for float underflow."""
    return bool(activate(np.array([-1.0, 1.0]), name).all())


@functools.cache
def float16_table(name: str) -> np.ndarray:
    """The activation of all 65,536 float16 bit patterns, as float32 (NaN where undefined)."""
    return activate(np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32), name)


def activate_rows(chunk: np.ndarray, name: str) -> np.ndarray:
    """`activate` of stored rows, at least float32: float16 rows (the shards' default) by
    table lookup, the same numbers ~20x faster."""
    chunk = np.asarray(chunk)
    if chunk.dtype == np.float16:
        return float16_table(name)[chunk.view(np.uint16)]
    return activate(chunk, name)
