"""What the compute precision of the snapshots does to the paper's metrics: the tables of a run
at another `snapshot.compute_dtype` against the same run at float32, row by row, beside the
bootstrap intervals of the float32 run (tools/precision.py runs the workflow once per dtype).

A difference well inside the interval's half-width is noise the sample already carries; one
near or beyond it changes what the table says.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ffnscope.schemas import TABLES

# table -> the value column compared; its interval is (ci_low, ci_high) where the table has one
VALUES = {
    "activation_frequency": "mean",
    "flatness": "flatness",
    "representation_distance": "distance",
    "rank_correlation": "rho",
    "rsa": "similarity",
}


def _key(table: str) -> list[str]:
    """The columns that name a row (every column but the measured ones)."""
    measured = {
        VALUES[table],
        "ci_low",
        "ci_high",
        "std",
        "p_value",
        "flatness_mean",
        "mean_ci_low",
        "mean_ci_high",
        "distance_mean",
    }
    return [c for c in TABLES[table].columns if c not in measured]


def compare_table(table: str, reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per sublayer: rows compared, median and largest absolute difference of the value, the
    same relative to the reference's interval half-width, and the share of rows whose
    difference exceeds that half-width. Rows must match one to one."""
    value, key = VALUES[table], _key(table)
    merged = reference.merge(other, on=key, suffixes=("", "_other"), how="outer", indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    if len(unmatched):
        raise ValueError(f"{table}: {len(unmatched)} rows are in one run only, e.g. {unmatched[key].iloc[0].to_dict()}")
    merged["diff"] = (merged[f"{value}_other"] - merged[value]).abs()
    has_ci = "ci_low" in merged
    if has_ci:
        half = (merged["ci_high"] - merged["ci_low"]) / 2
        merged["rel"] = merged["diff"] / half.where(half > 0)
    rows = []
    for sublayer, group in merged.groupby("sublayer", sort=True):
        finite = group["diff"].dropna()
        row = {
            "table": table,
            "value": value,
            "sublayer": sublayer,
            "n_rows": len(group),
            "n_not_finite": int(group["diff"].isna().sum()),
            "median_abs_diff": float(finite.median()) if len(finite) else np.nan,
            "max_abs_diff": float(finite.max()) if len(finite) else np.nan,
        }
        if has_ci:
            rel = group["rel"].dropna()
            row |= {
                "median_diff_per_ci_half": float(rel.median()) if len(rel) else np.nan,
                "max_diff_per_ci_half": float(rel.max()) if len(rel) else np.nan,
                "share_beyond_ci_half": float((rel > 1).mean()) if len(rel) else np.nan,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def compare_language_neurons(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """The LAPE selections: neurons selected in both runs over those selected in either
    (Jaccard), per method."""
    rows = []
    for method, ref in reference.groupby("method"):
        a = set(zip(ref["layer"], ref["neuron"], ref["languages"]))
        oth = other[other["method"] == method]
        b = set(zip(oth["layer"], oth["neuron"], oth["languages"]))
        union = a | b
        rows.append(
            {
                "table": "language_neurons",
                "value": "selected (layer, neuron, languages)",
                "sublayer": "detector",
                "n_rows": len(union),
                "jaccard": len(a & b) / len(union) if union else 1.0,
            }
        )
    return pd.DataFrame(rows)


def compare_runs(reference: Mapping[str, pd.DataFrame], other: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every table of VALUES (and the LAPE selection) that both runs have."""
    parts = [compare_table(t, reference[t], other[t]) for t in VALUES if t in reference and t in other]
    if "language_neurons" in reference and "language_neurons" in other:
        parts.append(compare_language_neurons(reference["language_neurons"], other["language_neurons"]))
    return pd.concat(parts, ignore_index=True)
