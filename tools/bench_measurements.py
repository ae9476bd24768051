"""Measurements behind `tools/benchmark.py`: snapshot extraction four ways, shard storage, and
metric jobs on synthetic shards.

Every measurement runs in a process of its own (`python tools/bench_measurements.py SPEC.json`,
the result is the last line of stdout, as JSON), so its peak RSS is its own and not inherited
from an earlier measurement. Extraction ways, all capturing the same rows (detector and
combinator at every word prefix, every layer, float16 in memory):

  per_prefix        the paper's method: one forward pass of the full LM per prefix
  snapshot          `ffnscope.snapshot.snapshot` as the workflow runs it (shards written)
  snapshot_pre      the same with `store_pre_activation` (what `authors_code` needs)
  snapshot_padded   the same in right-padded batches (`packing` off: the packing lever)
  snapshot_bfloat16 the same computed in bfloat16 (share of the bfloat16 matmul rate)
  transformer_lens  TransformerLens' TransformerBridge, `run_with_cache` per sentence
  bare_forward      no hooks, no LM head: the decoder stack over naive right-padded batches
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ffnscope.activations import activate
from ffnscope.models import LoadedModel, device_description, load_model
from ffnscope.prefixes import EncodedSentence
from ffnscope.shards import SUBLAYERS, ShardSet, iter_chunks, read_dataset
from ffnscope.snapshot import SnapshotSettings, encode_all, ffn_dims, right_padded, shard_attributes, snapshot

WAYS = (
    "per_prefix",
    "snapshot",
    "snapshot_pre",
    "snapshot_padded",
    "snapshot_bfloat16",
    "transformer_lens",
    "bare_forward",
)
NAIVE_BATCH = 16  # sentences per batch of the bare forward pass, in corpus order


def peak_rss_mb() -> float:
    """High-water mark of this process' resident memory since it exec'd: VmHWM (ru_maxrss
    would carry over the RSS of the parent at fork time)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decoder_params(loaded: LoadedModel) -> int:
    """Parameters of one decoder layer (attention + FFN + norms): the per-token FLOP count
    of a layer is twice this (`plan.flops_per_token`)."""
    return sum(p.numel() for p in loaded.adapter.decoder_layers(loaded.base)[0].parameters())


def _row_buffers(dims: dict[str, int], layers: list[int], n_rows: int) -> dict[int, dict[str, np.ndarray]]:
    return {layer: {name: np.empty((n_rows, dims[name]), np.float16) for name in SUBLAYERS} for layer in layers}


@torch.inference_mode()
def per_prefix(loaded: LoadedModel, encoded: list[EncodedSentence], layers: list[int], rows: dict) -> None:
    """The paper's method: every prefix fed alone to the full LM (logits included), the
    last position of each analysed W2 captured by a hook."""
    decoder_layers = loaded.adapter.decoder_layers(loaded.base)
    row = [0]

    def hook_for(layer):
        def hook(module, inputs, output):
            rows[layer]["detector"][row[0]] = inputs[0][0, -1].to(torch.float16).cpu().numpy()
            rows[layer]["combinator"][row[0]] = output[0, -1].to(torch.float16).cpu().numpy()

        return hook

    handles = [
        loaded.adapter.second_linear_of(decoder_layers[layer]).register_forward_hook(hook_for(layer))
        for layer in layers
    ]
    try:
        for e in encoded:
            for p in e.positions:
                loaded.model(input_ids=torch.tensor([e.input_ids[: p + 1]], device=loaded.device), use_cache=False)
                row[0] += 1
    finally:
        for h in handles:
            h.remove()


@torch.inference_mode()
def bare_forward(loaded: LoadedModel, encoded: list[EncodedSentence]) -> None:
    """The floor: decoder stack only, no hooks, batches of NAIVE_BATCH sentences in corpus
    order, right-padded as the snapshot pads its batches."""
    for start in range(0, len(encoded), NAIVE_BATCH):
        ids, mask = right_padded(loaded, [e.input_ids for e in encoded[start : start + NAIVE_BATCH]])
        loaded.base(input_ids=ids.to(loaded.device), attention_mask=mask.to(loaded.device), use_cache=False)


def boot_transformer_lens(loaded: LoadedModel, model_dir: str):
    """TransformerBridge over the already loaded HF model (offline)."""
    from transformer_lens.model_bridge import TransformerBridge

    return TransformerBridge.boot_transformers(
        model_dir, hf_model=loaded.model, tokenizer=loaded.tokenizer, device=str(loaded.device), dtype=loaded.dtype
    )


@torch.inference_mode()
def transformer_lens(bridge, encoded: list[EncodedSentence], layers: list[int], rows: dict) -> None:
    """One `run_with_cache` per sentence (no padding), caching only the analysed layers'
    `mlp.hook_post` (detector) and `mlp.hook_out` (combinator)."""
    names = {
        f"blocks.{layer}.mlp.{hook}": (layer, sub)
        for layer in layers
        for hook, sub in (("hook_post", "detector"), ("hook_out", "combinator"))
    }
    start = 0
    for e in encoded:
        _, cache = bridge.run_with_cache(torch.tensor([e.input_ids]), names_filter=lambda n: n in names)
        stop = start + len(e.positions)
        for name, (layer, sub) in names.items():
            rows[layer][sub][start:stop] = cache[name][0, e.positions].to(torch.float16).cpu().numpy()
        start = stop


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def extract(spec: dict) -> dict:
    """Time one extraction way on `spec["sentences"]`: a warm-up run on the first two
    sentences, then `spec["repeats"]` timed runs (model loading excluded, reported apart as
    setup_s). The minimum is the least disturbed by other processes; cpu_s (this process'
    CPU time per run) is less sensitive to them than wall time. The rows of
    `spec["check_layer"]` are saved to `{out_dir}/rows.npz` for the equality check."""
    torch.set_num_threads(spec["threads"])
    out_dir = Path(spec["out_dir"])
    started = time.perf_counter()
    loaded = load_model("bench", spec["model_dir"], device=spec.get("device", "auto"), dtype=spec.get("dtype", "auto"))
    n_layers = len(loaded.adapter.decoder_layers(loaded.base))
    layers = list(range(n_layers))
    way = spec["way"]
    if way not in WAYS:
        raise ValueError(f"unknown way {way!r}; valid: {', '.join(WAYS)}")
    settings = SnapshotSettings(
        store_pre_activation=way == "snapshot_pre", packing=way != "snapshot_padded", **spec.get("settings", {})
    )
    encoded = encode_all(loaded.tokenizer, spec["sentences"], settings)
    n_rows = sum(len(e.positions) for e in encoded)
    bridge = boot_transformer_lens(loaded, spec["model_dir"]) if way == "transformer_lens" else None
    dims = ffn_dims(loaded)

    def run(sentences: list[str], target: Path) -> dict | None:
        enc = encoded[: len(sentences)]
        if way in ("per_prefix", "transformer_lens"):
            rows = _row_buffers(dims, layers, sum(len(e.positions) for e in enc))
        if way == "per_prefix":
            per_prefix(loaded, enc, layers, rows)
        elif way == "transformer_lens":
            transformer_lens(bridge, enc, layers, rows)
        elif way == "bare_forward":
            bare_forward(loaded, enc)
            return None
        else:
            target.mkdir(parents=True, exist_ok=True)
            attrs = shard_attributes(
                model="bench",
                model_path=spec["model_dir"],
                revision="local",
                testset="bench",
                lang="mixed",
                n_sentences=len(sentences),
                settings=settings,
                loaded=loaded,
                hash_of_config="bench",
            )
            snapshot(
                loaded, sentences, layers, {layer: target / f"layer{layer:02d}.h5" for layer in layers}, settings, attrs
            )
            return None
        return rows

    run(spec["sentences"][:2], out_dir / "warmup")
    setup_s = time.perf_counter() - started
    rss_setup = peak_rss_mb()
    times, cpu_s, rates = [], 0.0, []
    for _ in range(spec.get("repeats", 1)):
        cpu, started = _cpu_seconds(), time.perf_counter()
        rows = run(spec["sentences"], out_dir)
        times.append(time.perf_counter() - started)
        cpu_s += _cpu_seconds() - cpu
        # the machine's own rate at the FFN's shape, in this dtype, right after each run: on a
        # shared machine it drifts within minutes, so a way's share is taken against its own
        rates.append(matmul_rate(loaded.device, loaded.dtype, 1024, dims["combinator"], dims["detector"], 10))
    check = spec["check_layer"] % n_layers
    if rows is not None:
        np.savez(out_dir / "rows.npz", **rows[check])
    return {
        "way": way,
        "seconds": min(times),
        "median_s": float(np.median(times)),
        "repeats": len(times),
        "cpu_s": cpu_s / len(times),
        "matmul_gflop_s": max(rates),
        "setup_s": setup_s,
        "n_sentences": len(encoded),
        "n_prefixes": n_rows,
        "n_tokens": sum(len(e.input_ids) for e in encoded),
        "n_layers": n_layers,
        "check_layer": check,
        "params_per_layer": decoder_params(loaded),
        "d_model": dims["combinator"],
        "ffn_dim": dims["detector"],
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_setup_mb": rss_setup,
        "device": str(loaded.device),
        "device_name": device_description(loaded.device),
        "dtype": str(loaded.dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
    }


def max_rel_error(rows: dict[str, np.ndarray], shard: str | Path) -> float:
    """Largest |rows - shard| over a dataset, relative to the shard's largest magnitude,
    over detector and combinator: how far a way's activations are from the snapshot's."""
    worst = 0.0
    for name in SUBLAYERS:
        ref = read_dataset(shard, name).astype(np.float32)
        worst = max(worst, float(np.abs(rows[name].astype(np.float32) - ref).max() / (np.abs(ref).max() + 1e-12)))
    return worst


# --- storage ---------------------------------------------------------------------------------


def storage(spec: dict) -> dict:
    """Write the rows of `spec["source"]` (a list of shards, stacked) with one compression
    through `ShardSet` (the snapshot's writer) and read them back chunk-wise."""
    data = {name: np.concatenate([read_dataset(p, name) for p in spec["source"]]) for name in SUBLAYERS}
    n = len(data["detector"])
    path = Path(spec["out_dir"]) / f"storage-{spec['compression']}.h5"
    values = sum(d.size for d in data.values())
    started = time.perf_counter()
    with ShardSet({0: path}, n, "float16", spec["compression"], {0: {}}) as shards:
        shards.write(0, {0: data}, np.zeros(n, np.int32), np.zeros(n, np.int32))
    write_s = time.perf_counter() - started
    started = time.perf_counter()
    for name in SUBLAYERS:
        for _ in iter_chunks(path, name):
            pass
    read_s = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink()
    raw_mb = values * 2 / 1e6
    return {
        "compression": spec["compression"],
        "n_rows": n,
        "values": values,
        "bytes": size,
        "bytes_per_value": size / values,
        "write_mb_s": raw_mb / write_s,
        "read_mb_s": raw_mb / read_s,
        "write_s": write_s,
        "read_s": read_s,
        "peak_rss_mb": peak_rss_mb(),
    }


# --- metric jobs on synthetic shards ---------------------------------------------------------


def synthetic_shard(
    path: str | Path, n_sentences: int, ffn_dim: int, d_model: int, seed: int, mean_words: int = 22
) -> int:
    """A shard of the real layout with random rows: word counts per sentence drawn around
    `mean_words`, detector_pre ~ N(0, 1), detector = GELU(detector_pre) (sparse-ish like a
    real FFN), combinator ~ N(0, 1). Written by `ShardSet` in float16 without compression (the
    workflow's defaults); returns its rows."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(max(1, mean_words // 2), mean_words * 3 // 2 + 1, n_sentences)
    n = int(counts.sum())
    pre = rng.standard_normal((n, ffn_dim), dtype=np.float32)
    rows = {
        "detector": activate(pre, "gelu").astype(np.float16),
        "detector_pre": pre.astype(np.float16),
        "combinator": rng.standard_normal((n, d_model), dtype=np.float32).astype(np.float16),
    }
    sentence_index = np.repeat(np.arange(n_sentences, dtype=np.int32), counts)
    token_position = np.concatenate([np.arange(1, c + 1, dtype=np.int32) for c in counts])
    attrs = {"n_sentences": n_sentences, "layer": 0, "model": "synthetic", "ffn_family": "plain", "activation": "gelu"}
    with ShardSet({0: path}, n, "float16", "none", {0: attrs}) as shards:
        shards.write(0, {0: rows}, sentence_index, token_position)
    return n


def _metric_call(job: str, method: str, src: str, tgt: str, settings: dict):
    """The job as a no-argument call (its module imported here, outside the timing), with the
    workflow's settings (`settings`: chunk_rows, metric, block_sentences, block_rows,
    max_prefixes, batch_prefixes from the config)."""
    if job == "layer_statistics":
        from ffnscope.metrics import shard_statistics

        return lambda: [
            shard_statistics(src, sublayer, method, "> 0", settings["chunk_rows"]) for sublayer in SUBLAYERS
        ]
    if job == "representation_distance":
        from ffnscope.distance import layer_distances

        return lambda: [
            layer_distances(
                src,
                tgt,
                sublayer,
                method=method,
                metric=settings["metric"],
                seed=0,
                block_sentences=settings["block_sentences"],
                block_rows=settings["block_rows"],
            )
            for sublayer in SUBLAYERS
        ]
    if job == "rsa_layer":
        from ffnscope.rsa import layer_rdm_file

        out = Path(src).with_suffix(".rdm.h5")
        return lambda: (
            layer_rdm_file(
                src,
                out,
                method,
                max_prefixes=settings["max_prefixes"],
                seed=0,
                batch_prefixes=settings["batch_prefixes"],
            ),
            out.unlink(),
        )
    if job == "read_only":
        return lambda: [sum(1 for _ in iter_chunks(src, sublayer)) for sublayer in SUBLAYERS]
    raise ValueError(f"unknown metric job {job!r}")


def metric_job(spec: dict) -> dict:
    """Time one metric job (both sublayers of one layer) over synthetic shard(s): the fastest
    of `repeats` runs (the page cache warm after the first, as for the rows of a job)."""
    torch.set_num_threads(spec["threads"])
    call = _metric_call(spec["job"], spec["method"], spec["src"], spec["tgt"], spec["settings"])
    rss_setup = peak_rss_mb()
    times = []
    for _ in range(spec.get("repeats", 1)):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return {
        "job": spec["job"],
        "method": spec["method"],
        "seconds": min(times),
        "repeats": len(times),
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_setup_mb": rss_setup,
    }


def matmul_floor(products: list[tuple[int, int, int, int]], threads: int) -> float:
    """Seconds of plain float32 (batched) matrix products [b, m, k] @ [b, k, n], one per
    tuple (b, m, k, n): what a distance or RSA job of that size costs at the very least."""
    torch.set_num_threads(threads)
    total = 0.0
    for b, m, k, n in products:
        x, y = torch.randn(b, m, k), torch.randn(b, k, n)
        torch.bmm(x[:1, :8], y[:1, :, :8])
        started = time.perf_counter()
        torch.bmm(x, y)
        total += time.perf_counter() - started
    return total


def argsort_floor(sizes: list[int]) -> float:
    """Seconds of plain np.argsort of random float32 vectors of these sizes: the ranking that
    Spearman's correlation (the paper's RSA) needs at the very least."""
    total = 0.0
    for size in sizes:
        v = np.random.default_rng(0).random(size, dtype=np.float32)
        started = time.perf_counter()
        np.argsort(v)
        total += time.perf_counter() - started
    return total


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, dtype: torch.dtype, m: int, k: int, n: int, repeats: int) -> float:
    """GFLOP/s of plain (m x k) x (k x n) products on `device` in `dtype`, after warm-ups: the
    machine's own rate at a layer's shape, what an extraction's rate is a share of. The weight
    is laid out as `nn.Linear` holds it ([n, k]): on a CPU without native bfloat16, a [k, n]
    operand took a path 40x slower in bfloat16 (0.4 vs 15 GFLOP/s, AMD EPYC with AVX2)."""
    a = torch.randn(m, k, device=device, dtype=dtype)
    w = torch.randn(n, k, device=device, dtype=dtype)
    for _ in range(3):
        torch.nn.functional.linear(a, w)
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        torch.nn.functional.linear(a, w)
    synchronize(device)
    return 2 * m * k * n * repeats / (time.perf_counter() - started) / 1e9


TASKS = {"extract": extract, "storage": storage, "metric": metric_job}


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[1]).read_text())
    result = TASKS[spec["task"]](spec)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
