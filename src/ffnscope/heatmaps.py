"""Normalised activation heat maps, prefixes x neurons (paper figs 5, 7, 8).

Each prefix's activation vector is min-max scaled over ALL neurons of the layer, S of eq. (3)
(the quantity whose entropy is the activation flatness), so a row shows where that prefix's
activations peak. Rows are the neuron values of ffnscope.neurons (role "neuron": for a gated
FFN the gate's activation; for `authors_code` activated with the model's activation, detectors
from their pre-activation values); the scaling is eq. (3) for both methods, keeping the
picture in [0, 1].

Bounded size whatever the corpus: at most `max_prefixes` rows, evenly spaced over the shard
(so every part of the test set is shown, in sentence order), and at most `max_neurons`
columns: when a layer is wider, consecutive neurons are grouped and each group shows its
MAXIMUM scaled value, so a single peaked neuron (e.g. the one in fig 8) stays visible.
`neuron_start` gives each column's first neuron.

Output .npz: detector, combinator [prefixes, columns] float32 in [0, 1]; sentence_index,
row_index [prefixes]; detector_neuron_start, combinator_neuron_start [columns].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .neurons import shard_source
from .shards import SUBLAYERS, open_shard, read_rows


def evenly_spaced_rows(n_rows: int, max_prefixes: int) -> np.ndarray:
    """All rows, or max_prefixes rows spread evenly from the first to the last."""
    if max_prefixes < 1:
        raise ValueError(f"heatmaps.max_prefixes must be >= 1, got {max_prefixes}")
    if n_rows <= max_prefixes:
        return np.arange(n_rows)
    return np.unique(np.linspace(0, n_rows - 1, max_prefixes).round().astype(np.int64))


def minmax_rows(x: np.ndarray) -> np.ndarray:
    """S of eq. (3) per row: (x - min) / (max - min); a constant row is all 1 (as in
    metrics.row_flatness: every neuron at the row's maximum)."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 1.0)


def pool_neurons(s: np.ndarray, max_neurons: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of at most max_neurons groups of consecutive neurons (max within a group);
    returns (pooled [rows, groups], first neuron of each group). 0 keeps every neuron."""
    if max_neurons < 0:
        raise ValueError(f"heatmaps.max_neurons must be >= 0, got {max_neurons}")
    width = s.shape[1]
    if max_neurons == 0 or width <= max_neurons:
        return s, np.arange(width)
    starts = np.unique(np.linspace(0, width, max_neurons, endpoint=False).astype(np.int64))
    return np.maximum.reduceat(s, starts, axis=1), starts


def heatmap_file(
    shard: str | Path, out: str | Path, method: str, *, max_prefixes: int, max_neurons: int, gated: str = "gate"
) -> None:
    """One layer's heat maps of both sublayers -> .npz (written atomically); `gated` is
    config metrics.gated_neurons. The npz names each sublayer's neuron value (`{sublayer}_value`)."""
    with open_shard(shard) as f:
        sentence_index = f["sentence_index"][...]
        if sentence_index.size == 0:
            raise ValueError(f"{shard}: no prefix rows to draw")
        rows = evenly_spaced_rows(sentence_index.size, max_prefixes)
        arrays = {"sentence_index": sentence_index[rows], "row_index": rows}
        for sublayer in SUBLAYERS:
            source, dataset = shard_source(f, sublayer, method, "neuron", gated)
            x = source.rows(read_rows(dataset, rows, dtype=None))
            arrays[f"{sublayer}_value"] = np.array(source.value)
            pooled, starts = pool_neurons(minmax_rows(x), max_neurons)
            arrays[sublayer] = pooled.astype(np.float32)
            arrays[f"{sublayer}_neuron_start"] = starts
    with atomic_path(out) as tmp:
        np.savez_compressed(tmp, **arrays)
