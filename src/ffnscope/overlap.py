"""Shared sentences between the English sides of the test sets (paper fig. 16).

The intra-English rank correlations (figs 14-15) compare test sets whose English sides are
partly the SAME text (WMT14 cs/de/fr-en share half their English sentences), so their
overlap is reported next to them: for the sampled, cleaned sentences the analyses used
(scope `sampled`) and for the full source files (scope `full`).

A side is compared as a SET of sentences: lines with surrounding whitespace stripped and
inner whitespace runs collapsed to one space, empty lines dropped, duplicates counted once.
n_a, n_b are the distinct sentences of each side, shared those in both, and
jaccard = shared / (n_a + n_b - shared).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from .testsets import read_lines

SCOPES = ("sampled", "full")


def sentence_set(path: str | Path) -> set[str]:
    """The distinct non-empty sentences of a file; an empty file is an error naming it."""
    sentences = {" ".join(line.split()) for line in read_lines(path)} - {""}
    if not sentences:
        raise ValueError(f"{path}: no sentences (empty test set side)")
    return sentences


def overlap(a: set[str], b: set[str]) -> dict:
    shared = len(a & b)
    return {"n_a": len(a), "n_b": len(b), "shared": shared, "jaccard": shared / (len(a) + len(b) - shared)}


def overlap_rows(files: dict[str, str | Path], scope: str) -> list[dict]:
    """One row per unordered pair of sides (in the order given): files maps a side name
    ("testset/lang") to its sentence file."""
    if scope not in SCOPES:
        raise ValueError(f"unknown overlap scope {scope!r}; valid: {', '.join(SCOPES)}")
    sets = {side: sentence_set(path) for side, path in files.items()}
    return [{"side_a": a, "side_b": b, "scope": scope, **overlap(sets[a], sets[b])} for a, b in combinations(sets, 2)]
