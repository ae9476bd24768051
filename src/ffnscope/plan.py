"""Sizing a run before it starts: compute hours and disk per model, from a measured per-token
cost.

The snapshot job's work is the decoder stack up to the last analysed layer (no LM head), so
its cost per token is proportional to the FLOPs of those layers. A measurement on one model
and device (`tools/benchmark.py` reports seconds per GFLOP) therefore sizes any other model on
the same device: cost = tokens x flops_per_token x seconds_per_gflop. Disk follows from the
prefix count, the stored vector widths and the measured bytes per stored value (float16
after compression).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .neurons import needs_pre_activation


@dataclass(frozen=True)
class ModelDims:
    n_layers: int
    d_model: int
    ffn_dim: int
    gated: bool = False  # gated FFNs have three d x ffn matrices, plain ones two

    def params_per_layer(self) -> int:
        """Weights of one decoder layer: attention (q, k, v, o) and the FFN (biases and norms
        are negligible)."""
        return 4 * self.d_model**2 + (3 if self.gated else 2) * self.d_model * self.ffn_dim


# The paper's models (facebook/xglm-*, config.json of each).
XGLM = {
    "xglm-564M": ModelDims(n_layers=24, d_model=1024, ffn_dim=4096),
    "xglm-1.7B": ModelDims(n_layers=24, d_model=2048, ffn_dim=8192),
    "xglm-2.9B": ModelDims(n_layers=48, d_model=2048, ffn_dim=8192),
    "xglm-7.5B": ModelDims(n_layers=32, d_model=4096, ffn_dim=16384),
}


def flops_per_token(params_per_layer: int, n_layers: int, d_model: int, seq_len: float) -> float:
    """Forward FLOPs per token through `n_layers` decoder layers: 2 per weight plus attention
    scores and values over on average seq_len / 2 earlier tokens (2 x 2 x d x seq_len / 2)."""
    return n_layers * (2.0 * params_per_layer + 2.0 * seq_len * d_model)


def seconds_per_gflop(seconds: float, n_tokens: int, flops_per_tok: float) -> float:
    """The device's measured cost, normalised so that it transfers across model sizes."""
    return seconds / (n_tokens * flops_per_tok / 1e9)


@dataclass(frozen=True)
class RunEstimate:
    n_prefixes: int  # per layer, all sides
    n_tokens: int
    compute_hours: float  # snapshot jobs, all sides, at the given seconds_per_gflop
    disk_gb: float  # every layer shard of every side
    write_hours: float  # storing disk_gb at the writer's throughput (0 when not given)

    @property
    def hours(self) -> float:
        """Device hours of the snapshot jobs: the writer thread overlaps compute, so the
        slower of the two bounds the job (model loading not included)."""
        return max(self.compute_hours, self.write_hours)


def estimate_run(
    dims: ModelDims,
    *,
    seconds_per_gflop: float,
    n_sides: int,
    n_sentences: int,
    words_per_sentence: float,
    tokens_per_word: float,
    bytes_per_value: float,
    store_pre_activation: bool = False,
    n_layers_analysed: int | None = None,
    write_mb_s: float | None = None,
) -> RunEstimate:
    """Compute and disk of the snapshot jobs of one model over `n_sides` sides of
    `n_sentences` sentences: one prefix per word (paper variant), one BOS token per sentence.
    `bytes_per_value` is the stored size of one float16 value after compression and
    `write_mb_s` the writer's throughput in uncompressed MB/s (both in results/bench/storage.tsv)."""
    layers = dims.n_layers if n_layers_analysed is None else n_layers_analysed
    n_prefixes = round(n_sides * n_sentences * words_per_sentence)
    tokens_per_sentence = words_per_sentence * tokens_per_word + 1
    n_tokens = round(n_sides * n_sentences * tokens_per_sentence)
    flops = flops_per_token(dims.params_per_layer(), layers, dims.d_model, tokens_per_sentence)
    values = n_prefixes * layers * (dims.ffn_dim * (2 if store_pre_activation else 1) + dims.d_model)
    return RunEstimate(
        n_prefixes=n_prefixes,
        n_tokens=n_tokens,
        compute_hours=n_tokens * flops / 1e9 * seconds_per_gflop / 3600,
        disk_gb=values * bytes_per_value / 1e9,
        write_hours=values * 2 / 1e6 / write_mb_s / 3600 if write_mb_s else 0.0,
    )


# config.json keys of the supported families, in lookup order
_WIDTH_KEYS = ("hidden_size", "d_model", "n_embd")
_FFN_KEYS = ("intermediate_size", "ffn_dim", "n_inner")
_DEPTH_KEYS = ("num_hidden_layers", "num_layers", "n_layer")


def dims_from_config(cfg: dict) -> ModelDims:
    """Dimensions from a transformers config.json (multimodal configs: their `text_config`)."""
    from ffnscope.adapters import adapter_for

    cfg = cfg.get("text_config", cfg)
    d_model = next(cfg[k] for k in _WIDTH_KEYS if cfg.get(k))
    ffn_dim = next((cfg[k] for k in _FFN_KEYS if cfg.get(k)), 4 * d_model)  # GPT-2/BLOOM: 4 d
    n_layers = next(cfg[k] for k in _DEPTH_KEYS if cfg.get(k))
    gated = adapter_for(cfg["model_type"]).ffn_family == "gated"
    return ModelDims(n_layers=n_layers, d_model=d_model, ffn_dim=ffn_dim, gated=gated)


def model_dims(name: str, path: str) -> ModelDims | None:
    """The paper's models by name; any other from its local config.json; None when neither is
    available (a hub id not downloaded yet)."""
    if name in XGLM:
        return XGLM[name]
    config = Path(path) / "config.json"
    return dims_from_config(json.loads(config.read_text())) if config.is_file() else None


# The benchmark's ways that are the workflow's own snapshot, one per compute dtype it measures
SNAPSHOT_WAYS = ("snapshot", "snapshot_bfloat16")


def measured_costs(extraction_tsv: str | Path, storage_tsv: str | Path, compression: str) -> dict:
    """Per-token cost of our snapshot on the benchmark machine, per compute dtype, and the
    stored size and write speed of `compression`, from tools/benchmark.py's tables. The cost
    is that of the largest model measured: a tiny model's time is mostly fixed costs per
    batch, which do not scale with FLOPs."""
    ext = pd.read_csv(extraction_tsv, sep="\t")
    snaps = ext[ext.way.isin(SNAPSHOT_WAYS)]
    snaps = snaps[snaps.params_per_layer * snaps.n_layers == (snaps.params_per_layer * snaps.n_layers).max()]
    costs = {}
    for snap in snaps.itertuples():
        seq = snap.n_tokens / snap.n_sentences
        flops = flops_per_token(int(snap.params_per_layer), int(snap.n_layers), int(snap.d_model), seq)
        costs[snap.dtype] = seconds_per_gflop(snap.seconds, int(snap.n_tokens), flops)
    store = pd.read_csv(storage_tsv, sep="\t").set_index("compression").loc[compression]
    return {
        "cpu": snaps.device_name.iloc[0],
        "cpu_seconds_per_gflop": costs,
        "bytes_per_value": float(store.bytes_per_value),
        "write_mb_s": float(store.write_mb_s),
    }


def device_costs(costs: dict, gpu_tflops: float, compute_dtype: str) -> list[tuple[str, str, float]]:
    """(device, compute dtype, seconds per GFLOP) of the devices a run is sized for: the
    benchmark machine's CPU as measured at each dtype `compute_dtype` can mean there (`auto`:
    float32 on CPUs without native bfloat16, bfloat16 on those with it), and a GPU at an
    assumed sustained throughput (`auto`: bfloat16, as on every GPU of compute capability 8.0
    on). A dtype the benchmark did not measure costs NaN."""
    measured = costs["cpu_seconds_per_gflop"]
    cpu_dtypes = list(measured) if compute_dtype == "auto" else [compute_dtype]
    gpu_dtype = "bfloat16" if compute_dtype == "auto" else compute_dtype
    return [
        *((f"CPU: {costs['cpu']} (measured)", d, measured.get(d, float("nan"))) for d in cpu_dtypes),
        (f"GPU at {gpu_tflops:g} TFLOP/s (assumed)", gpu_dtype, 1 / (gpu_tflops * 1e3)),
    ]


def plan_table(
    models: list[dict],
    *,
    costs: dict,
    gpu_tflops: float,
    n_sides: int,
    n_sentences: int,
    words_per_sentence: float,
    tokens_per_word: float,
    methods: list[str],
    compute_dtype: str,
) -> pd.DataFrame:
    """One row per (model, device, compute dtype): snapshot hours and disk of the configured
    run. `models`: dicts with name, path and the analysed layer count (and `like`: the model
    whose dimensions a random_init control has, at `path`)."""
    rows = []
    for m in models:
        dims = model_dims(m.get("like") or m["name"], m["path"])
        if dims is None:
            rows.append({"model": m["name"], "device": "unknown: no config.json yet"})
            continue
        for device, dtype, cost in device_costs(costs, gpu_tflops, compute_dtype):
            est = estimate_run(
                dims,
                seconds_per_gflop=cost,
                n_sides=n_sides,
                n_sentences=n_sentences,
                words_per_sentence=words_per_sentence,
                tokens_per_word=tokens_per_word,
                bytes_per_value=costs["bytes_per_value"],
                store_pre_activation=needs_pre_activation("gated" if dims.gated else "plain", methods),
                n_layers_analysed=m["n_layers_analysed"],
                write_mb_s=costs["write_mb_s"],
            )
            rows.append(
                {
                    "model": m["name"],
                    "device": device,
                    "compute_dtype": dtype,
                    "n_prefixes": est.n_prefixes,
                    "n_tokens": est.n_tokens,
                    "snapshot_hours": est.hours,
                    "disk_gb": est.disk_gb,
                }
            )
    return pd.DataFrame(rows)
