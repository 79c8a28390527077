"""`rigcheck fit`'s listings: which rows are shown, in what order, and the text that says what was left out and why.

The listing of picks is one row per model: the row the rules mark ``best`` (its pick, or the row closest to one);
a model none of whose quants fits has none, and the row needing the least memory speaks for it. Such models are
left out of the default listing and counted in its footer; a model asked for by name (``--model``) is always
shown, with a line that says why it is not usable and where to look next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rigcheck import units
from rigcheck.estimate.tally import ModelTally, tally


class ModelFacts:
    """What the listing shows beside each estimate, from the catalog: name, size, capability, cheapest offer."""

    def __init__(self, catalog, models, input_per_output: float):
        from rigcheck.estimate import rules

        self.models = {m.id: m for m in (*catalog.models, *(models or ()))}
        self.capability = rules.capabilities(catalog.scores)
        offers: dict[str, list] = {}
        for o in catalog.hosted:
            offers.setdefault(o.model_id, []).append(o)
        self.input_per_output = input_per_output
        self.cheapest = {mid: rules.cheapest_hosted(os, input_per_output) for mid, os in offers.items()}
        self._cheapest_dicts: dict[str, dict[str, object] | None] = {}

    def capability_value(self, model_id: str) -> float | None:
        cap = self.capability.get(model_id)
        return cap.value if cap else None

    def params_b(self, model_id: str) -> float | None:
        model = self.models.get(model_id)
        return model.params_total_b if model else None

    def cheapest_hosted(self, model_id: str) -> dict[str, object] | None:
        """The cheapest offer as the JSON shows it (one dict per model, shared by its rows: do not change it)."""
        from rigcheck.estimate.rules import offer_blended_usd_per_m

        try:
            return self._cheapest_dicts[model_id]
        except KeyError:
            pass
        offer = self.cheapest.get(model_id)
        shown = None if offer is None else {
            "provider": offer.provider, "usd_per_m_input": offer.usd_per_m_input,
            "usd_per_m_output": offer.usd_per_m_output,
            "usd_per_m_blended": round(offer_blended_usd_per_m(offer, self.input_per_output), 6)}
        self._cheapest_dicts[model_id] = shown
        return shown

    def hosted_text(self, model_id: str) -> str:
        """The cheapest offer as every screen writes it (``units.price_triple_text`` of the rules' blend, not of the
        JSON's rounded copy)."""
        from rigcheck.estimate.rules import offer_blended_usd_per_m

        offer = self.cheapest.get(model_id)
        if offer is None:
            return units.DASH
        return (units.price_triple_text(offer_blended_usd_per_m(offer, self.input_per_output), offer.usd_per_m_input,
                                        offer.usd_per_m_output) + f" {offer.provider}")


def sort_key(sort: str, facts: ModelFacts):
    from rigcheck.estimate.rules import rank_key

    def expected(band, missing: float) -> float:
        return band.expected if band is not None else missing

    keys = {
        "capability": lambda r: rank_key(r.usable, facts.capability_value(r.model_id), facts.params_b(r.model_id),
                                         r.bits_per_weight),
        "decode": lambda r: -expected(r.decode_tokens_per_s, -1.0),
        "prefill": lambda r: -expected(r.prefill_tokens_per_s, -1.0),
        "ttft": lambda r: expected(r.ttft_s, float("inf")),
        "size": lambda r: -(facts.params_b(r.model_id) or 0.0),
        "name": lambda r: r.model_id.casefold(),
    }
    return lambda r: (keys[sort](r), r.model_id)


@dataclass
class PicksListing:
    """One row per model shown, and what the footer says about the models that are not."""

    rows: list
    tally: ModelTally = ModelTally(0, 0, 0, 0)
    """The models looked at by what this machine does with them (before any filter or cut): the footer's counts,
    the same as the GUI's and the report's (``estimate.tally``)."""
    hidden_no_fit: int = 0
    """Of those, left out of the listing (not asked for by name)."""
    left_by_usable: int = 0
    """Left out by ``--usable``."""
    cut: int = 0
    """Left out by ``--limit``."""
    named_notes: list[str] = field(default_factory=list)
    """Per model asked for by name that is not usable here: why, and what to run next."""
    not_estimated: list[tuple[str, str]] = field(default_factory=list)
    """(model id, why) of the models looked at that have no row at all (no parameter count in the catalog)."""
    longest_context_tokens: int | None = None
    """The longest context any model estimated was sized for (the header says when the setting exceeds it)."""


def model_heads(results) -> dict[str, object]:
    """The row that speaks for each model, in first-seen order: the one marked ``best``, else (nothing of the model
    fits) the one that needs the least memory."""
    heads: dict[str, object] = {}
    unplaced: dict[str, list] = {}
    for r in results:
        if r.best:
            heads[r.model_id] = r
        elif r.model_id not in heads or not heads[r.model_id].best:
            heads.setdefault(r.model_id, r)
            unplaced.setdefault(r.model_id, []).append(r)
    for model_id, rows in unplaced.items():
        if not heads[model_id].best:  # the memory breakdown is built for the rows of these models alone
            heads[model_id] = min(rows, key=lambda r: r.memory.total_bytes)
    return heads


def picks_listing(results, facts: ModelFacts, *, usable_only: bool, sort: str, limit: int | None,
                  named: frozenset[str] = frozenset(), machine=None, show_no_fit: bool = False,
                  looked_at=()) -> PicksListing:
    """One row per model, filtered, sorted and cut. Models that fit nowhere are shown only when ``named`` (or with
    ``show_no_fit``); ``machine`` words the notes of named models that are not usable. ``looked_at``: the catalog
    models estimated; those without a row are counted (and, when named, explained) as not estimated."""
    from rigcheck.estimate.rules import why_not_usable

    heads = model_heads(results)
    unestimated = {m.id: m for m in looked_at if m.id not in heads}  # each model once, however often named
    out = PicksListing(rows=[], not_estimated=[(model_id, not_estimated_reason(m))
                                               for model_id, m in unestimated.items()])
    out.tally = tally(((h.fits, h.usable) for h in heads.values()), len(heads) + len(unestimated))
    out.longest_context_tokens = longest_context_tokens(heads.values())
    out.named_notes.extend(f"{model_id} is not estimated: {why}" for model_id, why in out.not_estimated
                           if model_id in named)
    for model_id, head in heads.items():
        if not head.fits:
            if model_id not in named and not show_no_fit:
                out.hidden_no_fit += 1
                continue
        if usable_only and not head.usable:
            if model_id not in named or not head.best:
                out.left_by_usable += 1
            if model_id in named:
                out.named_notes.append(named_note(head, machine, why_not_usable(head)))
            continue
        out.rows.append(head)
    out.rows.sort(key=sort_key(sort, facts))
    if limit and len(out.rows) > limit:
        out.cut = len(out.rows) - limit
        out.rows = out.rows[:limit]
    if not usable_only:
        out.named_notes.extend(named_note(r, machine, why_not_usable(r)) for r in out.rows
                               if r.model_id in named and not r.usable)
    return out


def not_estimated_reason(model) -> str:
    """Why the estimator gives ``model`` no row, in words for a listing."""
    from rigcheck.estimate.memory import ShapeError, model_shape

    try:
        model_shape(model)
    except ShapeError:
        return ("its parameter count is not in the catalog (no stored source states it), so neither memory nor "
                "speed can be worked out")
    return "none of its quants can be estimated with these settings"


def every_row_listing(results, facts: ModelFacts, *, sort: str, limit: int | None, usable_only: bool = False) -> list:
    """Every row, models in the order of their picks (rows of one model together, largest first), cut at
    ``limit`` models; with ``usable_only`` the models with a usable pick."""
    by_model: dict[str, list] = {}
    for r in results:
        by_model.setdefault(r.model_id, []).append(r)
    heads = picks_listing(results, facts, usable_only=usable_only, sort=sort, limit=limit, show_no_fit=True).rows
    return [r for head in heads for r in sorted(by_model[head.model_id], key=lambda r: -r.memory.weights_bytes)]


def machine_room_text(machine, budget_bytes: int) -> str:
    """What the machine offers a model, for "needs X against Y" (``units.room_text``):
    ``"85.5 GiB usable of 24 GiB VRAM + 64 GiB RAM"``."""
    gpus = machine.usable_gpus if machine is not None else ()
    ram = (machine.memory.total_bytes or 0) if machine is not None else 0
    vram = sum(g.vram_total_bytes or 0 for g in gpus)
    return units.room_text(budget_bytes, vram, ram, unified=any(g.unified_memory for g in gpus))


def named_note(row, machine, why: str | None) -> str:
    """Why a model asked for by name is not usable here, and where to look next (one line)."""
    plan = f"`rigcheck plan --model {row.model_id}`"
    if row.fits:
        return f"{row.model_id} is not usable here: {why}; {plan} says what would run it usably"
    if row.placement.startswith("does not fit:"):  # a reason other than memory (rules.prompt_too_long_text)
        return f"{row.model_id} {row.placement}: a shorter --prompt, or a model with a longer context"
    return (f"{row.model_id} does not fit here: its smallest quant ({row.quant}) needs about "
            f"{units.bytes_text(row.memory.total_bytes, digits=0)} against {machine_room_text(machine, row.memory.budget_bytes)}; "
            f"{plan} says what would run it")


def _rate(band) -> str:
    return units.DASH if band is None else units.rate_text(band.expected)


def _seconds(band) -> str:
    return units.DASH if band is None else units.seconds_text(band.expected)


def _marked(text: str, row, kind: str, marking: bool) -> str:
    """``text`` with the mark of ``kind``'s figure (``units.measured_mark``) when the listing marks figures; an
    unmarked figure is padded so the digits of a column line up."""
    if not marking:
        return text
    mark = units.measured_mark(row.extra, kind) if text != units.DASH else ""
    return f"{text} {mark}" if mark else f"{text}  "


def _marks(rows) -> set[str]:
    """The marks the decode, prefill and TTFT figures of ``rows`` carry (``units.measured_mark``); none: no row
    rests on the user's runs, and figures are not marked."""
    return {mark for r in rows for kind in ("decode", "prefill") if (mark := units.measured_mark(r.extra, kind))}


def _marking(rows) -> bool:
    return bool(_marks(rows))


def _legend(rows, measured_runs: int | None) -> list[str]:
    marks = _marks(rows)
    return [units.measured_legend(measured_runs, marks) + "."] if marks else []


def longest_context_tokens(rows) -> int | None:
    """The longest context any of ``rows`` was sized for (``Estimate.context_tokens``); None without rows."""
    return max((r.context_tokens for r in rows), default=None)


def header_line(machine, settings, longest_sized_tokens: int | None = None) -> str:
    """The first line of a listing: the machine, the settings and what "usable" means. ``longest_sized_tokens``:
    as ``units.context_setting_text`` takes it."""
    from rigcheck.cli._machine import machine_notes

    label = machine.label or machine.hostname or "this machine"
    basis = ""
    if settings.memory_basis == "free":
        free_known = machine.memory.available_bytes is not None and all(
            g.vram_free_bytes is not None or g.unified_memory for g in machine.usable_gpus)
        basis = (", sized against free memory" if free_known
                 else "; free memory unknown for this machine, sized against the total")
    notes = "".join(f"; {note}" for note in machine_notes(machine))
    context = units.context_setting_text(settings.context_tokens, settings.prompt_tokens, longest_sized_tokens)
    return (f"{label}: {context}, KV cache "
            f"{settings.kv_cache_type}{basis}{notes}; usable = {settings.usable.describe()}")


def _format(header: tuple[str, ...], rows: list[tuple], right: set[int]) -> list[str]:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return [fmt(header), *(fmt(row) for row in rows)]


def picks_table(machine, listing: PicksListing, settings, facts: ModelFacts, *, usable_only: bool = False,
                measured_runs: int | None = None) -> str:
    """The readable listing of picks: one line per model, then what is not listed and why. Decode and TTFT
    figures that rest on the user's runs are marked (``units.measured_mark``) and a footer says so;
    ``measured_runs``: how many runs this machine has kept."""
    from rigcheck.estimate.rules import describe_blend, describe_capability, describe_order, describe_pick

    lines = [header_line(machine, settings, listing.longest_context_tokens)]
    results = listing.rows
    if results:
        header = ("MODEL", "PICK", "RUNTIME", "WHERE", "MEMORY", "MAX CTX", "DECODE tok/s", "TTFT", "USABLE",
                  "CAPABILITY", "HOSTED $/M BLENDED (IN / OUT)")
        rows = []
        marking = _marking(results)
        for r in results:
            cap = facts.capability_value(r.model_id)
            rows.append((
                r.model_id,
                units.quant_text(r.quant, r.bits_per_weight) if r.fits else f"({r.quant})",
                r.runtime,
                units.verdict_place(r.verdict),
                units.bytes_text(r.memory.total_bytes),
                units.tokens_text(r.max_context_tokens) if r.max_context_tokens else units.DASH,
                _marked(_rate(r.decode_tokens_per_s), r, "decode", marking),
                _marked(_seconds(r.ttft_s), r, "prefill", marking),
                "yes" if r.usable else "no",
                units.capability_text(cap),
                facts.hosted_text(r.model_id),
            ))
        lines.extend(_format(header, rows, {4, 5, 6, 7, 9}))
    else:
        lines.append("no model is listed with these settings")
    lines.append("")
    lines.extend(_legend(results, measured_runs))
    lines.extend(listing.named_notes)
    lines.append(_counts_line(listing, usable_only))
    lines.append("--all lists every quant of every model with the memory it needs; --json gives the low–high bands "
                 "and the basis of each estimate.")
    lines.extend(f"  {text[0].upper()}{text[1:]}." for text in (
        describe_pick(), describe_capability(), f"{describe_order()} (--sort capability, the default)",
        f"hosted: the cheapest offer, {describe_blend(settings.input_per_output)}"))
    return "\n".join(lines) + "\n"


def _counts_line(listing: PicksListing, usable_only: bool) -> str:
    """``"Usable here: 78 of 113 models; 13 fit but are too slow; 19 do not fit; 3 are not estimated (...). Listed:
    91 models, each at its pick; not listed: the 19 that do not fit (--all lists them)."``: the parts add up to the
    models looked at (``estimate.tally``), as in the GUI and the report."""
    def verb(n: int, one: str, many: str) -> str:
        return one if n == 1 else many

    counts = listing.tally
    parts = [f"Usable here: {counts.usable:,} of {units.count_text(counts.total, 'model')}"]
    if counts.too_slow:
        parts.append(f"{counts.too_slow:,} {verb(counts.too_slow, 'fits but is', 'fit but are')} too slow")
    if counts.no_fit:
        parts.append(f"{counts.no_fit:,} {verb(counts.no_fit, 'does', 'do')} not fit")
    left = []
    if listing.hidden_no_fit:
        left.append(f"the {listing.hidden_no_fit:,} that {verb(listing.hidden_no_fit, 'does', 'do')} not fit "
                    "(--all lists them)")
    if usable_only and listing.left_by_usable:
        left.append(f"{listing.left_by_usable:,} not usable (--usable)")
    if listing.cut:
        left.append(f"{listing.cut:,} more after the first {len(listing.rows):,} (--limit)")
    if listing.not_estimated:
        count = len(listing.not_estimated)
        parts.append(f"{count:,} {verb(count, 'is', 'are')} not estimated (no parameter count in the catalog: "
                     + ", ".join(model_id for model_id, _ in listing.not_estimated[:3])
                     + (", ..." if count > 3 else "") + ")")
    text = "; ".join(parts) + f". Listed: {units.count_text(len(listing.rows), 'model')}, each at its pick"
    return text + (f"; not listed: {', '.join(left)}." if left else ".")


def table(machine, results, settings, measured_runs: int | None = None) -> str:
    """The listing of every model x quant, the pick of each model marked with *; figures that rest on the user's
    runs marked as ``picks_table`` marks them."""
    lines = [header_line(machine, settings, longest_context_tokens(results))]
    if not results:
        lines.append("no model x quant can run on this machine with these settings")
        return "\n".join(lines) + "\n"
    header = ("", "MODEL", "QUANT", "RUNTIME", "VERDICT", "MEMORY", "MAX CTX", "PREFILL tok/s", "DECODE tok/s",
              "TTFT", "USABLE")
    rows = []
    marking = _marking(results)
    for r in results:
        installed = r.extra.get("installed")
        rows.append((
            "*" if r.best and r.usable else "",
            f"{r.model_id} ({installed['name']})" if isinstance(installed, dict) else r.model_id,
            r.quant,
            r.runtime,
            units.verdict_text(r.verdict) + ("" if r.runs_now in (None, True) or not r.fits else " (not now)"),
            units.bytes_text(r.memory.total_bytes),
            units.tokens_text(r.max_context_tokens) if r.max_context_tokens else units.DASH,
            _marked(_rate(r.prefill_tokens_per_s), r, "prefill", marking),
            _marked(_rate(r.decode_tokens_per_s), r, "decode", marking),
            _marked(_seconds(r.ttft_s), r, "prefill", marking),
            "yes" if r.usable else "no",
        ))
    lines.extend(_format(header, rows, {5, 6, 7, 8, 9}))
    fitting = sum(1 for r in results if r.fits)
    lines.append(f"{fitting:,} of {units.count_text(len(results), 'model × quant row')} fit; * marks the pick of each "
                 "model that has one. Speeds are expected values; --json gives the low–high bands and the basis of "
                 "each estimate.")
    lines.extend(_legend(results, measured_runs))
    reasons = sorted({r.placement for r in results if not r.fits and r.placement.startswith("does not fit:")})
    lines.extend(f"{reason[0].upper()}{reason[1:]}." for reason in reasons)
    return "\n".join(lines) + "\n"
