"""rigcheck.units: the one formatter the GUI, the report and the CLI share."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from rigcheck import units
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown

GIB = 1024**3


def test_units_is_qt_free():
    # The CLI and the report import it; importing it must not load Qt (checked in a fresh interpreter).
    code = ("import sys, rigcheck.units; "
            "sys.exit(1 if any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(("value", "expected"), [
    (None, "—"), (512, "512 B"), (900 * 2**20, "900 MiB"), (7.2 * GIB, "7.2 GiB"), (24 * GIB, "24 GiB"),
    (23.99 * GIB, "24.0 GiB"), (380 * GIB, "380 GiB"), (2 * 1024 * GIB, "2 TiB"), (2.5 * 1024 * GIB, "2.5 TiB"),
])
def test_bytes(value, expected):
    assert units.bytes_text(value) == expected


def test_bytes_digits_for_compact_lists():
    assert units.bytes_text(16 * GIB, digits=0) == "16 GiB"


@pytest.mark.parametrize(("value", "expected"), [(1008e9, "1,008 GB/s"), (51.2e9, "51.2 GB/s"), (None, "—")])
def test_bandwidth(value, expected):
    assert units.bandwidth_text(value) == expected


def test_rates_and_tflops():
    assert [units.rate_text(v) for v in (0.843, 8.44, 84.4, 1840, 12_880, 184_000)] == [
        "0.84", "8.4", "84", "1,840", "12.9k", "184k"]
    assert units.tflops_text(165.2) == "165 TFLOPS" and units.tflops_text(82.6) == "82.6 TFLOPS"


def test_bands_say_a_shared_unit_once():
    assert units.band_text(Band(35.2, 42, 50.4)) == "42 (35–50)"
    assert units.band_text(Band(35.2, 42, 50.4), unit="tok/s") == "42 (35–50) tok/s"
    assert units.band_text(Band(4.6, 5.5, 7.8), units.seconds_text) == "5.5 s (4.6–7.8 s)"
    assert units.band_text(Band(0.34, 0.401, 0.472), units.seconds_text) == "401 ms (340–472 ms)"
    assert units.band_text(Band(1.2, 1.5, 2.3), units.usd_text) == "$1.50 ($1.20–$2.30)"
    assert units.band_text(None) == "—"


@pytest.mark.parametrize(("value", "expected"), [
    (4096, "4k"), (131072, "128k"), (1048576, "1M"), (1500, "1.5k"), (8362, "8.4k"), (999, "999"), (40960, "40k"), (200_000, "200k"),
    (1_000_000, "1M"), (None, "—"),
])
def test_tokens(value, expected):
    assert units.tokens_text(value) == expected


def test_params_prices_power():
    assert units.params_text(235, 22) == "235B / 22B"
    assert units.params_text(30.5, 3.3) == "30.5B / 3.3B"
    assert units.params_text(0.6) == "0.6B" and units.params_text(8.03, 8.03) == "8B"
    assert [units.usd_text(v) for v in (1599, 0.6, 0.08, 0.035, 0)] == ["$1,599", "$0.60", "$0.08", "$0.035", "$0.00"]
    assert units.usd_text(1234.4, 0) == "$1,234" and units.usd_text(12.5, 2) == "$12.50"
    assert units.watts_text(450) == "450 W" and units.mhz_text(2445) == "2,445 MHz"


@pytest.mark.parametrize(("one_way", "another_way", "text"), [
    (0.0875, (3 * 0.07 + 0.14) / 4, "$0.088"),  # 0.08749999... and 0.08750000...1: one price
    (0.175, (3 * 0.14 + 0.28) / 4, "$0.18"),
    (0.525, (3 * 0.3 + 1.2) / 4, "$0.53"),  # 0.5249999999999999 computed
    (round((3 * 0.07 + 0.14) / 4, 6), 0.0875, "$0.088"),  # a JSON-rounded figure reads as the raw one
])
def test_a_price_rounds_half_up_however_it_was_computed(one_way, another_way, text):
    assert units.usd_text(one_way) == units.usd_text(another_way) == text
    assert units.usd_per_m_text(another_way) == text + "/M"


@pytest.mark.parametrize(("quant", "bits", "text"), [
    ("Q8_0", 8.5, "Q8_0 (near-lossless)"), ("Q4_K_M", 4.85, "Q4_K_M (small loss)"),
    ("IQ3_XXS", 3.06, "IQ3_XXS (noticeable loss)"), ("UD-IQ1_M", 1.75, "UD-IQ1_M (heavy loss)"),
    ("Q4_K_M", None, "Q4_K_M"), ("Q4_K_M", 0.0, "Q4_K_M"),  # bits not known: the quant alone
])
def test_quant_text_writes_the_quality_tier_beside_the_quant(quant, bits, text):
    assert units.quant_text(quant, bits) == text


def test_verdict_label_and_place():
    assert units.verdict_text("gpu") == "Fits in VRAM" and units.verdict_place("gpu") == "GPU"
    assert units.verdict_text("no_fit") == "Does not fit" and units.verdict_place("unified") == "unified memory"
    assert units.verdict_text("new-kind") == "new-kind" and units.verdict_text(None) == "—"


def test_ages():
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.timezone.utc)
    assert units.age_text("2026-11-29T11:58:00Z", now) == "2 min ago"
    assert units.age_text("2026-11-29T07:00:00+00:00", now) == "5 h ago"
    assert units.age_text("2026-11-28T11:00:00", now) == "1 day ago"
    assert units.age_text("2026-11-26T12:00:00Z", now) == "3 days ago"
    assert units.age_text("not a date", now) == "not a date"
    assert units.age_text(None) == "age unknown" and units.age_seconds_text(None) == "age unknown"
    assert units.age_seconds_text(-5) == "just now"


@pytest.mark.parametrize(("memory", "options", "unified", "text"), [
    (24 * units.GIB, (), False, "24 GiB"),  # a card: its memory
    (512 * units.GIB, (256 * units.GIB, 128 * units.GIB, 512 * units.GIB), True, "128/256/512 GiB"),  # sizes sold, sorted
    (128 * units.GIB, (), True, "up to 128 GiB"),  # a unified-memory machine: only its largest size is known
    (None, (), True, "—"),  # no source states it
])
def test_device_memory_text(memory, options, unified, text):
    assert units.device_memory_text(memory, options, unified) == text


@pytest.mark.parametrize(("tensor", "vector", "text"), [
    (165.2, 82.6, "165 tensor"),  # the matrix rate wins where stated
    (None, 122.8, "123 vector"),  # else the shader rate, labelled so
    (None, 29.71, "29.7 vector"),
    (None, None, "—"),
])
def test_fp16_tflops_text(tensor, vector, text):
    assert units.fp16_tflops_text(tensor, vector) == text


@pytest.mark.parametrize(("rows", "expected", "unified"), [
    # llama.cpp keeps the token embeddings in RAM: a quant fits in VRAM while its bar passes the VRAM line.
    ([("Q5_K_M", "llama.cpp", "gpu", 25.0, 0.5, 23.5, 85.5)],
     ["llama.cpp keeps the token embeddings in RAM (512 MiB for Q5_K_M): it fits in VRAM though its bar passes "
      "the line."], False),
    # vLLM keeps everything on the GPU: under the VRAM + RAM line and still "does not fit".
    ([("FP8", "vllm", "no_fit", 33.8, 0.0, 23.5, 23.5), ("BF16", "vllm", "no_fit", 63.6, 0.0, 23.5, 23.5)],
     ["FP8, BF16 (vllm) must fit in VRAM: vllm does not put weights in RAM."], False),
    # On a Mac, llama.cpp's token embeddings sit outside the GPU share (wired memory): Q8_0 runs on the GPU though
    # its bar passes the share's line.
    ([("Q8_0", "llama.cpp", "unified", 72.7, 1.0, 72.0, 94.0)],
     ["llama.cpp keeps the token embeddings outside the GPU share (1 GiB for Q8_0): it fits though its bar passes "
      "the line."], True),
    # On unified memory (a Mac): MLX has the GPU's share of RAM, and the lines are that share and RAM.
    ([("MLX-8bit", "mlx", "no_fit", 70.0, 0.0, 72.0 * 0.75, 72.0 * 0.75)],
     ["MLX-8bit (mlx) must fit in the GPU share: mlx does not put weights in RAM."], True),
    # A GB10 (unified, its GPU share as large as RAM): llama.cpp's budget equals the GPU's, and it is not told
    # it puts no weights in RAM; just under its own limit, whole layers.
    ([("Q8_0", "llama.cpp", "no_fit", 85.0, 0.0, 85.5, 85.5)],
     ["Whole layers are placed, so a quant a little under the limit can still not fit."], True),
    # A llama.cpp quant just under its own limit that still does not fit: whole layers.
    ([("Q8_0", "llama.cpp", "no_fit", 85.0, 0.0, 23.5, 85.5)],
     ["Whole layers are placed, so a quant a little under the limit can still not fit."], False),
    # A bar inside the VRAM line, or in RAM as its verdict says: nothing to explain.
    ([("Q4_K_M", "llama.cpp", "gpu", 20.0, 0.5, 23.5, 85.5), ("Q8_0", "llama.cpp", "gpu+ram", 40.0, 17.0, 23.5, 85.5)],
     [], False),
])
def test_placement_notes_say_why_a_bar_and_its_verdict_seem_to_disagree(rows, expected, unified):
    gib = 2**30
    estimates = [
        Estimate("acme/M", quant, runtime, verdict,
                 MemoryBreakdown(int(total * gib * 0.9), int(total * gib * 0.1), 0, int((total - ram) * gib),
                                 int(ram * gib), gpu_budget_bytes=int(vram * gib), budget_bytes=int(limit * gib)),
                 8192, None, None, None, None)
        for quant, runtime, verdict, total, ram, vram, limit in rows]
    assert units.placement_notes(estimates, int(85.5 * gib), unified) == expected
