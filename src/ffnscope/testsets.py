"""Parallel test sets: alignment checks, cleaning (paper §3.1) and seeded sampling.

A test set is two line-aligned text files, one sentence per line (e.g. WMT14 newstest2014
cs-en: `cs.txt` and `en.txt`). Sampling picks the same line numbers on both sides, so the
sampled sides stay parallel.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .sides import ENGLISH, is_english


class TestSetError(ValueError):
    """A test set file is malformed; the message names the file and line."""

    __test__ = False  # not a pytest test class despite the name


# Sentence-terminal marks that survive cleaning when they end a sentence.
FINAL_MARKS = frozenset(".!?…;:।॥。！？")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def clean_sentence(text: str) -> str:
    """Remove all punctuation except a final mark, and normalise whitespace (paper §3.1).

    "Elementary, my dear Watson." -> "Elementary my dear Watson."
    Punctuation is every Unicode category P* character. In the run of punctuation that ends
    the sentence, the last sentence-terminal mark (`FINAL_MARKS`) is kept: 'he said "no."'
    keeps the period, "what?!" keeps "!", and a closing bracket or quote alone is dropped.
    """
    text = " ".join(text.split())
    tail = len(text)
    while tail and _is_punct(text[tail - 1]):
        tail -= 1
    final = next((ch for ch in reversed(text[tail:]) if ch in FINAL_MARKS), "")
    kept = " ".join("".join(ch for ch in text if not _is_punct(ch)).split())
    return kept + final if kept else ""


def read_lines(path: str | Path) -> list[str]:
    """Read a UTF-8 text file into lines without line terminators; a clear error otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TestSetError(f"{path}: test set file not found") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TestSetError(f"{path}:{line}: not valid UTF-8 ({err.reason})") from None
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def check_aligned(paths: tuple[Path, Path], sides: tuple[list[str], list[str]]) -> None:
    """Raise TestSetError unless both sides have the same number of lines and no line is
    empty on one side only (the usual symptom of a shifted, misaligned file)."""
    (path_a, path_b), (lines_a, lines_b) = paths, sides
    if len(lines_a) != len(lines_b):
        raise TestSetError(
            f"{path_a} has {len(lines_a)} lines but {path_b} has {len(lines_b)}: parallel files must be line-aligned"
        )
    for number, (a, b) in enumerate(zip(lines_a, lines_b), start=1):
        if bool(a.strip()) != bool(b.strip()):
            empty, other = (path_a, path_b) if not a.strip() else (path_b, path_a)
            raise TestSetError(
                f"{empty}:{number}: empty line where {other}:{number} has text: parallel files are misaligned"
            )


@dataclass(frozen=True)
class SampledTestSet:
    """The sampled, cleaned sides of one test set; `line_numbers` are 1-based source lines."""

    line_numbers: list[int]
    sentences: dict[str, list[str]]


def sample_testset(files: dict[str, str | Path], n_sentences: int, seed: int, min_words: int = 1) -> SampledTestSet:
    """Check alignment, clean every line and sample `n_sentences` parallel lines.

    Lines are eligible when every cleaned side has at least `min_words` words. The sample is
    drawn with `random.Random(seed)` and returned in source order, so the same seed and
    files always give the same sentences. Asking for more sentences than are eligible
    takes them all (the count is reported by the caller's log).
    """
    if len(files) != 2:
        raise TestSetError(f"a test set has exactly two sides, got {sorted(files)}")
    langs = list(files)
    paths = tuple(Path(files[lang]) for lang in langs)
    raw = tuple(read_lines(p) for p in paths)
    check_aligned(paths, raw)
    cleaned = [[clean_sentence(line) for line in side] for side in raw]
    eligible = [i for i in range(len(cleaned[0])) if all(len(side[i].split()) >= min_words for side in cleaned)]
    if not eligible:
        raise TestSetError(f"{paths[0]}: no line pair has {min_words}+ words on both sides")
    chosen = sorted(random.Random(seed).sample(eligible, min(n_sentences, len(eligible))))
    return SampledTestSet(
        line_numbers=[i + 1 for i in chosen],
        sentences={lang: [side[i] for i in chosen] for lang, side in zip(langs, cleaned)},
    )


# Which side of a test set Algorithm 1 matches to which (config distance.direction). Kept here,
# free of torch, because the workflow calls it while parsing the Snakefile.
DIRECTIONS = ("to_english", "from_english", "listed")


def pair_languages(langs: Sequence[str], direction: str, testset: str = "") -> tuple[str, str]:
    """(source, target) language of a test set: `to_english` (default: the other language's
    prefixes are matched to English ones), `from_english`, or `listed` (config order)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown distance.direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    if direction == "listed":
        return langs[0], langs[1]
    if sorted(map(is_english, langs)) != [False, True]:
        raise ValueError(
            f"distance.direction {direction!r} needs exactly one {ENGLISH!r} language in test set "
            f"{testset!r} (langs {list(langs)}); use direction 'listed' otherwise"
        )
    english = next(lang for lang in langs if is_english(lang))
    other = next(lang for lang in langs if not is_english(lang))
    return (other, english) if direction == "to_english" else (english, other)
