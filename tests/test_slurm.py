"""The workflow through `snakemake --profile slurm` on a real SLURM cluster
(tools/local-slurm/start.sh): snapshot jobs run on the gpu partition with a GPU allocated,
metric jobs on the cpu partition (read back from `sacct`), the tables equal a local run's, and
a snapshot job cancelled with `scancel` while it writes leaves no corrupt shard: the re-run
completes and every shard holds the rows its sentences give.

Runs when FFNSCOPE_SLURM=1 (then a missing cluster is an error) or when a SLURM controller is
up (`scontrol ping`); FFNSCOPE_SLURM=0 skips it."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from ffnscope.shards import SUBLAYERS, read_attrs, read_dataset
from ffnscope.slurm_jobs import submissions
from ffnscope.words import word_spans

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
# Jobs find this venv's snakemake/python through PATH (sbatch --export=ALL); one thread per job
# in both runs so that the local and the cluster run compute exactly the same numbers.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
CLUSTER_ARGS = [
    "--profile",
    str(REPO / "slurm"),
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--max-threads",
    "1",
    "--cores",  # a group job's CPUs fit the test node
    "2",
]
# analysed layers of the tiny XGLM (4 layers): one in the workflow run (every per-layer job is a
# SLURM job, and the node has only the CI machine's cores), two in the cancel case (one
# snapshot job writes several shards)
LAYERS, CANCEL_LAYERS = [2], [1, 2]


def _partitions():
    """Partition -> generic resources of its nodes, or None when no controller answers."""
    if shutil.which("scontrol") is None:
        return None
    # `scontrol ping` answers at once; sinfo retries a controller that is down for seconds
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=60)
    if ping.returncode != 0:
        return None
    result = subprocess.run(["sinfo", "-h", "-o", "%R %G"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return None
    return dict(line.split(maxsplit=1) for line in result.stdout.splitlines() if line.strip())


@pytest.fixture(scope="session")  # session: decided before the session fixtures build models
def cluster():
    wanted = os.environ.get("FFNSCOPE_SLURM")
    if wanted == "0":
        pytest.skip("FFNSCOPE_SLURM=0")
    partitions = _partitions()
    problem = None
    if partitions is None:
        problem = "no SLURM controller is up (start one: tools/local-slurm/start.sh)"
    elif not {"cpu", "gpu"} <= set(partitions) or "gpu" not in partitions["gpu"]:
        problem = f"the SLURM cluster lacks a `cpu` partition and a `gpu` partition with GPUs: {partitions}"
    if problem and wanted == "1":
        pytest.fail(f"FFNSCOPE_SLURM=1 but {problem}")
    if problem:
        pytest.skip(problem)


def write_config(workdir, shared_data, model_dir, testsets, layers, **extra):
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "data": {"source": "local", "local_dir": str(shared_data / "wmt14")},
        "testsets": [{"name": f"wmt14-{t}", "dir": t, "langs": t.split("-")} for t in testsets],
        "models": [{"name": "tiny-xglm", "path": str(model_dir), "n_layers": 4, "layers": layers}],
        "metrics": {"methods": ["paper"]},
        **extra,
    }
    (workdir / "test.yaml").write_text(yaml.safe_dump(config))
    return workdir


def snakemake_command(workdir, *args):
    return [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(workdir / "test.yaml"), *args]


def run_snakemake(workdir, *args, check=True):
    result = subprocess.run(snakemake_command(workdir, *args), capture_output=True, text=True, env=ENV)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def sacct_jobs(workdir, expected):
    """The SLURM jobs submitted from `workdir` as dicts (rule read from the job comment, which
    the plugin sets to rule_<rule>_wildcards_<values>); waits until `expected` jobs are
    accounted in a final state (accounting reaches slurmdbd asynchronously)."""
    fields = ["JobID", "Partition", "State", "AllocTRES", "ReqCPUS", "ReqMem", "Timelimit", "Comment", "WorkDir"]
    for _ in range(60):
        out = subprocess.run(
            ["sacct", "-X", "-n", "-P", "-S", "now-3hours", "-o", ",".join(fields)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        jobs = [dict(zip(fields, line.split("|"))) for line in out.splitlines()]
        jobs = [j for j in jobs if j["WorkDir"] == str(workdir)]
        for job in jobs:
            job["rule"] = re.match(r"rule_(.+?)(?:_wildcards_(.*))?$", job["Comment"])[1]
        if len(jobs) >= expected and not any(j["State"] in ("PENDING", "RUNNING") for j in jobs):
            return jobs
        time.sleep(0.5)
    raise AssertionError(f"sacct lists {len(jobs)} finished jobs from {workdir}, expected {expected}: {jobs}")


def shard_paths(workdir):
    return sorted((workdir / "results" / "snapshots").rglob("layer*.h5"))


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory, tiny_xglm_dir, shared_data):
    """The same small DAG (2 test sets x 2 languages, 3 sentences, one layer), up to the tables,
    run locally and through the SLURM profile."""
    root = tmp_path_factory.mktemp("slurm")
    local, remote = (
        write_config(
            root / name, shared_data, tiny_xglm_dir, ["de-en", "hi-en"], LAYERS, sampling={"n_sentences": 3, "seed": 5}
        )
        for name in ("local", "slurm")
    )
    # every job but the figures: plotting runs in the Snakemake process (localrule) whatever
    # the executor, and would only cost time here
    plots = [r for r in run_snakemake(local, "--list-rules").stdout.split() if r.startswith("plot_")]
    no_figures = ["--omit-from", *plots] if plots else []
    run_snakemake(local, "--cores", "2", "--max-threads", "1", *no_figures)
    started = time.perf_counter()
    run_snakemake(remote, *CLUSTER_ARGS, *no_figures)
    print(f"\nworkflow through SLURM: {time.perf_counter() - started:.1f} s")
    return local, remote


def test_jobs_ran_in_their_partitions_and_groups(runs):
    """4 snapshot jobs (one per side) on the GPU partition, every per-layer analysis in ONE
    group job on the CPU partition (its 5 components are fewer than the profile's 20 per
    group job), which asked SLURM for what Snakemake's group resources predict, and the
    model's language-neuron selection: 6 SLURM jobs."""
    local, remote = runs
    sides, jobs = 4, sacct_jobs(remote, expected=6)
    snapshots = [j for j in jobs if j["rule"] == "snapshot"]
    # a group job's comment: rule_<group>_<its rules>
    groups = [j for j in jobs if j["Comment"].startswith("rule_analysis_tiny-xglm_paper_")]
    selections = [j for j in jobs if j["rule"] == "language_neuron_tables"]
    assert (len(snapshots), len(groups), len(selections), len(jobs)) == (sides, 1, 1, 6), jobs
    for job in snapshots:
        assert (job["Partition"], job["State"]) == ("gpu", "COMPLETED"), job
        assert "gres/gpu=1" in job["AllocTRES"].split(","), job
    group = groups[0]
    for job in (group, *selections):
        assert (job["Partition"], job["State"]) == ("cpu", "COMPLETED") and "gres/gpu" not in job["AllocTRES"], job
    # what the group job asked for: as Snakemake computes it for the submission (members side
    # by side within --cores and the group's slots, times summed over its rounds), predicted
    # before any output exists, as when the group was submitted (members' outputs not there;
    # the shards there are a few KB, below one MB or minute)
    fresh = remote.parent / "predicted"
    fresh.mkdir(exist_ok=True)
    (predicted,) = [
        j
        for j in submissions([remote / "test.yaml"], cores=2, workdir=fresh, max_threads=1)
        if j.kind == "analysis_{model}_{method}"
    ]
    asked = {"cpu": int(group["ReqCPUS"]), "mem": int(group["ReqMem"].rstrip("M")), "time": group["Timelimit"]}
    hours, minutes = divmod(predicted.runtime, 60)
    assert {"cpu": asked["cpu"], "time": asked["time"]} == {
        "cpu": predicted.cores,
        "time": f"{hours:02d}:{minutes:02d}:00",
    }
    # memory: the members side by side in the submitting process's order (see Submission)
    low, high = predicted.mem_mb_bounds
    assert predicted.cores == 2 and low <= asked["mem"] <= high < predicted.members_mem_mb  # not every member's
    # every member's outputs are there, as in the local run, each member benchmarked once
    grouped = ("layer_stats", "distance_layer", "rank_correlation_layer", "language_probabilities_layer", "rsa_layer")
    grouped += ("heatmap",)
    members = [p for rule in grouped for p in (remote / "benchmarks" / rule).rglob("*.tsv")]
    assert len(members) == predicted.members
    assert {p.relative_to(local) for p in analysis_outputs(local)} == {
        p.relative_to(remote) for p in analysis_outputs(remote)
    }
    # the job itself saw no CUDA device (the GPU is fake) and recorded where it ran
    assert {read_attrs(p)["device"] for p in shard_paths(remote)} == {"cpu"}


def analysis_outputs(workdir):
    return [p for d in ("results/metrics", "results/heatmaps") for p in (workdir / d).rglob("*") if p.is_file()]


def test_outputs_equal_local_run(runs):
    local, remote = runs
    tables = sorted(
        p.relative_to(local)
        for p in (local / "results" / "tables").rglob("*.tsv")
        if not p.name.startswith("job_resources")
    )  # timings differ by nature
    assert Path("results/tables/tiny-xglm/activation_frequency.tsv") in tables
    differing = [str(t) for t in tables if (local / t).read_bytes() != (remote / t).read_bytes()]
    assert not differing, f"tables differ between the local and the SLURM run: {differing}"
    shards = [p.relative_to(local) for p in shard_paths(local)]
    assert len(shards) == 4 * len(LAYERS) and shards == [p.relative_to(remote) for p in shard_paths(remote)]
    for shard in shards:
        for name in (*SUBLAYERS, "sentence_index", "token_position"):
            np.testing.assert_array_equal(read_dataset(local / shard, name), read_dataset(remote / shard, name))


def check_shards(workdir, side, layers):
    """Every layer shard of `side` opens, holds every dataset, and has one row per word of each
    sentence under the shard's unit (word prefixes, full sentence included) but for the words
    merged into the previous one's prefix (a token spanning both, counted in n_merged_words),
    grouped by sentence in order."""
    sentences = (workdir / "results" / "sentences" / f"{side}.txt").read_text(encoding="utf-8").splitlines()
    for layer in layers:
        with h5py.File(workdir / f"results/snapshots/tiny-xglm/{side}/layer{layer:02d}.h5", "r") as f:
            words = np.array([len(word_spans(s, f.attrs["prefix_unit"])) for s in sentences])
            assert f.attrs["n_sentences"] == len(sentences) and f.attrs["n_words"] == words.sum()
            rows = words.sum() - f.attrs["n_merged_words"]
            assert 0 <= f.attrs["n_merged_words"] < 0.01 * words.sum()
            assert {f[name].shape[0] for name in (*SUBLAYERS, "sentence_index", "token_position")} == {rows}
            per_sentence = np.bincount(f["sentence_index"][:], minlength=len(sentences))
            assert np.all(np.diff(f["sentence_index"][:]) >= 0)
            assert np.all((1 <= per_sentence) & (per_sentence <= words))
            # rows never written would still hold the fill value 0
            assert (np.abs(f["combinator"][:].astype(np.float32)).sum(axis=1) > 0).all()


def test_cancelled_snapshot_job_leaves_no_corrupt_shard(cluster, tmp_path_factory, tiny_xglm_dir, shared_data):
    # enough sentences, in small windows and batches, that the snapshot job writes for seconds
    workdir = write_config(
        tmp_path_factory.mktemp("slurm") / "cancel",
        shared_data,
        tiny_xglm_dir,
        ["de-en"],
        CANCEL_LAYERS,
        sampling={"n_sentences": 600, "seed": 5},
        snapshot={"token_budget": 512, "window_mb": 1},
    )
    side = "wmt14-de-en/de"
    side_dir = workdir / "results/snapshots/tiny-xglm" / side
    targets = [f"results/snapshots/tiny-xglm/{side}"]  # the snapshot job's folder of shards
    run = subprocess.Popen(
        snakemake_command(workdir, *CLUSTER_ARGS, "--retries", "0", *targets),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
    )
    cancelled, deadline = None, time.monotonic() + 300
    while cancelled is None and run.poll() is None and time.monotonic() < deadline:
        # shards being written exist under temporary names (.layerLL.tmp-PID.h5); cancel once
        # rows are in them (a new HDF5 file is ~100 bytes)
        if any(p.stat().st_size > 1 << 16 for p in side_dir.glob(".layer*.tmp-*.h5")):
            queue = subprocess.run(
                ["squeue", "-h", "-t", "R", "-o", "%i|%k|%Z"], capture_output=True, text=True, check=True
            ).stdout
            cancelled = next(
                (
                    job_id
                    for job_id, comment, job_dir in (line.split("|") for line in queue.splitlines())
                    if job_dir == str(workdir) and comment.startswith("rule_snapshot_wildcards")
                ),
                None,
            )
            if cancelled:
                subprocess.run(["scancel", cancelled], check=True)
        time.sleep(0.05)
    output = run.communicate(timeout=300)[0]
    assert cancelled, f"the snapshot job was never seen writing:\n{output[-3000:]}"
    assert run.returncode != 0 and f"SLURM-job '{cancelled}' failed" in output, output[-3000:]
    state = next(j["State"] for j in sacct_jobs(workdir, expected=1) if j["JobID"] == cancelled)
    assert state.startswith("CANCELLED")
    # the killed job left no shard under a final name
    assert not shard_paths(workdir)

    run_snakemake(workdir, *CLUSTER_ARGS, *targets)
    assert len(shard_paths(workdir)) == len(CANCEL_LAYERS)
    check_shards(workdir, side, CANCEL_LAYERS)
