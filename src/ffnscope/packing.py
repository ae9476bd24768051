"""Packed forward passes: a batch's sentences laid end to end in one row, without padding.

Right-padded batches run every linear layer on their padding too (how much: docs/performance.md,
tuning history). A pack
runs the linear layers, norms and activations on the real tokens only; position ids restart
at every sentence, and attention, the one step that must keep sentences apart, regroups the
packed queries, keys and values into right-padded groups of sentences of similar length, one
causal SDPA call per group (right padding needs no mask under causal attention; a band mask
where a sentence outruns a sliding window), and scatters the result back. Families whose
packed rows are tested equal to padded ones (`PACKED_FAMILIES`) pack; the others (XGLM's and
BLOOM's attention takes no attention function, Gemma 2's scores are soft-capped) run padded.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface

from .models import LoadedModel

IMPLEMENTATION = "ffnscope_packed"
# transformers model types whose attention goes through its attention interface with plain
# causal SDPA semantics, tested packed against padded (tests/test_packing.py)
PACKED_FAMILIES = ("gemma", "gemma3_text", "gpt2", "llama", "mistral", "opt", "qwen2", "qwen3")


@dataclass(frozen=True)
class Pack:
    """Where each sentence's tokens lie in the packed row, for attention's regrouping into
    groups of sentences of similar length: `gathers[g][s, j]` is the packed index of token j
    of group g's sentence s (its last token where j runs past the sentence), `scatter[t]` the
    index of packed token t in the groups' flattened [sentence, position] grids, one after
    the other."""

    gathers: tuple[torch.Tensor, ...]  # per group [n_sentences, longest] long
    scatter: torch.Tensor  # [n_tokens] long


def layout(lengths: list[int], groups: list[list[int]], device: torch.device) -> tuple[Pack, torch.Tensor]:
    """The Pack of sentences of `lengths` laid end to end, with attention run per group of
    sentence indices `groups`, and the sentences' position ids [1, n_tokens]."""
    lens = torch.tensor(lengths)
    starts = lens.cumsum(0) - lens
    gathers, grid_index, offset = [], torch.empty(sum(lengths), dtype=torch.long), 0
    for group in groups:
        g_lens, g_starts = lens[group], starts[group]
        j = torch.arange(int(g_lens.max()))
        gathers.append(g_starts[:, None] + torch.minimum(j[None, :], g_lens[:, None] - 1))
        real = j[None, :] < g_lens[:, None]
        grid = offset + torch.arange(real.numel()).view(real.shape)
        grid_index[gathers[-1][real]] = grid[real]
        offset += real.numel()
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    return Pack(tuple(g.to(device) for g in gathers), grid_index.to(device)), positions.to(device)


def packed_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    sliding_window: int | None = None,
    ffnscope_pack: Pack | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Causal attention within each sentence of a pack; query [1, heads, n_tokens, dim], key and
    value [1, kv_heads, n_tokens, dim] (grouped-query heads are shared by SDPA). Returns
    [1, n_tokens, heads, dim], as transformers' attention functions do."""
    unsupported = [name for name in ("softcap", "position_bias", "s_aux") if kwargs.get(name) is not None]
    if ffnscope_pack is None or attention_mask is not None or not getattr(module, "is_causal", True) or unsupported:
        raise ValueError(
            f"attention {IMPLEMENTATION!r} runs causal packed passes only (ffnscope.packing.inputs); "
            f"got {'no pack' if ffnscope_pack is None else 'a mask or non-causal attention or ' + str(unsupported)}"
        )
    outs = []
    for gather in ffnscope_pack.gathers:
        n, longest = gather.shape

        # [1, heads, n_tokens, dim] -> [n, heads, longest, dim]
        q, k, v = (t[0][:, gather].transpose(0, 1) for t in (query, key, value))
        mask = None
        if sliding_window is not None and longest > sliding_window:
            i = torch.arange(longest, device=query.device)
            mask = (i[:, None] >= i[None, :]) & (i[:, None] - i[None, :] < sliding_window)
            # with a mask, grouped-query SDPA may fall back to its slowest kernel (as transformers notes)
            k, v = (t.repeat_interleave(q.shape[1] // t.shape[1], dim=1) for t in (k, v))
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            is_causal=mask is None,
            scale=scaling,
            enable_gqa=k.shape[1] != q.shape[1],
        )
        outs.append(out.transpose(1, 2).reshape(n * longest, *out.shape[1:2], out.shape[-1]))
    return torch.cat(outs)[ffnscope_pack.scatter][None], None


AttentionInterface.register(IMPLEMENTATION, packed_attention)
AttentionMaskInterface.register(IMPLEMENTATION, lambda *args, **kwargs: None)  # attention separates sentences


def supports_packing(loaded: LoadedModel) -> bool:
    """Whether the model is of a family that packs, with causal attention that a mask does
    not shape otherwise (no bidirectional or chunked attention, no logit soft-capping)."""
    model, config = loaded.model, loaded.model.config
    return (
        config.model_type in PACKED_FAMILIES
        and model._can_set_attn_implementation()
        and not getattr(config, "use_bidirectional_attention", False)
        and getattr(config, "attention_chunk_size", None) is None
        and getattr(config, "attn_logit_softcapping", None) is None
    )


@contextmanager
def packed_attention_of(loaded: LoadedModel):
    """The model's attention switched to `packed_attention` for the duration."""
    before = loaded.model.config._attn_implementation
    loaded.model.set_attn_implementation(IMPLEMENTATION)
    try:
        yield
    finally:
        loaded.model.set_attn_implementation(before)


def alignment(dtype: torch.dtype) -> int:
    """The multiple a pack's token count is rounded up to: bfloat16 matmuls over a multiple of
    8 rows ran faster than over an odd count on the benchmark CPU, float32 ones did not, so
    float32 packs exactly (docs/performance.md, tuning history)."""
    return 1 if dtype == torch.float32 else 16


def inputs(loaded: LoadedModel, seqs: list[list[int]], groups: list[list[int]]) -> dict:
    """Keyword arguments of the decoder stack for `seqs` packed in one row, attention run per
    group of `groups`, on the model's device; run them inside `packed_attention_of`. A filler
    sequence of pad tokens, attending only to itself, rounds the row up to a multiple of
    `alignment` tokens (the sentences' rows start where they would without it)."""
    fill = -sum(map(len, seqs)) % alignment(loaded.dtype)
    if fill:
        seqs, groups = [*seqs, [loaded.tokenizer.pad_token_id or 0] * fill], [*groups, [len(seqs)]]
    pack, positions = layout([len(s) for s in seqs], groups, loaded.device)
    ids = torch.tensor([[t for s in seqs for t in s]], device=loaded.device)
    # an all-ones mask: padding cannot occur, and transformers warns where a pad id meets no mask
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "position_ids": positions, "ffnscope_pack": pack}


def packs(lengths: list[int], token_budget: int) -> list[list[int]]:
    """Indices in packs of at most `token_budget` tokens (a longer sentence packs alone),
    longest first: sorted by length, so that attention's regrouping pads little, and filled
    in that order, as a pack costs its tokens whatever their lengths."""
    out, total = [], token_budget
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if total + lengths[i] > token_budget:
            out.append([])
            total = 0
        out[-1].append(i)
        total += lengths[i]
    return out
