"""Faults reproduced for real (docs/cluster.md, "Failures and recovery"): a full disk (a small
tmpfs mounted in a private user and mount namespace by `unshare`, so no root is needed and
nothing outside the test sees it), duplicate names, edited test sets with old times, odd
bytes, a sentence longer than the model's context, a truncated shard, a run killed with
SIGKILL mid-write, two runs started at once. First on the shard writer, then each on a real
run of the workflow on the tiny XGLM: the message, and tables equal to a clean run's once the
user did what the message says."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from ffnscope.figures import FIGURES

UNSHARE = shutil.which("unshare")
NEEDS_UNSHARE = pytest.mark.skipif(
    UNSHARE is None or subprocess.run([UNSHARE, "-rm", "true"], capture_output=True).returncode != 0,
    reason="needs unshare with user namespaces to mount a small tmpfs",
)

WRITE_SHARDS = """
import sys, numpy as np
from ffnscope.shards import ShardSet
n, widths = 4000, [256, 64]
paths = {layer: f"{sys.argv[1]}/layer{layer:02d}.h5" for layer in range(4)}
declared = widths if sys.argv[2] == "declared" else []  # undeclared: the disk fills while writing
rows = {"detector": np.ones((500, 256), np.float16), "combinator": np.ones((500, 64), np.float16)}
index = np.zeros(500, np.int32)
with ShardSet(paths, n, "float16", "none", {k: {"layer": k} for k in paths}, declared) as shards:
    for start in range(0, n, 500):
        shards.write(start, {k: rows for k in paths}, index, index)
"""


def on_small_disk(tmp_path, mode):
    """Run WRITE_SHARDS on a fresh 2 MB tmpfs; its exit status, output and what is left there
    afterwards (`ls -A`, then the kB used)."""
    script = tmp_path / "write.py"
    script.write_text(WRITE_SHARDS)
    disk = tmp_path / "disk"
    disk.mkdir()
    shell = textwrap.dedent(
        f"""
        mount -t tmpfs -o size=2m tmpfs {disk} || exit 99
        {sys.executable} {script} {disk} {mode} > {tmp_path}/out.txt 2>&1
        echo "status=$?"
        echo "left=$(ls -A {disk} | tr '\\n' ' ')"
        echo "used=$(df -k --output=used {disk} | tail -1 | tr -d ' ')"
        """
    )
    result = subprocess.run([UNSHARE, "-rm", "sh", "-c", shell], capture_output=True, text=True, check=True)
    report = dict(line.split("=", 1) for line in result.stdout.split())
    return int(report["status"]), (tmp_path / "out.txt").read_text(), report["left"].strip(), int(report["used"])


@NEEDS_UNSHARE
def test_full_disk_is_known_before_writing(tmp_path):
    status, output, left, used = on_small_disk(tmp_path, "declared")
    assert status == 1 and "OSError: [Errno 28]" in output
    assert "the 4 shards need 10.4 MB, the disk has 2.1 MB free" in output
    assert left == "" and used == 0


@NEEDS_UNSHARE
def test_disk_filling_while_writing_leaves_no_partial_shard(tmp_path):
    """HDF5 may crash on exit after a failed write; the temporary shards are gone before."""
    status, output, left, used = on_small_disk(tmp_path, "undeclared")
    assert status != 0 and "No space left on device" in output
    assert left == "" and used == 0


def test_truncated_shard_names_itself_and_the_way_out(tmp_path):
    import os

    import numpy as np

    from ffnscope.distance import paired_distances
    from ffnscope.metrics import shard_statistics
    from ffnscope.shards import CorruptShard, ShardSet
    from tiny_xglm import XGLM_FFN

    path = tmp_path / "layer00.h5"
    rows = {"detector": np.ones((50, 8), np.float16), "combinator": np.ones((50, 4), np.float16)}
    with ShardSet({0: path}, 50, "float16", "none", {0: {"n_sentences": 1, **XGLM_FFN}}) as shards:
        shards.write(0, {0: rows}, np.zeros(50, np.int32), np.arange(50, dtype=np.int32))
    assert shard_statistics(path, "detector", "paper", "> 0").total_prefixes() == 50
    os.truncate(path, 1000)
    message = rf"{path}: unreadable shard .*; remove its side's folder \(rm -r {tmp_path}\) and run the workflow again"
    with pytest.raises(CorruptShard, match=message):
        shard_statistics(path, "detector", "paper", "> 0")
    with pytest.raises(CorruptShard, match=message):
        paired_distances(path, path, "detector")


KILLED_WRITER = """
import sys, time, numpy as np
from ffnscope.shards import ShardSet
paths = {layer: f"{sys.argv[1]}/layer{layer:02d}.h5" for layer in range(2)}
rows = {"detector": np.ones((10, 8), np.float16), "combinator": np.ones((10, 4), np.float16)}
with ShardSet(paths, 20, "float16", "none", {k: {"layer": k} for k in paths}) as shards:
    shards.write(0, {k: rows for k in paths}, np.zeros(10, np.int32), np.zeros(10, np.int32))
    print("written", flush=True)
    time.sleep(60)
"""


def test_a_killed_writer_leaves_nothing_the_next_run_keeps(tmp_path):
    """SIGKILL mid-write leaves hidden temporaries (no cleanup can run); the next write of
    those shards removes them and puts complete shards in place."""
    import numpy as np

    from ffnscope.shards import ShardSet

    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    writer = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "written"
    writer.kill()
    writer.wait()
    hidden = sorted(p.name for p in tmp_path.glob(".layer*"))
    assert hidden == [f".layer00.tmp-{writer.pid}.h5", f".layer01.tmp-{writer.pid}.h5"]
    paths = {layer: tmp_path / f"layer{layer:02d}.h5" for layer in range(2)}
    rows = {"detector": np.ones((20, 8), np.float16), "combinator": np.ones((20, 4), np.float16)}
    with ShardSet(paths, 20, "float16", "none", {k: {"layer": k} for k in paths}) as shards:
        shards.write(0, {k: rows for k in paths}, np.zeros(20, np.int32), np.zeros(20, np.int32))
    assert sorted(p.name for p in tmp_path.glob("*.h5")) == ["layer00.h5", "layer01.h5"]
    assert list(tmp_path.glob(".layer*")) == []


# --- the workflow: each fault on a real run, then the fix, then tables equal to a clean run ---

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
# tables only: figures draw from them and would only cost time here
NO_FIGURES = ["--omit-from", *(f"plot_{key}" for key in FIGURES)]
# 60 lines, all sampled; small forward batches, so that a snapshot writes for a while
CONFIG = {
    "data": {"source": "local", "local_dir": "data"},
    "testsets": [{"name": "wmt14-de-en", "dir": "de-en", "langs": ["de", "en"]}],
    "sampling": {"n_sentences": 60, "seed": 5},
    "metrics": {"methods": ["paper"]},
    "snapshot": {"token_budget": 16},
}


def command(workdir, *args):
    return [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(workdir / "test.yaml"), *args]


def run(workdir, *args):
    """A run of the tables (`args` added); its exit status and everything it printed."""
    result = subprocess.run(
        command(workdir, "--cores", "2", *NO_FIGURES, *args),
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return result.returncode, result.stdout + result.stderr


def tables(workdir):
    """The run's tables by path (job timings differ by nature)."""
    found = (workdir / "results" / "tables").rglob("*.tsv")
    return {p.relative_to(workdir): p.read_bytes() for p in found if not p.name.startswith("job_resources")}


def new_workdir(root, model_dir, shared_data, name):
    """A working directory with the config and a copy of 60 WMT14 de-en lines (data/de-en)."""
    workdir = root / name
    (workdir / "data" / "de-en").mkdir(parents=True)
    for lang in ("de", "en"):
        lines = (shared_data / "wmt14" / "de-en" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()[:60]
        (workdir / "data" / "de-en" / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    models = [{"name": "tiny-xglm", "path": str(model_dir), "n_layers": 4, "layers": [1, 2]}]
    (workdir / "test.yaml").write_text(yaml.safe_dump({**CONFIG, "models": models}))
    return workdir


@pytest.fixture(scope="module")
def clean(tmp_path_factory, tiny_xglm_dir, shared_data):
    """A finished run without faults, and a maker of fresh working directories like it."""
    root = tmp_path_factory.mktemp("faults")

    def fresh(name):
        return new_workdir(root, tiny_xglm_dir, shared_data, name)

    workdir = fresh("clean")
    status, output = run(workdir)
    assert status == 0, output[-3000:]
    return workdir, tables(workdir), fresh


def copy_of(workdir, name):
    """The finished working directory as a copy (times kept: nothing to do there)."""
    return Path(shutil.copytree(workdir, workdir.parent / name, symlinks=True))


def side_shards(workdir, lang):
    return sorted((workdir / "results/snapshots/tiny-xglm/wmt14-de-en" / lang).glob("*.h5"))


@NEEDS_UNSHARE
def test_full_disk_stops_the_snapshot_before_it_writes(clean, tmp_path):
    """The run's directory on a 64 MB tmpfs that a ballast file fills but for 1 MB: the
    snapshot jobs stop before writing (the side's shards need more), nothing partial stays;
    with the ballast removed the same command finishes."""
    workdir, expected, fresh = clean
    disk = fresh("disk")
    moved = tmp_path / "run"
    shutil.move(disk, moved)
    disk.mkdir()
    out = tmp_path / "out"
    again = " ".join(map(shlex.quote, command(disk, "--cores", "2", *NO_FIGURES)))
    shell = textwrap.dedent(
        f"""
        mount -t tmpfs -o size=64m tmpfs {disk} || exit 99
        cp -a {moved}/. {disk}/
        free=$(df -k --output=avail {disk} | tail -1)
        fallocate -l $(( (free - 1024) * 1024 )) {disk}/ballast
        HF_HUB_OFFLINE=1 {again} > {tmp_path}/first.txt 2>&1
        echo "status=$?"
        echo "partial=$(find {disk}/results -name '.layer*' | wc -l)"
        cat {disk}/logs/snapshot/tiny-xglm/*.log > {tmp_path}/logs.txt
        rm {disk}/ballast
        HF_HUB_OFFLINE=1 {again} > {tmp_path}/second.txt 2>&1
        echo "again=$?"
        mkdir {out} && cp -a {disk}/results {out}/
        """
    )
    result = subprocess.run([UNSHARE, "-rm", "sh", "-c", shell], capture_output=True, text=True, check=True)
    report = dict(line.split("=", 1) for line in result.stdout.split())
    assert report["status"] != "0" and report["partial"] == "0", (tmp_path / "first.txt").read_text()[-3000:]
    assert re.search(r"the 2 shards need [\d.]+ MB, the disk has [\d.]+ MB free", (tmp_path / "logs.txt").read_text())
    assert report["again"] == "0", (tmp_path / "second.txt").read_text()[-3000:]
    assert tables(out) == expected


def test_duplicate_names_stop_the_dry_run_and_touch_nothing(clean):
    workdir, expected, _ = clean
    copy = copy_of(workdir, "duplicates")
    config = yaml.safe_load((copy / "test.yaml").read_text())
    (copy / "test.yaml").write_text(yaml.safe_dump({**config, "models": config["models"] * 2}))
    status, output = run(copy, "-n")
    assert status != 0 and "config models[1]: name 'tiny-xglm' is used twice; names must be unique" in output
    (copy / "test.yaml").write_text(yaml.safe_dump(config))
    status, output = run(copy, "-n")
    assert status == 0 and "Nothing to be done" in output
    assert tables(copy) == expected


def edit_line(path, number, text):
    """Replace line `number` of `path` with `text`, keeping the file's times (as `cp -p`,
    `rsync -a` or `tar x` of another version of the data would)."""
    times = path.stat()
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_edited_test_set_with_old_times_reruns_its_side_only(clean):
    """Shards follow what their sentences are, not the files' times: an edited line re-runs
    the edited side's snapshot (not the other side's), its revert re-runs it again and gives
    the clean run's tables."""
    workdir, expected, _ = clean
    copy = copy_of(workdir, "stale")
    source = copy / "data" / "de-en" / "de.txt"
    original = source.read_text(encoding="utf-8").splitlines()[6]
    en_shards = {p: p.stat().st_mtime_ns for p in side_shards(copy, "en")}
    de_shards = {p: p.stat().st_mtime_ns for p in side_shards(copy, "de")}
    edit_line(source, 7, "Ein ganz anderer Satz steht nun in dieser Zeile.")
    status, output = run(copy)
    assert status == 0, output[-3000:]
    assert {p: p.stat().st_mtime_ns for p in side_shards(copy, "en")} == en_shards
    assert all(p.stat().st_mtime_ns != t for p, t in de_shards.items())
    assert tables(copy) != expected
    edit_line(source, 7, original)
    status, output = run(copy)
    assert status == 0, output[-3000:]
    assert tables(copy) == expected


def test_byte_order_mark_line_endings_and_zero_width_spaces_are_normalised(clean):
    """The same text with a BOM, CR-only or CRLF line ends and a zero-width space standing
    alone as a word gives the same sentences, shards and tables."""
    workdir, expected, fresh = clean
    odd = fresh("odd-bytes")
    de, en = (odd / "data" / "de-en" / f"{lang}.txt" for lang in ("de", "en"))
    de.write_bytes(b"\xef\xbb\xbf" + de.read_bytes().replace(b"\n", b"\r"))
    lines = en.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(" ", " \u200b ", 1)
    en.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    status, output = run(odd)
    assert status == 0, output[-3000:]
    for name in (
        "sentences/wmt14-de-en/de.txt",
        "sentences/wmt14-de-en/en.txt",
        "testsets/wmt14-de-en/line_numbers.txt",
    ):
        assert (odd / "results" / name).read_bytes() == (workdir / "results" / name).read_bytes()
    assert tables(odd) == expected


def test_sentence_longer_than_the_context_names_its_line(clean):
    workdir, expected, _ = clean
    copy = copy_of(workdir, "long")
    source = copy / "data" / "de-en" / "en.txt"
    original = source.read_text(encoding="utf-8").splitlines()[11]
    edit_line(source, 12, " ".join(["cat"] * 2100) + ".")
    status, output = run(copy)
    assert status != 0
    log = (copy / "logs/snapshot/tiny-xglm/wmt14-de-en_en.log").read_text()
    assert re.search(
        r"test set 'wmt14-de-en', language 'en': line 12 of its file \('cat cat .*\) is \d+ tokens, longer than "
        r"the model's context of 2048 positions; shorten or remove that line of the test set",
        log,
    ), log[-2000:]
    edit_line(source, 12, original)
    status, output = run(copy)
    assert status == 0, output[-3000:]
    assert tables(copy) == expected


def test_truncated_shard_is_reported_with_the_command_that_fixes_it(clean):
    """A shard cut short on disk: the jobs reading it stop with a message that names it and the
    command to run; after that command the run gives the clean run's tables."""
    workdir, expected, _ = clean
    copy = copy_of(workdir, "truncated")
    shard = side_shards(copy, "de")[0]
    os.truncate(shard, 1000)
    status, output = run(copy, "--forcerun", "layer_stats")  # as after a metric setting changed
    assert status != 0
    logs = "".join(p.read_text() for p in (copy / "logs").rglob("*.log"))
    relative = shard.relative_to(copy)  # as the job names it, in the run's directory
    fix = re.search(rf"{re.escape(str(relative))}: unreadable shard .*; remove its side's folder \(rm -r (\S+)\)", logs)
    assert fix and copy / fix[1] == shard.parent, logs[-3000:]
    subprocess.run(["rm", "-r", fix[1]], cwd=copy, check=True)
    status, output = run(copy)
    assert status == 0, output[-3000:]
    assert tables(copy) == expected


def test_killed_run_is_resumed_by_the_same_command(clean):
    """SIGKILL to Snakemake and its jobs while a snapshot writes: hidden temporary shards,
    Snakemake's lock and incomplete marks stay; the same command again removes the lock,
    re-runs the incomplete job (whose next write removes the temporaries) and finishes."""
    workdir, expected, fresh = clean
    killed = fresh("killed")
    snakemake = subprocess.Popen(
        command(killed, "--cores", "2", *NO_FIGURES),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        start_new_session=True,  # its own process group: the jobs die with it
    )
    snapshots = killed / "results" / "snapshots"
    deadline = time.monotonic() + 300
    while not list(snapshots.rglob(".layer*.tmp-*.h5")) and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(snakemake.pid, signal.SIGKILL)
    snakemake.wait()
    assert list(snapshots.rglob(".layer*.tmp-*.h5")), "no snapshot was caught writing"
    assert list((killed / ".snakemake" / "locks").iterdir())
    status, output = run(killed)
    assert status == 0, output[-3000:]
    assert "removed Snakemake's lock (.snakemake/locks) left by a run in this directory that was killed" in output
    assert not list(snapshots.rglob(".layer*"))
    assert tables(killed) == expected


def test_two_runs_started_at_once_one_runs_the_other_stops(clean):
    workdir, expected, fresh = clean
    both = fresh("twice")
    runs = [
        subprocess.Popen(
            command(both, "--cores", "2", *NO_FIGURES),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        for _ in range(2)
    ]
    outputs = [r.communicate()[0] for r in runs]
    statuses = sorted(r.returncode for r in runs)
    assert statuses[0] == 0 and statuses[1] != 0, outputs
    stopped = outputs[[r.returncode for r in runs].index(statuses[1])]
    # Snakemake's own lock, or, where both took it at the same instant, the workflow's
    assert "Directory cannot be locked" in stopped or "another Snakemake process uses" in stopped, stopped
    assert "Select jobs to execute" not in stopped  # it ran no job
    assert tables(both) == expected


def test_fewer_lines_than_asked_warn_in_the_dry_run(clean):
    workdir, _, _ = clean
    copy = copy_of(workdir, "few")
    config = yaml.safe_load((copy / "test.yaml").read_text())
    (copy / "test.yaml").write_text(yaml.safe_dump({**config, "sampling": {"n_sentences": 100, "seed": 5}}))
    status, output = run(copy, "-n")
    assert status == 0
    assert (
        "ffnscope: test set 'wmt14-de-en' has 60 lines with the words a prefix needs on every side "
        "(data/de-en/de.txt, data/de-en/en.txt), fewer than config sampling.n_sentences (100): all 60 are used"
    ) in output


def test_a_run_that_holds_the_directory_keeps_another_out(clean):
    """Without Snakemake's lock files (as when both runs passed Snakemake's check at once), the
    workflow's own lock stops a second run before its first job."""
    from test_runlock import start_holder

    workdir, expected, _ = clean
    copy = copy_of(workdir, "held")
    table = copy / "results/tables/tiny-xglm/flatness.tsv"
    table.unlink()
    holder = start_holder(copy, "claim()", "require()")
    try:
        status, output = run(copy)
        assert status != 0 and f"another Snakemake process uses {copy} (running jobs: pid {holder.pid} on" in output
        assert not table.exists()
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    status, output = run(copy)
    assert status == 0, output[-3000:]
    assert tables(copy) == expected
