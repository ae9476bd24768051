#!/usr/bin/env python
"""What the snapshots' compute precision does to the paper's metrics, measured: the demo's
tables (method paper) once per `snapshot.compute_dtype`, each against float32 beside the
float32 run's bootstrap intervals (ffnscope.precision), and the shards' rows against
float32's. Writes results/bench/precision.tsv, precision_shards.tsv and precision.md. The
speed of each dtype is the extraction benchmark's (tools/benchmark.py: `snapshot` and
`snapshot_bfloat16`, measured in one process each, not workflow jobs sharing the cores).

    .venv/bin/python tools/precision.py                        # float32, bfloat16, float16; ~15 min on 2 cores
    .venv/bin/python tools/precision.py --dtypes float32 bfloat16

Each dtype's run lives in its own working directory under --work (kept: re-running the tool
re-uses finished runs); the model is the demo's converted Gemma 3 270M (built first if needed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ffnscope.atomic import write_text  # noqa: E402
from ffnscope.figures import FIGURES  # noqa: E402
from ffnscope.models import device_description  # noqa: E402
from ffnscope.precision import VALUES, compare_runs  # noqa: E402
from ffnscope.tables import markdown_table, read_tsv  # noqa: E402

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
OUT = REPO / "results" / "bench"


def demo_model(config: dict, cores: int) -> dict:
    """The demo's model entry as a plain path (its converted directory, built if missing)."""
    (entry,) = config["models"]
    path = REPO / "resources" / "models" / entry["name"]
    if not (path / "config.json").is_file():
        subprocess.run(
            [*SNAKEMAKE, str(path.relative_to(REPO)), "--cores", str(cores), "--configfile", "config/demo.yaml"],
            cwd=REPO,
            check=True,
        )
    return {"name": entry["name"], "path": str(path), "n_layers": entry["n_layers"], "layers": entry["layers"]}


def run_tables(workdir: Path, config: dict, cores: int) -> str | None:
    """The run's tables (no figures) in `workdir`; the first job error's message where the
    run failed."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "precision.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            *SNAKEMAKE,
            "--directory",
            str(workdir),
            "--configfile",  # relative to the working directory, the Snakefile's default is not found
            str(REPO / "config" / "config.yaml"),
            str(REPO / "config" / "demo.yaml"),
            str(workdir / "precision.yaml"),
            "--cores",
            str(cores),
            "--omit-from",
            *(f"plot_{key}" for key in FIGURES),
        ],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if result.returncode == 0:
        return None
    errors = [
        line
        for log in sorted((workdir / "logs").rglob("*.log"))
        for line in log.read_text().splitlines()
        if line.startswith(("ValueError", "RuntimeError", "OSError"))
    ]
    return errors[0] if errors else f"exit status {result.returncode}"


def load_tables(workdir: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for name in (*VALUES, "language_neurons"):
        files = sorted((workdir / "results" / "tables").rglob(f"{name}.tsv"))
        if files:
            tables[name] = pd.concat([read_tsv(p) for p in files], ignore_index=True)
    return tables


def shard_differences(reference: Path, other: Path) -> dict:
    """One shard against the float32 one: per row the relative L2 difference (median, 99th
    percentile) and the share of detector values whose sign differs."""
    out = {}
    with h5py.File(reference) as a, h5py.File(other) as b:
        for name in ("detector", "combinator"):
            x, y = a[name][:].astype(np.float32), b[name][:].astype(np.float32)
            rel = np.linalg.norm(y - x, axis=1) / np.maximum(np.linalg.norm(x, axis=1), 1e-30)
            out[f"{name}_rel_l2_median"] = float(np.median(rel))
            out[f"{name}_rel_l2_p99"] = float(np.percentile(rel, 99))
            out[f"{name}_not_finite"] = int((~np.isfinite(y)).sum())
            out[f"{name}_sign_flips"] = float(((x > 0) != (y > 0)).mean())
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16", "float16"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ffnscope-precision"))
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args(argv)
    if args.dtypes[0] != "float32" or len(args.dtypes) < 2:
        parser.error("float32 first (the reference), then the dtypes compared with it")
    demo = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    model = demo_model(demo, args.cores)
    data = (REPO / yaml.safe_load((REPO / "config" / "config.yaml").read_text())["data"]["local_dir"]).resolve()
    runs, failed = {}, {}
    for dtype in args.dtypes:
        config = {
            "data": {"local_dir": str(data)},
            "models": [model],
            "metrics": {"methods": ["paper"]},
            "snapshot": {"compute_dtype": dtype, "device": "cpu"},
        }
        workdir = args.work / dtype
        error = run_tables(workdir, config, args.cores)
        if error is not None:
            failed[dtype] = error
            continue
        runs[dtype] = load_tables(workdir)
    reference = args.work / "float32" / "results" / "snapshots"
    metric_rows, shard_rows = [], []
    if "float32" in failed:
        sys.exit(f"the float32 reference run failed: {failed['float32']}")
    for dtype in [d for d in args.dtypes[1:] if d not in failed]:
        metric_rows.append(compare_runs(runs["float32"], runs[dtype]).assign(dtype=dtype))
        for shard in sorted(reference.rglob("layer*.h5")):
            other = args.work / dtype / "results" / "snapshots" / shard.relative_to(reference)
            shard_rows.append(
                {"dtype": dtype, "shard": str(shard.relative_to(reference)), **shard_differences(shard, other)}
            )
    if not metric_rows:
        sys.exit(f"no run to compare with float32: {failed}")
    metrics = pd.concat(metric_rows, ignore_index=True)
    shards = pd.DataFrame(shard_rows)
    OUT.mkdir(parents=True, exist_ok=True)
    metrics.to_csv(OUT / "precision.tsv", sep="\t", index=False)
    shards.to_csv(OUT / "precision_shards.tsv", sep="\t", index=False)
    per_dtype = shards.drop(columns="shard").groupby("dtype").median().reset_index()
    text = [
        "# Compute precision of the snapshots: effect on the paper's metrics",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {device_description(torch.device('cpu'))}, {args.cores} cores; "
        "the demo's tables "
        "(Gemma 3 270M, 8 WMT14 sides, method paper), each dtype's run against float32's. "
        "`diff_per_ci_half`: the absolute difference over the half-width of float32's 95 % bootstrap interval.",
        "",
        "## Metrics",
        "",
        markdown_table(metrics),
        "",
        *(f"- {dtype}: the run stopped: {error}" for dtype, error in failed.items()),
        "",
        "## Shard rows (medians over the shards)",
        "",
        markdown_table(per_dtype),
        "",
    ]
    write_text(OUT / "precision.md", "\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main(sys.argv[1:])
