"""Rule script: one model's sides table from its shards' attributes and the test sets'
eligibility counts."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.sides_table import sides_table
from ffnscope.tables import write_tsv

eligibility = dict(zip(snakemake.params.testsets, snakemake.input.eligibility))
write_tsv(sides_table(list(snakemake.input.shards), eligibility), snakemake.output[0])
