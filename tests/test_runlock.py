"""ffnscope.runlock across real processes: the lock is held from parsing to exit and released
by a SIGKILL; a killed run's Snakemake locks are removed only where nothing of it can still
write; a run keeps a second one out."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ffnscope import runlock

SRC = Path(__file__).resolve().parents[1] / "src"


def start_holder(workdir, *calls, child=False):
    """A process in `workdir`, in a process group of its own, that makes the runlock `calls`
    (e.g. `claim()`, `require(cluster=True)`), optionally starts a child in its group (a job
    it runs), says so and waits to be killed."""
    code = "import subprocess, time\nfrom ffnscope import runlock\n"
    code += "".join(f"runlock.{call}\n" for call in calls)
    code += "subprocess.Popen(['sleep', '120'])\n" if child else ""
    code += "print('holding', flush=True)\ntime.sleep(120)\n"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=workdir,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        start_new_session=True,
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


def snakemake_locks(workdir):
    """Snakemake's lock files, as a run writes them."""
    locks = workdir / runlock.LOCKS
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("results/a\n")
    return locks


def kill(process, group=False):
    os.killpg(process.pid, signal.SIGKILL) if group else process.kill()
    process.wait()


def test_a_killed_run_leaves_locks_the_next_process_removes(tmp_path):
    holder = start_holder(tmp_path, "claim()", "require()")
    locks = snakemake_locks(tmp_path)
    assert in_process(tmp_path, "print(runlock.claim())") == "None"  # alive: kept
    assert locks.exists()
    kill(holder)
    note = in_process(tmp_path, "print(runlock.claim())")
    assert (
        f"removed Snakemake's lock (.snakemake/locks) left by a run in this directory that was killed (pid {holder.pid}"
        in note
    )
    assert not locks.exists()
    assert json.loads((tmp_path / runlock.LOCK).read_text())["state"] == "ended"


def test_locks_stay_while_a_job_of_the_killed_run_runs(tmp_path):
    holder = start_holder(tmp_path, "claim()", "require()", child=True)
    locks = snakemake_locks(tmp_path)
    kill(holder)  # Snakemake alone: the job it started runs on
    note = in_process(tmp_path, "print(runlock.claim())")
    assert f"processes of the run that left it still run (process group {holder.pid}" in note
    assert f"kill -- -{holder.pid}" in note and locks.exists()
    os.killpg(holder.pid, signal.SIGKILL)
    time.sleep(0.2)
    assert "removed Snakemake's lock" in in_process(tmp_path, "print(runlock.claim())")


def test_locks_of_a_killed_cluster_run_stay_until_unlocked(tmp_path):
    holder = start_holder(tmp_path, "claim()", "require(cluster=True)")
    locks = snakemake_locks(tmp_path)
    kill(holder, group=True)
    note = in_process(tmp_path, "print(runlock.claim())")
    assert "its cluster jobs may still run" in note and "squeue --me; scancel" in note and locks.exists()
    assert in_process(tmp_path, "print(runlock.claim(unlocking=True))") == "None"  # snakemake --unlock
    assert json.loads((tmp_path / runlock.LOCK).read_text())["state"] == "ended"


def test_a_run_of_another_host_is_not_judged_from_here(tmp_path):
    lock = tmp_path / runlock.LOCK
    lock.parent.mkdir(parents=True)
    record = dict(state="running", pid=1, pgid=1, host="elsewhere", since="t", cluster=False, command="snakemake")
    lock.write_text(json.dumps(record))
    snakemake_locks(tmp_path)
    assert "the run that left it ran on another host (pid 1 on elsewhere" in in_process(
        tmp_path, "print(runlock.claim())"
    )
    out = in_process(tmp_path, "runlock.claim()\nrunlock.require()")
    assert "DirectoryInUse: a run on another host has not ended" in out and "snakemake --unlock" in out


def test_a_run_keeps_a_second_one_out_at_once(tmp_path):
    holder = start_holder(tmp_path, "claim()", "require()")
    started = time.monotonic()
    out = in_process(tmp_path, "runlock.claim()\nrunlock.require(wait_s=60)")
    assert time.monotonic() - started < 30  # not waited for
    assert f"DirectoryInUse: another Snakemake process uses {tmp_path} (running jobs: pid {holder.pid} on " in out
    kill(holder)


def test_a_reader_is_waited_for_and_the_run_records_itself(tmp_path):
    """A dry run holding the lock delays a run; if it outlasts the wait, the run stops."""
    holder = start_holder(tmp_path, "claim()")
    out = in_process(tmp_path, "runlock.claim()\nrunlock.require(wait_s=1)")
    assert "(not running jobs)" in out
    kill(holder)
    assert in_process(tmp_path, "runlock.claim()\nrunlock.require(wait_s=1)\nprint('ran')") == "ran"
    record = json.loads((tmp_path / runlock.LOCK).read_text())
    assert record["state"] == "running" and record["cluster"] is False  # a killed run's record
    in_process(tmp_path, "runlock.claim()\nrunlock.require()\nrunlock.release()")
    assert json.loads((tmp_path / runlock.LOCK).read_text())["state"] == "ended"


@pytest.mark.parametrize("calls", [("claim",), ("require",)])
def test_holding_twice_in_one_process_is_harmless(tmp_path, calls, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runlock, "_held", None)
    for call in (*calls, *calls):
        getattr(runlock, call)()
    assert runlock._held is not None
    runlock._held.close()  # releases it for the rest of the test session
    monkeypatch.setattr(runlock, "_held", None)
