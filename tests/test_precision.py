"""ffnscope.precision: differences between two runs' tables, by hand."""

import numpy as np
import pandas as pd
import pytest

from ffnscope.precision import compare_language_neurons, compare_runs, compare_table


def flatness_rows(values, ci_half):
    return pd.DataFrame(
        {
            "model": "m",
            "method": "paper",
            "testset": "t",
            "lang": "de",
            "sublayer": ["detector", "detector", "combinator"],
            "layer": [0, 1, 0],
            "flatness": values,
            "flatness_mean": 0.0,
            "ci_low": np.array(values) - ci_half,
            "ci_high": np.array(values) + ci_half,
            "mean_ci_low": 0.0,
            "mean_ci_high": 0.0,
            "n_prefixes": 10,
            "n_sentences": 2,
            "neuron_value": "post",
            "language": "de-Latn",
            "script": "Latn",
        }
    )


def test_differences_against_the_reference_interval():
    reference = flatness_rows([1.0, 2.0, 3.0], ci_half=0.5)
    other = flatness_rows([1.1, 2.0, 2.0], ci_half=0.1)  # its own intervals do not matter
    out = compare_table("flatness", reference, other).set_index("sublayer")
    assert out.loc["detector", "n_rows"] == 2
    assert out.loc["detector", "max_abs_diff"] == pytest.approx(0.1)
    assert out.loc["detector", "median_abs_diff"] == pytest.approx(0.05)
    assert out.loc["detector", "max_diff_per_ci_half"] == pytest.approx(0.2)
    assert out.loc["detector", "share_beyond_ci_half"] == 0
    assert out.loc["combinator", "max_diff_per_ci_half"] == pytest.approx(2.0)
    assert out.loc["combinator", "share_beyond_ci_half"] == 1


def test_a_row_of_one_run_only_is_an_error():
    with pytest.raises(ValueError, match="flatness: 1 rows are in one run only"):
        compare_table("flatness", flatness_rows([1.0, 2.0, 3.0], 0.5), flatness_rows([1.0, 2.0, 3.0], 0.5).iloc[:2])


def test_not_finite_values_are_counted_not_compared():
    out = compare_table("flatness", flatness_rows([1.0, 2.0, 3.0], 0.5), flatness_rows([np.nan, 2.5, 3.0], 0.5))
    detector = out.set_index("sublayer").loc["detector"]
    assert detector["n_not_finite"] == 1 and detector["max_abs_diff"] == pytest.approx(0.5)


def test_language_neuron_selections_by_jaccard():
    ref = pd.DataFrame({"method": "paper", "layer": [1, 1, 2], "neuron": [5, 6, 7], "languages": ["de", "de", "hi"]})
    other = pd.DataFrame({"method": "paper", "layer": [1, 2, 2], "neuron": [5, 7, 9], "languages": ["de", "fr", "hi"]})
    (row,) = compare_language_neurons(ref, other).to_dict("records")
    assert row["n_rows"] == 5 and row["jaccard"] == pytest.approx(1 / 5)


def test_runs_compare_the_tables_both_have():
    tables = {"flatness": flatness_rows([1.0, 2.0, 3.0], 0.5)}
    out = compare_runs(tables, {**tables, "rsa": pd.DataFrame()})
    assert out["table"].unique().tolist() == ["flatness"] and (out["max_abs_diff"] == 0).all()
