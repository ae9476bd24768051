"""Rule script: per-sentence statistics of both sublayers of one shard -> one statistics row
per sublayer (bootstrap CIs over sentences) and the per-sentence activation sums."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import pandas as pd

from ffnscope.bootstrap import Bootstrap
from ffnscope.metrics import shard_statistics
from ffnscope.rankcorr import save_sentence_sums
from ffnscope.shards import SUBLAYERS
from ffnscope.tables import stats_row, write_tsv

p, w = snakemake.params, snakemake.wildcards
boot = Bootstrap(**p.bootstrap)
stats = {s: shard_statistics(p.shard, s, w.method, p.firing_rule, p.chunk_rows, p.gated_neurons) for s in SUBLAYERS}
rows = [
    stats_row(stats[s], boot, model=w.model, testset=w.testset, lang=w.lang, sublayer=s, layer=int(w.layer))
    for s in SUBLAYERS
]
write_tsv(pd.DataFrame(rows), snakemake.output.stats)
save_sentence_sums(snakemake.output.sums, stats)
