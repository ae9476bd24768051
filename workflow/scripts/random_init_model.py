"""Rule script: the randomly initialised control of a configured model."""

import logging

from ffnscope.modelprep import random_init_copy

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
p = snakemake.params
random_init_copy(p.source, snakemake.output[0], seed=p.seed, revision=p.revision or None, log=logging.info)
