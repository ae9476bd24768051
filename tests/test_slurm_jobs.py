"""The SLURM jobs the paper's configuration submits under the profile (Snakemake's own dry
run and group resources, ffnscope.slurm_jobs); tests/test_slurm.py checks the same numbers
against what a real SLURM got."""

from collections import Counter
from pathlib import Path

import pytest

from ffnscope.slurm_jobs import profile_settings, submissions, table

REPO = Path(__file__).resolve().parents[1]


def test_profile_packs_the_analysis_group_with_a_pool_per_group_job():
    components, pool = profile_settings()
    assert components == {"analysis_{model}_{method}": 20} and pool == {"group_slots": 4}


@pytest.mark.slow
def test_paper_configuration_is_about_a_hundred_right_sized_slurm_jobs(tmp_path, shared_data):
    data = tmp_path / "data.yaml"
    data.write_text(f"data: {{local_dir: {shared_data / 'wmt14'}}}\n")
    jobs = submissions([REPO / "config/config.yaml", data], workdir=tmp_path)
    # one GPU job per model and side; 3,868 per-layer analyses in 82 group jobs; one LAPE
    # selection per model
    kinds = Counter(j.kind for j in jobs)
    assert kinds == {"snapshot": 4 * 8, "analysis_{model}_{method}": 82, "language_neuron_tables": 4}
    assert sum(j.members for j in jobs) == 32 + 3868 + 4
    groups = [j for j in jobs if j.kind == "analysis_{model}_{method}"]
    # at most 4 members side by side (the profile's group_slots): their CPUs (distance jobs
    # have 2 threads) and memory (3,000 MB at most before shards exist), not all members'
    assert max(j.cores for j in groups) == 4 * 2 and max(j.mem_mb for j in groups) == 4 * 3000
    # the members side by side in Snakemake's order (see Submission): never all of a large group
    assert all(j.mem_mb_bounds[0] <= j.mem_mb <= j.mem_mb_bounds[1] <= j.members_mem_mb for j in groups)
    assert all(j.mem_mb < j.members_mem_mb for j in groups if j.members > 4)
    # time: the members' 2 minutes summed over the rounds, not over all members
    assert all(2 <= j.runtime < 2 * j.members for j in groups)
    assert "| all | 118 | 3,904 in all |" in table(jobs)
