"""Faults reproduced for real: a full disk (a 2 MB tmpfs mounted in a private user and mount
namespace by `unshare`, so no root is needed and nothing outside the test sees it), a shard
truncated on disk, a writer killed with SIGKILL mid-write."""

import shutil
import subprocess
import sys
import textwrap

import pytest

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
