import pytest

from ffnscope.prefixes import word_end_positions


def test_word_ends_with_sentencepiece_offsets():
    # "Elementary my dear Watson." tokenised as <bos> Element ary ▁my ▁de ar ▁Watson .
    text = "Elementary my dear Watson."
    offsets = [(0, 0), (0, 7), (7, 10), (10, 13), (13, 16), (16, 18), (18, 25), (25, 26)]
    special = [1, 0, 0, 0, 0, 0, 0, 0]
    # words: Elementary -> token 2, my -> 3, dear -> 5, Watson. -> 7
    assert word_end_positions(text, offsets, special) == [2, 3, 5, 7]


def test_word_ends_with_offsets_excluding_spaces():
    text = "ab cd"
    offsets = [(0, 0), (0, 1), (1, 2), (3, 5)]
    assert word_end_positions(text, offsets, [1, 0, 0, 0]) == [2, 3]


def test_word_without_token_is_an_error():
    with pytest.raises(ValueError, match="has no token"):
        word_end_positions("ab cd", [(0, 2)], [0])
