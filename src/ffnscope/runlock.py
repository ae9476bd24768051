"""One Snakemake run at a time in a working directory, and no stale lock after a killed one.

Snakemake's own lock is a set of files (.snakemake/locks) that a killed run leaves behind, so
the next run stops with a LockException until `--unlock`; and two runs started at the same
instant can both take it (it checks for lock files, then writes its own). So every main
Snakemake process of this workflow also tries to hold an flock(2) on LOCK, from parsing the
Snakefile to its exit: the kernel releases it however the process ends. A process that gets it
knows that no other process of this workflow is alive in the directory, so Snakemake lock files
there are left by a killed run and are removed; a run that is about to start jobs without it
(`require`, from `onstart`) is the second of two and stops.

Covers Snakemake's default (file) persistence backend, whose lock is the folder LOCKS.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import IO

LOCK = Path(".snakemake/ffnscope/run.lock")
LOCKS = Path(".snakemake/locks")  # Snakemake's lock files (file persistence)
RUNNING = "running jobs"  # what a holder that has started jobs writes into LOCK

_held: IO[str] | None = None  # the lock file while this process holds the lock


class DirectoryInUse(RuntimeError):
    """Another Snakemake run of this workflow is alive in the working directory."""


def _try_lock(path: Path) -> IO[str] | None:
    """The open lock file if this process now holds the lock, else None."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    _describe(handle, "reading the workflow")
    return handle


def _describe(handle: IO[str], doing: str) -> None:
    """Write who holds the lock and what it does, for the message another run prints."""
    handle.seek(0)
    handle.truncate()
    handle.write(f"{doing}: pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}, ")
    handle.write(" ".join(sys.argv) + "\n")
    handle.flush()


def claim(path: Path = LOCK, locks: Path = LOCKS) -> str | None:
    """At parse time: hold the lock if no other process does. Holding it, remove Snakemake's
    lock files (only a killed run leaves them); returns what was done, for the log."""
    global _held
    if _held is not None:
        return None
    _held = _try_lock(path)
    if _held is None or not locks.exists():
        return None
    shutil.rmtree(locks)
    return (
        f"removed Snakemake's lock ({locks}) left by a run in this directory that was killed: "
        "no other Snakemake run of this workflow is alive here"
    )


def holder(path: Path = LOCK) -> str:
    """Who holds the lock and what it does, as its holder wrote it."""
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown process"
    except OSError:
        return "unknown process"


def require(path: Path = LOCK, wait_s: float = 30) -> None:
    """Before the first job: hold the lock. A holder that only reads the workflow (a dry run,
    `--list-rules`) is waited for, up to `wait_s` seconds; one that runs jobs, or outlasts the
    wait, makes this raise DirectoryInUse."""
    global _held
    deadline = time.monotonic() + wait_s
    while _held is None:
        _held = _try_lock(path)
        if _held is not None:
            break
        other = holder(path)
        if other.startswith(RUNNING) or time.monotonic() >= deadline:
            raise DirectoryInUse(
                f"another Snakemake process uses {Path.cwd()} ({other}); "
                "wait for it to end, or stop it, then run this command again"
            )
        time.sleep(0.5)
    _describe(_held, RUNNING)
