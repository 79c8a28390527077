"""The "Best for this machine" strip as plain data: the top pick for each use, the capacity line, the Mac hint.

Computed from the table's cells (``cells.TableRow``), Qt-free, so the first look shows the strip in its first paint
with nothing more than the helper already sends. The order is the rules' (``rules.rank_key``: a usable pick of 3 bits or
more first, then one usable only at a heavy-loss quant; by capability within each, unscored after, larger first),
read from the capability column's sort value: a 1-bit quant of a high-scoring model is no card's pick while a
model of 3 bits or more qualifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from rigcheck import units
from rigcheck.desktop.models.cells import CAPABILITY, DECODE, HOSTED, MODEL, PARAMS, QUANT, TTFT, TableRow
from rigcheck.estimate.tally import ModelTally, tally

LONG_CONTEXT_TOKENS = 131072
"""A long-context pick holds at least this much context on this machine (128k)."""


def _coding(cell: TableRow) -> bool:
    return "agentic" in cell.use_cases or "code" in cell.use_cases


CATEGORIES: tuple[tuple[str, str, Callable[[TableRow], bool]], ...] = (
    ("Chat", "models tagged for chat", lambda c: "chat" in c.use_cases),
    ("Coding agent", "models tagged for agentic use or code", _coding),
    ("Long context", f"models that hold {units.tokens_text(LONG_CONTEXT_TOKENS)} of context or more here",
     lambda c: (c.fit_context or 0) >= LONG_CONTEXT_TOKENS),
    ("Vision", "models tagged for vision (images in, text out)", lambda c: "vision" in c.use_cases),
)
"""(title, what qualifies, test): the uses the strip has a pick for."""


class PickCard(msgspec.Struct, frozen=True):
    """One use's pick: the lines its card shows (plain text) and the model it selects."""

    title: str
    model_id: str | None
    """None when no usable model of this use runs here."""
    lines: tuple[str, ...]
    tooltip: str


def _rank(cell: TableRow):
    return cell.sort[CAPABILITY]  # the rules' rank, negated: larger is better


def _figure(text: str, unit: str = "") -> str:
    """A table cell's figure with its unit, its mark (measured, corrected) after it: ``"39 tok/s (c)"``."""
    for mark in (units.MEASURED_MARK, units.CORRECTED_MARK):
        if text.endswith(" " + mark):
            return f"{text[:-2]}{unit} ({mark})"
    return text + unit


def pick_cards(cells: Sequence[TableRow]) -> tuple[PickCard, ...]:
    """The top usable model of each use in CATEGORIES (a card that says so when there is none)."""
    usable = sorted((c for c in cells if c.usable), key=_rank, reverse=True)
    cards = []
    for title, what, test in CATEGORIES:
        top = next((c for c in usable if test(c)), None)
        if top is None:
            cards.append(PickCard(title, None, (title, "No usable model here", "see hosted prices in the table"),
                                  f"None of the {what} runs usably on this machine."))
            continue
        d = top.display
        speed = f"{d[QUANT]} · {_figure(d[DECODE], ' tok/s')} · first token {_figure(d[TTFT])}"
        if title == "Long context":  # what this card is for comes first: a narrow card cuts the line's end
            speed = f"{units.tokens_text(top.fit_context)} context · {speed}"
        capability = "capability —" if top.capability is None else f"capability {d[CAPABILITY]}"
        hosted = "no hosted offer" if d[HOSTED] == units.DASH else f"hosted {d[HOSTED]}"
        cards.append(PickCard(
            title, top.model_id, (title, d[MODEL], speed, f"{capability} · {hosted}"),
            f"The most capable usable of the {what} ({top.model_id}).\n{top.tooltip[CAPABILITY] or ''}\n"
            f"{top.tooltip[HOSTED] or ''}".rstrip()))
    return tuple(cards)


def capacity_line(cells: Sequence[TableRow]) -> str:
    """The largest model (by parameters) that runs usably here, and how: one with a usable pick of 3 bits or more
    when there is one (the rules' first group, ``rules.rank_key``), not a 1-bit quant of a larger model."""
    usable = [c for c in cells if c.usable and c.sort[PARAMS] is not None]
    if not usable:
        return "No catalog model runs usably on this machine: the table shows how close each comes."
    top = max(usable, key=lambda c: (_rank(c)[0], c.sort[PARAMS], _rank(c)))
    d = top.display
    counts = model_tally(cells)
    return (f"Largest model that runs usably here: {d[MODEL]} ({d[PARAMS]} parameters), {d[QUANT]} at "
            f"{d[DECODE]} tok/s. {counts.usable} of {counts.total} models run usably.")


def model_tally(cells: Sequence[TableRow]) -> ModelTally:
    """The table's models by what this machine does with them (``estimate.tally``, as ``fit`` and the report count
    them): a row without an estimate is a model that could not be estimated, counted in the total."""
    return tally(((c.verdict != "no_fit", c.usable) for c in cells if c.verdict is not None), len(cells))


def hint_line(cells: Sequence[TableRow]) -> str | None:
    """On a Mac: one sysctl that lets the GPU hold a better quant of every model with a hint; None without any."""
    hinted = [c for c in cells if c.hint_limit_mb]
    if not hinted:
        return None
    limit = max(c.hint_limit_mb for c in hinted)
    return (f"sudo sysctl iogpu.wired_limit_mb={limit} (until the next restart) lets the GPU hold a better quant of "
            f"{len(hinted)} model{'s' if len(hinted) > 1 else ''}; each one's tooltip says which.")


def share_lines(machine) -> tuple[str, str, str] | None:
    """The GPU-usable share of a unified-memory machine: ("384 GiB of 512 GiB (75%)", where the figure comes from,
    a tooltip with how to raise it); None for a machine without unified memory."""
    from rigcheck.estimate.unified import gpu_share  # light: stdlib only

    share = gpu_share(machine)
    if share is None:
        return None
    amount = (f"{units.bytes_text(share.usable_bytes)} of {units.bytes_text(share.ram_bytes)} "
              f"({share.fraction:.0%})")
    tip = f"The share of RAM the GPU may use, from {share.source}: models are sized against it."
    if share.apple and share.max_bytes:
        tip += (f" `sudo sysctl iogpu.wired_limit_mb=N` raises it until the next restart; up to "
                f"{units.bytes_text(share.max_bytes)} leaves macOS what it needs.")
    return amount, share.source, tip
