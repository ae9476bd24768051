"""Single-shard statistics of paper §4.1-4.2: activation frequency and activation flatness.

Axis convention, throughout: a chunk is a 2-D array [rows, neurons]; one row is one prefix's
activation vector of the m neurons of a sublayer (detector or combinator) of one layer.
Shards are streamed chunk by chunk, so memory is bounded by the chunk size, and the result
does not depend on how the rows are split into chunks.

Methods (config `metrics.method`):
  paper         values used as stored; flatness with eq. (3) as printed
  authors_code  GELU applied to every chunk first (the authors GELU both detectors and
                combinators at analysis time); flatness with their denominator and log offset
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
from scipy.special import erfc

METHODS = ("paper", "authors_code")
FLATNESS_VARIANTS = ("paper", "authors_code")
FIRING_RULE_FORMS = ('"> 0"', '"!= 0"', '"|x| > EPS" (EPS a non-negative float, e.g. "|x| > 1e-3")')

_EPS_RULE = re.compile(r"\|x\|\s*>\s*(\+?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


def firing_rule(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    """The elementwise test for "this neuron fired": the paper says "non-zero", which is
    ambiguous for GELU outputs (tiny negatives), so the rule is always explicit."""
    text = spec.strip()
    if re.fullmatch(r">\s*0", text):
        return lambda x: x > 0
    if re.fullmatch(r"!=\s*0", text):
        return lambda x: x != 0
    match = _EPS_RULE.fullmatch(text)
    if match and np.isfinite(eps := float(match.group(1))):
        return lambda x: np.abs(x) > eps
    raise ValueError(f"invalid firing rule {spec!r}; valid forms: {', '.join(FIRING_RULE_FORMS)}")


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x * Phi(x) = x/2 * (1 + erf(x/sqrt 2)), in the dtype of `x`.

    Evaluated in float64 as x/2 * erfc(-x/sqrt 2), the same function without the cancellation
    of 1 + erf for negative x, so strongly negative inputs give tiny non-zero outputs (GELU(-10)
    = -7.6e-23) instead of 0; the final rounding to the input dtype then decides what becomes 0.
    """
    x64 = np.asarray(x, dtype=np.float64)
    return (0.5 * x64 * erfc(-x64 / np.sqrt(2.0))).astype(np.asarray(x).dtype, copy=False)


def analysis_source(sublayer: str, method: str) -> str:
    """The shard dataset a method analyses for a sublayer: the authors hooked fc1's OUTPUT, so
    their detectors are pre-activation values (`detector_pre`) that they GELU at analysis
    time; everything else reads the sublayer's own dataset."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    return "detector_pre" if (method, sublayer) == ("authors_code", "detector") else sublayer


def prepare_chunk(chunk: np.ndarray, method: str) -> np.ndarray:
    """Rows as a method analyses them: as stored for `paper`, GELU'd for `authors_code`."""
    chunk = np.asarray(chunk)
    return gelu(chunk) if method == "authors_code" else chunk


def row_flatness(x: np.ndarray, variant: str = "paper") -> np.ndarray:
    """Flatness of every row, eq. (2)-(3): -(1/m) sum_j S_j log2 S_j, computed in float64.

    variant "paper": S = (x - min) / (max - min) with row min/max, and 0 log 0 = 0.
    variant "authors_code": as the authors' scripts, S = (x - min) / (max - 2 min) and the
    summand S log2(S + 1e-32). That S is not confined to [0, 1]: with min > 0 it can exceed 1
    (negative summands), and with max < 2 min the denominator is negative, S < 0 and the row
    is NaN, as in their code.

    A row whose denominator is 0 (for "paper" a constant row, all-zero rows and m = 1
    included; for "authors_code" any row with max = 2 min) gets S = 1 for every neuron, so its
    flatness is 0: every neuron sits at the row's maximum, nothing is peaked and nothing is
    spread over a range, so there is no entropy to count.
    """
    if variant not in FLATNESS_VARIANTS:
        raise ValueError(f"unknown flatness variant {variant!r}; valid: {', '.join(FLATNESS_VARIANTS)}")
    x = np.asarray(x, dtype=np.float64)
    lo = x.min(axis=1, keepdims=True)
    hi = x.max(axis=1, keepdims=True)
    denominator = hi - lo if variant == "paper" else hi - 2 * lo
    degenerate = denominator == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(degenerate, 1.0, (x - lo) / np.where(degenerate, 1.0, denominator))
        if variant == "paper":
            summand = np.where(s > 0, s * np.log2(np.where(s > 0, s, 1.0)), 0.0)
        else:
            summand = s * np.log2(s + 1e-32)
    return -summand.mean(axis=1)


@dataclass
class LayerStats:
    """Streaming accumulator of one sublayer of one layer over all prefixes of a shard.

    Keeps per-neuron firing counts and activation sums (float64; the sums feed the rank
    correlation analyses), the row count, and A = sum_i flatness(X_i) (eq. 1).
    """

    firing_rule: str
    method: str
    fires: np.ndarray | None = field(default=None, init=False, repr=False)
    activation_sums: np.ndarray | None = field(default=None, init=False, repr=False)
    n_prefixes: int = field(default=0, init=False)
    _flatness_sum: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; valid: {', '.join(METHODS)}")
        self._fired = firing_rule(self.firing_rule)

    def update(self, chunk: np.ndarray) -> None:
        """Add the rows of one [rows, neurons] chunk."""
        chunk = np.asarray(chunk)
        if chunk.ndim != 2:
            raise ValueError(f"expected a 2-D [rows, neurons] chunk, got shape {chunk.shape}")
        if self.fires is None:
            self.fires = np.zeros(chunk.shape[1], dtype=np.int64)
            self.activation_sums = np.zeros(chunk.shape[1], dtype=np.float64)
        elif chunk.shape[1] != self.fires.size:
            raise ValueError(f"chunk has {chunk.shape[1]} neurons, earlier chunks had {self.fires.size}")
        if chunk.shape[0] == 0:
            return
        chunk = prepare_chunk(chunk, self.method)
        self.fires += self._fired(chunk).sum(axis=0)
        self.activation_sums += chunk.sum(axis=0, dtype=np.float64)
        self._flatness_sum += float(row_flatness(chunk, self.method).sum())
        self.n_prefixes += chunk.shape[0]

    def _require_rows(self) -> None:
        if self.n_prefixes == 0:
            raise ValueError("no rows were accumulated (empty shard?): statistics are undefined")

    def frequency(self) -> np.ndarray:
        """Per-neuron activation frequency: prefixes in which the neuron fired / prefixes."""
        self._require_rows()
        return self.fires / self.n_prefixes

    def frequency_mean(self) -> float:
        return float(self.frequency().mean())

    def frequency_std(self) -> float:
        """Population standard deviation (ddof=0) over the neurons of the layer."""
        return float(self.frequency().std(ddof=0))

    def flatness_sum(self) -> float:
        """Activation flatness A of eq. (1): the sum over prefixes of flatness(X_i)."""
        self._require_rows()
        return self._flatness_sum

    def flatness_mean(self) -> float:
        """A / number of prefixes: comparable across test sets of different sizes."""
        return self.flatness_sum() / self.n_prefixes


def layer_statistics(chunks: Iterable[np.ndarray], firing_rule: str, method: str) -> LayerStats:
    """Stream `chunks` ([rows, neurons] each) into one LayerStats."""
    stats = LayerStats(firing_rule=firing_rule, method=method)
    for chunk in chunks:
        stats.update(chunk)
    return stats
