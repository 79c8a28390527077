"""Upgrade advice: the smallest change that makes a model run on a machine (RAM, a card, a bigger machine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

from rigcheck.catalog.devices import resolve_gpu
from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.configs import (
    CARD_COUNTS,
    GIB,
    WORKSTATION_KINDS,
    WORKSTATION_MAX_CARDS,
    MachineFn,
    candidate_configs,
    default_machine,
)
from rigcheck.estimate.prices import is_current, purchase_price
from rigcheck.estimate.target import (
    EvaluateFn,
    Target,
    default_evaluate,
    expected_decode_tokens_per_s,
    quality_bits,
    quants_by_quality,
    target_shortfall,
)
from rigcheck.estimate.types import Estimate
from rigcheck.probe.types import Gpu, Machine

RAM_UPGRADE_STEPS_GB = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


@dataclass(frozen=True)
class Upgrade:
    """One change to a machine and what it buys."""

    kind: Literal["none", "ram", "add-gpu", "replace-gpu", "machine"]
    change: str
    """"add 64 GiB RAM (to 128 GB)", "add a second NVIDIA GeForce RTX 4090", "replace with ..."."""
    estimate: Estimate | None
    meets_target: bool
    shortfall: str | None
    cost_usd: float | None
    """Purchase price of the change where the catalog knows it (RAM prices are not in the catalog)."""


def upgrade_advice(
    model: Model,
    machine: Machine,
    catalog: Catalog,
    target: Target | None = None,
    *,
    evaluate_fn: EvaluateFn | None = None,
    machine_fn: MachineFn | None = None,
    limit: int = 5,
) -> list[Upgrade]:
    """The smallest changes that make ``model`` fit ``machine`` (or reach the target): more RAM, one
    more of the same card, a bigger card, or a bigger unified-memory machine. Cheapest kind of change
    first; a single "none" entry when the machine already meets the target. A target for workstations
    (``Target.machine_class``) proposes desktop cards only, at most four.

    Running with part of the model in RAM counts as fitting here (it is how such machines run big
    MoE models); a decode or TTFT target still has to be met.
    """
    target = target or Target()
    evaluate_fn = evaluate_fn or default_evaluate()
    machine_fn = machine_fn or default_machine()
    devices = list(catalog.devices)
    quants = quants_by_quality(model, target.quant)
    quality = {q.name: quality_bits(q) for q in quants}
    verdicts = ("gpu", "unified", "gpu+ram", "cpu")
    settings = target.settings(target.quant)
    as_of = catalog.generated_at  # launch prices of parts no longer current do not count (prices.is_current)

    def best_on(m: Machine) -> tuple[Estimate | None, str | None]:
        """The best quant meeting the target on m, or the best-quality estimate with its shortfall."""
        rows = sorted((r for r in evaluate_fn(m, catalog, settings, [model]) if r.quant in quality),
                      key=lambda r: (-quality[r.quant], -expected_decode_tokens_per_s(r)))
        for row in rows:
            if target_shortfall(row, target, verdicts) is None:
                return row, None
        if not rows:
            return None, "no quant of this model can run on it"
        return rows[0], f"{rows[0].quant}: {target_shortfall(rows[0], target, verdicts)}"

    current, shortfall = best_on(machine)
    if shortfall is None and current is not None:
        return [Upgrade("none", "no change needed", current, True, None, 0.0)]

    upgrades: list[Upgrade] = []
    unified = any(g.unified_memory for g in machine.usable_gpus)
    gpus = machine.usable_gpus

    if not unified:
        ram_now = machine.memory.total_bytes
        for step in RAM_UPGRADE_STEPS_GB:
            new_ram = int(step * GIB)
            if new_ram <= ram_now:
                continue
            bigger = _with_ram(machine, new_ram)
            est, short = best_on(bigger)
            if short is None:
                upgrades.append(Upgrade("ram", f"add {(new_ram - ram_now) / GIB:,.0f} GiB RAM (to {step} GB)",
                                        est, True, None, None))
                break

    if gpus and not unified:
        base = gpus[0]
        same = all(g.name == base.name for g in gpus)
        device = resolve_gpu(base, devices)
        max_count = max(CARD_COUNTS.get(device.kind, (1, 2))) if device else 4
        if target.machine_class == "workstation":
            max_count = min(max_count, WORKSTATION_MAX_CARDS)
        if same:
            for extra in range(1, max_count - len(gpus) + 1):
                bigger = _with_extra_gpus(machine, base, extra)
                est, short = best_on(bigger)
                if short is None:
                    price = purchase_price(device, as_of) if device else None
                    words = "a second" if len(gpus) == 1 and extra == 1 else f"{extra} more"
                    upgrades.append(Upgrade("add-gpu", f"add {words} {base.name}", est, True, None,
                                            price[0] * extra if price else None))
                    break

    current_gpu_bytes = max((g.vram_total_bytes or 0 for g in gpus), default=0)
    replacements = []
    # A unified-memory machine (a Mac, a Strix Halo box) takes no discrete card: it is replaced whole below.
    for device in devices if not unified else ():
        if device.unified_memory or device.kind in ("apple", "apu", "laptop") or not device.memory_bytes:
            continue
        if device.memory_bytes <= current_gpu_bytes:
            continue
        if target.machine_class == "workstation" and device.kind not in WORKSTATION_KINDS:
            continue  # a workstation takes desktop cards: SXM modules and datacenter parts only when asked
        if not unified and gpus and device.vendor.lower() != gpus[0].vendor.lower():
            continue
        replacements.append(device)
    # A current part before one no longer sold new; a card that goes in a desktop before a datacenter part; priced
    # before unpriced; then the cheapest, the smallest.
    kind_rank = {"consumer": 0, "workstation": 1, "datacenter": 2}
    replacements.sort(key=lambda d: (not is_current(d, as_of), purchase_price(d, as_of) is None,
                                     kind_rank.get(d.kind, 3), (purchase_price(d, as_of) or (0,))[0], d.memory_bytes))
    found = 0
    for device in replacements:
        ram = machine.memory.total_bytes if not unified else None
        try:
            candidate = machine_fn([device.name], ram, catalog)
        except ValueError:
            continue  # a name the lookup finds ambiguous: not a suggestion we can make
        est, short = best_on(candidate)
        if short is None:
            price = purchase_price(device, as_of)
            change = f"replace the GPU(s) with one {device.name}" if gpus else f"add a {device.name}"
            upgrades.append(Upgrade("replace-gpu", change, est, True,
                                    None, price[0] if price else None))
            found += 1
            if found >= 2:
                break

    if unified:
        candidates, _ = candidate_configs(d for d in devices if d.unified_memory or d.kind in ("apple", "apu"))
        have = machine.memory.total_bytes
        for config in sorted((c for c in candidates if c.memory_per_device_bytes > have),
                             key=lambda c: c.memory_per_device_bytes):
            try:
                candidate = machine_fn(config.gpu_specs, config.memory_per_device_bytes, catalog)
            except ValueError:
                continue
            est, short = best_on(candidate)
            if short is None:
                price = purchase_price(config.device, as_of)
                upgrades.append(Upgrade("machine", f"move to a {config.label}", est, True, None,
                                        price[0] if price else None))
                break

    order = {"ram": 0, "add-gpu": 1, "replace-gpu": 2, "machine": 3}
    upgrades.sort(key=lambda u: order[u.kind])
    return upgrades[:limit]


def _with_ram(machine: Machine, ram_bytes: int) -> Machine:
    added = ram_bytes - machine.memory.total_bytes
    available = machine.memory.available_bytes
    memory = msgspec.structs.replace(
        machine.memory,
        total_bytes=ram_bytes,
        available_bytes=None if available is None else available + added,
        sources={**machine.memory.sources, "total_bytes": "user"},
    )
    return msgspec.structs.replace(machine, memory=memory, origin="hypothetical",
                               label=f"{machine.label or 'this machine'} + RAM to {ram_bytes / GIB:.0f} GiB")


def _with_extra_gpus(machine: Machine, gpu: Gpu, extra: int) -> Machine:
    next_index = max((g.index for g in machine.gpus), default=-1) + 1
    copies = tuple(
        msgspec.structs.replace(gpu, index=next_index + i, uuid=None, serial=None, pci_bus_id=None,
                            vram_free_bytes=gpu.vram_total_bytes, vram_used_bytes=0,
                            sources={k: "user" for k in gpu.sources})
        for i in range(extra)
    )
    return msgspec.structs.replace(machine, gpus=machine.gpus + copies, origin="hypothetical",
                               label=f"{machine.label or 'this machine'} + {extra}x {gpu.name}")


def drop_below_floor(upgrades: list[Upgrade], other_bits: list[float]) -> tuple[list[Upgrade], int]:
    """The rules' quality floor on upgrade advice: when another way (a configuration of the plan) runs the model at
    ``rules.SMALL_LOSS_BITS`` or more, upgrades that run it only below ``rules.NOTICEABLE_LOSS_BITS`` are dropped.
    Returns the upgrades kept and how many were dropped."""
    from rigcheck.estimate.rules import NOTICEABLE_LOSS_BITS, SMALL_LOSS_BITS

    all_bits = [*other_bits, *((u.estimate.bits_per_weight or 0.0) for u in upgrades if u.estimate)]
    if not any(b >= SMALL_LOSS_BITS for b in all_bits):
        return upgrades, 0
    kept = [u for u in upgrades if u.estimate is None or (u.estimate.bits_per_weight or 0.0) >= NOTICEABLE_LOSS_BITS]
    return kept, len(upgrades) - len(kept)
