"""Representation distance, Algorithm 1 of paper §4.2 (figs 9, 10), with a chance-level control.

For one pair of sides of a test set (source, target: ffnscope.sides.distance_pairs), layer and
sublayer: for every prefix row of a source sentence, the minimum distance to any prefix row of
its paired target sentence, summed over the source prefixes (one sum per sentence pair, kept for
bootstrap intervals over sentences) and over the pairs. The layer with the smallest sum is the
most "multilingual" (§4.2).

Pairings (method `paper`):
  parallel  source sentence s with target sentence s, as in Algorithm 1
  shuffled  source sentence s with target sentence pi(s), pi a seeded derangement: the chance
            level that "parallel prefixes are closer" has to beat

Methods (ffnscope.methods; `Method.distance_pairings` are the pairings each reports):
  paper         rows as stored; one target sentence per source sentence (Algorithm 1)
  authors_code  as the authors' scripts: rows activated with the model's activation
                (ffnscope.neurons) and L2-normalised, both languages' rows resampled with
                replacement (here seeded), every source row's minimum over ALL resampled
                target rows of the test set (pooled), summed with the source rows'
                resampling multiplicities. The pairing plays no role there, so the
                method reports the `parallel` pairing only (a `shuffled` value would equal it).

Memory is bounded by the block sizes, not by the corpus: the paper method holds one block of
`block_sentences` sentence pairs (padded to [pairs, longest sentence, width]); the pooled method
holds `block_rows` source rows while the target rows stream past in chunks of 1000 rows (the
authors' `cdist` chunk). Only the per-row sentence index (int) and per-sentence sums are kept
whole. Nearest rows are found in float32 (batched matrix products); the paper method then
computes each chosen distance from the difference of the two rows (no cancellation), the
pooled method keeps the product form's value (as the authors' torch code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch

from . import methods
from .bootstrap import Bootstrap, bootstrap_ci
from .neurons import Source, shard_source
from .schemas import TABLES
from .shards import open_shard, read_rows
from .tables import gather

METRICS = ("euclidean", "cosine")
PAIRINGS = ("parallel", "shuffled")
AUTHORS_CHUNK_ROWS = 1000
TABLE = TABLES["representation_distance"]


def _check(value: str, valid: Sequence[str], what: str) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


def derangement(n: int, seed: int) -> np.ndarray:
    """A uniformly drawn permutation of range(n) without fixed points, so no sentence is paired
    with its own translation (rejection sampling; about 1 draw in e is accepted)."""
    if n < 2:
        raise ValueError(f"the shuffled pairing needs at least 2 sentences, got {n}")
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n)
        if not np.any(perm == np.arange(n)):
            return perm


class SentenceRows:
    """Row ranges of the sentences of one shard, whose rows are grouped by sentence in sentence
    order (the shard contract), so a sentence is one contiguous slice."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open_shard(self.path) as f:
            self.sentence_index = f["sentence_index"][...].astype(np.int64)
        if np.any(np.diff(self.sentence_index) < 0):
            raise ValueError(f"{self.path}: rows are not grouped by sentence in sentence order")
        self.ids, self.starts, self.counts = np.unique(self.sentence_index, return_index=True, return_counts=True)

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.ids, ids)
        if np.any(pos >= self.ids.size) or np.any(self.ids[np.minimum(pos, self.ids.size - 1)] != ids):
            raise KeyError(f"{self.path}: no rows for some requested sentences")
        return pos

    def lengths(self, ids: np.ndarray) -> np.ndarray:
        return self.counts[self._positions(np.asarray(ids))]

    def row_indices(self, ids: np.ndarray) -> np.ndarray:
        """The rows of sentences `ids`, sentence after sentence in the order given."""
        pos = self._positions(np.asarray(ids))
        counts = self.counts[pos]
        offsets = np.cumsum(counts) - counts
        return np.repeat(self.starts[pos] - offsets, counts) + np.arange(counts.sum())


# --- Algorithm 1 ---------------------------------------------------------------------------------


def distance_matrix(a: torch.Tensor, b: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """Pairwise distances [..., m, n] between rows of a [..., m, d] and b [..., n, d].
    Cosine distance is 1 - cos; a zero row has cosine 0 to everything (distance 1)."""
    _check(metric, METRICS, "distance metric")
    if metric == "euclidean":
        return torch.cdist(a, b)
    return (1.0 - _unit(a) @ _unit(b).transpose(-1, -2)).clamp(0.0, 2.0)


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to length 1; a zero row stays zero."""
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)


def _padded(rows: np.ndarray, lengths: np.ndarray) -> torch.Tensor:
    """Concatenated sentences -> [sentences, longest, width] float32, zero padded."""
    out = torch.zeros((lengths.size, int(lengths.max()), rows.shape[1]), dtype=torch.float32)
    sentence = np.repeat(np.arange(lengths.size), lengths)
    position = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[sentence, position] = torch.from_numpy(np.ascontiguousarray(rows)).float()
    return out


def pair_min_distance_sums(
    src_rows: np.ndarray,
    src_lengths: np.ndarray,
    tgt_rows: np.ndarray,
    tgt_lengths: np.ndarray,
    metric: str = "euclidean",
) -> np.ndarray:
    """Algorithm 1 for a block of sentence pairs at once: pair k has the next src_lengths[k]
    rows of `src_rows` and the next tgt_lengths[k] rows of `tgt_rows`; returns, per pair, the
    sum over its source rows of the minimum distance to its target rows (float64).

    The pairs are padded into one batched matrix product that ranks every source row's target
    rows (|b|^2 - 2ab for euclidean, -ab of unit rows for cosine; padded target columns +inf,
    never a minimum). Only the nearest row's distance is then computed, directly from the
    difference of the two rows (cosine: 1 - cos = |a/|a| - b/|b||^2 / 2), so it is free of the
    cancellation of the product form for close rows. Rows are float32 (as shards store them).
    """
    _check(metric, METRICS, "distance metric")
    src_lengths, tgt_lengths = np.asarray(src_lengths), np.asarray(tgt_lengths)
    if src_lengths.size != tgt_lengths.size:
        raise ValueError(f"{src_lengths.size} source sentences but {tgt_lengths.size} target sentences")
    if src_lengths.size == 0:
        return np.zeros(0)
    if np.any(tgt_lengths < 1):
        raise ValueError("every target sentence needs at least one prefix row")
    src, tgt = _padded(src_rows, src_lengths), _padded(tgt_rows, tgt_lengths)
    if metric == "cosine":
        src, tgt = _unit(src), _unit(tgt)
        score = torch.bmm(src, tgt.transpose(1, 2)).neg_()
    else:
        score = torch.baddbmm(
            torch.linalg.vector_norm(tgt, dim=-1).square()[:, None, :], src, tgt.transpose(1, 2), alpha=-2
        )
    score.masked_fill_(
        torch.arange(tgt.shape[1])[None, None, :] >= torch.as_tensor(tgt_lengths)[:, None, None], float("inf")
    )
    nearest = score.argmin(dim=2)
    pair = torch.as_tensor(np.repeat(np.arange(src_lengths.size), src_lengths))
    row = torch.as_tensor(np.arange(src_lengths.sum()) - np.repeat(np.cumsum(src_lengths) - src_lengths, src_lengths))
    a, b = src[pair, row], tgt[pair, nearest[pair, row]]
    if metric == "euclidean":
        exact = torch.linalg.vector_norm(a - b, dim=-1)
    else:  # a zero row has cosine 0 to everything: distance 1
        zero = (a.abs().amax(-1) == 0) | (b.abs().amax(-1) == 0)
        exact = torch.where(zero, 1.0, (a - b).square().sum(-1) / 2).clamp(0.0, 2.0)
    return np.bincount(pair.numpy(), weights=exact.double().numpy(), minlength=src_lengths.size)


@dataclass
class DistanceResult:
    """One (sublayer, pairing): per source sentence, the sum of its rows' minimum distances."""

    sentence_sums: np.ndarray
    n_prefixes: int

    @property
    def distance(self) -> float:
        """Algorithm 1's total over all sentence pairs."""
        return float(self.sentence_sums.sum())

    @property
    def distance_mean(self) -> float:
        """Per source prefix: comparable across test sets of different sizes."""
        return self.distance / self.n_prefixes


def _blocks(n: int, size: int) -> Iterable[slice]:
    if size < 1:
        raise ValueError(f"block size must be >= 1, got {size}")
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _vector_rows(source: Source, data: h5py.Dataset, rows: np.ndarray) -> np.ndarray:
    """Rows as the analysis uses them (`Source.rows`); rows used as stored stay in their
    storage dtype until `_padded`, as torch converts float16 twice as fast as numpy."""
    stored = read_rows(data, rows, dtype=None)
    return source.rows(stored) if source.activated else stored


def paired_distances(
    src_path: str | Path,
    tgt_path: str | Path,
    sublayer: str,
    *,
    method: str = "paper",
    metric: str = "euclidean",
    seed: int = 0,
    block_sentences: int = 32,
    pairings: Sequence[str] = PAIRINGS,
) -> dict[str, DistanceResult]:
    """Algorithm 1 over every sentence pair of two parallel shards, for each pairing.

    Sentences with prefix rows in both shards are paired (a sentence without prefixes on one
    side, e.g. a one-word sentence under the authors' prefix variant, has no pair). The source
    rows of a block are read once and matched against every pairing's targets.
    """
    _check(metric, METRICS, "distance metric")
    for pairing in pairings:
        _check(pairing, PAIRINGS, "pairing")
    src, tgt = SentenceRows(src_path), SentenceRows(tgt_path)
    ids = np.intersect1d(src.ids, tgt.ids)
    if ids.size == 0:
        raise ValueError(f"{src.path} and {tgt.path} have no sentence with prefixes on both sides")
    targets = {"parallel": ids}
    if "shuffled" in pairings:
        targets["shuffled"] = ids[derangement(ids.size, seed)]
    sums = {pairing: np.zeros(ids.size) for pairing in pairings}
    # blocks of consecutive sentences: their source and parallel target rows are one
    # contiguous read each (sorting by length saved padding but scattered the reads: slower)
    with open_shard(src.path) as fs, open_shard(tgt.path) as ft:
        (src_source, src_data), (tgt_source, tgt_data) = (shard_source(f, sublayer, method, "vector") for f in (fs, ft))
        for block in _blocks(ids.size, block_sentences):
            src_rows = _vector_rows(src_source, src_data, src.row_indices(ids[block]))
            for pairing in pairings:
                tgt_ids = targets[pairing][block]
                tgt_rows = _vector_rows(tgt_source, tgt_data, tgt.row_indices(tgt_ids))
                sums[pairing][block] = pair_min_distance_sums(
                    src_rows, src.lengths(ids[block]), tgt_rows, tgt.lengths(tgt_ids), metric
                )
    n_prefixes = int(src.lengths(ids).sum())
    return {pairing: DistanceResult(sums[pairing], n_prefixes) for pairing in pairings}


def pooled_distances(
    src_path: str | Path,
    tgt_path: str | Path,
    sublayer: str,
    *,
    metric: str = "euclidean",
    seed: int = 0,
    block_rows: int = 4096,
) -> DistanceResult:
    """The authors' variant: rows activated with the model's activation (GELU for XGLM) and
    L2-normalised; n rows drawn with replacement from each language's n rows; every drawn
    source row's minimum distance to any drawn target row of the whole test set; summed (a
    row drawn k times counts k times).

    Drawing target rows with replacement only decides WHICH rows are in the pool, so the
    distinct drawn target rows are streamed; source draws become per-row multiplicities. Per
    source sentence sums are kept for bootstrap intervals (the target pool held fixed).
    """
    _check(metric, METRICS, "distance metric")
    src, tgt = SentenceRows(src_path), SentenceRows(tgt_path)
    n_src, n_tgt = src.sentence_index.size, tgt.sentence_index.size
    if n_src == 0 or n_tgt == 0:
        raise ValueError(f"no prefix rows in {src.path if n_src == 0 else tgt.path}")
    rng = np.random.default_rng(seed)
    multiplicity = np.bincount(rng.integers(0, n_src, n_src), minlength=n_src)
    pool = np.unique(rng.integers(0, n_tgt, n_tgt))
    drawn = np.flatnonzero(multiplicity)
    row_min = np.empty(drawn.size)
    with open_shard(src.path) as fs, open_shard(tgt.path) as ft:
        (src_source, src_data), (tgt_source, tgt_data) = (
            shard_source(f, sublayer, "authors_code", "vector") for f in (fs, ft)
        )
        for block in _blocks(drawn.size, block_rows):
            a = _unit(torch.as_tensor(_vector_rows(src_source, src_data, drawn[block])))
            best = torch.full((a.shape[0],), float("inf"))
            for chunk in _blocks(pool.size, AUTHORS_CHUNK_ROWS):
                b = _unit(torch.as_tensor(_vector_rows(tgt_source, tgt_data, pool[chunk])))
                best = torch.minimum(best, distance_matrix(a, b, metric).min(dim=1).values)
            row_min[block] = best.double().numpy()
    position = np.searchsorted(src.ids, src.sentence_index[drawn])
    sums = np.bincount(position, weights=row_min * multiplicity[drawn], minlength=src.ids.size)
    return DistanceResult(sums, int(multiplicity.sum()))


def layer_distances(
    src_path: str | Path,
    tgt_path: str | Path,
    sublayer: str,
    *,
    method: str,
    metric: str,
    seed: int,
    block_sentences: int,
    block_rows: int,
) -> dict[str, DistanceResult]:
    """Every pairing the method reports (`Method.distance_pairings`), per the method's
    algorithm: Algorithm 1 for `paper`, the authors' pooled variant otherwise."""
    pairings = methods.method(method).distance_pairings
    if method == "paper":
        return paired_distances(
            src_path,
            tgt_path,
            sublayer,
            method=method,
            metric=metric,
            seed=seed,
            block_sentences=block_sentences,
            pairings=pairings,
        )
    (pairing,) = pairings
    return {pairing: pooled_distances(src_path, tgt_path, sublayer, metric=metric, seed=seed, block_rows=block_rows)}


# --- tables --------------------------------------------------------------------------------------


def distance_row(result: DistanceResult, boot: Bootstrap, **keys) -> dict:
    """One representation_distance.tsv row (`keys`: the table's key columns) with the bootstrap
    CI of the total distance over sentence pairs; the resampling stream is the test set, so the
    pairings and layers of one test set resample the same sentences."""
    missing = sorted(set(TABLE.keys) - set(keys))
    if missing:
        raise ValueError(f"distance row lacks key columns {missing}")
    ci = bootstrap_ci(lambda total: total, [result.sentence_sums], boot, keys["testset"])
    return {
        **{k: keys[k] for k in TABLE.keys},
        "distance": result.distance,
        "distance_mean": result.distance_mean,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "n_pairs": int(result.sentence_sums.size),
        "n_prefixes": result.n_prefixes,
    }


def gather_distance_table(paths: Sequence[str | Path], languages: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per-layer distance TSVs -> representation_distance.tsv (sorted, each key once, with the
    languages of both sides; `languages` as in `sides.language_of`)."""
    return gather(list(paths), TABLE, languages)
