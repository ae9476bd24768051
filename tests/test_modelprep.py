"""The random-weights control: the trained model's architecture and tokenizer, fresh weights."""

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer

from ffnscope.modelprep import PROVENANCE_FILE, ModelPrepError, random_init_copy
from ffnscope.models import load_model


def weights(model_dir):
    return load_file(str(model_dir / "model.safetensors"))


def test_random_copy_keeps_shapes_and_tokenizer_with_fresh_seeded_weights(tmp_path, tiny_xglm_dir):
    quiet = dict(log=lambda message: None)
    a = random_init_copy(str(tiny_xglm_dir), tmp_path / "a", seed=1, **quiet)
    again = random_init_copy(str(tiny_xglm_dir), tmp_path / "again", seed=1, **quiet)
    other = random_init_copy(str(tiny_xglm_dir), tmp_path / "other", seed=2, **quiet)
    trained, wa = weights(tiny_xglm_dir), weights(a)
    assert {k: v.shape for k, v in wa.items()} == {k: v.shape for k, v in trained.items()}
    assert all(torch.equal(wa[k], v) for k, v in weights(again).items())  # seeded
    fc1 = "model.layers.1.fc1.weight"
    assert not torch.equal(wa[fc1], weights(other)[fc1])
    matrices = [k for k, v in trained.items() if v.ndim == 2]
    assert matrices and all(not torch.equal(wa[k], trained[k]) for k in matrices)
    # the architecture's own initialiser (XGLM: normal, std init_std), not the trained values
    assert wa[fc1].std().item() == pytest.approx(AutoConfig.from_pretrained(a).init_std, rel=0.1)
    assert AutoConfig.from_pretrained(a).to_diff_dict() | {"_name_or_path": ""} == AutoConfig.from_pretrained(
        tiny_xglm_dir
    ).to_diff_dict() | {"_name_or_path": ""}
    text = "Die Katze schläft auf dem Sofa."
    assert (
        AutoTokenizer.from_pretrained(a)(text).input_ids == AutoTokenizer.from_pretrained(tiny_xglm_dir)(text).input_ids
    )
    provenance = json.loads((a / PROVENANCE_FILE).read_text())
    assert provenance["random_init_of"] == str(tiny_xglm_dir) and provenance["seed"] == 1
    loaded = load_model("tiny-xglm-random", str(a), device="cpu", dtype="float32")
    assert type(loaded.adapter).__name__ == type(load_model("t", str(tiny_xglm_dir), device="cpu").adapter).__name__
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left behind


def test_unreadable_source_is_one_clear_error(tmp_path):
    with pytest.raises(ModelPrepError, match="random_init: cannot read the config/tokenizer of '.*missing'"):
        random_init_copy(str(tmp_path / "missing"), tmp_path / "out", seed=0, log=lambda message: None)
    assert not (tmp_path / "out").exists()
