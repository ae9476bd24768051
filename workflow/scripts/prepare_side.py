"""Rule script: one side of a test set's sample, its cleaned sentences and source lines."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.atomic import write_lines
from ffnscope.testsets import sample_configured

sample = sample_configured(snakemake.input, snakemake.wildcards.testset, snakemake.config)
write_lines(snakemake.output.sentences, sample.sentences[snakemake.wildcards.lang])
write_lines(snakemake.output.lines, sample.line_numbers)
