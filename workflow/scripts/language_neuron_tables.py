"""Rule script: one model's LAPE tables (selected neurons, per-layer counts with bootstrap
intervals, overlap between languages) from its layers' activation probabilities."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import numpy as np

from ffnscope.lape import LapeSettings, table_rows
from ffnscope.tables import table_frame, write_tsv

p, w = snakemake.params, snakemake.wildcards
settings = LapeSettings(**p.settings)
files = iter(snakemake.input)  # per method, its layers in order
tables = {"language_neurons": [], "language_neuron_counts": [], "language_neuron_overlap": []}
for method in p.methods:
    layers = []
    for _ in p.layers:
        path = next(files)
        with np.load(path) as data:
            if data["languages"].tolist() != list(p.languages):
                raise ValueError(f"{path}: languages {data['languages'].tolist()}, expected {list(p.languages)}")
            layers.append(data["probabilities"])
    rows = table_rows(np.stack(layers, axis=1), list(p.layers), list(p.languages), settings, p.confidence)
    for name, part in zip(tables, rows):
        tables[name] += [{"model": w.model, "method": method, **row} for row in part]
for name, output in zip(tables, (snakemake.output.neurons, snakemake.output.counts, snakemake.output.overlap)):
    write_tsv(table_frame(tables[name], name), output)
