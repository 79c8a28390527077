"""What the detail pane's "Run it" tab shows for one quant: the launch commands and the user's measurements.

Qt-free: the commands come from ``estimate.launch`` (the installed file's path or Ollama tag when this model
and quant are on disk), the measured lines from the estimate's ``measured`` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rigcheck import units

if TYPE_CHECKING:
    from rigcheck.catalog.installed.matching import InstalledModel
    from rigcheck.desktop.models.rows import ModelRow
    from rigcheck.estimate.launch import LaunchCommand
    from rigcheck.estimate.types import Estimate

RUNTIME_LABELS = {"llama.cpp": "llama.cpp (llama-server)", "ollama": "Ollama", "vllm": "vLLM", "mlx": "MLX (mlx_lm)"}


def installed_file(model_id: str, quant: str, installed: list[InstalledModel]) -> InstalledModel | None:
    """The installed file of this model and quant (an Ollama tag first: it is what people run), or None."""
    files = [m for m in installed if m.model_id == model_id and (m.quant or "").casefold() == quant.casefold()
             and not m.problem]
    return min(files, key=lambda m: (m.source != "ollama", m.path)) if files else None


def commands(row: ModelRow, e: Estimate, kv_cache_type: str, installed: list[InstalledModel]) -> list[LaunchCommand]:
    """The commands that run ``e`` as estimated, one per runtime that loads its quant."""
    from rigcheck.estimate.installed_rows import installed_ref
    from rigcheck.estimate.launch import launch_commands

    quant = next((q for q in row.model.quants if q.name == e.quant), None)
    if quant is None:
        return []
    on_disk = installed_file(row.model.id, e.quant, installed)
    return launch_commands(e, row.model, quant, kv_cache_type=kv_cache_type,
                           installed=installed_ref(on_disk) if on_disk is not None else None)


def command_text(cmd: LaunchCommand) -> str:
    """The command, then its notes as shell comments (so a pasted block still runs)."""
    notes = "".join(f"\n# {n}" for n in cmd.notes)
    return cmd.command + notes


def measured_text(e: Estimate, installed_name: str | None = None) -> str:
    """The user's runs of this quant on this machine beside the estimate, or how to add one."""
    lines = []
    for m in e.extra.get("measured") or ():
        for kind in ("prefill", "decode"):
            value = m.get(f"{kind}_tokens_per_s")
            if value is None:
                continue
            estimated, ratio = m.get(f"estimated_{kind}_tokens_per_s"), m.get(f"{kind}_ratio")
            when = f", {m['measured_at'][:10]}" if m.get("measured_at") else ""
            line = f"{kind.capitalize()}: {units.rate_text(value)} tok/s measured ({m.get('engine')}{when})"
            if estimated and ratio:
                line += f"; the estimate for that run was {units.rate_text(estimated)} tok/s: ×{ratio:.2f}"
            lines.append(line)
    for kind, fix in (e.extra.get("correction") or {}).items():
        lines.append(f"This machine's {kind} estimates are corrected by your {fix['measurements']} "
                     f"measurement(s): ×{fix['factor']:.2f}" + (" (bounded)" if fix.get("capped") else ""))
    if lines:
        return "Measured on this machine\n" + "\n".join(lines)
    target = installed_name or "MODEL"
    return ("No measurement of this quant on this machine yet: `rigcheck bench " + target + "` runs llama-bench, "
            "or `rigcheck measured import FILE` reads a llama-bench, llama-server, Ollama or vLLM run.")
