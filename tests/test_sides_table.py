"""The sides table on a tiny run: sampling's eligibility counts and the snapshot's word, token
and prefix counts, against counts by hand."""

import pytest

from ffnscope.models import load_model
from ffnscope.sides_table import eligibility_frame, sides_table
from ffnscope.snapshot import SnapshotSettings, shard_attributes, snapshot
from ffnscope.tables import read_tsv, write_tsv
from ffnscope.testsets import sample_testset

ZH = ["猫在睡觉。", "……", "我们走到市场。", "！"]
EN = ["The cat sleeps.", "...", "We walked to the market.", "Thanks!"]


def test_sides_table_counts(tiny_xglm_dir, tmp_path, caplog):
    files = {}
    for lang, lines in (("zh", ZH), ("en", EN)):
        files[lang] = tmp_path / f"{lang}.txt"
        files[lang].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    sample = sample_testset(files, 10, seed=0, unit="word", variant="paper")
    assert sample.line_numbers == [1, 3]  # line 2 is punctuation on both sides, line 4 on the Chinese one
    write_tsv(eligibility_frame(sample), tmp_path / "eligibility.tsv")

    # the sides computed on nodes of different hardware under `compute_dtype: auto`
    dtypes = {"zh": "float32", "en": "bfloat16"}
    settings = SnapshotSettings(unit="word", variant="paper")
    shards = []
    for lang, sentences in sample.sentences.items():
        loaded = load_model("tiny", str(tiny_xglm_dir), device="cpu", dtype=dtypes[lang])
        shards.append(tmp_path / f"{lang}.h5")
        attrs = shard_attributes(
            model="tiny",
            model_path=str(tiny_xglm_dir),
            revision="local",
            testset="toy",
            lang=lang,
            n_sentences=len(sentences),
            settings=settings,
            loaded=loaded,
            hash_of_config="h",
        )
        snapshot(loaded, sentences, [1], {1: shards[-1]}, settings, attrs)
    write_tsv(sides_table(shards, {"toy": tmp_path / "eligibility.tsv"}), tmp_path / "sides.tsv")
    table = read_tsv(tmp_path / "sides.tsv").set_index("lang")
    assert table.compute_dtype.to_dict() == {"en": "bfloat16", "zh": "float32"}
    assert "model tiny: its sides were computed in different dtypes {'bfloat16': 1, 'float32': 1}" in caplog.text

    assert list(table.index) == ["en", "zh"]
    assert set(table.model) == {"tiny"} and set(table.unit) == {"word"} and set(table.variant) == {"paper"}
    assert list(table.n_sentences) == [2, 2]
    # English: The|cat|sleeps, We|walked|to|the|market; tokens ▁T he ▁c at ▁s le ep s . and
    # ▁W e ▁wa l k ed ▁to ▁ the ▁mar k et . (9 + 13); every word ends on its own token
    en = table.loc["en"]
    assert (en.words_per_sentence, en.n_prefixes, en.n_merged_words) == (4.0, 8, 0)
    assert en.tokens_per_word == pytest.approx(22 / 8)
    # Chinese: 猫|在|睡觉, 我们|走到|市场, each sentence "▁" and one <unk>: one prefix, two words merged
    zh = table.loc["zh"]
    assert (zh.words_per_sentence, zh.n_prefixes, zh.n_merged_words) == (3.0, 2, 4)
    assert zh.tokens_per_word == pytest.approx(4 / 6)
    assert (en.n_short_lines, zh.n_short_lines, en.n_ineligible_lines, zh.n_ineligible_lines) == (1, 2, 2, 2)
