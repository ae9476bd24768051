"""Rule script: activation frequency and flatness of both sublayers of one shard."""
import pandas as pd

from ffnscope.metrics import layer_statistics
from ffnscope.shards import SUBLAYERS, iter_chunks
from ffnscope.tables import stats_row, write_tsv

p, w = snakemake.params, snakemake.wildcards
rows = [
    stats_row(
        layer_statistics(iter_chunks(snakemake.input[0], sublayer, p.chunk_rows), p.firing_rule, w.method),
        model=w.model, testset=w.testset, lang=w.lang, sublayer=sublayer, layer=int(w.layer),
        method=w.method, firing_rule=p.firing_rule,
    )
    for sublayer in SUBLAYERS
]
write_tsv(pd.DataFrame(rows), snakemake.output[0])
