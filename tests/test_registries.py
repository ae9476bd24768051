"""The registries of figures, methods, sides and table schemas agree with what they name."""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from ffnscope.distance import PAIRINGS
from ffnscope.figures import FIGURES, HEATMAPS
from ffnscope.methods import METHODS, firing_rule_for, method
from ffnscope.metrics import firing_rule
from ffnscope.neurons import FAMILIES, ROLES, source
from ffnscope.plots.draw import draw_function
from ffnscope.schemas import MODEL_TABLES, TABLES, TEXT_COLUMNS, table
from ffnscope.shards import PRE_ACTIVATION, SUBLAYERS
from ffnscope.sides import ENGLISH, Side, check_sides, english_sides, is_english, lang_of, pair_label, side_name

REPO = Path(__file__).resolve().parents[1]
REGISTRIES = ("ffnscope.sides", "ffnscope.methods", "ffnscope.schemas", "ffnscope.figures")
HEAVY = ("numpy", "pandas", "scipy", "h5py", "torch", "matplotlib")


# --- figures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fig", FIGURES.values(), ids=FIGURES)
def test_figure_entry_names_what_exists(fig):
    draw = draw_function(fig)
    keywords = {name for name, p in inspect.signature(draw).parameters.items() if p.kind == p.KEYWORD_ONLY}
    assert set(fig.settings) | set(fig.options) <= keywords
    assert (REPO / fig.caption).is_file()
    assert fig.table in TABLES or fig.table == HEATMAPS
    assert fig.sublayer is None or fig.sublayer in SUBLAYERS
    assert fig.stem.startswith(f"{fig.id}_")
    assert fig.panel_layers in ("all", "first")


def test_every_figure_caption_has_an_entry():
    captions = [p.stem for p in (REPO / "report").glob("*.rst") if p.stem not in ("summary", "job_resources")]
    assert sorted(FIGURES) == sorted(captions)
    assert all(key == fig.id for key, fig in FIGURES.items())
    assert len({fig.stem for fig in FIGURES.values()}) == len(FIGURES)


# --- methods -----------------------------------------------------------------------------------


def test_unknown_method_names_the_valid_ones():
    assert method("authors_code") is METHODS["authors_code"]
    with pytest.raises(ValueError, match=r"^unknown method 'gelu'; valid: paper, authors_code$"):
        method("gelu")


@pytest.mark.parametrize("m", METHODS.values(), ids=METHODS)
def test_method_fields_are_valid(m):
    for family in FAMILIES:  # every method has a neuron value for every FFN family and role
        for role in ROLES:
            datasets = {source(sl, m.name, role, family, "gelu").dataset for sl in SUBLAYERS}
            assert datasets <= {*SUBLAYERS, PRE_ACTIVATION}
    if m.firing_rule is not None:
        firing_rule(m.firing_rule)
    assert m.distance_pairings and set(m.distance_pairings) <= set(PAIRINGS)
    assert m.rsa_diagonal_weight in (1, 2)


def test_firing_rule_for():
    assert firing_rule_for("paper", "> 0") == "> 0"
    assert firing_rule_for("authors_code", "> 0") == "!= 0"


# --- sides -------------------------------------------------------------------------------------


def test_side_names_round_trip():
    assert Side("wmt14-de-en", "de").name == side_name("wmt14-de-en", "de") == "wmt14-de-en/de"
    assert Side.parse("flores/dev/deu_Latn") == Side("flores/dev", "deu_Latn")  # a test set name may hold "/"
    assert lang_of("wmt14-de-en/en") == ENGLISH and is_english(lang_of("wmt14-de-en/en"))
    assert not is_english("de")


@pytest.mark.parametrize("name", ["", "en", "/en", "wmt14-de-en/", "/"])
def test_malformed_side_names_are_refused(name):
    with pytest.raises(ValueError, match=rf"^{name!r} is not a side: expected 'testset/lang'$"):
        Side.parse(name)


def test_english_and_configured_sides():
    sides = [("a", "de"), ("a", "en"), ("b", "hi"), ("b", "en")]
    assert english_sides(sides) == [Side("a", "en"), Side("b", "en")]
    assert check_sides(["b/hi"], sides, "rsa.side") == [Side("b", "hi")]
    with pytest.raises(ValueError, match=r"^config heatmaps.sides: \['c/fr'\] are not configured sides; valid: a/de, "):
        check_sides(["a/de", "c/fr"], sides, "heatmaps.sides")


@pytest.mark.parametrize(
    ("a", "b", "joiner", "label"),
    [
        ("wmt14-de-en/de", "wmt14-de-en/en", " vs ", "de vs en"),
        ("wmt14-cs-en/en", "wmt14-de-en/en", " vs ", "wmt14-cs-en vs wmt14-de-en"),
        ("wmt14-hi-en/hi", "wmt14-hi-en/en", " \u2192 ", "hi \u2192 en"),
        ("wmt14-de-en/de", "wmt14-hi-en/hi", " vs ", "de vs hi"),
    ],
)
def test_pair_label(a, b, joiner, label):
    assert pair_label(a, b, joiner) == label


# --- table schemas -----------------------------------------------------------------------------


@pytest.mark.parametrize("t", TABLES.values(), ids=TABLES)
def test_table_keys_are_columns(t):
    assert len(set(t.columns)) == len(t.columns)
    assert t.keys and set(t.keys) <= set(t.columns)
    assert t.scope in ("model", "run", "layer")


def test_table_registry():
    assert MODEL_TABLES == (
        "activation_frequency",
        "flatness",
        "representation_distance",
        "rank_correlation",
        "language_neurons",
        "language_neuron_counts",
        "language_neuron_overlap",
    )
    assert set(TEXT_COLUMNS) <= {c for t in TABLES.values() for c in t.columns}
    assert table("rsa") is TABLES["rsa"]
    with pytest.raises(ValueError, match=r"^unknown table 'distance'; valid: layer_stats, activation_frequency, "):
        table("distance")


# --- all four ----------------------------------------------------------------------------------


def test_registries_import_no_heavy_module():
    """The Snakefile imports the registries while parsing, in every cluster job too."""
    code = f"import sys\nimport {', '.join(REGISTRIES)}\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert [m for m in HEAVY if f"'{m}'" in loaded] == []
