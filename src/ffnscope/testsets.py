"""Parallel test sets: alignment checks, cleaning (paper §3.1) and seeded sampling.

A test set is two or more line-aligned text files of one corpus, one sentence per line (e.g.
WMT14 newstest2014 cs-en: `cs.txt` and `en.txt`; FLORES-200 devtest: `eng_Latn.txt`,
`deu_Latn.txt`, `zho_Hans.txt`, ...). Sampling picks the same line numbers on every side, so
the sampled sides stay parallel.
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic import write_text
from .prefixes import words_needed, yields_prefix

# the sampled lines' 1-based numbers in the source files (a prepared test set's folder, and
# beside each side's sentences as {lang}.line_numbers.txt)
LINE_NUMBERS = "line_numbers.txt"


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
    Zero-width spaces (U+200B, a word break without a glyph, common in Thai, Khmer and Burmese
    text) count as spaces and zero-width no-break spaces / byte-order marks (U+FEFF) are
    dropped: standing alone, either would be a "word" no tokenizer has a token for.
    """
    text = " ".join(text.replace("\u200b", " ").replace("\ufeff", "").split())
    tail = len(text)
    while tail and _is_punct(text[tail - 1]):
        tail -= 1
    final = next((ch for ch in reversed(text[tail:]) if ch in FINAL_MARKS), "")
    kept = " ".join("".join(ch for ch in text if not _is_punct(ch)).split())
    return kept + final if kept else ""


def read_lines(path: str | Path) -> list[str]:
    """Read a UTF-8 text file into lines without line terminators (LF, CRLF or CR alone); a
    leading byte-order mark is not text. A clear error otherwise."""
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
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def check_aligned(paths: Sequence[Path], sides: Sequence[list[str]]) -> None:
    """Raise TestSetError unless every side has as many lines as the first and no line is
    empty on some sides only (the usual symptom of a shifted, misaligned file); the error
    names two of the files and the line."""
    for path, lines in zip(paths[1:], sides[1:]):
        if len(lines) != len(sides[0]):
            raise TestSetError(
                f"{path} has {len(lines)} lines but {paths[0]} has {len(sides[0])}: parallel files must be line-aligned"
            )
    for number, line in enumerate(zip(*sides), start=1):
        has_text = [bool(text.strip()) for text in line]
        if any(has_text) and not all(has_text):
            empty, other = paths[has_text.index(False)], paths[has_text.index(True)]
            raise TestSetError(
                f"{empty}:{number}: empty line where {other}:{number} has text: parallel files are misaligned"
            )


@dataclass(frozen=True)
class SampledTestSet:
    """The sampled, cleaned sides of one test set; `line_numbers` are 1-based source lines.
    Of the `n_lines` source lines, `short_lines[lang]` have too few words on that side for a
    prefix; `n_ineligible` lines have too few on some side and are never sampled."""

    line_numbers: list[int]
    sentences: dict[str, list[str]]
    n_lines: int
    n_ineligible: int
    short_lines: dict[str, int]
    # eligible lines left out of the sample, drawn for held-out evaluation (the causal test)
    heldout_line_numbers: list[int] = field(default_factory=list)
    heldout: dict[str, list[str]] = field(default_factory=dict)


def sample_testset(
    files: dict[str, str | Path],
    n_sentences: int,
    seed: int,
    unit: str = "word",
    variant: str = "paper",
    n_heldout: int = 0,
) -> SampledTestSet:
    """Check alignment, clean every line and sample `n_sentences` parallel lines.

    Lines are eligible when every cleaned side has the words a prefix needs under the prefix
    `unit` and `variant` (ffnscope.prefixes.yields_prefix), so that every sampled sentence
    counts in every per-sentence statistic. The sample is
    drawn with `random.Random(seed)` and returned in source order, so the same seed and
    files always give the same sentences. Asking for more sentences than are eligible
    takes them all (the count is reported by the caller's log). `n_heldout` more eligible
    lines, none of the sample, are drawn (seeded apart) for held-out evaluation.
    """
    if len(files) < 2:
        raise TestSetError(f"a test set has two or more sides, got {sorted(files)}")
    langs = list(files)
    paths = tuple(Path(files[lang]) for lang in langs)
    raw = tuple(read_lines(p) for p in paths)
    check_aligned(paths, raw)
    cleaned = [[clean_sentence(line) for line in side] for side in raw]
    has_prefix = [[yields_prefix(line, unit, variant) for line in side] for side in cleaned]
    eligible = [i for i in range(len(cleaned[0])) if all(side[i] for side in has_prefix)]
    if not eligible:
        # the side that has no such line at all, if one has none
        blamed = next((p for p, side in zip(paths, has_prefix) if not any(side)), paths[0])
        raise TestSetError(
            f"{blamed}: no line has {words_needed(variant)}+ words ({unit}) on every side, as a prefix needs"
        )
    chosen = sorted(random.Random(seed).sample(eligible, min(n_sentences, len(eligible))))
    rest = sorted(set(eligible) - set(chosen))
    heldout = sorted(random.Random(f"heldout-{seed}").sample(rest, min(n_heldout, len(rest))))
    return SampledTestSet(
        line_numbers=[i + 1 for i in chosen],
        sentences={lang: [side[i] for i in chosen] for lang, side in zip(langs, cleaned)},
        n_lines=len(cleaned[0]),
        n_ineligible=len(cleaned[0]) - len(eligible),
        short_lines={lang: side.count(False) for lang, side in zip(langs, has_prefix)},
        heldout_line_numbers=[i + 1 for i in heldout],
        heldout={lang: [side[i] for i in heldout] for lang, side in zip(langs, cleaned)},
    )


def sample_configured(files: Sequence[str | Path], testset: str, config: Mapping) -> SampledTestSet:
    """The sample of test set `testset` (its entry of config `testsets`) from its `files`, one
    per language in the entry's order, under the config's `sampling` and `prefixes`."""
    (entry,) = [t for t in config["testsets"] if t["name"] == testset]
    return sample_testset(
        dict(zip(entry["langs"], files)),
        config["sampling"]["n_sentences"],
        config["sampling"]["seed"],
        config["prefixes"]["unit"],
        config["prefixes"]["variant"],
    )


def files_digest(paths: Sequence[str | Path]) -> str:
    """sha256 over the bytes of the files, in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class SampleDigest:
    """What a test set prepares, in short: a digest of it, of each side's sentences (a side's
    snapshot depends on its sentences only) and how many lines it samples."""

    sha256: str
    sides: dict[str, str]
    n_sampled: int


def sample_digest(
    files: dict[str, str | Path], n_sentences: int, seed: int, unit: str, variant: str, cache_dir: str | Path
) -> SampleDigest:
    """sha256 over everything a prepared test set holds (sampled lines, their cleaned sentences,
    the eligibility counts): it changes when an edit of the files changes the prepared test
    set, and only then; the same over each side's sentences and lines; and the number of
    lines sampled (fewer than `n_sentences` when fewer are eligible). Drawing the sample reads
    and segments every line (about 2 s for 29 FLORES sides), and every Snakemake invocation
    (every cluster job too) asks for the digest, so it is cached in `cache_dir` under the
    files' bytes and the settings."""
    settings = json.dumps(["sample-digest-2", n_sentences, seed, unit, variant, list(files)])  # its format
    key = hashlib.sha256((settings + files_digest(list(files.values()))).encode()).hexdigest()
    cached = Path(cache_dir) / key
    if cached.is_file():
        return SampleDigest(**json.loads(cached.read_text(encoding="utf-8")))
    sample = sample_testset(files, n_sentences, seed, unit, variant)
    digest = SampleDigest(
        sha256=hashlib.sha256(json.dumps(asdict(sample), ensure_ascii=False).encode()).hexdigest(),
        sides={
            lang: hashlib.sha256(json.dumps([sample.line_numbers, sentences], ensure_ascii=False).encode()).hexdigest()
            for lang, sentences in sample.sentences.items()
        },
        n_sampled=len(sample.line_numbers),
    )
    write_text(cached, json.dumps(asdict(digest)))
    return digest
