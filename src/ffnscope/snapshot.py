"""Capturing detector and combinator activations at every prefix, one forward pass per sentence.

Sentences are processed in windows of consecutive sentences (bounded memory), sorted by
length inside a window. Families whose attention goes through transformers' attention
interface run packs of sentences laid end to end without padding (`ffnscope.packing`);
others run right-padded batches cut into the length buckets that cost the least compute
(padded tokens plus a fixed cost per batch) under a token budget, so long sentences never
blow up a batch: causal attention keeps the real tokens' activations independent of the
padding, and absolute positions (XGLM) stay correct. Only the decoder stack runs: no LM
head, and the pass stops after the last layer analysed. Captured rows leave the device at
once, in the storage dtype, and a writer thread stores one window while the next one is
computed.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import torch
from tqdm import tqdm

from . import __version__, packing
from .models import LoadedModel, device_description
from .prefixes import EncodedSentence, encode_sentence
from .shards import PRE_ACTIVATION, SUBLAYERS, ShardSet


class _StopForward(Exception):
    """Raised by the hook of the last analysed layer: the layers above are never run."""


@dataclass(frozen=True)
class SnapshotSettings:
    unit: str = "word"
    variant: str = "paper"
    storage_dtype: str = "float16"
    compression: str = "none"  # float16 activations barely compress; filters write slower (results/bench/storage.tsv)
    token_budget: int = 4096  # tokens per forward batch (padding included where batches are padded)
    batch_cost: int = 48  # a forward batch's fixed cost in tokens (config snapshot.batch_cost, docs/performance.md)
    window_mb: int = 512  # captured rows held in memory before they are written
    store_pre_activation: bool = False  # also store W1's raw output as `detector_pre`
    packing: bool = True  # sentences end to end without padding where the family allows (ffnscope.packing)


def config_hash(settings: dict) -> str:
    """Short stable hash of the settings that determine a shard's contents."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def check_layers(loaded: LoadedModel, n_layers: int, layers: list[int], model_name: str) -> None:
    actual = len(loaded.adapter.decoder_layers(loaded.base))
    if actual != n_layers:
        raise ValueError(f"config models[name={model_name}].n_layers is {n_layers} but the model has {actual} layers")
    bad = [layer for layer in layers if not 0 <= layer < actual]
    if bad:
        raise ValueError(f"config models[name={model_name}].layers has out-of-range layers {bad}")


def encode_all(tokenizer, sentences: list[str], settings: SnapshotSettings) -> list[EncodedSentence]:
    return [encode_sentence(tokenizer, s, settings.unit, settings.variant) for s in sentences]


def context_length(loaded: LoadedModel) -> int | None:
    """The most positions the model can attend to (config max_position_embeddings; GPT-2's
    n_positions maps to it), None where the config states none."""
    return getattr(loaded.model.config, "max_position_embeddings", None)


def check_prefixes(
    encoded: list[EncodedSentence],
    sentences: list[str],
    attrs: dict,
    settings: SnapshotSettings,
    max_tokens: int | None = None,
    line_numbers: list[int] | None = None,
) -> None:
    """One error naming the test set, language and sentence unless every sentence yields a
    prefix, so that no sentence silently drops out of the per-sentence statistics. Sampling
    keeps only lines with the words a prefix needs; it cannot see the tokenizer: under the
    authors' variant a one-token sentence (subword units) or one whose words all share one
    token (merged into one prefix) has none. A sentence longer than `max_tokens` (the model's
    context) is an error too, before any forward pass. With the sentences' `line_numbers` in
    the test set's files, the message names the line."""
    if not encoded:
        raise ValueError(f"test set {attrs['testset']!r}, language {attrs['lang']!r}: no sentences to capture")
    for number, (sentence, enc) in enumerate(zip(sentences, encoded), start=1):
        where = f"line {line_numbers[number - 1]} of its file" if line_numbers else f"sentence {number}"
        if max_tokens is not None and len(enc.input_ids) > max_tokens:
            raise ValueError(
                f"test set {attrs['testset']!r}, language {attrs['lang']!r}: {where} "
                f"({sentence[:60]!r}...) is {len(enc.input_ids)} tokens, longer than the model's context of "
                f"{max_tokens} positions; shorten or remove that line of the test set"
            )
        if not enc.positions:
            raise ValueError(
                f"test set {attrs['testset']!r}, language {attrs['lang']!r}: {where} {sentence!r} "
                f"yields no prefix under prefixes.unit {settings.unit!r} and variant {settings.variant!r} "
                f"({enc.n_words} words, {enc.n_tokens} tokens)"
            )


def prefix_counts(encoded: list[EncodedSentence]) -> dict[str, int]:
    """Shard attributes of the side's words, tokens and prefixes (the sides table)."""
    return {
        "n_words": sum(e.n_words for e in encoded),
        "n_tokens": sum(e.n_tokens for e in encoded),
        "n_prefixes": sum(len(e.positions) for e in encoded),
        "n_merged_words": sum(e.n_merged_words for e in encoded),
    }


def batches(lengths: list[int], token_budget: int, batch_cost: int = SnapshotSettings.batch_cost) -> list[list[int]]:
    """Group indices into length buckets, longest first, at the least compute: the split of
    the sorted lengths into consecutive batches that minimises padded tokens plus
    `batch_cost` per batch (a batch's fixed cost, in tokens: per-layer Python, kernel
    launches, small matmuls), with batch_size * longest <= token_budget (a sentence longer
    than the budget forms its own batch). Exact, by dynamic programming over the sorted
    lengths: dp[i] is the least cost of the i longest sentences."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    longest = np.array([lengths[i] for i in order], dtype=np.int64)
    cap = np.maximum(1, token_budget // np.maximum(longest, 1))  # batch size allowed from each start
    n = len(order)
    cost, start = np.zeros(n + 1, dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    for i in range(1, n + 1):
        s = np.arange(max(0, i - int(cap.max())), i)
        s = s[i - s <= cap[s]]
        total = cost[s] + (i - s) * longest[s] + batch_cost
        best = int(np.argmin(total))
        cost[i], start[i] = total[best], s[best]
    cuts, i = [], n
    while i > 0:
        cuts.append((int(start[i]), i))
        i = int(start[i])
    return [order[a:b] for a, b in reversed(cuts)]


def windows(row_counts: list[int], max_rows: int) -> list[range]:
    """Consecutive sentence ranges holding at most `max_rows` rows (at least one sentence)."""
    out, start, rows = [], 0, 0
    for i, count in enumerate(row_counts):
        if i > start and rows + count > max_rows:
            out.append(range(start, i))
            start, rows = i, 0
        rows += count
    if row_counts:
        out.append(range(start, len(row_counts)))
    return out


def captured_datasets(settings: SnapshotSettings) -> tuple[str, ...]:
    """Datasets every shard holds: detector and combinator, plus the first linear layer's
    raw output when the authors' method needs it."""
    return SUBLAYERS + ((PRE_ACTIVATION,) if settings.store_pre_activation else ())


def _hooks(decoder_layers, adapter, layer: int, capture, with_pre: bool) -> list:
    """Register the hooks of one layer; `capture(layer, name, tensor)` receives [batch, seq,
    width] tensors: detector/combinator from W2 and, if `with_pre`, detector_pre from W1."""

    def second(module, inputs, output):
        capture(layer, "detector", inputs[0])
        capture(layer, "combinator", output)

    def first(module, inputs, output):
        capture(layer, PRE_ACTIVATION, output)

    block = decoder_layers[layer]
    handles = [adapter.second_linear_of(block).register_forward_hook(second)]
    if with_pre:
        handles.append(adapter.first_linear_of(block).register_forward_hook(first))
    return handles


def _run_until(loaded: LoadedModel, inputs: dict, layers: list[int], capture, with_pre: bool) -> None:
    """One pass of the decoder stack (no LM head) over `inputs` (its keyword arguments, on the
    model's device) that `capture`s the hooked tensors and stops right after W2 of the last
    layer in `layers`."""
    decoder_layers = loaded.adapter.decoder_layers(loaded.base)
    last = max(layers)
    batch_seq = inputs["input_ids"].shape

    def capture_and_stop(layer, name, tensor):
        capture(layer, name, tensor.reshape(*batch_seq, tensor.shape[-1]))  # OPT flattens [batch x seq]
        if layer == last and name == "combinator":
            raise _StopForward

    handles = [h for layer in layers for h in _hooks(decoder_layers, loaded.adapter, layer, capture_and_stop, with_pre)]
    try:
        loaded.base(**inputs, use_cache=False)
    except _StopForward:
        pass
    finally:
        for h in handles:
            h.remove()


def right_padded(loaded: LoadedModel, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids of a batch right-padded to its longest sequence with the tokenizer's pad id,
    and the attention mask (on the CPU)."""
    ids = torch.full((len(seqs), max(map(len, seqs))), loaded.tokenizer.pad_token_id or 0, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for b, seq in enumerate(seqs):
        ids[b, : len(seq)] = torch.tensor(seq)
        mask[b, : len(seq)] = 1
    return ids, mask


def _capture_batch(
    loaded: LoadedModel,
    sents: list[EncodedSentence],
    dest: list[np.ndarray],
    layers: list[int],
    buffers: dict[int, dict[str, np.ndarray]],
    storage: torch.dtype,
    packed: bool,
    token_budget: int,
    batch_cost: int,
) -> None:
    """One forward pass over a batch, `packed` or right-padded; hooks copy the prefix rows of every
    analysed layer into `buffers` at row indices `dest[i]` of sentence i."""
    seqs = [s.input_ids for s in sents]
    if packed:
        groups = batches([len(s) for s in seqs], token_budget, batch_cost)
        inputs = packing.inputs(loaded, seqs, groups)
        starts = np.cumsum([0] + [len(s) for s in seqs[:-1]])
        b_idx = torch.zeros(sum(len(s.positions) for s in sents), dtype=torch.long, device=loaded.device)
        p_idx = torch.tensor([start + p for start, s in zip(starts, sents) for p in s.positions], device=loaded.device)
    else:
        ids, mask = right_padded(loaded, seqs)
        inputs = {"input_ids": ids.to(loaded.device), "attention_mask": mask.to(loaded.device)}
        b_idx = torch.tensor([b for b, s in enumerate(sents) for _ in s.positions], device=loaded.device)
        p_idx = torch.tensor([p for s in sents for p in s.positions], device=loaded.device)
    rows = np.concatenate(dest)

    staged = []

    def capture(layer, name, tensor):
        # gather + cast on the device, copy to (pinned) host memory without waiting for it
        staged.append((layer, name, tensor[b_idx, p_idx].to(storage).to("cpu", non_blocking=True)))

    _run_until(loaded, inputs, layers, capture, with_pre=PRE_ACTIVATION in buffers[layers[0]])
    if loaded.device.type == "cuda":
        torch.cuda.synchronize(loaded.device)  # one wait per batch for all its copies
    for layer, name, values in staged:
        buffers[layer][name][rows] = values.numpy()


def runs_packed(loaded: LoadedModel, settings: SnapshotSettings) -> bool:
    """Whether the snapshot packs its sentences (`ffnscope.packing`) or pads them."""
    return settings.packing and packing.supports_packing(loaded)


def check_finite(
    buffers: dict[int, dict[str, np.ndarray]],
    sentence_index: np.ndarray,
    attrs: dict,
    loaded: LoadedModel,
    storage_dtype: str,
    line_numbers: list[int] | None = None,
) -> None:
    """One error, before anything is written, where a captured value is not finite: the
    model's activations overflow the compute or the storage dtype (Gemma 3 computed in
    float16 does), and every metric of such rows would be NaN."""
    for layer, datasets in buffers.items():
        for name, values in datasets.items():
            # a row sum is finite iff every value is (no finite float16 row overflows a float32
            # sum, nor a float32 row a float64 one); torch sums 3x faster than numpy's isfinite
            wide = torch.float32 if values.dtype == np.float16 else torch.float64
            bad = ~torch.isfinite(torch.from_numpy(values).sum(dim=1, dtype=wide)).numpy()
            if bad.any():
                first = int(sentence_index[np.argmax(bad)])
                where = f"line {line_numbers[first]} of its file" if line_numbers else f"sentence {first + 1}"
                raise ValueError(
                    f"test set {attrs['testset']!r}, language {attrs['lang']!r}, layer {layer}: {int(bad.sum())} "
                    f"{name} rows hold values that are not finite (first: {where}), computed in "
                    f"{str(loaded.dtype).removeprefix('torch.')} and stored as {storage_dtype}: the activations "
                    "overflow; set snapshot.compute_dtype to bfloat16 or float32 (and snapshot.storage_dtype to "
                    "float32 if they exceed float16's range)"
                )


def _window_buffers(layers: list[int], n_rows: int, dims: dict[str, int], dtype) -> dict:
    return {layer: {name: np.empty((n_rows, dim), dtype=dtype) for name, dim in dims.items()} for layer in layers}


def ffn_dims(loaded: LoadedModel) -> dict[str, int]:
    """Width of every captured vector (detector, combinator, detector_pre), from a probe pass
    of one token through layer 0."""
    seen = {}
    ids = torch.tensor([[loaded.tokenizer.pad_token_id or 0]], device=loaded.device)
    _run_until(
        loaded,
        {"input_ids": ids},
        [0],
        lambda layer, name, tensor: seen.setdefault(name, tensor.shape[-1]),
        with_pre=True,
    )
    return seen


@torch.inference_mode()
def snapshot(
    loaded: LoadedModel,
    sentences: list[str],
    layers: list[int],
    out_paths: dict[int, str | Path],
    settings: SnapshotSettings,
    attrs: dict,
    progress: TextIO | None = None,
    line_numbers: list[int] | None = None,
) -> int:
    """Write one shard per layer in `out_paths` for `sentences` (from `line_numbers` of the
    test set's files, for messages); returns the prefix count. A progress bar goes to
    `progress` (e.g. the job's log file) when given."""
    encoded = encode_all(loaded.tokenizer, sentences, settings)
    check_prefixes(encoded, sentences, attrs, settings, context_length(loaded), line_numbers)
    counts = [len(s.positions) for s in encoded]
    n_rows = sum(counts)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    dims = {name: width for name, width in ffn_dims(loaded).items() if name in captured_datasets(settings)}
    storage = getattr(torch, settings.storage_dtype)
    row_bytes = sum(dims.values()) * np.dtype(settings.storage_dtype).itemsize * len(layers)
    max_rows = max(1, settings.window_mb * (1 << 20) // row_bytes)
    per_layer = {
        layer: {
            **attrs,
            **prefix_counts(encoded),
            "layer": layer,
            **{f"{role}_module": name for role, name in loaded.adapter.module_names(layer).items()},
        }
        for layer in layers
    }
    packed = runs_packed(loaded, settings)
    bar = tqdm(total=len(sentences), unit="sent", file=progress, disable=progress is None, mininterval=5)
    with (
        packing.packed_attention_of(loaded) if packed else nullcontext(),
        ShardSet(
            out_paths, n_rows, settings.storage_dtype, settings.compression, per_layer, list(dims.values())
        ) as shards,
        ThreadPoolExecutor(max_workers=1) as writer,
    ):
        pending = None
        for window in windows(counts, max_rows):
            start, stop = int(offsets[window.start]), int(offsets[window.stop])
            buffers = _window_buffers(layers, stop - start, dims, np.dtype(settings.storage_dtype))
            lengths = [len(encoded[i].input_ids) for i in window]
            for batch in (
                packing.packs(lengths, settings.token_budget)
                if packed
                else batches(lengths, settings.token_budget, settings.batch_cost)
            ):
                sents = [encoded[window.start + i] for i in batch]
                dest = [
                    np.arange(offsets[window.start + i] - start, offsets[window.start + i + 1] - start) for i in batch
                ]
                _capture_batch(
                    loaded, sents, dest, layers, buffers, storage, packed, settings.token_budget, settings.batch_cost
                )
                bar.update(len(batch))
            sentence_index = np.repeat(np.arange(window.start, window.stop), counts[window.start : window.stop])
            check_finite(buffers, sentence_index, attrs, loaded, settings.storage_dtype, line_numbers)
            token_position = np.array([p for i in window for p in encoded[i].positions], dtype=np.int32)
            if pending is not None:
                pending.result()
            pending = writer.submit(shards.write, start, buffers, sentence_index, token_position)
        pending.result()
    bar.close()
    return n_rows


def compute_device(loaded: LoadedModel) -> tuple[str, str, str]:
    """(device, device name, compute dtype) the weights actually live on and in, read from
    the model itself rather than from the settings that asked for them."""
    param = next(loaded.model.parameters())
    return str(param.device), device_description(param.device), str(param.dtype).removeprefix("torch.")


def shard_attributes(
    *,
    model: str,
    model_path: str,
    revision: str,
    testset: str,
    lang: str,
    n_sentences: int,
    settings: SnapshotSettings,
    loaded: LoadedModel,
    hash_of_config: str,
) -> dict:
    """Attributes shared by every layer shard of one snapshot job."""
    device, device_name, compute_dtype = compute_device(loaded)
    pre = {
        PRE_ACTIVATION: "output of the FFN's first linear sublayer (first_linear_module; "
        "gated FFNs: the gate projection), before the activation"
    }
    return {
        "model": model,
        "model_path": model_path,
        "model_revision": revision,
        "testset": testset,
        "lang": lang,
        "n_sentences": n_sentences,
        "prefix_unit": settings.unit,
        "prefix_variant": settings.variant,
        "storage_dtype": settings.storage_dtype,
        "compression": settings.compression,
        "compute_dtype": compute_dtype,
        "compute_dtype_reason": loaded.dtype_reason,
        "batching": "packed" if runs_packed(loaded, settings) else "right-padded",
        "device": device,
        "device_name": device_name,
        "torch_version": str(torch.__version__),
        "ffn_family": loaded.adapter.ffn_family,
        "activation": loaded.adapter.activation_of(loaded.model.config),
        "detector": "input of the FFN's second linear sublayer (post-activation)",
        "combinator": "output of the FFN's second linear sublayer",
        **(pre if settings.store_pre_activation else {}),
        "ffnscope_version": __version__,
        "config_hash": hash_of_config,
    }
