# ffnscope: detector/combinator analyses of FFN sublayers in multilingual causal LMs.
# Stages: test sets -> snapshots (GPU) -> per-layer metrics (CPU) -> tables -> figures.
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# ffnscope from this checkout, installed or not: the rules import it, and Snakemake passes its
# own sys.path on to every rule script, in conda environments too (which drop PYTHONPATH)
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from ffnscope import runlock

# One run at a time in this directory, and no stale lock after a killed run (ffnscope.runlock);
# a cluster job's Snakemake (remote or subprocess mode) runs inside the run that holds it.
MAIN_PROCESS = not (workflow.remote_exec or workflow.subprocess_exec)
if MAIN_PROCESS and (note := runlock.claim(unlocking="--unlock" in sys.argv)):
    print(f"ffnscope: {note}", file=sys.stderr)


onstart:
    # --nolock: the user runs several at once on purpose
    if MAIN_PROCESS and workflow.execution_settings.lock:
        runlock.require(cluster=not workflow.local_exec)


onsuccess:
    runlock.release()


onerror:
    runlock.release()


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/testsets.smk"
include: "rules/models.smk"
include: "rules/snapshots.smk"
include: "rules/sides.smk"
include: "rules/metrics.smk"
include: "rules/distance.smk"
include: "rules/rankcorr.smk"
include: "rules/language_neurons.smk"
include: "rules/rsa.smk"
include: "rules/heatmaps.smk"
include: "rules/figures.smk"
include: "rules/summary.smk"
include: "rules/report.smk"
include: "rules/plan.smk"


rule all:
    default_target: True
    input:
        all_tables(),
        all_figures(),
        rules.summary.output.markdown,
        rules.job_resources.output.per_rule,
    localrule: True


rule causal:
    """Named target: the causal test of every model (tables, findings, figure)."""
    input:
        CAUSAL_TABLES,
        [causal_findings_path(m) for m in MODELS],
        all_figures(optional=True),
    localrule: True
