"""Rule script: gather per-layer rows into one model's tables, one per named output."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.tables import gather_tables, write_tsv

tables = gather_tables(list(snakemake.input), list(snakemake.output.keys()), dict(snakemake.params.languages))
for name, table in tables.items():
    write_tsv(table, snakemake.output[name])
