# Figures: one job per (paper figure, method) and one named target per paper figure
# (`snakemake fig02` draws it for every method). A figure's settings are its job's params, so
# changing one re-runs only the figures that read it. Plotting is light, so it runs in the
# main Snakemake process (localrule), not on the cluster.

for _fig, _spec in FIGURES.items():
    for _method in figure_methods(_fig):

        rule:
            name:
                f"plot_{_fig}" + ("" if _method == "paper" else f"_{_method}")
            input:
                figure_inputs(_fig, _method),
            output:
                [
                    report(
                        path,
                        caption=f"../report/{_fig}.rst",
                        category=f"Figures ({_method})",
                        subcategory=_spec["table"],
                    )
                    for path in figure_paths(_fig, _method)
                ],
            log:
                f"logs/figures/{_method}/{_fig}.log",
            localrule: True
            conda:
                "../envs/analysis.yaml"
            params:
                kind=_spec.get("kind", _spec["table"]),
                sublayer=_spec["sublayer"],
                method=_method,
                settings=figure_settings(_fig),
                options=_spec.get("options", {}),
                panels=figure_panels(_fig),
            script:
                "../workflow/scripts/plot_figure.py"

    rule:
        name:
            _fig
        input:
            [path for method in figure_methods(_fig) for path in figure_paths(_fig, method)],
        localrule: True
