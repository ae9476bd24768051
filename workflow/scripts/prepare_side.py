"""Rule script: one side of a test set's sample, its cleaned sentences and source lines."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.atomic import write_lines
from ffnscope.testsets import sample_testset

p = snakemake.params
sample = sample_testset(
    dict(zip(p.langs, snakemake.input)), p.n_sentences, p.seed, p.prefixes["unit"], p.prefixes["variant"]
)
write_lines(snakemake.output.sentences, sample.sentences[snakemake.wildcards.lang])
write_lines(snakemake.output.lines, sample.line_numbers)
