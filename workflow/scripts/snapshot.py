"""Rule script: capture one (model, test set, language) snapshot into per-layer shards."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging
import os
import signal
import sys
import time
from pathlib import Path

import torch

from ffnscope.models import load_model
from ffnscope.neurons import needs_pre_activation
from ffnscope.snapshot import SnapshotSettings, check_layers, config_hash, shard_attributes, snapshot

# scancel / preemption send SIGTERM: exit through Python so the shard writer removes its
# temporary files instead of leaving gigabytes of hidden partial shards behind
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
p, w = snakemake.params, snakemake.wildcards
torch.set_num_threads(snakemake.threads)
snap = p.snapshot
loaded = load_model(w.model, p.model_path, p.revision or None, snap["device"], snap["compute_dtype"])
settings = SnapshotSettings(
    unit=p.prefixes["unit"],
    variant=p.prefixes["variant"],
    storage_dtype=snap["storage_dtype"],
    compression=snap["compression"],
    token_budget=snap["token_budget"],
    batch_cost=snap["batch_cost"],
    window_mb=snap["window_mb"],
    store_pre_activation=needs_pre_activation(loaded.adapter.ffn_family, p.methods),
)
check_layers(loaded, p.n_layers, p.layers, w.model)
with open(snakemake.input.sentences, encoding="utf-8") as f:
    sentences = f.read().splitlines()
line_numbers = [int(n) for n in Path(snakemake.input.lines).read_text().split()]
attrs = shard_attributes(
    model=w.model,
    model_path=p.model_path,
    revision=loaded.revision,
    testset=w.testset,
    lang=w.lang,
    n_sentences=len(sentences),
    settings=settings,
    loaded=loaded,
    hash_of_config=config_hash(
        {
            "model": p.model_path,
            "revision": p.revision,
            "prefixes": p.prefixes,
            "snapshot": snap,
            "store_pre_activation": settings.store_pre_activation,
            "sentences": sentences,
        }
    ),
)
started = time.perf_counter()
try:
    n = snapshot(loaded, sentences, p.layers, dict(zip(p.layers, p.shards)), settings, attrs, sys.stderr, line_numbers)
except OSError:
    # a failed HDF5 write (a full disk) leaves the library in a state its exit handler crashes
    # on (SIGSEGV); the partial shards are gone already (ShardSet), so log and leave at once
    logging.exception("snapshot failed")
    logging.shutdown()
    os._exit(1)
logging.info(
    "%d sentences, %d prefixes, %d layers on %s (%s, %s: %s; %s batches) in %.1f s",
    len(sentences),
    n,
    len(p.layers),
    attrs["device"],
    attrs["device_name"],
    attrs["compute_dtype"],
    attrs["compute_dtype_reason"],
    attrs["batching"],
    time.perf_counter() - started,
)
