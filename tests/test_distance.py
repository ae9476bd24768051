import h5py
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from ffnscope import distance as dist
from ffnscope.activations import activate
from ffnscope.bootstrap import Bootstrap
from ffnscope.distance import (
    DistanceResult,
    derangement,
    gather_distance_table,
    layer_distances,
    pair_min_distance_sums,
    paired_distances,
    pooled_distances,
)
from ffnscope.shards import ShardSet, read_rows
from ffnscope.tables import write_tsv
from tiny_xglm import XGLM_FFN

F32 = 1e-6  # the nearest row's distance is computed in float32, as rows are stored


def write_shard(path, lengths, rng, width=5, sentence_ids=None, detector=None):
    """A shard whose sentence k (id sentence_ids[k]) has lengths[k] prefix rows."""
    ids = np.arange(len(lengths)) if sentence_ids is None else np.asarray(sentence_ids)
    sentence_index = np.repeat(ids, lengths).astype(np.int32)
    n = sentence_index.size
    rows = {
        "detector": rng.normal(size=(n, width)) if detector is None else detector,
        "combinator": rng.normal(size=(n, width + 1)),
        "detector_pre": rng.normal(size=(n, width)),
    }
    with ShardSet({0: path}, n, "float32", "none", {0: {"layer": 0, **XGLM_FFN}}) as shards:
        shards.write(0, {0: rows}, sentence_index, np.zeros(n, dtype=np.int32))
    return {k: v.astype(np.float32) for k, v in rows.items()} | {"sentence_index": sentence_index}


def brute_force(src, src_idx, tgt, tgt_idx, pairs, metric):
    """Algorithm 1 as printed: two nested loops per sentence pair (s, t)."""
    d = (
        (lambda a, b: np.linalg.norm(a - b))
        if metric == "euclidean"
        else (lambda a, b: 1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    )
    sums = []
    for s, t in pairs:
        L1, L2 = src[src_idx == s].astype(np.float64), tgt[tgt_idx == t].astype(np.float64)
        total = 0.0
        for i in range(len(L1)):
            min_dist = np.inf
            for j in range(len(L2)):
                min_dist = min(min_dist, d(L1[i], L2[j]))
            total += min_dist
        sums.append(total)
    return np.array(sums)


# --- the kernel ----------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_block_kernel_matches_brute_force(metric):
    rng = np.random.default_rng(0)
    src_len, tgt_len = np.array([3, 1, 4, 2]), np.array([2, 5, 1, 3])
    src = rng.normal(size=(src_len.sum(), 6)).astype(np.float32)  # shards hold float16/float32
    tgt = rng.normal(size=(tgt_len.sum(), 6)).astype(np.float32)
    src_idx, tgt_idx = np.repeat(np.arange(4), src_len), np.repeat(np.arange(4), tgt_len)
    expected = brute_force(src, src_idx, tgt, tgt_idx, [(k, k) for k in range(4)], metric)
    got = pair_min_distance_sums(src, src_len, tgt, tgt_len, metric)
    np.testing.assert_allclose(got, expected, rtol=F32)


def test_hand_computed_pair():
    # source rows (0,0), (3,4); target rows (0,1), (3,8):
    # (0,0) -> min(1, sqrt 73) = 1; (3,4) -> min(sqrt 18, 4) = 4; total 5
    got = pair_min_distance_sums(np.array([[0, 0], [3, 4.0]]), [2], np.array([[0, 1], [3, 8.0]]), [2])
    assert got.tolist() == [5.0]
    # cosine: (1,0) vs {(0,1), (1,1)} -> 1 - 1/sqrt2; zero row -> distance 1
    got = pair_min_distance_sums(np.array([[1, 0], [0, 0.0]]), [2], np.array([[0, 1], [1, 1.0]]), [2], "cosine")
    assert got[0] == pytest.approx(1 - 1 / np.sqrt(2) + 1, rel=F32)


def test_close_rows_of_large_norm_keep_their_small_distance():
    # the |a|^2 + |b|^2 - 2ab form that ranks the rows loses everything in float32 here
    # (|a|^2 = 3e6, distance 1e-2: it gives 0); the nearest row's distance comes from the
    # difference of the rows
    a = np.full((30, 3), 1000.0, dtype=np.float32)
    b = np.vstack([a[:1] + np.float32([0.01, 0, 0]), a[1:] + 5]).astype(np.float32)
    expected = 30 * (np.float64(b[0, 0]) - np.float64(a[0, 0]))  # 0.01000976... in float32 steps
    got = pair_min_distance_sums(a, [30], b, [30])
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_kernel_rejects_empty_target_and_bad_metric():
    with pytest.raises(ValueError, match="at least one prefix row"):
        pair_min_distance_sums(np.ones((1, 2)), [1], np.ones((0, 2)), [0])
    with pytest.raises(ValueError, match="unknown distance metric 'manhattan'"):
        pair_min_distance_sums(np.ones((1, 2)), [1], np.ones((1, 2)), [1], "manhattan")


# --- shards, pairings ----------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_paired_distances_match_brute_force_for_both_pairings(tmp_path, metric):
    rng = np.random.default_rng(1)
    src_len, tgt_len = [3, 1, 4, 2, 5, 2, 1], [2, 5, 1, 3, 2, 4, 3]
    src = write_shard(tmp_path / "src.h5", src_len, rng)
    tgt = write_shard(tmp_path / "tgt.h5", tgt_len, rng)
    results = paired_distances(
        tmp_path / "src.h5", tmp_path / "tgt.h5", "combinator", metric=metric, seed=5, block_sentences=3
    )
    perm = derangement(7, 5)
    for pairing, pairs in (("parallel", [(k, k) for k in range(7)]), ("shuffled", [(k, perm[k]) for k in range(7)])):
        expected = brute_force(
            src["combinator"], src["sentence_index"], tgt["combinator"], tgt["sentence_index"], pairs, metric
        )
        np.testing.assert_allclose(results[pairing].sentence_sums, expected, rtol=F32)
        assert results[pairing].distance == pytest.approx(expected.sum(), rel=F32)
        assert results[pairing].n_prefixes == sum(src_len)
        assert results[pairing].distance_mean == pytest.approx(expected.sum() / sum(src_len), rel=F32)
    # the block size only changes how the work is cut
    one_block = paired_distances(
        tmp_path / "src.h5", tmp_path / "tgt.h5", "combinator", metric=metric, seed=5, block_sentences=100
    )
    np.testing.assert_allclose(one_block["shuffled"].sentence_sums, results["shuffled"].sentence_sums, rtol=1e-12)


def test_shuffled_control_differs_where_translations_match(tmp_path):
    # each target sentence holds exactly the source sentence's rows (plus one far-away row),
    # so every parallel minimum is 0, while distinct sentences are far apart
    rng = np.random.default_rng(2)
    lengths = [2, 3, 2, 4]
    src = write_shard(tmp_path / "src.h5", lengths, rng)
    target_rows = np.concatenate(
        [np.vstack([src["detector"][src["sentence_index"] == k], np.full((1, 5), 50.0)]) for k in range(4)]
    )
    write_shard(tmp_path / "tgt.h5", [n + 1 for n in lengths], rng, detector=target_rows)
    results = paired_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "detector", seed=3)
    assert results["parallel"].distance == 0.0
    assert results["shuffled"].distance > 1.0
    assert np.all(results["shuffled"].sentence_sums > 0)


def test_sentences_without_rows_on_one_side_are_not_paired(tmp_path):
    rng = np.random.default_rng(3)
    src = write_shard(tmp_path / "src.h5", [2, 3, 1], rng, sentence_ids=[0, 1, 2])
    tgt = write_shard(tmp_path / "tgt.h5", [2, 2], rng, sentence_ids=[0, 2])
    result = paired_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "detector", pairings=["parallel"])["parallel"]
    expected = brute_force(
        src["detector"], src["sentence_index"], tgt["detector"], tgt["sentence_index"], [(0, 0), (2, 2)], "euclidean"
    )
    np.testing.assert_allclose(result.sentence_sums, expected, rtol=F32)
    assert result.n_prefixes == 3


def test_unsorted_shard_is_rejected(tmp_path):
    rng = np.random.default_rng(4)
    write_shard(tmp_path / "bad.h5", [1, 1, 1], rng, sentence_ids=[2, 0, 1])
    write_shard(tmp_path / "ok.h5", [1, 1, 1], rng)
    with pytest.raises(ValueError, match="bad.h5: rows are not grouped by sentence"):
        paired_distances(tmp_path / "bad.h5", tmp_path / "ok.h5", "detector")


def test_missing_pre_activations_name_the_shard(tmp_path):
    rng = np.random.default_rng(9)
    write_shard(tmp_path / "src.h5", [2, 2], rng)
    with h5py.File(tmp_path / "src.h5", "a") as f:
        del f["detector_pre"]
    write_shard(tmp_path / "tgt.h5", [2, 2], rng)
    with pytest.raises(ValueError, match="src.h5: no dataset 'detector_pre', which method 'authors_code' analyses"):
        pooled_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "detector")


def test_derangement():
    perm = derangement(6, 11)
    assert sorted(perm) == list(range(6)) and not np.any(perm == np.arange(6))
    assert derangement(6, 11).tolist() == perm.tolist()
    assert derangement(2, 0).tolist() == [1, 0]
    with pytest.raises(ValueError, match="at least 2 sentences"):
        derangement(1, 0)


def test_read_rows_any_order_with_repeats(tmp_path):
    data = np.arange(20, dtype=np.float16).reshape(10, 2)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["x"] = data
    with h5py.File(tmp_path / "x.h5", "r") as f:
        for rows in (np.array([7, 2, 3, 3, 9, 0]), np.arange(3, 8)):
            got = read_rows(f["x"], rows)
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, data[rows].astype(np.float32))
        stored = read_rows(f["x"], np.array([4, 1]), dtype=None)
        assert stored.dtype == np.float16 and stored.tolist() == [[8, 9], [2, 3]]
        assert read_rows(f["x"], np.array([], dtype=int)).shape == (0, 2)


# --- the authors' pooled variant -----------------------------------------------------------------


def authors_literal(src_pre, tgt_pre, seed, metric):
    """The authors' recipe on whole arrays: draw rows with replacement, GELU, L2-normalise,
    min over all drawn target rows, sum (same draw order as pooled_distances)."""
    rng = np.random.default_rng(seed)
    a = activate(src_pre[rng.integers(0, len(src_pre), len(src_pre))], "gelu").astype(np.float64)
    b = activate(tgt_pre[rng.integers(0, len(tgt_pre), len(tgt_pre))], "gelu").astype(np.float64)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    return cdist(a, b, metric).min(axis=1).sum()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_pooled_matches_literal_recipe_and_reads_pre_activations(tmp_path, metric, monkeypatch):
    rng = np.random.default_rng(6)
    src = write_shard(tmp_path / "src.h5", [3, 4, 2, 5], rng, width=8)
    tgt = write_shard(tmp_path / "tgt.h5", [4, 2, 3, 3], rng, width=8)
    monkeypatch.setattr(dist, "AUTHORS_CHUNK_ROWS", 5)  # several target chunks
    result = pooled_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "detector", metric=metric, seed=9, block_rows=4)
    expected = authors_literal(src["detector_pre"], tgt["detector_pre"], 9, metric)
    assert result.distance == pytest.approx(expected, rel=1e-5)
    assert result.n_prefixes == 14 and result.sentence_sums.size == 4


def test_pooled_is_deterministic_with_seed_and_changes_with_it(tmp_path):
    rng = np.random.default_rng(7)
    write_shard(tmp_path / "src.h5", [3, 4, 2, 5, 3], rng)
    write_shard(tmp_path / "tgt.h5", [4, 2, 3, 3, 2], rng)

    def run(seed):
        return pooled_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "combinator", seed=seed).distance

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_layer_distances_pairings_per_method(tmp_path):
    rng = np.random.default_rng(8)
    write_shard(tmp_path / "src.h5", [2, 3, 2], rng)
    write_shard(tmp_path / "tgt.h5", [3, 2, 2], rng)
    kw = dict(metric="euclidean", seed=0, block_sentences=2, block_rows=3)
    assert set(layer_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "detector", method="paper", **kw)) == {
        "parallel",
        "shuffled",
    }
    assert set(layer_distances(tmp_path / "src.h5", tmp_path / "tgt.h5", "detector", method="authors_code", **kw)) == {
        "parallel"
    }


def test_distance_row_bootstrap_interval_covers_total(tmp_path):
    keys = dict(
        model="m",
        method="paper",
        metric="euclidean",
        testset="t",
        src_lang="de",
        tgt_lang="en",
        sublayer="detector",
        pairing="parallel",
        layer=3,
    )
    result = DistanceResult(np.array([1.0, 2.0, 4.0, 3.0, 0.5]), 12)
    row = dist.distance_row(result, Bootstrap(n_resamples=200, seed=1), **keys)
    assert row["distance"] == 10.5 and row["distance_mean"] == 10.5 / 12
    assert row["n_pairs"] == 5 and row["n_prefixes"] == 12
    assert 2.5 <= row["ci_low"] < 10.5 < row["ci_high"] <= 20.0  # resampled totals lie in [5*0.5, 5*4]
    off = dist.distance_row(result, Bootstrap(n_resamples=0), **keys)
    assert np.isnan(off["ci_low"]) and np.isnan(off["ci_high"])


def test_gather_table_sorts_and_rejects_duplicates(tmp_path):
    keys = dict(
        model="m",
        method="paper",
        metric="euclidean",
        testset="t",
        src_lang="zho_Hans",
        tgt_lang="xx",
        sublayer="detector",
        pairing="parallel",
    )
    result = DistanceResult(np.array([1.0, 2.0]), 4)
    rows = [dist.distance_row(result, Bootstrap(n_resamples=10), **keys, layer=layer) for layer in (1, 0)]
    write_tsv(pd.DataFrame(rows[:1]), tmp_path / "a.tsv")
    write_tsv(pd.DataFrame(rows[1:]), tmp_path / "b.tsv")
    table = gather_distance_table([tmp_path / "a.tsv", tmp_path / "b.tsv"], {"xx": "en-Latn"})
    assert list(table.columns) == [
        "model",
        "method",
        "metric",
        "testset",
        "src_lang",
        "tgt_lang",
        "sublayer",
        "layer",
        "pairing",
        "distance",
        "distance_mean",
        "ci_low",
        "ci_high",
        "n_pairs",
        "n_prefixes",
        "src_language",
        "src_script",
        "tgt_language",
        "tgt_script",
    ]
    assert table[["src_language", "src_script", "tgt_language", "tgt_script"]].drop_duplicates().values.tolist() == [
        ["zh", "Hans", "en", "Latn"]
    ]
    assert table["layer"].tolist() == [0, 1]
    assert table.loc[0, ["distance", "distance_mean", "n_pairs", "n_prefixes"]].tolist() == [3.0, 0.75, 2, 4]
    with pytest.raises(ValueError, match="more than once"):
        gather_distance_table([tmp_path / "a.tsv", tmp_path / "a.tsv"])
