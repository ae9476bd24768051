"""Rule script: gather the benchmark files of every job into a table and a figure."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from pathlib import Path

from ffnscope.jobstats import gather, per_rule, plot_job_resources
from ffnscope.tables import write_tsv

root = snakemake.params.root
df = gather([path for path in snakemake.params.files if Path(path).is_file()], root)
write_tsv(df, snakemake.output.table)
write_tsv(per_rule(df), snakemake.output.per_rule)
plot_job_resources(df, [snakemake.output.figure])
