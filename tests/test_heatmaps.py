import numpy as np
import pytest

from ffnscope.activations import activate
from ffnscope.heatmaps import evenly_spaced_rows, heatmap_file, minmax_rows, pool_neurons
from ffnscope.shards import ShardSet
from tiny_xglm import XGLM_FFN


def test_minmax_rows_hand_computed():
    x = np.array([[0, 1, 2, 4], [5, 5, 5, 5], [-2, 0, 2, 6]], dtype=np.float32)
    np.testing.assert_allclose(minmax_rows(x), [[0, 0.25, 0.5, 1], [1, 1, 1, 1], [0, 0.25, 0.5, 1]], rtol=1e-12)


def test_pool_neurons_keeps_peaks():
    s = np.array([[0, 0.25, 0.5, 1, 0], [1, 0, 0, 0, 0.5]])
    pooled, starts = pool_neurons(s, 2)  # groups of neurons [0, 1] and [2, 3, 4]
    assert starts.tolist() == [0, 2]
    np.testing.assert_array_equal(pooled, [[0.25, 1], [1, 0.5]])
    same, starts = pool_neurons(s, 0)
    assert same is s and starts.tolist() == [0, 1, 2, 3, 4]
    assert pool_neurons(s, 5)[1].tolist() == [0, 1, 2, 3, 4]


def test_evenly_spaced_rows():
    assert evenly_spaced_rows(10, 4).tolist() == [0, 3, 6, 9]
    assert evenly_spaced_rows(3, 4).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="heatmaps.max_prefixes must be >= 1"):
        evenly_spaced_rows(3, 0)


def write_shard(path):
    detector = np.array([[0, 1, 2, 4], [5, 5, 5, 5], [-2, 0, 2, 6], [1, 3, 2, 0], [0, 0, 8, 4]], np.float32)
    rows = {
        "detector": detector,
        "combinator": detector[:, ::-1] * 2,
        "detector_pre": np.array([[-1, 0, 1, 2]] * 5, np.float32),
    }
    with ShardSet({0: path}, 5, "float32", "none", {0: {"layer": 0, **XGLM_FFN}}) as shards:
        shards.write(0, {0: rows}, np.array([0, 0, 1, 1, 2], np.int32), np.zeros(5, np.int32))
    return rows


def test_heatmap_file_paper(tmp_path):
    write_shard(tmp_path / "s.h5")
    heatmap_file(tmp_path / "s.h5", tmp_path / "h.npz", "paper", max_prefixes=3, max_neurons=2)
    with np.load(tmp_path / "h.npz") as f:
        assert f["row_index"].tolist() == [0, 2, 4] and f["sentence_index"].tolist() == [0, 1, 2]
        # rows [0,1,2,4], [-2,0,2,6], [0,0,8,4] -> S [0,.25,.5,1], [0,.25,.5,1], [0,0,1,.5]; max over [0,1], [2,3]
        np.testing.assert_allclose(f["detector"], [[0.25, 1], [0.25, 1], [0, 1]])
        np.testing.assert_allclose(f["combinator"], [[1, 0.25], [1, 0.25], [1, 0]])
        assert f["detector_neuron_start"].tolist() == [0, 2] and f["detector"].dtype == np.float32


def test_heatmap_file_authors_code_reads_gelu_of_pre_activations(tmp_path):
    write_shard(tmp_path / "s.h5")
    heatmap_file(tmp_path / "s.h5", tmp_path / "h.npz", "authors_code", max_prefixes=10, max_neurons=0)
    g = activate(np.array([-1, 0, 1, 2], np.float64), "gelu")  # [-0.1587, 0, 0.8413, 1.9545]
    expected = (g - g.min()) / (g.max() - g.min())
    with np.load(tmp_path / "h.npz") as f:
        assert f["detector"].shape == (5, 4)
        np.testing.assert_allclose(f["detector"], np.tile(expected, (5, 1)), rtol=1e-6)
        assert f["detector"][0, 1] == pytest.approx(0.1587 / (1.9545 + 0.1587), rel=1e-3)
