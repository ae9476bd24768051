"""Rule script: gather one model's per-layer representation distances into its table, with
the normalised language of every side."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.distance import gather_distance_table
from ffnscope.tables import write_tsv

write_tsv(gather_distance_table(list(snakemake.input), dict(snakemake.params.languages)), snakemake.output[0])
