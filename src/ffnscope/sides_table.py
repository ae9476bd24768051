"""The sides table: per side of a model's run, how its sentences split into words, tokens and
prefixes, how many source lines sampling left out for want of a prefix, and the dtype its
activations were computed in (`compute_dtype: auto` depends on the node's hardware).

Light: it reads the counts the snapshot stores as shard attributes
(`snapshot.prefix_counts`) and the eligibility counts of test-set sampling, never the
activations.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .schemas import TABLES
from .shards import read_attrs
from .tables import read_tsv, table_frame
from .testsets import SampledTestSet


def eligibility_frame(sample: SampledTestSet) -> pd.DataFrame:
    """Per side of a sampled test set: its source lines with too few words for a prefix
    (`n_short_lines`) and the set's lines never sampled for that reason (`n_ineligible_lines`,
    short on some side)."""
    return pd.DataFrame(
        {
            "lang": list(sample.short_lines),
            "n_short_lines": list(sample.short_lines.values()),
            "n_ineligible_lines": sample.n_ineligible,
        }
    )


def side_row(attrs: Mapping, eligibility: pd.DataFrame) -> dict:
    """One row of the sides table from a shard's attributes and its test set's eligibility."""
    short = eligibility.set_index("lang").loc[attrs["lang"]]
    return {
        "model": attrs["model"],
        "testset": attrs["testset"],
        "lang": attrs["lang"],
        "unit": attrs["prefix_unit"],
        "variant": attrs["prefix_variant"],
        "n_sentences": int(attrs["n_sentences"]),
        "words_per_sentence": attrs["n_words"] / attrs["n_sentences"],
        "tokens_per_word": attrs["n_tokens"] / attrs["n_words"],
        "n_prefixes": int(attrs["n_prefixes"]),
        "n_merged_words": int(attrs["n_merged_words"]),
        "n_short_lines": int(short["n_short_lines"]),
        "n_ineligible_lines": int(short["n_ineligible_lines"]),
        "compute_dtype": attrs["compute_dtype"],
    }


def sides_table(shards: Sequence[str | Path], eligibility: Mapping[str, str | Path]) -> pd.DataFrame:
    """The sides table from one layer shard per side and each test set's eligibility file."""
    frames = {testset: read_tsv(path) for testset, path in eligibility.items()}
    rows = []
    for path in shards:
        attrs = read_attrs(path)
        rows.append(side_row(attrs, frames[attrs["testset"]]))
    table = table_frame(rows, "sides").sort_values(list(TABLES["sides"].keys), ignore_index=True)
    for model, sides in table.groupby("model"):
        if sides["compute_dtype"].nunique() > 1:  # `compute_dtype: auto` on nodes of different hardware
            counts = sides["compute_dtype"].value_counts().to_dict()
            logging.warning(
                "model %s: its sides were computed in different dtypes %s; set snapshot.compute_dtype to one "
                "dtype where every side must share it (docs/performance.md#compute-precision)",
                model,
                counts,
            )
    return table
