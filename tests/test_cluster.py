"""Cluster resources of the workflow's jobs: values for given inputs and retry attempts."""

from types import SimpleNamespace

from ffnscope.cluster import (
    GROUP_SLOTS,
    analysis_job_resources,
    cpu_job_resources,
    gpu_job_resources,
    model_build_resources,
)

SITE = {"cpu_partition": "cpu", "gpu_partition": "gpu", "account": "", "gpu_model": ""}
WILDCARDS = SimpleNamespace(model="m")


def test_cpu_job_grows_with_input_and_attempt():
    res = cpu_job_resources(SITE)
    assert res["slurm_partition"] == "cpu" and "slurm_account" not in res
    two_gb = SimpleNamespace(size_mb=2048)
    assert res["mem_mb"](WILDCARDS, two_gb, 1) == 1000 + 2 * 2048
    assert res["runtime"](WILDCARDS, two_gb, 1) == 15 + 20
    assert res["mem_mb"](WILDCARDS, two_gb, 2) == 2 * 5096 and res["runtime"](WILDCARDS, two_gb, 3) == 3 * 35


def test_analysis_group_member_is_short_and_takes_a_slot():
    res = analysis_job_resources(SITE, base_mem_mb=3000)
    two_gb = SimpleNamespace(size_mb=2048)
    assert res[GROUP_SLOTS] == 1 and res["slurm_partition"] == "cpu"
    assert res["runtime"](WILDCARDS, two_gb, 1) == 2 + 20 and res["mem_mb"](WILDCARDS, two_gb, 1) == 3000 + 2 * 2048


def test_cpu_job_reading_files_of_a_folder_counts_those_files(tmp_path):
    shard = tmp_path / "layer03.h5"
    shard.write_bytes(bytes(3 << 20))
    res = cpu_job_resources(SITE, reads=lambda w: [str(shard), str(tmp_path / "not-yet-written.h5")])
    folder = SimpleNamespace(size_mb=0.004)  # the folder's own entry
    assert res["mem_mb"](WILDCARDS, folder, 1) == 1000 + 2 * 3


def test_cpu_job_fixed_memory():
    res = cpu_job_resources(SITE, base_mem_mb=3000, mem_mb_per_input_mb=0)
    small = SimpleNamespace(size_mb=0.5)
    assert res["mem_mb"](WILDCARDS, small, 1) == 3000
    assert res["mem_mb"](WILDCARDS, SimpleNamespace(size_mb=10_000), 1) == 3000
    assert res["runtime"](WILDCARDS, small, 1) == 15  # 15 + 10 * 0.5 / 1024, truncated


def test_gpu_job_scales_with_model_size():
    res = gpu_job_resources({**SITE, "gpu_model": "a100", "account": "lab"}, size_gb=lambda w: 2.5)
    assert res["gpu"] == 1 and res["gpu_model"] == "a100"
    assert res["slurm_partition"] == "gpu" and res["slurm_account"] == "lab"
    assert res["mem_mb"](WILDCARDS, 1) == 4000 + 7500 and res["runtime"](WILDCARDS, 1) == 30 + 50
    assert res["mem_mb"](WILDCARDS, 2) == 23000 and res["runtime"](WILDCARDS, 2) == 160
    assert "gpu_model" not in gpu_job_resources(SITE, size_gb=lambda w: 1.0)


def test_site_options_reach_every_job_as_the_plugins_resources():
    site = {**SITE, "qos": "long", "gpu_constraint": "a100|h100", "slurm_extra": "--reservation=course"}
    for res in (
        cpu_job_resources(site),
        gpu_job_resources(site, lambda w: 1.0),
        model_build_resources(site, lambda w: 1.0),
    ):
        assert res["qos"] == "long" and res["slurm_extra"] == "--reservation=course"
    assert gpu_job_resources(site, lambda w: 1.0)[
        "constraint"
    ] == "a100|h100" and "constraint" not in cpu_job_resources(site)
    assert not {"qos", "slurm_extra", "constraint"} & set(gpu_job_resources(SITE, lambda w: 1.0))


def test_model_build_reads_the_size_of_the_wildcard_model():
    sizes = {"small": 0.5, "large": 4.0}
    res = model_build_resources(SITE, lambda wildcards: sizes[wildcards.model])
    assert res["slurm_partition"] == "cpu" and "gpu" not in res
    assert res["mem_mb"](SimpleNamespace(model="small"), 1) == 5500
    assert res["mem_mb"](SimpleNamespace(model="large"), 1) == 16000
    assert res["runtime"](SimpleNamespace(model="large"), 2) == 2 * 110
