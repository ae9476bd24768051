"""The tiny offline model of the test suite and the benchmark (no model hub needed).

`build_tiny_xglm` trains a sentencepiece unigram model on a small multilingual corpus, wraps it
in an `XGLMTokenizer` and pairs it with a randomly initialised 4-layer `XGLMForCausalLM`; the
result is an ordinary model directory that `AutoModelForCausalLM` / `AutoTokenizer` reload.

transformers 5.x pitfall: `XGLMTokenizer(vocab_file=...)` and `from_pretrained` on a folder
holding only a sentencepiece model silently yield an 11-token vocabulary (4 specials + 7
`<madeupword>`s). The tokenizer is therefore built from the parsed sentencepiece proto
(pieces, scores and the precompiled normalisation charsmap).
"""

from __future__ import annotations

import io
from pathlib import Path

from ffnscope.atomic import atomic_path

# English, German, Czech, French and Hindi (Devanagari), eight short sentences each.
DEFAULT_CORPUS: list[str] = [
    "The cat sleeps on the warm windowsill.",
    "We walked to the market early this morning.",
    "She reads a new book every week.",
    "The train to the city was late again.",
    "Children are playing football in the park.",
    "My brother cooked dinner for the whole family.",
    "It rained all night and the river rose.",
    "Please close the door when you leave.",
    "Die Katze schläft auf der warmen Fensterbank.",
    "Wir sind heute früh zum Markt gegangen.",
    "Sie liest jede Woche ein neues Buch.",
    "Der Zug in die Stadt hatte wieder Verspätung.",
    "Die Kinder spielen im Park Fußball.",
    "Mein Bruder hat für die ganze Familie gekocht.",
    "Es hat die ganze Nacht geregnet und der Fluss ist gestiegen.",
    "Bitte schließ die Tür, wenn du gehst.",
    "Kočka spí na teplém parapetu.",
    "Dnes ráno jsme šli brzy na trh.",
    "Každý týden čte novou knihu.",
    "Vlak do města měl zase zpoždění.",
    "Děti hrají v parku fotbal.",
    "Můj bratr uvařil večeři pro celou rodinu.",
    "Celou noc pršelo a řeka stoupla.",
    "Zavři prosím dveře, až budeš odcházet.",
    "Le chat dort sur le rebord chaud de la fenêtre.",
    "Nous sommes allés au marché tôt ce matin.",
    "Elle lit un nouveau livre chaque semaine.",
    "Le train pour la ville était encore en retard.",
    "Les enfants jouent au football dans le parc.",
    "Mon frère a préparé le dîner pour toute la famille.",
    "Il a plu toute la nuit et la rivière a monté.",
    "Ferme la porte quand tu pars, s'il te plaît.",
    "बिल्ली गर्म खिड़की पर सो रही है।",
    "हम आज सुबह जल्दी बाज़ार गए।",
    "वह हर हफ़्ते एक नई किताब पढ़ती है।",
    "शहर जाने वाली ट्रेन फिर से देर से आई।",
    "बच्चे पार्क में फ़ुटबॉल खेल रहे हैं।",
    "मेरे भाई ने पूरे परिवार के लिए खाना बनाया।",
    "पूरी रात बारिश हुई और नदी का पानी बढ़ गया।",
    "जाते समय कृपया दरवाज़ा बंद कर देना।",
]

TINY_XGLM_CONFIG = dict(
    d_model=64,
    num_layers=4,
    attention_heads=4,
    ffn_dim=256,
    max_position_embeddings=2048,  # XGLM's: test sets' long sentences fit, as on the real models
    dropout=0.0,
    attention_dropout=0.0,
    activation_dropout=0.0,
    layerdrop=0.0,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
    decoder_start_token_id=2,
)


# The shard attributes of an XGLM's FFN (plain, exact GELU), for synthetic shards.
XGLM_FFN = {"ffn_family": "plain", "activation": "gelu"}


def train_sentencepiece(corpus: list[str], vocab_size: int = 300) -> bytes:
    """Train a unigram sentencepiece model (unk=0, bos=1, eos=2, no pad) in memory and return
    its serialised proto. Single-threaded and unshuffled, hence deterministic."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(corpus)),
        model_writer=buf,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small corpus may not support the full size; take what fits
        character_coverage=1.0,  # keep every Devanagari character
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        shuffle_input_sentence=False,
        input_sentence_size=0,
        minloglevel=2,
    )
    return buf.getvalue()


def xglm_tokenizer_from_spm(spm_proto: bytes):
    """An `XGLMTokenizer` with the full vocabulary of a sentencepiece unigram model whose
    first three pieces are <unk>, <s>, </s> (fairseq order: <s>, <pad>, </s>, <unk>, pieces...)."""
    from sentencepiece import sentencepiece_model_pb2
    from transformers import XGLMTokenizer

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(spm_proto)
    pieces = [(p.piece, float(p.score)) for p in proto.pieces]
    expected = ["<unk>", "<s>", "</s>"]
    if [p for p, _ in pieces[:3]] != expected:
        raise ValueError(f"sentencepiece model must start with {expected}, got {pieces[:3]}")
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces[3:]
    return XGLMTokenizer(
        vocab=vocab,
        _spm_precompiled_charsmap=proto.normalizer_spec.precompiled_charsmap,
    )


def byte_level_bpe_tokenizer(corpus: list[str], vocab_size: int = 400):
    """A `Qwen2Tokenizer` (byte-level BPE, no BOS, as Qwen's own) trained on `corpus`:
    transformers loads every qwen2 checkpoint with that class, whatever tokenizer it holds."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    bpe.train_from_iterator(
        corpus, trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=alphabet, special_tokens=["<|endoftext|>"])
    )
    merges = [tuple(m) for m in json.loads(bpe.to_str())["model"]["merges"]]
    return Qwen2Tokenizer(vocab=bpe.get_vocab(), merges=merges)


def build_tiny_xglm(
    out_dir: str | Path,
    *,
    corpus: list[str] | None = None,
    seed: int = 0,
    vocab_size: int = 300,
) -> Path:
    """Build and save a tiny random XGLM causal LM with a sentencepiece tokenizer trained on
    `corpus` (default `DEFAULT_CORPUS`). Deterministic for a given (corpus, seed, vocab_size);
    takes a second or two. Written atomically (`atomic_path`). Returns `out_dir`."""
    from transformers import XGLMConfig, XGLMForCausalLM

    out_dir = Path(out_dir)
    lines = [line.strip() for line in (DEFAULT_CORPUS if corpus is None else corpus) if line.strip()]
    if not lines:
        raise ValueError("build_tiny_xglm: empty corpus")
    tokenizer = xglm_tokenizer_from_spm(train_sentencepiece(lines, vocab_size))

    config = XGLMConfig(vocab_size=len(tokenizer), **TINY_XGLM_CONFIG)
    return _save_random(out_dir, XGLMForCausalLM, config, tokenizer, seed)


# Gated FFNs, W2(act(gate x) * up x): Llama-style (SiLU) and Gemma 3 (tanh GELU), of the tiny
# XGLM's size, with its tokenizer (a model's ids need no tokenizer of its own family).
TINY_GATED = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", {"hidden_act": "silu"}),
    "mistral": ("MistralConfig", "MistralForCausalLM", {"hidden_act": "silu", "sliding_window": 8}),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", {"hidden_act": "silu"}),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", {"hidden_act": "silu", "head_dim": 16}),
    "gemma": ("GemmaConfig", "GemmaForCausalLM", {"hidden_activation": "gelu_pytorch_tanh", "head_dim": 16}),
    "gemma2": (  # soft-capped attention scores (default 50), alternating sliding-window layers
        "Gemma2Config",
        "Gemma2ForCausalLM",
        {"hidden_activation": "gelu_pytorch_tanh", "head_dim": 16, "sliding_window": 8, "query_pre_attn_scalar": 16},
    ),
    "gemma3_text": (
        "Gemma3TextConfig",
        "Gemma3ForCausalLM",
        {"hidden_activation": "gelu_pytorch_tanh", "head_dim": 16, "sliding_window": 8, "query_pre_attn_scalar": 16},
    ),
}


def build_tiny_gated(out_dir: str | Path, model_type: str, *, seed: int = 0, shape: dict | None = None) -> Path:
    """A tiny random causal LM with a gated FFN (`TINY_GATED`), saved like `build_tiny_xglm`;
    `shape` replaces config fields (a real model's sizes, for timings)."""
    import transformers

    config_class, model_class, extra = TINY_GATED[model_type]
    corpus = [line.strip() for line in DEFAULT_CORPUS if line.strip()]
    if model_type == "qwen2":
        tokenizer = byte_level_bpe_tokenizer(corpus)
    else:
        tokenizer = xglm_tokenizer_from_spm(train_sentencepiece(corpus))
    fields = {
        "vocab_size": len(tokenizer),
        "hidden_size": TINY_XGLM_CONFIG["d_model"],
        "intermediate_size": TINY_XGLM_CONFIG["ffn_dim"],
        "num_hidden_layers": TINY_XGLM_CONFIG["num_layers"],
        "num_attention_heads": TINY_XGLM_CONFIG["attention_heads"],
        "num_key_value_heads": 2,
        "max_position_embeddings": TINY_XGLM_CONFIG["max_position_embeddings"],
        "pad_token_id": TINY_XGLM_CONFIG["pad_token_id"],
        "bos_token_id": TINY_XGLM_CONFIG["bos_token_id"],
        "eos_token_id": TINY_XGLM_CONFIG["eos_token_id"],
        **extra,
        **(shape or {}),
    }
    config = getattr(transformers, config_class)(**fields)
    return _save_random(Path(out_dir), getattr(transformers, model_class), config, tokenizer, seed)


def build_tiny_gpt2(out_dir: str | Path, *, seed: int = 0) -> Path:
    """A tiny random GPT-2 (learned absolute positions, `Conv1D` FFN), saved like `build_tiny_xglm`."""
    from transformers import GPT2Config, GPT2LMHeadModel

    fields = dict(n_embd=TINY_XGLM_CONFIG["d_model"], n_layer=TINY_XGLM_CONFIG["num_layers"])
    fields |= dict(n_head=TINY_XGLM_CONFIG["attention_heads"], n_inner=TINY_XGLM_CONFIG["ffn_dim"])
    return _build_plain(out_dir, GPT2Config, GPT2LMHeadModel, seed, n_positions=_POSITIONS, **fields)


def build_tiny_opt(out_dir: str | Path, *, seed: int = 0) -> Path:
    """A tiny random OPT (learned positions offset by 2, ReLU FFN, [batch x seq] flattened
    before the FFN), saved like `build_tiny_xglm`."""
    from transformers import OPTConfig, OPTForCausalLM

    fields = dict(hidden_size=TINY_XGLM_CONFIG["d_model"], word_embed_proj_dim=TINY_XGLM_CONFIG["d_model"])
    fields |= dict(num_hidden_layers=TINY_XGLM_CONFIG["num_layers"], ffn_dim=TINY_XGLM_CONFIG["ffn_dim"])
    fields |= dict(num_attention_heads=TINY_XGLM_CONFIG["attention_heads"], max_position_embeddings=_POSITIONS)
    return _build_plain(out_dir, OPTConfig, OPTForCausalLM, seed, **fields)


def build_tiny_bloom(out_dir: str | Path, *, seed: int = 0) -> Path:
    """A tiny random BLOOM (ALiBi instead of positions, FFN of 4 d), saved like `build_tiny_xglm`."""
    from transformers import BloomConfig, BloomForCausalLM

    fields = dict(hidden_size=TINY_XGLM_CONFIG["d_model"], n_layer=TINY_XGLM_CONFIG["num_layers"])
    return _build_plain(
        out_dir, BloomConfig, BloomForCausalLM, seed, n_head=TINY_XGLM_CONFIG["attention_heads"], **fields
    )


_POSITIONS = TINY_XGLM_CONFIG["max_position_embeddings"]


def _build_plain(out_dir: str | Path, config_class, model_class, seed: int, **fields) -> Path:
    """A tiny random plain-FFN model of another family than XGLM, with the tiny XGLM's
    tokenizer and special ids."""
    tokenizer = xglm_tokenizer_from_spm(train_sentencepiece([line.strip() for line in DEFAULT_CORPUS if line.strip()]))
    ids = {key: TINY_XGLM_CONFIG[key] for key in ("pad_token_id", "bos_token_id", "eos_token_id")}
    config = config_class(vocab_size=len(tokenizer), **ids, **fields)
    return _save_random(Path(out_dir), model_class, config, tokenizer, seed)


def _save_random(out_dir: Path, model_class, config, tokenizer, seed: int) -> Path:
    """A model of `model_class` with seeded random weights and its tokenizer, written atomically."""
    import torch

    with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG alone
        torch.manual_seed(seed)
        model = model_class(config)
    model.eval()

    with atomic_path(out_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return out_dir
