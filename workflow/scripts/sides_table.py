"""Rule script: one model's sides table from its shards' attributes and the test sets'
eligibility counts."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.sides_table import sides_table
from ffnscope.tables import write_tsv

write_tsv(sides_table(list(snakemake.params.shards), dict(snakemake.params.eligibility)), snakemake.output[0])
