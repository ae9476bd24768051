"""Write-to-temp-then-rename, so an interrupted job never leaves a half-written output: one
file, or one directory (a model directory written by `save_pretrained`)."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _replace(tmp: Path, path: Path) -> None:
    """Rename `tmp` to `path`. A directory cannot be renamed over a non-empty one: the old one
    is renamed aside first and removed once the new one is in place."""
    if not (tmp.is_dir() and path.is_dir()):
        os.replace(tmp, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    _remove(old)
    os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling path (same suffix, so format detection by extension still
    works) for the caller to write a file or create a directory at; on success it replaces
    `path`, on error it is removed and `path` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Temporaries of `path` left by a killed process (SIGKILL, a node lost) are removed: the
    # workflow runs one job per output at a time (Snakemake's lock), so none is in use.
    for stale in path.parent.glob(f".{glob.escape(path.stem)}.tmp-*{glob.escape(path.suffix)}"):
        _remove(stale)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        _replace(tmp, path)
    finally:
        _remove(tmp)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_lines(path: str | Path, lines: Iterable[object]) -> None:
    """One item per line, each ended by a newline (sentences, line numbers)."""
    write_text(path, "".join(f"{line}\n" for line in lines))
