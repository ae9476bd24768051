"""Rule script: findings table and the paper's claims checked on this run's tables."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.summary import load_tables, write_summary

p = snakemake.params
tables = load_tables({name: list(snakemake.input[name]) for name in snakemake.input.keys()}, p.methods)
write_summary(
    tables, snakemake.output.table, snakemake.output.markdown, models=p.models, distance_metric=p.distance_metric
)
