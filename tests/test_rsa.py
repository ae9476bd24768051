import numpy as np
import pytest
from scipy.stats import pearsonr, rankdata, spearmanr

from ffnscope.activations import activate
from ffnscope.rsa import (
    average_ranks,
    batches,
    correlation_upper,
    layer_rdm_file,
    model_pairs,
    rsa_table,
    similarity_matrix,
    subsample_rows,
)
from ffnscope.shards import ShardSet
from tiny_xglm import XGLM_FFN


def write_model(tmp_path, name, layers, rng, lengths=(3, 4, 2, 3), width=6):
    """Shards of one model: layer arrays share a latent structure so similarities are non-trivial."""
    sentence_index = np.repeat(np.arange(len(lengths)), lengths).astype(np.int32)
    n = sentence_index.size
    latent = rng.normal(size=(n, 3))
    paths, data = {}, {}
    for layer in layers:
        rows = {
            s: latent @ rng.normal(size=(3, w)) + 0.5 * rng.normal(size=(n, w))
            for s, w in (("detector", width), ("combinator", width + 2), ("detector_pre", width))
        }
        path = tmp_path / name / f"layer{layer:02d}.h5"
        with ShardSet({layer: path}, n, "float32", "none", {layer: {"layer": layer, **XGLM_FFN}}) as shards:
            shards.write(0, {layer: rows}, sentence_index, np.zeros(n, dtype=np.int32))
        paths[layer], data[layer] = path, {k: v.astype(np.float32) for k, v in rows.items()}
    return paths, data


def stage1(tmp_path, shards, method, **kw):
    out = {}
    for layer, shard in shards.items():
        out[layer] = shard.with_suffix(f".{method}.h5")
        layer_rdm_file(shard, out[layer], method, **kw)
    return out


def test_correlation_upper_in_blocks_matches_corrcoef():
    x = np.random.default_rng(0).normal(size=(7, 5))
    x[3] = 2.0  # constant row: correlation 0 with everything
    expected = np.corrcoef(np.delete(x, 3, axis=0))
    got = correlation_upper(x, block_rows=2)
    full = np.zeros((7, 7))
    full[np.triu_indices(7, 1)] = got
    np.testing.assert_allclose(
        np.delete(np.delete(full, 3, 0), 3, 1)[np.triu_indices(6, 1)],
        expected[np.triu_indices(6, 1)],
        rtol=1e-6,
        atol=1e-7,
    )  # float32
    assert np.all(full[3] == 0) and np.all(full[:, 3] == 0)


def test_average_ranks_share_ties_as_rankdata():
    v = np.array([0.5, -1.0, 0.5, 0.0, -0.0, 2.0, 0.5], dtype=np.float32)
    # sorted: -1 | 0, -0 (tie: ranks 2, 3 -> 2.5) | 0.5 x3 (ranks 4, 5, 6 -> 5) | 2
    assert average_ranks(v).tolist() == [5, 1, 5, 2.5, 2.5, 7, 5]
    w = np.random.default_rng(1).integers(0, 50, 1000).astype(np.float32)
    np.testing.assert_array_equal(average_ranks(w), rankdata(w))


def test_paper_rsa_is_spearman_of_correlation_distance_rdms(tmp_path):
    rng = np.random.default_rng(1)
    shards_a, data_a = write_model(tmp_path, "a", [0, 1], rng)
    shards_b, data_b = write_model(tmp_path, "b", [0, 2, 5], rng)
    files = {
        "a": stage1(tmp_path, shards_a, "paper", max_prefixes=0, seed=0, block_rows=5),
        "b": stage1(tmp_path, shards_b, "paper", max_prefixes=0, seed=0),
    }
    table = rsa_table(files, [("a", "b")], method="paper", side="t/de")
    assert list(table.columns) == [
        "model_a",
        "model_b",
        "method",
        "side",
        "sublayer",
        "layer_a",
        "layer_b",
        "similarity",
        "n_prefixes",
    ]
    assert len(table) == 2 * 2 * 3
    iu = np.triu_indices(12, 1)
    for row in table.itertuples():
        rdm_a = 1 - np.corrcoef(data_a[row.layer_a][row.sublayer])[iu]
        rdm_b = 1 - np.corrcoef(data_b[row.layer_b][row.sublayer])[iu]
        assert row.similarity == pytest.approx(spearmanr(rdm_a, rdm_b).statistic, abs=1e-6)
        assert row.n_prefixes == 12 and row.side == "t/de" and row.method == "paper"


def test_authors_rsa_is_batched_pearson_of_full_correlation_matrices(tmp_path):
    rng = np.random.default_rng(2)
    shards_a, data_a = write_model(tmp_path, "a", [0, 1], rng)
    shards_b, data_b = write_model(tmp_path, "b", [0, 1], rng)
    kw = dict(max_prefixes=0, seed=0, batch_prefixes=5)  # 12 prefixes -> batches of 5, 5, 2
    files = {m: stage1(tmp_path, shards, "authors_code", **kw) for m, shards in (("a", shards_a), ("b", shards_b))}
    table = rsa_table(files, [("a", "b")], method="authors_code", side="t/de")
    source = {"detector": "detector_pre", "combinator": "combinator"}
    for row in table.itertuples():
        xa = activate(data_a[row.layer_a][source[row.sublayer]], "gelu")
        xb = activate(data_b[row.layer_b][source[row.sublayer]], "gelu")
        expected = np.mean(
            [
                pearsonr(np.corrcoef(xa[b]).ravel(), np.corrcoef(xb[b]).ravel()).statistic
                for b in (slice(0, 5), slice(5, 10), slice(10, 12))
            ]
        )
        assert row.similarity == pytest.approx(expected, abs=1e-6)
    # column chunks smaller than a batch's triangle give the same matrix
    chunked = similarity_matrix(
        [files["a"][0], files["a"][1]], [files["b"][0], files["b"][1]], "combinator", chunk_columns=3
    )
    expected = table.query("sublayer == 'combinator'").pivot(index="layer_a", columns="layer_b", values="similarity")
    np.testing.assert_allclose(chunked, expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("method", ["paper", "authors_code"])
def test_self_pair_gives_one_on_the_diagonal_and_a_symmetric_matrix(tmp_path, method):
    rng = np.random.default_rng(3)
    shards, _ = write_model(tmp_path, "a", [0, 1, 2], rng)
    files = {"a": stage1(tmp_path, shards, method, max_prefixes=9, seed=4, batch_prefixes=4)}
    table = rsa_table(files, model_pairs(["a"]), method=method, side="s")
    for _, group in table.groupby("sublayer"):
        m = group.pivot(index="layer_a", columns="layer_b", values="similarity").to_numpy()
        np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-6)
        np.testing.assert_allclose(m, m.T, atol=1e-7)
        assert np.all(m < 1 + 1e-6) and np.all(m[~np.eye(3, dtype=bool)] < 0.999)
    assert set(table["n_prefixes"]) == {9 if method == "paper" else 8}  # authors: batches 4, 4 (and a lone 1)


def test_models_with_different_prefixes_are_rejected(tmp_path):
    rng = np.random.default_rng(5)
    shards_a, _ = write_model(tmp_path, "a", [0], rng, lengths=(3, 4, 2, 3))
    shards_b, _ = write_model(tmp_path, "b", [0], rng, lengths=(4, 3, 2, 3))
    files = {
        "a": stage1(tmp_path, shards_a, "paper", max_prefixes=0, seed=0),
        "b": stage1(tmp_path, shards_b, "paper", max_prefixes=0, seed=0),
    }
    message = r"models 'a' and 'b' have different prefixes \(sentence_index of .*a/layer00.h5"
    with pytest.raises(ValueError, match=message):
        rsa_table(files, [("a", "b")], method="paper", side="t/de")


def test_subsample_rows_and_batches():
    rows = subsample_rows(100, 10, seed=7)
    assert rows.size == 10 and np.all(np.diff(rows) > 0) and rows.max() < 100
    assert subsample_rows(100, 10, seed=7).tolist() == rows.tolist()
    assert subsample_rows(100, 10, seed=8).tolist() != rows.tolist()
    assert subsample_rows(5, 10, seed=7).tolist() == [0, 1, 2, 3, 4]
    assert subsample_rows(5, 0, seed=7).tolist() == [0, 1, 2, 3, 4]
    assert batches(11, 5) == [slice(0, 5), slice(5, 10)]
    assert batches(12, 5) == [slice(0, 5), slice(5, 10), slice(10, 12)]
    with pytest.raises(ValueError, match="rsa.max_prefixes must be >= 0"):
        subsample_rows(5, -1, 0)


def test_model_pairs_include_self_pairs():
    assert model_pairs(["x", "y", "z"]) == [("x", "x"), ("x", "y"), ("x", "z"), ("y", "y"), ("y", "z"), ("z", "z")]
