"""Per-job resource use, gathered from Snakemake's `benchmark:` files for the report.

Each rule writes `benchmarks/{rule}/{job}.tsv` (one header line, one row per repeat: wall
seconds `s`, `max_rss` in MB, `cpu_time`, ...). The gathered table says, per rule, how long
jobs took and how much memory they used, which is what a user needs to size SLURM requests.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ffnscope.atomic import atomic_path

COLUMNS = ["rule", "job", "s", "max_rss", "cpu_time", "mean_load"]


def read_benchmark(path: str | Path, root: str | Path = "benchmarks") -> pd.DataFrame:
    """One benchmark file as rows tagged with its rule (first directory under `root`) and job
    (the rest of the path)."""
    rel = Path(path).relative_to(root).with_suffix("")
    df = pd.read_csv(path, sep="\t")
    missing = [c for c in COLUMNS[2:] if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a Snakemake benchmark file (no columns {missing})")
    # Snakemake writes "NA" where a value could not be measured (e.g. a job that ran < 1 s).
    df = df[COLUMNS[2:]].apply(pd.to_numeric, errors="coerce")
    return df.assign(rule=rel.parts[0], job="/".join(rel.parts[1:]))[COLUMNS]


def gather(paths: list[str], root: str | Path = "benchmarks") -> pd.DataFrame:
    if not paths:
        raise ValueError("no benchmark files to gather")
    return pd.concat([read_benchmark(p, root) for p in paths], ignore_index=True)


def per_rule(df: pd.DataFrame) -> pd.DataFrame:
    """Jobs, total and maximum wall time, maximum peak RSS per rule."""
    grouped = df.groupby("rule")
    return pd.DataFrame(
        {
            "jobs": grouped["job"].nunique(),
            "total_s": grouped["s"].sum(),
            "max_s": grouped["s"].max(),
            "max_rss_mb": grouped["max_rss"].max(),
        }
    ).reset_index()


def plot_job_resources(df: pd.DataFrame, outputs: list[str]) -> None:
    """Wall time and peak RSS of every job, one row of points per rule."""
    rules = sorted(df["rule"].unique())
    fig = Figure(figsize=(10, 0.5 * len(rules) + 1.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, column, label in zip(axes, ("s", "max_rss"), ("Wall time per job (s)", "Peak RSS per job (MB)")):
        for i, rule in enumerate(rules):
            values = df.loc[df["rule"] == rule, column].dropna()
            ax.scatter(values, [i] * len(values), s=12, alpha=0.6)
        ax.set_xlabel(label)
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_yticks(range(len(rules)), rules)
    fig.suptitle("Resources used by the jobs of this run (Snakemake benchmark files)")
    for path in outputs:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:], dpi=120)
