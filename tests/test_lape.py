import math

import numpy as np
import pytest
import torch

from ffnscope.lape import (
    LapeSettings,
    activation_probabilities,
    counts_per_layer,
    entropy,
    kth_value,
    overlap,
    pooled_probabilities,
    replicate_counts,
    select,
)


def test_entropy_by_hand():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.0, 0.0], [0.0, 0.0, 0.0], [0.3, 0.1, 0.1]])
    # shares: (1/2, 1/2, 0), (1, 0, 0), never fires, (3/5, 1/5, 1/5)
    expected = [math.log(2), 0.0, 0.0, -(0.6 * math.log(0.6) + 2 * 0.2 * math.log(0.2))]
    np.testing.assert_allclose(entropy(p), expected, atol=1e-12)


def test_probabilities_and_quantiles_by_hand():
    np.testing.assert_allclose(activation_probabilities([[3, 0], [1, 4]], [4, 8]), [[0.75, 0.0], [0.25, 0.5]])
    with pytest.raises(ValueError, match="without prefixes"):
        activation_probabilities([[1]], [0])
    values = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    assert kth_value(values, 0.95) == 5.0 and kth_value(values, 0.5) == 2.0  # round(2.5) = 2: the 2nd smallest


def test_selection_by_hand():
    # 1 layer x 5 neurons x 2 languages
    p = np.array([[[0.9, 0.0], [0.7, 0.65], [0.1, 0.8], [0.0, 0.2], [0.3, 0.3]]])
    s = select(p, LapeSettings(filter_rate=0.75, top_rate=0.4, activation_bar_ratio=0.75))
    # 10 probabilities: the 0.75 quantile is the 8th smallest (round(7.5) = 8), 0.7
    assert s.filter_value == 0.7 and s.activation_bar == 0.7
    # candidates (some probability > 0.7): neurons 0 and 2; the round(5 * 0.4) = 2 lowest
    # entropies among them; neuron 3 (language 1 only, entropy 0) is no candidate
    assert s.n_candidates == 2 and s.layer_index.tolist() == [0, 0] and s.neuron.tolist() == [0, 2]
    assert s.languages.tolist() == [[True, False], [False, True]]
    assert counts_per_layer(s, 1).tolist() == [[1, 1]]
    assert overlap(s).tolist() == [[1, 0], [0, 1]]


def identify_py(over_zero: torch.Tensor, n: torch.Tensor, top_rate=0.01, filter_rate=0.95, bar_ratio=0.95):
    """Tang et al.'s identify.py activation(), transcribed: [layers, neurons, langs] firing
    counts over n [langs] tokens -> {lang: [(layer, neuron), ...]}."""
    activation_probs = over_zero / n
    normed = activation_probs / activation_probs.sum(dim=-1, keepdim=True)
    normed[torch.isnan(normed)] = 0
    log_probs = torch.where(normed > 0, normed.log(), 0)
    ent = -torch.sum(normed * log_probs, dim=-1)
    flattened_probs = activation_probs.flatten()
    top_prob_value = flattened_probs.kthvalue(round(len(flattened_probs) * filter_rate)).values.item()
    top_position = (activation_probs > top_prob_value).sum(dim=-1)
    ent[top_position == 0] = torch.inf
    flattened_entropy = ent.flatten()
    _, index = flattened_entropy.topk(round(len(flattened_entropy) * top_rate), largest=False)
    row_index, col_index = index // ent.size(1), index % ent.size(1)
    selected_probs = activation_probs[row_index, col_index].transpose(0, 1)
    activation_bar = flattened_probs.kthvalue(round(len(flattened_probs) * bar_ratio)).values.item()
    lang, indice = torch.where(selected_probs > activation_bar)
    return {
        int(lang_): sorted((int(row_index[i]), int(col_index[i])) for i, of in zip(indice, lang) if of == lang_)
        for lang_ in lang.unique()
    }


def test_selection_equals_the_reference_implementation():
    rng = np.random.default_rng(7)
    layers, neurons, langs = 6, 400, 5
    n = rng.integers(500, 2000, size=langs)
    # firing rates with a language-specific minority of neurons
    rates = rng.beta(0.5, 4, size=(layers, neurons, langs))
    special = rng.random((layers, neurons)) < 0.05
    rates[special, rng.integers(0, langs, size=special.sum())] += 0.5
    fires = rng.binomial(n, np.clip(rates, 0, 1))
    expected = identify_py(torch.tensor(fires, dtype=torch.float64), torch.tensor(n, dtype=torch.float64))
    s = select(activation_probabilities(fires, n), LapeSettings())
    assert s.n_candidates >= round(layers * neurons * 0.01)  # else identify.py fills up with non-candidates
    got = {
        lang: sorted(
            (int(layer), int(j))
            for layer, j, assigned in zip(s.layer_index, s.neuron, s.languages[:, lang])
            if assigned
        )
        for lang in range(langs)
    }
    assert {lang: got[lang] for lang in expected} == expected
    assert all(not got[lang] for lang in set(got) - set(expected))
    assert sum(map(len, expected.values())) > 10  # the comparison is not vacuous


def test_settings_are_checked():
    with pytest.raises(ValueError, match="language_neurons.top_rate"):
        LapeSettings(top_rate=0)
    with pytest.raises(ValueError, match="languages >= 2"):
        select(np.ones((2, 3, 1)), LapeSettings())


def test_pooled_probabilities_pool_a_languages_sides_and_resample_sentences():
    from ffnscope.bootstrap import resample_indices

    rng = np.random.default_rng(3)
    sides = [
        ("a/de", rng.integers(0, 5, (6, 4)), rng.integers(5, 9, 6)),
        ("a/en", rng.integers(0, 5, (6, 4)), rng.integers(5, 9, 6)),
        ("b/en", rng.integers(0, 5, (3, 4)), rng.integers(5, 9, 3)),
    ]
    language_of = {"a/de": "de", "a/en": "en", "b/en": "en"}
    probs = pooled_probabilities(sides, language_of, ["de", "en"], n_resamples=5, seed=11)
    assert probs.shape == (6, 4, 2) and probs.dtype == np.float32
    (_, de_f, de_n), (_, a_f, a_n), (_, b_f, b_n) = sides
    np.testing.assert_allclose(probs[0, :, 0], de_f.sum(0) / de_n.sum(), rtol=1e-6)
    np.testing.assert_allclose(probs[0, :, 1], (a_f.sum(0) + b_f.sum(0)) / (a_n.sum() + b_n.sum()), rtol=1e-6)
    # resample 2: the same drawn sentences on both sides of test set a, its own draw for b
    a_idx, b_idx = resample_indices(6, 5, 11, "a")[1], resample_indices(3, 5, 11, "b")[1]
    np.testing.assert_allclose(probs[2, :, 0], de_f[a_idx].sum(0) / de_n[a_idx].sum(), rtol=1e-6)
    en = (a_f[a_idx].sum(0) + b_f[b_idx].sum(0)) / (a_n[a_idx].sum() + b_n[b_idx].sum())
    np.testing.assert_allclose(probs[2, :, 1], en, rtol=1e-6)


def test_replicate_counts_reselect_on_every_replicate():
    rng = np.random.default_rng(5)
    probs = rng.beta(0.5, 3, size=(3, 2, 200, 3))
    counts = replicate_counts(probs, LapeSettings())
    assert counts.shape == (3, 2, 3)
    for b in range(3):
        np.testing.assert_array_equal(counts[b], counts_per_layer(select(probs[b], LapeSettings()), 2))
    assert not (counts[0] == counts[1]).all()  # different data, a different selection
