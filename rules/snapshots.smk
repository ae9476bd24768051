# Snapshots: one GPU job per (model, test set, language) writes one HDF5 shard per layer.
# One rule per model, because each model has its own list of layer shards.
from ffnscope.cluster import gpu_job_resources


def snapshot_rule(model):
    return f"snapshot_{rule_id(model)}"


for _m in MODELS.values():

    rule:
        name:
            snapshot_rule(_m.name)
        input:
            sentences=sentences_path("{testset}", "{lang}"),
            model=model_input(_m.name),
        output:
            [shard_path(_m.name, "{testset}", "{lang}", layer) for layer in _m.layers],
        log:
            f"logs/snapshot/{_m.name}/{{testset}}_{{lang}}.log",
        benchmark:
            f"benchmarks/snapshot/{_m.name}/{{testset}}_{{lang}}.tsv"
        conda:
            "../envs/snapshot.yaml"
        threads: 4
        resources:
            **gpu_job_resources(CLUSTER, _m.size_gb),
        params:
            model=_m.name,
            model_path=_m.path,
            revision=_m.revision,
            n_layers=_m.n_layers,
            layers=list(_m.layers),
            prefixes=config["prefixes"],
            snapshot=SNAP,
            # W1's / the gate's raw output is stored where analysed (ffnscope.neurons)
            methods=METHODS,
        script:
            "../workflow/scripts/snapshot.py"
