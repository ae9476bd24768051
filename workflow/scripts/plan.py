"""Rule script: estimate the configured run's snapshot hours and disk, print and save them."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.plan import measured_costs, plan_table
from ffnscope.tables import write_tsv

p = snakemake.params
table = plan_table(
    p.models,
    costs=measured_costs(snakemake.input.extraction, snakemake.input.storage, p.compression),
    gpu_tflops=p.plan["gpu_tflops"],
    n_sides=p.n_sides,
    n_sentences=p.n_sentences,
    words_per_sentence=p.plan["words_per_sentence"],
    tokens_per_word=p.plan["tokens_per_word"],
    methods=p.methods,
    compute_dtype=p.compute_dtype,
)
write_tsv(table, snakemake.output[0])
print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
