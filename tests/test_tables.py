import numpy as np
import pandas as pd
import pytest

from ffnscope.bootstrap import Bootstrap
from ffnscope.metrics import sentence_statistics
from ffnscope.tables import aggregate, gather_tables, read_tsv, stats_row, table_frame, write_tsv

FREQUENCY = [
    "model",
    "method",
    "testset",
    "lang",
    "sublayer",
    "layer",
    "mean",
    "std",
    "ci_low",
    "ci_high",
    "n_prefixes",
    "n_sentences",
    "neuron_value",
    "firing_rule",
    "not_measurable",
    "language",
    "script",
]
FLATNESS = [
    "model",
    "method",
    "testset",
    "lang",
    "sublayer",
    "layer",
    "flatness",
    "flatness_mean",
    "ci_low",
    "ci_high",
    "mean_ci_low",
    "mean_ci_high",
    "n_prefixes",
    "n_sentences",
    "neuron_value",
    "language",
    "script",
]
NO_BOOTSTRAP = Bootstrap(n_resamples=0)


def row(model, testset, lang, sublayer, layer, chunk, sentence_index=None, boot=NO_BOOTSTRAP):
    chunk = np.asarray(chunk, dtype=np.float32)
    index = np.zeros(len(chunk), int) if sentence_index is None else np.asarray(sentence_index)
    stats = sentence_statistics([(chunk, index)], int(index.max()) + 1, "> 0", "paper")
    return stats_row(stats, boot, model=model, testset=testset, lang=lang, sublayer=sublayer, layer=layer)


def test_stats_row_values():
    # fires: neuron 0 in 2/2 prefixes, neuron 1 in 0/2 -> mean 0.5, population std 0.5
    # flatness: [1, -1] -> S = [1, 0] -> 0;  [3, 0] -> S = [1, 0] -> 0
    r = row("m", "t", "de", "detector", 3, [[1, -1], [3, 0]])
    cis = {k: r.pop(k) for k in list(r) if "ci_" in k}
    assert r == {
        "model": "m",
        "method": "paper",
        "testset": "t",
        "lang": "de",
        "sublayer": "detector",
        "layer": 3,
        "neuron_value": "as given",
        "firing_rule": "> 0",
        "not_measurable": "",
        "mean": 0.5,
        "std": 0.5,
        "n_prefixes": 2,
        "n_sentences": 1,
        "flatness": 0.0,
        "flatness_mean": 0.0,
    }
    assert sorted(cis) == [
        "flatness_ci_high",
        "flatness_ci_low",
        "flatness_mean_ci_high",
        "flatness_mean_ci_low",
        "frequency_ci_high",
        "frequency_ci_low",
    ]
    assert all(np.isnan(v) for v in cis.values())  # n_resamples 0
    with pytest.raises(ValueError, match="unknown sublayer 'fc1'"):
        row("m", "t", "de", "fc1", 3, [[1, -1]])


def test_stats_row_intervals():
    # two sentences: [1, -1] (fires 1 of 2) and [[1, 1], [1, 1]] (fires 4 of 4). The resamples
    # are {A,A}: 2/4 = 0.5, {A,B}: 5/6, {B,B}: 1, so every frequency CI bound lies in [0.5, 1]
    r = row("m", "t", "de", "detector", 0, [[1, -1], [1, 1], [1, 1]], [0, 1, 1], Bootstrap(n_resamples=400, seed=1))
    assert r["mean"] == pytest.approx(5 / 6, rel=1e-12) and r["n_sentences"] == 2
    assert 0.5 <= r["frequency_ci_low"] <= r["mean"] <= r["frequency_ci_high"] <= 1.0
    assert r["frequency_ci_low"] == 0.5 and r["frequency_ci_high"] == 1.0  # 400 draws hit both extremes
    # flatness is 0 for every row, so every resample gives 0
    assert r["flatness_ci_low"] == r["flatness_ci_high"] == 0.0


def test_aggregate_round_trip(tmp_path):
    chunk = [[0, 1, 2, 3], [2, 0, 0, -2]]
    paths = []
    # written out of order, two sublayers per file as the layer_stats rule does
    for model, testset, lang, layer in [
        ("xglm-564M", "wmt14-hi-en", "hi", 10),
        ("xglm-564M", "wmt14-de-en", "en", 2),
        ("xglm-1.7B", "wmt14-de-en", "de", 1),
        ("xglm-564M", "wmt14-de-en", "en", 1),
    ]:
        path = tmp_path / f"{model}_{testset}_{lang}_{layer}.tsv"
        write_tsv(
            pd.DataFrame(
                [
                    row(model, testset, lang, s, layer, chunk, [0, 1], Bootstrap(n_resamples=50))
                    for s in ("detector", "combinator")
                ]
            ),
            path,
        )
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
    # the normalised language and script of each side's code
    assert freq[["lang", "language", "script"]].drop_duplicates().values.tolist() == [
        ["de", "de", "Latn"],
        ["en", "en", "Latn"],
        ["hi", "hi", "Deva"],
    ]
    assert flat[["language", "script"]].equals(freq[["language", "script"]])
    # values survive the text round trip exactly: frequency [1/2, 1/2, 1/2, 1/2] -> std 0;
    # flatness: row 1 = 0.2295739585136224, row 2 S = [1, 1/2, 1/2, 0] -> -(1/4)(2 * 1/2 log2 1/2) = 1/4
    expected = row("x", "t", "l", "detector", 1, chunk, [0, 1], Bootstrap(n_resamples=50))
    assert (freq["mean"] == expected["mean"]).all() and (freq["std"] == 0).all()
    assert (flat["flatness"] == expected["flatness"]).all()
    assert expected["flatness"] == pytest.approx(0.2295739585136224 + 0.25, rel=1e-6)  # float32 arithmetic
    # the renamed CI columns are the right quantities
    assert (freq["ci_low"] == expected["frequency_ci_low"]).all()
    assert (flat["ci_high"] == expected["flatness_ci_high"]).all()
    assert (flat["mean_ci_low"] == expected["flatness_mean_ci_low"]).all()
    # resamples of 2 sentences with flatness 0.2296 and 0.25: A in [2*0.2296, 2*0.25]
    assert 2 * 0.22957395 <= expected["flatness_ci_low"] < expected["flatness_ci_high"] <= 0.5
    assert (flat["n_prefixes"] == 2).all() and (freq["firing_rule"] == "> 0").all() and (freq["n_sentences"] == 2).all()

    # the aggregated tables themselves round-trip
    write_tsv(freq, tmp_path / "tables" / "activation_frequency.tsv")
    pd.testing.assert_frame_equal(read_tsv(tmp_path / "tables" / "activation_frequency.tsv"), freq)
    assert gather_tables(paths, ["frequency", "flatness"])["flatness"].equals(flat)


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
    with pytest.raises(ValueError, match="no gathered tables named"):
        gather_tables([str(tmp_path / "a.tsv")], ["rsa"])


def test_gather_rank_correlation_sorts_by_keys(tmp_path):
    base = {
        "model": "m",
        "method": "paper",
        "comparison": "parallel",
        "side_a": "t/deu_Latn",
        "side_b": "t/en-US",
        "sublayer": "detector",
        "rho": 0.5,
        "p_value": 0.01,
        "ci_low": 0.4,
        "ci_high": 0.6,
        "n_sentences": 10,
    }
    write_tsv(pd.DataFrame([{**base, "layer": 2, "pairing": "parallel"}]), tmp_path / "l2.tsv")
    write_tsv(
        pd.DataFrame(
            [{**base, "layer": 1, "pairing": "parallel"}, {**base, "layer": 1, "pairing": "non_parallel", "rho": 0.1}]
        ),
        tmp_path / "l1.tsv",
    )
    table = gather_tables([str(tmp_path / "l2.tsv"), str(tmp_path / "l1.tsv")], ["rank_correlation"])[
        "rank_correlation"
    ]
    assert list(table.columns) == [
        "model",
        "method",
        "comparison",
        "side_a",
        "side_b",
        "sublayer",
        "layer",
        "pairing",
        "rho",
        "p_value",
        "ci_low",
        "ci_high",
        "n_sentences",
        "language_a",
        "script_a",
        "language_b",
        "script_b",
    ]
    # per-layer rows hold the side names only; the gather adds their languages
    assert list(table_frame([], "rank_correlation").columns) == list(table.columns[:-4])
    assert table[["language_a", "script_a", "language_b", "script_b"]].drop_duplicates().values.tolist() == [
        ["de", "Latn", "en", "Latn"]
    ]
    assert table[["layer", "pairing", "rho"]].values.tolist() == [
        [1, "non_parallel", 0.1],
        [1, "parallel", 0.5],
        [2, "parallel", 0.5],
    ]


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


def test_table_frame_puts_the_schema_columns_in_order():
    rows = [{"jaccard": 0.5, "shared": 1, "n_b": 2, "n_a": 2, "scope": "full", "side_b": "b/en", "side_a": "a/en"}]
    df = table_frame(rows, "english_overlap")
    assert list(df.columns) == ["side_a", "side_b", "scope", "n_a", "n_b", "shared", "jaccard"]
    assert df.iloc[0].tolist() == ["a/en", "b/en", "full", 2, 2, 1, 0.5]
    assert table_frame([], "english_overlap").columns.equals(df.columns)  # no rows: the header alone


def test_markdown_table_formats_floats_and_blanks_missing_values():
    from ffnscope.tables import markdown_table

    df = pd.DataFrame({"a": ["x", "y"], "b": [0.123456, float("nan")], "c": [1, 2]})
    assert markdown_table(df, ["a", "b", "missing"]) == "| a | b |\n|---|---|\n| x | 0.123 |\n| y |  |"
