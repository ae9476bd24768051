"""Rule script: align-check, clean and sample one parallel test set."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging

from ffnscope.atomic import write_text
from ffnscope.testsets import sample_testset

langs = snakemake.params.langs
sample = sample_testset(dict(zip(langs, snakemake.input)), snakemake.params.n_sentences, snakemake.params.seed)
for lang, path in zip(langs, snakemake.output.sentences):
    write_text(path, "".join(s + "\n" for s in sample.sentences[lang]))
write_text(snakemake.output.lines, "".join(f"{n}\n" for n in sample.line_numbers))
logging.info(
    "sampled %d of the requested %d sentences (seed %d) from %s",
    len(sample.line_numbers),
    snakemake.params.n_sentences,
    snakemake.params.seed,
    snakemake.input,
)
