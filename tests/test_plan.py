"""The run-size estimator against hand-computed numbers."""

import pytest

from ffnscope import plan
from ffnscope.plan import XGLM, ModelDims, estimate_run, flops_per_token, seconds_per_gflop


def test_params_per_layer_plain_and_gated():
    assert ModelDims(n_layers=2, d_model=4, ffn_dim=8).params_per_layer() == 4 * 16 + 2 * 32
    assert ModelDims(n_layers=2, d_model=4, ffn_dim=8, gated=True).params_per_layer() == 4 * 16 + 3 * 32
    # xglm-564M: 24 x (4 x 1024^2 + 2 x 1024 x 4096) = 302 M decoder weights (564M with embeddings)
    assert XGLM["xglm-564M"].params_per_layer() * 24 == 301_989_888


def test_flops_and_cost_roundtrip():
    # 3 layers x (2 x 100 + 2 x 10 x 4) = 3 x 280
    assert flops_per_token(100, 3, 4, 10) == 840.0
    # 2 s for 1000 tokens of 1e9 FLOPs each = 2 s per 1000 GFLOP
    assert seconds_per_gflop(2.0, 1000, 1e9) == pytest.approx(0.002)


def test_estimate_run_by_hand():
    dims = ModelDims(n_layers=2, d_model=4, ffn_dim=8)  # 128 weights per layer
    est = estimate_run(
        dims,
        seconds_per_gflop=3600.0,
        n_sides=2,
        n_sentences=10,
        words_per_sentence=5,
        tokens_per_word=1.0,
        bytes_per_value=2.0,
    )
    assert est.n_prefixes == 100  # 2 sides x 10 sentences x 5 words
    assert est.n_tokens == 120  # plus one BOS per sentence
    # per token: 2 layers x (2 x 128 + 2 x 6 x 4) = 608 FLOPs; 120 x 608 / 1e9 GFLOP x 3600 s / 3600
    assert est.compute_hours == pytest.approx(120 * 608 / 1e9)
    assert est.disk_gb == pytest.approx(100 * 2 * (8 + 4) * 2.0 / 1e9)
    assert est.write_hours == 0.0 and est.hours == est.compute_hours
    with_pre = estimate_run(
        dims,
        seconds_per_gflop=3600.0,
        n_sides=2,
        n_sentences=10,
        words_per_sentence=5,
        tokens_per_word=1.0,
        bytes_per_value=2.0,
        store_pre_activation=True,
    )
    assert with_pre.disk_gb == pytest.approx(100 * 2 * (8 + 8 + 4) * 2.0 / 1e9)


def test_writer_bounds_the_job_when_slower():
    dims = ModelDims(n_layers=1, d_model=500, ffn_dim=500)
    # 1000 prefixes x 1000 values x 2 bytes = 2 MB of float16 at 1 MB/s: 2 s of writing
    est = estimate_run(
        dims,
        seconds_per_gflop=0.0,
        n_sides=1,
        n_sentences=100,
        words_per_sentence=10,
        tokens_per_word=1.0,
        bytes_per_value=1.0,
        write_mb_s=1.0,
    )
    assert est.write_hours == pytest.approx(2 / 3600)
    assert est.hours == est.write_hours
    assert est.disk_gb == pytest.approx(1e6 / 1e9)


def test_dims_from_config_json_of_each_family():
    gemma = {
        "text_config": {
            "model_type": "gemma3_text",
            "hidden_size": 640,
            "intermediate_size": 2048,
            "num_hidden_layers": 18,
        }
    }
    assert plan.dims_from_config(gemma) == plan.ModelDims(n_layers=18, d_model=640, ffn_dim=2048, gated=True)
    gpt2 = {"model_type": "gpt2", "n_embd": 768, "n_inner": None, "n_layer": 12}
    assert plan.dims_from_config(gpt2) == plan.ModelDims(n_layers=12, d_model=768, ffn_dim=3072, gated=False)
    assert plan.model_dims("xglm-1.7B", "facebook/xglm-1.7B") == plan.XGLM["xglm-1.7B"]
    assert plan.model_dims("elsewhere", "/nonexistent/model") is None


def test_plan_table_rows_are_the_estimates(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "xglm", "d_model": 64, "ffn_dim": 256, "num_layers": 4}')
    costs = {
        "cpu": "Some CPU (avx2)",
        "cpu_seconds_per_gflop": {"float32": 0.03, "bfloat16": 0.01},
        "bytes_per_value": 2.0,
        "write_mb_s": 1000.0,
    }
    table = plan.plan_table(
        [
            {"name": "tiny", "path": str(tmp_path), "n_layers_analysed": 2},
            {"name": "hub-only", "path": "org/not-downloaded", "n_layers_analysed": 2},
        ],
        costs=costs,
        gpu_tflops=50,
        n_sides=8,
        n_sentences=100,
        words_per_sentence=10,
        tokens_per_word=1.5,
        methods=["paper", "authors_code"],
        compute_dtype="auto",
    )
    cpu = plan.estimate_run(
        plan.ModelDims(4, 64, 256),
        seconds_per_gflop=0.03,
        n_sides=8,
        n_sentences=100,
        words_per_sentence=10,
        tokens_per_word=1.5,
        bytes_per_value=2.0,
        store_pre_activation=True,
        n_layers_analysed=2,
        write_mb_s=1000.0,
    )
    row = table.iloc[0]
    assert (row.device, row.compute_dtype) == ("CPU: Some CPU (avx2) (measured)", "float32")
    assert row.n_prefixes == 8000 and row.snapshot_hours == cpu.hours and row.disk_gb == cpu.disk_gb
    # 8000 prefixes x 2 layers x (2 x 256 + 64) values x 2 bytes
    assert row.disk_gb == 8000 * 2 * (2 * 256 + 64) * 2 / 1e9
    # auto: bfloat16 on CPUs with native bfloat16, at its own measured cost (a third of float32's)
    assert table.iloc[1].compute_dtype == "bfloat16"
    assert table.iloc[1].snapshot_hours == pytest.approx(cpu.compute_hours / 3)
    assert (table.iloc[2].device, table.iloc[2].compute_dtype) == ("GPU at 50 TFLOP/s (assumed)", "bfloat16")
    assert table.iloc[3].model == "hub-only" and table.iloc[3].device.startswith("unknown")


def test_measured_costs_come_from_the_largest_model_measured(tmp_path):
    # the benchmark's tables: a tiny model (all fixed costs) and a larger one, whatever their names
    (tmp_path / "extraction.tsv").write_text(
        "model\tway\tdtype\tdevice_name\tseconds\tn_sentences\tn_tokens\tn_layers\tparams_per_layer\td_model\n"
        "tiny\tsnapshot\tfloat32\tX (avx2)\t1.0\t4\t40\t2\t100\t4\n"
        "larger\tper_prefix\tfloat32\tX (avx2)\t99.0\t4\t40\t3\t1000\t10\n"
        "larger\tsnapshot\tfloat32\tX (avx2)\t2.0\t4\t40\t3\t1000\t10\n"
        "larger\tsnapshot_padded\tfloat32\tX (avx2)\t3.0\t4\t40\t3\t1000\t10\n"
        "larger\tsnapshot_bfloat16\tbfloat16\tX (avx2)\t0.5\t4\t40\t3\t1000\t10\n"
    )
    (tmp_path / "storage.tsv").write_text(
        "storage_dtype\tcompression\tbytes_per_value\twrite_mb_s\nfloat16\tlzf\t1.9\t150.0\nfloat16\tnone\t2.0\t900.0\n"
    )
    costs = plan.measured_costs(tmp_path / "extraction.tsv", tmp_path / "storage.tsv", "none")
    # larger: 3 layers x (2 x 1000 + 2 x 10 tokens x 10) = 6600 FLOPs per token, 40 tokens in 2 s
    per_gflop = 40 * 6600 / 1e9
    assert costs["cpu_seconds_per_gflop"] == pytest.approx({"float32": 2.0 / per_gflop, "bfloat16": 0.5 / per_gflop})
    assert costs["cpu"] == "X (avx2)"
    assert costs["bytes_per_value"] == 2.0 and costs["write_mb_s"] == 900.0


def test_device_costs_follow_compute_dtype():
    costs = {"cpu": "X", "cpu_seconds_per_gflop": {"float32": 0.5, "bfloat16": 0.2}}
    cpu, gpu = "CPU: X (measured)", "GPU at 50 TFLOP/s (assumed)"
    assert plan.device_costs(costs, 50, "auto") == [
        (cpu, "float32", 0.5),
        (cpu, "bfloat16", 0.2),
        (gpu, "bfloat16", 1 / 50e3),
    ]
    assert plan.device_costs(costs, 50, "float32") == [(cpu, "float32", 0.5), (gpu, "float32", 1 / 50e3)]
    # float16 is not measured on the CPU: no cost rather than another dtype's
    (_, dtype, cost), _ = plan.device_costs(costs, 50, "float16")
    assert dtype == "float16" and cost != cost
