"""Per-layer statistics rows and the per-model tables gathered from them.

One row = one (model, test set, language, sublayer, layer) under one method and firing rule.
Tables are tab-separated with floats written at full (round-trip) precision.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ffnscope.atomic import atomic_path
from ffnscope.metrics import LayerStats

SUBLAYERS = ("detector", "combinator")
KEYS = ["model", "testset", "lang", "sublayer", "layer"]
ROW_COLUMNS = KEYS + ["method", "firing_rule", "mean", "std", "n_prefixes", "flatness", "flatness_mean"]
FREQUENCY_COLUMNS = KEYS + ["mean", "std", "n_prefixes", "firing_rule", "method"]
FLATNESS_COLUMNS = KEYS + ["flatness", "flatness_mean", "n_prefixes", "method"]
_TEXT_COLUMNS = ["model", "testset", "lang", "sublayer", "method", "firing_rule"]


def stats_row(stats: LayerStats, *, model: str, testset: str, lang: str, sublayer: str, layer: int,
              method: str, firing_rule: str) -> dict:
    """One table row: activation frequency mean/std over neurons and flatness A (eq. 1)."""
    if sublayer not in SUBLAYERS:
        raise ValueError(f"unknown sublayer {sublayer!r}; valid: {', '.join(SUBLAYERS)}")
    return {
        "model": model, "testset": testset, "lang": lang, "sublayer": sublayer, "layer": int(layer),
        "method": method, "firing_rule": firing_rule,
        "mean": stats.frequency_mean(), "std": stats.frequency_std(), "n_prefixes": stats.n_prefixes,
        "flatness": stats.flatness_sum(), "flatness_mean": stats.flatness_mean(),
    }


def write_tsv(df: pd.DataFrame, path: str | Path) -> None:
    """Write atomically. pandas writes floats as their shortest round-trip repr: full
    precision, no float_format needed (read back with `read_tsv`)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False)


def read_tsv(path: str | Path) -> pd.DataFrame:
    """Read a table written by `write_tsv`: text columns stay text (a model named "7" is not a
    number), missing floats (NaN flatness, see metrics.row_flatness) stay NaN, and pandas'
    default float parser round-trips exactly."""
    return pd.read_csv(path, sep="\t", dtype={c: str for c in _TEXT_COLUMNS})


def aggregate(paths: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gather per-layer TSVs into (activation_frequency, flatness) tables sorted by KEYS."""
    if not paths:
        raise ValueError("no per-layer statistics files to aggregate")
    df = pd.concat([read_tsv(p) for p in paths], ignore_index=True)
    missing = [c for c in ROW_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"per-layer statistics lack columns {missing} (files: {paths})")
    unknown = sorted(set(df["sublayer"]) - set(SUBLAYERS))
    if unknown:
        raise ValueError(f"unknown sublayer values {unknown}; valid: {', '.join(SUBLAYERS)}")
    duplicated = df[df.duplicated(KEYS + ["method", "firing_rule"], keep=False)]
    if not duplicated.empty:
        raise ValueError(f"the same layer appears more than once:\n{duplicated[KEYS].to_string(index=False)}")
    df = df.sort_values(KEYS, kind="stable", ignore_index=True)
    return df[FREQUENCY_COLUMNS].copy(), df[FLATNESS_COLUMNS].copy()
