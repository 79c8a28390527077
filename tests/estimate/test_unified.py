"""Unified memory (estimate.unified): the GPU share and its source, the safe maximum, the sysctl hints."""

from __future__ import annotations

import pytest

from rigcheck.catalog.devices import hypothetical_machine
from rigcheck.catalog.store import load_catalog
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.types import Settings
from rigcheck.estimate.unified import (
    gpu_share,
    max_wired_limit_bytes,
    sysctl_command,
    wired_limit_hints,
    wired_limit_mb,
    with_gpu_share,
)

GIB = 1024**3


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize(("ram_gib", "max_gib"), [(512, 480), (128, 120), (64, 56), (36, 28)])
def test_max_wired_limit_leaves_the_os_its_share(ram_gib, max_gib):
    assert max_wired_limit_bytes(ram_gib * GIB) == max_gib * GIB


def test_limit_is_the_need_plus_a_margin_in_whole_gib():
    assert wired_limit_mb(445.2 * GIB) == 447 * 1024
    assert sysctl_command(457728) == "sudo sysctl iogpu.wired_limit_mb=457728"


def test_share_and_source_of_a_what_if_mac_and_of_a_raised_one(catalog):
    mac = hypothetical_machine(["Apple M3 Ultra (80-core GPU)"], 512 * GIB, catalog=catalog)
    share = gpu_share(mac)
    assert share.apple and share.usable_bytes == 384 * GIB and share.fraction == 0.75
    assert "assumed" in share.source and share.max_bytes == 480 * GIB
    raised = gpu_share(with_gpu_share(mac, 450 * GIB))
    assert raised.usable_bytes == 450 * GIB and raised.source == "raised by you"
    assert gpu_share(hypothetical_machine(["RTX 4090"], 64 * GIB, catalog=catalog)) is None


def test_a_hint_names_the_exact_sysctl_that_puts_a_better_quant_on_the_gpu(catalog):
    mac = hypothetical_machine(["Apple M3 Ultra (80-core GPU)"], 64 * GIB, catalog=catalog)
    settings = Settings()
    rows = evaluate(mac, catalog, settings)
    hints = wired_limit_hints(mac, catalog, settings, rows, evaluate)
    assert hints
    for model_id, hint in hints.items():
        now = next(r for r in rows if r.model_id == model_id and r.best)
        assert hint.estimate.verdict == "unified" and hint.estimate.usable
        assert hint.estimate.quant != now.quant
        assert hint.command == f"sudo sysctl iogpu.wired_limit_mb={hint.limit_mb}"
        assert hint.estimate.memory.gpu_bytes < hint.limit_mb * 1024**2 <= max_wired_limit_bytes(64 * GIB)
        assert hint.command in hint.text
    # and the hint holds: with that limit the model's pick is the hinted quant, on the GPU
    model_id, hint = next(iter(hints.items()))
    raised = with_gpu_share(mac, hint.limit_mb * 1024**2)
    again = [r for r in evaluate(raised, catalog, settings) if r.model_id == model_id and r.best]
    assert again[0].verdict == "unified"
    at_max = with_gpu_share(mac, max_wired_limit_bytes(64 * GIB))
    assert not wired_limit_hints(at_max, catalog, settings, rows, evaluate), "at the maximum nothing is left to raise"
