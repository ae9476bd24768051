"""Rule script: normalised activation heat maps of both sublayers of one shard."""

from ffnscope.heatmaps import heatmap_file

p = snakemake.params
heatmap_file(
    snakemake.input[0],
    snakemake.output[0],
    snakemake.wildcards.method,
    max_prefixes=p.max_prefixes,
    max_neurons=p.max_neurons,
)
