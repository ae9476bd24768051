# Figures: one job and one named target per paper figure (`snakemake fig02`). A figure's
# settings are its job's params, so changing one re-runs only that figure. Plotting is light,
# so it runs in the main Snakemake process (localrule), not on the cluster.

for _fig, _spec in FIGURES.items():

    rule:
        name:
            f"plot_{_fig}"
        input:
            [table_path(m, _spec["table"]) for m in MODELS],
        output:
            [
                report(path, caption=f"../report/{_fig}.rst", category="Figures", subcategory=_spec["table"])
                for path in figure_paths(_fig)
            ],
        params:
            kind=_spec["table"],
            sublayer=_spec["sublayer"],
            settings=figure_settings(_fig),
        conda:
            "../envs/analysis.yaml"
        log:
            f"logs/figures/{_fig}.log",
        localrule: True
        script:
            "../workflow/scripts/plot_figure.py"

    rule:
        name:
            _fig
        localrule: True
        input:
            figure_paths(_fig),
