"""Cost over utilization: each door's curve for charts, and where each door is the cheapest (break-even)."""

from __future__ import annotations

from dataclasses import dataclass

from rigcheck.estimate.cost import DoorCost, DoorName


def utilization_grid(points: int = 50, lowest: float = 0.02) -> list[float]:
    """Evenly spaced utilizations from ``lowest`` to 1, for charts."""
    if points < 2:
        return [1.0]
    step = (1.0 - lowest) / (points - 1)
    return [lowest + i * step for i in range(points)]


def cost_curves(doors: list[DoorCost], utilizations: list[float] | None = None) -> dict[str, list[tuple[float, float]]]:
    """$/M output tokens against utilization for each available door: ``{label: [(u, usd_per_m), ...]}``.

    Keys are ``"<door>: <label>"`` so two doors of one kind stay apart.
    """
    grid = utilizations or utilization_grid()
    return {
        f"{d.door}: {d.label}": [(u, d.curve.usd_per_m_output_at(u)) for u in grid]
        for d in doors
        if d.curve is not None
    }


@dataclass(frozen=True)
class BreakEven:
    """Where one door is the cheapest: a utilization range, or never."""

    door: DoorName
    label: str
    wins_from_utilization: float | None
    """Lowest utilization at which this door is the cheapest (None: never in 0-100%)."""
    wins_up_to_utilization: float | None
    output_tokens_per_day_from: float | None
    """Output tokens/day one machine serves at ``wins_from_utilization`` (self-hosted doors)."""
    sentence: str

    def to_dict(self) -> dict[str, object]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "door": self.door,
            "label": self.label,
            "wins_from_utilization": r(self.wins_from_utilization),
            "wins_up_to_utilization": r(self.wins_up_to_utilization),
            "output_tokens_per_day_from": (
                None if self.output_tokens_per_day_from is None else round(self.output_tokens_per_day_from)
            ),
            "never": self.wins_from_utilization is None,
            "sentence": self.sentence,
        }


def break_even(doors: list[DoorCost]) -> list[BreakEven]:
    """For each available door, the utilization range in (0, 1] where its $/M output tokens is lowest.

    Each curve is ``A / u + C``, so door X costs no more than door Y where ``dA <= dC x u`` with
    ``dA = A_x - A_y`` and ``dC = C_y - C_x``: one bound on u per rival, and X wins on the
    intersection of those ranges. Returns one entry per available door, "never" when the range is empty.
    """
    priced = [d for d in doors if d.available and d.curve is not None]
    results = []
    for door in priced:
        lo, hi = 0.0, 1.0
        for rival in priced:
            if rival is door:
                continue
            da = door.curve.inverse_term - rival.curve.inverse_term
            dc = rival.curve.constant_term - door.curve.constant_term
            if dc > 0:
                lo = max(lo, da / dc)  # holds for u >= dA/dC (always when dA <= 0)
            elif dc < 0:
                if da >= 0:
                    lo, hi = 1.0, 0.0  # dearer per token and no less fixed cost: never
                else:
                    hi = min(hi, da / dc)
            elif da > 0:
                lo, hi = 1.0, 0.0  # same marginal cost, more fixed cost: never
        if lo > hi:
            results.append(BreakEven(door.door, door.label, None, None, None, _never_sentence(door, priced)))
            continue
        tokens = (
            lo * door.output_tokens_per_day_at_full
            if door.output_tokens_per_day_at_full is not None and lo > 0
            else None
        )
        results.append(BreakEven(door.door, door.label, lo, hi, tokens, _win_sentence(door, lo, hi, tokens)))
    return results


def _win_sentence(door: DoorCost, start: float, end: float, tokens: float | None) -> str:
    name = f"{door.door} ({door.label})"
    if start <= 0 and end >= 1:
        return f"{name} is the cheapest at every utilization"
    if start <= 0:
        return f"{name} is the cheapest below {end:.0%} utilization"
    per_day = f" (about {tokens:,.0f} output tokens/day per machine)" if tokens else ""
    if end >= 1:
        return f"{name} is the cheapest from {start:.0%} utilization{per_day}"
    return f"{name} is the cheapest between {start:.0%} and {end:.0%} utilization{per_day}"


def _never_sentence(door: DoorCost, priced: list[DoorCost]) -> str:
    at_full = door.curve.usd_per_m_output_at(1.0)
    rivals = [d for d in priced if d is not door]
    best = min(rivals, key=lambda d: d.curve.usd_per_m_output_at(1.0)) if rivals else None
    if best is None:
        return f"{door.door} ({door.label}) has no rival"
    return (
        f"never: {door.door} ({door.label}) costs ${at_full:,.2f}/M output tokens even at 100% utilization, "
        f"against ${best.curve.usd_per_m_output_at(1.0):,.2f}/M for {best.door} ({best.label})"
    )
