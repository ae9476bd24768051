"""Rule script: Algorithm 1 representation distance of one layer of one pair of sides of a
test set, both sublayers, every pairing of the method, with bootstrap CIs over sentence pairs."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import pandas as pd
import torch

from ffnscope.bootstrap import Bootstrap
from ffnscope.distance import distance_row, layer_distances
from ffnscope.shards import SUBLAYERS
from ffnscope.tables import write_tsv

p, w = snakemake.params, snakemake.wildcards
torch.set_num_threads(snakemake.threads)
boot = Bootstrap(**p.bootstrap)
rows = []
for sublayer in SUBLAYERS:
    results = layer_distances(
        *p.shards,
        sublayer,
        method=w.method,
        metric=p.metric,
        seed=p.seed,
        block_sentences=p.block_sentences,
        block_rows=p.block_rows,
    )
    rows += [
        distance_row(
            result,
            boot,
            model=w.model,
            method=w.method,
            metric=p.metric,
            testset=w.testset,
            src_lang=w.src,
            tgt_lang=w.tgt,
            sublayer=sublayer,
            layer=int(w.layer),
            pairing=pairing,
        )
        for pairing, result in results.items()
    ]
write_tsv(pd.DataFrame(rows), snakemake.output[0])
