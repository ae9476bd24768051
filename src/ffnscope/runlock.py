"""One Snakemake run at a time in a working directory, and no stale lock after a killed one.

Snakemake's own lock is a set of files (LOCKS) that a killed run leaves behind, so the next run
stops with a LockException until `--unlock`; and two runs started at the same instant can both
take it (it checks for lock files, then writes its own). So every main Snakemake process of
this workflow tries to hold an flock(2) on LOCK from parsing the Snakefile to its exit (the
kernel releases it however the process ends), and a run holds it before its first job
(`require`, from `onstart`): two processes never run jobs in one directory at once.

LOCK also records the last run that ran jobs (a JSON Record) until it ends (`release`). A
process that gets the lock while that record says "running" knows the run was killed; it
removes Snakemake's lock files only where nothing of that run can still write: the run was on
this host, no process of its process group is alive (a job Snakemake started), and it did not
submit jobs to a cluster (those may still run). Otherwise the message says what to check.

Covers Snakemake's default (file) persistence backend, whose lock is the folder LOCKS. Where
the file system offers no flock (some Lustre or NFS mounts), Snakemake's own lock alone acts.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

LOCK = Path(".snakemake/ffnscope/run.lock")
LOCKS = Path(".snakemake/locks")  # Snakemake's lock files (file persistence)

_held: IO[str] | None = None  # the lock file while this process holds the lock


class DirectoryInUse(RuntimeError):
    """Another Snakemake run of this workflow runs, or may run, in the working directory."""


@dataclass(frozen=True)
class Record:
    """The last run that ran jobs here, as it wrote itself into LOCK."""

    state: str  # running | ended
    pid: int
    pgid: int
    host: str
    since: str
    cluster: bool  # its jobs ran on a cluster (they outlive the Snakemake process)
    command: str

    def __str__(self) -> str:
        where = "on a cluster" if self.cluster else "locally"
        return f"pid {self.pid} on {self.host} since {self.since}, jobs {where}: {self.command}"

    def alive_here(self) -> bool:
        """Whether a process of its process group (the run or a job it started) still runs on
        this host."""
        if self.host != socket.gethostname():
            return False
        if self.pgid == os.getpgid(0):  # started from the same shell script: the group is ours too
            return _running(self.pid)
        return _group_running(self.pgid)


def _state(stat: str) -> tuple[str, int]:
    """A /proc/PID/stat line's process state and process group."""
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[2])


def _running(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return _state(Path(f"/proc/{pid}/stat").read_text())[0] not in "ZX"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _group_running(pgid: int) -> bool:
    """Whether a process of process group `pgid` runs (zombies do not)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            state, group = _state(stat.read_text())
        except (OSError, IndexError, ValueError):
            continue  # ended while listed
        if group == pgid and state not in "ZX":
            return True
    return False


def _record(path: Path) -> Record | None:
    try:
        return Record(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write(handle: IO[str], record: Record) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(asdict(record)) + "\n")
    handle.flush()


def _try_lock(path: Path) -> IO[str] | None | bool:
    """The open lock file if this process now holds the lock, None if another does, False
    where the file system has no flock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    except OSError as err:
        handle.close()
        if err.errno in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK, errno.EINVAL):
            return False
        raise
    return handle


def claim(path: Path = LOCK, locks: Path = LOCKS, unlocking: bool = False) -> str | None:
    """At parse time: hold the lock if no other process does. Holding it, remove Snakemake's
    lock files a killed run left, where nothing of that run can still write (see the module);
    `unlocking` (snakemake --unlock) forgets a killed run. Returns what to log, if anything."""
    global _held
    if _held is not None:
        return None
    handle = _try_lock(path)
    if handle is False:
        return f"{path.parent} has no flock(2) here: only Snakemake's own lock keeps two runs apart"
    if handle is None:
        return None
    _held = handle
    last = _record(path)
    killed = last is not None and last.state == "running"
    if killed and unlocking:
        _write(_held, Record(**{**asdict(last), "state": "ended"}))
        return None
    if not locks.exists():
        return None
    if killed and last.host != socket.gethostname():
        return (
            f"Snakemake's lock ({locks}) stays: the run that left it ran on another host ({last}); "
            "if it is not alive there, `snakemake --unlock` (with the same --configfile)"
        )
    if killed and last.alive_here():
        return (
            f"Snakemake's lock ({locks}) stays: processes of the run that left it still run (process group "
            f"{last.pgid}: {last}); wait for them or stop them (kill -- -{last.pgid}), then run again"
        )
    if killed and last.cluster:
        return (
            f"Snakemake's lock ({locks}) stays: the run that left it was killed, but its cluster jobs may still "
            f"run ({last}); cancel them (squeue --me; scancel), then `snakemake --unlock` and run again"
        )
    shutil.rmtree(locks)
    if last is not None:
        _write(_held, Record(**{**asdict(last), "state": "ended"}))
    return (
        f"removed Snakemake's lock ({locks}) left by a run in this directory that was killed "
        f"({last or 'unknown'}): nothing of it runs any more"
    )


def require(path: Path = LOCK, cluster: bool = False, wait_s: float = 30) -> None:
    """Before the first job: hold the lock and record this run. A process that only reads the
    workflow (a dry run, `--list-rules`) is waited for, up to `wait_s` seconds; a run that
    runs jobs, or a holder that outlasts the wait, makes this raise DirectoryInUse."""
    global _held
    deadline = time.monotonic() + wait_s
    while _held is None:
        handle = _try_lock(path)
        if handle is False:
            return
        if handle is not None:
            _held = handle
            break
        last = _record(path)
        if (last is not None and last.state == "running") or time.monotonic() >= deadline:
            holder = f"running jobs: {last}" if last and last.state == "running" else "not running jobs"
            raise DirectoryInUse(
                f"another Snakemake process uses {Path.cwd()} ({holder}); "
                "wait for it to end, or stop it, then run this command again"
            )
        time.sleep(0.5)
    last = _record(path)
    if last is not None and last.state == "running" and last.host != socket.gethostname():
        raise DirectoryInUse(
            f"a run on another host has not ended in {Path.cwd()} ({last}); if it is not alive there, "
            "`snakemake --unlock` (with the same --configfile), then run this command again"
        )
    _write(
        _held,
        Record(
            state="running",
            pid=os.getpid(),
            pgid=os.getpgid(0),
            host=socket.gethostname(),
            since=time.strftime("%Y-%m-%d %H:%M:%S"),
            cluster=cluster,
            command=" ".join(sys.argv),
        ),
    )


def release(path: Path = LOCK) -> None:
    """When the run ends (success or error): its record says so."""
    last = _record(path)
    if _held is not None and last is not None and last.pid == os.getpid():
        _write(_held, Record(**{**asdict(last), "state": "ended"}))
