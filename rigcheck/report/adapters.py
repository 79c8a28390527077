"""The report's default engine: the real estimator, planner and device resolver, adapted to the builder.

Each part is imported on its own; one that is missing (not installed in this build) is left None with
the reason, and the report says that section is not included rather than failing.
"""

from __future__ import annotations

from rigcheck import units
from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine
from rigcheck.report.engine import Engine
from rigcheck.report.records import PlanOption

PLAN_OPTIONS = 6
"""Configurations shown per model: enough to compare buying and renting without a wall of rows."""
PLAN_REJECTIONS = 4
"""Cheaper configurations that fail, shown with why, so the reader sees the price of the target."""


def _with_measured(evaluate):
    """The estimator's evaluate with the user's own runs on each machine applied (``calibration.correction``:
    shown beside the estimates and a bounded correction of that machine, never of another)."""
    from rigcheck.estimate.calibration.correction import with_measured

    def evaluate_measured(machine, catalog, settings):
        return with_measured(machine, catalog, evaluate(machine, catalog, settings), settings.usable)

    return evaluate_measured


def default_engine() -> Engine:
    """The real estimator, planner and resolver; a part whose module is not installed is left None."""
    engine = Engine()
    try:
        from rigcheck.estimate import estimate, evaluate
    except ImportError as exc:
        engine.unavailable["estimator"] = f"the estimator is not installed ({exc})"
    else:
        engine.evaluate = _with_measured(evaluate)
        engine.estimate = estimate
    try:
        from rigcheck.catalog.devices import resolve_gpu
    except ImportError:
        engine.unavailable["device resolver"] = "the device resolver is not installed"
    else:
        engine.resolve_gpu = resolve_gpu
    try:
        from rigcheck.estimate import plan as plan_module
        from rigcheck.estimate import upgrade as upgrade_module
    except ImportError:
        engine.unavailable["planner"] = "the planner is not installed"
    else:
        engine.plan = _planner(plan_module)
        engine.upgrade = _upgrader(upgrade_module)
    return engine


def _target(quant: str | None, settings: Settings, machine_class: str = "any"):
    from rigcheck.estimate.target import Target

    # The report's bar for "runs" is the settings' usable thresholds (rules), as everywhere.
    return Target(
        quant=quant,
        context_tokens=settings.context_tokens,
        prompt_tokens=settings.prompt_tokens,
        kv_cache_type=settings.kv_cache_type,
        min_decode_tokens_per_s=settings.usable.min_decode_tokens_per_s,
        max_ttft_s=settings.usable.max_ttft_s,
        machine_class=machine_class,  # type: ignore[arg-type]
    )


def _planner(plan_module):
    def run(model: Model, quant: str | None, settings: Settings, catalog: Catalog, machine_class: str = "any"):
        from rigcheck.estimate.serving import Workload
        from rigcheck.estimate.target import PlanError

        try:
            result = plan_module.plan(
                model, catalog, _target(quant, settings, machine_class), limit=PLAN_OPTIONS, workload=Workload.for_prompt(settings.prompt_tokens)
            )
        except PlanError as exc:
            return quant, [PlanOption(label=model.id, meets_target=False, why=str(exc))]
        options = [
            PlanOption(
                label=o.config.label,
                meets_target=True,
                purchase_usd=o.prices.purchase_usd,
                rental_usd_per_hour=o.prices.rental_usd_per_hour.expected if o.prices.rental_usd_per_hour else None,
                usd_per_m_output_rented=o.usd_per_m_output_rented.expected if o.usd_per_m_output_rented else None,
                usd_per_m_output_owned=o.usd_per_m_output_owned.expected if o.usd_per_m_output_owned else None,
                power_w=o.prices.power_w,
                decode_tokens_per_s=o.estimate.decode_tokens_per_s,
                ttft_s=o.estimate.ttft_s,
                why=f"{o.quant}, {o.config.split}",
            )
            for o in result.options
        ]
        cheapest = min((o.purchase_usd for o in options if o.purchase_usd is not None), default=None)
        rejected = [
            r for r in result.rejected
            if cheapest is None or r.prices.purchase_usd is None or r.prices.purchase_usd <= cheapest
        ]
        rejected.sort(key=lambda r: -(r.prices.purchase_usd or 0))
        options += [
            PlanOption(
                label=r.config.label,
                meets_target=False,
                purchase_usd=r.prices.purchase_usd,
                rental_usd_per_hour=r.prices.rental_usd_per_hour.expected if r.prices.rental_usd_per_hour else None,
                power_w=r.prices.power_w,
                why=r.reason,
            )
            for r in rejected[:PLAN_REJECTIONS]
        ]
        # Each option names its own quant (the best that meets the target there); the section names one
        # only when the user fixed it.
        return quant, options

    return run


def _upgrader(upgrade_module):
    def run(machine: Machine, model: Model, settings: Settings, catalog: Catalog,
            machine_class: str = "any") -> list[str]:
        from rigcheck.estimate.target import PlanError

        try:
            target = _target(settings.quant, settings, machine_class)
            upgrades = upgrade_module.upgrade_advice(model, machine, catalog, target)
            if any(u.estimate is not None and (u.estimate.bits_per_weight or 0.0) < 3.0 for u in upgrades):
                # The rules' quality floor: no 1-bit upgrade when a machine of this class runs it at 4 bits.
                from rigcheck.estimate.plan import plan as plan_fn

                others = plan_fn(model, catalog, target, limit=PLAN_OPTIONS).options
                upgrades, _dropped = upgrade_module.drop_below_floor(
                    upgrades, [o.estimate.bits_per_weight or 0.0 for o in others])
        except PlanError as exc:
            return [str(exc)]
        lines = []
        for u in upgrades:
            e = u.estimate
            speed = units.rate_text(e.decode_tokens_per_s.expected) if e.decode_tokens_per_s else "—"
            text = f"{u.change}: {e.quant} on {units.verdict_place(e.verdict)}, about {speed} tok/s"
            if u.cost_usd:
                text += f", about {units.usd_text(u.cost_usd, 0)}"
            if u.shortfall:
                text += f" (still short: {u.shortfall})"
            lines.append(text)
        return lines

    return run
