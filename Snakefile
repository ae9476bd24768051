# ffnscope: detector/combinator analyses of FFN sublayers in multilingual causal LMs.
# Stages: test sets -> snapshots (GPU) -> per-layer metrics (CPU) -> tables -> figures.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/testsets.smk"
include: "rules/models.smk"
include: "rules/snapshots.smk"
include: "rules/metrics.smk"
include: "rules/distance.smk"
include: "rules/rankcorr.smk"
include: "rules/rsa.smk"
include: "rules/heatmaps.smk"
include: "rules/figures.smk"
include: "rules/summary.smk"
include: "rules/report.smk"
include: "rules/plan.smk"


localrules:
    metric_tables,
    distance_table,
    rank_correlation_table,
    english_overlap,
    rsa_table,
    all,


rule all:
    default_target: True
    input:
        all_tables(),
        all_figures(),
        "results/summary.md",
        "results/tables/job_resources_per_rule.tsv",
