"""Rule script: normalised activation heat maps of both sublayers of one shard."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.heatmaps import heatmap_file

p = snakemake.params
heatmap_file(
    p.shard,
    snakemake.output[0],
    snakemake.wildcards.method,
    max_prefixes=p.max_prefixes,
    max_neurons=p.max_neurons,
    gated=p.gated_neurons,
)
