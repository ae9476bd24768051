"""Switching neurons off (a hook on W2's input) against an independent forward pass with the
same W2 weight columns zeroed, and per-sentence NLL against transformers' own loss."""

import copy

import pytest
import torch

from ffnscope.intervention import neurons_off, sentence_nll
from ffnscope.models import load_model
from tiny_xglm import build_tiny_gated

OFF = {0: [3, 17, 40], 2: [5], 3: []}  # layer -> neurons of W2's input


@pytest.fixture(scope="module", params=["xglm", "llama", "gemma3_text"])
def loaded(request, tiny_xglm_dir, tmp_path_factory):
    path = tiny_xglm_dir if request.param == "xglm" else build_tiny_gated(tmp_path_factory.mktemp("m"), request.param)
    return load_model("tiny", str(path), device="cpu", dtype="float32")


def logits(loaded, ids):
    with torch.no_grad():
        return loaded.model(input_ids=ids).logits


def test_switching_off_equals_zeroed_w2_columns_and_nothing_else(loaded, wmt_sentences):
    ids = torch.tensor([loaded.tokenizer(wmt_sentences[0])["input_ids"]])
    before = logits(loaded, ids)
    # independent: a copy whose W2 ignores those inputs (zero weight columns), no hook
    zeroed = copy.deepcopy(loaded.model)
    layers = loaded.adapter.decoder_layers(zeroed.base_model)
    with torch.no_grad():
        for layer, chosen in OFF.items():
            loaded.adapter.second_linear_of(layers[layer]).weight[:, chosen] = 0
        expected = zeroed(input_ids=ids).logits
    with neurons_off(loaded, OFF):
        during = logits(loaded, ids)
    torch.testing.assert_close(during, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(during, before)  # the neurons mattered
    torch.testing.assert_close(logits(loaded, ids), before, rtol=0, atol=0)  # the hooks are gone


def test_only_the_chosen_neurons_are_zero_at_w2_input(loaded, wmt_sentences):
    seen = {}
    w2 = loaded.adapter.second_linear_of(loaded.adapter.decoder_layers(loaded.base)[0])

    def record(module, args, output):  # a forward hook runs after the pre-hooks: the input W2 used
        seen["x"] = args[0].clone()

    probe = w2.register_forward_hook(record)
    ids = torch.tensor([loaded.tokenizer(wmt_sentences[1])["input_ids"]])
    try:
        logits(loaded, ids)
        free = seen.pop("x")
        with neurons_off(loaded, OFF):
            logits(loaded, ids)
        off = seen.pop("x")
    finally:
        probe.remove()
    assert (off[..., OFF[0]] == 0).all() and (free[..., OFF[0]] != 0).any()
    others = [j for j in range(free.shape[-1]) if j not in OFF[0]]
    torch.testing.assert_close(off[..., others], free[..., others], rtol=0, atol=0)


def test_sentence_nll_is_transformers_loss(loaded, wmt_sentences):
    nll, counts = sentence_nll(loaded, wmt_sentences[:5], batch_size=3)  # padded batches
    for sentence, total, n in zip(wmt_sentences[:5], nll, counts):
        ids = torch.tensor([loaded.tokenizer(sentence)["input_ids"]])
        with torch.no_grad():
            loss = loaded.model(input_ids=ids, labels=ids).loss
        assert n == ids.shape[1] - 1
        assert total / n == pytest.approx(loss.item(), rel=1e-4)
