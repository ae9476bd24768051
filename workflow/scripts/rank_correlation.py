"""Rule script: Spearman rank correlations of one layer between sides, both sublayers."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.bootstrap import Bootstrap
from ffnscope.comparisons import Comparison
from ffnscope.rankcorr import load_sentence_sums, rank_correlations
from ffnscope.shards import SUBLAYERS
from ffnscope.sides import side_name
from ffnscope.tables import table_frame, write_tsv

p, w = snakemake.params, snakemake.wildcards
plan = [Comparison(*c) for c in p.plan]
files = {side_name(*s): path for s, path in zip(p.sides, snakemake.input)}
boot = Bootstrap(**p.bootstrap)
rows = []
for sublayer in SUBLAYERS:
    sums = {side: load_sentence_sums(path, sublayer) for side, path in files.items()}
    rows += [
        {**r, "model": w.model, "method": w.method, "sublayer": sublayer, "layer": int(w.layer)}
        for r in rank_correlations(sums, plan, boot)
    ]
write_tsv(table_frame(rows, "rank_correlation"), snakemake.output[0])
