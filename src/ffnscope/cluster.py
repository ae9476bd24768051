"""What each workflow job asks of the cluster, read by the SLURM profile (slurm/).

Partition, account, QOS, constraint, extra sbatch flags and GPU model come from config
`cluster`, never from rule files, as the SLURM executor plugin's documented resources. Memory
(`mem_mb`) and time (`runtime`, minutes) are Snakemake resource callables multiplied by
`attempt`, so a job that failed (out of memory, timeout) is retried (`--retries`) with more of
both.

Free of heavy imports: the workflow uses it while parsing the Snakefile.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

Resources = dict[str, Any]


# config cluster key -> executor plugin resource, set on every job when the key is not empty
SITE_OPTIONS = {"account": "slurm_account", "qos": "qos", "slurm_extra": "slurm_extra"}


def site(cluster: Mapping[str, Any]) -> Resources:
    """The site's options every job carries (sbatch -A, --qos, extra flags)."""
    return {resource: cluster[key] for key, resource in SITE_OPTIONS.items() if cluster.get(key)}


def scaled_by_model_size(size_gb: Callable[[Any], float]) -> Resources:
    """Memory and time of a job that holds a float32 copy of a model of `size_gb(wildcards)`
    GB (loading it, or building it): both grow with the model."""
    return {
        "mem_mb": lambda wildcards, attempt: int((4000 + 3000 * size_gb(wildcards)) * attempt),
        "runtime": lambda wildcards, attempt: int((30 + 20 * size_gb(wildcards)) * attempt),
    }


def gpu_job_resources(cluster: Mapping[str, Any], size_gb: Callable[[Any], float]) -> Resources:
    """One GPU (of `cluster.gpu_model` when set) on the GPU partition for a snapshot of a model
    of `size_gb(wildcards)` GB: host memory holds a copy of the weights while loading plus the
    capture buffers."""
    gpu_model = {"gpu_model": cluster["gpu_model"]} if cluster["gpu_model"] else {}
    constraint = {"constraint": cluster["gpu_constraint"]} if cluster.get("gpu_constraint") else {}
    return {
        "gpu": 1,
        **gpu_model,
        **constraint,
        "slurm_partition": cluster["gpu_partition"],
        **scaled_by_model_size(size_gb),
        **site(cluster),
    }


def model_build_resources(cluster: Mapping[str, Any], size_gb: Callable[[Any], float]) -> Resources:
    """A CPU job that builds a model directory (random init): memory and time scale with the
    model's size, as for its snapshot jobs."""
    return {
        "slurm_partition": cluster["cpu_partition"],
        **scaled_by_model_size(size_gb),
        **site(cluster),
    }


def cpu_job_resources(
    cluster: Mapping[str, Any],
    base_mem_mb: float = 1000,
    mem_mb_per_input_mb: float = 2,
    base_minutes: float = 15,
    minutes_per_input_gb: float = 10,
    reads: Callable[[Any], list[str]] | None = None,
) -> Resources:
    """A job on the CPU partition that reads its input (shards) once: memory and time grow with
    the input's size on disk on top of a fixed part (interpreter, one chunk of rows).
    `reads(wildcards)`: the files the job reads where its input is a folder (a side's shards:
    the folder's own size says nothing)."""

    def size_mb(wildcards, input):
        if reads is None:
            return input.size_mb
        # before the folder is written (a dry run) its files count as empty
        return sum(os.path.getsize(path) for path in reads(wildcards) if os.path.exists(path)) / 2**20

    return {
        "slurm_partition": cluster["cpu_partition"],
        "mem_mb": lambda wildcards, input, attempt: int(
            (base_mem_mb + mem_mb_per_input_mb * size_mb(wildcards, input)) * attempt
        ),
        "runtime": lambda wildcards, input, attempt: int(
            (base_minutes + minutes_per_input_gb * size_mb(wildcards, input) / 1024) * attempt
        ),
        **site(cluster),
    }


# The job group of the per-layer analyses of one model and method (`group:` of their rules).
# Under the SLURM profile, `group-components` packs many of its connected components (a
# layer's statistics of every side with that layer's rank correlation; a distance, RSA or heat
# map job alone) into one SLURM job; Snakemake still tracks every member's outputs. Groups
# are ignored by local runs.
ANALYSIS_GROUP = "analysis_{model}_{method}"
# Each member takes one slot; the profile gives each group job GROUP_SLOTS slots (a resource
# of local scope: a pool per group job, not for the whole run), so at most that many members
# run side by side in one SLURM job and it asks for their CPUs and memory, not for those of
# all its members. mem_mb cannot serve as that pool: Snakemake caps every job's resources,
# snapshots' too, at the global value.
GROUP_SLOTS = "group_slots"


def analysis_job_resources(cluster: Mapping[str, Any], **sizes: Any) -> Resources:
    """A member of ANALYSIS_GROUP (arguments as cpu_job_resources). Its fixed time is short:
    a group job asks for the sum of its members' times along the longest chain it runs
    (Snakemake's group resources), so a generous per-member margin would add up to hours."""
    return {**cpu_job_resources(cluster, **{"base_minutes": 2, **sizes}), GROUP_SLOTS: 1}
