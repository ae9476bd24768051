# Config validation, wildcard constraints, path builders and input functions.
import re
from dataclasses import dataclass

from snakemake.utils import validate

from ffnscope.rankcorr import ENGLISH, side_name, split_side
from ffnscope.rsa import model_pairs
from ffnscope.testsets import pair_languages

validate(config, schema="../config/schema.yaml")

TESTSETS = {t["name"]: t for t in config["testsets"]}
# Every analysis runs once per method; outputs of the methods live side by side.
METHODS = list(dict.fromkeys(config["metrics"]["methods"]))
SNAP = config["snapshot"]


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


def _model_spec(entry, entries):
    layers = tuple(entry.get("layers") or range(entry["n_layers"]))
    bad = [l for l in layers if l >= entry["n_layers"]]
    if bad:
        raise ValueError(f"config models[name={entry['name']}].layers: {bad} >= n_layers {entry['n_layers']}")
    gguf = entry.get("gguf_package", "")
    random_init = entry.get("random_init", {})
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
        path=f"resources/models/{entry['name']}" if gguf or random_init else entry["path"],
        revision=entry.get("revision", ""),
        n_layers=entry["n_layers"],
        layers=layers,
        gguf_package=gguf,
        size_gb=entry.get("size_gb", like.get("size_gb", 1.0)),
        random_like=random_init.get("like", ""),
        random_seed=random_init.get("seed", 0),
    )


_MODEL_ENTRIES = {m["name"]: m for m in config["models"]}
MODELS = {name: _model_spec(m, _MODEL_ENTRIES) for name, m in _MODEL_ENTRIES.items()}
SIDES = [(t, lang) for t in TESTSETS for lang in TESTSETS[t]["langs"]]


wildcard_constraints:
    testset="|".join(map(re.escape, TESTSETS)),
    model="|".join(map(re.escape, MODELS)),
    layer=r"\d+",
    method="|".join(METHODS),
    lang=r"[A-Za-z0-9_-]+",


def layer_tag(layer):
    return f"{int(layer):02d}"


def sentences_path(testset, lang):
    return f"results/testsets/{testset}/{lang}.txt"


def shard_path(model, testset, lang, layer):
    return f"results/snapshots/{model}/{testset}/{lang}/layer{layer_tag(layer)}.h5"


def layer_stats_path(model, method, testset, lang, layer):
    return f"results/metrics/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.tsv"


def table_path(model, table):
    return f"results/tables/{model}/{table}.tsv"


def all_tables():
    """Every table of the run; the figures and the summary are drawn from these."""
    return (
        [table_path(m, t) for m in MODELS for t in ("activation_frequency", "flatness")]
        + distance_targets()
        + rank_correlation_targets()
        + rsa_targets()
    )


def testset_source(testset, lang):
    if config["data"]["source"] == "sacrebleu":
        return f"resources/testsets/{testset}/{lang}.txt"
    return f"{config['data']['local_dir']}/{TESTSETS[testset]['dir']}/{lang}.txt"


def model_input(model):
    """The directory a rule builds (GGUF, random init); nothing for hub ids (fetched by the job)."""
    spec = MODELS[model]
    return [spec.path] if spec.built else []


def names_regex(names):
    """A wildcard constraint matching exactly these names (none: matching nothing)."""
    return "|".join(map(re.escape, names)) or "(?!)"


# Cluster resources, read by the SLURM profile (slurm/): partition, account and GPU model come
# from config `cluster`, never from rule files. Memory and time are multiplied by `attempt`, so
# a job that failed (out of memory, timeout) is retried (`--retries`) with more of both.
CLUSTER = config["cluster"]


def _account():
    return {"slurm_account": CLUSTER["account"]} if CLUSTER["account"] else {}


def scaled_by_model_size(size_gb):
    """Memory and time of a job that holds a float32 copy of a model of `size_gb(wildcards)`
    GB (loading it, or building it): both grow with the model."""
    return {
        "mem_mb": lambda wildcards, attempt: int((4000 + 3000 * size_gb(wildcards)) * attempt),
        "runtime": lambda wildcards, attempt: int((30 + 20 * size_gb(wildcards)) * attempt),
    }


def gpu_job_resources(spec):
    """One GPU (of `cluster.gpu_model` when set) on the GPU partition for a snapshot of model
    `spec`: host memory holds a copy of the weights while loading plus the capture buffers."""
    gpu_model = {"gpu_model": CLUSTER["gpu_model"]} if CLUSTER["gpu_model"] else {}
    return {
        "gpu": 1,
        **gpu_model,
        "slurm_partition": CLUSTER["gpu_partition"],
        **scaled_by_model_size(lambda wildcards: spec.size_gb),
        **_account(),
    }


def model_build_resources():
    """A CPU job that builds the directory of model `{model}` (random init): memory and time
    scale with the model's size_gb, as for its snapshot jobs."""
    return {
        "slurm_partition": CLUSTER["cpu_partition"],
        **scaled_by_model_size(lambda wildcards: MODELS[wildcards.model].size_gb),
        **_account(),
    }


def cpu_job_resources(base_mem_mb=1000, mem_mb_per_input_mb=2, base_minutes=15, minutes_per_input_gb=10):
    """A job on the CPU partition that reads its input (shards) once: memory and time grow with
    the input's size on disk on top of a fixed part (interpreter, one chunk of rows)."""
    return {
        "slurm_partition": CLUSTER["cpu_partition"],
        "mem_mb": lambda wildcards, input, attempt: int((base_mem_mb + mem_mb_per_input_mb * input.size_mb) * attempt),
        "runtime": lambda wildcards, input, attempt: int(
            (base_minutes + minutes_per_input_gb * input.size_mb / 1024) * attempt
        ),
        **_account(),
    }


FIGURES = {
    "fig02": {
        "stem": "fig02_activation_frequency_detectors",
        "table": "activation_frequency",
        "sublayer": "detector",
        "settings": ["sides"],
    },
    "fig03": {
        "stem": "fig03_activation_frequency_combinators",
        "table": "activation_frequency",
        "sublayer": "combinator",
        "settings": ["sides"],
    },
    "fig04": {
        "stem": "fig04_flatness_detectors",
        "table": "flatness",
        "sublayer": "detector",
        "settings": ["sides", "flatness_value"],
    },
    "fig06": {
        "stem": "fig06_flatness_combinators",
        "table": "flatness",
        "sublayer": "combinator",
        "settings": ["sides", "flatness_value"],
    },
    # Optional keys: kind (the plot, default: table), options (fixed plot arguments),
    # panel_layers (heat maps: "all" configured heat-map layers, or the "first" only),
    # method_independent (drawn once, for the first method).
    "fig05": {
        "stem": "fig05_activations_detectors",
        "table": "heatmaps",
        "kind": "activation_heatmap",
        "sublayer": "detector",
        "settings": [],
    },
    "fig07": {
        "stem": "fig07_activations_combinators",
        "table": "heatmaps",
        "kind": "activation_heatmap",
        "sublayer": "combinator",
        "settings": [],
    },
    "fig08": {
        "stem": "fig08_combinator_profiles_first_layer",
        "table": "heatmaps",
        "kind": "activation_profile",
        "sublayer": "combinator",
        "settings": [],
        "panel_layers": "first",
    },
    "fig09": {
        "stem": "fig09_distance_detectors",
        "table": "representation_distance",
        "sublayer": "detector",
        "settings": [],
    },
    "fig10": {
        "stem": "fig10_distance_combinators",
        "table": "representation_distance",
        "sublayer": "combinator",
        "settings": [],
    },
    "fig11": {"stem": "fig11_rsa_combinators", "table": "rsa", "sublayer": "combinator", "settings": []},
    "fig12": {
        "stem": "fig12_rank_correlation_detectors",
        "table": "rank_correlation",
        "sublayer": "detector",
        "settings": [],
        "options": {"comparison": "cross_language"},
    },
    "fig13": {
        "stem": "fig13_rank_correlation_combinators",
        "table": "rank_correlation",
        "sublayer": "combinator",
        "settings": [],
        "options": {"comparison": "cross_language"},
    },
    "fig14": {
        "stem": "fig14_rank_correlation_english_detectors",
        "table": "rank_correlation",
        "sublayer": "detector",
        "settings": [],
        "options": {"comparison": "intra_english"},
    },
    "fig15": {
        "stem": "fig15_rank_correlation_english_combinators",
        "table": "rank_correlation",
        "sublayer": "combinator",
        "settings": [],
        "options": {"comparison": "intra_english"},
    },
    "fig16": {
        "stem": "fig16_english_overlap",
        "table": "english_overlap",
        "sublayer": None,
        "settings": [],
        "method_independent": True,
    },
    "fig17": {
        "stem": "fig17_rank_correlation_parallel_detectors",
        "table": "rank_correlation",
        "sublayer": "detector",
        "settings": [],
        "options": {"comparison": "parallel"},
    },
    "fig18": {
        "stem": "fig18_rank_correlation_parallel_combinators",
        "table": "rank_correlation",
        "sublayer": "combinator",
        "settings": [],
        "options": {"comparison": "parallel"},
    },
}
FIGURE_FORMATS = config["figures"]["formats"]


def figure_settings(fig):
    """Only the settings a figure uses become its params, so changing one re-runs only the
    figures that read it."""
    return {key: config["figures"][key] for key in FIGURES[fig]["settings"]}


CROSS_MODEL_TABLES = ("rsa", "english_overlap")


def figure_panels(fig):
    """(model, side, layer) of each heat-map file a figure draws, in drawing order: per model
    and heat-map side, its heat-map layers (all, or the first for panel_layers "first");
    [] for figures drawn from tables."""
    spec = FIGURES[fig]
    if spec["table"] != "heatmaps":
        return []
    count = 1 if spec.get("panel_layers") == "first" else None
    return [(m, f"{t}/{l}", layer) for m in MODELS for t, l in HEATMAP_SIDES for layer in heatmap_layers(m)[:count]]


def figure_inputs(fig, method):
    """The files a figure is drawn from: its heat maps, its cross-model table, or its table of every model."""
    table = FIGURES[fig]["table"]
    if table == "heatmaps":
        return [heatmap_path(m, method, *side.split("/"), layer) for m, side, layer in figure_panels(fig)]
    if table in CROSS_MODEL_TABLES:
        return [f"results/tables/{table}.tsv"]
    return [table_path(m, table) for m in MODELS]


def figure_methods(fig):
    """A figure drawn from method-independent data (English overlap) is drawn once."""
    return METHODS[:1] if FIGURES[fig].get("method_independent") else METHODS


def figure_dir(method):
    """The paper's formulas are the primary reproduction, at the top of results/figures;
    every other method's figures sit in a subdirectory named after it."""
    return "results/figures" if method == "paper" else f"results/figures/{method}"


def figure_paths(fig, method):
    return [f"{figure_dir(method)}/{FIGURES[fig]['stem']}.{ext}" for ext in FIGURE_FORMATS]


def all_figures():
    return [path for fig in FIGURES for method in figure_methods(fig) for path in figure_paths(fig, method)]


# ---- metrics.smk: settings and paths ----
def firing_rule_for(method):
    """`metrics.firing_rule` for the paper's formulas; the authors' scripts count GELU(x) != 0."""
    return "!= 0" if method == "authors_code" else config["metrics"]["firing_rule"]


def sentence_sums_path(model, method, testset, lang, layer):
    return f"results/metrics/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.npz"


# ---- distance.smk: settings and paths ----
DISTANCE = config["distance"]


def distance_languages(testset):
    """(source, target) language of a test set under `distance.direction`."""
    return pair_languages(TESTSETS[testset]["langs"], DISTANCE["direction"], testset)


def distance_layer_path(model, method, testset, layer):
    return f"results/metrics/{model}/{method}/distance/{testset}/layer{layer_tag(layer)}.tsv"


def distance_targets():
    """Every table of this file: one representation distance table per model."""
    return [table_path(m, "representation_distance") for m in MODELS]


# ---- rankcorr.smk: settings and paths ----
def rank_correlation_layer_path(model, method, layer):
    return f"results/metrics/{model}/{method}/rank_correlation/layer{layer_tag(layer)}.tsv"


def rank_correlation_targets():
    """Every table of this file: one rank correlation table per model, the English overlap."""
    return [table_path(m, "rank_correlation") for m in MODELS] + ["results/tables/english_overlap.tsv"]


ENGLISH_TESTSETS = [t for t, lang in SIDES if lang == ENGLISH]


# ---- rsa.smk: settings and paths ----
RSA = config["rsa"]
RSA_TESTSET, RSA_LANG = split_side(RSA["side"])
if (RSA_TESTSET, RSA_LANG) not in SIDES:
    raise ValueError(
        f"config rsa.side {RSA['side']!r} is not a configured side; valid: "
        f"{', '.join(side_name(*side) for side in SIDES)}"
    )


def rsa_layer_path(model, method, layer):
    return f"results/metrics/{model}/{method}/rsa/{RSA_TESTSET}/{RSA_LANG}/layer{layer_tag(layer)}.h5"


def rsa_files():
    """method -> model -> layer -> stage-1 file."""
    return {
        method: {m: {layer: rsa_layer_path(m, method, layer) for layer in MODELS[m].layers} for m in MODELS}
        for method in METHODS
    }


def rsa_targets():
    """Every table of this file: the cross-model RSA table."""
    return ["results/tables/rsa.tsv"]


# ---- heatmaps.smk: settings and paths ----
HEATMAPS = config["heatmaps"]
HEATMAP_SIDES = [split_side(side) for side in HEATMAPS["sides"]]
_unknown = [side_name(*side) for side in HEATMAP_SIDES if side not in SIDES]
if _unknown:
    raise ValueError(
        f"config heatmaps.sides: {_unknown} are not configured sides; valid: "
        f"{', '.join(side_name(*side) for side in SIDES)}"
    )


def heatmap_layers(model):
    """heatmaps.layers[model], else the first, middle and last analysed layer. Entries for
    models not configured are ignored (a --configfile may replace the model list)."""
    analysed = MODELS[model].layers
    chosen = HEATMAPS["layers"].get(model) or [analysed[0], analysed[len(analysed) // 2], analysed[-1]]
    missing = sorted(set(chosen) - set(analysed))
    if missing:
        raise ValueError(
            f"config heatmaps.layers[{model}]: layers {missing} are not analysed for this model "
            f"(models[name={model}].layers)"
        )
    return sorted(set(chosen))


def heatmap_path(model, method, testset, lang, layer):
    return f"results/heatmaps/{model}/{method}/{testset}/{lang}/layer{layer_tag(layer)}.npz"


def heatmap_targets():
    """Every heat map: configured sides x each model's chosen layers x methods."""
    return [
        heatmap_path(m, method, t, l, layer)
        for m in MODELS
        for method in METHODS
        for t, l in HEATMAP_SIDES
        for layer in heatmap_layers(m)
    ]


# ---- summary.smk: settings and paths ----
SUMMARY_TABLES = ["activation_frequency", "flatness", "representation_distance", "rank_correlation"]


# ---- report.smk: the benchmark file of every job of the configured run ----
def benchmark_files():
    """The `benchmark:` files of this configuration's jobs (the rules' benchmark paths), so
    the resource report leaves out jobs of earlier runs with other settings."""
    files = [f"benchmarks/convert_gguf_model/{m}.tsv" for m in MODELS if MODELS[m].gguf_package]
    files += [f"benchmarks/random_init_model/{m}.tsv" for m in MODELS if MODELS[m].random_like]
    files += ["benchmarks/rsa_table/rsa.tsv"]
    for m, spec in MODELS.items():
        files += [f"benchmarks/snapshot/{m}/{t}_{lang}.tsv" for t, lang in SIDES]
        for method in METHODS:
            root = f"{m}/{method}"
            for layer in map(layer_tag, spec.layers):
                files += [f"benchmarks/layer_stats/{root}/{t}_{lang}_layer{layer}.tsv" for t, lang in SIDES]
                files += [f"benchmarks/distance_layer/{root}/{t}_layer{layer}.tsv" for t in TESTSETS]
                files += [
                    f"benchmarks/rank_correlation_layer/{root}/layer{layer}.tsv",
                    f"benchmarks/rsa_layer/{root}/{RSA_TESTSET}_{RSA_LANG}_layer{layer}.tsv",
                ]
            files += [
                f"benchmarks/heatmap/{root}/{t}_{lang}_layer{layer_tag(layer)}.tsv"
                for t, lang in HEATMAP_SIDES
                for layer in heatmap_layers(m)
            ]
    return files
