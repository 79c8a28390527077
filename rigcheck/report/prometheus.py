"""A machine as Prometheus metrics for node_exporter's textfile collector: GPU memory, bandwidth, usable models, best pick.

``rigcheck probe --format prometheus -o /var/lib/node_exporter/textfile/rigcheck.prom`` on each node (from
cron or a systemd timer) lets a fleet that already runs Prometheus inventory its LLM capacity with the tools
it has. The text follows the exposition format (``# HELP``, ``# TYPE``, one sample per line, base units in
the metric names); label values are escaped as the format requires, with control characters dropped. The
counts and the pick are those of the machine report's summary (``report.summary.usable_models``), so a
dashboard and a report agree. docs/fleet.md lists the metrics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timezone

from rigcheck import __version__
from rigcheck.catalog.records import Catalog
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine
from rigcheck.report.catalog_facts import capability_by_model, hosted_by_model
from rigcheck.report.records import one_row_per_model
from rigcheck.report.summary import fit_row, model_tally, usable_models

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def label_value(text: object) -> str:
    """A label value as the exposition format quotes it: backslash, double quote and newline escaped;
    other control characters dropped (a GPU or model name is data, not markup for the scraper)."""
    value = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return _CONTROL.sub("", value)


def _labels(**labels: object) -> str:
    pairs = [f'{k}="{label_value(v)}"' for k, v in labels.items() if v is not None]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value)) if math.isfinite(value) else "NaN"


class _Metrics:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, help_text: str, samples: Iterable[tuple[dict[str, object], float]]) -> None:
        samples = [(labels, value) for labels, value in samples if value is not None]
        if not samples:
            return
        self.lines += [f"# HELP rigcheck_{name} {help_text}", f"# TYPE rigcheck_{name} gauge"]
        self.lines += [f"rigcheck_{name}{_labels(**labels)} {_number(value)}" for labels, value in samples]


def render(machine: Machine, catalog: Catalog, estimates: Iterable[Estimate], settings: Settings,
           catalog_source: str | None = None) -> str:
    """The metrics text for ``machine`` given its ``estimates`` over ``catalog`` (``evaluate``'s rows)."""
    models_by_id = {m.id: m for m in catalog.models}
    capability = capability_by_model(catalog.scores)
    hosted = hosted_by_model(catalog.hosted, settings.input_per_output)
    rows = tuple(fit_row(e, models_by_id.get(e.model_id), capability, hosted) for e in estimates
                 if e.model_id in models_by_id)
    per_model = one_row_per_model(rows)
    well = usable_models(per_model)
    counts = model_tally(per_model, catalog)
    m = _Metrics()
    m.family("info", "rigcheck's version, the catalog and the settings the other metrics were estimated with.", [(
        {"version": __version__, "catalog_sequence": catalog.sequence, "catalog_source": catalog_source,
         "context_tokens": settings.context_tokens, "prompt_tokens": settings.prompt_tokens,
         "kv_cache_type": settings.kv_cache_type}, 1)])
    gpus = machine.usable_gpus
    m.family("gpu_memory_bytes", "Memory of each GPU: its VRAM, or for a unified-memory GPU the share of RAM it may use.",
             [(_gpu(g), g.gpu_usable_memory_bytes if g.unified_memory else g.vram_total_bytes) for g in gpus])
    m.family("gpu_memory_bandwidth_bytes_per_second", "Memory bandwidth of each GPU (driver, spec table or measured).",
             [(_gpu(g), g.memory_bandwidth_bytes_per_s) for g in gpus])
    m.family("gpus", "GPUs the probe found and that answered (a lost GPU is not counted).", [({}, len(gpus))])
    m.family("ram_bytes", "System RAM.", [({}, machine.memory.total_bytes)])
    m.family("ram_bandwidth_bytes_per_second", "System RAM bandwidth, where known.",
             [({}, machine.memory.bandwidth_bytes_per_s)])
    m.family("models", "Catalog models by what this machine does with them: usable (fits and runs at usable "
             "speed), fit (fits in memory), catalog (every model the estimator could size).", [
                 ({"state": "usable"}, counts.usable),
                 ({"state": "fit"}, counts.fitting),
                 ({"state": "catalog"}, counts.estimated),
             ])
    if well:
        best = well[0]
        e = best.estimate
        pick = {"model": best.model_id, "name": best.model_name, "quant": e.quant, "runtime": e.runtime,
                "verdict": e.verdict}
        m.family("best_model", "The most capable model this machine runs at usable speed (always 1; the labels "
                 "say which, at which quant).", [(pick, 1)])
        m.family("best_model_decode_tokens_per_second", "Expected decode speed of the best model (batch 1).",
                 [({"model": best.model_id}, e.decode_tokens_per_s.expected if e.decode_tokens_per_s else None)])
        m.family("best_model_time_to_first_token_seconds", "Expected time to the first token of the best model "
                 "for the prompt in rigcheck_info.",
                 [({"model": best.model_id}, e.ttft_s.expected if e.ttft_s else None)])
    probed = _timestamp(machine.probed_at)
    m.family("probe_timestamp_seconds", "When the machine was probed (Unix time).", [({}, probed)])
    return "\n".join(m.lines) + "\n"


def _gpu(gpu) -> dict[str, object]:
    return {"gpu": gpu.index, "name": gpu.name, "uuid": gpu.uuid}


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
