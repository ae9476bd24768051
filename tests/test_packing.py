"""Packed forward passes (`ffnscope.packing`): the layout by hand, and packed rows equal to
padded rows for every family that packs, on real sentences longer than Gemma's window."""

import numpy as np
import pytest
import torch

from ffnscope import packing
from ffnscope.models import load_model
from ffnscope.packing import PACKED_FAMILIES, layout, packed_attention, packs, supports_packing
from ffnscope.shards import read_dataset
from ffnscope.snapshot import SnapshotSettings, encode_all, snapshot
from tiny_xglm import build_tiny_gated, build_tiny_gpt2, build_tiny_opt


def test_layout_by_hand():
    # sentences of 3, 1 and 2 tokens: packed tokens a0 a1 a2 b0 c0 c1; attention groups {a} and {b, c}
    pack, positions = layout([3, 1, 2], [[0], [1, 2]], torch.device("cpu"))
    assert positions.tolist() == [[0, 1, 2, 0, 0, 1]]
    assert [g.tolist() for g in pack.gathers] == [[[0, 1, 2]], [[3, 3], [4, 5]]]
    # grids: a -> 0..2; b, c -> 3..6 as [[b0, pad], [c0, c1]]
    assert pack.scatter.tolist() == [0, 1, 2, 3, 5, 6]


def test_packs_fill_the_budget_longest_first():
    lengths = [5, 30, 12, 7, 12, 50, 1]
    out = packs(lengths, token_budget=40)
    assert sorted(i for p in out for i in p) == list(range(len(lengths)))
    assert [i for p in out for i in p] == sorted(range(len(lengths)), key=lambda i: -lengths[i])
    assert out == [[5], [1], [2, 4, 3, 0, 6]]  # 50 alone (longer than the budget), 30, then 12+12+7+5+1 = 37


def _rows(model_dir, sentences, layers, tmp_path, packing):
    loaded = load_model("m", str(model_dir), device="cpu", dtype="float32")
    settings = SnapshotSettings(storage_dtype="float32", store_pre_activation=True, packing=packing, token_budget=4096)
    paths = {layer: tmp_path / f"{packing}-{layer}.h5" for layer in layers}
    snapshot(loaded, sentences, layers, paths, settings, {"testset": "t", "lang": "x"})
    names = ("detector_pre", "detector", "combinator", "sentence_index", "token_position")
    return loaded, {layer: {name: read_dataset(paths[layer], name) for name in names} for layer in layers}


@pytest.mark.parametrize("family", PACKED_FAMILIES)
def test_packed_rows_equal_padded_rows(family, wmt_sentences, tmp_path, monkeypatch):
    """All sentences in one pack (Gemma 3's and Mistral's sliding window of 8 tokens is shorter
    than every sentence, so the band mask is exercised), with the filler that rounds a pack up
    to a multiple of 16 tokens (as in bfloat16), against right-padded batches."""
    monkeypatch.setattr(packing, "alignment", lambda dtype: 16)
    fills = []
    layout_of = packing.layout
    monkeypatch.setattr(packing, "layout", lambda lengths, *a: fills.append(lengths[-1]) or layout_of(lengths, *a))
    builders = {"gpt2": build_tiny_gpt2, "opt": build_tiny_opt}
    build = builders.get(family, lambda out: build_tiny_gated(out, family))
    model_dir = build(tmp_path / family)
    sentences = wmt_sentences[:7]  # one pack, not a multiple of 16 tokens with any tiny tokenizer
    loaded, packed = _rows(model_dir, sentences, [0, 2, 3], tmp_path, packing=True)
    assert supports_packing(loaded)
    n_tokens = sum(len(e.input_ids) for e in encode_all(loaded.tokenizer, sentences, SnapshotSettings()))
    assert fills == [-n_tokens % 16] and fills[0] > 0  # one pack and its filler, whose rows are not captured
    _, padded = _rows(model_dir, sentences, [0, 2, 3], tmp_path, packing=False)
    for layer, datasets in packed.items():
        for name, values in datasets.items():
            want = padded[layer][name]
            assert values.shape == want.shape
            err = np.abs(values - want).max() / (1 + np.abs(want).max())
            assert err < 1e-5, (family, layer, name, err)


def test_families_without_the_attention_interface_run_padded(tiny_xglm_dir):
    assert not supports_packing(load_model("m", str(tiny_xglm_dir), device="cpu", dtype="float32"))


def test_packing_refuses_what_it_cannot_compute(tmp_path):
    """A Gemma 3 with bidirectional attention (EmbeddingGemma) runs padded; the packed
    attention function refuses a call without its pack or with a mask."""
    loaded = load_model("m", str(build_tiny_gated(tmp_path / "g", "gemma3_text")), device="cpu", dtype="float32")
    assert supports_packing(loaded)
    loaded.model.config.use_bidirectional_attention = True
    assert not supports_packing(loaded)
    q = torch.zeros(1, 2, 3, 4)
    with pytest.raises(ValueError, match="causal packed passes only"):
        packed_attention(torch.nn.Module(), q, q, q, None)
    pack, _ = layout([3], [[0]], torch.device("cpu"))
    with pytest.raises(ValueError, match="a mask"):
        packed_attention(torch.nn.Module(), q, q, q, torch.ones(1, 1, 3, 3, dtype=torch.bool), ffnscope_pack=pack)
    out, _ = packed_attention(torch.nn.Module(), q, q, q, None, ffnscope_pack=pack)
    assert out.shape == (1, 3, 2, 4)
