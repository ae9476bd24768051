"""ffnscope.runlock across real processes: the lock is held from parsing to exit, released by a
SIGKILL, and its holder keeps a second run out while stale Snakemake locks are removed."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ffnscope import runlock

SRC = Path(__file__).resolve().parents[1] / "src"


def start_holder(workdir, *calls):
    """A process in `workdir` that makes the runlock `calls` (`claim`, `require`), says so and
    waits to be killed."""
    code = "import time\nfrom ffnscope import runlock\n"
    code += "".join(f"runlock.{call}()\n" for call in calls)
    code += "print('holding', flush=True)\ntime.sleep(120)\n"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=workdir,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert process.stdout.readline().strip() == "holding"
    return process


def in_process(workdir, code):
    """Run `code` (runlock imported) in a fresh process in `workdir`; what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", f"from ffnscope import runlock\n{code}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    return (result.stdout + result.stderr).strip()


def stale_locks(workdir):
    locks = workdir / runlock.LOCKS
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("results/a\n")
    return locks


def test_killed_holder_releases_and_its_locks_are_removed(tmp_path):
    holder = start_holder(tmp_path, "claim", "require")
    locks = stale_locks(tmp_path)  # as a run holding the lock writes them
    assert in_process(tmp_path, "print(runlock.claim())") == "None"  # a live holder: kept
    assert locks.exists()
    holder.kill()
    holder.wait()
    assert "removed Snakemake's lock (.snakemake/locks) left by a run" in in_process(tmp_path, "print(runlock.claim())")
    assert not locks.exists()


def test_a_run_keeps_a_second_one_out_at_once(tmp_path):
    holder = start_holder(tmp_path, "claim", "require")
    started = time.monotonic()
    out = in_process(tmp_path, "runlock.claim()\nrunlock.require(wait_s=60)")
    assert time.monotonic() - started < 30  # not waited for
    assert f"DirectoryInUse: another Snakemake process uses {tmp_path} (running jobs: pid {holder.pid} on " in out
    holder.kill()
    holder.wait()


def test_a_reader_is_waited_for(tmp_path):
    """A dry run holding the lock delays a run; if it outlasts the wait, the run stops."""
    holder = start_holder(tmp_path, "claim")
    out = in_process(tmp_path, "runlock.claim()\nrunlock.require(wait_s=1)")
    assert f"(reading the workflow: pid {holder.pid} on " in out
    holder.kill()
    holder.wait()
    assert in_process(tmp_path, "runlock.claim()\nrunlock.require(wait_s=1)\nprint('ran')") == "ran"
    assert (tmp_path / runlock.LOCK).read_text().startswith("running jobs: pid ")


@pytest.mark.parametrize("calls", [("claim",), ("require",)])
def test_holding_twice_in_one_process_is_harmless(tmp_path, calls, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runlock, "_held", None)
    for call in (*calls, *calls):
        getattr(runlock, call)()
    assert runlock._held is not None
    runlock._held.close()  # releases it for the rest of the test session
    monkeypatch.setattr(runlock, "_held", None)
