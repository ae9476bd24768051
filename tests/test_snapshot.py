"""The single-pass claim: shard rows (detector, combinator and the first linear layer's raw
output `detector_pre`) equal the last-position FFN activations of separate per-prefix
forward passes, for the tiny XGLM and for Gemma 3 270M, in float32."""

import itertools
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from ffnscope.metrics import shard_statistics
from ffnscope.models import device_description, load_model, native_bfloat16, resolve_device, resolve_dtype
from ffnscope.neurons import shard_source
from ffnscope.shards import read_attrs, read_dataset
from ffnscope.snapshot import (
    SnapshotSettings,
    batches,
    encode_all,
    prefix_counts,
    shard_attributes,
    snapshot,
    windows,
)
from tiny_xglm import build_tiny_bloom, build_tiny_gated, build_tiny_opt

# Float32 activations of one full pass vs. a prefix pass differ only by summation order.
RTOL = 1e-4


def xglm_ffn(model, layer, x):
    """(detector_pre, detector, combinator) of FFN input x."""
    block = model.model.layers[layer]
    pre = block.fc1(x)
    d = block.activation_fn(pre)
    return pre, d, block.fc2(d)


def gated_ffn(model, layer, x):
    mlp = model.model.layers[layer].mlp
    pre = mlp.gate_proj(x)
    d = mlp.act_fn(pre) * mlp.up_proj(x)
    return pre, d, mlp.down_proj(d)


def opt_ffn(model, layer, x):
    block = model.model.decoder.layers[layer]
    pre = block.fc1(x)
    d = block.activation_fn(pre)
    return pre, d, block.fc2(d)


def bloom_ffn(model, layer, x):
    mlp = model.transformer.h[layer].mlp
    pre = mlp.dense_h_to_4h(x)
    d = mlp.gelu_impl(pre)
    return pre, d, mlp.dense_4h_to_h(d)


FFN_INPUT = {
    xglm_ffn: "model.layers.{layer}.fc1",
    gated_ffn: "model.layers.{layer}.mlp",
    opt_ffn: "model.decoder.layers.{layer}.fc1",
    bloom_ffn: "transformer.h.{layer}.mlp.dense_h_to_4h",
}
# The hooked W1, named relative to the base model (the shard attribute).
FIRST_LINEAR = {
    xglm_ffn: "layers.{layer}.fc1",
    gated_ffn: "layers.{layer}.mlp.gate_proj",
    opt_ffn: "decoder.layers.{layer}.fc1",
    bloom_ffn: "h.{layer}.mlp.dense_h_to_4h",
}


def reference_rows(model, ffn, layers, ids, positions):
    """Per prefix, a separate unbatched pass of the decoder stack over ids[:p+1] (the LM head
    cannot change hidden states, so it is skipped to keep the test fast); each layer's FFN
    input x at the last position is taken by a pre-hook, and the FFN's vectors are
    recomputed from x with the model's own weights (no hook on the FFN's linear layers).
    Returns {layer: {dataset: [n_positions, width]}}."""
    seen = {}

    def take_input(layer):
        def hook(module, args):
            if layer not in seen:  # the recomputation below calls the module again
                seen[layer] = args[0].reshape(-1, args[0].shape[-1])[-1]  # OPT's FFN sees [seq, d]

        return hook

    handles = [
        model.get_submodule(FFN_INPUT[ffn].format(layer=layer)).register_forward_pre_hook(take_input(layer))
        for layer in layers
    ]
    rows = {layer: [] for layer in layers}
    try:
        with torch.no_grad():
            for p in positions:
                seen.clear()
                model.base_model(input_ids=torch.tensor([ids[: p + 1]]))
                for layer in layers:
                    rows[layer].append([v.numpy() for v in ffn(model, layer, seen[layer])])
    finally:
        for handle in handles:
            handle.remove()
    return {layer: {name: np.stack([r[k] for r in rows[layer]]) for k, name in enumerate(DATASETS)} for layer in layers}


DATASETS = ("detector_pre", "detector", "combinator")


def check_single_pass(model_dir, sentences, layers, ffn, tmp_path, **settings):
    loaded = load_model("m", str(model_dir), device="cpu", dtype="float32")
    settings = SnapshotSettings(storage_dtype="float32", store_pre_activation=True, **settings)
    paths = {layer: tmp_path / f"layer{layer:02d}.h5" for layer in layers}
    attrs = shard_attributes(
        model="m",
        model_path=str(model_dir),
        revision="local",
        testset="t",
        lang="x",
        n_sentences=len(sentences),
        settings=settings,
        loaded=loaded,
        hash_of_config="h",
    )
    n = snapshot(loaded, sentences, layers, paths, settings, attrs)
    encoded = encode_all(loaded.tokenizer, sentences, settings)
    assert n == sum(len(e.positions) for e in encoded)
    stored = {
        layer: {name: read_dataset(paths[layer], name) for name in DATASETS + ("sentence_index", "token_position")}
        for layer in layers
    }
    for layer in layers:
        attrs = read_attrs(paths[layer])
        assert attrs["layer"] == layer
        assert {name: attrs[name] for name in prefix_counts(encoded)} == prefix_counts(encoded)
        assert attrs["n_prefixes"] == n
        assert attrs["first_linear_module"] == FIRST_LINEAR[ffn].format(layer=layer)
        assert (attrs["device"], attrs["compute_dtype"]) == ("cpu", "float32")
    worst = 0.0
    for i, e in enumerate(encoded):
        ref = reference_rows(loaded.model, ffn, layers, e.input_ids, e.positions)
        for layer in layers:
            rows = np.flatnonzero(stored[layer]["sentence_index"] == i)
            assert list(stored[layer]["token_position"][rows]) == e.positions
            for name in DATASETS:
                want = ref[layer][name]
                err = np.abs(stored[layer][name][rows] - want).max() / (1 + np.abs(want).max())
                worst = max(worst, err)
                assert err < RTOL, (layer, i, name, err)
    return worst


def test_tiny_xglm_single_pass_equals_per_prefix_passes(tiny_xglm_dir, wmt_sentences, tmp_path):
    # A small token budget and window force several batches of unequal lengths and windows.
    check_single_pass(tiny_xglm_dir, wmt_sentences, [0, 2, 3], xglm_ffn, tmp_path, token_budget=120, window_mb=1)


def test_tiny_xglm_subword_and_authors_prefixes(tiny_xglm_dir, wmt_sentences, tmp_path):
    check_single_pass(tiny_xglm_dir, wmt_sentences[:3], [1], xglm_ffn, tmp_path, unit="subword", variant="authors_code")


@pytest.mark.parametrize("model_type, activation", [("llama", "silu"), ("gemma3_text", "gelu_pytorch_tanh")])
def test_gated_neurons_fire_where_the_gate_fires(model_type, activation, wmt_sentences, tmp_path):
    """A tiny gated model: shards equal independent per-prefix passes; they record the FFN
    family and the model's activation; a detector neuron fires (method paper, "> 0") exactly
    where act(gate(x)) > 0 of the model's own act_fn module; and the activation the analysis
    applies to stored gate outputs equals that module's output."""
    model_dir = build_tiny_gated(tmp_path / model_type, model_type)
    layers = [0, 3]
    check_single_pass(model_dir, wmt_sentences[:4], layers, gated_ffn, tmp_path, token_budget=120)
    loaded = load_model("m", str(model_dir), device="cpu", dtype="float32")
    model, encoded = loaded.model, encode_all(loaded.tokenizer, wmt_sentences[:4], SnapshotSettings())
    for layer in layers:
        path = tmp_path / f"layer{layer:02d}.h5"
        attrs = read_attrs(path)
        assert (attrs["ffn_family"], attrs["activation"]) == ("gated", activation)
        act_fn = model.model.layers[layer].mlp.act_fn
        gate = np.concatenate(
            [
                reference_rows(model, gated_ffn, [layer], e.input_ids, e.positions)[layer]["detector_pre"]
                for e in encoded
            ]
        )
        with torch.no_grad():
            want = act_fn(torch.from_numpy(gate)).numpy()
        stats = shard_statistics(path, "detector", "paper", "> 0")
        assert stats.neuron_value == "act(gate)"
        np.testing.assert_array_equal(stats.fires.sum(0) / stats.total_prefixes(), (want > 0).mean(0))
        with h5py.File(path) as f:
            src, data = shard_source(f, "detector", "paper", "neuron")
            np.testing.assert_allclose(
                src.rows(data[...]), act_fn(torch.from_numpy(data[...])).numpy(), rtol=1e-6, atol=1e-7
            )
        # W2's input stays available: its sign is that of a product with up(x)
        w2 = shard_statistics(path, "detector", "paper", "> 0", gated="w2_input")
        assert w2.neuron_value == "w2_input" and "by construction" in w2.firing_not_measurable()


@pytest.mark.slow
def test_gemma_single_pass_equals_per_prefix_passes(gemma_dir, wmt_sentences, tmp_path):
    check_single_pass(gemma_dir, wmt_sentences[:5], [0, 9, 17], gated_ffn, tmp_path, token_budget=200)


@pytest.mark.parametrize("model_type", ["llama", "gemma3_text", "qwen2", "gemma2"])
def test_tiny_gated_single_pass_equals_per_prefix_passes(model_type, wmt_sentences, tmp_path):
    """Packed passes (`ffnscope.packing`) against unbatched prefix passes; the tiny Gemma's
    sliding window (8 tokens) is shorter than the sentences; Qwen 2's byte-level BPE has no BOS;
    Gemma 2 (soft-capped scores) runs padded."""
    model_dir = build_tiny_gated(tmp_path / model_type, model_type)
    check_single_pass(model_dir, wmt_sentences, [0, 3], gated_ffn, tmp_path, token_budget=300)


@pytest.mark.parametrize("packing", [True, False])
def test_tiny_opt_single_pass_equals_per_prefix_passes(packing, wmt_sentences, tmp_path):
    """OPT flattens [batch x seq] before its FFN and offsets its learned positions by 2."""
    model_dir = build_tiny_opt(tmp_path / "opt")
    check_single_pass(model_dir, wmt_sentences, [0, 3], opt_ffn, tmp_path, token_budget=300, packing=packing)


def test_tiny_bloom_single_pass_equals_per_prefix_passes(wmt_sentences, tmp_path):
    """BLOOM's ALiBi attention biases by the padding mask's positions; it runs padded."""
    model_dir = build_tiny_bloom(tmp_path / "bloom")
    check_single_pass(model_dir, wmt_sentences, [0, 3], bloom_ffn, tmp_path, token_budget=300)


def test_sentence_without_prefix_names_test_set_language_and_sentence(tiny_xglm_dir, tmp_path):
    # the tiny tokenizer has no Chinese: "▁" and one <unk> for the whole sentence, one prefix,
    # none once the authors' variant drops the full sentence
    loaded = load_model("m", str(tiny_xglm_dir), device="cpu", dtype="float32")
    settings = SnapshotSettings(unit="word", variant="authors_code")
    with pytest.raises(
        ValueError,
        match=r"^test set 'flores', language 'zho_Hans': sentence 2 '猫在睡觉。' yields no prefix under "
        r"prefixes.unit 'word' and variant 'authors_code' \(3 words, 2 tokens\)$",
    ):
        attrs = {"testset": "flores", "lang": "zho_Hans"}
        snapshot(loaded, ["The cat sleeps.", "猫在睡觉。"], [0], {0: tmp_path / "layer00.h5"}, settings, attrs)
    assert list(tmp_path.iterdir()) == []  # no shard with an empty sentence


@pytest.mark.parametrize("model_type", ["xglm", "llama"])
def test_sentence_longer_than_the_context_names_itself_before_any_work(model_type, tiny_xglm_dir, tmp_path):
    """The tiny models have XGLM's 2048 positions (a GPT-2-style model would die with an
    IndexError, XGLM would silently go on past its positions)."""
    model_dir = tiny_xglm_dir if model_type == "xglm" else build_tiny_gated(tmp_path / "m", model_type)
    loaded = load_model("m", str(model_dir), device="cpu", dtype="float32")
    long = " ".join(["cat"] * 2100) + "."
    attrs = {"testset": "wmt", "lang": "en"}
    # named by its line in the test set's file where the sample's line numbers are given
    line_numbers, where = ([4, 9], "line 9 of its file") if model_type == "llama" else (None, "sentence 2")
    with pytest.raises(
        ValueError,
        match=rf"^test set 'wmt', language 'en': {where} \('cat cat .*is \d+ tokens, "
        r"longer than the model's context of 2048 positions",
    ):
        snapshot(
            loaded,
            ["The cat sleeps.", long],
            [0],
            {0: tmp_path / "layer00.h5"},
            SnapshotSettings(),
            attrs,
            line_numbers=line_numbers,
        )
    assert not (tmp_path / "layer00.h5").exists()


def test_batches_respect_token_budget():
    lengths = [5, 30, 7, 12, 12, 3]
    out = batches(lengths, token_budget=30, batch_cost=100)  # batches cost more than any padding
    assert sorted(i for b in out for i in b) == list(range(6))
    for b in out:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 30
    assert out == [[1], [3, 4], [2, 0, 5]]  # longest first, alone at the budget: 3 batches at least


def test_batches_minimise_padded_tokens_plus_batch_cost():
    """Sorted lengths 40, 38, 30, 29, 10, 9 (156 real tokens); cost = padded tokens + c per batch:
    c = 0: no padding, every sentence alone (156); c = 1000: one batch (6 x 40 + 1000);
    c = 25: [40 38 30 29][10 9] = 160 + 20 + 50 = 230 beats [40 38][30 29][10 9] = 80 + 60 + 20
    + 75 = 235 and one batch (265); c = 15: the three buckets (205) beat two (210) and four
    ([40][38][30 29][10 9] = 158 + 60 = 218)."""
    lengths = [10, 40, 29, 38, 9, 30]
    assert batches(lengths, token_budget=1000, batch_cost=0) == [[1], [3], [5], [2], [0], [4]]
    assert batches(lengths, token_budget=1000, batch_cost=1000) == [[1, 3, 5, 2, 0, 4]]
    assert batches(lengths, token_budget=1000, batch_cost=25) == [[1, 3, 5, 2], [0, 4]]
    assert batches(lengths, token_budget=1000, batch_cost=15) == [[1, 3], [5, 2], [0, 4]]
    # budget 100: 3 batches at the least; of those, the least padding: 80 + 60 + 20, not 80 + 90 + 9
    assert batches(lengths, token_budget=100, batch_cost=1000) == [[1, 3], [5, 2], [0, 4]]
    assert batches([], token_budget=100) == []


def test_batches_are_the_cheapest_split_of_the_sorted_lengths():
    rng = np.random.default_rng(3)
    for _ in range(20):
        lengths = rng.integers(1, 40, rng.integers(1, 8)).tolist()
        budget, c = int(rng.integers(40, 150)), int(rng.integers(0, 60))
        desc = sorted(lengths, reverse=True)

        def cost(groups, c=c):
            return sum(len(g) * g[0] + c for g in groups)

        splits = []  # every split of the sorted lengths into consecutive groups within the budget
        for cuts in itertools.product([0, 1], repeat=len(desc) - 1):
            groups, start = [], 0
            for k, cut in enumerate(cuts, 1):
                if cut:
                    groups.append(desc[start:k])
                    start = k
            groups.append(desc[start:])
            if all(len(g) == 1 or len(g) * g[0] <= budget for g in groups):
                splits.append(groups)
        got = [[lengths[i] for i in b] for b in batches(lengths, budget, c)]
        assert sorted(i for b in batches(lengths, budget, c) for i in b) == list(range(len(lengths)))
        assert cost(got) == min(cost(g) for g in splits)


def test_windows_are_consecutive_and_bounded():
    assert windows([3, 3, 3, 10, 1], max_rows=6) == [range(0, 2), range(2, 3), range(3, 4), range(4, 5)]


def test_pre_activation_is_optional(tiny_xglm_dir, wmt_sentences, tmp_path):
    """Without store_pre_activation the shard holds no detector_pre and says nothing of it;
    the stored detector is exactly GELU of the stored pre-activation (same pass, float32)."""
    loaded = load_model("m", str(tiny_xglm_dir), device="cpu", dtype="float32")
    for store in (False, True):
        settings = SnapshotSettings(storage_dtype="float32", store_pre_activation=store)
        path = tmp_path / f"{store}.h5"
        attrs = shard_attributes(
            model="m",
            model_path="p",
            revision="r",
            testset="t",
            lang="x",
            n_sentences=2,
            settings=settings,
            loaded=loaded,
            hash_of_config="h",
        )
        snapshot(loaded, wmt_sentences[:2], [1], {1: path}, settings, attrs)
        with h5py.File(path) as f:
            assert ("detector_pre" in f) == store == ("detector_pre" in f.attrs)
            if store:
                pre = torch.from_numpy(f["detector_pre"][...])
                gelu = loaded.model.model.layers[1].activation_fn
                np.testing.assert_allclose(f["detector"][...], gelu(pre).numpy(), rtol=1e-6, atol=1e-7)


def test_auto_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


@pytest.mark.parametrize(
    "amx, avx512_bf16, want",
    [(True, True, torch.bfloat16), (False, True, torch.bfloat16), (False, False, torch.float32)],
)
def test_auto_dtype_on_the_cpu_is_bfloat16_where_it_is_native(monkeypatch, amx, avx512_bf16, want):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    cpu = torch.device("cpu")
    dtype, why = resolve_dtype("auto", cpu)
    assert dtype == want
    assert ("AMX" if amx else "AVX512_BF16" if avx512_bf16 else "no native bfloat16") in why
    assert resolve_dtype("auto", cpu, cpu_bfloat16=False)[0] == torch.float32  # the causal test
    assert resolve_dtype("float16", cpu) == (torch.float16, "set by snapshot.compute_dtype")


def test_native_bfloat16_is_what_the_cpu_flags_say():
    """The detection agrees with the kernel's CPU flags (x86 Linux)."""
    flags = next(
        (
            line.split(":")[1].split()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        ),
        None,
    )
    if flags is None:
        pytest.skip("no x86 CPU flags in /proc/cpuinfo")
    want = "AMX" if "amx_tile" in flags else "AVX512_BF16" if "avx512_bf16" in flags else None
    assert native_bfloat16(torch.device("cpu")) == want


def test_cpu_description_names_the_model_and_its_matmul_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile amx_bf16 avx512_vnni\n"
    )
    cpu = torch.device("cpu")
    assert device_description(cpu, cpuinfo) == "Intel(R) Xeon(R) Platinum 8480+ (avx2, avx512f, avx512_bf16, amx_bf16)"
    cpuinfo.write_text("model name\t: Old CPU\nflags\t\t: fpu sse sse2\n")
    assert device_description(cpu, cpuinfo) == "Old CPU (no AVX2)"


@pytest.mark.parametrize(
    "capability, want", [((9, 0), torch.bfloat16), ((8, 0), torch.bfloat16), ((7, 0), torch.float32)]
)
def test_auto_dtype_on_a_gpu_is_bfloat16_from_compute_capability_8(monkeypatch, capability, want):
    # a V100 (7.0) emulates bfloat16; A100 (8.0) and H100 (9.0) have bfloat16 tensor cores
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert resolve_dtype("auto", torch.device("cuda"))[0] == want


def test_overflowing_activations_stop_the_snapshot_before_it_writes(tiny_xglm_dir, tmp_path):
    """Activations beyond float16's range (as Gemma 3's in float16 compute): one error naming
    the layer, the dataset, the first sentence's line and both dtypes; no shard written."""
    loaded = load_model("m", str(tiny_xglm_dir), device="cpu", dtype="float32")
    with torch.no_grad():
        loaded.adapter.decoder_layers(loaded.base)[1].fc2.weight.mul_(1e7)  # combinator of layer 1 only
    attrs = {"testset": "wmt", "lang": "en"}
    with pytest.raises(
        ValueError,
        match=r"^test set 'wmt', language 'en', layer 1: \d+ combinator rows hold values that are not finite "
        r"\(first: line 7 of its file\), computed in float32 and stored as float16: the activations overflow",
    ):
        snapshot(
            loaded,
            ["The cat sleeps.", "A dog runs home."],
            [0, 1],
            {0: tmp_path / "layer00.h5", 1: tmp_path / "layer01.h5"},
            SnapshotSettings(),
            attrs,
            line_numbers=[7, 9],
        )
    assert list(tmp_path.iterdir()) == []
