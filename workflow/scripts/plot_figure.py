"""Rule script: draw one paper figure for one method (params: figure, a key of
ffnscope.figures.FIGURES; method; settings, the figure's config settings; panels, the
(model, side, layer) of each heat-map input, in input order)."""

from ffnscope.joblog import log_to

log_to(snakemake.log[0])

from ffnscope.figures import FIGURES
from ffnscope.plots import draw_figure, save_figure

p = snakemake.params
fig = draw_figure(FIGURES[p.figure], list(snakemake.input), method=p.method, settings=p.settings, panels=p.panels)
save_figure(fig, list(snakemake.output))
