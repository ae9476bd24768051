# The sides table (results/tables/{model}/sides.tsv): per side, words per sentence, tokens per
# word, prefixes and merged words (attributes of the side's first layer shard) and the source
# lines sampling left out for want of a prefix. Reads attributes only: a light local job.

# every table of this file
SIDES_TABLES = [table_path(m, "sides") for m in MODELS]


rule sides_table:
    input:
        snapshots=lambda w: [snapshot_dir(w.model, t, lang) for t, lang in SIDES],
        testsets=[testset_dir(t) for t in TESTSETS],
    output:
        table_path("{model}", "sides"),
    log:
        "logs/sides_table/{model}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        shards=lambda w: [shard_path(w.model, t, lang, MODELS[w.model].layers[0]) for t, lang in SIDES],
        eligibility={t: eligibility_path(t) for t in TESTSETS},
    script:
        "../workflow/scripts/sides_table.py"
