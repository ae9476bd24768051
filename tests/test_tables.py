import numpy as np
import pandas as pd
import pytest

from ffnscope.metrics import layer_statistics
from ffnscope.tables import aggregate, read_tsv, stats_row, write_tsv

FREQUENCY = ["model", "testset", "lang", "sublayer", "layer", "mean", "std", "n_prefixes", "firing_rule", "method"]
FLATNESS = ["model", "testset", "lang", "sublayer", "layer", "flatness", "flatness_mean", "n_prefixes", "method"]


def row(model, testset, lang, sublayer, layer, chunk):
    stats = layer_statistics([np.asarray(chunk, dtype=np.float32)], "> 0", "paper")
    return stats_row(stats, model=model, testset=testset, lang=lang, sublayer=sublayer, layer=layer,
                     method="paper", firing_rule="> 0")


def test_stats_row_values():
    # fires: neuron 0 in 2/2 prefixes, neuron 1 in 0/2 -> mean 0.5, population std 0.5
    # flatness: [1, -1] -> S = [1, 0] -> 0;  [3, 0] -> S = [1, 0] -> 0
    r = row("m", "t", "de", "detector", 3, [[1, -1], [3, 0]])
    assert r == {"model": "m", "testset": "t", "lang": "de", "sublayer": "detector", "layer": 3,
                 "method": "paper", "firing_rule": "> 0", "mean": 0.5, "std": 0.5, "n_prefixes": 2,
                 "flatness": 0.0, "flatness_mean": 0.0}
    with pytest.raises(ValueError, match="unknown sublayer 'fc1'"):
        row("m", "t", "de", "fc1", 3, [[1, -1]])


def test_aggregate_round_trip(tmp_path):
    chunk = [[0, 1, 2, 3], [2, 0, 0, -2]]
    paths = []
    # written out of order, two sublayers per file as the layer_stats rule does
    for model, testset, lang, layer in [("xglm-564M", "wmt14-hi-en", "hi", 10), ("xglm-564M", "wmt14-de-en", "en", 2),
                                        ("xglm-1.7B", "wmt14-de-en", "de", 1), ("xglm-564M", "wmt14-de-en", "en", 1)]:
        path = tmp_path / f"{model}_{testset}_{lang}_{layer}.tsv"
        write_tsv(pd.DataFrame([row(model, testset, lang, s, layer, chunk) for s in ("detector", "combinator")]), path)
        paths.append(str(path))

    freq, flat = aggregate(paths)
    assert list(freq.columns) == FREQUENCY
    assert list(flat.columns) == FLATNESS
    keys = ["model", "testset", "lang", "sublayer", "layer"]
    assert freq[keys].values.tolist() == [
        ["xglm-1.7B", "wmt14-de-en", "de", "combinator", 1],
        ["xglm-1.7B", "wmt14-de-en", "de", "detector", 1],
        ["xglm-564M", "wmt14-de-en", "en", "combinator", 1],
        ["xglm-564M", "wmt14-de-en", "en", "combinator", 2],
        ["xglm-564M", "wmt14-de-en", "en", "detector", 1],
        ["xglm-564M", "wmt14-de-en", "en", "detector", 2],
        ["xglm-564M", "wmt14-hi-en", "hi", "combinator", 10],
        ["xglm-564M", "wmt14-hi-en", "hi", "detector", 10],
    ]
    assert flat[keys].values.tolist() == freq[keys].values.tolist()
    # values survive the text round trip exactly: frequency [1/2, 1/2, 1/2, 1/2] -> std 0;
    # flatness: row 1 = 0.2295739585136224, row 2 S = [1, 1/2, 1/2, 0] -> -(1/4)(2 * 1/2 log2 1/2) = 1/4
    expected = row("x", "t", "l", "detector", 1, chunk)
    assert (freq["mean"] == expected["mean"]).all() and (freq["std"] == 0).all()
    assert (flat["flatness"] == expected["flatness"]).all()
    assert expected["flatness"] == pytest.approx(0.2295739585136224 + 0.25, rel=1e-12)
    assert (flat["n_prefixes"] == 2).all() and (freq["firing_rule"] == "> 0").all()

    # the aggregated tables themselves round-trip
    write_tsv(freq, tmp_path / "tables" / "activation_frequency.tsv")
    pd.testing.assert_frame_equal(read_tsv(tmp_path / "tables" / "activation_frequency.tsv"), freq)


def test_aggregate_rejects_duplicates_and_missing_columns(tmp_path):
    r = row("m", "t", "de", "detector", 1, [[1, 0]])
    write_tsv(pd.DataFrame([r]), tmp_path / "a.tsv")
    write_tsv(pd.DataFrame([r]), tmp_path / "b.tsv")
    with pytest.raises(ValueError, match="more than once"):
        aggregate([str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv")])
    write_tsv(pd.DataFrame([r]).drop(columns="flatness"), tmp_path / "c.tsv")
    with pytest.raises(ValueError, match=r"lack columns \['flatness'\]"):
        aggregate([str(tmp_path / "c.tsv")])
    with pytest.raises(ValueError, match="no per-layer"):
        aggregate([])


def test_text_stays_text_and_nan_stays_nan(tmp_path):
    r = row("7", "t", "de", "detector", 1, [[1, 0]])
    r["flatness"] = float("nan")  # authors_code flatness of a row with max < 2 min
    write_tsv(pd.DataFrame([r]), tmp_path / "a.tsv")
    freq, flat = aggregate([str(tmp_path / "a.tsv")])
    assert freq.loc[0, "model"] == "7"
    assert np.isnan(flat.loc[0, "flatness"]) and flat["flatness"].dtype == np.float64


def test_write_tsv_is_atomic_and_leaves_no_temp_files(tmp_path):
    df = pd.DataFrame({"a": [1 / 3, 2.5e-300], "b": ["x", "y"]})
    write_tsv(df, tmp_path / "sub" / "out.tsv")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["out.tsv"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "sub" / "out.tsv", sep="\t"), df)
