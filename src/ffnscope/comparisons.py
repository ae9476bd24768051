"""Which sides the rank correlation compares (the kinds are described in ffnscope.rankcorr).

Light (no numpy): the workflow plans the comparisons when it parses the config, so a wrong
`rank_correlation.language_sides` is an error of `snakemake -n`, not of a cluster job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from .sides import Language, LanguageError, Side, english_sides, language_of, listed_pairs, side_name


@dataclass(frozen=True)
class Comparison:
    comparison: str
    side_a: str
    side_b: str


def plan_comparisons(
    sides: list[tuple[str, str]],
    language_sides: Mapping[str, str] | None = None,
    languages: Mapping[str, str] | None = None,
) -> list[Comparison]:
    """Every comparison of the module docstring for the configured (testset, lang) sides, in
    a fixed order: cross_language (languages sorted by tag), intra_english, parallel.
    `languages`: how codes are read (`sides.language_of`)."""
    sides = [Side(*s) for s in sides]
    representative: dict[Language, Side] = {}
    for side in sides:
        representative.setdefault(language_of(side.lang, languages), side)
    for code, testset in (language_sides or {}).items():
        try:
            language = language_of(code, languages)
        except LanguageError as err:
            raise LanguageError(f"rank_correlation.language_sides: {err}") from None
        chosen = [s for s in sides if s.testset == testset and language_of(s.lang, languages) == language]
        if not chosen:
            raise ValueError(
                f"rank_correlation.language_sides: {code}: {testset!r} is not a configured test set "
                f"with language {code!r}; sides: {[s.name for s in sides]}"
            )
        representative[language] = chosen[0]
    ordered = sorted(representative, key=lambda language: language.tag)
    plan = [
        Comparison("cross_language", representative[a].name, representative[b].name)
        for a, b in combinations(ordered, 2)
    ]
    english = [s.name for s in english_sides(sides, languages)]
    plan += [Comparison("intra_english", a, b) for a, b in combinations(english, 2)]
    by_testset: dict[str, list[str]] = {}
    for side in sides:
        by_testset.setdefault(side.testset, []).append(side.lang)
    plan += [
        Comparison("parallel", side_name(t, a), side_name(t, b))
        for t, langs in by_testset.items()
        for a, b in listed_pairs(langs)
    ]
    return plan
