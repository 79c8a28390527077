"""Planner and cost speed: a plan over the whole device table in well under a second."""

from __future__ import annotations

import time

PLAN_TARGET_S = 1.0
COST_TARGET_S = 2.0


def run() -> bool:
    from rigcheck.catalog.devices import hypothetical_machine
    from rigcheck.catalog.lookup import find_model
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate import compare, plan, serving
    from rigcheck.estimate.target import Target

    catalog = load_catalog()
    ok = True
    for model_id, quant in (("deepseek-ai/DeepSeek-R1", "FP8"), ("Qwen/Qwen3-8B", None), ("zai-org/GLM-5", None)):
        model = find_model(catalog, model_id)
        start = time.perf_counter()
        result = plan.plan(model, catalog, Target(quant=quant), workload=serving.Workload())
        elapsed = time.perf_counter() - start
        ok &= elapsed < PLAN_TARGET_S
        print(f"plan {model_id} {quant or 'best'}: {elapsed * 1000:.0f} ms, {len(result.options)} options, "
              f"{len(result.rejected)} rejected (target < {PLAN_TARGET_S * 1000:.0f} ms)")
    model = find_model(catalog, "zai-org/GLM-5")
    machine = hypothetical_machine(["RTX 4090"], 64 * 1024**3, catalog)
    start = time.perf_counter()
    comparison = compare.compare_doors(model, catalog, serving.Workload(), machine=machine)
    elapsed = time.perf_counter() - start
    ok &= elapsed < COST_TARGET_S
    print(f"cost GLM-5 (machine cannot hold it, planner picks nodes): {elapsed * 1000:.0f} ms, "
          f"{sum(d.available for d in comparison.doors)} doors priced (target < {COST_TARGET_S * 1000:.0f} ms)")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
