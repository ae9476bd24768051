"""HDF5 snapshot shards: one file per (model, test set, language, layer).

Datasets (rows = prefixes, in sentence order then token position):
  detector        [n_prefixes, ffn_dim]  input of the FFN's second linear sublayer
  combinator      [n_prefixes, d_model]  output of the FFN's second linear sublayer
  detector_pre    [n_prefixes, ffn_dim]  output of the FFN's first linear sublayer (gated: gate
                                         projection), pre-activation; only when the snapshot
                                         setting store_pre_activation is on
  sentence_index  [n_prefixes] int32     0-based index into the test set's sentence file
  token_position  [n_prefixes] int32     position of the prefix's last token in the sentence
Attributes describe how the shard was made (see `snapshot.shard_attributes`).
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import h5py
import numpy as np

from .atomic import atomic_path

SUBLAYERS = ("detector", "combinator")
PRE_ACTIVATION = "detector_pre"
STORAGE_DTYPES = ("float16", "float32")
COMPRESSIONS = ("lzf", "gzip", "none")
_CHUNK_BYTES = 1 << 20  # ~1 MiB chunks: h5py's default chunk cache size


def _chunk_rows(n_rows: int, width: int, itemsize: int) -> int:
    return max(1, min(n_rows, _CHUNK_BYTES // (width * itemsize)))


def check_free_space(paths: Iterable[str | Path], bytes_per_file: int) -> None:
    """One clear error, before anything is written, when the file system of `paths` has less
    free space than their `bytes_per_file` each."""
    paths = [Path(p) for p in paths]
    if not paths:
        return
    folder = paths[0].parent
    folder.mkdir(parents=True, exist_ok=True)
    needed, free = bytes_per_file * len(paths), shutil.disk_usage(folder).free
    if needed > free:
        raise OSError(
            errno.ENOSPC,
            f"{folder}: the {len(paths)} shards need {needed / 1e6:.1f} MB, the disk has {free / 1e6:.1f} MB free",
        )


class ShardSet:
    """Writes one shard per layer, each to a temporary name renamed into place only when
    every layer is complete (`close` on success), so a killed job leaves no shard behind.

    Disk: uncompressed shards need a known size (`widths`, the datasets' row widths), checked
    against the free space before anything is written. Should the disk fill up anyway (another
    job writing), the temporary files are unlinked BEFORE HDF5 closes them: closing a file
    whose flush failed can crash inside the HDF5 library, which must not keep them behind."""

    def __init__(
        self,
        paths: dict[int, str | Path],
        n_rows: int,
        storage_dtype: str,
        compression: str,
        attrs: dict[int, dict],
        widths: Sequence[int] = (),
    ):
        if storage_dtype not in STORAGE_DTYPES:
            raise ValueError(f"snapshot.storage_dtype must be one of {STORAGE_DTYPES}, got {storage_dtype!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"snapshot.compression must be one of {COMPRESSIONS}, got {compression!r}")
        self.n_rows, self.dtype = n_rows, np.dtype(storage_dtype)
        self.compression = None if compression == "none" else compression
        if self.compression is None:
            check_free_space(paths.values(), n_rows * (sum(widths) * self.dtype.itemsize + 8))
        self._stack = ExitStack()
        self.files: dict[int, h5py.File] = {}
        self._tmps: list[Path] = []
        for layer, path in paths.items():
            tmp = self._stack.enter_context(atomic_path(path))
            self._tmps.append(tmp)
            f = self._stack.enter_context(h5py.File(tmp, "w"))
            f.attrs.update(attrs[layer])
            self.files[layer] = f

    def __enter__(self) -> ShardSet:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            for tmp in self._tmps:
                tmp.unlink(missing_ok=True)
        self._stack.__exit__(*exc)

    def _dataset(self, f: h5py.File, name: str, width: int) -> h5py.Dataset:
        if name not in f:
            f.create_dataset(
                name,
                shape=(self.n_rows, width),
                dtype=self.dtype,
                chunks=(_chunk_rows(self.n_rows, width, self.dtype.itemsize), width),
                compression=self.compression,
            )
        return f[name]

    def write(
        self, start: int, rows: dict[int, dict[str, np.ndarray]], sentence_index: np.ndarray, token_position: np.ndarray
    ) -> None:
        """Write rows [start, start + len) of every layer's shard (every dataset in `rows`)."""
        stop = start + len(sentence_index)
        for layer, f in self.files.items():
            for name, values in rows[layer].items():
                self._dataset(f, name, values.shape[1])[start:stop] = values
            for name, values in (("sentence_index", sentence_index), ("token_position", token_position)):
                if name not in f:
                    f.create_dataset(name, shape=(self.n_rows,), dtype=np.int32)
                f[name][start:stop] = values


class CorruptShard(OSError):
    """A shard HDF5 cannot read (truncated by a full disk, a copy cut short, bit rot)."""


@contextmanager
def open_shard(path: str | Path) -> Iterator[h5py.File]:
    """An existing shard, read-only; one error naming it and the way out when it is unreadable."""
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        if not Path(path).exists():
            raise
        raise CorruptShard(
            f"{path}: unreadable shard ({err}); remove its side's folder (rm -r {Path(path).parent}) and run "
            "the workflow again: its snapshot job captures that side anew"
        ) from None
    with f:
        yield f


def at_least_float32(rows: np.ndarray) -> np.ndarray:
    """Stored rows in the precision the analyses compute in: float32, or wider as stored."""
    rows = np.asarray(rows)
    return rows.astype(np.result_type(rows.dtype, np.float32), copy=False)


def read_attrs(path: str | Path) -> dict:
    with open_shard(path) as f:
        return dict(f.attrs)


def n_rows(path: str | Path) -> int:
    with open_shard(path) as f:
        return int(f["sentence_index"].shape[0])


def iter_chunks(
    path: str | Path, dataset: str, chunk_rows: int = 4096, dtype: type | None = np.float32
) -> Iterator[np.ndarray]:
    """Yield consecutive row blocks of one dataset as `dtype` (None: as stored), so metric
    jobs hold at most `chunk_rows` rows in memory whatever the shard size."""
    with open_shard(path) as f:
        data = f[dataset]
        for start in range(0, data.shape[0], chunk_rows):
            block = data[start : start + chunk_rows]
            yield block if dtype is None else block.astype(dtype, copy=False)


def read_dataset(path: str | Path, dataset: str) -> np.ndarray:
    with open_shard(path) as f:
        return f[dataset][...]


def read_rows(dataset: h5py.Dataset, rows: np.ndarray, dtype: type | None = np.float32) -> np.ndarray:
    """Rows `rows` (any order, repeats allowed) of a 2-D dataset as `dtype` (None: as stored),
    read as contiguous slices of the sorted distinct rows (h5py point selections are slow)."""
    rows = np.asarray(rows, dtype=np.int64)
    distinct, inverse = np.unique(rows, return_inverse=True)
    breaks = np.flatnonzero(np.diff(distinct) != 1) + 1
    runs = np.split(distinct, breaks) if distinct.size else []
    block = (
        np.concatenate([dataset[run[0] : run[-1] + 1] for run in runs])
        if runs
        else np.empty((0, dataset.shape[1]), dtype=dataset.dtype)
    )
    if not np.array_equal(rows, distinct):
        block = block[inverse]
    return block if dtype is None else block.astype(dtype, copy=False)
