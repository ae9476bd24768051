"""Rule script: one language's neurons switched off (and random neurons of the same layers,
several draws), every language's per-sentence NLL on its held-out sentences."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging
from pathlib import Path

import numpy as np
import torch

from ffnscope.atomic import atomic_path
from ffnscope.causal import language_neuron_sets, n_neurons, random_like
from ffnscope.intervention import neurons_off, sentence_nll, w2_width
from ffnscope.models import load_model
from ffnscope.tables import read_tsv

p, w = snakemake.params, snakemake.wildcards
torch.set_num_threads(snakemake.threads)
# perplexities in bfloat16 are not measured against float32 (docs/performance.md): auto stays
# float32 on the CPU here
loaded = load_model(w.model, p.model_path, p.revision or None, p.device, p.compute_dtype, cpu_bfloat16=False)
logging.info("computing in %s (%s)", str(loaded.dtype).removeprefix("torch."), loaded.dtype_reason)
chosen = language_neuron_sets(read_tsv(snakemake.input.neurons), p.method, list(p.heldout))[w.language]
widths = {layer: w2_width(loaded, layer) for layer in chosen}
conditions = {"none": {}, "language": chosen}
for draw in range(1, p.random_draws + 1):
    conditions[f"random{draw}"] = random_like(chosen, widths, p.seed, f"{w.model}/{w.language}/{draw}")
sentences = {}
for lang, paths in p.heldout.items():
    sentences[lang] = [line for path in paths for line in Path(path).read_text(encoding="utf-8").splitlines()]
arrays = {}
for condition, neurons in conditions.items():
    with neurons_off(loaded, neurons):
        for lang, lines in sentences.items():
            nll, tokens = sentence_nll(loaded, lines, p.batch_size)
            arrays[f"{condition}/{lang}/nll"] = np.array(nll)
            arrays[f"{condition}/{lang}/tokens"] = np.array(tokens)
    logging.info("%s: %d neurons off", condition, n_neurons(neurons))
arrays["n_neurons"] = np.array(n_neurons(chosen))
with atomic_path(snakemake.output[0]) as tmp:
    np.savez(tmp, **arrays)
