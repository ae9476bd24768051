"""Word units on real FLORES-200 devtest lines (first line of each file) and short phrases
of the other scripts written without spaces, against segmentations checked by hand."""

import pytest

from ffnscope.words import word_spans

ZH = "他补充道：“我们现在有 4 个月大没有糖尿病的老鼠，但它们曾经得过该病。”"
JA = "「我々が飼っている生後4か月のマウスはかつて糖尿病でしたが現在は糖尿病ではない、」と彼は付け加えました。"
TH = "“ขณะนี้เรามีหนูอายุ 4 เดือนที่ไม่เป็นโรคเบาหวานซึ่งแต่ก่อนเคยเป็น” เขากล่าวเพิ่มเติม"
MY = '"""ဆီးချိုရှိဖူးပေမယ့် အခုဆီးချိုမရှိတော့တဲ့ ၄ လသား ကြွက်လေးတွေ ရှိနေပါတယ်"" ဟုသူက ဖြည့်စွက်ပြောပါတယ်။"'
EN = "“We now have 4-month-old mice that are non-diabetic that used to be diabetic,” he added."


def words(text, unit="word"):
    return [text[s:e] for s, e in word_spans(text, unit)]


def test_chinese_words():
    assert words(ZH) == ["他", "补充", "道", "我们", "现在", "有", "4", "个", "月", "大", "没有", "糖尿病", "的",
                         "老鼠", "但", "它们", "曾经", "得过", "该", "病"]  # fmt: skip
    assert len(words(ZH, "whitespace")) == 3


def test_japanese_words():
    assert words(JA)[:12] == ["我々", "が", "飼", "って", "いる", "生後", "4", "か", "月", "の", "マウス", "は"]
    assert len(words(JA)) == 30 and len(words(JA, "whitespace")) == 1


def test_thai_words():
    assert words(TH) == ["ขณะ", "นี้", "เรา", "มี", "หนู", "อายุ", "4", "เดือน", "ที่", "ไม่", "เป็น", "โรค", "เบา",
                         "หวาน", "ซึ่ง", "แต่", "ก่อน", "เคย", "เป็น", "เขา", "กล่าว", "เพิ่ม", "เติม"]  # fmt: skip
    assert len(words(TH, "whitespace")) == 4


def test_burmese_words():
    assert words(MY)[:6] == ["ဆီး", "ချို", "ရှိ", "ဖူး", "ပေ", "မယ့်"]
    assert len(words(MY)) == 29 and len(words(MY, "whitespace")) == 8


@pytest.mark.parametrize(
    "text, expected",
    [("ພາສາລາວ", ["ພາສາ", "ລາວ"]), ("ខ្ញុំស្រលាញ់អ្នក", ["ខ្ញុំ", "ស្រលាញ់", "អ្នក"])],
    ids=["lao", "khmer"],
)
def test_lao_and_khmer_words(text, expected):
    assert words(text) == expected


def test_spaced_scripts_split_like_words_without_punctuation():
    assert words(EN) == ["We", "now", "have", "4", "month", "old", "mice", "that", "are", "non", "diabetic", "that",
                         "used", "to", "be", "diabetic", "he", "added"]  # fmt: skip
    assert words("Elementary my dear Watson.", "whitespace") == ["Elementary", "my", "dear", "Watson."]


def test_spans_are_python_offsets_past_astral_characters():
    text = "a 𠀀 好 b😀c"
    assert word_spans(text, "word")[-1] == (len(text) - 1, len(text))  # "c" after an emoji


def test_zero_width_and_punctuation_are_not_words():
    assert words("x \u200b y !") == ["x", "y"]
    assert words("\u200b") == []


def test_subword_has_no_words():
    with pytest.raises(ValueError, match="prefixes.unit 'subword' has no words"):
        word_spans("ab", "subword")
