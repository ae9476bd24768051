"""What a neuron's value is, per FFN family, method and analysis: the one home of the table
in docs/methods.md ("Neurons of every FFN family").

FFN families (ffnscope.adapters): `plain`, W2(act(W1 x)) (XGLM, OPT, GPT-2, BLOOM), and
`gated`, W2(act(gate x) * up x) (Llama, Mistral, Qwen, Gemma). A shard stores W2's input
(`detector`), W2's output (`combinator`) and, where needed, the raw output of W1 or the gate
(`detector_pre`), with the model's FFN family and activation function in its attributes.

Two roles:
  neuron  per-neuron statistics: firing (activation frequency), magnitudes (flatness, the
          per-neuron sums that rank correlation ranks, heat maps)
  vector  whole activation vectors: representation distance, RSA

For a gated FFN, W2's input act(gate) * up has the sign of an unconstrained projection: its
"> 0" fires on ~half of all prefixes by construction. A gated neuron is open where its gate
fires, act(gate x) > 0 (Tang et al. 2024), so the paper's method takes the gate's activation
as the detector neuron's value (config `metrics.gated_neurons`, `gate` by default; `w2_input` keeps
W2's input). Vectors stay W2's input: that is what the FFN combines. The authors' method
takes the activated first-layer output for both roles (act(W1 x) = W2's input for a plain
FFN, act(gate x) for a gated one) and activates combinators too, with the model's own
activation.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np
import pandas as pd

from . import methods
from .activations import activate_rows, check_activation, zero_only_at_zero
from .shards import PRE_ACTIVATION, SUBLAYERS, at_least_float32

FAMILIES = ("plain", "gated")
ROLES = ("neuron", "vector")
GATED_NEURONS = ("gate", "w2_input")  # config metrics.gated_neurons


@dataclass(frozen=True)
class Source:
    """Where a neuron's value comes from: a shard dataset, activated at analysis with the
    model's activation or used as stored (`activated`); `value` names it in tables and figures.
    `family` and `activation` are the model's (shard attributes)."""

    dataset: str
    activated: bool
    value: str
    family: str
    activation: str

    def rows(self, chunk: np.ndarray) -> np.ndarray:
        """Stored rows as the analysis uses them, at least float32."""
        return activate_rows(chunk, self.activation) if self.activated else at_least_float32(chunk)

    def firing_not_measurable(self, firing_rule: str) -> str:
        """Why activation frequency under `firing_rule` cannot vary on these values, by
        construction; "" where it can."""
        rule = "".join(firing_rule.split())
        if self.family == "gated" and self.value == "w2_input":
            if rule == ">0":
                return (
                    "the sign of W2's input act(gate)*up is that of an unconstrained projection: ~0.5 by construction"
                )
            if rule == "!=0":
                return "W2's input act(gate)*up is non-zero almost everywhere: ~1.0 by construction"
        activation_values = self.activated or (self.family == "plain" and self.value == "w2_input")
        if rule == "!=0" and activation_values and zero_only_at_zero(self.activation):
            return f"{self.activation} is non-zero for every non-zero input: ~1.0 by construction"
        return ""


def source(sublayer: str, method: str, role: str, family: str, activation: str, gated: str = "gate") -> Source:
    """The value of a sublayer's neurons that `role` analyses under `method` for a model of FFN
    `family` and `activation` (shard attributes); `gated` is config metrics.gated_neurons."""
    if sublayer not in SUBLAYERS:
        raise ValueError(f"unknown sublayer {sublayer!r}; valid: {', '.join(SUBLAYERS)}")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; valid: {', '.join(ROLES)}")
    if family not in FAMILIES:
        raise ValueError(f"unknown FFN family {family!r}; valid: {', '.join(FAMILIES)}")
    if gated not in GATED_NEURONS:
        raise ValueError(f"metrics.gated_neurons must be one of {', '.join(GATED_NEURONS)}, got {gated!r}")
    check_activation(activation)
    first = "gate" if family == "gated" else "w1"
    if methods.method(method).activation_at_analysis:
        if sublayer == "combinator":
            return Source("combinator", True, "act(w2_output)", family, activation)
        return Source(PRE_ACTIVATION, True, f"act({first})", family, activation)
    if sublayer == "combinator":
        return Source("combinator", False, "w2_output", family, activation)
    if family == "gated" and role == "neuron" and gated == "gate":
        return Source(PRE_ACTIVATION, True, "act(gate)", family, activation)
    return Source("detector", False, "w2_input", family, activation)


def shard_source(
    f: h5py.File, sublayer: str, method: str, role: str, gated: str = "gate"
) -> tuple[Source, h5py.Dataset]:
    """The Source of an open shard (its ffn_family and activation attributes) and the dataset
    it reads, or one error naming the shard when it lacks either."""
    missing = [a for a in ("ffn_family", "activation") if a not in f.attrs]
    if missing:
        raise ValueError(
            f"{f.filename}: no shard attributes {missing} (written by an older ffnscope); delete the shard "
            "and run the workflow again to capture it anew"
        )
    src = source(sublayer, method, role, str(f.attrs["ffn_family"]), str(f.attrs["activation"]), gated)
    if src.dataset not in f:
        raise ValueError(
            f"{f.filename}: no dataset {src.dataset!r}, which method {method!r} analyses for {sublayer}s "
            f"({role} values, {src.value}; has {sorted(f)}); {PRE_ACTIVATION} is stored for gated FFNs and when "
            "metrics.methods includes authors_code"
        )
    return src, f[src.dataset]


def needs_pre_activation(family: str, methods_run: list[str] | tuple[str, ...]) -> bool:
    """Whether a snapshot must store W1's / the gate's raw output: gated FFNs (their neurons'
    firing) and any method that activates at analysis."""
    return family == "gated" or any(methods.method(m).activation_at_analysis for m in methods_run)


def not_measurable(rows: pd.DataFrame) -> str:
    """Why a table's metric cannot vary on its model ("" where it can): the distinct reasons
    in its `not_measurable` column (empty cells read back as NaN)."""
    if "not_measurable" not in rows.columns:
        return ""
    return "; ".join(r for r in dict.fromkeys(rows["not_measurable"].dropna()) if r)
