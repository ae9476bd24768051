"""Per-layer result rows and the tables gathered from them.

Per-layer jobs write small TSVs; one job per table gathers them, checks that every row is
there once, sorts them and adds the normalised language and script of every side they name.
Tables are tab-separated with floats written at full (round-trip) precision. Their columns
and keys are those of ffnscope.schemas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ffnscope.atomic import atomic_path
from ffnscope.bootstrap import Bootstrap
from ffnscope.metrics import SentenceStats
from ffnscope.schemas import TABLES, TEXT_COLUMNS, Table
from ffnscope.shards import SUBLAYERS
from ffnscope.sides import language_of

# A per-layer statistics row (layer_stats) holds both tables' values; its CIs carry the
# quantity in their name, the tables' do not.
_FREQUENCY_NAMES = {"frequency_ci_low": "ci_low", "frequency_ci_high": "ci_high"}
_FLATNESS_NAMES = {
    "flatness_ci_low": "ci_low",
    "flatness_ci_high": "ci_high",
    "flatness_mean_ci_low": "mean_ci_low",
    "flatness_mean_ci_high": "mean_ci_high",
}


def stats_row(
    stats: SentenceStats, boot: Bootstrap, *, model: str, testset: str, lang: str, sublayer: str, layer: int
) -> dict:
    """One per-layer row: activation frequency mean/std over neurons, flatness A (eq. 1) and
    A per prefix, with bootstrap CIs over sentences. The resampling stream is the test set,
    so both languages of a test set resample the same sentences."""
    if sublayer not in SUBLAYERS:
        raise ValueError(f"unknown sublayer {sublayer!r}; valid: {', '.join(SUBLAYERS)}")
    frequency_ci = stats.frequency_mean_ci(boot, testset)
    flatness_ci = stats.flatness_ci(boot, testset)
    flatness_mean_ci = stats.flatness_mean_ci(boot, testset)
    return {
        "model": model,
        "method": stats.method,
        "testset": testset,
        "lang": lang,
        "sublayer": sublayer,
        "layer": int(layer),
        "neuron_value": stats.neuron_value,
        "firing_rule": stats.firing_rule,
        "not_measurable": stats.firing_not_measurable(),
        "mean": stats.frequency_mean(),
        "std": stats.frequency_std(),
        "frequency_ci_low": frequency_ci[0],
        "frequency_ci_high": frequency_ci[1],
        "n_prefixes": stats.total_prefixes(),
        "n_sentences": stats.n_sentences,
        "flatness": stats.flatness_sum(),
        "flatness_mean": stats.flatness_mean(),
        "flatness_ci_low": flatness_ci[0],
        "flatness_ci_high": flatness_ci[1],
        "flatness_mean_ci_low": flatness_mean_ci[0],
        "flatness_mean_ci_high": flatness_mean_ci[1],
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
    return pd.read_csv(path, sep="\t", dtype={c: str for c in TEXT_COLUMNS})


def table_frame(rows: Sequence[dict], name: str) -> pd.DataFrame:
    """Rows (dicts) as a frame with the columns of a row of table `name` (all but the language
    columns the gather job adds), in schema order."""
    return pd.DataFrame(rows, columns=list(TABLES[name].row_columns))


def add_languages(df: pd.DataFrame, table: Table, languages: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The table's rows with its language columns (schemas.LanguageColumns): the normalised
    language and script of the code in each side column (a code, or the code of a side name
    "testset/lang"); `languages` as in `sides.language_of` (the workflow's resolved codes)."""
    df = df.copy()
    for spec in table.languages:
        codes = df[spec.side].str.rpartition("/")[2]
        resolved = {code: language_of(code, languages) for code in codes.unique()}
        df[spec.language] = codes.map({code: lang.language for code, lang in resolved.items()})
        df[spec.script] = codes.map({code: lang.script for code, lang in resolved.items()})
    return df[list(table.columns)]


def gather(paths: list[str], table: Table, languages: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Concatenate per-layer TSVs into `table`: check each key occurs once, sort by the keys,
    add the language columns (`add_languages`)."""
    columns, keys = list(table.row_columns), list(table.keys)
    if not paths:
        raise ValueError("no per-layer result files to gather")
    df = pd.concat([read_tsv(p) for p in paths], ignore_index=True)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"per-layer results lack columns {missing} (files: {paths})")
    if "sublayer" in keys:
        unknown = sorted(set(df["sublayer"]) - set(SUBLAYERS))
        if unknown:
            raise ValueError(f"unknown sublayer values {unknown}; valid: {', '.join(SUBLAYERS)}")
    duplicated = df[df.duplicated(keys, keep=False)]
    if not duplicated.empty:
        raise ValueError(f"the same row appears more than once:\n{duplicated[keys].to_string(index=False)}")
    return add_languages(df.sort_values(keys, kind="stable", ignore_index=True), table, languages)


def aggregate(paths: list[str], languages: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gather per-layer statistics TSVs into (activation_frequency, flatness) tables."""
    df = gather(paths, TABLES["layer_stats"])
    frequency, flatness = TABLES["activation_frequency"], TABLES["flatness"]
    return (
        add_languages(df.rename(columns=_FREQUENCY_NAMES), frequency, languages),
        add_languages(df.rename(columns=_FLATNESS_NAMES), flatness, languages),
    )


def gather_tables(
    paths: list[str], names: list[str], languages: Mapping[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """The tables of one gather job, by output name: `frequency` and `flatness` from
    per-layer statistics rows, or `rank_correlation` from per-layer correlation rows."""
    if sorted(names) == ["flatness", "frequency"]:
        return dict(zip(("frequency", "flatness"), aggregate(paths, languages)))
    if names == ["rank_correlation"]:
        return {"rank_correlation": gather(paths, TABLES["rank_correlation"], languages)}
    raise ValueError(f"no gathered tables named {names}; valid: [frequency, flatness] or [rank_correlation]")


def markdown_table(df: pd.DataFrame, columns: Sequence[str] | None = None, floatfmt: str = "{:.3g}") -> str:
    """`columns` of `df` (those it has; default all) as a Markdown table, floats as `floatfmt`."""
    cols = [c for c in (columns or df.columns) if c in df]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df[cols].iterrows():
        cells = ("" if pd.isna(v) else floatfmt.format(v) if isinstance(v, float) else str(v) for v in r)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
