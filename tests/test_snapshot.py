"""The single-pass claim: shard rows equal the last-position FFN activations of separate
per-prefix forward passes, for the tiny XGLM and for Gemma 3 270M, in float32."""

import numpy as np
import pytest
import torch

from ffnscope.models import load_model
from ffnscope.shards import read_attrs, read_dataset
from ffnscope.snapshot import SnapshotSettings, batches, encode_all, shard_attributes, snapshot, windows

# Float32 activations of one full pass vs. a prefix pass differ only by summation order.
RTOL = 1e-4


def xglm_ffn(model, layer, x):
    block = model.model.layers[layer]
    d = block.activation_fn(block.fc1(x))
    return d, block.fc2(d)


def gated_ffn(model, layer, x):
    mlp = model.model.layers[layer].mlp
    d = mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x)
    return d, mlp.down_proj(d)


FFN_INPUT = {xglm_ffn: "model.layers.{layer}.fc1", gated_ffn: "model.layers.{layer}.mlp"}


def reference_rows(model, ffn, layer, ids, positions):
    """Per prefix, a separate unbatched pass of the full causal LM over ids[:p+1]; the FFN
    input x at the last position is taken by a pre-hook, and detector and combinator are
    recomputed from x with the model's own weights (no hook on the second linear layer)."""
    seen = {}

    def take_input(module, args):
        if "x" not in seen:  # the recomputation below calls the module again
            seen["x"] = args[0][0, -1]

    module = model.get_submodule(FFN_INPUT[ffn].format(layer=layer))
    handle = module.register_forward_pre_hook(take_input)
    det, comb = [], []
    try:
        with torch.no_grad():
            for p in positions:
                seen.clear()
                model(input_ids=torch.tensor([ids[: p + 1]]))
                d, c = ffn(model, layer, seen["x"])
                det.append(d.numpy())
                comb.append(c.numpy())
    finally:
        handle.remove()
    return np.stack(det), np.stack(comb)


def check_single_pass(model_dir, sentences, layers, ffn, tmp_path, **settings):
    loaded = load_model("m", str(model_dir), device="cpu", dtype="float32")
    settings = SnapshotSettings(storage_dtype="float32", **settings)
    paths = {layer: tmp_path / f"layer{layer:02d}.h5" for layer in layers}
    attrs = shard_attributes(model="m", model_path=str(model_dir), revision="local", testset="t", lang="x",
                             n_sentences=len(sentences), settings=settings, loaded=loaded, hash_of_config="h")
    n = snapshot(loaded, sentences, layers, paths, settings, attrs)
    encoded = encode_all(loaded.tokenizer, sentences, settings)
    assert n == sum(len(e.positions) for e in encoded)
    worst = 0.0
    for layer in layers:
        sent = read_dataset(paths[layer], "sentence_index")
        pos = read_dataset(paths[layer], "token_position")
        det = read_dataset(paths[layer], "detector")
        comb = read_dataset(paths[layer], "combinator")
        assert read_attrs(paths[layer])["layer"] == layer
        for i, e in enumerate(encoded):
            rows = np.flatnonzero(sent == i)
            assert list(pos[rows]) == e.positions
            ref_det, ref_comb = reference_rows(loaded.model, ffn, layer, e.input_ids, e.positions)
            for got, ref in ((det[rows], ref_det), (comb[rows], ref_comb)):
                err = np.abs(got - ref).max() / (1 + np.abs(ref).max())
                worst = max(worst, err)
                assert err < RTOL, (layer, i, err)
    return worst


def test_tiny_xglm_single_pass_equals_per_prefix_passes(tiny_xglm_dir, wmt_sentences, tmp_path):
    # A small token budget and window force several batches of unequal lengths and windows.
    check_single_pass(tiny_xglm_dir, wmt_sentences, [0, 2, 3], xglm_ffn,
                      tmp_path, token_budget=120, window_mb=1)


def test_tiny_xglm_subword_and_authors_prefixes(tiny_xglm_dir, wmt_sentences, tmp_path):
    check_single_pass(tiny_xglm_dir, wmt_sentences[:3], [1], xglm_ffn, tmp_path,
                      unit="subword", variant="authors_code")


@pytest.mark.slow
def test_gemma_single_pass_equals_per_prefix_passes(gemma_dir, wmt_sentences, tmp_path):
    check_single_pass(gemma_dir, wmt_sentences[:5], [0, 9, 17], gated_ffn,
                      tmp_path, token_budget=200)


def test_batches_respect_token_budget():
    lengths = [5, 30, 7, 12, 12, 3]
    out = batches(lengths, token_budget=30)
    assert sorted(i for b in out for i in b) == list(range(6))
    for b in out:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 30
    assert out[0] == [1]  # the longest sentence first, alone at the budget


def test_windows_are_consecutive_and_bounded():
    assert windows([3, 3, 3, 10, 1], max_rows=6) == [range(0, 2), range(2, 3), range(3, 4), range(4, 5)]
