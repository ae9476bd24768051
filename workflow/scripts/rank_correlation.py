"""Rule script: Spearman rank correlations of one layer between sides, both sublayers."""

import pandas as pd

from ffnscope.bootstrap import Bootstrap
from ffnscope.rankcorr import load_sentence_sums, plan_comparisons, rank_correlations, side_name
from ffnscope.shards import SUBLAYERS
from ffnscope.tables import RANK_CORRELATION_COLUMNS, write_tsv

p, w = snakemake.params, snakemake.wildcards
plan = plan_comparisons([tuple(s) for s in p.sides], dict(p.language_sides))
files = {side_name(*s): path for s, path in zip(p.sides, snakemake.input)}
boot = Bootstrap(**p.bootstrap)
rows = []
for sublayer in SUBLAYERS:
    sums = {side: load_sentence_sums(path, sublayer) for side, path in files.items()}
    rows += [
        {**r, "model": w.model, "method": w.method, "sublayer": sublayer, "layer": int(w.layer)}
        for r in rank_correlations(sums, plan, boot)
    ]
write_tsv(pd.DataFrame(rows, columns=RANK_CORRELATION_COLUMNS), snakemake.output[0])
