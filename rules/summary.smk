# Findings of a run: per model, method and sublayer the layers of minimum flatness, minimum
# representation distance and maximum rank correlation (results/tables/summary.tsv), and the
# paper's qualitative claims as tests with their numbers and PASS / FAIL (results/summary.md).
# Reads the per-model tables of every configured model; rows of the configured methods only.
from ffnscope.schemas import MODEL_TABLES


rule summary:
    input:
        **{table: [table_path(m, table) for m in MODELS] for table in MODEL_TABLES},
        # the causal test's findings too, where the run includes it
        causal_perplexity=CAUSAL_TABLES if CAUSAL["in_summary"] else [],
    output:
        table=run_table_path("summary"),
        markdown=report("results/summary.md", caption="../report/summary.rst", category="Findings"),
    log:
        "logs/summary.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        models=list(MODELS),
        methods=METHODS,
        distance_metric=config["distance"]["metric"],
    script:
        "../workflow/scripts/summary.py"
