"""Percentile bootstrap over sentences, vectorised through resample-count matrices.

Every per-layer statistic here is a function of TOTALS over sentences (firings, prefixes,
flatness, activation sums). A bootstrap resample draws n sentences with replacement; its
totals are `counts @ per_sentence`, where `counts` [n_resamples, n_sentences] says how often
each sentence was drawn. One matrix product thus replaces a Python loop over resamples.

Resamples are seeded by (seed, stream): the stream is a name (the test set), so the two
languages of one test set draw the same sentences (a paired bootstrap for parallel sides),
different test sets draw independently, and the draws do not depend on job order.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bootstrap:
    """Config section `bootstrap`: n_resamples = 0 disables the intervals (NaN)."""

    n_resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.n_resamples < 0:
            raise ValueError(f"bootstrap.n_resamples must be >= 0, got {self.n_resamples}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"bootstrap.confidence must lie strictly between 0 and 1, got {self.confidence}")


def resample_rng(seed: int, stream: str) -> np.random.Generator:
    """The generator of one stream; crc32 (not hash(), which Python salts per process)
    makes it the same in every job and run."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def resample_indices(n_items: int, n_resamples: int, seed: int, stream: str = "") -> np.ndarray:
    """[n_resamples, n_items] indices drawn with replacement, one row per resample."""
    return resample_rng(seed, stream).integers(0, n_items, size=(n_resamples, n_items))


def resample_counts(n_items: int, n_resamples: int, seed: int, stream: str = "") -> np.ndarray:
    """[n_resamples, n_items] float64: how often each item is drawn in each resample (the
    same draws as `resample_indices`), ready for `counts @ per_item`."""
    idx = resample_indices(n_items, n_resamples, seed, stream)
    offsets = idx + n_items * np.arange(n_resamples)[:, None]
    flat = np.bincount(offsets.ravel(), minlength=n_resamples * n_items)
    return flat.reshape(n_resamples, n_items).astype(np.float64)


def percentile_interval(replicates: np.ndarray, confidence: float, center: float | None = None) -> tuple[float, float]:
    """Equal-tailed percentile interval of the replicates (linear interpolation). A NaN
    replicate (undefined statistic) makes the interval NaN; no replicates give NaN.

    center: first shift the replicates so that their median is `center` (the point
    estimate): a median-bias-corrected percentile interval, for statistics whose bootstrap
    distribution is displaced by the resampling itself (see ffnscope.rankcorr).
    """
    replicates = np.asarray(replicates, dtype=np.float64)
    if replicates.size == 0 or np.isnan(replicates).any():
        return float("nan"), float("nan")
    if center is not None:
        replicates = replicates + (center - np.median(replicates))
    tail = 50 * (1 - confidence)
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(
    statistic: Callable[..., np.ndarray], per_sentence: Sequence[np.ndarray], boot: Bootstrap, stream: str = ""
) -> tuple[float, float]:
    """Percentile CI of `statistic` over sentences.

    per_sentence: arrays with sentences on axis 0 ([n] or [n, k]); statistic(*totals) takes
    the resampled totals (`counts @ array`, resamples on axis 0) and returns one value per
    resample. The point estimate is the same function of the full totals, i.e. of
    `array.sum(axis=0)[None]`.
    """
    if boot.n_resamples == 0:
        return float("nan"), float("nan")
    n = len(per_sentence[0])
    if any(len(a) != n for a in per_sentence):
        raise ValueError(f"per-sentence arrays differ in length: {[len(a) for a in per_sentence]}")
    counts = resample_counts(n, boot.n_resamples, boot.seed, stream)
    totals = [counts @ np.asarray(a, dtype=np.float64) for a in per_sentence]
    return percentile_interval(statistic(*totals), boot.confidence)
