"""Rule script: held-out sentences of one test set (eligible lines outside its sample)."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging

from ffnscope.atomic import write_lines
from ffnscope.testsets import sample_testset

p = snakemake.params
sample = sample_testset(
    dict(zip(p.langs, snakemake.input)),
    p.n_sentences,
    p.seed,
    p.prefixes["unit"],
    p.prefixes["variant"],
    p.n_heldout,
)
for lang, path in zip(p.langs, p.heldout):
    write_lines(path, sample.heldout[lang])
logging.info("%d held-out lines of %d asked for: %s", len(sample.heldout_line_numbers), p.n_heldout, snakemake.input)
