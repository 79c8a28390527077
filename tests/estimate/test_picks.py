"""evaluate_picks: the row that speaks for each model is evaluate's, over many machines and settings, with fewer
rows estimated."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.catalog.devices import hypothetical_machine
from rigcheck.catalog.store import load_embedded
from rigcheck.desktop.models.rows import pick_shown
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.estimator import Estimator
from rigcheck.estimate.picks import evaluate_picks
from rigcheck.estimate.rules import Thresholds
from rigcheck.estimate.types import Settings
from tests.estimate import records

CATALOG = load_embedded()
GIB = 1024**3

MACHINES = {
    "4090": (["RTX 4090"], 64),
    "2x3090": (["2 x RTX 3090"], 128),
    "3060 small RAM": (["RTX 3060"], 16),
    "M3 Ultra": (["M3 Ultra (80-core GPU)"], 512),
    "M4 Max": (["M4 Max (40-core GPU)"], 64),
    "8xH200": (["8 x H200"], 2048),
    "MI300X": (["MI300X"], 1024),
    "no GPU": ([], 64),
    "no GPU, little RAM": ([], 8),
}
SETTINGS = {
    "default": Settings(),
    "long context": Settings(context_tokens=131072),
    "q4 cache": Settings(kv_cache_type="q4_0"),
    "long prompt": Settings(prompt_tokens=65536),
    "strict": Settings(usable=Thresholds(60.0, 5.0)),
    "lenient": Settings(usable=Thresholds(1.0, 600.0)),
    "llama.cpp only": Settings(runtime="llama.cpp"),
    "one quant": Settings(quant="Q4_K_M"),
}


def _same_answer(machine, settings_) -> tuple[int, int]:
    """Assert evaluate_picks agrees with evaluate; returns (rows evaluate lists, rows evaluate_picks returns)."""
    full = evaluate(machine, CATALOG, settings_)
    picks = evaluate_picks(machine, CATALOG, settings_)
    assert [r.to_dict() for r in picks if r.best] == [r.to_dict() for r in full if r.best]
    full_by, picks_by = defaultdict(list), defaultdict(list)
    for r in full:
        full_by[r.model_id].append(r)
    for r in picks:
        picks_by[r.model_id].append(r)
    assert list(picks_by) == list(full_by), "the same models, in catalog order"
    for model_id, rows in full_by.items():
        assert pick_shown(picks_by[model_id]).to_dict() == pick_shown(rows).to_dict(), model_id
    return len(full), len(picks)


@pytest.mark.parametrize("settings_name", sorted(SETTINGS))
@pytest.mark.parametrize("machine_name", sorted(MACHINES))
def test_the_picks_are_evaluates(machine_name, settings_name):
    specs, ram_gib = MACHINES[machine_name]
    _same_answer(hypothetical_machine(specs, ram_gib * GIB, catalog=CATALOG), SETTINGS[settings_name])


def test_sized_against_free_memory():
    machine = records.machine([records.RTX_4090], 64, free_vram_gib=9, free_ram_gib=20)
    _same_answer(machine, Settings(memory_basis="free"))
    _same_answer(machine, Settings())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gpu=st.sampled_from(sorted(d.name for d in CATALOG.devices)), count=st.sampled_from([1, 1, 2, 4, 8]),
       ram_gib=st.sampled_from([8, 16, 32, 64, 128, 256, 512]), context=st.sampled_from([2048, 8192, 32768, 131072]),
       prompt=st.sampled_from([512, 4096, 32768]), kv=st.sampled_from(["f16", "q8_0", "q4_0"]),
       min_decode=st.sampled_from([1.0, 10.0, 30.0]), max_ttft=st.sampled_from([5.0, 60.0, 600.0]))
def test_any_machine_and_settings(gpu, count, ram_gib, context, prompt, kv, min_decode, max_ttft):
    try:
        machine = hypothetical_machine([f"{count} x {gpu}"], ram_gib * GIB, catalog=CATALOG)
    except ValueError:  # a device that cannot be multiplied or has no memory size (an Apple part's options)
        return
    _same_answer(machine, Settings(context_tokens=context, prompt_tokens=prompt, kv_cache_type=kv,
                                   usable=Thresholds(min_decode, max_ttft)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ram_gib=st.sampled_from([4, 8, 16, 32, 64, 128, 512]), context=st.sampled_from([2048, 8192, 131072]),
       prompt=st.sampled_from([128, 4096, 32768]), kv=st.sampled_from(["f16", "q8_0", "q4_0"]),
       min_decode=st.sampled_from([0.5, 2.0, 10.0, 30.0]), max_ttft=st.sampled_from([5.0, 60.0, 600.0]))
def test_any_machine_without_a_gpu(ram_gib, context, prompt, kv, min_decode, max_ttft):
    machine = hypothetical_machine([], ram_gib * GIB, catalog=CATALOG)
    _same_answer(machine, Settings(context_tokens=context, prompt_tokens=prompt, kv_cache_type=kv,
                                   usable=Thresholds(min_decode, max_ttft)))


def test_fewer_rows_are_estimated(monkeypatch):
    calls = []
    real = Estimator.estimate_in

    def counted(self, run, quant, model_id):
        calls.append(quant.name)
        return real(self, run, quant, model_id)

    monkeypatch.setattr(Estimator, "estimate_in", counted)
    for specs, ram_gib, share in ((["RTX 4090"], 64, 0.6), ([], 32, 0.9)):
        machine = hypothetical_machine(specs, ram_gib * GIB, catalog=CATALOG)
        calls.clear()
        evaluate(machine, CATALOG, Settings())
        every = len(calls)
        calls.clear()
        evaluate_picks(machine, CATALOG, Settings())
        assert len(calls) < share * every, f"{specs}: {len(calls)} of {every} rows estimated"
