"""The causal test of language-specific neurons (as LAPE's `ppl.py`, Tang et al. 2024, with a
control and intervals): a language's neurons (table language_neurons) are switched off
(ffnscope.intervention) and every language's perplexity is measured on held-out sentences
(eligible lines outside the analysed sample). The control switches off as many random neurons
of the same layers, in several seeded draws. Perplexity of a language: exp of its summed
token NLL over its summed predicted tokens; its change is bootstrapped over the held-out
sentences, paired (the same sentences with and without the intervention).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .bootstrap import percentile_interval, resample_counts, resample_rng

Neurons = dict[int, list[int]]  # layer index -> neuron indices at W2's input


def language_neuron_sets(table: pd.DataFrame, method: str, languages: Sequence[str]) -> dict[str, Neurons]:
    """Per language, the neurons of `method` in a language_neurons table assigned to it (a
    neuron of several languages is in each of their sets; a language without any: empty)."""
    rows = table[table["method"] == method]
    sets: dict[str, Neurons] = {lang: {} for lang in languages}
    for layer, neuron, assigned in zip(rows["layer"], rows["neuron"], rows["languages"].fillna("")):
        for lang in filter(None, str(assigned).split(",")):
            if lang in sets:
                sets[lang].setdefault(int(layer), []).append(int(neuron))
    return sets


def random_like(chosen: Mapping[int, Sequence[int]], widths: Mapping[int, int], seed: int, stream: str) -> Neurons:
    """As many neurons per layer as `chosen`, drawn uniformly without replacement from the
    layer's `widths[layer]` neurons (seeded by `seed` and `stream`)."""
    rng = resample_rng(seed, stream)
    return {
        layer: sorted(rng.choice(widths[layer], size=len(neurons), replace=False).tolist())
        for layer, neurons in sorted(chosen.items())
    }


def n_neurons(neurons: Mapping[int, Sequence[int]]) -> int:
    return sum(len(v) for v in neurons.values())


def perplexity_change(
    base_nll: np.ndarray,
    base_tokens: np.ndarray,
    nll: np.ndarray,
    tokens: np.ndarray,
    n_resamples: int,
    seed: int,
    stream: str,
    confidence: float,
) -> dict[str, float]:
    """Perplexity without (`ppl_base`) and with the intervention (`ppl`), their difference
    `delta` and its bootstrap interval over sentences (paired)."""
    base_nll, base_tokens, nll, tokens = (np.asarray(a, dtype=np.float64) for a in (base_nll, base_tokens, nll, tokens))
    if not np.array_equal(base_tokens, tokens):
        raise ValueError("the two runs predicted different tokens: not the same sentences")
    ppl_base = math.exp(base_nll.sum() / tokens.sum())
    ppl = math.exp(nll.sum() / tokens.sum())
    counts = resample_counts(len(nll), n_resamples, seed, stream)
    replicates = np.exp(counts @ nll / (counts @ tokens)) - np.exp(counts @ base_nll / (counts @ tokens))
    low, high = percentile_interval(replicates, confidence)
    return {"ppl_base": ppl_base, "ppl": ppl, "delta": ppl - ppl_base, "ci_low": low, "ci_high": high}


def findings(df: pd.DataFrame) -> list[str]:
    """Per model, whether switching a language's neurons off raises that language's
    perplexity more than the other languages' and more than random neurons do, with numbers."""
    lines = []
    for model, rows in df.groupby("model", sort=False):
        own = rows[(rows["condition"] == "language") & (rows["deactivated"] == rows["evaluated"])]
        others = rows[(rows["condition"] == "language") & (rows["deactivated"] != rows["evaluated"])]
        random = rows[(rows["condition"] == "random") & (rows["deactivated"] == rows["evaluated"])]
        for _, r in own.iterrows():
            lang = r["deactivated"]
            other = others[others["deactivated"] == lang]["delta"]
            control = random[random["deactivated"] == lang]["delta"]
            verdict = (
                "hurts it more than the other languages and more than random neurons"
                if r["ci_low"] > max(other.max(), control.max())
                else "does not clearly hurt it more than the other languages and random neurons"
            )
            lines.append(
                f"- {model}, {lang} (neurons off: {r['n_neurons']}): its perplexity changes by {r['delta']:+.3g} "
                f"(95 % CI {r['ci_low']:+.3g} to {r['ci_high']:+.3g}; {r['ppl_base']:.4g} -> {r['ppl']:.4g}); "
                f"the other languages' by at most {other.max():+.3g}, random neurons' by at most "
                f"{control.max():+.3g}: switching them off {verdict}."
            )
    return lines
