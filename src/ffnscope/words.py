"""Words of a sentence as character spans, for every script (config `prefixes.unit`).

word        linguistic words: Unicode word segmentation by ICU's word-break rules, with
            ICU's dictionaries for scripts written without spaces (Chinese, Japanese, Thai,
            Lao, Khmer, Burmese); segments without a letter or digit (spaces, punctuation,
            zero-width characters) are not words
whitespace  the paper's split (§3.1): maximal runs of non-space characters
subword     no words: every token is a prefix (ffnscope.prefixes)
"""

from __future__ import annotations

import re
import unicodedata

from icu4py.breakers import WordBreaker

UNITS = ("word", "whitespace", "subword")


def _has_letter_or_digit(segment: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in segment)


def icu_word_spans(text: str, locale: str = "root") -> list[tuple[int, int]]:
    """(start, end) character offsets of the ICU word segments of `text` that hold a letter
    or digit. ICU picks its dictionary by script, so `locale` matters little."""
    spans, start = [], 0
    # icu4py's segments() counts UTF-16 units; the segment strings give Python offsets
    for segment in WordBreaker(text, locale):
        end = start + len(segment)
        if _has_letter_or_digit(segment):
            spans.append((start, end))
        start = end
    return spans


def word_spans(text: str, unit: str, locale: str = "root") -> list[tuple[int, int]]:
    """The words of `text` under `unit` ("word" or "whitespace") as character spans."""
    if unit == "whitespace":
        return [m.span() for m in re.finditer(r"\S+", text)]
    if unit == "word":
        return icu_word_spans(text, locale)
    raise ValueError(f"prefixes.unit {unit!r} has no words; units with words: word, whitespace")
