"""Rule script: one layer's language activation probabilities (full sample and bootstrap
resamples) from every side's per-sentence detector firings."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import numpy as np

from ffnscope.atomic import atomic_path
from ffnscope.lape import pooled_probabilities
from ffnscope.rankcorr import load_sentence_fires

p = snakemake.params
sides = [(side, *load_sentence_fires(path)) for side, path in zip(p.sides, snakemake.input)]
probabilities = pooled_probabilities(sides, dict(p.language_of), list(p.languages), p.n_resamples, p.seed)
with atomic_path(snakemake.output[0]) as tmp:
    np.savez(tmp, probabilities=probabilities, languages=np.array(p.languages))
