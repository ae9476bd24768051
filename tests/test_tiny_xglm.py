import json

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from tiny_xglm import DEFAULT_CORPUS, build_tiny_xglm, train_sentencepiece, xglm_tokenizer_from_spm

SENTENCES = ["Die Katze schläft.", "बिल्ली गर्म खिड़की पर सो रही है।", "The train was late again."]


def test_tiny_xglm_round_trip_same_logits(tiny_xglm_dir):
    expected_tok = xglm_tokenizer_from_spm(train_sentencepiece(DEFAULT_CORPUS))
    tok = AutoTokenizer.from_pretrained(tiny_xglm_dir)
    assert type(tok).__name__ == "XGLMTokenizer"
    assert tok.get_vocab() == expected_tok.get_vocab()
    assert tok(SENTENCES)["input_ids"] == expected_tok(SENTENCES)["input_ids"]

    model = AutoModelForCausalLM.from_pretrained(tiny_xglm_dir).eval()
    assert type(model).__name__ == "XGLMForCausalLM"
    assert model.config.vocab_size == len(tok)
    enc = tok(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        first = model(**enc).logits
        again = AutoModelForCausalLM.from_pretrained(tiny_xglm_dir).eval()(**enc).logits
    assert first.shape == (len(SENTENCES), enc["input_ids"].shape[1], len(tok))
    assert torch.equal(first, again)


def test_build_is_deterministic(tmp_path, tiny_xglm_dir):
    again = build_tiny_xglm(tmp_path / "again", seed=0)
    other = build_tiny_xglm(tmp_path / "other", seed=1)
    ref = load_file(tiny_xglm_dir / "model.safetensors")
    same = load_file(again / "model.safetensors")
    diff = load_file(other / "model.safetensors")
    assert ref.keys() == same.keys()
    assert all(torch.equal(ref[k], same[k]) for k in ref)
    assert not all(torch.equal(ref[k], diff[k]) for k in ref)
    assert (again / "tokenizer.json").read_bytes() == (tiny_xglm_dir / "tokenizer.json").read_bytes()
    assert not list(tmp_path.glob(".*tmp*")), "staging directory left behind"


def test_vocabulary_is_the_trained_one(tiny_xglm_dir):
    tok = AutoTokenizer.from_pretrained(tiny_xglm_dir)
    trained = json.loads((tiny_xglm_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    # 4 fairseq specials + the trained pieces, then the 7 <madeupword>s XGLM adds; never 11.
    assert len(trained) > 200
    assert len(tok) == len(trained) + 7
    assert tok.convert_ids_to_tokens([0, 1, 2, 3]) == ["<s>", "<pad>", "</s>", "<unk>"]


def test_devanagari_is_not_unk(tiny_xglm_dir):
    tok = AutoTokenizer.from_pretrained(tiny_xglm_dir)
    text = "हम आज सुबह जल्दी बाज़ार गए।"
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("</s>")  # XGLM prepends </s>, not <s>
    assert tok.unk_token_id not in ids[1:]
    assert tok.decode(ids, skip_special_tokens=True) == text


def test_right_padding_with_pad_id_1_and_offsets(tiny_xglm_dir):
    tok = AutoTokenizer.from_pretrained(tiny_xglm_dir)
    assert tok.padding_side == "right"
    assert tok.pad_token_id == 1
    enc = tok(SENTENCES, padding=True, return_offsets_mapping=True)
    lengths = [sum(mask) for mask in enc["attention_mask"]]
    width = max(lengths)
    for ids, mask, offsets, n, text in zip(
        enc["input_ids"], enc["attention_mask"], enc["offset_mapping"], lengths, SENTENCES
    ):
        assert len(ids) == width
        assert mask == [1] * n + [0] * (width - n)
        assert ids[n:] == [1] * (width - n)
        assert ids[0] == 2 and tuple(offsets[0]) == (0, 0)
        assert max(end for _, end in offsets) == len(text)  # offsets index the original string
