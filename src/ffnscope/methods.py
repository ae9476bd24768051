"""Methods: the paper's formulas and the authors' code (../shared/METHOD_NOTES.md), the one
home of what differs between them. Every analysis runs once per configured method and every
output names its method.

Free of heavy imports: the workflow uses it while parsing the Snakefile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    # the model's activation applied at analysis to W1's / the gate's raw output (detectors)
    # and to combinators, as the authors' scripts GELU both; what each method reads per FFN
    # family and analysis is ffnscope.neurons
    activation_at_analysis: bool
    # firing rule used instead of config metrics.firing_rule, if the method fixes one
    firing_rule: str | None
    # Algorithm 1 pairings the method can tell apart (the authors' pooled variant has no pairs)
    distance_pairings: tuple[str, ...]
    # RSA: 1 compares the upper triangles of the RDMs alone; 2 the full matrices, diagonal
    # included (each triangle counts twice), as the authors' scripts do
    rsa_diagonal_weight: int
    # figures of the primary method sit at the top of results/figures, others in a subdirectory
    figure_subdir: str


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            name="paper",
            description="the formulas as the paper states them",
            activation_at_analysis=False,
            firing_rule=None,
            distance_pairings=("parallel", "shuffled"),
            rsa_diagonal_weight=1,
            figure_subdir="",
        ),
        Method(
            name="authors_code",
            description="as the authors' scripts compute them",
            activation_at_analysis=True,
            firing_rule="!= 0",
            distance_pairings=("parallel",),
            rsa_diagonal_weight=2,
            figure_subdir="authors_code",
        ),
    )
}


def method(name: str) -> Method:
    """The registered method `name`, or one error naming the valid ones."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; valid: {', '.join(METHODS)}") from None


def firing_rule_for(name: str, configured: str) -> str:
    """The firing rule a method counts with: its own, or `metrics.firing_rule`."""
    return method(name).firing_rule or configured
