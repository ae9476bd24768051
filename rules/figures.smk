# Figures: one job per (paper figure, method) and one named target per paper figure
# (`snakemake fig02` draws it for every method), all read from the figure registry
# (ffnscope.figures). A figure's settings are its job's params, so changing one re-runs only
# the figures that read it. Plotting is light, so it runs in the main Snakemake process
# (localrule), not on the cluster.
import posixpath

from ffnscope import figures, methods
from ffnscope.schemas import TABLES
from ffnscope.sides import Side

FIGURE_FORMATS = config["figures"]["formats"]


def figure_settings(fig):
    """Only the settings a figure uses become its params, so changing one re-runs only the
    figures that read it."""
    return {key: config["figures"][key] for key in fig.settings}


def figure_panels(fig):
    """(model, side, layer) of each heat-map file a figure draws, in drawing order: per model
    and heat-map side, its heat-map layers (all, or the first for panel_layers "first");
    [] for figures drawn from tables."""
    if fig.table != figures.HEATMAPS:
        return []
    count = 1 if fig.panel_layers == "first" else None
    return [(m, side.name, layer) for m in MODELS for side in HEATMAP_SIDES for layer in HEATMAP_LAYERS[m][:count]]


def figure_inputs(fig, method):
    """The files a figure is drawn from: its heat maps, its table of the run, or its table of every model."""
    if fig.table == figures.HEATMAPS:
        return [heatmap_path(m, method, *Side.parse(side), layer) for m, side, layer in figure_panels(fig)]
    if TABLES[fig.table].scope == "run":
        return [run_table_path(fig.table)]
    return [table_path(m, fig.table) for m in MODELS]


def figure_methods(fig):
    """A figure drawn from method-independent data (English overlap) is drawn once."""
    return METHODS[:1] if fig.method_independent else METHODS


def figure_rule(fig, method):
    """plot_fig02 for the method whose figures sit at the top of results/figures,
    plot_fig02_{method} for the others."""
    return f"plot_{fig.id}" + (f"_{method}" if methods.method(method).figure_subdir else "")


def figure_paths(fig, method):
    subdir = methods.method(method).figure_subdir
    return [posixpath.join("results/figures", subdir, f"{fig.stem}.{ext}") for ext in FIGURE_FORMATS]


def all_figures(optional=False):
    """The figures `all` draws, or (optional=True) those drawn only on request."""
    return [
        path
        for fig in figures.FIGURES.values()
        if fig.optional == optional
        for method in figure_methods(fig)
        for path in figure_paths(fig, method)
    ]


for _fig in figures.FIGURES.values():
    for _method in figure_methods(_fig):

        rule:
            name:
                figure_rule(_fig, _method)
            input:
                figure_inputs(_fig, _method),
            output:
                [
                    report(
                        path,
                        caption=f"../{_fig.caption}",
                        category=f"Figures ({_method})",
                        subcategory=_fig.table,
                    )
                    for path in figure_paths(_fig, _method)
                ],
            log:
                f"logs/figures/{_method}/{_fig.id}.log",
            localrule: True
            conda:
                "../envs/analysis.yaml"
            params:
                figure=_fig.id,
                method=_method,
                settings=figure_settings(_fig),
                panels=figure_panels(_fig),
            script:
                "../workflow/scripts/plot_figure.py"

    rule:
        name:
            _fig.id
        input:
            [path for method in figure_methods(_fig) for path in figure_paths(_fig, method)],
        localrule: True
