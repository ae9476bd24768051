"""Representational similarity analysis between models (paper §4.2, fig 11).

Both models see the same prefixes (one side, e.g. wmt14-de-en/de). Per layer, the prefix x
prefix correlation structure of its activations is computed once (stage 1, one job per model
and layer); every layer pair of every model pair is then compared from those (stage 2), so no
layer is recomputed per model pair.

Methods (ffnscope.methods):
  paper         Kriegeskorte et al. (2008), on which §4.4 builds: per layer the representational
                dissimilarity matrix RDM = 1 - Pearson correlation between prefixes' activation
                vectors, over the upper triangle (i < j); two RDMs are compared by their Spearman
                rank correlation. §4.4 computes it "on the normalised values of activation"
                (eq. 3, min-max per prefix): an increasing affine map of each prefix's vector,
                under which the correlation is invariant, so the normalisation is implied.
  authors_code  as the authors' scripts: activated rows (ffnscope.neurons); prefixes in
                consecutive batches of `batch_prefixes` (5000); per batch the full prefix x
                prefix correlation matrix (diagonal included); Pearson correlation of two
                flattened matrices; the mean over batches.

Both reduce to one form: per batch, a vector z over the upper triangle, centred and scaled so
that the similarity of two layers is `weight * z_a . z_b + n * d_a * d_b` (weight: the
method's `rsa_diagonal_weight`; 1, no diagonal term for `paper`; 2 for the two triangles of a
full matrix plus its n diagonal entries, whose common standardised value is d, for
`authors_code`). Stage-1 files (HDF5) hold z (float32) and d; stage 2 accumulates the dot
products in float64.

Prefixes: a seeded subsample of at most `max_prefixes` rows (0 = all), drawn from the row
count, so models whose shards have the same rows draw the same prefixes. Rows of two models
align when their shards' sentence_index arrays are equal (word-level prefixes: one row per
(sentence, word) whatever the tokenizer); stage 2 checks that and stops with an error
otherwise. A prefix whose activations are constant has correlation 0 with every other prefix.

Memory: stage 1 holds one batch of rows [batch, width] (float32) and its triangle,
batch(batch-1)/2 values, computed in row blocks of the correlation matrix (`paper`: the batch
is the whole subsample, so memory grows with max_prefixes squared); stage 2 streams the
stage-1 files in column chunks, holding (layers of A + layers of B) x chunk values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from . import methods
from .atomic import atomic_path
from .neurons import shard_source
from .shards import SUBLAYERS, open_shard, read_rows
from .tables import table_frame


def subsample_rows(n_rows: int, max_prefixes: int, seed: int) -> np.ndarray:
    """Sorted row indices: all rows when max_prefixes is 0 or >= n_rows, else a seeded draw
    without replacement (it depends only on n_rows, max_prefixes and seed)."""
    if max_prefixes < 0:
        raise ValueError(f"rsa.max_prefixes must be >= 0, got {max_prefixes}")
    if max_prefixes == 0 or max_prefixes >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_prefixes, replace=False))


def batches(n: int, batch_prefixes: int) -> list[slice]:
    """Consecutive batches; a trailing batch of one prefix has no correlation and is dropped."""
    if batch_prefixes < 2:
        raise ValueError(f"rsa.batch_prefixes must be >= 2, got {batch_prefixes}")
    found = [slice(s, min(s + batch_prefixes, n)) for s in range(0, n, batch_prefixes)]
    return [b for b in found if b.stop - b.start >= 2]


def standardised_rows(x: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit length (float32), so Z @ Z.T is the correlation matrix;
    a constant row becomes 0 (correlation 0 with everything). float32 (relative error ~1e-7,
    below the float16 of the shards) halves the cost of the product against float64."""
    x = np.asarray(x, dtype=np.float32)
    z = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    usable = (norm > 0) & (x.max(axis=1, keepdims=True) > x.min(axis=1, keepdims=True))
    return np.divide(z, norm, out=np.zeros_like(z), where=usable)


def correlation_upper(x: np.ndarray, block_rows: int = 512) -> np.ndarray:
    """The upper triangle (i < j, row-major, as np.triu_indices(n, 1)) of the prefix x prefix
    Pearson correlation matrix of the rows of x (float32), block of rows by block of rows."""
    z = standardised_rows(x)
    n = z.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=np.float32)
    start = 0
    for r0 in range(0, n, block_rows):
        r1 = min(r0 + block_rows, n)
        block = z[r0:r1] @ z[r0:].T
        values = block[np.arange(r1 - r0)[:, None] < np.arange(n - r0)[None, :]]
        out[start : start + values.size] = values
        start += values.size
    return out


def average_ranks(v: np.ndarray) -> np.ndarray:
    """1-based ranks of v, ties sharing their average rank (scipy.stats.rankdata's default)
    in one sort: about twice as fast as rankdata on the millions of values of a triangle."""
    order = np.argsort(v)
    sorted_v = v[order]
    first = np.flatnonzero(np.concatenate(([True], sorted_v[1:] != sorted_v[:-1])))
    ends = np.append(first[1:], v.size)
    ranks = np.empty(v.size)
    ranks[order] = np.repeat((first + ends + 1) / 2, ends - first)
    return ranks


def _centred_unit(v: np.ndarray, n_diagonal: int = 0, diagonal: float = 1.0) -> tuple[np.ndarray, float]:
    """Centre and scale a symmetric matrix given by its upper triangle v (and n_diagonal equal
    diagonal entries) so that its full flattened vector has mean 0 and length 1; an upper
    triangle alone when n_diagonal = 0. Returns (scaled triangle, scaled diagonal value); NaN
    when the matrix is constant (its correlation with anything is undefined)."""
    v = np.asarray(v, dtype=np.float64)
    weight = 2 if n_diagonal else 1
    mean = (weight * v.sum() + n_diagonal * diagonal) / (weight * v.size + n_diagonal)
    centred, d = v - mean, diagonal - mean
    norm = np.sqrt(weight * np.dot(centred, centred) + n_diagonal * d * d)
    if norm == 0:
        return np.full_like(v, np.nan), float("nan")
    return centred / norm, float(d / norm) if n_diagonal else 0.0


def method_batches(n: int, method: str, batch_prefixes: int) -> list[slice]:
    """The prefix batches of a method: one batch of every prefix for `paper`, consecutive
    batches of batch_prefixes for `authors_code`."""
    methods.method(method)  # an unknown method is an error naming the valid ones
    if method == "paper":
        if n < 3:
            raise ValueError(f"RSA needs at least 3 prefixes (2 dissimilarities), got {n}")
        return [slice(0, n)]
    found = batches(n, batch_prefixes)
    if not found:
        raise ValueError(f"RSA needs at least 2 prefixes, got {n}")
    return found


def batch_vector(rows: np.ndarray, method: str, block_rows: int = 512) -> tuple[np.ndarray, float]:
    """One batch's standardised triangle z (float32) and diagonal value d: for `paper` the
    ranks of the correlations (1 - r has the same ranks, reversed in sign for both RDMs alike),
    for `authors_code` the correlations with their unit diagonal."""
    upper = correlation_upper(rows, block_rows)
    if method == "paper":
        z, d = _centred_unit(average_ranks(upper))
    else:
        z, d = _centred_unit(upper, n_diagonal=rows.shape[0])
    return z.astype(np.float32), d


def sentence_index_digest(sentence_index: np.ndarray) -> str:
    """Identifies a shard's row layout; equal digests = rows align across models."""
    return hashlib.sha256(np.ascontiguousarray(sentence_index, dtype=np.int64).tobytes()).hexdigest()


def layer_rdm_file(
    shard: str | Path,
    out: str | Path,
    method: str,
    *,
    max_prefixes: int,
    seed: int,
    batch_prefixes: int = 5000,
    block_rows: int = 512,
) -> None:
    """Stage 1 job: both sublayers of one layer's shard -> one HDF5 file (written atomically)
    with `{sublayer}/z` (the batches' triangles, concatenated), `{sublayer}/diagonal`,
    `rows`, `batch_sizes` and attributes method, weight, n_rows, sentence_index_digest, shard.
    Only one batch of rows is in memory at a time."""
    with open_shard(shard) as f, atomic_path(out) as tmp, h5py.File(tmp, "w") as g:
        sentence_index = f["sentence_index"][...]
        rows = subsample_rows(sentence_index.size, max_prefixes, seed)
        slices = method_batches(rows.size, method, batch_prefixes)
        sizes = np.array([sl.stop - sl.start for sl in slices])
        ends = np.cumsum(sizes * (sizes - 1) // 2)
        g.attrs.update(
            method=method,
            weight=methods.method(method).rsa_diagonal_weight,
            n_rows=sentence_index.size,
            shard=str(shard),
            sentence_index_digest=sentence_index_digest(sentence_index),
        )
        g["rows"], g["batch_sizes"] = rows, sizes
        for sublayer in SUBLAYERS:
            z_all = g.create_dataset(f"{sublayer}/z", shape=(int(ends[-1]),), dtype=np.float32)
            diagonal = []
            source, dataset = shard_source(f, sublayer, method, "vector")
            for sl, end in zip(slices, ends):
                x = source.rows(read_rows(dataset, rows[sl], dtype=None))
                z, d = batch_vector(x, method, block_rows)
                z_all[end - z.size : end] = z
                diagonal.append(d)
            g[f"{sublayer}/diagonal"] = np.array(diagonal)


def _check_aligned(files: dict[str, str | Path], side: str) -> None:
    """Every stage-1 file must come from shards with equal sentence_index arrays (rows pair
    up across models) and hold the same prefix batches."""
    ref_model, ref_path = next(iter(files.items()))
    with h5py.File(ref_path, "r") as r:
        ref = dict(r.attrs), r["rows"][...], r["batch_sizes"][...]
    for model, path in files.items():
        with h5py.File(path, "r") as f:
            attrs, rows, sizes = dict(f.attrs), f["rows"][...], f["batch_sizes"][...]
        if attrs["sentence_index_digest"] != ref[0]["sentence_index_digest"]:
            raise ValueError(
                f"rsa side {side}: models {ref_model!r} and {model!r} have different prefixes (sentence_index of "
                f"{ref[0]['shard']} and {attrs['shard']} differ), so their rows cannot be paired; RSA between "
                f"models needs the same prefixes (prefixes.unit: word)"
            )
        if attrs["method"] != ref[0]["method"] or not (np.array_equal(rows, ref[1]) and np.array_equal(sizes, ref[2])):
            raise ValueError(
                f"rsa side {side}: {ref_path} and {path} use different prefixes or methods; "
                f"rerun them with the same rsa settings"
            )


def similarity_matrix(
    paths_a: Sequence[str | Path], paths_b: Sequence[str | Path], sublayer: str, chunk_columns: int = 1 << 16
) -> np.ndarray:
    """Stage 2: [layers of A, layers of B] similarities of one sublayer. Per batch the
    weighted dot products of the standardised triangles plus the diagonal term, accumulated
    over column chunks read from every file at once, so memory is (layers of A + layers of B)
    x chunk_columns whatever the number of prefixes; the mean over batches."""
    with ExitStack() as stack:
        fa = [stack.enter_context(h5py.File(p, "r")) for p in paths_a]
        fb = fa if list(paths_b) == list(paths_a) else [stack.enter_context(h5py.File(p, "r")) for p in paths_b]
        sizes, weight = fa[0]["batch_sizes"][...], int(fa[0].attrs["weight"])
        diag_a = np.stack([f[f"{sublayer}/diagonal"][...] for f in fa])
        diag_b = np.stack([f[f"{sublayer}/diagonal"][...] for f in fb])
        ends = np.cumsum(sizes * (sizes - 1) // 2)
        total = np.zeros((len(fa), len(fb)))
        for k, (start, end) in enumerate(zip(ends - sizes * (sizes - 1) // 2, ends)):
            dots = np.zeros_like(total)
            for c in range(start, end, chunk_columns):
                cols = slice(c, min(c + chunk_columns, end))
                a = np.stack([f[f"{sublayer}/z"][cols] for f in fa]).astype(np.float64)
                b = a if fb is fa else np.stack([f[f"{sublayer}/z"][cols] for f in fb]).astype(np.float64)
                dots += a @ b.T
            total += weight * dots + sizes[k] * np.outer(diag_a[:, k], diag_b[:, k])
    return total / sizes.size


def rsa_table(
    files: dict[str, dict[int, str | Path]], pairs: Sequence[tuple[str, str]], *, method: str, side: str
) -> pd.DataFrame:
    """Stage 2: `files[model][layer]` -> stage-1 file; one row per (model pair, sublayer,
    layer_a, layer_b) for every pair in `pairs` (a self-pair gives the layer x layer
    similarity within a model)."""
    models = list(dict.fromkeys(m for pair in pairs for m in pair))
    missing = [m for m in models if not files.get(m)]
    if missing:
        raise ValueError(f"no RSA layer files for models {missing}")
    _check_aligned({m: next(iter(files[m].values())) for m in models}, side)
    with h5py.File(next(iter(files[models[0]].values())), "r") as f:
        n_prefixes = int(f["batch_sizes"][...].sum())
    out = []
    for model_a, model_b in pairs:
        layers_a, layers_b = sorted(files[model_a]), sorted(files[model_b])
        for sublayer in SUBLAYERS:
            sims = similarity_matrix(
                [files[model_a][la] for la in layers_a], [files[model_b][lb] for lb in layers_b], sublayer
            )
            out += [
                {
                    "model_a": model_a,
                    "model_b": model_b,
                    "method": method,
                    "side": side,
                    "sublayer": sublayer,
                    "layer_a": la,
                    "layer_b": lb,
                    "similarity": float(sims[i, j]),
                    "n_prefixes": n_prefixes,
                }
                for i, la in enumerate(layers_a)
                for j, lb in enumerate(layers_b)
            ]
    return table_frame(out, "rsa")


def model_pairs(models: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair of models in config order, self-pairs included."""
    return [(a, b) for i, a in enumerate(models) for b in models[i:]]
