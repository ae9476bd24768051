"""The causal test's two parts (as LAPE's `ppl.py`, Tang et al. 2024): neurons switched off
during the forward pass, and each sentence's negative log-likelihood under the full LM.

A neuron here is a feature of W2's input (the detector: act(W1 x), or act(gate x) * up(x) for
a gated FFN, ffnscope.adapters). Switching it off sets that feature to 0 on every token, so
W2 receives nothing from it; everything else of the model is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch

from .models import LoadedModel


@contextmanager
def neurons_off(loaded: LoadedModel, neurons: Mapping[int, Sequence[int]]) -> Iterator[None]:
    """Within the block, the listed neurons (layer index -> neuron indices) are 0 at W2's input
    on every token (a forward pre-hook on each listed layer's W2, removed on exit)."""
    layers = loaded.adapter.decoder_layers(loaded.base)
    handles = []

    def zero(index: torch.Tensor):
        def hook(module, args):
            return (args[0].index_fill(-1, index, 0), *args[1:])

        return hook

    try:
        for layer, chosen in neurons.items():
            if len(chosen):
                index = torch.as_tensor(sorted(set(chosen)), dtype=torch.long, device=loaded.device)
                w2 = loaded.adapter.second_linear_of(layers[layer])
                handles.append(w2.register_forward_pre_hook(zero(index)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.inference_mode()
def sentence_nll(loaded: LoadedModel, sentences: Sequence[str], batch_size: int = 16) -> tuple[list[float], list[int]]:
    """Per sentence, the summed negative log-likelihood (nats) of its tokens after the first,
    each predicted from the ones before it, and the number of tokens predicted: the terms of
    transformers' causal-LM loss (its mean over a sentence is `model(ids, labels=ids).loss`).
    Sentences run in right-padded batches; padding never enters a sum."""
    tokenizer = loaded.tokenizer
    nll, counts = [], []
    for start in range(0, len(sentences), batch_size):
        encoded = [tokenizer(s)["input_ids"] for s in sentences[start : start + batch_size]]
        width = max(map(len, encoded))
        ids = torch.zeros((len(encoded), width), dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        ids, mask = ids.to(loaded.device), mask.to(loaded.device)
        logits = loaded.model(input_ids=ids, attention_mask=mask).logits.float()
        losses = torch.nn.functional.cross_entropy(
            logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none"
        )  # [batch, width - 1]
        predicted = mask[:, 1:].float()
        nll += (losses * predicted).sum(dim=1).tolist()
        counts += predicted.sum(dim=1).long().tolist()
    return nll, counts


def w2_width(loaded: LoadedModel, layer: int) -> int:
    """The number of neurons at W2's input of `layer` (nn.Linear: in_features; GPT-2's Conv1D
    stores its weight as [inputs, outputs])."""
    w2 = loaded.adapter.second_linear_of(loaded.adapter.decoder_layers(loaded.base)[layer])
    return getattr(w2, "in_features", None) or w2.weight.shape[0]
