# Resource use of every job, from the `benchmark:` files, for the report and for sizing SLURM
# requests. It runs after every table (its input; figures are light local jobs, left out so
# that re-drawing a figure re-runs nothing else), then reads the benchmark files of this
# configuration's jobs that exist (a model converted before has none).


rule job_resources:
    input:
        all_tables(),
    output:
        table="results/tables/job_resources.tsv",
        per_rule=report(
            "results/tables/job_resources_per_rule.tsv",
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
        files=benchmark_files(),
    script:
        "../workflow/scripts/job_resources.py"
