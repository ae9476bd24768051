import numpy as np
import pandas as pd
import pytest

from ffnscope.plots import (make_activation_frequency_figure, make_flatness_figure, plot_activation_frequency,
                            plot_flatness)

MODELS = ["xglm-564M", "xglm-1.7B"]
SIDES = [("wmt14-de-en", "de"), ("wmt14-de-en", "en"), ("wmt14-hi-en", "hi")]


@pytest.fixture
def df():
    rows = []
    for model in MODELS:
        for testset, lang in SIDES:
            for sublayer in ("detector", "combinator"):
                for layer in range(1, 5):
                    rows.append({"model": model, "testset": testset, "lang": lang, "sublayer": sublayer,
                                 "layer": layer, "mean": 1 - 0.1 * layer, "std": 0.05, "n_prefixes": 10,
                                 "flatness": 100.0 * layer, "flatness_mean": 10.0 * layer,
                                 "firing_rule": "> 0", "method": "paper"})
    return pd.DataFrame(rows)


def test_frequency_figure_has_one_panel_per_model_and_one_line_per_side(df):
    fig = make_activation_frequency_figure(df, "detector")
    assert [ax.get_title() for ax in fig.axes] == MODELS
    for ax in fig.axes:
        assert [line.get_label() for line in ax.lines] == ["wmt14-de-en/de", "wmt14-de-en/en", "wmt14-hi-en/hi"]
        np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.9, 0.8, 0.7, 0.6])
        assert len(ax.collections) == 3  # the mean +/- std bands
        assert ax.get_xlabel() == "Layer"
    assert fig.axes[0].get_ylabel() == "Activation frequency"
    title = fig.get_suptitle()
    assert "detector" in title and "method: paper" in title and "firing rule: > 0" in title
    assert len(fig.legends) == 1
    # same colour for a side in every panel
    assert [l.get_color() for l in fig.axes[0].lines] == [l.get_color() for l in fig.axes[1].lines]


def test_grid_for_more_than_three_models(df):
    many = pd.concat([df.assign(model=f"m{i}") for i in range(5)], ignore_index=True)
    fig = make_flatness_figure(many, "combinator")
    assert len(fig.axes) == 5
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes} == {(2, 3)}


def test_flatness_figure_value_and_sides(df):
    fig = make_flatness_figure(df, "combinator", value="flatness_mean", sides=["wmt14-hi-en/hi"])
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["wmt14-hi-en/hi"]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [10, 20, 30, 40])
    assert fig.axes[0].get_ylabel() == "Activation flatness / prefix"
    assert make_flatness_figure(df, "combinator").axes[0].get_ylabel() == "Activation flatness A (eq. 1)"
    with pytest.raises(ValueError, match="unknown flatness value"):
        make_flatness_figure(df, "combinator", value="entropy")


def test_writes_png_and_pdf_without_temp_files(df, tmp_path):
    paths = [str(tmp_path / "fig" / "fig02.png"), str(tmp_path / "fig" / "fig02.pdf")]
    plot_activation_frequency(df, "detector", paths)
    plot_flatness(df, "detector", [str(tmp_path / "fig" / "fig04.png")])
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == ["fig02.pdf", "fig02.png", "fig04.png"]
    assert (tmp_path / "fig" / "fig02.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "fig" / "fig02.pdf").read_bytes()[:5] == b"%PDF-"
    assert all((tmp_path / "fig" / n).stat().st_size > 1000 for n in ("fig02.png", "fig02.pdf", "fig04.png"))


def test_empty_selection_errors(df):
    with pytest.raises(ValueError, match="no rows for sublayer 'detectors'"):
        make_activation_frequency_figure(df, "detectors")
    with pytest.raises(ValueError, match=r"no combinator rows for sides \['wmt14-fr-en/fr'\]"):
        make_flatness_figure(df, "combinator", sides=["wmt14-de-en/de", "wmt14-fr-en/fr"])


def test_mixed_methods_are_refused(df):
    mixed = pd.concat([df, df.assign(method="authors_code")], ignore_index=True)
    with pytest.raises(ValueError, match="mix several method values"):
        make_activation_frequency_figure(mixed, "detector")
