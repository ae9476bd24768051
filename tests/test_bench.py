"""The benchmark's measurements (tools/bench_measurements.py) measure the right thing: its
per-prefix way captures the same rows as the snapshot shards, and its synthetic shards follow
the shard contract."""

import numpy as np
import pytest

import bench_measurements as bench
from ffnscope.activations import activate
from ffnscope.metrics import shard_statistics
from ffnscope.models import load_model
from ffnscope.shards import read_attrs, read_dataset
from ffnscope.snapshot import SnapshotSettings, encode_all, ffn_dims, shard_attributes, snapshot


def test_per_prefix_way_equals_snapshot_rows(tiny_xglm_dir, wmt_sentences, tmp_path):
    loaded = load_model("m", str(tiny_xglm_dir), device="cpu", dtype="float32")
    sentences = wmt_sentences[:3]
    settings = SnapshotSettings(storage_dtype="float16")
    attrs = shard_attributes(
        model="m",
        model_path="p",
        revision="r",
        testset="t",
        lang="x",
        n_sentences=len(sentences),
        settings=settings,
        loaded=loaded,
        hash_of_config="h",
    )
    snapshot(loaded, sentences, [1, 3], {1: tmp_path / "l1.h5", 3: tmp_path / "l3.h5"}, settings, attrs)
    encoded = encode_all(loaded.tokenizer, sentences, settings)
    rows = bench._row_buffers(ffn_dims(loaded), [1, 3], sum(len(e.positions) for e in encoded))
    bench.per_prefix(loaded, encoded, [1, 3], rows)
    for layer in (1, 3):
        assert bench.max_rel_error(rows[layer], tmp_path / f"l{layer}.h5") < 2e-3  # float16 rounding
    rows[3]["combinator"][0] += 1.0  # and the check does see a wrong row
    assert bench.max_rel_error(rows[3], tmp_path / "l3.h5") > 1e-2


def test_synthetic_shard_follows_the_contract(tmp_path):
    path = tmp_path / "s.h5"
    n = bench.synthetic_shard(path, n_sentences=5, ffn_dim=16, d_model=8, seed=1, mean_words=4)
    sentence_index = read_dataset(path, "sentence_index")
    assert n == len(sentence_index) and np.all(np.diff(sentence_index) >= 0)
    assert set(sentence_index) == set(range(5)) and read_attrs(path)["n_sentences"] == 5
    pre = read_dataset(path, "detector_pre").astype(np.float32)
    np.testing.assert_allclose(read_dataset(path, "detector"), activate(pre, "gelu"), atol=2e-3)
    stats = shard_statistics(path, "detector", "authors_code", "> 0")
    assert stats.total_prefixes() == n


def test_peak_rss_is_this_process():
    big = np.ones(64 << 20, dtype=np.uint8)  # touch 64 MiB
    assert bench.peak_rss_mb() >= 64
    del big


@pytest.mark.slow
def test_gpu_benchmark_script_runs_here_in_quick_mode(tmp_path):
    """tools/gpu_bench.py is prepared for one run on a lent GPU: checked here on the CPU at
    small sizes (every measure present, rates positive, the snapshot's prefixes counted)."""
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    repo = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, str(repo / "tools/gpu_bench.py"), "--device", "cpu", "--quick", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    table = pd.read_csv(tmp_path / "gpu_bench.tsv", sep="\t")
    snapshots = table[table["measure"].str.startswith("snapshot")]
    assert snapshots["dtype"].tolist() == ["float32", "bfloat16"]
    assert (snapshots["n_prefixes"] > snapshots["n_sentences"]).all() and (snapshots["gflop_s"] > 0).all()
    assert (table[table["measure"].str.startswith("matmul")]["gflop_s"] > 0).all()
    assert (table[table["measure"].str.startswith("shard write")]["write_mb_s"] > 0).all()
    assert "(--quick: not a measurement)" in (tmp_path / "gpu_bench.md").read_text()


@pytest.mark.parametrize(
    "way, dtype, batching",
    [("snapshot_bfloat16", "bfloat16", "packed"), ("snapshot_padded", "float32", "right-padded")],
)
def test_extraction_levers_run_what_they_name(way, dtype, batching, wmt_sentences, tmp_path):
    """The lever ways compute in their dtype and batch as they say (a tiny Llama packs), and
    report the matmul rate of that dtype measured in the same process."""
    from tiny_xglm import build_tiny_gated

    model_dir = build_tiny_gated(tmp_path / "llama", "llama")
    spec = {
        "way": way,
        "model_dir": str(model_dir),
        "dtype": dtype,
        "sentences": wmt_sentences[:4],
        "out_dir": str(tmp_path / way),
        "threads": 1,
        "check_layer": -1,
        "repeats": 2,
    }
    result = bench.extract(spec)
    assert (result["dtype"], result["repeats"]) == (dtype, 2) and result["matmul_gflop_s"] > 0
    attrs = read_attrs(tmp_path / way / "layer00.h5")
    assert (attrs["compute_dtype"], attrs["batching"]) == (dtype, batching)
