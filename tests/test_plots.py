from pathlib import Path
from types import SimpleNamespace

import jinja2
import numpy as np
import pandas as pd
import pytest
import yaml
from docutils.core import publish_parts

from ffnscope.figures import FIGURES
from ffnscope.plots import (
    HeatmapPanel,
    draw_figure,
    make_activation_frequency_figure,
    make_activation_heatmap_figure,
    make_activation_profile_figure,
    make_distance_figure,
    make_flatness_figure,
    make_overlap_figure,
    make_rank_correlation_figure,
    make_rsa_figure,
    save_figure,
)
from ffnscope.plots import heatmaps as plot_heatmaps
from ffnscope.plots.heatmaps import display_matrix, overlap_matrix, peak_columns, read_activations
from ffnscope.plots.lines import pair_labels
from ffnscope.tables import write_tsv

REPO = Path(__file__).resolve().parents[1]
MODELS = ["xglm-564M", "xglm-1.7B"]
SIDES = [("wmt14-de-en", "de"), ("wmt14-de-en", "en"), ("wmt14-hi-en", "hi")]
LAYERS = range(4)


def bands(ax, kind):
    return [c for c in ax.collections if c.get_gid() == kind]


def legend_labels(fig):
    """The legend's entries, without the blank ones that align its columns."""
    return [t.get_text() for t in fig.legends[0].get_texts() if t.get_text().strip()]


@pytest.fixture
def stats():
    """activation_frequency and flatness columns in one frame (each figure reads its own)."""
    rows = []
    for model in MODELS:
        for testset, lang in SIDES:
            for sublayer in ("detector", "combinator"):
                for layer in LAYERS:
                    rows.append(
                        {
                            "model": model,
                            "method": "paper",
                            "testset": testset,
                            "lang": lang,
                            "sublayer": sublayer,
                            "layer": layer,
                            "mean": 0.9 - 0.1 * layer,
                            "std": 0.05,
                            "ci_low": 0.89 - 0.1 * layer,
                            "ci_high": 0.91 - 0.1 * layer,
                            "flatness": 100.0 * (layer + 1),
                            "flatness_mean": 10.0 * (layer + 1),
                            "mean_ci_low": 9.0 * (layer + 1),
                            "mean_ci_high": 11.0 * (layer + 1),
                            "n_prefixes": 10,
                            "n_sentences": 2,
                            "firing_rule": "> 0",
                            "neuron_value": "w2_input",
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture
def distance():
    rows = []
    for model in MODELS:
        for testset, src in (("wmt14-de-en", "de"), ("wmt14-hi-en", "hi")):
            for pairing, offset in (("parallel", 0.0), ("shuffled", 50.0)):
                for layer in LAYERS:
                    d = 100.0 - 10 * layer + offset
                    rows.append(
                        {
                            "model": model,
                            "method": "paper",
                            "metric": "euclidean",
                            "testset": testset,
                            "src_lang": src,
                            "tgt_lang": "en",
                            "sublayer": "detector",
                            "layer": layer,
                            "pairing": pairing,
                            "distance": d,
                            "distance_mean": d / 10,
                            "ci_low": d - 2,
                            "ci_high": d + 2,
                            "n_pairs": 3,
                            "n_prefixes": 10,
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture
def rank():
    plan = [
        ("cross_language", "wmt14-de-en/de", "wmt14-de-en/en"),
        ("cross_language", "wmt14-de-en/de", "wmt14-hi-en/hi"),
        ("intra_english", "wmt14-de-en/en", "wmt14-hi-en/en"),
        ("parallel", "wmt14-de-en/de", "wmt14-de-en/en"),
        ("parallel", "wmt14-hi-en/hi", "wmt14-hi-en/en"),
    ]
    rows = []
    for model in MODELS:
        for comparison, a, b in plan:
            for pairing in ("parallel", "non_parallel") if comparison == "parallel" else ("parallel",):
                for layer in LAYERS:
                    rho = 0.8 - 0.1 * layer - (0.3 if pairing == "non_parallel" else 0.0)
                    rows.append(
                        {
                            "model": model,
                            "method": "paper",
                            "comparison": comparison,
                            "side_a": a,
                            "side_b": b,
                            "sublayer": "combinator",
                            "layer": layer,
                            "pairing": pairing,
                            "rho": rho,
                            "p_value": 0.01,
                            "ci_low": np.nan,
                            "ci_high": np.nan,
                            "n_sentences": 3,
                        }
                    )
    return pd.DataFrame(rows)


def test_frequency_figure_panels_lines_and_both_bands(stats):
    fig = make_activation_frequency_figure(stats, "detector")
    assert [ax.get_title() for ax in fig.axes] == MODELS
    for ax in fig.axes:
        assert [line.get_label() for line in ax.lines] == ["wmt14-de-en/de", "wmt14-de-en/en", "wmt14-hi-en/hi"]
        np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.9, 0.8, 0.7, 0.6])
        assert len(bands(ax, "std")) == 3 and len(bands(ax, "ci")) == 3
        assert ax.get_xlabel() == "Layer"
    # std band = mean +/- std, CI band = [ci_low, ci_high]
    std_band = bands(fig.axes[0], "std")[0].get_paths()[0].vertices[:, 1]
    ci_band = bands(fig.axes[0], "ci")[0].get_paths()[0].vertices[:, 1]
    assert std_band.min() == pytest.approx(0.55) and std_band.max() == pytest.approx(0.95)
    assert ci_band.min() == pytest.approx(0.59) and ci_band.max() == pytest.approx(0.91)
    assert fig.axes[0].get_ylabel() == "Activation frequency"
    title = fig.get_suptitle()
    assert "detector" in title and "method: paper" in title and "firing rule: > 0" in title
    assert "neuron value: w2_input" in title
    assert legend_labels(fig) == [
        "wmt14-de-en/de",
        "wmt14-de-en/en",
        "wmt14-hi-en/hi",
        "\u00b11 std over neurons",
        "95 % bootstrap CI over sentences",
    ]
    assert [line.get_color() for line in fig.axes[0].lines] == [line.get_color() for line in fig.axes[1].lines]


def test_frequency_that_cannot_vary_says_why_in_the_title(stats):
    reason = "gelu_pytorch_tanh is non-zero for every non-zero input: ~1.0 by construction"
    fig = make_activation_frequency_figure(stats.assign(not_measurable=reason), "detector")
    for ax in fig.axes:  # every panel says so across its lines
        assert (
            " ".join(t.get_text() for t in ax.texts).split() == f"NOT MEASURABLE on this architecture: {reason}".split()
        )
    assert not make_activation_frequency_figure(stats, "detector").axes[0].texts


def test_no_ci_band_when_intervals_are_off(stats):
    fig = make_activation_frequency_figure(stats.assign(ci_low=np.nan, ci_high=np.nan), "detector")
    assert bands(fig.axes[0], "ci") == [] and len(bands(fig.axes[0], "std")) == 3
    assert "95 % bootstrap CI over sentences" not in legend_labels(fig)


def test_legend_keys_get_a_column_of_their_own(distance):
    fig = make_distance_figure(distance, "detector")  # 2 panels: 3 legend columns fit
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert fig.legends[0]._ncols == 2
    assert texts == [
        "de \u2192 en",
        "hi \u2192 en",
        " ",
        "parallel pairs",
        "shuffled pairs (control)",
        "95 % bootstrap CI over sentences",
    ]


def test_long_legends_grow_the_figure():
    """10 language pairs under one 6.5-inch panel: the CI key takes 0.7 + 32 * 0.085 = 3.42
    inches, leaving room for int(3.08 / (0.7 + 8 * 0.085)) = 2 columns of pairs: 5 rows, 2
    more than the 3 reserved, so the figure is 2 * 0.25 inches taller than 3.2 + 0.9."""
    langs = ["cs", "de", "en", "fr", "hi"]
    rows = [
        {
            "model": "m",
            "method": "paper",
            "comparison": "cross_language",
            "side_a": f"t{a}/{a}",
            "side_b": f"t{b}/{b}",
            "sublayer": "detector",
            "layer": k,
            "pairing": "parallel",
            "rho": 0.5,
            "ci_low": 0.4,
            "ci_high": 0.6,
        }
        for i, a in enumerate(langs)
        for b in langs[i + 1 :]
        for k in range(3)
    ]
    fig = make_rank_correlation_figure(pd.DataFrame(rows), "detector", comparison="cross_language")
    assert fig.legends[0]._ncols == 3 and len(legend_labels(fig)) == 11
    assert fig.get_figheight() == pytest.approx(4.6) and fig.get_figwidth() == 6.5


def test_grid_for_more_than_three_models(stats):
    many = pd.concat([stats.assign(model=f"m{i}") for i in range(5)], ignore_index=True)
    fig = make_flatness_figure(many, "combinator")
    assert len(fig.axes) == 5
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes} == {(2, 3)}
    fig = make_flatness_figure(many[many["model"] != "m4"], "combinator")
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes} == {(2, 2)}


def test_flatness_value_bands_and_sides(stats):
    fig = make_flatness_figure(stats, "combinator", flatness_value="flatness_mean", sides=["wmt14-hi-en/hi"])
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["wmt14-hi-en/hi"]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [10, 20, 30, 40])
    ys = bands(fig.axes[0], "ci")[0].get_paths()[0].vertices[:, 1]
    assert (ys.min(), ys.max()) == pytest.approx((9.0, 44.0))  # mean_ci_* columns
    assert fig.axes[0].get_ylabel() == "Activation flatness / prefix"
    fig = make_flatness_figure(stats.assign(ci_low=1.0, ci_high=500.0), "combinator")
    assert fig.axes[0].get_ylabel() == "Activation flatness A (eq. 1)"
    ys = bands(fig.axes[0], "ci")[0].get_paths()[0].vertices[:, 1]
    assert (ys.min(), ys.max()) == (1.0, 500.0)  # ci_* columns belong to the sum A
    with pytest.raises(ValueError, match="unknown flatness value"):
        make_flatness_figure(stats, "combinator", flatness_value="entropy")


def test_distance_figure_pairs_pairings_and_bands(distance):
    fig = make_distance_figure(distance, "detector")
    assert [ax.get_title() for ax in fig.axes] == MODELS
    ax = fig.axes[0]
    assert [(line.get_label(), line.get_linestyle()) for line in ax.lines] == [
        ("de \u2192 en", "-"),
        ("de \u2192 en", "--"),
        ("hi \u2192 en", "-"),
        ("hi \u2192 en", "--"),
    ]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [150, 140, 130, 120])
    assert ax.lines[0].get_color() == ax.lines[1].get_color() != ax.lines[2].get_color()
    assert len(bands(ax, "ci")) == 4
    assert ax.get_ylabel() == "Summed minimum euclidean distance"
    assert legend_labels(fig) == [
        "de \u2192 en",
        "hi \u2192 en",
        "parallel pairs",
        "shuffled pairs (control)",
        "95 % bootstrap CI over sentences",
    ]
    assert "Algorithm 1, euclidean" in fig.get_suptitle() and "method: paper" in fig.get_suptitle()


def test_distance_metric_choice(distance):
    both = pd.concat([distance, distance.assign(metric="cosine", distance=1.0)], ignore_index=True)
    with pytest.raises(ValueError, match="mix several metric values"):
        make_distance_figure(both, "detector")
    fig = make_distance_figure(both, "detector", metric="cosine")
    assert set(fig.axes[0].lines[0].get_ydata()) == {1.0}
    with pytest.raises(ValueError, match="metric 'manhattan'"):
        make_distance_figure(both, "detector", metric="manhattan")


def test_rank_correlation_figures_per_comparison(rank):
    fig = make_rank_correlation_figure(rank, "combinator", comparison="cross_language")
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["de vs en", "de vs hi"]
    assert all(line.get_linestyle() == "-" for line in fig.axes[0].lines)
    assert len(fig.axes[0].collections) == 0  # NaN intervals: no band
    assert "between languages" in fig.get_suptitle()
    fig = make_rank_correlation_figure(rank, "combinator", comparison="intra_english")
    assert [line.get_label() for line in fig.axes[0].lines] == ["wmt14-de-en vs wmt14-hi-en"]
    fig = make_rank_correlation_figure(rank, "combinator", comparison="parallel")
    assert [(line.get_label(), line.get_linestyle()) for line in fig.axes[1].lines] == [
        ("de vs en", "-"),
        ("de vs en", "--"),
        ("hi vs en", "-"),
        ("hi vs en", "--"),
    ]
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), [0.5, 0.4, 0.3, 0.2])
    assert legend_labels(fig)[-2:] == ["parallel pairs", "non-parallel halves (control)"]  # NaN CIs: no band entry
    sorted_rows = rank.sort_values(["pairing", "layer"])  # tables are sorted: non_parallel first
    fig = make_rank_correlation_figure(sorted_rows, "combinator", comparison="parallel")
    assert legend_labels(fig)[-2:] == ["parallel pairs", "non-parallel halves (control)"]
    with pytest.raises(ValueError, match=r"unknown pairing values \['paired'\]"):
        make_rank_correlation_figure(
            rank.replace({"pairing": {"non_parallel": "paired"}}), "combinator", comparison="parallel"
        )
    assert fig.axes[0].get_ylabel().startswith("Spearman")
    fig = make_rank_correlation_figure(rank, "detector", comparison="parallel")  # no detector rows
    assert fig.axes[0].texts[0].get_text() == "No parallel rank correlations in this run's tables."
    with pytest.raises(ValueError, match="unknown comparison"):
        make_rank_correlation_figure(rank, "combinator", comparison="english")


def test_pair_labels_fall_back_to_full_sides_when_ambiguous():
    pairs = [("a/de", "a/en"), ("b/de", "b/en")]
    assert pair_labels(pairs, " vs ") == {pairs[0]: "a/de vs a/en", pairs[1]: "b/de vs b/en"}


def write_heatmap(path, rng, n_prefixes, peak=None):
    det = rng.random((n_prefixes, 12)).astype(np.float32)
    comb = rng.random((n_prefixes, 8)).astype(np.float32) * 0.2
    if peak is not None:
        comb[:, peak] = 1.0
    np.savez(path, detector=det, combinator=comb, sentence_index=np.repeat(np.arange(n_prefixes // 2), 2))
    return path


@pytest.fixture
def heatmaps(tmp_path):
    rng = np.random.default_rng(0)
    return [
        HeatmapPanel(model, "wmt14-de-en/de", layer, write_heatmap(tmp_path / f"{model}_{layer}.npz", rng, 6, peak=3))
        for model, layers in (("m-small", [0, 2, 3]), ("m-big", [0, 5]))
        for layer in layers
    ]


def test_activation_heatmaps_one_panel_per_model_and_layer(heatmaps):
    fig = make_activation_heatmap_figure(heatmaps, "detector", method="paper")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in panels] == [
        "m-small, layer 0",
        "m-small, layer 2",
        "m-small, layer 3",
        "m-big, layer 0",
        "m-big, layer 5",
    ]
    assert [ax.get_subplotspec().colspan.start for ax in panels] == [0, 1, 2, 0, 1]  # one row per model
    image = panels[0].images[0]
    np.testing.assert_array_equal(image.get_array(), np.load(heatmaps[0].path)["detector"])
    assert image.get_extent() == [-0.5, 11.5, 5.5, -0.5]
    assert (panels[0].get_xlabel(), panels[0].get_ylabel()) == ("Neuron", "Prefix")
    assert len(fig.axes) == len(panels) + 1  # one shared colour bar
    assert "wmt14-de-en/de" in fig.get_suptitle() and "method: paper" in fig.get_suptitle()
    with pytest.raises(ValueError, match="no 'attention' array"):
        make_activation_heatmap_figure(heatmaps, "attention", method="paper")
    two_sides = heatmaps[:2] + [HeatmapPanel("m-small", "wmt14-de-en/en", 0, heatmaps[0].path)]
    fig = make_activation_heatmap_figure(two_sides, "detector", method="paper")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [(ax.get_title(), ax.get_subplotspec().rowspan.start) for ax in panels] == [
        ("m-small, layer 0, wmt14-de-en/de", 0),
        ("m-small, layer 2, wmt14-de-en/de", 0),
        ("m-small, layer 0, wmt14-de-en/en", 1),
    ]
    assert "several sides" in fig.get_suptitle()
    with pytest.raises(ValueError, match="no heat-map panels"):
        make_activation_heatmap_figure([], "detector", method="paper")


def test_pooled_heatmaps_follow_neuron_starts_and_rows(tmp_path, monkeypatch):
    """Columns that are groups of neurons (max-pooled in the npz) and a row subsample: the
    axes show neuron and prefix numbers; the display pools further by block maxima."""
    comb = np.zeros((4, 5), dtype=np.float32)
    comb[3, 4] = 1.0
    path = tmp_path / "pooled.npz"
    np.savez(
        path,
        detector=comb,
        combinator=comb,
        sentence_index=np.arange(4),
        row_index=np.array([0, 10, 20, 30]),
        combinator_neuron_start=np.array([0, 4, 8, 12, 16]),
    )
    a = read_activations(path, "combinator")
    assert a.neuron_label(1) == "neurons 4-7" and a.neuron_label(4) == "neuron 16"
    monkeypatch.setattr(plot_heatmaps, "IMAGE_MAX_PIXELS", (2, 2))
    shown = display_matrix(a)
    assert shown.shape == (2, 2) and shown.sum() == 1.0 and shown[1, 1] == 1.0
    fig = make_activation_heatmap_figure([HeatmapPanel("m", "t/de", 0, path)], "combinator", method="paper")
    assert fig.axes[0].images[0].get_extent() == [-0.5, 19.5, 39.5, -0.5]
    fig = make_activation_profile_figure([HeatmapPanel("m", "t/de", 0, path)], method="paper")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "most frequent peak: neurons 0-3 (75% of prefixes)",
        "largest std across prefixes: neuron 16",
    ]


def test_activation_profiles_mark_the_peak_neuron(heatmaps):
    fig = make_activation_profile_figure(heatmaps[:1] + heatmaps[3:4], method="authors_code")
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    prefixes = [c for c in ax.collections if c.get_gid() == "prefixes"]
    assert len(prefixes) == 1 and len(prefixes[0].get_segments()) == 6
    assert ax.get_title() == "m-small, layer 0 (6 of 6 prefixes)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "most frequent peak: neuron 3 (100% of prefixes)"
    assert "Combinator" in fig.get_suptitle() and "method: authors_code" in fig.get_suptitle()


def test_peak_columns():
    matrix = np.array([[0.0, 1.0, 0.2], [0.0, 1.0, 0.9], [1.0, 0.5, 0.1]])
    top, share, spread = peak_columns(matrix)
    assert (top, share) == (1, pytest.approx(2 / 3))
    assert spread == int(np.argmax(matrix.std(axis=0))) == 0


def test_rsa_figure_one_panel_per_model_pair():
    rows = [
        {
            "model_a": a,
            "model_b": b,
            "method": "paper",
            "side": "wmt14-de-en/de",
            "sublayer": "combinator",
            "layer_a": i,
            "layer_b": j,
            "similarity": 0.1 * i + 0.01 * j,
            "n_prefixes": 20,
        }
        for a, b in (("m1", "m2"), ("m1", "m3"), ("m2", "m3"))
        for i in range(3)
        for j in range(2)
    ]
    fig = make_rsa_figure(pd.DataFrame(rows), "combinator")
    panels = fig.axes[:3]
    assert [ax.get_title() for ax in panels] == ["m1 vs m2", "m1 vs m3", "m2 vs m3"]
    assert (panels[0].get_xlabel(), panels[0].get_ylabel()) == ("Layer of m2", "Layer of m1")
    grid = panels[0].images[0].get_array()
    assert grid.shape == (3, 2) and grid[2, 1] == pytest.approx(0.21)
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["0", "1", "2"]
    sparse = pd.DataFrame(rows).replace({"layer_a": {1: 4, 2: 17}})  # analysed layers 0, 4, 17: one cell each
    ax = make_rsa_figure(sparse, "combinator").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "4", "17"] and ax.get_yticks().tolist() == [0, 1, 2]
    assert ax.images[0].get_array()[2, 1] == pytest.approx(0.21)
    assert fig.axes[3].get_ylabel() == "Representational similarity"
    assert "combinator" in fig.get_suptitle() and "wmt14-de-en/de" in fig.get_suptitle()


@pytest.fixture
def overlap():
    return pd.DataFrame(
        [
            {
                "side_a": "wmt14-cs-en/en",
                "side_b": "wmt14-de-en/en",
                "scope": "sampled",
                "n_a": 10,
                "n_b": 12,
                "shared": 4,
                "jaccard": 4 / 18,
            },
            {
                "side_a": "wmt14-cs-en/en",
                "side_b": "wmt14-hi-en/en",
                "scope": "sampled",
                "n_a": 10,
                "n_b": 9,
                "shared": 0,
                "jaccard": 0.0,
            },
            {
                "side_a": "wmt14-de-en/en",
                "side_b": "wmt14-hi-en/en",
                "scope": "sampled",
                "n_a": 12,
                "n_b": 9,
                "shared": 1,
                "jaccard": 1 / 20,
            },
        ]
    )


def test_overlap_matrix_is_symmetric_with_counts_on_the_diagonal(overlap):
    sides, shared, jaccard = overlap_matrix(overlap)
    assert sides == ["wmt14-cs-en/en", "wmt14-de-en/en", "wmt14-hi-en/en"]
    np.testing.assert_array_equal(shared, [[10, 4, 0], [4, 12, 1], [0, 1, 9]])
    np.testing.assert_allclose(jaccard, [[1, 4 / 18, 0], [4 / 18, 1, 0.05], [0, 0.05, 1]])


def test_overlap_figure_one_panel_per_scope(overlap):
    fig = make_overlap_figure(pd.concat([overlap, overlap.assign(scope="full")], ignore_index=True))
    panels = fig.axes[:2]
    assert [ax.get_title() for ax in panels] == ["sampled sentences (analysed)", "full test-set files"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["wmt14-cs-en", "wmt14-de-en", "wmt14-hi-en"]
    assert [t.get_text() for t in panels[0].texts][:2] == ["10\n1.00", "4\n0.22"]
    assert fig.axes[2].get_ylabel() == "Jaccard index"


def test_comparisons_a_single_english_side_cannot_make_say_so(overlap, rank):
    fig = make_overlap_figure(overlap.iloc[:0])
    assert "Fewer than two test sets of this run have an English side" in fig.axes[0].texts[0].get_text()
    fig = make_rank_correlation_figure(
        rank[rank.comparison != "intra_english"], "combinator", comparison="intra_english"
    )
    assert "Fewer than two test sets" in fig.axes[0].texts[0].get_text()


def test_draw_figure_reads_each_kind_of_registry_figure(stats, rank, overlap, heatmaps, tmp_path):
    # tables: one file per model, of which the method's rows are drawn
    paths = []
    for model in MODELS:
        paths.append(tmp_path / f"{model}.tsv")
        rows = stats[stats["model"] == model]
        write_tsv(pd.concat([rows, rows.assign(method="authors_code", mean=0.5)]), paths[-1])
    fig = draw_figure(FIGURES["fig02"], paths, method="authors_code", settings={"sides": ["wmt14-de-en/de"]}, panels=[])
    assert [ax.get_title() for ax in fig.axes] == MODELS
    assert [line.get_label() for line in fig.axes[0].lines] == ["wmt14-de-en/de"]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [0.5] * 4)
    assert fig.get_suptitle().startswith("Activation frequency of detectors") and "authors_code" in fig.get_suptitle()
    # the entry's options: fig 15 is the intra-English comparison of combinators
    write_tsv(rank, tmp_path / "rank.tsv")
    fig = draw_figure(FIGURES["fig15"], [tmp_path / "rank.tsv"], method="paper", settings={}, panels=[])
    assert [line.get_label() for line in fig.axes[0].lines] == ["wmt14-de-en vs wmt14-hi-en"]
    # method-independent and about no sublayer: the English overlap has no method column
    write_tsv(overlap, tmp_path / "overlap.tsv")
    fig = draw_figure(FIGURES["fig16"], [tmp_path / "overlap.tsv"], method="paper", settings={}, panels=[])
    assert fig.axes[0].get_title() == "sampled sentences (analysed)"
    # heat maps: `panels` names the file of each input
    panels = [(p.model, p.side, p.layer) for p in heatmaps[:2]]
    fig = draw_figure(FIGURES["fig05"], [p.path for p in heatmaps[:2]], method="paper", settings={}, panels=panels)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["m-small, layer 0", "m-small, layer 2"]
    assert "detector activations" in fig.get_suptitle() and "method: paper" in fig.get_suptitle()
    with pytest.raises(ValueError, match="fig05: 1 heat-map files for 2 panels"):
        draw_figure(FIGURES["fig05"], [heatmaps[0].path], method="paper", settings={}, panels=panels)


def test_writes_png_and_pdf_without_temp_files(stats, distance, tmp_path):
    out = tmp_path / "fig"
    save_figure(make_activation_frequency_figure(stats, "detector"), [out / "fig02.png", out / "fig02.pdf"])
    save_figure(make_distance_figure(distance, "detector"), [str(out / "fig09.png")])
    assert sorted(p.name for p in out.iterdir()) == ["fig02.pdf", "fig02.png", "fig09.png"]
    assert (out / "fig02.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "fig02.pdf").read_bytes()[:5] == b"%PDF-"
    assert all(p.stat().st_size > 1000 for p in out.iterdir())


def test_empty_selection_and_missing_columns_error(stats):
    with pytest.raises(ValueError, match="no rows for sublayer 'detectors'"):
        make_activation_frequency_figure(stats, "detectors")
    with pytest.raises(ValueError, match=r"no combinator rows for sides \['wmt14-fr-en/fr'\]"):
        make_flatness_figure(stats, "combinator", sides=["wmt14-de-en/de", "wmt14-fr-en/fr"])
    with pytest.raises(ValueError, match=r"activation_frequency table lacks columns \['ci_low', 'ci_high'\]"):
        make_activation_frequency_figure(stats.drop(columns=["ci_low", "ci_high"]), "detector")


def test_mixed_methods_are_refused(stats):
    mixed = pd.concat([stats, stats.assign(method="authors_code")], ignore_index=True)
    with pytest.raises(ValueError, match="mix several method values"):
        make_activation_frequency_figure(mixed, "detector")


@pytest.mark.parametrize(
    "caption", sorted(p.name for p in (REPO / "report").glob("*.rst") if p.name != "job_resources.rst")
)
def test_report_captions_render(caption):
    """Every figure caption renders as Snakemake's report does (Jinja2 with `snakemake`, then
    reStructuredText, warnings as errors) against the paper's config."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    params = SimpleNamespace(
        method="authors_code",
        settings={"sides": ["wmt14-de-en/de"], "flatness_value": "flatness"},
        panels=[("xglm-2.9B", "wmt14-de-en/en", 0), ("xglm-2.9B", "wmt14-de-en/en", 20)],
        methods=["paper", "authors_code"],
        models=["xglm-564M", "xglm-7.5B"],
    )
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string((REPO / "report" / caption).read_text())
    rendered = text.render(snakemake=SimpleNamespace(config=config, params=params))
    html = publish_parts(rendered, writer="html", settings_overrides={"halt_level": 2})["body"]
    assert "{{" not in rendered and "{%" not in rendered
    if "Run:" in rendered:
        assert "authors_code" in html and "models xglm-564M, xglm-1.7B, xglm-2.9B, xglm-7.5B;" in html
    if "Panels" in rendered:
        assert "xglm-2.9B wmt14-de-en/en 0; xglm-2.9B wmt14-de-en/en 20." in html
