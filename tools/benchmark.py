#!/usr/bin/env python
"""Performance benchmark: snapshot extraction four ways, shard storage, metric jobs, and the
full paper run's size. Writes results/bench/*.tsv and summary.md, prints the markdown tables.

    .venv/bin/python tools/benchmark.py                    # Gemma 3 270M + tiny XGLM, 4 sentences/side
    .venv/bin/python tools/benchmark.py --per-side 8 --skip metrics

Every measurement runs in a fresh process (`tools/bench_measurements.py`), so peak RSS is
the measurement's own. Times exclude model loading (reported as setup_s). The machine's load
average is recorded next to every row: other processes on the cores inflate the times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]  # the package, and the tests' tiny XGLM (the second model)

import bench_measurements as bench  # noqa: E402
from ffnscope import plan, rsa  # noqa: E402
from ffnscope.atomic import write_text  # noqa: E402
from ffnscope.models import device_description  # noqa: E402
from ffnscope.tables import markdown_table, write_tsv  # noqa: E402
from ffnscope.testsets import sample_testset  # noqa: E402
from tiny_xglm import build_tiny_xglm  # noqa: E402

PAIRS = ("cs-en", "de-en", "fr-en", "hi-en")
COMPRESSIONS = ("lzf", "gzip", "none")
SEED = 20240601


def load_1m() -> float:
    return os.getloadavg()[0]


def run_worker(spec: dict, work: Path) -> dict:
    """Run one measurement in a fresh interpreter; its result is the last stdout line."""
    spec_path = work / f"spec-{time.monotonic_ns()}.json"
    spec_path.write_text(json.dumps(spec))
    load = load_1m()
    proc = subprocess.run(
        [sys.executable, str(TOOLS / "bench_measurements.py"), str(spec_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")},
    )
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}",
            "load_1m": load,
        }
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load_1m": load}


def wmt_sentences(data: Path, per_side: int) -> tuple[list[str], dict[str, list[str]]]:
    """`per_side` real sentences from each of the 8 WMT14 sides (seeded sample, §3.1
    cleaning), interleaved so every batch mixes scripts and lengths; also every side whole."""
    sides = {}
    for pair in PAIRS:
        langs = pair.split("-")
        sampled = sample_testset({lang: data / pair / f"{lang}.txt" for lang in langs}, per_side, seed=SEED)
        sides.update({f"wmt14-{pair}/{lang}": sampled.sentences[lang] for lang in langs})
    mixed = [s for group in zip(*sides.values()) for s in group]
    return mixed, sides


def snapshot_settings(cfg: dict) -> dict:
    """The snapshot settings the workflow would use (`snapshot:` of the config)."""
    return {
        key: cfg["snapshot"][key] for key in ("storage_dtype", "compression", "token_budget", "batch_cost", "window_mb")
    }


def metric_settings(cfg: dict) -> dict:
    """The metric jobs' settings the workflow would use (`metrics`, `distance`, `rsa`)."""
    return {
        "chunk_rows": cfg["metrics"]["chunk_rows"],
        "metric": cfg["distance"]["metric"],
        "block_sentences": cfg["distance"]["block_sentences"],
        "block_rows": cfg["distance"]["block_rows"],
        "max_prefixes": cfg["rsa"]["max_prefixes"],
        "batch_prefixes": cfg["rsa"]["batch_prefixes"],
    }


def extraction(
    models: dict[str, str], sentences: list[str], work: Path, threads: int, repeats: int, skip_tl: bool, settings: dict
) -> pd.DataFrame:
    rows = []
    for model, model_dir in models.items():
        results = {}
        for way in bench.WAYS:
            if way == "transformer_lens" and skip_tl:
                results[way] = {"error": "skipped (--skip-tl)"}
                continue
            out = work / model / way
            out.mkdir(parents=True, exist_ok=True)
            spec = {
                "task": "extract",
                "way": way,
                "model_dir": model_dir,
                "dtype": "bfloat16" if way == "snapshot_bfloat16" else "float32",  # equal precision elsewhere
                "sentences": sentences,
                "out_dir": str(out),
                "threads": threads,
                "check_layer": -1,
                "settings": settings,
                "repeats": 1 if way == "per_prefix" else repeats,
            }
            results[way] = run_worker(spec, work)
            print(f"  {model} {way}: {results[way].get('seconds', results[way].get('error'))}", file=sys.stderr)
        snap = results["snapshot"]
        shard = work / model / "snapshot" / f"layer{snap.get('check_layer', 0):02d}.h5"
        useful_gflop = 2 * snap["params_per_layer"] * snap["n_layers"] * snap["n_tokens"] / 1e9
        for way, r in results.items():
            row = {"model": model, "way": way, **{k: v for k, v in r.items() if k != "way"}}
            if "seconds" in r:
                row["gflop_s"] = useful_gflop / r["seconds"]
                row["share_of_matmul"] = row["gflop_s"] / r["matmul_gflop_s"]
                row["prefixes_per_s"] = r["n_prefixes"] / r["seconds"]
                for base in ("per_prefix", "transformer_lens", "bare_forward"):
                    if "seconds" in results.get(base, {}):
                        row[f"speedup_vs_{base}"] = results[base]["seconds"] / r["seconds"]
                rows_file = work / model / way / "rows.npz"
                if rows_file.is_file():
                    row["max_rel_err_vs_snapshot"] = bench.max_rel_error(dict(np.load(rows_file)), shard)
            rows.append(row)
    return pd.DataFrame(rows)


def storage(shards: list[Path], work: Path) -> pd.DataFrame:
    out = []
    for compression in COMPRESSIONS:
        r = run_worker(
            {"task": "storage", "source": [str(p) for p in shards], "compression": compression, "out_dir": str(work)},
            work,
        )
        out.append({"storage_dtype": "float16", **r})
    df = pd.DataFrame(out)
    return df


def metric_jobs(
    work: Path, scales: list[int], base_sentences: int, threads: int, repeats: int, settings: dict
) -> pd.DataFrame:
    """Synthetic shards of xglm-564M width (ffn 4096, d 1024) at each scale, two languages
    for the distance jobs (same sentences, different word counts). Each job's floor is what it
    cannot avoid: reading the rows it needs once (float16 -> float32, measured as `read_only`),
    plain float32 matmuls of its size, for both sublayers and (paper distance) both pairings,
    and for the paper's RSA the argsort of its triangle (Spearman ranks); ratio_to_matmul
    compares with the matmuls alone."""
    dims = plan.XGLM["xglm-564M"]
    widths = (dims.ffn_dim, dims.d_model)
    jobs = [
        ("layer_statistics", "paper"),
        ("layer_statistics", "authors_code"),
        ("representation_distance", "paper"),
        ("representation_distance", "authors_code"),
        ("rsa_layer", "paper"),
        ("rsa_layer", "authors_code"),
    ]
    rows = []
    for scale in scales:
        n_sent = base_sentences * scale
        src, tgt = work / f"synthetic-{scale}x-src.h5", work / f"synthetic-{scale}x-tgt.h5"
        n_src = bench.synthetic_shard(src, n_sent, dims.ffn_dim, dims.d_model, seed=scale)
        n_tgt = bench.synthetic_shard(tgt, n_sent, dims.ffn_dim, dims.d_model, seed=1000 + scale, mean_words=24)
        n_rsa = len(rsa.subsample_rows(n_src, settings["max_prefixes"], seed=0))
        rsa_batches = [b.stop - b.start for b in rsa.batches(n_rsa, settings["batch_prefixes"])]
        per_pair = [(n_sent, n_src // n_sent, w, n_tgt // n_sent) for w in widths]
        drawn = 1 - 1 / np.e  # share of distinct rows in n draws with replacement from n (pooled method)
        products = {
            ("representation_distance", "paper"): per_pair * 2,  # parallel and shuffled
            ("representation_distance", "authors_code"): [
                (1, round(drawn * n_src), w, round(drawn * n_tgt)) for w in widths
            ],
            ("rsa_layer", "paper"): [(1, n_rsa, w, n_rsa) for w in widths],
            ("rsa_layer", "authors_code"): [(1, b, w, b) for w in widths for b in rsa_batches],
        }
        read = {
            name: run_worker(
                {
                    "task": "metric",
                    "job": "read_only",
                    "method": "paper",
                    "src": str(path),
                    "tgt": str(path),
                    "threads": threads,
                    "repeats": repeats,
                    "settings": settings,
                },
                work,
            ).get("seconds", np.nan)
            for name, path in (("src", src), ("tgt", tgt))
        }
        reads = {
            "layer_statistics": read["src"],
            "representation_distance": read["src"] + read["tgt"],
            "rsa_layer": read["src"] * n_rsa / n_src,
        }
        for job, method in jobs:
            r = run_worker(
                {
                    "task": "metric",
                    "job": job,
                    "method": method,
                    "src": str(src),
                    "tgt": str(tgt),
                    "threads": threads,
                    "repeats": repeats,
                    "settings": settings,
                },
                work,
            )
            matmul = bench.matmul_floor(products[job, method], threads) if (job, method) in products else np.nan
            ranks = (
                bench.argsort_floor([n_rsa * (n_rsa - 1) // 2] * len(widths))
                if (job, method) == ("rsa_layer", "paper")
                else np.nan
            )
            rows.append(
                {
                    "scale": scale,
                    "n_sentences": n_sent,
                    "n_rows": n_src,
                    "shard_mb": src.stat().st_size / 1e6,
                    "job": job,
                    "method": method,
                    **{k: v for k, v in r.items() if k not in ("job", "method")},
                    "read_s": reads[job],
                    "matmul_s": matmul,
                    "argsort_s": ranks,
                    "floor_s": reads[job] + np.nan_to_num(matmul) + np.nan_to_num(ranks),
                }
            )
            print(f"  metric {scale}x {job}/{method}: {r.get('seconds', r.get('error'))}", file=sys.stderr)
        src.unlink()
        tgt.unlink()
    df = pd.DataFrame(rows)
    df["ratio_to_floor"] = df["seconds"] / df["floor_s"]
    df["ratio_to_matmul"] = df["seconds"] / df["matmul_s"]
    return df


def paper_run(
    extraction_tsv: Path, storage_tsv: Path, sides: dict[str, list[str]], gemma_tokenizer: str, gpu_tflops: float
) -> pd.DataFrame:
    """The full paper run (4 XGLM models, 8 sides, 1,500 sentences) from the costs that
    `snakemake plan` reads from the same tables (`plan.measured_costs`): our snapshot's cost on
    this CPU and, for the GPU, an assumed sustained rate."""
    from transformers import AutoTokenizer

    measured = {c: plan.measured_costs(extraction_tsv, storage_tsv, c) for c in COMPRESSIONS}
    devices = plan.device_costs(measured[COMPRESSIONS[0]], gpu_tflops, "auto")  # the same for every compression
    words = np.mean([len(s.split()) for side in sides.values() for s in side])
    tok = AutoTokenizer.from_pretrained(gemma_tokenizer)
    all_sents = [s for side in sides.values() for s in side]
    tokens_per_word = sum(len(tok(s, add_special_tokens=False)["input_ids"]) for s in all_sents) / sum(
        len(s.split()) for s in all_sents
    )
    rows = []
    for name, dims in plan.XGLM.items():
        for device, dtype, cost in devices:
            for compression, st in measured.items():
                for pre in (False, True):
                    est = plan.estimate_run(
                        dims,
                        seconds_per_gflop=cost,
                        n_sides=8,
                        n_sentences=1500,
                        words_per_sentence=words,
                        tokens_per_word=tokens_per_word,
                        bytes_per_value=st["bytes_per_value"],
                        store_pre_activation=pre,
                        write_mb_s=st["write_mb_s"],
                    )
                    rows.append(
                        {
                            "model": name,
                            "device": device,
                            "compute_dtype": dtype,
                            "compression": compression,
                            "store_pre_activation": pre,
                            "seconds_per_gflop": cost,
                            "words_per_sentence": words,
                            "tokens_per_word": tokens_per_word,
                            "bytes_per_value": st["bytes_per_value"],
                            "write_mb_s": st["write_mb_s"],
                            **est.__dict__,
                            "hours": est.hours,
                        }
                    )
    return pd.DataFrame(rows)


SECTIONS = [  # (file, heading, columns, row filter): summary.md shows every file present
    (
        "extraction.tsv",
        "Extraction (Gemma 3 270M fp32 and the tiny XGLM, real WMT14 sentences)",
        [
            "model",
            "way",
            "seconds",
            "cpu_s",
            "prefixes_per_s",
            "gflop_s",
            "dtype",
            "share_of_matmul",
            "matmul_gflop_s",
            "speedup_vs_per_prefix",
            "speedup_vs_transformer_lens",
            "speedup_vs_bare_forward",
            "peak_rss_mb",
            "rss_after_setup_mb",
            "max_rel_err_vs_snapshot",
            "load_1m",
            "error",
        ],
        None,
    ),
    (
        "storage.tsv",
        "Storage (Gemma 3 270M activations, detector + combinator)",
        [
            "storage_dtype",
            "compression",
            "n_rows",
            "bytes_per_value",
            "mb_per_1000_prefixes_per_layer",
            "write_mb_s",
            "read_mb_s",
            "peak_rss_mb",
            "load_1m",
        ],
        None,
    ),
    (
        "paper_run.tsv",
        "Paper run estimate (8 sides x 1,500 sentences, all layers, detector_pre stored)",
        [
            "model",
            "device",
            "compute_dtype",
            "compression",
            "n_prefixes",
            "n_tokens",
            "compute_hours",
            "write_hours",
            "hours",
            "disk_gb",
        ],
        "store_pre_activation",
    ),
    (
        "metric_jobs.tsv",
        "Metric jobs (synthetic xglm-564M-width shards, one layer, both sublayers)",
        [
            "scale",
            "n_rows",
            "shard_mb",
            "job",
            "method",
            "seconds",
            "peak_rss_mb",
            "rss_after_setup_mb",
            "read_s",
            "matmul_s",
            "argsort_s",
            "ratio_to_floor",
            "ratio_to_matmul",
            "load_1m",
            "error",
        ],
        None,
    ),
]


def summary(out: Path, header: str) -> str:
    """summary.md: one table per results file present, so re-running one part of the
    benchmark (--skip) keeps the others' last numbers."""
    parts = [header]
    for name, heading, columns, keep in SECTIONS:
        if (out / name).is_file():
            df = pd.read_csv(out / name, sep="\t")
            settings = f" (snapshot settings {df['settings'].iloc[0]})" if "settings" in df else ""
            parts += [f"## {heading}{settings}", markdown_table(df[df[keep]] if keep else df, columns)]
    return "\n\n".join(parts) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-side", type=int, default=4, help="WMT14 sentences per side (8 sides)")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per measurement (1 keeps OpenMP from spinning on a shared machine)",
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed runs per extraction way (the paper's way runs once) and metric job; the fastest counts",
    )
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "wmt14")
    ap.add_argument("--gemma", type=Path, default=REPO / "resources" / "models" / "gemma3-270m")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "bench")
    ap.add_argument(
        "--config",
        type=Path,
        default=REPO / "config" / "config.yaml",
        help="the snapshot and metric settings of this config are the ones measured",
    )
    ap.add_argument("--metric-scales", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--metric-base-sentences", type=int, default=32)
    ap.add_argument(
        "--gpu-tflops", type=float, default=100.0, help="assumed sustained GPU throughput for the paper-run estimate"
    )
    ap.add_argument("--skip", nargs="*", default=[], choices=["extraction", "storage", "metrics"])
    ap.add_argument("--skip-tl", action="store_true")
    args = ap.parse_args()
    cfg = yaml.safe_load(args.config.read_text())
    if "extraction" in args.skip and "storage" not in args.skip:
        raise SystemExit("storage measures the extraction's Gemma shards: skip both or neither")

    sentences, sides = wmt_sentences(args.data, args.per_side)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"Last run {time.strftime('%Y-%m-%d %H:%M')}: load average at start {os.getloadavg()}; "
        f"{device_description(torch.device('cpu'))}, {os.cpu_count()} cores, {args.threads} threads; "
        f"extraction on {len(sentences)} WMT14 sentences "
        f"({args.per_side} per side). Sections not re-run keep their earlier numbers."
    )
    with tempfile.TemporaryDirectory(prefix="ffnscope-bench-") as tmp:
        work = Path(tmp)
        if "extraction" not in args.skip:
            models = {"tiny-xglm": str(build_tiny_xglm(work / "tiny-xglm")), "gemma3-270m": str(args.gemma)}
            settings = snapshot_settings(cfg)
            ext = extraction(models, sentences, work, args.threads, args.repeats, args.skip_tl, settings)
            ext["settings"] = json.dumps(settings)
            write_tsv(ext, out / "extraction.tsv")
        if "storage" not in args.skip:
            st = storage(sorted((work / "gemma3-270m" / "snapshot").glob("layer*.h5")), work)
            gemma = ext.set_index(["model", "way"]).loc[("gemma3-270m", "snapshot")]
            st["mb_per_1000_prefixes_per_layer"] = (
                st["bytes_per_value"] * (gemma["ffn_dim"] + gemma["d_model"]) * 1000 / 1e6
            )
            write_tsv(st, out / "storage.tsv")
            paper = paper_run(out / "extraction.tsv", out / "storage.tsv", sides, str(args.gemma), args.gpu_tflops)
            write_tsv(paper, out / "paper_run.tsv")
        if "metrics" not in args.skip:
            write_tsv(
                metric_jobs(
                    work,
                    args.metric_scales,
                    args.metric_base_sentences,
                    args.threads,
                    args.repeats,
                    metric_settings(cfg),
                ),
                out / "metric_jobs.tsv",
            )
    text = summary(out, header)
    write_text(out / "summary.md", text)
    print(text)


if __name__ == "__main__":
    main()
