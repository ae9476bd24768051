"""Rule script: dequantise a PyPI-shipped GGUF once into a plain safetensors model directory."""

import logging

from ffnscope.modelprep import convert_gguf_package

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
convert_gguf_package(snakemake.params.package, snakemake.output[0], log=logging.info)
