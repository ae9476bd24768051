"""Rule script: align-check, clean and sample one parallel test set: the sampled lines and
what sampling left out (each side's sentences: prepare_side.py)."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging

from ffnscope.atomic import write_lines
from ffnscope.sides_table import eligibility_frame
from ffnscope.tables import write_tsv
from ffnscope.testsets import sample_configured

config = snakemake.config
prefixes = config["prefixes"]
sample = sample_configured(snakemake.input, snakemake.wildcards.testset, config)
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
    config["sampling"]["n_sentences"],
    config["sampling"]["seed"],
    snakemake.input,
)
