"""The SLURM jobs a configuration submits under the SLURM profile (slurm/config.yaml), from
Snakemake's own dry run: its job groups (`group-components`, the per-group-job `resources`
pool) and resources, so the numbers are the ones Snakemake submits.

    python -m ffnscope.slurm_jobs [--components N] config/config.yaml [more config files]

prints one row per rule or job group: SLURM jobs, workflow jobs inside them, and what each
SLURM job asks for (CPUs, memory, time: ranges over the jobs). Local rules (tables, figures)
run in the Snakemake process and are not counted. `--components N` replaces the profile's
`group-components` number (as `--group-components` on the command line would).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Submission:
    """One SLURM job: a rule's job, or a group job of `members` workflow jobs.

    A group job's `mem_mb` is the most memory of its members that run side by side. Snakemake
    orders members of equal runtime by a hash that changes between processes, so the
    submitting process may pair them differently: its request lies in `mem_mb_bounds`."""

    kind: str  # rule name, or the group's template (analysis_{model}_{method})
    members: int
    cores: int
    mem_mb: int
    runtime: int  # minutes
    member_mem_mb: tuple[int, ...]  # each member's memory, largest first (known before the run)

    @property
    def members_mem_mb(self) -> int:
        """What all members ask for together."""
        return sum(self.member_mem_mb)

    @property
    def mem_mb_bounds(self) -> tuple[int, int]:
        """Least and most memory any pairing of members asks for: the largest member alone, and
        the largest members that fit the job's CPUs side by side (one CPU each at least)."""
        if not self.member_mem_mb:  # sized by inputs not yet written
            return 0, 0
        return self.member_mem_mb[0], sum(self.member_mem_mb[: self.cores])


def profile_settings(profile: Path = REPO / "slurm" / "config.yaml") -> tuple[dict[str, int], dict[str, int]]:
    """The profile's `group-components` and `resources` as {name: number}."""
    settings = yaml.safe_load(profile.read_text())

    def pairs(key):
        return {k: int(v) for k, v in (item.rsplit("=", 1) for item in settings.get(key, []))}

    return pairs("group-components"), pairs("resources")


def submissions(
    configfiles: list[Path],
    cores: int = 64,
    workdir: Path = REPO,
    components: int | None = None,
    max_threads: int | None = None,
    targets: list[str] | None = None,
) -> list[Submission]:
    """Every SLURM job of a full run of `configfiles` (of `targets`, default all) from
    scratch, as `snakemake --profile slurm --cores {cores} [--max-threads N]` would submit
    them."""
    from snakemake.api import SnakemakeApi
    from snakemake.resources import GroupResources
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        GroupSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
    )

    group_components, pool = profile_settings()
    if components is not None:
        group_components = dict.fromkeys(group_components, components)
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=cores, resources=pool, max_threads=max_threads),
            config_settings=ConfigSettings(configfiles=[Path(f).resolve() for f in configfiles]),
            storage_settings=StorageSettings(),
            snakefile=REPO / "Snakefile",
            workdir=workdir,
        )
        dag_api = workflow_api.dag(DAGSettings(targets=set(targets or []), forceall=True))
        dag_api.execute_workflow(executor="dryrun", group_settings=GroupSettings(group_components=group_components))
        workflow = workflow_api._workflow
        dag = workflow.dag
        jobs = []
        for group in set(dag._group.values()):
            # as submitted to a cluster (a dry run computes them as if run in this process)
            res = GroupResources.basic_layered(
                toposorted_jobs=group.toposorted,
                constraints=workflow.global_resources,
                run_local=False,
                additive_resources=["runtime"],
                sortby=["runtime"],
            )
            template = workflow.parent_groupids.get(group.groupid, group.groupid)
            jobs.append(
                Submission(
                    template, len(group.jobs), res["_cores"], res["mem_mb"], res["runtime"], known_mem(group.jobs)
                )
            )
        for job in dag.jobs:
            if job.group is None and not (job.rule.name in workflow._localrules or job.rule.norun):
                res = job.resources
                jobs.append(
                    Submission(job.rule.name, 1, res["_cores"], res["mem_mb"], res["runtime"], known_mem([job]))
                )
    return jobs


def known_mem(jobs) -> tuple[int, ...]:
    """The jobs' memory where known before the run (else sized by inputs not yet written),
    largest first."""
    return tuple(sorted((m for j in jobs if isinstance(m := j.resources["mem_mb"], int)), reverse=True))


def table(jobs: list[Submission]) -> str:
    """Markdown: one row per kind of SLURM job, and the total."""
    by_kind: dict[str, list[Submission]] = defaultdict(list)
    for job in jobs:
        by_kind[job.kind].append(job)

    def span(values):
        known = [v for v in values if isinstance(v, int)]  # else sized by inputs not yet written
        if not known:
            return "from its inputs"
        low, high = min(known), max(known)
        return f"{low:,}" if low == high else f"{low:,}-{high:,}"

    rows = [
        "| SLURM job | jobs | workflow jobs in each | CPUs | memory (MB) | time asked (min) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, group in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        rows.append(
            f"| {kind} | {len(group)} | {span([j.members for j in group])} | {span([j.cores for j in group])} "
            f"| {span([j.mem_mb for j in group])} | {span([j.runtime for j in group])} |"
        )
    rows.append(f"| all | {len(jobs)} | {sum(j.members for j in jobs):,} in all | | | |")
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configfiles", nargs="+", type=Path)
    parser.add_argument("--components", type=int, help="connected components per group job")
    args = parser.parse_args(argv)
    print(table(submissions(args.configfiles, components=args.components)))


if __name__ == "__main__":
    main(sys.argv[1:])
