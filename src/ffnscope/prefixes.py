"""Which token positions represent a prefix.

In a causal LM the activations at a prefix's last token are the same whether the prefix is
fed alone or as the start of the full sentence, so one forward pass per sentence gives every
prefix: a prefix is just a token position.

Units (config `prefixes.unit`, words as in ffnscope.words):
  word        the prefix after each linguistic word (ICU word segmentation, every script)
  whitespace  the prefix after each whitespace word (paper §3.1: "one word at a time")
  subword     every token of the sentence
The last prefix is the full sentence under every unit (a final mark that is no word included).
Variants (config `prefixes.variant`):
  paper         all prefixes, the full sentence included
  authors_code  the full sentence excluded (words 1..n-1), as the authors' scripts do

A token may span a word boundary (one Chinese token for two ICU words): the prefix after a
word is then the same token position as after the previous word, and the two words are
merged into one prefix (counted in `EncodedSentence.n_merged_words`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .words import UNITS, word_spans

VARIANTS = ("paper", "authors_code")


@dataclass(frozen=True)
class EncodedSentence:
    input_ids: list[int]
    positions: list[int]  # token positions whose activations are stored, ascending
    n_tokens: int  # tokens of the text (special tokens not counted)
    n_words: int  # words under the unit (subword: its tokens)
    n_merged_words: int  # words sharing their prefix with the previous word, or without a token


def word_end_positions(spans: list[tuple[int, int]], offsets: list[tuple[int, int]], special: list[int]) -> list[int]:
    """The prefix position after each word: the last token that starts before the word's end.

    `spans` are the words' character spans (ffnscope.words), `offsets` the tokens' character
    spans and `special` flags special tokens (BOS, EOS), as returned by a fast tokenizer. A
    sentencepiece token whose span includes the preceding space starts at that space, which
    is not inside the previous word, so it is attributed to the right word. A word whose
    position would repeat the previous word's (a token spanning both), or that no token
    starts before (none of its own, none before it), is merged: it adds no position, so
    len(spans) - len(result) words are merged.
    """
    starts = [(s, t) for t, ((s, e), sp) in enumerate(zip(offsets, special)) if not sp and e > s]
    positions, k, last = [], 0, None
    for _, end in spans:
        while k < len(starts) and starts[k][0] < end:
            last = starts[k][1]
            k += 1
        if last is not None and (not positions or positions[-1] != last):
            positions.append(last)
    return positions


def words_needed(variant: str) -> int:
    """Words a sentence needs to yield a prefix: one, two when the full sentence is dropped."""
    return 2 if variant == "authors_code" else 1


def yields_prefix(text: str, unit: str, variant: str) -> bool:
    """Whether a cleaned sentence has the words its first prefix needs (test-set sampling).
    Subword prefixes are tokens, which only the model's tokenizer counts: there a sentence
    needs some text, and a one-token sentence under `authors_code` is left to the snapshot,
    which names it."""
    if unit == "subword":
        return bool(text.strip())
    return len(word_spans(text, unit)) >= words_needed(variant)


def encode_sentence(tokenizer, text: str, unit: str = "word", variant: str = "paper") -> EncodedSentence:
    """Tokenise one cleaned sentence (with the model's usual special tokens) and pick the
    positions of its prefixes."""
    if unit not in UNITS:
        raise ValueError(f"prefixes.unit must be one of {UNITS}, got {unit!r}")
    if variant not in VARIANTS:
        raise ValueError(f"prefixes.variant must be one of {VARIANTS}, got {variant!r}")
    enc = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    ids, offsets, special = enc["input_ids"], enc["offset_mapping"], enc["special_tokens_mask"]
    tokens = [t for t, sp in enumerate(special) if not sp]
    if unit == "subword":
        positions, n_words = tokens, len(tokens)
    else:
        spans = word_spans(text, unit)
        if spans:  # the last prefix is the full sentence, a final mark that is no word included
            spans[-1] = (spans[-1][0], len(text))
        positions, n_words = word_end_positions(spans, offsets, special), len(spans)
    return EncodedSentence(
        input_ids=list(ids),
        positions=positions[:-1] if variant == "authors_code" else positions,
        n_tokens=len(tokens),
        n_words=n_words,
        n_merged_words=n_words - len(positions),
    )
