"""Sides and languages: the one home of both concepts.

A *side* is one language of one test set, named "testset/lang" everywhere (tables, config
keys such as `rsa.side`, figure legends). A *language* is the code a test set's file is
named by; `is_english` is the only place that decides whether a code means English.

Free of heavy imports: the workflow uses it while parsing the Snakefile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

ENGLISH = "en"


def is_english(lang: str) -> bool:
    """Whether a test set's language code means English."""
    return lang == ENGLISH


class Side(NamedTuple):
    testset: str
    lang: str

    @property
    def name(self) -> str:
        return f"{self.testset}/{self.lang}"

    @classmethod
    def parse(cls, name: str) -> Side:
        """The side named "testset/lang" (the test set name may itself contain "/")."""
        testset, sep, lang = name.rpartition("/")
        if not (sep and testset and lang):
            raise ValueError(f"{name!r} is not a side: expected 'testset/lang'")
        return cls(testset, lang)


def side_name(testset: str, lang: str) -> str:
    return Side(testset, lang).name


def lang_of(side: str) -> str:
    """The language of a side name."""
    return Side.parse(side).lang


def english_sides(sides: Iterable[Side | tuple[str, str]]) -> list[Side]:
    return [Side(*s) for s in sides if is_english(s[1])]


def check_sides(names: Sequence[str], sides: Sequence[Side | tuple[str, str]], setting: str) -> list[Side]:
    """The configured sides named by a setting, or one error naming the setting, the unknown
    names and the valid ones."""
    known = [Side(*s) for s in sides]
    parsed = [Side.parse(n) for n in names]
    unknown = [p.name for p in parsed if p not in known]
    if unknown:
        raise ValueError(
            f"config {setting}: {unknown} are not configured sides; valid: {', '.join(s.name for s in known)}"
        )
    return parsed


def pair_label(a: str, b: str, joiner: str = " vs ") -> str:
    """A short label for a pair of sides: their languages ("de vs en"), or their test sets
    where both have the same language (English vs English)."""
    sa, sb = Side.parse(a), Side.parse(b)
    return joiner.join((sa.testset, sb.testset) if sa.lang == sb.lang else (sa.lang, sb.lang))
