"""What a plan must reach, the quants in order of quality, and whether an estimate meets the target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate.configs import GIB, MACHINE_CLASSES, MachineClass
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.rules import quality_bits as _rule_quality_bits
from rigcheck.estimate.rules import run_context
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine

Mode = Literal["either", "buy", "rent"]

OK_VERDICTS = ("gpu", "unified")
"""Procurement plans keep the whole model in GPU (or unified) memory; offload is for upgrade advice."""


class PlanError(ValueError):
    """A plan request that cannot be answered as asked, with one sentence saying why."""


@dataclass(frozen=True)
class Target:
    """What the plan must achieve."""

    quant: str | None = None
    """A quant name, or None for the best quality that meets the target."""
    context_tokens: int = 8192
    prompt_tokens: int = 4096
    min_decode_tokens_per_s: float | None = None
    max_ttft_s: float | None = None
    budget_usd: float | None = None
    """Purchase ceiling when buying, monthly rental ceiling when renting; either, when not said."""
    mode: Mode = "either"
    kv_cache_type: str = "f16"
    machine_class: MachineClass = "any"
    """Only configurations of this class ("workstation", "server"; ``configs.config_class``), or "any"."""

    def __post_init__(self) -> None:
        if self.context_tokens < 1:
            raise PlanError("context must be at least 1 token")
        if self.prompt_tokens < 1:
            raise PlanError("prompt must be at least 1 token")
        if self.min_decode_tokens_per_s is not None and not self.min_decode_tokens_per_s > 0:
            raise PlanError("minimum decode rate must be above zero")
        if self.max_ttft_s is not None and not self.max_ttft_s > 0:
            raise PlanError("maximum time to first token must be above zero")
        if self.budget_usd is not None and not self.budget_usd > 0:
            raise PlanError("budget must be above zero")
        if self.mode not in ("either", "buy", "rent"):
            raise PlanError("mode must be buy, rent or either")
        if self.machine_class not in MACHINE_CLASSES:
            raise PlanError(f"machine class must be one of {', '.join(MACHINE_CLASSES)}")

    def settings(self, quant: str | None = None) -> Settings:
        return Settings(
            context_tokens=self.context_tokens,
            prompt_tokens=self.prompt_tokens,
            kv_cache_type=self.kv_cache_type,  # type: ignore[arg-type]
            quant=quant,
        )

    def describe(self, model_max_tokens: int | None = None) -> str:
        """The target in words; with ``model_max_tokens``, a context above it reads as the model's maximum that
        every estimate is sized for (``rules.run_context``), not as a context no configuration is sized for."""
        ctx = run_context(self.context_tokens, self.prompt_tokens, model_max_tokens)
        if ctx.capped and not ctx.grown:
            parts = [f"context {ctx.tokens:,} tokens (the model's maximum; {self.context_tokens:,} asked)"]
        else:
            parts = [f"context {self.context_tokens:,} tokens"]
        if self.min_decode_tokens_per_s:
            parts.append(f"decode >= {self.min_decode_tokens_per_s:g} tokens/s")
        if self.max_ttft_s:
            parts.append(f"time to first token <= {self.max_ttft_s:g} s for a {self.prompt_tokens:,}-token prompt")
        if self.budget_usd:
            parts.append(f"budget ${self.budget_usd:,.0f}")
        if self.machine_class != "any":
            parts.append(f"{self.machine_class}s only")
        return ", ".join(parts)


EvaluateFn = Callable[[Machine, Catalog, Settings, list[Model]], list[Estimate]]
"""``evaluate(machine, catalog, settings, models)``: every quant of the models that can run there."""


def default_evaluate() -> EvaluateFn:
    """The estimator's ``evaluate`` (rows whose runtime cannot run on the machine are left out)."""
    return lambda machine, catalog, settings, models: evaluate(machine, catalog, settings, models=models)


def quality_bits(quant: Quant) -> float:
    """The quality a quant is ranked by (``rules.quality_bits``: near-lossless quants count as one)."""
    return _rule_quality_bits(quant.bits_per_weight)


def quants_by_quality(model: Model, name: str | None = None) -> list[Quant]:
    """The model's quants, best quality (most bits per weight) first; only ``name`` when given.

    Raises PlanError naming the available quants when ``name`` is not one of them.
    """
    quants = sorted(model.quants, key=lambda q: (-quality_bits(q), -q.bits_per_weight, q.name))
    if name is None:
        return quants
    chosen = [q for q in quants if q.name.lower() == name.lower()]
    if not chosen:
        names = ", ".join(q.name for q in quants) or "none"
        raise PlanError(f"{model.id} has no quant {name!r}; available: {names}")
    return chosen


def needed_bytes(estimate: Estimate) -> int:
    """Memory a model needs at a context, from the estimator's breakdown (weights + KV + overhead)."""
    return estimate.memory.total_bytes


def target_shortfall(estimate: Estimate, target: Target, verdicts: tuple[str, ...] = OK_VERDICTS) -> str | None:
    """Why an estimate misses the target, in a phrase; None when it meets it."""
    if estimate.verdict not in verdicts:
        if estimate.verdict == "no_fit":
            return f"does not fit ({gib_text(estimate.memory.total_bytes)} needed)"
        return f"only runs with part of the model in RAM ({estimate.verdict})"
    decode = estimate.decode_tokens_per_s
    if target.min_decode_tokens_per_s is not None:
        if decode is None or decode.expected < target.min_decode_tokens_per_s:
            got = f"{decode.expected:,.1f}" if decode else "unknown"
            return f"decode {got} tokens/s < {target.min_decode_tokens_per_s:g} wanted"
    ttft = estimate.ttft_s
    if target.max_ttft_s is not None:
        if ttft is None or ttft.expected > target.max_ttft_s:
            got = f"{ttft.expected:,.1f}" if ttft else "unknown"
            return f"time to first token {got} s > {target.max_ttft_s:g} s wanted"
    return None


def gib_text(n_bytes: float) -> str:
    """Bytes as whole GiB: "640 GiB"."""
    return f"{n_bytes / GIB:,.0f} GiB"


def expected_decode_tokens_per_s(row: Estimate) -> float:
    """The expected decode rate, 0 when the estimator has none: how quants of one quality are ordered."""
    return row.decode_tokens_per_s.expected if row.decode_tokens_per_s else 0.0
