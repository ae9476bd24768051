"""Gathering Snakemake benchmark files into the per-rule resource table of the report."""

import pytest

from ffnscope.jobstats import gather, per_rule, plot_job_resources

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write(path, s, rss):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{s}\t0:00:01\t{rss}\t1\t1\t1\t1\t1\t50.0\t{s}\n")
    return str(path)


def test_gather_and_per_rule(tmp_path):
    root = tmp_path / "benchmarks"
    paths = [
        write(root / "snapshot/m/de.tsv", 10.5, 1200.0),
        write(root / "snapshot/m/en.tsv", 4.5, 900.0),
        write(root / "layer_stats/m/paper/de_layer00.tsv", 1.25, 80.0),
    ]
    df = gather(paths, root)
    assert list(df["rule"]) == ["snapshot", "snapshot", "layer_stats"]
    assert list(df["job"]) == ["m/de", "m/en", "m/paper/de_layer00"]
    summary = per_rule(df).set_index("rule")
    assert summary.loc["snapshot", "jobs"] == 2 and summary.loc["snapshot", "total_s"] == 15.0
    assert summary.loc["snapshot", "max_rss_mb"] == 1200.0 and summary.loc["layer_stats", "max_s"] == 1.25
    out = tmp_path / "jobs.png"
    plot_job_resources(df, [str(out)])
    assert out.stat().st_size > 1000


def test_missing_values_and_bad_file(tmp_path):
    root = tmp_path / "benchmarks"
    path = root / "plot/x.tsv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "0.2\t0:00:00\tNA\tNA\tNA\tNA\tNA\tNA\tNA\t0.1\n")
    assert gather([str(path)], root)["max_rss"].isna().all()
    bad = root / "plot/y.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="y.tsv: not a Snakemake benchmark file"):
        gather([str(bad)], root)
