"""Single-shard statistics of paper §4.1-4.2: activation frequency and activation flatness,
accumulated per sentence (for bootstrap intervals over sentences and for rank correlation).

Axis convention, throughout: a chunk is a 2-D array [rows, neurons]; one row is one prefix's
activation vector of the m neurons of a sublayer (detector or combinator) of one layer.
Shards are streamed chunk by chunk, so memory is bounded by the chunk size plus the
per-sentence arrays [n_sentences, neurons], and the result does not depend on how the rows
are split into chunks.

The rows are the neuron values of ffnscope.neurons (`Source.rows`): W2's input, or for a
gated FFN the gate's activation, or what the authors' method activates with the model's
activation function. Flatness: eq. (3) as printed for method `paper`, the authors'
denominator and log offset for `authors_code`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import methods
from .bootstrap import Bootstrap, bootstrap_ci
from .neurons import Source, shard_source
from .shards import at_least_float32, iter_chunks, open_shard, read_attrs, read_dataset

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


def row_flatness(x: np.ndarray, method: str = "paper") -> np.ndarray:
    """Flatness of every row, eq. (2)-(3): -(1/m) sum_j S_j log2 S_j, as float64.

    Computed in the input's precision, at least float32: shards hold float16, so float32's
    relative error (~1e-7) is far below the data's, and float32 halves the memory traffic
    of this, the most expensive step of a statistics job.

    method "paper": S = (x - min) / (max - min) with row min/max, and 0 log 0 = 0.
    method "authors_code": as the authors' scripts, S = (x - min) / (max - 2 min) and the
    summand S log2(S + 1e-32). That S is not confined to [0, 1]: with min > 0 it can exceed 1
    (negative summands), and with max < 2 min the denominator is negative, S < 0 and the row
    is NaN, as in their code.

    A row whose denominator is 0 (for "paper" a constant row, all-zero rows and m = 1
    included; for "authors_code" any row with max = 2 min) gets S = 1 for every neuron, so its
    flatness is 0: every neuron sits at the row's maximum, nothing is peaked and nothing is
    spread over a range, so there is no entropy to count.
    """
    methods.method(method)  # an unknown method is an error naming the valid ones
    paper = method == "paper"
    x = at_least_float32(x)
    lo = x.min(axis=1, keepdims=True)
    hi = x.max(axis=1, keepdims=True)
    denominator = hi - lo if paper else hi - 2 * lo
    degenerate = denominator == 0
    s = x - lo
    s /= np.where(degenerate, 1, denominator)
    s[degenerate[:, 0]] = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        if paper:
            log = np.log2(s, out=np.zeros_like(s), where=s > 0)
        else:
            log = np.log2(s + x.dtype.type(1e-32))
    log *= s
    return -log.mean(axis=1, dtype=np.float64)


def segment_sums(x: np.ndarray, starts: np.ndarray, dtype) -> np.ndarray:
    """Sums of the row segments x[starts[k]:starts[k+1]] as [segments, columns] of `dtype`:
    one contiguous reduction per segment, many times faster than np.add.reduceat along axis 0
    (which casts element by element)."""
    ends = np.append(starts[1:], x.shape[0])
    out = np.empty((len(starts), x.shape[1]), dtype=dtype)
    for k, (start, end) in enumerate(zip(starts, ends)):
        x[start:end].sum(axis=0, dtype=dtype, out=out[k])
    return out


@dataclass
class SentenceStats:
    """Streaming accumulator of one sublayer of one layer over all prefixes of a shard,
    kept PER SENTENCE so that confidence intervals can resample sentences.

    Arrays (sentences on axis 0, indexed by the shard's sentence_index):
      fires           [n_sentences, neurons] int32    prefixes of the sentence where the neuron fired
      activation_sums [n_sentences, neurons] float64  sum of the neuron's values over those prefixes
      flatness        [n_sentences] float64           sum of flatness(X_i) over those prefixes (eq. 1)
      n_prefixes      [n_sentences] int64
    A sentence without prefixes keeps zeros everywhere. Whole-shard values are sums over
    sentences, so they do not depend on how the rows are split into chunks. Stored rows are
    turned into the neuron values of `source` (ffnscope.neurons); without one they are used
    as given.
    """

    firing_rule: str
    method: str
    n_sentences: int
    source: Source | None = None
    fires: np.ndarray | None = field(default=None, init=False, repr=False)
    activation_sums: np.ndarray | None = field(default=None, init=False, repr=False)
    flatness: np.ndarray = field(init=False, repr=False)
    n_prefixes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        methods.method(self.method)  # an unknown method is an error naming the valid ones
        self._fired = firing_rule(self.firing_rule)
        self.flatness = np.zeros(self.n_sentences, dtype=np.float64)
        self.n_prefixes = np.zeros(self.n_sentences, dtype=np.int64)

    def update(self, chunk: np.ndarray, sentence_index: np.ndarray) -> None:
        """Add the rows of one [rows, neurons] chunk; sentence_index [rows] names each row's
        sentence, and the rows of one sentence are contiguous (the shard contract)."""
        chunk, sentence_index = np.asarray(chunk), np.asarray(sentence_index)
        if chunk.ndim != 2:
            raise ValueError(f"expected a 2-D [rows, neurons] chunk, got shape {chunk.shape}")
        if sentence_index.shape != chunk.shape[:1]:
            raise ValueError(f"sentence_index has shape {sentence_index.shape}, the chunk {chunk.shape[0]} rows")
        if self.fires is None:
            self.fires = np.zeros((self.n_sentences, chunk.shape[1]), dtype=np.int32)
            self.activation_sums = np.zeros((self.n_sentences, chunk.shape[1]), dtype=np.float64)
        elif chunk.shape[1] != self.fires.shape[1]:
            raise ValueError(f"chunk has {chunk.shape[1]} neurons, earlier chunks had {self.fires.shape[1]}")
        if chunk.shape[0] == 0:
            return
        if sentence_index.min() < 0 or sentence_index.max() >= self.n_sentences:
            raise ValueError(
                f"sentence_index outside 0..{self.n_sentences - 1}: {sentence_index.min()}..{sentence_index.max()}"
            )
        starts = np.concatenate(([0], np.flatnonzero(np.diff(sentence_index)) + 1))
        ids = sentence_index[starts]
        if np.unique(ids).size != ids.size:
            raise ValueError("the rows of a sentence are not contiguous (sentence_index must be grouped)")
        chunk = self.source.rows(chunk) if self.source else at_least_float32(chunk)
        self.fires[ids] += segment_sums(self._fired(chunk), starts, np.int32)
        self.activation_sums[ids] += segment_sums(chunk, starts, np.float64)
        self.flatness[ids] += np.add.reduceat(row_flatness(chunk, self.method), starts)
        self.n_prefixes[ids] += np.diff(np.append(starts, chunk.shape[0]))

    @property
    def neuron_value(self) -> str:
        return self.source.value if self.source else "as given"

    def firing_not_measurable(self) -> str:
        """Why this frequency cannot vary, by construction (`Source.firing_not_measurable`)."""
        return self.source.firing_not_measurable(self.firing_rule) if self.source else ""

    def total_prefixes(self) -> int:
        return int(self.n_prefixes.sum())

    def _require_rows(self) -> None:
        if self.total_prefixes() == 0:
            raise ValueError("no rows were accumulated (empty shard?): statistics are undefined")

    def frequency(self) -> np.ndarray:
        """Per-neuron activation frequency: prefixes in which the neuron fired / prefixes."""
        self._require_rows()
        return self.fires.sum(axis=0, dtype=np.int64) / self.total_prefixes()

    def frequency_mean(self) -> float:
        return float(self.frequency().mean())

    def frequency_std(self) -> float:
        """Population standard deviation (ddof=0) over the neurons of the layer."""
        return float(self.frequency().std(ddof=0))

    def flatness_sum(self) -> float:
        """Activation flatness A of eq. (1): the sum over prefixes of flatness(X_i)."""
        self._require_rows()
        return float(self.flatness.sum())

    def flatness_mean(self) -> float:
        """A / number of prefixes: comparable across test sets of different sizes."""
        return self.flatness_sum() / self.total_prefixes()

    def frequency_mean_ci(self, boot: Bootstrap, stream: str) -> tuple[float, float]:
        """CI of frequency_mean: the mean over neurons of fires/prefixes equals all firings
        / (neurons * prefixes), so only per-sentence totals are resampled."""
        self._require_rows()
        m = self.fires.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return bootstrap_ci(
                lambda f, p: f / (m * p), [self.fires.sum(axis=1, dtype=np.int64), self.n_prefixes], boot, stream
            )

    def flatness_ci(self, boot: Bootstrap, stream: str) -> tuple[float, float]:
        """CI of A (a sum, so it scales with the number of prefixes a resample draws)."""
        self._require_rows()
        return bootstrap_ci(lambda a: a, [self.flatness], boot, stream)

    def flatness_mean_ci(self, boot: Bootstrap, stream: str) -> tuple[float, float]:
        self._require_rows()
        with np.errstate(divide="ignore", invalid="ignore"):
            return bootstrap_ci(lambda a, p: a / p, [self.flatness, self.n_prefixes], boot, stream)


def sentence_statistics(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]],
    n_sentences: int,
    firing_rule: str,
    method: str,
    source: Source | None = None,
) -> SentenceStats:
    """Stream (chunk [rows, neurons], sentence_index [rows]) blocks into one SentenceStats."""
    stats = SentenceStats(firing_rule=firing_rule, method=method, n_sentences=n_sentences, source=source)
    for chunk, sentence_index in blocks:
        stats.update(chunk, sentence_index)
    return stats


def shard_statistics(
    path: str | Path, sublayer: str, method: str, firing_rule: str, chunk_rows: int = 1024, gated: str = "gate"
) -> SentenceStats:
    """Per-sentence statistics of the neurons of one sublayer of one shard (ffnscope.neurons,
    role "neuron"; `gated` is config metrics.gated_neurons), streamed in `chunk_rows` blocks."""
    with open_shard(path) as f:
        source, dataset = shard_source(f, sublayer, method, "neuron", gated)
        name = dataset.name.lstrip("/")
    n_sentences = int(read_attrs(path)["n_sentences"])
    sentence_index = read_dataset(path, "sentence_index")
    chunks = iter_chunks(path, name, chunk_rows, dtype=None)
    blocks = ((chunk, sentence_index[i * chunk_rows : i * chunk_rows + len(chunk)]) for i, chunk in enumerate(chunks))
    return sentence_statistics(blocks, n_sentences, firing_rule, method, source)
