"""The ``plan --json`` body: options, rejections and upgrades as plain data, bands rounded to 4 places."""

from __future__ import annotations

from rigcheck.estimate.configs import Config
from rigcheck.estimate.plan import Plan
from rigcheck.estimate.prices import Prices
from rigcheck.estimate.types import Band
from rigcheck.estimate.upgrade import Upgrade


def _band(b: Band | None) -> dict[str, float] | None:
    return None if b is None else {k: round(v, 4) for k, v in b.to_dict().items()}


def prices_to_dict(prices: Prices) -> dict[str, object]:
    return {
        "purchase_usd": prices.purchase_usd,
        "purchase_note": prices.purchase_note,
        "rental_usd_per_hour": _band(prices.rental_usd_per_hour),
        "rental_usd_per_month": (
            round(prices.rental_usd_per_month, 2) if prices.rental_usd_per_month is not None else None
        ),
        "rental_note": prices.rental_note,
        "power_w": prices.power_w,
        "price_known": prices.purchase_usd is not None or prices.rental_usd_per_hour is not None,
    }


def config_to_dict(config: Config) -> dict[str, object]:
    return {
        "label": config.label,
        "device": config.device.name,
        "kind": config.kind,
        "gpu_count": config.count,
        "nodes": config.nodes,
        "memory_total_bytes": config.memory_total_bytes,
        "split": config.split,
        "interconnect": config.interconnect,
    }


def plan_to_dict(result: Plan) -> dict[str, object]:
    """The ``plan --json`` body (without the schema/catalog header the command adds)."""
    t = result.target
    return {
        "model_id": result.model_id,
        "target": {
            "quant": t.quant,
            "context_tokens": t.context_tokens,
            "prompt_tokens": t.prompt_tokens,
            "min_decode_tokens_per_s": t.min_decode_tokens_per_s,
            "max_ttft_s": t.max_ttft_s,
            "budget_usd": t.budget_usd,
            "mode": t.mode,
        },
        "options": [
            {
                **config_to_dict(o.config),
                "split": o.split,
                "quant": o.quant,
                **prices_to_dict(o.prices),
                "usd_per_m_output_rented_at_full_utilization": _band(o.usd_per_m_output_rented),
                "usd_per_m_output_owned_at_full_utilization": _band(o.usd_per_m_output_owned),
                "estimate": o.estimate.to_dict(),
                "cost_basis": list(o.cost_basis),
            }
            for o in result.options
        ],
        "rejected": [
            {**config_to_dict(r.config), "quant": r.quant, "reason": f"{r.config.label}: {r.reason}",
             **prices_to_dict(r.prices)}
            for r in result.rejected
        ],
        "not_evaluated": result.not_evaluated,
        "notes": result.notes,
    }


def upgrade_to_dict(upgrade: Upgrade) -> dict[str, object]:
    est = upgrade.estimate
    return {
        "kind": upgrade.kind,
        "change": upgrade.change,
        "meets_target": upgrade.meets_target,
        "shortfall": upgrade.shortfall,
        "cost_usd": upgrade.cost_usd,
        "quant": est.quant,
        "verdict": est.verdict,
        "decode_tokens_per_s": _band(est.decode_tokens_per_s),
        "ttft_s": _band(est.ttft_s),
        "estimate": est.to_dict(),
    }
