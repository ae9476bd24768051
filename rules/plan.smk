# `snakemake plan`: snapshot hours and disk of the configured run, per model, from the costs
# measured by tools/benchmark.py (results/bench/), to size a SLURM allocation before starting.


rule plan:
    input:
        extraction="results/bench/extraction.tsv",
        storage="results/bench/storage.tsv",
    output:
        "results/plan.tsv",
    log:
        "logs/plan.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        models=[  # a random_init control has the dimensions of the model it copies
            {
                "name": m.name,
                "like": m.random_like,
                "path": MODELS[m.random_like or m.name].path,
                "n_layers_analysed": len(m.layers),
            }
            for m in MODELS.values()
        ],
        n_sides=len(SIDES),
        n_sentences=config["sampling"]["n_sentences"],
        methods=METHODS,
        compression=SNAP["compression"],
        compute_dtype=SNAP["compute_dtype"],
        plan=config["plan"],
    script:
        "../workflow/scripts/plan.py"
