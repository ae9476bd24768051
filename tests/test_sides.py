"""Languages by their codes (normalisation, overrides, English) and the pairs of sides analysed."""

import pytest

from ffnscope.sides import (
    Language,
    LanguageError,
    direction_pairs,
    distance_pairs,
    english_sides,
    is_english,
    language_of,
    listed_pairs,
    parse_language,
    side_languages,
)


@pytest.mark.parametrize(
    ("code", "language", "script", "territory", "label", "name"),
    [
        ("en", "en", "Latn", "", "en", "English"),  # ISO 639-1
        ("eng", "en", "Latn", "", "en", "English"),  # ISO 639-3
        ("eng_Latn", "en", "Latn", "", "en", "English"),  # FLORES-200
        ("en-US", "en", "Latn", "US", "en-US", "English (United States)"),  # BCP-47
        ("zho_Hans", "zh", "Hans", "", "zh-Hans", "Chinese (Simplified)"),
        ("zho_Hant", "zh", "Hant", "", "zh-Hant", "Chinese (Traditional)"),
        ("cmn", "zh", "Hans", "", "zh-Hans", "Chinese (Simplified)"),  # Mandarin: the macrolanguage zh
        ("jpn_Jpan", "ja", "Jpan", "", "ja", "Japanese"),
        ("hin_Deva", "hi", "Deva", "", "hi", "Hindi"),
        ("swh_Latn", "sw", "Latn", "", "sw", "Swahili"),  # individual language -> macrolanguage sw
        ("arb_Arab", "ar", "Arab", "", "ar", "Arabic"),
        ("mya_Mymr", "my", "Mymr", "", "my", "Burmese"),
        ("de", "de", "Latn", "", "de", "German"),
    ],
)
def test_codes_are_normalised(code, language, script, territory, label, name):
    lang = language_of(code)
    assert lang == Language(language, script, territory)
    assert (lang.label, lang.name) == (label, name)
    assert is_english(code) == (language == "en")


def test_one_language_whatever_the_code():
    assert len({language_of(c) for c in ("en", "eng", "eng_Latn", "EN", "en-Latn")}) == 1
    assert language_of("zh") == language_of("cmn") == language_of("zho_Hans") != language_of("zho_Hant")
    assert language_of("en-US").tag == "en-Latn-US" and language_of("en-US") != language_of("en")
    assert all(is_english(c) for c in ("en", "eng", "eng_Latn", "en-US", "en-GB"))


@pytest.mark.parametrize("code", ["xx", "xx_Latn", "qaa", "und", "zxx", "x-private", "123", "e_n"])
def test_codes_that_name_no_language_are_refused(code):
    assert parse_language(code) is None
    with pytest.raises(LanguageError, match=rf"^{code!r} is not a language code .*languages: \{{{code}: de\}}$"):
        language_of(code)


def test_override_names_the_language_of_a_code():
    overrides = {"xx": "de", "eng_Latn": "fr-Latn"}
    assert language_of("xx", overrides) == language_of("de")
    assert language_of("eng_Latn", overrides) == language_of("fr") and not is_english("eng_Latn", overrides)
    assert is_english("en", overrides)  # codes not named read as they are
    with pytest.raises(LanguageError, match=r"^config languages: xx: 'zz9' is not a BCP-47 language tag$"):
        language_of("xx", {"xx": "zz9"})


def test_side_languages_name_the_test_set_of_an_unknown_code():
    testsets = {"wmt14-de-en": ["de", "en"], "flores": ["eng_Latn", "deu_Latn", "hin_Deva"]}
    assert {code: lang.tag for code, lang in side_languages(testsets).items()} == {
        "de": "de-Latn",
        "en": "en-Latn",
        "eng_Latn": "en-Latn",
        "deu_Latn": "de-Latn",
        "hin_Deva": "hi-Deva",
    }
    with pytest.raises(LanguageError, match=r"^config testsets\[name=flores\]\.langs: 'xx' is not a language code"):
        side_languages({"flores": ["eng_Latn", "xx"]})
    assert side_languages({"flores": ["eng_Latn", "xx"]}, {"xx": "de"})["xx"] == language_of("de")
    # the workflow's resolved tags, used as overrides, read every code the same way again
    tags = {code: lang.tag for code, lang in side_languages(testsets).items()}
    assert all(language_of(code, tags) == language_of(code) for code in tags)


def test_english_sides_by_normalised_language():
    sides = [("wmt", "de"), ("wmt", "en"), ("flores", "eng_Latn"), ("flores", "hin_Deva"), ("x", "xx")]
    assert [s.name for s in english_sides(sides, {"xx": "en-GB"})] == ["wmt/en", "flores/eng_Latn", "x/xx"]


def test_listed_pairs():
    assert listed_pairs(["a", "b"]) == [("a", "b")]
    assert listed_pairs(["a", "b", "c", "d"]) == [
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    ]


@pytest.mark.parametrize(
    ("langs", "direction", "pairs"),
    [
        # two languages, one English (the WMT14 configuration): as configured before
        (["de", "en"], "to_english", [("de", "en")]),
        (["en", "hi"], "to_english", [("hi", "en")]),
        (["de", "en"], "from_english", [("en", "de")]),
        (["de", "en"], "listed", [("de", "en")]),
        (["deu_Latn", "eng_Latn"], "to_english", [("deu_Latn", "eng_Latn")]),
        # two languages without English: the listed pair
        (["de", "fr"], "to_english", [("de", "fr")]),
        (["de", "fr"], "from_english", [("de", "fr")]),
        # N-way with English: each language to (from) English
        (
            ["eng_Latn", "deu_Latn", "zho_Hans", "hin_Deva"],
            "to_english",
            [("deu_Latn", "eng_Latn"), ("zho_Hans", "eng_Latn"), ("hin_Deva", "eng_Latn")],
        ),
        (["deu_Latn", "eng_Latn", "hin_Deva"], "from_english", [("eng_Latn", "deu_Latn"), ("eng_Latn", "hin_Deva")]),
        (
            ["eng_Latn", "deu_Latn", "hin_Deva"],
            "listed",
            [("eng_Latn", "deu_Latn"), ("eng_Latn", "hin_Deva"), ("deu_Latn", "hin_Deva")],
        ),
        # N-way without English: every pair in listed order
        (
            ["deu_Latn", "zho_Hans", "jpn_Jpan"],
            "to_english",
            [("deu_Latn", "zho_Hans"), ("deu_Latn", "jpn_Jpan"), ("zho_Hans", "jpn_Jpan")],
        ),
        # English only (two variants): the listed pair
        (["en-US", "en-GB"], "to_english", [("en-US", "en-GB")]),
    ],
)
def test_distance_pairs_by_direction(langs, direction, pairs):
    assert direction_pairs(langs, direction) == pairs
    assert distance_pairs({"t": langs}, direction) == {"t": pairs}


def test_explicit_distance_pairs():
    testsets = {"flores": ["eng_Latn", "deu_Latn", "hin_Deva"], "wmt14-de-en": ["de", "en"]}
    explicit = {"flores": [["hin_Deva", "deu_Latn"], ["eng_Latn", "hin_Deva"]]}
    assert distance_pairs(testsets, "to_english", explicit) == {
        "flores": [("hin_Deva", "deu_Latn"), ("eng_Latn", "hin_Deva")],
        "wmt14-de-en": [("de", "en")],
    }
    with pytest.raises(ValueError, match=r"distance.pairs: \['floras'\] are not configured test sets"):
        distance_pairs(testsets, "to_english", {"floras": [["eng_Latn", "deu_Latn"]]})
    with pytest.raises(ValueError, match=r"distance.pairs.flores: \[\['eng_Latn', 'fra_Latn'\]\]: each pair"):
        distance_pairs(testsets, "to_english", {"flores": [["eng_Latn", "fra_Latn"]]})
    with pytest.raises(ValueError, match=r"distance.pairs.flores: \[\['deu_Latn', 'deu_Latn'\]\]: each pair"):
        distance_pairs(testsets, "to_english", {"flores": [["deu_Latn", "deu_Latn"]]})
    with pytest.raises(ValueError, match=r"distance.pairs.flores: a repeated pair: each pair"):
        distance_pairs(testsets, "to_english", {"flores": [["deu_Latn", "hin_Deva"], ["deu_Latn", "hin_Deva"]]})
    with pytest.raises(ValueError, match="unknown distance.direction 'up'"):
        distance_pairs(testsets, "up")
