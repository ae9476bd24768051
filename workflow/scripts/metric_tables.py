"""Rule script: gather per-layer statistics into one model's tables."""
from ffnscope.tables import aggregate, write_tsv

frequency, flatness = aggregate(list(snakemake.input))
write_tsv(frequency, snakemake.output.frequency)
write_tsv(flatness, snakemake.output.flatness)
