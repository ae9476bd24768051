"""Rule script: shared sentences between the English sides, sampled and full files."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.overlap import SCOPES, overlap_rows
from ffnscope.tables import table_frame, write_tsv

p = snakemake.params
files = {"sampled": snakemake.input.sampled, "full": snakemake.input.full}
rows = [row for scope in SCOPES for row in overlap_rows(dict(zip(p.sides, files[scope])), scope)]
write_tsv(table_frame(rows, "english_overlap"), snakemake.output[0])
