"""Rule script: the randomly initialised control of a configured model."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging

from ffnscope.modelprep import random_init_copy

p = snakemake.params
random_init_copy(p.source, snakemake.output[0], seed=p.seed, revision=p.revision or None, log=logging.info)
