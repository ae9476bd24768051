"""Rule script: dequantise a PyPI-shipped GGUF once into a plain safetensors model directory."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging

from ffnscope.modelprep import convert_gguf_package

convert_gguf_package(snakemake.params.package, snakemake.output[0], log=logging.info)
