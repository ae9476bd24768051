"""Language-specific neurons by language activation probability entropy (LAPE: Tang et al.
2024, "Language-Specific Neurons: The Key to Multilingual Capabilities in Large Language
Models"; their `identify.py`, RUCAIBox/Language-Specific-Neurons).

Activation probability of neuron j of layer i for language l: the share of l's prefixes on
which the neuron fires under the method's firing rule (the detector sublayer: W2's input, or
the gate for gated FFNs under `metrics.gated_neurons: gate`). A language with several sides
(English in every WMT test set) pools them. Then, as in `identify.py`, over ALL analysed
layers at once:

1. normalise each neuron's probabilities over languages to a distribution and take its
   entropy (the language activation probability entropy; 0 * log 0 = 0);
2. keep as candidates the neurons for which some language's probability exceeds the
   `filter_rate` quantile of all probabilities (layers x neurons x languages);
3. select the `top_rate` share of all neurons with the lowest entropy among the candidates
   (identify.py would fill up with non-candidates when fewer candidates than that exist; here
   only candidates are selected, and the count says so);
4. assign a selected neuron to every language whose probability exceeds the
   `activation_bar_ratio` quantile of all probabilities (none, one or several languages).

Quantiles are order statistics as identify.py's `kthvalue(round(N * rate))`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bootstrap import percentile_interval, resample_counts


@dataclass(frozen=True)
class LapeSettings:
    """Config section `language_neurons`: the thresholds of Tang et al. 2024 (identify.py)."""

    filter_rate: float = 0.95
    top_rate: float = 0.01
    activation_bar_ratio: float = 0.95

    def __post_init__(self) -> None:
        for name in ("filter_rate", "top_rate", "activation_bar_ratio"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"language_neurons.{name} must lie in (0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class Selection:
    """Selected neurons: `layer_index` and `neuron` [n_selected] (positions in the analysed
    layers' order and within the layer), `languages` [n_selected, n_languages] bool (the
    languages each is assigned to), their entropy over languages, and the thresholds that were
    applied."""

    layer_index: np.ndarray
    neuron: np.ndarray
    languages: np.ndarray
    entropy: np.ndarray  # [n_selected] their entropy over languages
    n_candidates: int
    filter_value: float
    activation_bar: float


def activation_probabilities(fires: np.ndarray, n_prefixes: np.ndarray) -> np.ndarray:
    """[..., languages] firing counts over each language's `n_prefixes` [languages] prefixes
    -> activation probabilities."""
    n = np.asarray(n_prefixes, dtype=np.float64)
    if (n <= 0).any():
        raise ValueError("a language without prefixes has no activation probability")
    return np.asarray(fires, dtype=np.float64) / n


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Entropy (nats) of [..., languages] probabilities normalised over the last axis; a
    neuron that never fires has entropy 0 (identify.py sets its NaN shares to 0)."""
    total = probabilities.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total > 0, probabilities / total, 0.0)
        terms = np.where(shares > 0, shares * np.log(shares), 0.0)
    return -terms.sum(axis=-1)


def kth_value(values: np.ndarray, rate: float) -> float:
    """torch.kthvalue(values.flatten(), round(N * rate)): the k-th smallest value (k >= 1)."""
    flat = values.ravel()
    k = max(1, round(flat.size * rate))
    return float(np.partition(flat, k - 1)[k - 1])


def select(probabilities: np.ndarray, settings: LapeSettings) -> Selection:
    """LAPE on [layers, neurons, languages] activation probabilities (module docstring)."""
    if probabilities.ndim != 3 or probabilities.shape[-1] < 2:
        raise ValueError(f"need [layers, neurons, languages >= 2] probabilities, got shape {probabilities.shape}")
    filter_value = kth_value(probabilities, settings.filter_rate)
    bar = kth_value(probabilities, settings.activation_bar_ratio)
    ent = entropy(probabilities)
    candidate = (probabilities > filter_value).any(axis=-1)
    flat_entropy = np.where(candidate, ent, np.inf).ravel()
    k = min(round(flat_entropy.size * settings.top_rate), int(candidate.sum()))
    # stable: among equal entropies the lower (layer, neuron) comes first, in every run
    chosen = np.sort(np.argsort(flat_entropy, kind="stable")[:k])
    layer_index, neuron = np.unravel_index(chosen, ent.shape)
    return Selection(
        layer_index=layer_index,
        neuron=neuron,
        languages=probabilities[layer_index, neuron] > bar,
        entropy=ent[layer_index, neuron],
        n_candidates=int(candidate.sum()),
        filter_value=filter_value,
        activation_bar=bar,
    )


def counts_per_layer(selection: Selection, n_layers: int) -> np.ndarray:
    """[layers, languages] number of selected neurons assigned to each language."""
    counts = np.zeros((n_layers, selection.languages.shape[1]), dtype=np.int64)
    np.add.at(counts, selection.layer_index, selection.languages.astype(np.int64))
    return counts


def overlap(selection: Selection) -> np.ndarray:
    """[languages, languages] neurons assigned to both languages (diagonal: to the language)."""
    assigned = selection.languages.astype(np.int64)
    return assigned.T @ assigned


def pooled_probabilities(
    sides: list[tuple[str, np.ndarray, np.ndarray]],
    language_of: dict[str, str],
    languages: list[str],
    n_resamples: int,
    seed: int,
) -> np.ndarray:
    """[1 + n_resamples, neurons, languages] float32 activation probabilities of one layer:
    row 0 from every sentence, then one row per bootstrap resample of the sentences.

    `sides`: (side "testset/lang", per-sentence firing counts [sentences, neurons], prefixes
    per sentence [sentences]); a side's language is `language_of[side]`, and the sides of a
    language are pooled. Sentences are resampled per test set (the sides of one test set draw
    the same sentences, ffnscope.bootstrap), so the intervals are those of a new sample of
    sentences from each test set."""
    neurons = sides[0][1].shape[1]
    fires = np.zeros((1 + n_resamples, neurons, len(languages)))
    prefixes = np.zeros((1 + n_resamples, len(languages)))
    for side, side_fires, n_prefixes in sides:
        testset = side.split("/")[0]
        counts = np.vstack(
            [np.ones((1, len(n_prefixes))), resample_counts(len(n_prefixes), n_resamples, seed, testset)]
        )
        column = languages.index(language_of[side])
        fires[:, :, column] += counts @ side_fires.astype(np.float64)
        prefixes[:, column] += counts @ n_prefixes.astype(np.float64)
    return activation_probabilities(fires, prefixes[:, None, :]).astype(np.float32)


def replicate_counts(probabilities: np.ndarray, settings: LapeSettings) -> np.ndarray:
    """[replicates, layers, languages] neurons assigned to each language in each layer, the
    selection run anew on every replicate of [replicates, layers, neurons, languages]
    probabilities (bootstrap resamples): how stable it is."""
    n_layers = probabilities.shape[1]
    return np.stack([counts_per_layer(select(p, settings), n_layers) for p in probabilities])


def table_rows(
    probabilities: np.ndarray, layers: list[int], languages: list[str], settings: LapeSettings, confidence: float
) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows of the three LAPE tables of one model and method (ffnscope.schemas:
    language_neurons, language_neuron_counts, language_neuron_overlap; without the model and
    method columns) from [1 + resamples, layers, neurons, languages] probabilities."""
    full = probabilities[0]
    selection = select(full, settings)
    neurons = [
        {
            "layer": layers[i],
            "neuron": int(j),
            "languages": ",".join(lang for lang, on in zip(languages, assigned) if on),
            "entropy": float(h),
            "probabilities": "; ".join(f"{lang}={p:.6g}" for lang, p in zip(languages, full[i, j])),
        }
        for i, j, assigned, h in zip(selection.layer_index, selection.neuron, selection.languages, selection.entropy)
    ]
    counts = counts_per_layer(selection, len(layers))
    resampled = replicate_counts(probabilities[1:], settings)
    count_rows = []
    for i, layer in enumerate(layers):
        for k, lang in enumerate(languages):
            low, high = percentile_interval(resampled[:, i, k], confidence)
            count_rows.append(
                {
                    "layer": layer,
                    "language": lang,
                    "n_neurons": int(counts[i, k]),
                    "ci_low": low,
                    "ci_high": high,
                    "n_selected": len(selection.neuron),
                    "n_candidates": selection.n_candidates,
                    "n_resamples": len(probabilities) - 1,
                }
            )
    shared = overlap(selection)
    overlap_rows = [
        {"language_a": a, "language_b": b, "shared": int(shared[x, y])}
        for x, a in enumerate(languages)
        for y, b in enumerate(languages)
    ]
    return neurons, count_rows, overlap_rows
