# Snapshots: one GPU job per (model, test set, language) writes one HDF5 shard per layer into
# the side's folder; per-model settings come from functions of the `model` wildcard, so a
# site profile sets resources for every model under the one rule name `snapshot`.
from ffnscope.cluster import gpu_job_resources


rule snapshot:
    input:
        sentences=sentences_path("{testset}", "{lang}"),
        lines=side_line_numbers_path("{testset}", "{lang}"),
        model=lambda w: model_input(w.model),
    output:
        directory(snapshot_dir("{model}", "{testset}", "{lang}")),
    log:
        "logs/snapshot/{model}/{testset}_{lang}.log",
    benchmark:
        "benchmarks/snapshot/{model}/{testset}_{lang}.tsv"
    conda:
        "../envs/snapshot.yaml"
    threads: 4
    resources:
        **gpu_job_resources(CLUSTER, lambda w: MODELS[w.model].size_gb),
    params:
        model_path=lambda w: MODELS[w.model].path,
        revision=lambda w: MODELS[w.model].revision,
        n_layers=lambda w: MODELS[w.model].n_layers,
        layers=lambda w: list(MODELS[w.model].layers),
        shards=lambda w: [shard_path(w.model, w.testset, w.lang, layer) for layer in MODELS[w.model].layers],
        prefixes=config["prefixes"],
        snapshot=SNAP,
        # W1's / the gate's raw output is stored where analysed (ffnscope.neurons)
        methods=METHODS,
    script:
        "../workflow/scripts/snapshot.py"
