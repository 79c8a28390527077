"""rigcheck.desktop.models.cells: the model table's cells as plain data, computed without Qt."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from rigcheck.catalog.records import HostedOffer, Model, Score
from rigcheck.desktop.models.cells import (
    CAPABILITY,
    CONTEXT,
    DECODE,
    HOSTED,
    MEMORY,
    MODEL,
    PARAMS,
    PREFILL,
    QUANT,
    TTFT,
    USABLE,
    VERDICT,
    TableRow,
    table_row,
    table_rows,
)
from rigcheck.desktop.models.rows import ModelRow
from rigcheck.estimate.rules import capabilities
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown

GIB = 1024**3
DASH = "—"
NO_ESTIMATE = "No estimate: the catalog lacks the facts this model needs"

MODEL_RECORD = Model(id="acme/Mid-8B", family="mid", name="Mid 8B", aliases=["MidLM"], params_total_b=8.0,
                     params_active_b=8.0, max_context_tokens=131072, license="llama3.1", use_cases=["chat", "code"])
SCORES = (Score(model_id="acme/Mid-8B", benchmark="aider_polyglot", value=12.5, source="test"),
          Score(model_id="acme/Mid-8B", benchmark="aider_polyglot", value=15.0))
FREE = HostedOffer(model_id="acme/Mid-8B", provider="promo", usd_per_m_input=0.0, usd_per_m_output=0.0)
CHEAP = HostedOffer(model_id="acme/Mid-8B", provider="cheapco", usd_per_m_input=0.05, usd_per_m_output=0.08)
PRICEY = HostedOffer(model_id="acme/Mid-8B", provider="pricey", usd_per_m_input=0.2, usd_per_m_output=0.6)


def fitting(quant: str = "Q8_0", bits_per_weight: float | None = 8.5) -> Estimate:
    return Estimate("acme/Mid-8B", quant, "llama.cpp", "gpu", MemoryBreakdown(8 * GIB, GIB, GIB // 2, 19 * GIB // 2, 0),
                    8192, 131072, Band(1600.0, 2000.0, 2400.0), Band(40.0, 50.0, 60.0), Band(1.6, 2.0, 2.4),
                    placement="all layers on GPU 0", runs_now=True, best=True, usable=True,
                    bits_per_weight=bits_per_weight)


def not_fitting() -> Estimate:
    return Estimate("acme/Mid-8B", "Q2_K", "llama.cpp", "no_fit", MemoryBreakdown(3 * GIB, GIB, GIB, 0, 0),
                    8192, None, None, None, None)


CLOSED = Score(model_id="closed:x/frontier", benchmark="aider_polyglot", value=60.0)
CAPABILITY_OF = capabilities([*SCORES, CLOSED])["acme/Mid-8B"]


def row(shown: Estimate | None, offers: tuple[HostedOffer, ...] = ()) -> ModelRow:
    return ModelRow(model=MODEL_RECORD, estimates=(shown,) if shown else (), shown=shown, scores=SCORES,
                    offers=offers, best_scores={"aider_polyglot": 15.0}, capability=CAPABILITY_OF)


def test_cells_module_is_qt_free():
    # The start-up helper computes the first table with it before anything heavy is loaded (fresh interpreter).
    code = ("import sys, rigcheck.desktop.models.cells; sys.exit(1 if any(m.startswith(("
            "'PySide6', 'rigcheck.catalog.records', 'rigcheck.catalog.hosted', "
            "'rigcheck.desktop.models.rows')) for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# (case, the estimate shown, column -> what the cell shows, its sort value, the context filter's value)
@pytest.mark.parametrize(("shown", "display", "sort", "verdict", "fit_context"), [
    pytest.param(fitting(), {QUANT: "Q8_0 (near-lossless)", VERDICT: "Fits in VRAM", USABLE: "Yes", MEMORY: "9.5 GiB",
                             CONTEXT: "128k", PREFILL: "2,000", DECODE: "50", TTFT: "2.0 s"},
                 {QUANT: "q8_0", VERDICT: 0, USABLE: 1, MEMORY: 19 * GIB // 2, CONTEXT: 131072, DECODE: 50.0,
                  TTFT: 2.0},
                 "gpu", 131072, id="fits"),
    # Usable only at a heavy-loss quant: the tier beside the quant, and a rank after every usable 3-bit-or-more pick.
    pytest.param(fitting("UD-IQ1_M", 1.75), {QUANT: "UD-IQ1_M (heavy loss)", USABLE: "Yes"},
                 {QUANT: "ud-iq1_m", USABLE: 1}, "gpu", 131072, id="heavy-loss"),
    # Bits unknown: the quant alone.
    pytest.param(fitting("Q8_0", None), {QUANT: "Q8_0"}, {QUANT: "q8_0"}, "gpu", 131072, id="bits-unknown"),
    # Does not fit: the quant it would need in parentheses, no context and no speeds, yet the memory it needs.
    pytest.param(not_fitting(), {QUANT: "(Q2_K)", VERDICT: "Does not fit", USABLE: "No", MEMORY: "5 GiB",
                                 CONTEXT: DASH, PREFILL: DASH, DECODE: DASH, TTFT: DASH},
                 {QUANT: "q2_k", VERDICT: 4, USABLE: 0, MEMORY: 5 * GIB, CONTEXT: None, DECODE: None, TTFT: None},
                 "no_fit", None, id="does-not-fit"),
    # No estimate at all: every estimate column is a dash and sorts as unknown.
    pytest.param(None, dict.fromkeys((QUANT, VERDICT, USABLE, MEMORY, CONTEXT, PREFILL, DECODE, TTFT), DASH),
                 dict.fromkeys((QUANT, VERDICT, USABLE, MEMORY, CONTEXT, DECODE, TTFT)), None, None,
                 id="no-estimate"),
])
def test_table_row_estimate_columns(shown, display, sort, verdict, fit_context):
    cell = table_row(row(shown))
    assert {col: cell.display[col] for col in display} == display
    assert {col: cell.sort[col] for col in sort} == sort
    assert (cell.verdict, cell.fit_context) == (verdict, fit_context)
    # The columns that do not depend on the estimate read the same in every case.
    assert cell.display[MODEL] == "Mid 8B" and cell.sort[MODEL] == "mid 8b"
    assert (cell.display[PARAMS], cell.sort[PARAMS]) == ("8B", 8.0)
    assert cell.display[CAPABILITY] == "25" and cell.capability == 25.0  # the better entry, 15 of the best 60
    # Capability sorts on the rules' rank, negated: usable at 3 bits or more (0), usable only at a heavy-loss
    # quant (-1), not usable (-2); then capability, then size.
    bits = shown.bits_per_weight if shown is not None else None
    group = -2.0 if not cell.usable else -1.0 if bits is not None and bits < 3 else 0.0
    assert cell.sort[CAPABILITY] == (group, 25.0, 8.0)


def test_tooltips_are_plain_text_per_column():
    fit = table_row(row(fitting())).tooltip
    assert fit[MODEL] == ("acme/Mid-8B\nLicense: llama3.1\nTrained context: 128k tokens\n"
                          "aider_polyglot: 12.5 (test)\naider_polyglot: 15")
    assert fit[VERDICT] == fit[MEMORY]
    # The quant's cell may be cut on a narrow window: its tooltip starts with the whole of it, then where it runs.
    quant_first, *quant_rest = fit[QUANT].splitlines()
    assert quant_first == "Q8_0 (near-lossless), 8.50 bits per weight"
    assert quant_rest == fit[VERDICT].splitlines()
    assert fit[VERDICT].splitlines() == ["Fits in VRAM: all layers on GPU 0",
                                         "Weights 8 GiB, KV cache 1 GiB (8k context), overhead 512 MiB",
                                         "On GPU 9.5 GiB, in RAM 0 B", "Fits in the memory free now"]
    assert fit[DECODE].endswith("tok/s  (expected, low–high)")
    assert fit[PARAMS] is None and fit[CONTEXT] is None
    assert fit[CAPABILITY] == "Capability 25: Aider polyglot 15 (25 % of the best, 60)"
    assert fit[USABLE].startswith("Usable: ≥ 10 tok/s decode")
    none = table_row(row(None)).tooltip
    assert none[MODEL] == fit[MODEL]
    assert none[PARAMS:CAPABILITY] == (NO_ESTIMATE,) * (CAPABILITY - PARAMS)


@pytest.mark.parametrize(("offers", "text", "sort", "tip"), [
    ((), DASH, None, "No hosted offer in the catalog"),
    ((FREE,), DASH, None, "No hosted offer in the catalog"),  # a $0 promotion is not a price to plan on
    ((FREE, CHEAP, PRICEY), "$0.058/M ($0.05 in / $0.08 out)", pytest.approx(0.0575),
     "cheapco: $0.05 in / $0.08 out per million tokens, blended = (3 × input + output) / 4 = $0.058/M; "
     "3 offer(s) in the catalog"),
])
def test_hosted_column_is_the_cheapest_blended_price_beside_input_and_output(offers, text, sort, tip):
    r = row(fitting(), offers)
    cell = table_row(r)
    assert (cell.display[HOSTED], cell.sort[HOSTED], cell.tooltip[HOSTED]) == (text, sort, tip)


def test_filter_fields():
    cell = table_row(row(fitting()))
    assert cell.model_id == "acme/Mid-8B"
    assert cell.search_text == "acme/mid-8b mid 8b mid midlm"
    assert (cell.use_cases, cell.license) == (("chat", "code"), "llama3.1")


def test_table_rows_pickle_round_trip():
    cells = table_rows([row(fitting(), (CHEAP,)), row(not_fitting()), row(None)])
    assert len(cells) == 3 and all(isinstance(c, TableRow) for c in cells)
    assert all(len(c.display) == len(c.sort) == len(c.tooltip) == 12 for c in cells)
    assert pickle.loads(pickle.dumps(cells)) == cells
    with pytest.raises(AttributeError):
        cells[0].verdict = "cpu"  # frozen: shared between the helper's result and the table


_RUN = {"decode_tokens_per_s": 52.0, "prefill_tokens_per_s": None, "engine": "llama-bench"}


# (case, the estimate's extra, the prefill / decode / TTFT cells, the marks the row carries)
@pytest.mark.parametrize(("extra", "cells", "marks"), [
    # Estimated alone: the figures as they are, no mark.
    ({}, ("2,000", "50", "2.0 s"), ()),
    # A decode run of this model and quant: decode is marked measured; prefill and TTFT stay estimated.
    ({"measured": [_RUN]}, ("2,000", "50 m", "2.0 s"), ("m",)),
    # A prefill run too: prefill and TTFT (made from prefill) are marked measured.
    ({"measured": [_RUN | {"prefill_tokens_per_s": 1900.0}]}, ("2,000 m", "50 m", "2.0 s m"), ("m",)),
    # Corrected by runs of other models or quants on this machine only.
    ({"correction": {"decode": {"factor": 1.1, "measurements": 1}}}, ("2,000", "50 c", "2.0 s"), ("c",)),
    # Measured decode, corrected prefill.
    ({"measured": [_RUN], "correction": {"prefill": {"factor": 0.9, "measurements": 2}}},
     ("2,000 c", "50 m", "2.0 s c"), ("c", "m")),
])
def test_speed_cells_say_which_figures_rest_on_the_users_runs(extra, cells, marks):
    import dataclasses

    cell = table_row(row(dataclasses.replace(fitting(), extra=extra)))
    assert (cell.display[PREFILL], cell.display[DECODE], cell.display[TTFT]) == cells
    assert cell.marks == marks
    assert cell.sort[DECODE] == 50.0, "the mark is in the text only: the column still sorts on the figure"
