import pytest

from ffnscope.overlap import overlap_rows, sentence_set


def write(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_overlap_counts_by_hand(tmp_path):
    a = write(tmp_path / "a.txt", ["The cat sat.", "A dog", "A dog", "  spaced   out  ", "", "only in a"])
    b = write(tmp_path / "b.txt", ["A dog", "spaced out", "the cat sat.", "only in b"])
    c = write(tmp_path / "c.txt", ["A dog"])
    # a: {The cat sat., A dog, spaced out, only in a} (duplicate and empty line dropped) -> 4
    # b: 4; shared a-b: {A dog, spaced out} = 2 (case matters) -> jaccard 2 / (4 + 4 - 2) = 1/3
    # a-c: 1 of 4 and 1 -> 1/4; b-c: 1/4
    rows = overlap_rows({"t1/en": a, "t2/en": b, "t3/en": c}, "sampled")
    assert rows == [
        {"side_a": "t1/en", "side_b": "t2/en", "scope": "sampled", "n_a": 4, "n_b": 4, "shared": 2, "jaccard": 1 / 3},
        {"side_a": "t1/en", "side_b": "t3/en", "scope": "sampled", "n_a": 4, "n_b": 1, "shared": 1, "jaccard": 0.25},
        {"side_a": "t2/en", "side_b": "t3/en", "scope": "sampled", "n_a": 4, "n_b": 1, "shared": 1, "jaccard": 0.25},
    ]
    assert sentence_set(a) == {"The cat sat.", "A dog", "spaced out", "only in a"}


def test_errors_name_the_file_or_scope(tmp_path):
    empty = write(tmp_path / "empty.txt", ["", "  "])
    with pytest.raises(ValueError, match="empty.txt: no sentences"):
        sentence_set(empty)
    with pytest.raises(ValueError, match="missing.txt: test set file not found"):
        sentence_set(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="unknown overlap scope 'all'"):
        overlap_rows({"t/en": tmp_path / "x"}, "all")


def test_wmt14_english_sides_full_files(excerpt_data):
    # counted independently with `LC_ALL=C sort -u | comm -12` on the 40-line excerpts: cs-en
    # and de-en share 21 English sentences; hi-en has one duplicated line (39 distinct of 40)
    wmt = excerpt_data / "wmt14"
    rows = overlap_rows({t: wmt / t / "en.txt" for t in ("cs-en", "de-en", "hi-en")}, "full")
    assert [(r["n_a"], r["n_b"], r["shared"]) for r in rows] == [
        (40, 40, 21),
        (40, 39, 31),
        (40, 39, 15),
    ]
    assert rows[0]["jaccard"] == pytest.approx(21 / (40 + 40 - 21), rel=1e-12)
