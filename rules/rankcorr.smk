# Rank correlation of neurons between sides (§4.4, figs 12-15, 17-18): one CPU job per
# (model, method, layer) reads every side's per-sentence activation sums; one job per model
# gathers the rows. English overlap (fig. 16): one job over the English sides of all test sets.
from dataclasses import astuple

from ffnscope.cluster import analysis_job_resources
from ffnscope.comparisons import plan_comparisons
from ffnscope.sides import english_sides

ENGLISH_SIDES = english_sides(SIDES, LANGUAGES)
# every comparison of a layer's job, planned here: a wrong language_sides fails the parse
RANK_CORRELATION_PLAN = [
    astuple(c) for c in plan_comparisons(SIDES, config["rank_correlation"]["language_sides"], LANGUAGES)
]
# model -> its rank correlation rows: every method and analysed layer
RANK_CORRELATION_FILES = {
    m: [rank_correlation_layer_path(m, method, layer) for method in METHODS for layer in spec.layers]
    for m, spec in MODELS.items()
}
# every table of this file
RANK_CORRELATION_TABLES = [table_path(m, "rank_correlation") for m in MODELS] + [run_table_path("english_overlap")]


rule rank_correlation_layer:
    input:
        lambda w: [sentence_sums_path(w.model, w.method, t, lang, w.layer) for t, lang in SIDES],
    output:
        rank_correlation_layer_path("{model}", "{method}", "{layer}"),
    log:
        "logs/rank_correlation/{model}/{method}/layer{layer}.log",
    benchmark:
        "benchmarks/rank_correlation_layer/{model}/{method}/layer{layer}.tsv"
    group:
        ANALYSIS_GROUP
    conda:
        "../envs/analysis.yaml"
    resources:
        # one sublayer of every side in memory (float32, about half the input) + ranks
        **analysis_job_resources(CLUSTER, base_mem_mb=2000, mem_mb_per_input_mb=1),
    params:
        sides=SIDES,
        plan=RANK_CORRELATION_PLAN,
        bootstrap=config["bootstrap"],
    script:
        "../workflow/scripts/rank_correlation.py"


rule rank_correlation_table:
    input:
        lambda w: RANK_CORRELATION_FILES[w.model],
    output:
        rank_correlation=table_path("{model}", "rank_correlation"),
    log:
        "logs/rank_correlation_table/{model}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        languages=LANGUAGES,
    script:
        "../workflow/scripts/metric_tables.py"


rule english_overlap:
    input:
        sampled=[sentences_path(*side) for side in ENGLISH_SIDES],
        full=[testset_source(*side) for side in ENGLISH_SIDES],
    output:
        run_table_path("english_overlap"),
    log:
        "logs/english_overlap.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        sides=[side.name for side in ENGLISH_SIDES],
    script:
        "../workflow/scripts/english_overlap.py"
