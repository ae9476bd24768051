"""Rule script: draw one paper figure from the per-model tables."""
import pandas as pd

from ffnscope.plots import plot_activation_frequency, plot_flatness
from ffnscope.tables import read_tsv

p = snakemake.params
df = pd.concat([read_tsv(path) for path in snakemake.input], ignore_index=True)
df = df[df["method"] == p.method]
settings = dict(p.settings)
sides = settings.get("sides") or None
if p.kind == "activation_frequency":
    plot_activation_frequency(df, p.sublayer, list(snakemake.output), sides=sides)
else:
    plot_flatness(df, p.sublayer, list(snakemake.output), value=settings["flatness_value"], sides=sides)
