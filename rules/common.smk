# Config loading and validation, wildcard constraints and the path builders that rule files
# share (a rule's output and its consumers build a path with the same function). Each rule
# file owns its settings, resources and input functions; named functions live here, as
# `snakemake --lint` keeps them out of files with named rules.
import functools
import os
import re
from dataclasses import dataclass

from snakemake.logging import logger
from snakemake.utils import validate

from ffnscope import testsets
from ffnscope.cluster import ANALYSIS_GROUP
from ffnscope.sides import side_languages

validate(config, schema="../config/schema.yaml")


def by_name(section):
    """The entries of config list `section` by name; a name used twice is an error (a second
    entry would silently replace the first)."""
    entries = {}
    for i, entry in enumerate(config[section]):
        if entry["name"] in entries:
            raise ValueError(f"config {section}[{i}]: name {entry['name']!r} is used twice; names must be unique")
        entries[entry["name"]] = entry
    return entries


TESTSETS = by_name("testsets")
SIDES = [(t, lang) for t in TESTSETS for lang in TESTSETS[t]["langs"]]
# code -> the BCP-47 tag of its normalised language (ffnscope.sides), config `languages` applied:
# how every analysis reads the codes (an unknown code fails here, naming its test set)
LANGUAGES = {
    code: language.tag
    for code, language in side_languages({t: s["langs"] for t, s in TESTSETS.items()}, config["languages"]).items()
}
# Every analysis runs once per method; outputs of the methods live side by side.
METHODS = list(dict.fromkeys(config["metrics"]["methods"]))
SNAP = config["snapshot"]
CLUSTER = config["cluster"]  # site specifics of every job's resources (ffnscope.cluster)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    path: str
    revision: str
    n_layers: int
    layers: tuple
    gguf_package: str
    size_gb: float
    random_like: str  # random_init: the trained model whose architecture and tokenizer it copies
    random_seed: int

    @property
    def built(self):
        """Whether a rule builds the model directory (GGUF conversion or random init)."""
        return bool(self.gguf_package or self.random_like)


def rule_id(name):
    """A config name as a Python identifier, for per-model and per-test-set rule names."""
    return "".join(c if c.isalnum() else "_" for c in name)


def built_model_path(model):
    """The directory a rule builds for a GGUF or random_init model."""
    return f"resources/models/{model}"


def _model_spec(entry, entries):
    layers = tuple(entry.get("layers") or range(entry["n_layers"]))
    bad = [l for l in layers if l >= entry["n_layers"]]
    if bad:
        raise ValueError(f"config models[name={entry['name']}].layers: {bad} >= n_layers {entry['n_layers']}")
    gguf = entry.get("gguf_package", "")
    random_init = entry.get("random_init", {})
    path = entry.get("path", "")
    if (
        path
        and not os.path.exists(path)
        and (os.path.isabs(path) or path.startswith((".", "~")) or path.count("/") > 1)
    ):
        raise ValueError(
            f"config models[name={entry['name']}].path: {path!r} is not there (a local directory; "
            "a Hugging Face hub id has the form org/name)"
        )
    like = entries.get(random_init.get("like", ""), {})
    trained = "path" in like or "gguf_package" in like
    if random_init and not (trained and like["n_layers"] == entry["n_layers"]):
        raise ValueError(
            f"config models[name={entry['name']}].random_init.like: {random_init['like']!r} must name "
            f"another entry of models with a path or gguf_package and the same n_layers; "
            f"entries: {sorted(entries)}"
        )
    return ModelSpec(
        name=entry["name"],
        path=built_model_path(entry["name"]) if gguf or random_init else entry["path"],
        revision=entry.get("revision", ""),
        n_layers=entry["n_layers"],
        layers=layers,
        gguf_package=gguf,
        size_gb=entry.get("size_gb", like.get("size_gb", 1.0)),
        random_like=random_init.get("like", ""),
        random_seed=random_init.get("seed", 0),
    )


_MODEL_ENTRIES = by_name("models")
MODELS = {name: _model_spec(m, _MODEL_ENTRIES) for name, m in _MODEL_ENTRIES.items()}


def sources_of_testset(wildcards):
    """Input of the jobs that prepare test set `wildcards.testset`: its files, every side, as
    ancient (their times do not matter; what they give is the jobs' params digest)."""
    return [ancient(testset_source(wildcards.testset, lang)) for lang in TESTSETS[wildcards.testset]["langs"]]


def local_sources(testset):
    """A test set's local files by language, or None for sacrebleu downloads (which the
    workflow writes itself) and for files not there (left to the job's missing-input error)."""
    files = {lang: testset_source(testset, lang) for lang in TESTSETS[testset]["langs"]}
    if config["data"]["source"] == "sacrebleu" or not all(map(os.path.isfile, files.values())):
        return None
    return files


@functools.cache
def prepared_sample(testset):
    """What test set `testset` prepares from its local files, in short (ffnscope.testsets
    SampleDigest), or None (local_sources). Warns, in the dry run already, when fewer lines
    than sampling.n_sentences are eligible."""
    files = local_sources(testset)
    if files is None:
        return None
    wanted = config["sampling"]["n_sentences"]
    sample = testsets.sample_digest(
        files,
        wanted,
        config["sampling"]["seed"],
        config["prefixes"]["unit"],
        config["prefixes"]["variant"],
        cache_dir=".snakemake/ffnscope/samples",
    )
    if sample.n_sampled < wanted:
        logger.warning(
            f"ffnscope: test set {testset!r} has {sample.n_sampled} lines with the words a prefix needs on every "
            f"side ({', '.join(map(str, files.values()))}), fewer than config sampling.n_sentences ({wanted}): "
            f"all {sample.n_sampled} are used"
        )
    return sample


def sample_digest(testset):
    """The digest of everything test set `testset` prepares, or None (local_sources)."""
    sample = prepared_sample(testset)
    return sample and sample.sha256


def side_digest(testset, lang):
    """The digest of the sentences (and their lines) test set `testset` prepares for `lang`,
    or None."""
    sample = prepared_sample(testset)
    return sample and sample.sides[lang]


def sampling_settings(testset):
    """What a test set's sample depends on besides its files' contents, for the params of the
    jobs that prepare it where no digest of the files stands for it (downloads), else None:
    a setting that leaves the prepared sentences as they are re-runs nothing."""
    if local_sources(testset) is not None:
        return None
    return {"langs": TESTSETS[testset]["langs"], "sampling": config["sampling"], "prefixes": config["prefixes"]}


def sources_digest(testset):
    """sha256 of a test set's local files, or None (local_sources)."""
    files = local_sources(testset)
    return None if files is None else testsets.files_digest(list(files.values()))


def names_regex(names):
    """A wildcard constraint matching exactly these names (none: matching nothing)."""
    return "|".join(map(re.escape, names)) or "(?!)"


wildcard_constraints:
    testset=names_regex(TESTSETS),
    model=names_regex(MODELS),
    layer=r"\d+",
    method=names_regex(METHODS),
    lang=r"[A-Za-z0-9_-]+",
    src=r"[A-Za-z0-9_-]+",
    tgt=r"[A-Za-z0-9_-]+",


def layer_tag(layer):
    """A layer as it appears in file names ("03"); a wildcard ("{layer}", in a rule's output)
    is kept as it is."""
    return layer if str(layer).startswith("{") else f"{int(layer):02d}"


def testset_source(testset, lang):
    if config["data"]["source"] == "sacrebleu":
        return f"resources/testsets/{testset}/{lang}.txt"
    return f"{config['data']['local_dir']}/{TESTSETS[testset]['dir']}/{lang}.txt"


def testset_dir(testset):
    """The prepared test set: what one `prepare_testset` job writes (a `directory()` output,
    as the number of sides varies between test sets), the files below."""
    return f"results/testsets/{testset}"


def sentences_path(testset, lang):
    """A side's sampled, cleaned sentences (`prepare_side`): a file per side, apart from the
    test set's folder, so that a side's snapshot depends on that side only."""
    return f"results/sentences/{testset}/{lang}.txt"


def side_line_numbers_path(testset, lang):
    """The source lines of a side's sentences (the test set's sample), for its messages."""
    return f"results/sentences/{testset}/{lang}.{testsets.LINE_NUMBERS}"


def heldout_dir(testset):
    """Sentences of eligible lines outside the sample, for held-out evaluation (the causal
    test): apart from the prepared test set, so that their settings re-run nothing else."""
    return f"results/heldout/{testset}"


def heldout_path(testset, lang):
    return f"{heldout_dir(testset)}/{lang}.txt"


def line_numbers_path(testset):
    return f"{testset_dir(testset)}/{testsets.LINE_NUMBERS}"


def eligibility_path(testset):
    """Per side of a test set, its source lines with too few words for a prefix."""
    return f"{testset_dir(testset)}/eligibility.tsv"


def model_input(model):
    """The directory a rule builds (GGUF, random init); nothing for hub ids (fetched by the job)."""
    spec = MODELS[model]
    return [spec.path] if spec.built else []


def snapshot_dir(model, testset, lang):
    """The shards of one side: what one `snapshot` job writes (a `directory()` output, as the
    analysed layers vary between models), one file per layer."""
    return f"results/snapshots/{model}/{testset}/{lang}"


def shard_path(model, testset, lang, layer):
    return f"{snapshot_dir(model, testset, lang)}/layer{layer_tag(layer)}.h5"


def layer_shard(wildcards):
    """The shard a per-layer job of one side reads (its input is the side's folder)."""
    return shard_path(wildcards.model, wildcards.testset, wildcards.lang, wildcards.layer)


def pair_shards(wildcards):
    """The two shards of the layer a distance job compares (its inputs are the sides' folders),
    source side first."""
    return [
        shard_path(wildcards.model, wildcards.testset, lang, wildcards.layer) for lang in (wildcards.src, wildcards.tgt)
    ]


# Per-layer files of each stage: its rule's output, read by the next stage and by the report.
def layer_stats_path(model, method, testset, lang, layer):
    return f"results/metrics/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.tsv"


def sentence_sums_path(model, method, testset, lang, layer):
    return f"results/metrics/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.npz"


def distance_layer_path(model, method, testset, src, tgt, layer):
    return f"results/metrics/{model}/{method}/distance/{testset}/{src}/{tgt}/layer{layer_tag(layer)}.tsv"


def rank_correlation_layer_path(model, method, layer):
    return f"results/metrics/{model}/{method}/rank_correlation/layer{layer_tag(layer)}.tsv"


def language_probabilities_path(model, method, layer):
    return f"results/metrics/{model}/{method}/language_neurons/layer{layer_tag(layer)}.npz"


def causal_findings_path(model):
    return f"results/causal_test/{model}.md"


def causal_path(model, language):
    """Per-sentence NLL of every language with `language`'s neurons (and random ones) off."""
    return f"results/metrics/{model}/causal/{language}.npz"


def rsa_layer_path(model, method, testset, lang, layer):
    return f"results/metrics/{model}/{method}/rsa/{testset}/{lang}/layer{layer_tag(layer)}.h5"


def heatmap_path(model, method, testset, lang, layer):
    return f"results/heatmaps/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.npz"


def table_path(model, table):
    """A per-model table (schemas.TABLES scope "model")."""
    return f"results/tables/{model}/{table}.tsv"


def run_table_path(table):
    """A table of the whole run (schemas.TABLES scope "run")."""
    return f"results/tables/{table}.tsv"


def all_tables():
    """Every table of the run, as the rule files that write them list them; the figures and
    the summary are drawn from these."""
    return (
        SIDES_TABLES + METRIC_TABLES + DISTANCE_TABLES + RANK_CORRELATION_TABLES + LANGUAGE_NEURON_TABLES + RSA_TABLES
    )
