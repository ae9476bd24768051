"""Sides and languages: the one home of both concepts.

A *side* is one language of one test set, named "testset/lang" everywhere (tables, config
keys such as `rsa.side`, figure legends). Its *code* ("lang") is whatever the corpus names
the side's file by: ISO 639-1 (`de`), ISO 639-3 (`deu`), FLORES-200 (`deu_Latn`) or a BCP-47
tag (`de-DE`). Codes are compared only through their normalised `Language` (langcodes), so
`en`, `eng`, `eng_Latn` and `en-US` are all English; config `languages` maps a code that
langcodes cannot read (private, ambiguous) to a BCP-47 tag. `is_english` is the only place
that decides whether a code means English.

Which pairs of sides of a test set are analysed (`distance_pairs`, `listed_pairs`) lives here
too: the workflow plans them while parsing the Snakefile.

Free of heavy imports (langcodes is pure Python): the workflow uses it while parsing the
Snakefile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from typing import NamedTuple

import langcodes

ENGLISH = "en"  # English's normalised language subtag
UNKNOWN_SCRIPT = "Zzzz"  # ISO 15924: script not known (a language without likely-script data)
# Valid ISO 639 codes that name no language: undetermined, multiple, missing, none.
_NOT_LANGUAGES = frozenset({"und", "mul", "mis", "zxx"})


class LanguageError(ValueError):
    """A code that names no language; the message says which and how to map it."""


@dataclass(frozen=True)
class Language:
    """A normalised language: equal for every code of the same language, script and territory."""

    language: str  # ISO 639 subtag, macrolanguages folded in ("cmn", "zho" -> "zh"; "arb" -> "ar")
    script: str  # ISO 15924: as the code gives it, else the language's likely script
    territory: str = ""  # as the code gives it ("US" of en-US), else ""

    @property
    def tag(self) -> str:
        """BCP-47 tag with the script explicit: "en-Latn", "zh-Hans", "en-Latn-US"."""
        return "-".join(p for p in (self.language, self.script, self.territory) if p)

    @property
    def label(self) -> str:
        """Short BCP-47 tag, the script left out where the language implies it: "en", "zh-Hans"."""
        return str(langcodes.Language.get(self.tag).simplify_script())

    @property
    def name(self) -> str:
        """English name: "English", "Chinese (Simplified)" (loads langcodes' name data)."""
        return langcodes.Language.get(self.label).display_name()

    @property
    def is_english(self) -> bool:
        return self.language == ENGLISH


@cache
def parse_language(tag: str) -> Language | None:
    """The language a code or tag names ("_" read as "-"), or None where it names none."""
    try:
        parsed = langcodes.Language.get(langcodes.standardize_tag(tag.replace("_", "-"), macro=True))
    except ValueError:  # langcodes.LanguageTagError: not a tag at all
        return None
    language = parsed.language or ""
    private = "qaa" <= language <= "qtz" or not (language.isalpha() and len(language) in (2, 3))  # or x-...
    if not parsed.is_valid() or private or language in _NOT_LANGUAGES:
        return None
    script = parsed.script or parsed.maximize().script or UNKNOWN_SCRIPT
    return Language(language, script, parsed.territory or "")


def language_of(code: str, languages: Mapping[str, str] | None = None) -> Language:
    """The normalised language of a side's code; `languages` (config `languages`) maps codes to
    the BCP-47 tag they stand for, for codes langcodes cannot read."""
    tag = (languages or {}).get(code, code)
    language = parse_language(tag)
    if language is None:
        if tag != code:
            raise LanguageError(f"config languages: {code}: {tag!r} is not a BCP-47 language tag")
        raise LanguageError(
            f"{code!r} is not a language code (ISO 639-1/639-3, FLORES xxx_Scrp, BCP-47); "
            f"name its language in config `languages`, e.g. languages: {{{code}: de}}"
        )
    return language


def side_languages(
    testsets: Mapping[str, Sequence[str]], languages: Mapping[str, str] | None = None
) -> dict[str, Language]:
    """Code -> normalised language of every test set's codes, or one error naming the test set
    and the code."""
    out = {}
    for testset, codes in testsets.items():
        for code in codes:
            try:
                out[code] = language_of(code, languages)
            except LanguageError as err:
                raise LanguageError(f"config testsets[name={testset}].langs: {err}") from None
    return out


def is_english(code: str, languages: Mapping[str, str] | None = None) -> bool:
    """Whether a side's code means English (any script or territory)."""
    return language_of(code, languages).is_english


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
    """The code of a side name."""
    return Side.parse(side).lang


def english_sides(sides: Iterable[Side | tuple[str, str]], languages: Mapping[str, str] | None = None) -> list[Side]:
    return [Side(*s) for s in sides if is_english(s[1], languages)]


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


# --- pairs of sides ------------------------------------------------------------------------------


def listed_pairs(langs: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of a test set's codes, each once, in listed order: [a, b, c] -> ab, ac, bc."""
    return list(combinations(langs, 2))


# Which sides of a test set representation distance matches to which (config distance.direction).
DIRECTIONS = ("to_english", "from_english", "listed")


def direction_pairs(
    langs: Sequence[str], direction: str, languages: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(source, target) pairs under `direction`: every non-English code to every English one
    (`to_english`), the reverse (`from_english`), or `listed_pairs` (`listed`, and a test set
    without English or without another language)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown distance.direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    english = [lang for lang in langs if is_english(lang, languages)]
    others = [lang for lang in langs if lang not in english]
    if direction == "listed" or not (english and others):
        return listed_pairs(langs)
    if direction == "to_english":
        return [(o, e) for o in others for e in english]
    return [(e, o) for e in english for o in others]


def distance_pairs(
    testsets: Mapping[str, Sequence[str]],
    direction: str,
    explicit: Mapping[str, Sequence[Sequence[str]]] | None = None,
    languages: Mapping[str, str] | None = None,
) -> dict[str, list[tuple[str, str]]]:
    """Test set -> its (source, target) pairs for representation distance: the pairs named in
    `explicit` (config distance.pairs) where it names the test set, else `direction_pairs`."""
    explicit = explicit or {}
    unknown = sorted(set(explicit) - set(testsets))
    if unknown:
        raise ValueError(f"config distance.pairs: {unknown} are not configured test sets; valid: {', '.join(testsets)}")
    out = {}
    for testset, langs in testsets.items():
        if testset not in explicit:
            out[testset] = direction_pairs(langs, direction, languages)
            continue
        pairs = [tuple(p) for p in explicit[testset]]
        bad = [list(p) for p in pairs if len(p) != 2 or p[0] == p[1] or not set(p) <= set(langs)]
        if bad or len(set(pairs)) != len(pairs):
            raise ValueError(
                f"config distance.pairs.{testset}: {bad or 'a repeated pair'}: each pair is [source, target], "
                f"two different codes of langs {list(langs)}, named once"
            )
        out[testset] = pairs
    return out
