"""Reading published measurements (speed.csv specifics, llama-bench JSON) and validating against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigcheck.catalog.store import load_catalog
from rigcheck.estimate.calibration.matching import match_model, resolve_device_name
from rigcheck.estimate.calibration.measurements import MeasurementError, read_measurements
from rigcheck.estimate.calibration.validation import platform_of, validate

SPEED_CSV = Path("/work/shared/calibration/speed.csv")
HEADER = ("source_url_or_repo_path,engine,device,device_count,model,params_b,active_params_b,quant,"
          "bits_per_weight_if_known,context_or_prompt_tokens,prefill_tok_s,decode_tok_s,batch_size,notes\n")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _csv(tmp_path, *rows: str) -> Path:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = {
    "xiongjie": ('src,llama.cpp (CUDA),NVIDIA GeForce RTX 4090 24GB,2,Llama 3 8B,8.03,8.03,Q4_K_M,,4096,8422.04,'
                 '114.32,1,"pp4096 and tg4096 are separate llama-bench tests; tg4096 = mean t/s generating 4096 '
                 'tokens from an empty context; model file size 4.58 GiB per llama-bench; no flash-attention; '
                 'all layers offloaded (ngl 99 in output)"'),
    "depth": ('src,llama.cpp (CUDA),NVIDIA DGX Spark (GB10),1,gpt-oss-20b,20.91,3.6,MXFP4 (MoE experts),,2048,'
              '2732.83,71.57,1,"llama-bench tests pp2048@d16384 and tg32@d16384; fa=1, n_ubatch=2048; model file '
              '11.27 GiB"'),
    "batched": ('src,"llama.cpp (CUDA, llama-batched-bench)",NVIDIA DGX Spark (GB10),1,gpt-oss-20b,20.91,3.6,'
                'MXFP4 (MoE experts),,4096,3781.73,320.34,16,"B=16 parallel sequences, each PP=4096 prompt '
                'tokens then TG=32 generated tokens; flash_attn = 1, n_ubatch = 2048, n_gpu_layers = -1"'),
    "max_load": ('src,"TensorRT-LLM (PyTorch backend, trtllm-bench throughput)",NVIDIA H200 SXM 141GB (DGX H200),1,'
                 'Llama-3.1-8B-Instruct,8,8,FP8 (NVIDIA ModelOpt checkpoint),,128,,27911,max_load,"maximum load"'),
    "oom": ('src,llama.cpp (CUDA),NVIDIA GeForce RTX 3070 8GB,1,Llama 3 8B,8.03,8.03,F16,,1024,,,1,"OOM: overview '
            'tables list this model/quant as out of memory on this configuration; model file size 14.96 GiB"'),
    "caveat": ('src,llama.cpp (CUDA),NVIDIA L40S 48GB,1,Llama 3 8B,8.03,8.03,F16,,512,2253.93,43.69,1,"model file '
               'size 14.96 GiB; all layers offloaded (ngl 99 in output); CAVEAT: anomalously low prompt numbers"'),
    "strix": ('src,llama.cpp (Vulkan; toolbox vulkan_radv),"AMD Ryzen AI Max+ 395 ""Strix Halo"" (Radeon 8060S iGPU '
              'gfx1151; Framework Desktop, 128 GB RAM, GTT capped at 124 GiB)",1,llama-2-7b.Q4_0,6.74,6.74,Q4_0,,'
              '512,1337.7,55.73,1,"llama-bench fa=1 mmap=0 ngl=99; tests pp512@d0 / tg128@d0; model file 3.56 GiB"'),
    "unknown_model": ('src,llama.cpp (CUDA),NVIDIA GeForce RTX 4090 24GB,1,Mystery-7B,7.0,7.0,Q8_0,,512,9000,'
                      '80,1,"all layers offloaded (ngl 99 in output)"'),
}


@pytest.mark.parametrize(
    "name, field, expected, reason",
    [
        ("xiongjie", "decode_depth_tokens", 2048, "tgN averages N tokens generated from empty: mean depth N/2"),
        ("xiongjie", "device_count", 2, "multi-GPU rows keep their count"),
        ("xiongjie", "file_size_bytes", int(4.58 * 1024**3), "file size read from the notes"),
        ("xiongjie", "all_layers_on_gpu", True, "ngl 99: every layer on the GPU"),
        ("xiongjie", "flash_attention", False, "2024 rows ran without flash attention"),
        ("depth", "prompt_depth_tokens", 16384, "pp2048@d16384: 16k tokens already in the cache"),
        ("depth", "decode_depth_tokens", 16384 + 16, "tg32@d16384: mean depth d + 16"),
        ("depth", "ubatch_tokens", 2048, "n_ubatch from the notes"),
        ("depth", "flash_attention", True, "fa=1"),
        ("batched", "batch_size", 16, "llama-batched-bench: aggregate over 16 sequences"),
        ("batched", "decode_depth_tokens", 4096 + 16, "TG=32 after PP=4096"),
        ("max_load", "max_load", True, "TensorRT-LLM whole-system throughput"),
        ("max_load", "batch_size", None, "no batch size at max load"),
        ("oom", "oom", True, "out of memory in the source"),
        ("caveat", "caveat", "CAVEAT: anomalously low prompt numbers", "caveat kept"),
        ("strix", "backend", "vulkan", "backend from the engine column"),
        ("strix", "ram_bytes", 128 * 1024**3, "RAM named in the device column"),
    ],
)
def test_speed_csv_specifics(tmp_path, name, field, expected, reason):
    (m,) = read_measurements(_csv(tmp_path, ROWS[name]))
    assert getattr(m, field) == expected, reason


def test_oom_is_a_word_not_a_substring(tmp_path):
    row = ('src,llama.cpp (CUDA),NVIDIA GeForce RTX 4090 24GB,1,bloom-7b,7.0,7.0,Q4_0,,512,9000,80,1,'
           '"bloom-7b in a roomy box; all layers offloaded (ngl 99 in output)"')
    (m,) = read_measurements(_csv(tmp_path, row))
    assert m.oom is False


@pytest.mark.parametrize(
    "name, expected",
    [
        ("NVIDIA GeForce RTX 4090 24GB", "NVIDIA GeForce RTX 4090"),
        ("NVIDIA H100 SXM 80GB (DGX H100)", "NVIDIA H100 SXM"),
        ("NVIDIA H200 SXM 141GB (DGX H200)", "NVIDIA H200 SXM"),
        ("Apple M2 Ultra (76-core GPU) 192GB", "Apple M2 Ultra (76-core GPU)"),
        ('AMD Ryzen AI Max+ 395 "Strix Halo" (Radeon 8060S iGPU gfx1151; Framework Desktop, 128 GB RAM)',
         "AMD Ryzen AI Max+ 395 (Radeon 8060S)"),
        ("NVIDIA GeForce RTX 3080 10GB", "NVIDIA GeForce RTX 3080"),
    ],
)
def test_messy_device_names_resolve(catalog, name, expected):
    device = resolve_device_name(name, catalog.devices)
    assert device is not None and device.name == expected


@pytest.mark.parametrize(
    "name, params, expected",
    [("Llama 3 8B", 8.03, "meta-llama/Meta-Llama-3-8B"),
     ("gpt-oss-20b-mxfp4", 20.91, "openai/gpt-oss-20b"),
     ("llama-2-7b.Q4_0", 6.74, "meta-llama/Llama-2-7b-hf"),
     ("Qwen3.6-35B-A3B-UD-Q4_K_XL", 35.51, "Qwen/Qwen3.6-35B-A3B"),
     ("Mystery-7B", 7.0, None)],
)
def test_models_match_the_catalog_by_name_and_size(catalog, name, params, expected):
    model = match_model(name, params, catalog)
    assert (model.id if model else None) == expected


def test_validate_rows_skips_and_fit_agreement(tmp_path, catalog):
    rows = read_measurements(_csv(tmp_path, *ROWS.values()))
    report = validate(rows, catalog)
    by_row = {r.measurement.row: r for r in report.rows}
    skipped = {s["row"]: s["reason"] for s in report.skipped}
    assert 3 in skipped and "maximum load" in skipped[3]
    assert by_row[4].verdict not in ("gpu", "unified"), "the OOM row must not fit on the GPU"
    assert by_row[0].verdict == "gpu" and by_row[6].verdict == "unified"
    assert by_row[7].model_note and by_row[7].model_id.startswith("generic/"), "unknown model: generic shape"
    assert not by_row[5].prefill_used, "CAVEAT prefill left out of the error figures"
    assert report.fit_checked == 6 and report.fit_agreement == 1.0  # 5 rows on the GPU, 1 OOM
    d = report.to_dict()
    entry = d["rows"][0]
    for key in ("row", "model_id", "quant", "device", "verdict", "prefill_expected", "decode_expected",
                "measured_prefill", "measured_decode"):
        assert key in entry
    assert d["skipped"][0]["reason"]


def test_batched_rows_compare_with_serving_throughput(tmp_path, catalog):
    (row,) = validate(read_measurements(_csv(tmp_path, ROWS["batched"])), catalog).rows
    assert row.platform.endswith("batched")
    assert 0.6 < row.decode_expected / 320.34 < 1.5, "aggregate decode of 16 sequences"


def test_llama_bench_json(tmp_path, catalog):
    tests = [
        {"model_filename": "/models/Meta-Llama-3-8B-Instruct-Q4_K_M.gguf",
         "model_type": "llama 8B Q4_K - Medium", "model_size": 4920000000, "model_n_params": 8030000000,
         "backends": "CUDA", "gpu_info": "NVIDIA GeForce RTX 4090", "n_gpu_layers": 99, "flash_attn": True,
         "n_ubatch": 512, "n_prompt": 512, "n_gen": 0, "n_depth": 0, "avg_ts": 11000.0},
        {"model_type": "llama 8B Q4_K - Medium", "model_size": 4920000000, "model_n_params": 8030000000,
         "backends": "CUDA", "gpu_info": "NVIDIA GeForce RTX 4090", "n_gpu_layers": 99, "flash_attn": True,
         "n_ubatch": 512, "n_prompt": 0, "n_gen": 128, "n_depth": 0, "avg_ts": 140.0},
    ]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(tests))
    ms = read_measurements(path)
    assert [m.quant for m in ms] == ["Q4_K_M", "Q4_K_M"]
    assert ms[0].prefill_tokens_per_s == 11000.0 and ms[0].decode_tokens_per_s is None
    assert ms[1].decode_depth_tokens == 64
    report = validate(ms, catalog)
    assert len(report.rows) == 2 and report.rows[0].verdict == "gpu"
    assert report.rows[0].model_id == "meta-llama/Meta-Llama-3-8B", "matched by file name, -Instruct dropped"
    assert report.rows[1].model_id.startswith("generic/"), "only llama.cpp's type label: a generic 8B shape"
    assert report.to_dict()["rows"][0]["prefill_error_pct"] is not None
    assert report.errors("decode").count == 1 and report.errors("prefill").count == 1


@pytest.mark.parametrize(
    "content, message",
    [(b"name,value\n1,2\n", "missing columns"),
     (b"\xff\xfe\x00garbage", "not a text file"),
     (b"[1, 2]", "list of test objects"),
     (b"[{\"n_prompt\": 1}]", "lacks n_prompt/n_gen/avg_ts"),
     (b"{not json", "not llama-bench JSON")],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(MeasurementError, match=message):
        read_measurements(path)


def test_missing_file(tmp_path):
    with pytest.raises(MeasurementError, match="cannot read"):
        read_measurements(tmp_path / "absent.csv")


@pytest.mark.skipif(not SPEED_CSV.exists(), reason="shared calibration data not present")
def test_calibration_data_fit_agreement_is_total(catalog):
    """Every row measured with all layers on the GPU is judged to fit there; every OOM row is not."""
    report = validate(read_measurements(SPEED_CSV), catalog)
    assert report.fit_checked > 300
    assert report.fit_disagreements == []
    assert report.errors("decode").median_pct < 15


@pytest.mark.slow
@pytest.mark.skipif(not SPEED_CSV.exists(), reason="shared calibration data not present")
@pytest.mark.parametrize(
    "backend, names",
    [("cuda", ("decode_f16", "decode_quant", "prefill_f16", "prefill_quant", "decode_overhead_s_per_layer")),
     ("metal", ("decode_f16", "decode_quant", "prefill_f16", "prefill_quant"))],
)
def test_recorded_constants_are_the_fitted_optimum(catalog, backend, names):
    """efficiency.py's constants still agree with speed.csv: moving any of them 10% either way does not
    lower the fit objective by more than half a point (they were chosen by fitting.fit_constants)."""
    from rigcheck.estimate import efficiency as eff_mod
    from rigcheck.estimate.calibration.fitting import constant_value, objective, with_constant

    rows = [m for m in read_measurements(SPEED_CSV) if m.backend == backend and m.runtime == "llama.cpp"]
    prefix = platform_of(rows[0]).removesuffix(" batched")
    key = ("llama.cpp", backend)
    recorded = eff_mod.EFFICIENCY[key]
    base = objective(validate(rows, catalog), prefix)
    try:
        for name in names:
            for factor in (0.9, 1.1):
                value = constant_value(recorded, name) * factor
                if name.startswith("decode_") and value > 1.0 and "overhead" not in name:
                    continue
                eff_mod.EFFICIENCY[key] = with_constant(recorded, name, value)
                moved = objective(validate(rows, catalog), prefix)
                assert moved >= base - 0.5, f"{name} x{factor}: objective {moved:.2f} < recorded {base:.2f}"
    finally:
        eff_mod.EFFICIENCY[key] = recorded


def test_llama_bench_cpu_run_is_estimated_on_the_cpu(tmp_path, catalog):
    tests = [{"model_filename": "Meta-Llama-3-8B-Q4_K_M.gguf", "model_type": "llama 8B Q4_K - Medium",
              "model_size": 4920000000, "model_n_params": 8030000000, "backends": "CPU",
              "cpu_info": "AMD Ryzen 9 7950X 16-Core Processor", "gpu_info": "", "n_threads": 16,
              "n_gpu_layers": 0, "n_prompt": 0, "n_gen": 128, "n_depth": 0, "avg_ts": 12.5}]
    path = tmp_path / "cpu.json"
    path.write_text(json.dumps(tests))
    (m,) = read_measurements(path)
    assert m.backend == "cpu" and m.threads == 16 and not m.all_layers_on_gpu
    (row,) = validate([m], catalog).rows
    assert row.verdict == "cpu" and row.decode_expected and row.platform == "llama.cpp CPU"
