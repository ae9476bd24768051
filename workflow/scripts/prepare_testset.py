"""Rule script: align-check, clean and sample one parallel test set: the sampled lines and
what sampling left out (each side's sentences: prepare_side.py)."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging

from ffnscope.atomic import write_lines
from ffnscope.sides_table import eligibility_frame
from ffnscope.tables import write_tsv
from ffnscope.testsets import sample_testset

langs = snakemake.params.langs
prefixes = snakemake.params.prefixes
sample = sample_testset(
    dict(zip(langs, snakemake.input)),
    snakemake.params.n_sentences,
    snakemake.params.seed,
    prefixes["unit"],
    prefixes["variant"],
)
write_lines(snakemake.params.lines, sample.line_numbers)
write_tsv(eligibility_frame(sample), snakemake.params.eligibility)
logging.info(
    "%d of %d lines have too few words for a prefix (%s, %s) on some side and are not sampled; per side: %s",
    sample.n_ineligible,
    sample.n_lines,
    prefixes["unit"],
    prefixes["variant"],
    sample.short_lines,
)
logging.info(
    "sampled %d of the requested %d sentences (seed %d) from %s",
    len(sample.line_numbers),
    snakemake.params.n_sentences,
    snakemake.params.seed,
    snakemake.input,
)
