"""Rank correlation of neurons between two sides (paper §4.4, figs 12-15, 17-18).

Per layer and sublayer, each neuron's activations are summed over all prefixes of a side;
the Spearman correlation of these sums between two sides says whether the same neurons
"light up" most. The sums come from the per-sentence sums written by the layer statistics
job (`save_sentence_sums`), so sentences can be resampled (bootstrap CI) or split (control).

Comparisons (sides are "testset/lang"; languages are the sides' normalised codes, so `en` and
`eng_Latn` are one language: ffnscope.sides):
  cross_language  every pair of distinct languages. A language found in several test sets
                  (English: the English side of every WMT test set) is represented by ONE
                  side: the paper does not say which English file its figs 12-13 use, so it
                  is the side of the test set named in `language_sides` (config
                  rank_correlation.language_sides, e.g. {en: wmt14-de-en}), or else of the
                  first configured test set that has the language.
  intra_english   the English sides of the test sets, pairwise (figs 14-15).
  parallel        every pair of sides of each test set, in listed order (figs 17-18; a WMT
                  test set has one: the other language vs English).
Pairing: `parallel` rows use all sentences of both sides. For every `parallel` comparison a
`non_parallel` control row correlates side A summed over a random half H1 of the sentences
with side B summed over the disjoint other half H2 (|H1| = |H2| = floor(n/2); a permutation
seeded by bootstrap.seed and the test set). Same languages and kind of text, no sentence in
common: the correlation that holds without shared content, the chance level for "parallel".
Its n_sentences is |H1|. Sums over half the text are noisier, which by itself lowers rho a
little, so a gap between the two rows smaller than that noise says nothing.

Bootstrap (ffnscope.bootstrap): sentences are resampled with the test set as stream, so the
two sides of one test set are resampled PAIRED (same sentences drawn) and sides of different
test sets independently; the halves of a control resample independently within each half.
The interval is the median-centred percentile interval (`percentile_interval(center=rho)`):
a resample holds only ~63 % distinct sentences, so its neuron sums are noisier than those of
n distinct sentences and its rho is lower for that reason alone (the whole bootstrap
distribution sits below rho, on the WMT demo often entirely). Centring the replicates' median
on rho removes that shift and keeps their spread; bounds are clipped to [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import rankdata, spearmanr

from .atomic import atomic_path
from .bootstrap import Bootstrap, percentile_interval, resample_counts, resample_rng
from .comparisons import Comparison
from .metrics import SentenceStats
from .sides import Side

DETECTOR_FIRES = "detector_fires"  # key of the firing counts in a sentence sums file
_BLOCK_VALUES = 1 << 21  # ranks [resamples, neurons] held at once per view: 16 MiB of float64


def save_sentence_sums(path: str | Path, stats: dict[str, SentenceStats]) -> None:
    """Per-sentence per-neuron activation sums of every sublayer ([n_sentences, neurons],
    float32: the shards hold float16, so nothing is lost), prefixes per sentence, and how
    often each detector fired per sentence (`DETECTOR_FIRES`, int32: language activation
    probabilities, ffnscope.lape)."""
    arrays = {sublayer: s.activation_sums.astype(np.float32) for sublayer, s in stats.items()}
    arrays["n_prefixes"] = next(iter(stats.values())).n_prefixes
    arrays[DETECTOR_FIRES] = stats["detector"].fires.astype(np.int32)
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def load_sentence_fires(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-sentence detector firing counts [n_sentences, neurons] and prefixes per sentence."""
    with np.load(path) as data:
        return data[DETECTOR_FIRES], data["n_prefixes"]


def load_sentence_sums(path: str | Path, sublayer: str) -> np.ndarray:
    with np.load(path) as data:
        if sublayer not in data:
            raise ValueError(f"{path}: no per-sentence sums for sublayer {sublayer!r} (has {sorted(data.files)})")
        return data[sublayer]


def spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and its two-sided p-value (scipy). A constant side has no ranking, so
    rho and p are NaN (scipy's value, without its warning)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    result = spearmanr(a, b)
    return float(result.statistic), float(result.pvalue)


def standardized_ranks(x: np.ndarray) -> np.ndarray:
    """Row-wise average ranks, centred and scaled to unit norm, so that the Spearman rho of
    two rows is their dot product (Pearson correlation of ranks). Constant rows -> NaN."""
    r = rankdata(x, axis=1)
    r -= r.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return r / np.linalg.norm(r, axis=1, keepdims=True)


@dataclass(frozen=True)
class _View:
    """The sentences of one side that a correlation sums over; `stream` names their
    bootstrap resampling (and, with the side, identifies the view)."""

    side: str
    stream: str
    sentences: np.ndarray

    @property
    def key(self) -> tuple[str, str]:
        return self.side, self.stream


def control_halves(n: int, seed: int, testset: str) -> tuple[np.ndarray, np.ndarray]:
    """The non_parallel control's disjoint sentence halves H1, H2 (sorted, floor(n/2) each;
    an odd n leaves one sentence out), a seeded permutation of the test set's sentences."""
    order = resample_rng(seed, f"{testset}/halves").permutation(n)
    half = n // 2
    return np.sort(order[:half]), np.sort(order[half : 2 * half])


def _jobs(plan: list[Comparison], n_sentences: dict[str, int], seed: int):
    """(comparison, pairing, view_a, view_b) for every row of the table."""
    for c in plan:
        ta, tb = Side.parse(c.side_a).testset, Side.parse(c.side_b).testset
        na, nb = n_sentences[c.side_a], n_sentences[c.side_b]
        if ta == tb and na != nb:
            raise ValueError(
                f"{c.side_a} has {na} sentences but {c.side_b} has {nb}: the sides of a test set must be parallel"
            )
        yield c, "parallel", _View(c.side_a, ta, np.arange(na)), _View(c.side_b, tb, np.arange(nb))
        if c.comparison == "parallel":
            h1, h2 = control_halves(na, seed, ta)
            yield c, "non_parallel", _View(c.side_a, f"{ta}/half1", h1), _View(c.side_b, f"{tb}/half2", h2)


def rank_correlations(sums: dict[str, np.ndarray], plan: list[Comparison], boot: Bootstrap) -> list[dict]:
    """Rows (comparison, side_a, side_b, pairing, rho, p_value, ci_low, ci_high,
    n_sentences) of one sublayer of one layer; sums[side] = per-sentence sums
    [n_sentences, neurons] of every side the plan names."""
    jobs = list(_jobs(plan, {side: len(x) for side, x in sums.items()}, boot.seed))
    views = {v.key: v for _, _, va, vb in jobs for v in (va, vb)}
    totals = {k: sums[v.side][v.sentences].sum(axis=0, dtype=np.float64) for k, v in views.items()}
    replicates = _replicates(sums, jobs, views, boot)
    rows = []
    for (c, pairing, va, vb), reps in zip(jobs, replicates):
        rho, p = spearman(totals[va.key], totals[vb.key])
        low, high = np.clip(percentile_interval(reps, boot.confidence, center=rho), -1.0, 1.0)
        rows.append(
            {
                "comparison": c.comparison,
                "side_a": c.side_a,
                "side_b": c.side_b,
                "pairing": pairing,
                "rho": rho,
                "p_value": p,
                "ci_low": float(low),
                "ci_high": float(high),
                "n_sentences": int(min(len(va.sentences), len(vb.sentences))),
            }
        )
    return rows


def _view_counts(view: _View, n_sentences: int, boot: Bootstrap) -> np.ndarray:
    """[n_resamples, n_sentences] float32 resample counts over the view's sentences, zero
    elsewhere, so every view multiplies its side's full per-sentence array (no copies)."""
    counts = np.zeros((boot.n_resamples, n_sentences), dtype=np.float32)
    counts[:, view.sentences] = resample_counts(len(view.sentences), boot.n_resamples, boot.seed, view.stream)
    return counts


def _replicates(
    sums: dict[str, np.ndarray], jobs: list, views: dict[tuple, _View], boot: Bootstrap
) -> list[np.ndarray]:
    """Bootstrap rho of every job, in blocks of resamples: per block, each view's resampled
    neuron sums (count matrix @ per-sentence sums, float32 BLAS) are ranked once and shared
    by all jobs that use the view."""
    if boot.n_resamples == 0:
        return [np.empty(0)] * len(jobs)
    counts = {k: _view_counts(v, len(sums[v.side]), boot) for k, v in views.items()}
    data = {side: np.asarray(x, dtype=np.float32) for side, x in sums.items()}
    block = max(1, _BLOCK_VALUES // next(iter(data.values())).shape[1])
    out = [np.empty(boot.n_resamples) for _ in jobs]
    for start in range(0, boot.n_resamples, block):
        z = {k: standardized_ranks(counts[k][start : start + block] @ data[v.side]) for k, v in views.items()}
        for reps, (_, _, va, vb) in zip(out, jobs):
            reps[start : start + block] = np.einsum("rn,rn->r", z[va.key], z[vb.key])
    return out
