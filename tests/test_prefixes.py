"""Prefix positions under every unit: whitespace words as the paper, linguistic words of any
script with the tokens that span them merged, and the sampling side of the zero-prefix policy
(the snapshot side is in test_snapshot.py)."""

from pathlib import Path

import pytest
import yaml
from test_words import JA, TH, ZH
from transformers import AutoTokenizer

from ffnscope.prefixes import encode_sentence, word_end_positions
from ffnscope.testsets import TestSetError, sample_testset
from ffnscope.words import word_spans

REPO = Path(__file__).resolve().parents[1]


def whitespace(text):
    return word_spans(text, "whitespace")


def test_word_ends_with_sentencepiece_offsets():
    # "Elementary my dear Watson." tokenised as <bos> Element ary ▁my ▁de ar ▁Watson .
    text = "Elementary my dear Watson."
    offsets = [(0, 0), (0, 7), (7, 10), (10, 13), (13, 16), (16, 18), (18, 25), (25, 26)]
    special = [1, 0, 0, 0, 0, 0, 0, 0]
    # words: Elementary -> token 2, my -> 3, dear -> 5, Watson. -> 7
    assert word_end_positions(whitespace(text), offsets, special) == [2, 3, 5, 7]


def test_word_ends_with_offsets_excluding_spaces():
    text = "ab cd"
    offsets = [(0, 0), (0, 1), (1, 2), (3, 5)]
    assert word_end_positions(whitespace(text), offsets, [1, 0, 0, 0]) == [2, 3]


def test_token_spanning_two_words_merges_them():
    # three words of one character each; token 1 spans the first two (one Chinese token for two ICU words)
    spans = [(0, 1), (1, 2), (2, 3)]
    assert word_end_positions(spans, [(0, 0), (0, 2), (2, 3)], [1, 0, 0]) == [1, 2]


def test_prefix_after_a_word_is_the_last_token_starting_in_it():
    # words "ab" "cd" (no space); token 2 starts in "ab" and runs into "cd"
    assert word_end_positions([(0, 2), (2, 4)], [(0, 0), (0, 1), (1, 3), (3, 4)], [1, 0, 0, 0]) == [2, 3]


def test_words_without_a_token_of_their_own_are_merged():
    # the middle word (a zero-width character the tokenizer drops) has no token: it shares the first's prefix
    assert word_end_positions([(0, 2), (2, 3), (3, 5)], [(0, 2), (3, 5)], [0, 0]) == [0, 1]
    # a first word without a token has no prefix before it: merged into the next one
    assert word_end_positions([(0, 1), (2, 4)], [(0, 0), (2, 4)], [1, 0]) == [1]
    assert word_end_positions([(0, 1)], [(0, 0)], [1]) == []


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_xglm_dir):
    return AutoTokenizer.from_pretrained(tiny_xglm_dir)


def check_positions(tokenizer, text, unit):
    """Positions are non-special tokens of the sentence, strictly increasing, the last one the
    sentence's last token; every word has a position or is counted as merged."""
    enc = encode_sentence(tokenizer, text, unit)
    special = tokenizer(text, return_special_tokens_mask=True)["special_tokens_mask"]
    tokens = [t for t, sp in enumerate(special) if not sp]
    assert set(enc.positions) <= set(tokens) and enc.positions[-1] == tokens[-1]
    assert all(a < b for a, b in zip(enc.positions, enc.positions[1:]))
    assert enc.n_tokens == len(tokens) and enc.n_words == len(word_spans(text, unit))
    assert enc.n_merged_words == enc.n_words - len(enc.positions)
    return enc


@pytest.mark.parametrize("text", [ZH, JA, TH], ids=["zh", "ja", "th"])
def test_scripts_without_spaces_on_the_tiny_tokenizer(tiny_tokenizer, text):
    # its vocabulary has no CJK or Thai: a run of them is one <unk> token, so words merge
    enc = check_positions(tiny_tokenizer, text, "word")
    assert enc.n_merged_words > 0


def test_real_tokens_spanning_words_are_merged(tiny_tokenizer):
    # "▁" then one <unk> over all three words: one prefix, the sentence, two words merged
    enc = check_positions(tiny_tokenizer, "猫在睡觉。", "word")
    assert (enc.positions, enc.n_words, enc.n_tokens, enc.n_merged_words) == ([2], 3, 2, 2)
    assert encode_sentence(tiny_tokenizer, "猫在睡觉。", "word", "authors_code").positions == []


def test_whitespace_and_subword_units(tiny_tokenizer):
    # </s> ▁W e ▁wa l k ed ▁to ▁ the ▁mar k et .
    text = "We walked to the market."
    # "." is no word, but the last prefix is the full sentence under every unit
    assert encode_sentence(tiny_tokenizer, text, "whitespace").positions == [2, 6, 7, 9, 13]
    assert encode_sentence(tiny_tokenizer, text, "word").positions == [2, 6, 7, 9, 13]
    # </s> ▁ <unk>(4-) m on t h <unk>(-) o l d ▁ m i c e .: "4-month-old" is one word of the paper, three words
    assert encode_sentence(tiny_tokenizer, "4-month-old mice.", "whitespace").positions == [10, 16]
    assert encode_sentence(tiny_tokenizer, "4-month-old mice.", "word").positions == [2, 6, 10, 16]
    subword = encode_sentence(tiny_tokenizer, text, "subword", "authors_code")
    assert subword.positions == list(range(1, 13)) and (subword.n_words, subword.n_merged_words) == (13, 0)


@pytest.mark.slow
@pytest.mark.parametrize("text, n_words, n_merged", [(ZH, 20, 0), (JA, 30, 8), (TH, 23, 2)], ids=["zh", "ja", "th"])
def test_scripts_without_spaces_on_gemma(gemma_dir, text, n_words, n_merged):
    enc = check_positions(AutoTokenizer.from_pretrained(gemma_dir), text, "word")
    assert (enc.n_words, enc.n_merged_words) == (n_words, n_merged)


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_sampling_drops_and_counts_lines_without_a_prefix(tmp_path):
    ja = write(tmp_path, "ja.txt", ["猫が寝ている。", "はい。", "我々は市場へ歩いた。", "ありがとう！"])
    en = write(tmp_path, "en.txt", ["The cat sleeps.", "Yes.", "We walked to the market.", "Thanks!"])
    files = {"ja": ja, "en": en}
    # the paper's split: every Japanese line is one word, none has a prefix under the authors' variant
    with pytest.raises(TestSetError, match=r"ja.txt: no line has 2\+ words \(whitespace\) on every side"):
        sample_testset(files, 10, seed=0, unit="whitespace", variant="authors_code")
    paper = sample_testset(files, 10, seed=0, unit="whitespace", variant="paper")
    assert paper.line_numbers == [1, 2, 3, 4] and paper.n_ineligible == 0
    # words: はい and ありがとう are one word each, "Yes." and "Thanks!" one each
    authors = sample_testset(files, 10, seed=0, unit="word", variant="authors_code")
    assert authors.line_numbers == [1, 3]
    assert (authors.n_lines, authors.n_ineligible, authors.short_lines) == (4, 2, {"ja": 2, "en": 2})
    assert authors.sentences["ja"] == ["猫が寝ている。", "我々は市場へ歩いた。"]


def test_subword_sampling_needs_text_only(tmp_path):
    de = write(tmp_path, "de.txt", ["Hallo", "...", "Guten Morgen"])
    en = write(tmp_path, "en.txt", ["Hello", "Yes.", "Good morning"])
    sample = sample_testset({"de": de, "en": en}, 10, seed=0, unit="subword", variant="authors_code")
    assert sample.line_numbers == [1, 3] and sample.short_lines == {"de": 1, "en": 0}


def test_paper_and_demo_configs_keep_the_papers_split():
    # the demo overrides config/config.yaml, whose `whitespace` reproduces the paper
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    demo = yaml.safe_load((REPO / "config/demo.yaml").read_text())
    assert config["prefixes"] == {"unit": "whitespace", "variant": "paper"} and "prefixes" not in demo
