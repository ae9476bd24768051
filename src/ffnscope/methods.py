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
    # detectors read from the shard: W2's input ("detector") or fc1's output before the
    # activation ("detector_pre"), which the method activates at analysis time
    detector_source: str
    # firing rule used instead of config metrics.firing_rule, if the method fixes one
    firing_rule: str | None
    # Algorithm 1 pairings the method can tell apart (the authors' pooled variant has no pairs)
    distance_pairings: tuple[str, ...]
    # RSA: weight of the diagonal entries in the authors' correlation of RDMs (1: none kept)
    rsa_diagonal_weight: int
    # figures of the primary method sit at the top of results/figures, others in a subdirectory
    figure_subdir: str


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("paper", "the formulas as the paper states them", "detector", None, ("parallel", "shuffled"), 1, ""),
        Method(
            "authors_code",
            "as the authors' scripts compute them",
            "detector_pre",
            "!= 0",
            ("parallel",),
            2,
            "authors_code",
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
