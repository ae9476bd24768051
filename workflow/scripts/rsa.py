"""Rule script: RSA stage 2, every layer x layer similarity of every model pair, per method."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import pandas as pd

from ffnscope.rsa import model_pairs, rsa_table
from ffnscope.tables import write_tsv

p = snakemake.params
pairs = model_pairs(list(p.models))
tables = [
    rsa_table(
        {m: {int(layer): path for layer, path in layers.items()} for m, layers in by_model.items()},
        pairs,
        method=method,
        side=p.side,
    )
    for method, by_model in p.files.items()
]
write_tsv(pd.concat(tables, ignore_index=True), snakemake.output[0])
