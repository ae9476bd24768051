"""Rule script: one model's causal-test table (perplexity change per switched-off language and
evaluated language, random-neuron control per draw, bootstrap intervals) and its findings."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import numpy as np

from ffnscope.atomic import write_text
from ffnscope.causal import findings, perplexity_change
from ffnscope.tables import table_frame, write_tsv

p, w = snakemake.params, snakemake.wildcards
rows = []
for deactivated, path in zip(p.languages, snakemake.input):
    with np.load(path) as data:
        conditions = sorted({key.split("/")[0] for key in data.files if "/" in key} - {"none"})
        for condition in conditions:
            for evaluated in p.languages:
                change = perplexity_change(
                    data[f"none/{evaluated}/nll"],
                    data[f"none/{evaluated}/tokens"],
                    data[f"{condition}/{evaluated}/nll"],
                    data[f"{condition}/{evaluated}/tokens"],
                    p.n_resamples,
                    p.seed,
                    f"{deactivated}/{condition}/{evaluated}",
                    p.confidence,
                )
                rows.append(
                    {
                        "model": w.model,
                        "method": p.method,
                        "deactivated": deactivated,
                        "condition": "language" if condition == "language" else "random",
                        "draw": 0 if condition == "language" else int(condition.removeprefix("random")),
                        "evaluated": evaluated,
                        "n_neurons": int(data["n_neurons"]),
                        "n_sentences": len(data[f"none/{evaluated}/nll"]),
                        **change,
                    }
                )
df = table_frame(rows, "causal_perplexity")
write_tsv(df, snakemake.output.table)
write_text(
    snakemake.output.findings,
    f"# Causal test: {w.model}, language neurons of method {p.method}\n\n" + "\n".join(findings(df)) + "\n",
)
