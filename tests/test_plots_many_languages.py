"""The per-layer figures with many languages (ffnscope.plots.grids): an N-way FLORES-200 test
set of 29 sides as heat maps and language x language matrices, the WMT14 setup as lines."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ffnscope.figures import FIGURES
from ffnscope.plots import (
    make_activation_frequency_figure,
    make_distance_figure,
    make_flatness_figure,
    make_rank_correlation_figure,
    save_figure,
)
from ffnscope.plots.grids import MAX_LINES, language_name, matrix_layers, side_labels
from ffnscope.sides import parse_language

# The FLORES-200 devtest files of ../shared/data/flores/devtest, by name.
FLORES = (
    "arb_Arab bul_Cyrl ces_Latn deu_Latn ell_Grek eng_Latn est_Latn eus_Latn fin_Latn fra_Latn hat_Latn "
    "hin_Deva ind_Latn ita_Latn jpn_Jpan kor_Hang mya_Mymr por_Latn quy_Latn rus_Cyrl spa_Latn swh_Latn "
    "tam_Taml tel_Telu tha_Thai tur_Latn urd_Arab vie_Latn zho_Hans"
).split()
REPO = Path(__file__).resolve().parents[1]
SET = "flores-devtest"
MODELS = ["xglm-564M", "xglm-1.7B"]
LAYERS = range(5)
# Language names sorted, as the rows and matrix axes show them (`language` columns present).
NAMES = [
    "Arabic",
    "Ayacucho Quechua (Latin)",
    "Basque",
    "Bulgarian",
    "Burmese",
    "Chinese (Simplified)",
    "Czech",
    "English",
    "Estonian",
    "Finnish",
    "French",
    "German",
    "Greek",
    "Haitian Creole",
    "Hindi",
    "Indonesian",
    "Italian",
    "Japanese",
    "Korean (Hangul)",
    "Portuguese",
    "Russian",
    "Spanish",
    "Swahili",
    "Tamil",
    "Telugu",
    "Thai",
    "Turkish",
    "Urdu",
    "Vietnamese",
]


def language(code):
    """The normalised language subtag as the tables carry it: eng_Latn -> en, zho_Hans -> zh."""
    return parse_language(code).language


def script(code):
    return parse_language(code).script


def value(i, layer):
    """A distinct value per (side or pair i, layer)."""
    return 0.5 + 0.01 * i + 0.001 * layer


@pytest.fixture
def stats():
    rows = [
        {
            "model": model,
            "method": "paper",
            "testset": SET,
            "lang": code,
            "language": language(code),
            "script": script(code),
            "sublayer": "detector",
            "layer": layer,
            "mean": value(i, layer),
            "std": 0.1,
            "ci_low": value(i, layer) - 0.01,
            "ci_high": value(i, layer) + 0.01,
            "flatness": 100 * value(i, layer),
            "flatness_mean": value(i, layer),
            "mean_ci_low": 0.0,
            "mean_ci_high": 1.0,
            "firing_rule": "> 0",
            "neuron_value": "w2_input",
        }
        for model in MODELS
        for i, code in enumerate(FLORES)
        for layer in LAYERS
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def distance():
    """28 languages to English, parallel and shuffled."""
    rows = [
        {
            "model": model,
            "method": "paper",
            "metric": "euclidean",
            "testset": SET,
            "src_lang": code,
            "tgt_lang": "eng_Latn",
            "src_language": language(code),
            "tgt_language": "en",
            "src_script": script(code),
            "tgt_script": "Latn",
            "sublayer": "detector",
            "layer": layer,
            "pairing": pairing,
            "distance": 100 * value(i, layer) + offset,
            "ci_low": np.nan,
            "ci_high": np.nan,
        }
        for model in MODELS
        for i, code in enumerate(c for c in FLORES if c != "eng_Latn")
        for pairing, offset in (("parallel", 0.0), ("shuffled", 50.0))
        for layer in LAYERS
    ]
    return pd.DataFrame(rows)


def rank_rows(pairs, comparison="cross_language", pairings=("parallel",), layers=LAYERS, models=MODELS):
    return pd.DataFrame(
        [
            {
                "model": model,
                "method": "paper",
                "comparison": comparison,
                "side_a": f"{SET}/{a}",
                "side_b": f"{SET}/{b}",
                "language_a": language(a),
                "language_b": language(b),
                "script_a": script(a),
                "script_b": script(b),
                "sublayer": "combinator",
                "layer": layer,
                "pairing": pairing,
                "rho": value(i, layer) - (0.3 if pairing == "non_parallel" else 0.0),
                "ci_low": np.nan,
                "ci_high": np.nan,
            }
            for model in models
            for i, (a, b) in enumerate(pairs)
            for pairing in pairings
            for layer in layers
        ]
    )


def cells(ax):
    """The values of a panel's image, NaN where no value was drawn."""
    return np.ma.filled(ax.images[0].get_array(), np.nan)


def panels(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def colorbar_label(fig):
    return next(ax for ax in fig.axes if ax.get_label() == "<colorbar>").get_ylabel()


def visible_labels(labels):
    return [t for t in labels if t.get_visible() and t.get_text()]


def assert_no_overlap(fig):
    """Drawn, no two tick labels of an axis of a panel overlap, and the row labels stay left
    of the cells."""
    FigureCanvasAgg(fig).draw()
    for ax in panels(fig):
        for labels, lo, hi in ((ax.get_yticklabels(), "y0", "y1"), (ax.get_xticklabels(), "x0", "x1")):
            boxes = sorted(
                (getattr(b, lo), getattr(b, hi)) for b in (t.get_window_extent() for t in visible_labels(labels))
            )
            assert all(end <= start for (_, end), (start, _) in zip(boxes, boxes[1:])), ax.get_title()
        cells = ax.get_window_extent()
        assert all(t.get_window_extent().x1 <= cells.x0 for t in visible_labels(ax.get_yticklabels()))


def test_language_names():
    assert (
        language_name("zh", "Hans") == "Chinese (Simplified)" and language_name("zh", "Hant") == "Chinese (Traditional)"
    )
    assert language_name("ar", "Arab") == "Arabic" and language_name("ar") == "Arabic"
    assert [language_name(t) for t in ("qaa", "", None, float("nan"))] == [None] * 4


def test_side_labels_tell_every_side_apart():
    df = pd.DataFrame({"side": ["f/zho_Hans", "f/cmn", "f/eng_Latn", "f/qaa"], "language": ["zh", "zh", "en", "qaa"]})
    assert side_labels(df, [("side", "language", "script")]) == {
        "f/zho_Hans": "Chinese (Simplified) (zho_Hans)",
        "f/cmn": "Chinese (Simplified) (cmn)",
        "f/eng_Latn": "English (eng_Latn)",
        "f/qaa": "qaa",
    }
    wmt = pd.DataFrame({"side": ["wmt14-de-en/en", "wmt14-hi-en/en", "wmt14-de-en/de"], "language": "en"})
    wmt.loc[2, "language"] = "de"
    assert side_labels(wmt, [("side", "language", "script")]) == {
        "wmt14-de-en/en": "English (wmt14-de-en)",
        "wmt14-hi-en/en": "English (wmt14-hi-en)",
        "wmt14-de-en/de": "German (wmt14-de-en)",
    }
    assert side_labels(wmt.drop(columns="language"), [("side", "language", "script")]) == {
        "wmt14-de-en/en": "en (wmt14-de-en)",
        "wmt14-hi-en/en": "en (wmt14-hi-en)",
        "wmt14-de-en/de": "de (wmt14-de-en)",
    }


def test_matrix_layers_first_middle_last():
    assert matrix_layers([0, 1, 2, 3, 4]) == [0, 2, 4]
    assert matrix_layers(range(24)) == [0, 12, 23]
    assert matrix_layers([7, 3]) == [3, 7]


def test_29_sides_draw_a_side_by_layer_heat_map_per_model(stats):
    fig = make_activation_frequency_figure(stats, "detector")
    assert [ax.get_title() for ax in panels(fig)] == MODELS
    assert fig.legends == [] and not any(ax.lines for ax in panels(fig))
    ax = panels(fig)[0]
    grid = cells(ax)
    assert grid.shape == (len(FLORES), len(LAYERS))
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    english = FLORES.index("eng_Latn")
    np.testing.assert_allclose(grid[NAMES.index("English")], [value(english, k) for k in LAYERS])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    assert ax.get_xlabel() == "Layer"
    assert colorbar_label(fig) == "Activation frequency"
    assert not any(t.get_visible() for t in panels(fig)[1].get_yticklabels())  # labels in the first column only
    assert "firing rule: > 0" in fig.get_suptitle()
    assert_no_overlap(fig)
    fig = make_flatness_figure(stats, "detector", flatness_value="flatness_mean")
    assert colorbar_label(fig) == "Activation flatness / prefix"
    assert panels(fig)[0].images[0].get_array().shape == (29, 5)


def test_rows_keep_their_codes_without_language_columns(stats):
    fig = make_flatness_figure(stats.drop(columns=["language", "script"]), "detector")
    assert [t.get_text() for t in panels(fig)[0].get_yticklabels()] == FLORES


def test_up_to_max_lines_sides_stay_lines(stats):
    """The WMT14 paper setup (8 sides) and any run of up to MAX_LINES sides: one line per side."""
    few = stats[stats["lang"].isin(FLORES[:MAX_LINES])]
    fig = make_activation_frequency_figure(few, "detector")
    assert [len(ax.lines) for ax in fig.axes] == [MAX_LINES] * 2 and not fig.axes[0].images
    assert fig.axes[0].lines[0].get_label() == f"{SET}/arb_Arab"
    one_more = stats[stats["lang"].isin(FLORES[: MAX_LINES + 1])]
    assert panels(make_activation_frequency_figure(one_more, "detector"))[0].images[0].get_array().shape == (11, 5)


def test_28_distances_to_english_draw_a_heat_map_per_model_and_pairing(distance):
    fig = make_distance_figure(distance, "detector")
    assert [ax.get_title() for ax in panels(fig)] == [
        "xglm-564M, parallel pairs",
        "xglm-564M, shuffled pairs (control)",
        "xglm-1.7B, parallel pairs",
        "xglm-1.7B, shuffled pairs (control)",
    ]
    parallel, shuffled = (ax.images[0] for ax in panels(fig)[:2])
    rows = [t.get_text() for t in panels(fig)[0].get_yticklabels()]
    assert rows == [f"{name} \u2192 English" for name in NAMES if name != "English"]
    german = [c for c in FLORES if c != "eng_Latn"].index("deu_Latn")
    np.testing.assert_allclose(
        shuffled.get_array()[rows.index("German \u2192 English")], [100 * value(german, k) + 50.0 for k in LAYERS]
    )
    assert parallel.norm is shuffled.norm  # one colour scale: the control is comparable
    assert (parallel.norm.vmin, parallel.norm.vmax) == pytest.approx((50.0, 100 * value(27, 4) + 50.0))
    assert colorbar_label(fig) == "Summed minimum euclidean distance"
    assert_no_overlap(fig)


def test_every_pair_of_29_languages_draws_matrices_at_three_layers():
    fig = make_rank_correlation_figure(
        rank_rows(list(itertools.combinations(FLORES, 2))), "combinator", comparison="cross_language"
    )
    assert [ax.get_title() for ax in panels(fig)] == [f"{m}, layer {k}" for m in MODELS for k in (0, 2, 4)]
    ax = panels(fig)[3]  # xglm-1.7B, layer 0: the bottom row, which carries the x labels
    matrix = cells(ax)
    assert matrix.shape == (29, 29)
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES == [t.get_text() for t in ax.get_yticklabels()]
    assert np.isnan(np.diag(matrix)).all() and np.count_nonzero(~np.isnan(matrix)) == 29 * 28
    np.testing.assert_array_equal(matrix, matrix.T)
    i, j = NAMES.index("English"), NAMES.index("German")
    pair = list(itertools.combinations(FLORES, 2)).index(("deu_Latn", "eng_Latn"))
    assert matrix[i, j] == pytest.approx(value(pair, 0))
    assert colorbar_label(fig) == "Spearman \u03c1 of neuron activation sums"
    assert not any(t.get_visible() for t in panels(fig)[0].get_xticklabels())  # not above another panel
    assert "between languages" in fig.get_suptitle() and fig.get_supxlabel() == ""
    assert_no_overlap(fig)


def test_matrices_put_the_control_below_the_diagonal():
    pairs = list(itertools.combinations(FLORES[:12], 2))
    fig = make_rank_correlation_figure(
        rank_rows(pairs, "parallel", ("parallel", "non_parallel")), "combinator", comparison="parallel"
    )
    matrix = cells(panels(fig)[0])
    upper, lower = np.triu_indices(12, 1), np.tril_indices(12, -1)
    np.testing.assert_allclose(matrix[upper] - matrix.T[upper], 0.3)
    assert not np.isnan(matrix[lower]).any()
    assert fig.get_supxlabel() == "Above the diagonal: parallel pairs; below: non-parallel halves (control)"


def test_matrix_rows_of_models_with_fewer_layers_leave_their_cells_empty():
    pairs = list(itertools.combinations(FLORES[:12], 2))
    rows = pd.concat([rank_rows(pairs, models=["m1"]), rank_rows(pairs, layers=[0, 1], models=["m2"])])
    fig = make_rank_correlation_figure(rows, "combinator", comparison="cross_language")
    assert [ax.get_title() for ax in panels(fig)] == [
        "m1, layer 0",
        "m1, layer 2",
        "m1, layer 4",
        "m2, layer 0",
        "m2, layer 1",
    ]
    shows_x = [any(t.get_visible() for t in ax.get_xticklabels()) for ax in panels(fig)]
    assert shows_x == [False, False, True, True, True]  # m1's last column has no panel below
    assert_no_overlap(fig)


def test_pairs_with_one_language_in_common_draw_a_pair_heat_map():
    pairs = [(c, "eng_Latn") for c in FLORES if c != "eng_Latn"]
    fig = make_rank_correlation_figure(rank_rows(pairs), "combinator", comparison="cross_language")
    ax = panels(fig)[0]
    assert ax.images[0].get_array().shape == (28, 5) and ax.get_title() == "xglm-564M"
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == [
        "Arabic vs English",
        "Ayacucho Quechua (Latin) vs English",
    ]


def test_a_pair_measured_both_ways_has_no_matrix_cell():
    pairs = list(itertools.combinations(FLORES[:6], 2))
    with pytest.raises(ValueError, match="paired twice"):
        make_rank_correlation_figure(
            rank_rows(pairs + [(b, a) for a, b in pairs]), "combinator", comparison="cross_language"
        )


def test_many_language_figures_save(stats, tmp_path):
    save_figure(make_activation_frequency_figure(stats, "detector"), [tmp_path / "fig02.png"])
    assert (tmp_path / "fig02.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("figure", [f for f in FIGURES.values() if f.draw.startswith("lines.")], ids=lambda f: f.id)
def test_captions_say_when_the_many_language_form_is_drawn(figure):
    """Every figure of ffnscope.plots.lines turns into a form of ffnscope.plots.grids beyond
    MAX_LINES series, and its caption says so."""
    caption = " ".join((REPO / figure.caption).read_text().split())
    assert f"Many languages: with more than {MAX_LINES} " in caption
