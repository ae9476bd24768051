"""Rule script: RSA stage 1, the prefix x prefix correlation structure of both sublayers of
one layer (a seeded prefix subsample of the configured side)."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.rsa import layer_rdm_file

p = snakemake.params
layer_rdm_file(
    p.shard,
    snakemake.output[0],
    snakemake.wildcards.method,
    max_prefixes=p.max_prefixes,
    seed=p.seed,
    batch_prefixes=p.batch_prefixes,
)
