#!/usr/bin/env python
"""The benchmark's GPU column in one short run, on a machine with a CUDA GPU and PyTorch,
transformers, h5py and sentencepiece (nothing else from this repository's environment):

    PYTHONPATH=src:tests python3 tools/gpu_bench.py --out results/bench     # ~3 min on an H200
    PYTHONPATH=src:tests python3 tools/gpu_bench.py --device cpu --quick    # a check of the script itself

In the same run: the device's own matmul rate at FFN shapes (float32, TF32, bfloat16); the
snapshot of a random model of Gemma 3 270M's shape (weights do not change the time) on the
repository's WMT14 excerpt, repeated, in float32 and bfloat16, with its effective rate over its
linear layers and that rate's share of the matmul rate; and the shard writer's throughput for
a layer of XGLM 7.5B's width (ffn 16,384 + d_model 4,096, float16 rows). Writes
gpu_bench.tsv and gpu_bench.md to --out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests"), str(REPO / "tools")]

from bench_measurements import matmul_rate, synchronize  # noqa: E402
from ffnscope.atomic import write_text  # noqa: E402
from ffnscope.models import device_description, load_model  # noqa: E402
from ffnscope.shards import ShardSet  # noqa: E402
from ffnscope.snapshot import SnapshotSettings, snapshot  # noqa: E402
from ffnscope.tables import markdown_table  # noqa: E402
from tiny_xglm import build_tiny_gated  # noqa: E402

# Gemma 3 270M's decoder (its config.json); the vocabulary is the tiny tokenizer's: the
# snapshot never runs the LM head
GEMMA_270M = {
    "hidden_size": 640,
    "intermediate_size": 2048,
    "num_hidden_layers": 18,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 256,
    "sliding_window": 512,
    "query_pre_attn_scalar": 256,
    "max_position_embeddings": 32768,
}
XGLM_7_5B = {"ffn_dim": 16384, "d_model": 4096}


def sentences(n: int) -> list[str]:
    """`n` sentences of the WMT14 excerpt (every side in turn), repeated as needed."""
    lines = [
        line
        for path in sorted((REPO / "tests" / "data" / "wmt14").rglob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.split()) >= 2
    ]
    return [lines[i % len(lines)] for i in range(n)]


def linear_params(model: torch.nn.Module) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def extraction(model_dir: Path, device: str, dtype: str, texts: list[str], work: Path, matmul: float) -> dict:
    loaded = load_model("bench", str(model_dir), device=device, dtype=dtype)
    layers = list(range(loaded.model.config.num_hidden_layers))
    settings = SnapshotSettings(compression="none")
    out = {layer: work / f"{dtype}-layer{layer:02d}.h5" for layer in layers}
    snapshot(loaded, texts[:8], layers, out, settings, {"testset": "bench", "lang": "mixed"})  # warm-up
    synchronize(loaded.device)
    started = time.perf_counter()
    n_prefixes = snapshot(loaded, texts, layers, out, settings, {"testset": "bench", "lang": "mixed"})
    synchronize(loaded.device)
    seconds = time.perf_counter() - started
    n_tokens = sum(len(loaded.tokenizer(t).input_ids) for t in texts)
    gflops = 2 * linear_params(loaded.base) * n_tokens / seconds / 1e9
    written = sum(p.stat().st_size for p in out.values()) / 1e6
    return {
        "measure": "snapshot (Gemma 3 270M shape)",
        "dtype": dtype,
        "seconds": seconds,
        "n_sentences": len(texts),
        "n_prefixes": n_prefixes,
        "n_tokens": n_tokens,
        "gflop_s": gflops,
        "share_of_matmul": gflops / matmul,
        "shard_mb": written,
        "write_mb_s": np.nan,
    }


def shard_write(work: Path, n_rows: int, compression: str) -> dict:
    """float16 rows of a 7.5B-shaped layer through the shard writer, 4,096 rows at a time."""
    widths = [XGLM_7_5B["ffn_dim"], XGLM_7_5B["d_model"]]
    path = work / f"write-{compression}.h5"
    rng = np.random.default_rng(0)
    block = 4096
    rows = {
        "detector": rng.standard_normal((block, widths[0]), dtype=np.float32).astype(np.float16),
        "combinator": rng.standard_normal((block, widths[1]), dtype=np.float32).astype(np.float16),
    }
    index = np.zeros(block, np.int32)
    started = time.perf_counter()
    with ShardSet({0: path}, n_rows, "float16", compression, {0: {"layer": 0}}, widths) as shards:
        for start in range(0, n_rows, block):
            shards.write(start, {0: rows}, index, index)
    seconds = time.perf_counter() - started
    mb = n_rows * sum(widths) * 2 / 1e6
    return {
        "measure": f"shard write, 7.5B layer, {compression}",
        "dtype": "float16",
        "seconds": seconds,
        "write_mb_s": mb / seconds,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "bench")
    parser.add_argument("--quick", action="store_true", help="small sizes: a check of the script, not a measurement")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device: run on a GPU machine, or --device cpu --quick to check the script")
    name = device_description(device)
    # --quick: a check of the script that a CPU without native bfloat16 (emulated) runs in seconds
    m, repeats, n_sentences, n_rows = (64, 1, 4, 8192) if args.quick else (8192, 20, 4096, 262144)
    gemma = {**GEMMA_270M, "num_hidden_layers": 2} if args.quick else GEMMA_270M
    big = {key: width // 8 for key, width in XGLM_7_5B.items()} if args.quick else XGLM_7_5B
    k, n = gemma["hidden_size"], gemma["intermediate_size"]
    rows = []
    for dtype, tf32 in ((torch.float32, False), (torch.float32, True), (torch.bfloat16, False)):
        if tf32 and device.type != "cuda":
            continue
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for shape in ((m, k, n), (m, big["d_model"], big["ffn_dim"])):
            rows.append(
                {
                    "measure": f"matmul {shape[0]}x{shape[1]}x{shape[2]}",
                    "dtype": str(dtype).removeprefix("torch.") + (" (TF32)" if tf32 else ""),
                    "gflop_s": matmul_rate(device, dtype, *shape, repeats),
                }
            )
    torch.backends.cuda.matmul.allow_tf32 = False  # the snapshot computes in true float32
    gemma_rate = {r["dtype"]: r["gflop_s"] for r in rows if r["measure"] == f"matmul {m}x{k}x{n}"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = build_tiny_gated(work / "gemma-shape", "gemma3_text", shape=gemma)
        texts = sentences(n_sentences)
        for dtype in ("float32", "bfloat16"):
            rows.append(extraction(model_dir, args.device, dtype, texts, work, gemma_rate[dtype]))
        for compression in ("none", "lzf"):
            rows.append(shard_write(work, n_rows, compression))
    table = pd.DataFrame(rows).assign(device=name)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "gpu_bench.tsv", sep="\t", index=False)
    text = "\n".join(
        [
            f"# GPU benchmark: {name}, torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M')}"
            + (" (--quick: not a measurement)" if args.quick else ""),
            "",
            markdown_table(table),
            "",
        ]
    )
    write_text(args.out / "gpu_bench.md", text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
