"""Rule script: shared sentences between the English sides, sampled and full files."""

import pandas as pd

from ffnscope.overlap import SCOPES, overlap_rows
from ffnscope.tables import ENGLISH_OVERLAP_COLUMNS, write_tsv

sides = snakemake.params.sides
rows = [row for scope in SCOPES for row in overlap_rows(dict(zip(sides, getattr(snakemake.input, scope))), scope)]
write_tsv(pd.DataFrame(rows, columns=ENGLISH_OVERLAP_COLUMNS), snakemake.output[0])
