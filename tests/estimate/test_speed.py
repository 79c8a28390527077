"""Speed: rooflines as properties (hypothesis), pipeline and serving behaviour, bands and basis lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate import evaluate
from rigcheck.estimate.estimator import Estimator
from rigcheck.estimate.memory import model_shape, weights_bytes
from rigcheck.estimate.rules import OUTPUT_RESERVE_TOKENS
from rigcheck.estimate.speed import pipeline_speedup, serving_throughput
from rigcheck.estimate.types import VERDICTS, Settings
from tests.estimate import records
from tests.estimate.records import GIB, GPT_OSS_SWA, H100, LLAMA3_8B, RTX_3060, RTX_4090, machine

_models = st.builds(
    lambda total, active_share, layers, kv_heads, moe: Model(
        id="t/m", family="t", params_total_b=total, params_active_b=total * (active_share if moe else 1.0),
        num_layers=layers, hidden_size=4096, num_attention_heads=32, num_kv_heads=kv_heads, head_dim=128,
        vocab_size=32000, max_context_tokens=131072,
        moe_num_experts=64 if moe else None, moe_experts_per_token=4 if moe else None,
        quants=[Quant(name="Q4_K_M", format="gguf", bits_per_weight=4.8, runtimes=["llama.cpp"])]),
    st.floats(2, 800), st.floats(0.1, 0.5), st.integers(4, 128), st.sampled_from([1, 2, 4, 8, 32]),
    st.booleans())
_devices = st.builds(
    lambda vram, bw, tf: Device(name="Test GPU", vendor="NVIDIA", kind="datacenter", memory_bytes=int(vram * GIB),
                                bandwidth_bytes_per_s=bw * 1e9, fp16_tensor_tflops=tf),
    st.floats(4, 192), st.floats(50, 8000), st.floats(5, 2500))


@settings(max_examples=80, deadline=None)
@given(model=_models, device=_devices, gpus=st.integers(0, 4), ram=st.floats(4, 2048),
       prompt=st.integers(1, 65536))
def test_decode_never_above_the_roofline(model, device, gpus, ram, prompt):
    """Tokens/s <= bandwidth / bytes read per token, on every device holding part of the model."""
    m = machine([device] * gpus, ram)
    est_settings = Settings(prompt_tokens=prompt, context_tokens=max(prompt, 8192))
    estimator = Estimator(m, [device], est_settings)
    quant = model.quants[0]
    est = estimator.estimate(estimator.shape(model), quant, "llama.cpp")
    if est.verdict == "no_fit":
        assert est.decode_tokens_per_s is None
        return
    shape = model_shape(model)
    bytes_per_param = weights_bytes(shape, quant) / shape.params_total
    gpu_bytes = est.extra["decode_gpu_bytes_per_token"]
    ram_bytes = est.extra["decode_ram_bytes_per_token"]
    # What it says it reads is at least the active weights other than the token-embedding matrix.
    assert gpu_bytes + ram_bytes >= (shape.params_active - shape.embedding_params) * bytes_per_param
    # Each device reads its bytes at most at its spec bandwidth.
    seconds = gpu_bytes / (device.bandwidth_bytes_per_s if gpus else 1e30) + ram_bytes / m.memory.bandwidth_bytes_per_s
    band = est.decode_tokens_per_s
    assert band.low <= band.expected <= band.high <= 1.0 / seconds * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(model=_models, device=_devices, ram=st.floats(4, 1024), extra_vram=st.floats(0, 160),
       extra_ram=st.floats(0, 1024))
def test_more_memory_never_worsens_the_verdict(model, device, ram, extra_vram, extra_ram):
    bigger = Device(**{**{f: getattr(device, f) for f in device.__struct_fields__},
                       "memory_bytes": device.memory_bytes + int(extra_vram * GIB)})
    rank = {v: i for i, v in enumerate(VERDICTS)}
    small = Estimator(machine([device], ram), [device], Settings())
    large = Estimator(machine([bigger], ram + extra_ram), [bigger], Settings())
    q = model.quants[0]
    a = small.estimate(small.shape(model), q, "llama.cpp").verdict
    b = large.estimate(large.shape(model), q, "llama.cpp").verdict
    if a == "no_fit":
        return
    assert b != "no_fit", "what fitted still fits with more memory"
    if a in ("gpu", "unified"):
        assert rank[b] <= rank[a]


@settings(max_examples=60, deadline=None)
@given(model=_models, c1=st.integers(1, 200_000), c2=st.integers(1, 200_000),
       kv=st.sampled_from(["f16", "q8_0", "q4_0"]))
def test_longer_context_never_lowers_memory(model, c1, c2, kv):
    shape = model_shape(model)
    short, long_ = sorted((c1, c2))
    assert shape.kv_cache_bytes(short, kv) <= shape.kv_cache_bytes(long_, kv)
    m = machine([RTX_4090], 64)
    # The prompt fits the shorter context, so the setting alone sizes the cache (rules.run_context).
    e_short = Estimator(m, [RTX_4090], Settings(context_tokens=short, prompt_tokens=short, kv_cache_type=kv))
    e_long = Estimator(m, [RTX_4090], Settings(context_tokens=long_, prompt_tokens=short, kv_cache_type=kv))
    q = model.quants[0]
    a = e_short.estimate(e_short.shape(model), q, "llama.cpp").memory
    b = e_long.estimate(e_long.shape(model), q, "llama.cpp").memory
    assert a.kv_cache_bytes <= b.kv_cache_bytes


@pytest.mark.parametrize(
    "prompt, gpus, expected, reason",
    [(512, 4, 1.0, "one ubatch cannot be pipelined"),
     (4096, 2, 8 / 5, "4 ubatches per 2048-token batch over 2 stages: 4x2/(4+1)"),
     (4096, 4, 16 / 7, "4 ubatches over 4 stages: 16/7 (speed.csv: 4090 x4 pp4096 2.3x)"),
     (4096, 1, 1.0, "one GPU: no pipeline")],
)
def test_pipeline_speedup(prompt, gpus, expected, reason):
    assert pipeline_speedup(prompt, gpus) == pytest.approx(expected), reason


def test_serving_throughput_grows_with_batch_but_not_past_compute():
    q = LLAMA3_8B.quants[2]
    rates = [serving_throughput(LLAMA3_8B, q, [H100], b, 2048).expected for b in (1, 2, 8, 32, 256, 1024)]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False)), "weights are read once per step"
    single = serving_throughput(LLAMA3_8B, q, [H100], 1, 2048).expected
    assert rates[-1] < 1024 * single, "bounded by compute and KV reads, not linear in batch"
    # compute bound: 2 x 8B FLOPs per token at 989 TFLOPS can never exceed ~62k tokens/s
    assert rates[-1] < 989e12 / (2 * 8.03e9)


def test_serving_throughput_moe_touches_more_experts_with_batch():
    q = GPT_OSS_SWA.quants[0]
    one = serving_throughput(GPT_OSS_SWA, q, [RTX_4090], 1, 1024).expected
    sixteen = serving_throughput(GPT_OSS_SWA, q, [RTX_4090], 16, 1024).expected
    assert sixteen / one < 16 * 0.9, "a batch of 16 routes to most experts: bytes per step grow"


def test_serving_throughput_rejects_bad_input():
    with pytest.raises(ValueError):
        serving_throughput(LLAMA3_8B, LLAMA3_8B.quants[2], [], 1, 1024)
    with pytest.raises(ValueError):
        serving_throughput(LLAMA3_8B, LLAMA3_8B.quants[2], [H100], 0, 1024)


def test_estimate_carries_bands_and_basis():
    cat = Catalog(schema_version="1.0", generated_at="2026-11-01T00:00:00Z", models=[LLAMA3_8B], devices=[RTX_3060])
    rows = evaluate(machine([RTX_3060]), cat, Settings(quant="Q4_K_M"))
    (row,) = rows
    for band in (row.prefill_tokens_per_s, row.decode_tokens_per_s, row.ttft_s):
        assert band.low < band.expected < band.high
    text = " ".join(row.basis)
    assert "memory bandwidth 360 GB/s (spec table)" in text, "bandwidth source"
    assert "of memory bandwidth" in text and "fitted on speed.csv" in text, "efficiency and its source"
    assert "placement:" in text and "not modelled" in text
    assert row.ttft_s.expected == pytest.approx(4096 / row.prefill_tokens_per_s.expected)
    d = row.to_dict()
    assert set(d["memory"]) >= {"weights_bytes", "kv_cache_bytes", "overhead_bytes", "total_bytes", "gpu_bytes",
                                "ram_bytes"}


def test_decode_slows_with_depth_and_ram_offload():
    m = machine([RTX_3060], 64)
    shallow = Estimator(m, [RTX_3060], Settings(prompt_tokens=512))
    deep = Estimator(m, [RTX_3060], Settings(prompt_tokens=8000))
    q4 = LLAMA3_8B.quants[2]
    f16 = LLAMA3_8B.quants[0]
    s = shallow.estimate(shallow.shape(LLAMA3_8B), q4, "llama.cpp").decode_tokens_per_s.expected
    d = deep.estimate(deep.shape(LLAMA3_8B), q4, "llama.cpp").decode_tokens_per_s.expected
    offloaded = shallow.estimate(shallow.shape(LLAMA3_8B), f16, "llama.cpp")
    assert d < s, "the KV cache read at depth adds bytes per token"
    assert offloaded.verdict == "gpu+ram"
    assert offloaded.decode_tokens_per_s.expected < 0.5 * s, "layers in RAM read at RAM speed"
    assert any("PCIe" in line for line in offloaded.basis), "prefill streams RAM weights over PCIe"


def test_rows_from_evaluate_behave_as_plain_records(small_catalog):
    """evaluate's rows compute basis and max context lazily; copies, pickles and replace see the values."""
    import copy
    import dataclasses
    import pickle

    from rigcheck.estimate import estimate

    m = machine([RTX_3060], 64)
    rows = evaluate(m, small_catalog, Settings(), models=[LLAMA3_8B])
    for row in rows:
        single = estimate(LLAMA3_8B, next(q for q in LLAMA3_8B.quants if q.name == row.quant), m, Settings(),
                          small_catalog.devices)
        assert {**row.to_dict(), "best": False} == single.to_dict()
        for clone in (copy.deepcopy(row), pickle.loads(pickle.dumps(row)), dataclasses.replace(row)):
            assert clone == row and clone.basis == row.basis and clone.to_dict() == row.to_dict()
        assert dataclasses.replace(row, best=not row.best).best is not row.best


def test_row_to_dict_before_and_after_its_parts_are_built(small_catalog):
    """A fresh row writes its dict from the raw numbers (fit --json); it is the dict the built parts give."""
    from rigcheck.estimate.types import Estimate

    verdicts = set()
    for devices, ram_gib in (([RTX_3060], 64), ([RTX_4090], 16), ([], 32), ([H100, H100], 512)):
        m = machine(devices, ram_gib)
        fresh = [r.to_dict() for r in evaluate(m, small_catalog, Settings(context_tokens=32768))]
        rows = evaluate(m, small_catalog, Settings(context_tokens=32768))
        for r in rows:
            r.memory, r.decode_tokens_per_s  # noqa: B018 - build the parts first
        assert fresh == [Estimate.to_dict(r) for r in rows] == [r.to_dict() for r in rows]
        verdicts |= {d["verdict"] for d in fresh}
    assert {"gpu", "gpu+ram", "cpu"} <= verdicts, "the cases exercise both paths of the estimator"


def test_models_of_one_architecture_share_their_run_and_keep_their_ids(small_catalog):
    """Fine-tunes of one base model (equal in everything but who they are) share the quant-independent work;
    each row still says which model it is, and a model that differs in its architecture does not share."""
    import msgspec

    from rigcheck.estimate.estimator import IDENTITY_FIELDS

    tune = msgspec.structs.replace(LLAMA3_8B, id="someone/Llama-3-8B-finetune", name="finetune", aliases=["ft"],
                                   license="other", release_date="2026-01-01", notes="a fine-tune")
    deeper = msgspec.structs.replace(LLAMA3_8B, id="someone/Llama-3-8B-deeper", num_layers=LLAMA3_8B.num_layers + 8)
    m = machine([RTX_3060], 64)
    estimator = Estimator(m, small_catalog.devices, Settings())
    runs = [estimator.model_run(estimator.shape(x), "llama.cpp", 0.0, None, 512) for x in (LLAMA3_8B, tune, deeper)]
    assert runs[0] is runs[1] and runs[2] is not runs[0]
    base, tuned, deep = (evaluate(m, small_catalog, Settings(), models=[x]) for x in (LLAMA3_8B, tune, deeper))
    assert {r.model_id for r in tuned} == {tune.id}
    assert [{**r.to_dict(), "model_id": None} for r in base] == [{**r.to_dict(), "model_id": None} for r in tuned]
    assert [r.memory for r in base] != [r.memory for r in deep]
    assert "id" in IDENTITY_FIELDS and "num_layers" not in IDENTITY_FIELDS


def test_without_flash_attention_decode_slows_more_with_depth():
    m = machine([RTX_4090])
    q = LLAMA3_8B.quants[2]

    def decode(fa: bool, depth: int) -> float:
        est = Estimator(m, [RTX_4090], Settings(prompt_tokens=depth), flash_attention=fa)
        return est.estimate(est.shape(LLAMA3_8B), q, "llama.cpp").decode_tokens_per_s.expected

    assert decode(False, 128) == pytest.approx(decode(True, 128), rel=0.01), "no cache to read: no difference"
    loss_fa = 1 - decode(True, 8000) / decode(True, 128)
    loss_no_fa = 1 - decode(False, 8000) / decode(False, 128)
    assert loss_no_fa > 1.5 * loss_fa, "without flash attention the cache is read more slowly than weights"


def test_vllm_tensor_parallel_adds_bandwidth_llama_split_does_not():
    bf16 = LLAMA3_8B.quants[3]
    one = Estimator(machine([H100]), [H100], Settings())
    two = Estimator(machine([H100, H100]), [H100], Settings())
    v1 = one.estimate(one.shape(LLAMA3_8B), bf16, "vllm")
    v2 = two.estimate(two.shape(LLAMA3_8B), bf16, "vllm")
    # Each GPU streams half the weights, but two all-reduces per layer and the engine's fixed cost per step
    # do not shrink: faster, far from twice as fast for a model this small.
    assert 1.05 * v1.decode_tokens_per_s.expected < v2.decode_tokens_per_s.expected < 2 * v1.decode_tokens_per_s.expected
    assert any("tensor parallel over 2 GPUs" in line for line in v2.basis)


@settings(max_examples=40, deadline=None)
@given(gpus=st.lists(st.sampled_from([RTX_4090, RTX_3060, H100]), max_size=3),
       ram=st.floats(0, 512), free_vram=st.one_of(st.none(), st.floats(0, 80)),
       free_ram=st.one_of(st.none(), st.floats(0, 512)), context=st.integers(1, 300_000),
       prompt=st.integers(1, 100_000), kv=st.sampled_from(["f16", "q8_0", "q4_0"]),
       basis=st.sampled_from(["total", "free"]))
def test_evaluate_invariants_on_any_machine(gpus, ram, free_vram, free_ram, context, prompt, kv, basis):
    """Whatever the machine and settings: no exception, bands ordered, one best per model at most."""
    m = machine(gpus, ram, free_vram_gib=free_vram, free_ram_gib=free_ram)
    rows = evaluate(m, records.small_catalog(), Settings(context_tokens=context, prompt_tokens=prompt, kv_cache_type=kv,
                                                memory_basis=basis))
    best_per_model: dict[str, int] = {}
    for r in rows:
        assert r.verdict in VERDICTS
        assert r.memory.total_bytes > 0 and r.memory.kv_cache_bytes >= 0
        # The setting, or the prompt + room for the answer when the prompt is longer (rules.run_context).
        assert r.context_tokens <= max(context, prompt + OUTPUT_RESERVE_TOKENS)
        assert r.context_tokens >= prompt or r.verdict == "no_fit"
        if r.verdict == "no_fit":
            assert r.decode_tokens_per_s is None and r.max_context_tokens is None and not r.best
            continue
        for band in (r.prefill_tokens_per_s, r.decode_tokens_per_s, r.ttft_s):
            assert 0 < band.low <= band.expected <= band.high
        assert r.max_context_tokens is None or r.max_context_tokens >= r.context_tokens
        assert r.basis and r.placement
        best_per_model[r.model_id] = best_per_model.get(r.model_id, 0) + r.best
    assert all(v <= 1 for v in best_per_model.values())
    assert all(v == 1 for v in best_per_model.values()), "every model with a fitting row has a best"


@pytest.mark.parametrize(("devices", "ram_gib", "free_vram_gib", "free_ram_gib", "basis"), [
    ([RTX_3060], 64, None, None, "total"),
    ([RTX_4090, RTX_4090], 128, None, None, "total"),
    ([records.RTX_3090, RTX_3060], 64, None, None, "total"),
    ([RTX_4090], 64, 10, 20, "total"),
    ([RTX_4090], 64, 10, 20, "free"),
    ([records.M2_ULTRA], 192, None, 100, "total"),
    ([H100, H100], 512, None, None, "total"),
])
def test_all_on_gpu_fast_path_equals_the_general_path(monkeypatch, small_catalog, devices, ram_gib,
                                                       free_vram_gib, free_ram_gib, basis):
    """evaluate's shortcut for rows that fit on the GPU(s) gives the same row, bit for bit, as the
    general placement path (which the shortcut is switched off for here)."""
    from rigcheck.estimate import model_run

    m = machine(devices, ram_gib, free_vram_gib=free_vram_gib, free_ram_gib=free_ram_gib)
    settings = Settings(memory_basis=basis, context_tokens=32768, prompt_tokens=8000)
    fast = [r.to_dict() for r in evaluate(m, small_catalog, settings)]
    original_init = model_run.ModelRun.__init__

    def init_without_fast_path(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.fast_gpu_total = -1.0

    monkeypatch.setattr(model_run.ModelRun, "__init__", init_without_fast_path)
    general = [r.to_dict() for r in evaluate(m, small_catalog, settings)]
    assert fast == general
    assert any(r["verdict"] in ("gpu", "unified") for r in fast), "the case exercises the shortcut"
