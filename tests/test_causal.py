import math

import numpy as np
import pandas as pd
import pytest

from ffnscope.bootstrap import resample_indices
from ffnscope.causal import findings, language_neuron_sets, n_neurons, perplexity_change, random_like


def test_language_sets_from_the_neurons_table():
    table = pd.DataFrame(
        {
            "method": ["paper", "paper", "paper", "authors_code"],
            "layer": [0, 2, 2, 0],
            "neuron": [5, 7, 9, 1],
            "languages": ["de", "de,en", np.nan, "en"],
        }
    )
    sets = language_neuron_sets(table, "paper", ["de", "en", "hi"])
    assert sets == {"de": {0: [5], 2: [7]}, "en": {2: [7]}, "hi": {}}
    assert n_neurons(sets["de"]) == 2


def test_random_neurons_match_the_layers_and_counts_and_are_seeded():
    chosen = {0: [1, 2, 3], 4: [0]}
    draw = random_like(chosen, {0: 10, 4: 6}, seed=1, stream="m/de/1")
    assert {k: len(v) for k, v in draw.items()} == {0: 3, 4: 1}
    assert all(0 <= j < 10 for j in draw[0]) and len(set(draw[0])) == 3 and 0 <= draw[4][0] < 6
    assert draw == random_like(chosen, {0: 10, 4: 6}, seed=1, stream="m/de/1")
    assert any(random_like(chosen, {0: 10, 4: 6}, seed=1, stream=f"m/de/{d}") != draw for d in range(2, 6))


def test_perplexity_change_by_hand():
    base_nll, nll, tokens = np.array([2.0, 4.0]), np.array([3.0, 5.0]), np.array([2, 3])
    change = perplexity_change(base_nll, tokens, nll, tokens, 50, 3, "s", 0.95)
    assert change["ppl_base"] == pytest.approx(math.exp(6 / 5)) and change["ppl"] == pytest.approx(math.exp(8 / 5))
    assert change["delta"] == pytest.approx(math.exp(8 / 5) - math.exp(6 / 5))
    # paired: resample r draws the same sentences for both runs
    idx = resample_indices(2, 50, 3, "s")
    reps = [math.exp(nll[i].sum() / tokens[i].sum()) - math.exp(base_nll[i].sum() / tokens[i].sum()) for i in idx]
    assert (change["ci_low"], change["ci_high"]) == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])))
    with pytest.raises(ValueError, match="different tokens"):
        perplexity_change(base_nll, tokens, nll, tokens + 1, 10, 3, "s", 0.95)


def test_findings_state_the_comparison_with_numbers():
    rows = []
    for deactivated in ("de", "en"):
        for condition, draw in (("language", 0), ("random", 1)):
            for evaluated in ("de", "en"):
                hit = condition == "language" and deactivated == evaluated
                delta = 5.0 if hit and deactivated == "de" else 0.1
                rows.append(
                    dict(
                        model="m",
                        deactivated=deactivated,
                        condition=condition,
                        draw=draw,
                        evaluated=evaluated,
                        n_neurons=4,
                        ppl_base=10.0,
                        ppl=10.0 + delta,
                        delta=delta,
                        ci_low=delta - 0.5,
                        ci_high=delta + 0.5,
                    )
                )
    lines = findings(pd.DataFrame(rows))
    assert len(lines) == 2
    assert "m, de (neurons off: 4)" in lines[0] and "hurts it more than the other languages" in lines[0]
    assert "does not clearly hurt it more" in lines[1]


def test_causal_figure_colours_log2_ratios_and_writes_changes():
    from ffnscope.plots.heatmaps import make_causal_figure

    rows = [
        dict(
            model="m",
            method="paper",
            deactivated=d,
            condition=c,
            draw=k,
            evaluated=e,
            ppl_base=10.0,
            ppl=p,
            delta=p - 10,
        )
        for d, c, k, e, p in [
            ("de", "language", 0, "de", 40.0),
            ("de", "language", 0, "en", 10.0),
            ("en", "language", 0, "de", 12.0),
            ("en", "language", 0, "en", 20.0),
            *[("de", "random", k, e, 10.0 + k) for k in (1, 2) for e in ("de", "en")],
            *[("en", "random", k, e, 10.0) for k in (1, 2) for e in ("de", "en")],
        ]
    ]
    fig = make_causal_figure(pd.DataFrame(rows))
    language, random = (ax.images[0].get_array() for ax in fig.axes[:2])
    np.testing.assert_allclose(language, [[2.0, 0.0], [np.log2(1.2), 1.0]])
    mean_log = (np.log2(1.1) + np.log2(1.2)) / 2  # log2 of each draw, averaged
    np.testing.assert_allclose(random, [[mean_log] * 2, [0.0, 0.0]])
    assert "+30" in [t.get_text() for t in fig.axes[0].texts]
