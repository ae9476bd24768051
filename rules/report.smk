# Resource use of every job, from the `benchmark:` files, for the report and for sizing SLURM
# requests. It runs after every table (its input; figures are light local jobs, left out so
# that re-drawing a figure re-runs nothing else), then reads the benchmark files of this
# configuration's jobs that exist (a model converted before has none).

# The `benchmark:` files of this configuration's jobs, so the report leaves out jobs of earlier
# runs with other settings: each benchmarked rule's own pattern, filled in with the wildcards
# of the outputs this run asks of it (one per job). rsa_table has no wildcards and one job.
_BENCHMARKED = [
    (rules.convert_gguf_model, [built_model_path(m) for m in GGUF_MODELS]),
    (rules.random_init_model, [built_model_path(m) for m in RANDOM_INIT_MODELS]),
    (rules.snapshot, [snapshot_dir(m, t, lang) for m in MODELS for t, lang in SIDES]),
    (rules.layer_stats, [path for files in LAYER_STATS_FILES.values() for path in files]),
    (rules.distance_layer, [path for files in DISTANCE_FILES.values() for path in files]),
    (rules.rank_correlation_layer, [path for files in RANK_CORRELATION_FILES.values() for path in files]),
    (
        rules.language_probabilities_layer,
        [
            language_probabilities_path(m, method, layer)
            for m in MODELS
            for method in METHODS
            for layer in MODELS[m].layers
        ],
    ),
    (rules.language_neuron_tables, [table_path(m, "language_neurons") for m in MODELS]),
    (rules.rsa_layer, RSA_LAYER_FILES),
    (rules.heatmap, HEATMAP_FILES),
]
BENCHMARK_FILES = [str(rules.rsa_table.benchmark)] + [
    path
    for rule, outputs in _BENCHMARKED
    for path in expand(rule.benchmark, zip, **glob_wildcards(rule.output[0], files=outputs)._asdict())
]


rule job_resources:
    input:
        all_tables(),
    output:
        table=run_table_path("job_resources"),
        per_rule=report(
            run_table_path("job_resources_per_rule"),
            caption="../report/job_resources.rst",
            category="Job resources",
        ),
        figure=report(
            "results/figures/job_resources.png",
            caption="../report/job_resources.rst",
            category="Job resources",
        ),
    log:
        "logs/job_resources.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        root="benchmarks",
        files=BENCHMARK_FILES,
    script:
        "../workflow/scripts/job_resources.py"
