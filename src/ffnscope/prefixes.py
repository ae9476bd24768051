"""Which token positions represent a prefix.

In a causal LM the activations at a prefix's last token are the same whether the prefix is
fed alone or as the start of the full sentence, so one forward pass per sentence gives every
prefix: a prefix is just a token position.

Units (config `prefixes.unit`):
  word     the last subword of each whitespace word (paper §3.1: "one word at a time")
  subword  every token of the sentence
Variants (config `prefixes.variant`):
  paper         all prefixes, the full sentence included
  authors_code  the full sentence excluded (words 1..n-1), as the authors' scripts do
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = ("word", "subword")
VARIANTS = ("paper", "authors_code")


@dataclass(frozen=True)
class EncodedSentence:
    input_ids: list[int]
    positions: list[int]  # token positions whose activations are stored, ascending


def word_end_positions(text: str, offsets: list[tuple[int, int]], special: list[int]) -> list[int]:
    """Position of the last token of each whitespace-separated word of `text`.

    `offsets` are character spans per token and `special` flags special tokens (BOS, EOS),
    as returned by a fast tokenizer. A token belongs to the word in which it starts; a
    sentencepiece token whose span includes the preceding space starts at that space, which
    is not inside the previous word, so it is attributed to the right word.
    """
    starts = [s for (s, e), sp in zip(offsets, special) if not sp and e > s]
    index = [t for t, ((s, e), sp) in enumerate(zip(offsets, special)) if not sp and e > s]
    positions, t = [], 0
    for word in re.finditer(r"\S+", text):
        last = None
        while t < len(starts) and starts[t] < word.end():
            last = index[t]
            t += 1
        if last is None:
            raise ValueError(f"word {word.group()!r} of {text!r} has no token")
        positions.append(last)
    return positions


def encode_sentence(tokenizer, text: str, unit: str = "word", variant: str = "paper") -> EncodedSentence:
    """Tokenise one cleaned sentence (with the model's usual special tokens) and pick the
    positions of its prefixes."""
    if unit not in UNITS:
        raise ValueError(f"prefixes.unit must be one of {UNITS}, got {unit!r}")
    if variant not in VARIANTS:
        raise ValueError(f"prefixes.variant must be one of {VARIANTS}, got {variant!r}")
    enc = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    ids, offsets, special = enc["input_ids"], enc["offset_mapping"], enc["special_tokens_mask"]
    if unit == "word":
        positions = word_end_positions(text, offsets, special)
    else:
        positions = [t for t, sp in enumerate(special) if not sp]
    if variant == "authors_code":
        positions = positions[:-1]
    return EncodedSentence(input_ids=list(ids), positions=positions)
