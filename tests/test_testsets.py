import pytest

from ffnscope.testsets import TestSetError, clean_sentence, read_lines, sample_digest, sample_testset


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Elementary, my dear Watson.", "Elementary my dear Watson."),
        ('He said: "no" -- twice!', "He said no twice!"),
        ("Wait... what?!", "Wait what!"),
        ('He said "no."', "He said no."),
        ("  spaces   everywhere  ", "spaces everywhere"),
        ("Die U.S.-Regierung (2014)", "Die USRegierung 2014"),
        ("यह एक वाक्य है।", "यह एक वाक्य है।"),  # Devanagari danda is punctuation: kept as final mark
        ("?!", ""),
        ("", ""),
        ("ภาษา\u200bไทย \u200b ดี", "ภาษา ไทย ดี"),  # zero-width spaces are spaces, never words
        ("\ufeffHello world.", "Hello world."),
    ],
)
def test_clean_sentence(raw, cleaned):
    assert clean_sentence(raw) == cleaned


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_misaligned_empty_line_names_file_and_line(tmp_path):
    a = write(tmp_path, "cs.txt", ["jedna", "", "tri"])
    b = write(tmp_path, "en.txt", ["one", "two", "three"])
    with pytest.raises(TestSetError, match=rf"{a}:2: empty line where {b}:2 has text"):
        sample_testset({"cs": a, "en": b}, 2, seed=0)


def test_line_count_mismatch(tmp_path):
    a = write(tmp_path, "cs.txt", ["jedna", "dva"])
    b = write(tmp_path, "en.txt", ["one"])
    with pytest.raises(TestSetError, match=rf"^{b} has 1 lines but {a} has 2: parallel files must be line-aligned$"):
        sample_testset({"cs": a, "en": b}, 1, seed=0)


def test_n_way_file_short_names_it(tmp_path):
    en = write(tmp_path, "eng_Latn.txt", ["one", "two", "three"])
    de = write(tmp_path, "deu_Latn.txt", ["eins", "zwei", "drei"])
    hi = write(tmp_path, "hin_Deva.txt", ["एक", "दो"])
    with pytest.raises(TestSetError, match=rf"^{hi} has 2 lines but {en} has 3: parallel files must be line-aligned$"):
        sample_testset({"eng_Latn": en, "deu_Latn": de, "hin_Deva": hi}, 2, seed=0)


def test_n_way_empty_line_on_one_side_names_file_and_line(tmp_path):
    en = write(tmp_path, "eng_Latn.txt", ["one", "two", "", "four"])
    de = write(tmp_path, "deu_Latn.txt", ["eins", "zwei", "", "vier"])
    hi = write(tmp_path, "hin_Deva.txt", ["एक", "", "", "चार"])  # line 3 empty everywhere: aligned
    with pytest.raises(
        TestSetError, match=rf"^{hi}:2: empty line where {en}:2 has text: parallel files are misaligned$"
    ):
        sample_testset({"eng_Latn": en, "deu_Latn": de, "hin_Deva": hi}, 2, seed=0)
    with pytest.raises(TestSetError, match=r"two or more sides, got \['eng_Latn'\]"):
        sample_testset({"eng_Latn": en}, 2, seed=0)


def test_n_way_sample_is_one_sample_of_lines_for_every_side(tmp_path):
    n = 30
    files = {
        "eng_Latn": write(tmp_path, "eng_Latn.txt", [f"Sentence number {i}." for i in range(n)]),
        "deu_Latn": write(tmp_path, "deu_Latn.txt", [f"Satz Nummer {i}." for i in range(n)]),
        "fra_Latn": write(tmp_path, "fra_Latn.txt", [f"Phrase numéro {i}." for i in range(n)]),
    }
    sample = sample_testset(files, 6, seed=3)
    # the pair of the first two files gets the same lines: one draw over the set's lines
    assert sample.line_numbers == sample_testset(dict(list(files.items())[:2]), 6, seed=3).line_numbers
    assert list(sample.sentences) == ["eng_Latn", "deu_Latn", "fra_Latn"]
    for k, line in enumerate(sample.line_numbers):
        assert sample.sentences["fra_Latn"][k] == f"Phrase numéro {line - 1}."
        assert sample.sentences["deu_Latn"][k] == f"Satz Nummer {line - 1}."


def test_invalid_utf8_names_line(tmp_path):
    a = tmp_path / "cs.txt"
    a.write_bytes(b"ok\nbad \xff here\n")
    b = write(tmp_path, "en.txt", ["ok", "fine"])
    with pytest.raises(TestSetError, match=rf"{a}:2: not valid UTF-8"):
        sample_testset({"cs": a, "en": b}, 1, seed=0)


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbfone\ntwo\n", b"one\r\ntwo\r\n", b"one\rtwo\r", b"\xef\xbb\xbfone\rtwo"],
    ids=["byte-order mark", "CRLF", "CR alone", "BOM, CR alone, no final line end"],
)
def test_line_ends_and_byte_order_mark(tmp_path, data):
    path = tmp_path / "x.txt"
    path.write_bytes(data)
    assert read_lines(path) == ["one", "two"]


def test_missing_file(tmp_path):
    b = write(tmp_path, "en.txt", ["ok"])
    with pytest.raises(TestSetError, match="not found"):
        sample_testset({"cs": tmp_path / "nope.txt", "en": b}, 1, seed=0)


def test_sampling_is_seeded_parallel_and_in_source_order(tmp_path):
    n = 50
    a = write(tmp_path, "de.txt", [f"Satz Nummer {i}." for i in range(n)])
    b = write(tmp_path, "en.txt", [f"Sentence number {i}." for i in range(n)])
    first = sample_testset({"de": a, "en": b}, 10, seed=7)
    again = sample_testset({"de": a, "en": b}, 10, seed=7)
    other = sample_testset({"de": a, "en": b}, 10, seed=8)
    assert first == again
    assert first.line_numbers != other.line_numbers
    assert first.line_numbers == sorted(first.line_numbers)
    for line, de, en in zip(first.line_numbers, first.sentences["de"], first.sentences["en"]):
        assert de == f"Satz Nummer {line - 1}." and en == f"Sentence number {line - 1}."


def test_lines_empty_after_cleaning_are_not_eligible(tmp_path):
    a = write(tmp_path, "fr.txt", ["Bonjour.", "...", "Merci"])
    b = write(tmp_path, "en.txt", ["Hello.", "Yes.", "Thanks"])
    sample = sample_testset({"fr": a, "en": b}, 10, seed=0)
    assert sample.line_numbers == [1, 3]
    assert sample.sentences == {"fr": ["Bonjour.", "Merci"], "en": ["Hello.", "Thanks"]}


def test_real_wmt14_sample(shared_data):
    pair = shared_data / "wmt14" / "hi-en"
    sample = sample_testset({"hi": pair / "hi.txt", "en": pair / "en.txt"}, 5, seed=1)
    assert len(sample.sentences["hi"]) == len(sample.sentences["en"]) == 5
    raw_en = (pair / "en.txt").read_text(encoding="utf-8").splitlines()
    assert [clean_sentence(raw_en[n - 1]) for n in sample.line_numbers] == sample.sentences["en"]


def test_a_side_without_words_is_the_one_named(tmp_path):
    en = write(tmp_path, "en.txt", ["The cat sleeps.", "We walked home."])
    xx = write(tmp_path, "xx.txt", ["?!", "... -- !"])
    with pytest.raises(TestSetError, match=rf"^{xx}: no line has 1\+ words"):
        sample_testset({"en": en, "xx": xx}, 2, seed=0)


def test_sample_digest_changes_with_the_prepared_test_set_only(tmp_path):
    lines = [f"Sentence number {k} is here." for k in range(10)]
    en, de = write(tmp_path, "en.txt", lines), write(tmp_path, "de.txt", lines)
    cache = tmp_path / "cache"
    digest = lambda n=3: sample_digest({"en": en, "de": de}, n, 0, "word", "paper", cache)  # noqa: E731
    first = digest()
    assert first.n_sampled == 3 and digest(n=40).n_sampled == 10  # all 10 lines when fewer than asked
    sampled = sample_testset({"en": en, "de": de}, 3, seed=0).line_numbers
    unsampled = next(n for n in range(1, 11) if n not in sampled)
    write(tmp_path, "de.txt", [f"Another line {n}." if n == unsampled else line for n, line in enumerate(lines, 1)])
    assert digest() == first  # an unsampled line with words: nothing prepared changes
    write(tmp_path, "de.txt", ["Changed." if n == sampled[0] else line for n, line in enumerate(lines, 1)])
    changed = digest()
    assert changed.sha256 != first.sha256 and len(list(cache.iterdir())) == 4
    assert changed.sides["en"] == first.sides["en"] and changed.sides["de"] != first.sides["de"]
    entry = next(p for p in cache.iterdir() if changed.sha256 in p.read_text())
    entry.write_text('{"sha256": "cached", "sides": {}, "n_sampled": 3}')  # a hit is read, not computed again
    assert digest().sha256 == "cached"


def test_heldout_lines_are_eligible_and_outside_the_sample(tmp_path):
    lines = [f"Sentence number {k} is here." for k in range(30)]
    lines[4] = "?!"
    en, de = write(tmp_path, "en.txt", lines), write(tmp_path, "de.txt", lines)
    sample = sample_testset({"en": en, "de": de}, 10, seed=2, n_heldout=8)
    assert sample.line_numbers == sample_testset({"en": en, "de": de}, 10, seed=2).line_numbers  # unchanged
    assert len(sample.heldout_line_numbers) == 8 and not set(sample.heldout_line_numbers) & set(sample.line_numbers)
    assert 5 not in sample.heldout_line_numbers  # line 5 has no words
    assert sample.heldout["de"] == [clean_sentence(lines[n - 1]) for n in sample.heldout_line_numbers]
    assert len(sample_testset({"en": en, "de": de}, 10, seed=2, n_heldout=100).heldout["en"]) == 29 - 10


def test_sample_configured_is_the_sample_of_the_config_settings(tmp_path):
    from ffnscope.testsets import sample_configured

    lines = [f"Sentence number {k} is here." for k in range(10)]
    en, de = write(tmp_path, "en.txt", lines), write(tmp_path, "de.txt", lines)
    config = {
        "testsets": [{"name": "other", "langs": ["xx", "yy"]}, {"name": "t", "langs": ["de", "en"]}],
        "sampling": {"n_sentences": 4, "seed": 3},
        "prefixes": {"unit": "word", "variant": "authors_code"},
    }
    assert sample_configured([de, en], "t", config) == sample_testset(
        {"de": de, "en": en}, 4, 3, "word", "authors_code"
    )
