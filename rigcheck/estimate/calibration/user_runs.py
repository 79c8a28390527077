"""The user's own measured runs: kept in the user data folder with the machine each was measured on.

One JSON document (``measurements.json``, schema ``rigcheck.measurements/1``) holds the machines (their
profiles, by key) and the runs: model file, catalog model, quant, runtime, engine, backend, device, prompt
and depth, prefill and decode speed, when it was measured and imported. Written atomically; a file that
cannot be read is reported, never overwritten by an import (the user's data is not lost).

A machine's key is made of what identifies it across probes and profiles: host name, CPU, GPUs and RAM.
What-if machines have none: measurements describe real machines only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rigcheck.estimate.calibration.measurements import Measurement
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped
from rigcheck.probe.types import Machine

STORE_SCHEMA = "rigcheck.measurements/1"
STORE_NAME = "measurements.json"
MAX_STORE_BYTES = 256 * 1024 * 1024
"""Thousands of runs take a few MB; far past this the file is not the measurements store."""


class StoreError(ValueError):
    """The measurements file exists but cannot be used, with one sentence saying why."""


def machine_key(machine: Machine) -> str | None:
    """A stable key for a real machine (probed, or a profile of one); None for a what-if machine."""
    if machine.is_hypothetical:
        return None
    gpus = sorted(g.name for g in machine.gpus)
    ram_gib = round((machine.memory.total_bytes or 0) / 1024**3)
    text = "|".join([machine.hostname or "", machine.cpu.model or "", ";".join(gpus), str(ram_gib)])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class UserRun:
    """One measured run on one of the user's machines."""

    id: str
    machine_key: str
    machine_label: str
    engine: str
    """What measured it: "llama-bench", "llama-server", "llama-cli", "ollama", "vllm bench serve"."""
    runtime: str
    """The runtime whose estimate it checks: "llama.cpp" (Ollama runs llama.cpp's kernels) or "vllm"."""
    backend: str
    device: str
    model_name: str
    """The model as the run named it (file name, llama.cpp type label, Ollama tag)."""
    model_id: str | None
    """The catalog model it was matched to, or None."""
    quant: str
    model_file: str | None = None
    file_size_bytes: int | None = None
    params_b: float | None = None
    prompt_tokens: int | None = None
    prompt_depth_tokens: int = 0
    decode_depth_tokens: float = 0.0
    prefill_tokens_per_s: float | None = None
    decode_tokens_per_s: float | None = None
    batch_size: int | None = 1
    flash_attention: bool = True
    ubatch_tokens: int = 512
    n_gpu_layers: int | None = None
    measured_at: str | None = None
    imported_at: str | None = None
    source: str = ""

    @property
    def single_stream(self) -> bool:
        return self.batch_size == 1

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """"tg128 @ d0" style: what was measured."""
        parts = []
        if self.prefill_tokens_per_s is not None and self.prompt_tokens:
            parts.append(f"pp{self.prompt_tokens}")
        if self.decode_tokens_per_s is not None:
            parts.append("tg")
        depth = f" @ d{self.prompt_depth_tokens}" if self.prompt_depth_tokens else ""
        return "+".join(parts) + depth


_FIELDS = {f.name for f in dataclasses.fields(UserRun)}


def run_from_measurement(m: Measurement, machine: Machine, key: str, *, model_id: str | None, quant: str,
                         model_name: str | None = None, model_file: str | None = None,
                         file_size_bytes: int | None = None, params_b: float | None = None,
                         backend: str | None = None, device: str | None = None,
                         engine: str | None = None) -> UserRun:
    """A parsed measurement as a run of ``machine``, identified by its content (importing a file twice
    adds nothing)."""
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    measured_at = m.notes if m.notes[:4].isdigit() and "T" in m.notes else None
    fields = {
        "machine_key": key, "machine_label": machine.label or machine.hostname or "this machine",
        "engine": engine or m.engine, "runtime": m.runtime, "backend": backend or m.backend,
        "device": device or m.device, "model_name": model_name or m.model, "model_id": model_id, "quant": quant,
        "model_file": model_file, "file_size_bytes": file_size_bytes or m.file_size_bytes,
        "params_b": params_b or m.params_b, "prompt_tokens": m.prompt_tokens,
        "prompt_depth_tokens": m.prompt_depth_tokens, "decode_depth_tokens": m.decode_depth_tokens,
        "prefill_tokens_per_s": m.prefill_tokens_per_s, "decode_tokens_per_s": m.decode_tokens_per_s,
        "batch_size": m.batch_size, "flash_attention": m.flash_attention, "ubatch_tokens": m.ubatch_tokens,
        "measured_at": measured_at, "source": m.source,
    }
    identity = json.dumps({k: fields[k] for k in ("machine_key", "model_name", "quant", "prompt_tokens",
                                                  "prompt_depth_tokens", "decode_depth_tokens",
                                                  "prefill_tokens_per_s", "decode_tokens_per_s", "engine")},
                          sort_keys=True)
    return UserRun(id=hashlib.sha1(identity.encode()).hexdigest()[:10], imported_at=now, **fields)  # type: ignore[arg-type]


@dataclass
class RunStore:
    """The runs and the machines they were measured on, as kept in the data folder."""

    path: Path
    runs: list[UserRun] = dataclasses.field(default_factory=list)
    machines: dict[str, dict] = dataclasses.field(default_factory=dict)
    """Machine key -> its profile (``probe.profile.machine_to_dict``)."""

    def runs_on(self, key: str | None) -> list[UserRun]:
        return [r for r in self.runs if key is not None and r.machine_key == key]

    def add(self, machine: Machine, key: str, runs: list[UserRun]) -> list[UserRun]:
        """Add ``runs`` (those not already kept); returns the ones added."""
        from rigcheck.probe.profile import machine_to_dict

        known = {r.id for r in self.runs}
        new = [r for r in runs if r.id not in known]
        self.runs.extend(new)
        self.machines[key] = machine_to_dict(machine)
        return new

    def remove(self, ids: list[str]) -> list[UserRun]:
        """Remove the runs whose id starts with one of ``ids``; returns them."""
        gone = [r for r in self.runs if any(r.id.startswith(i) for i in ids)]
        self.runs = [r for r in self.runs if r not in gone]
        used = {r.machine_key for r in self.runs}
        self.machines = {k: v for k, v in self.machines.items() if k in used}
        return gone

    def machine(self, key: str) -> Machine | None:
        from rigcheck.probe.profile import machine_from_dict

        profile = self.machines.get(key)
        if profile is None:
            return None
        try:
            return machine_from_dict(profile)
        except (ValueError, KeyError, TypeError):
            return None

    def save(self) -> None:
        """Write atomically. Raises ``OSError``."""
        from rigcheck.catalog.cache import atomic_write

        document = {"schema": STORE_SCHEMA, "machines": self.machines, "runs": [r.to_dict() for r in self.runs]}
        atomic_write(self.path, json.dumps(document, indent=1).encode("utf-8"))


def store_path() -> Path:
    from rigcheck.catalog.paths import data_dir

    return data_dir() / STORE_NAME


def load_store(path: Path | None = None) -> RunStore:
    """The kept runs (an empty store when there is no file yet). Raises ``StoreError`` for a file that is
    not a measurements document, so that nothing overwrites it."""
    path = path or store_path()
    try:
        text = read_capped(path, MAX_STORE_BYTES, "measurements store").decode("utf-8")
    except FileNotFoundError:
        return RunStore(path)
    except (OSError, UnicodeDecodeError, FileReadError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None
    if json_too_deep(text.encode("utf-8")):
        raise StoreError(f"cannot read {path}: it nests too deeply to be a measurements file")
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("schema") != STORE_SCHEMA:
            raise ValueError("not a rigcheck measurements file")
        runs = [UserRun(**{k: v for k, v in r.items() if k in _FIELDS}) for r in document.get("runs", [])]
        machines = {str(k): v for k, v in (document.get("machines") or {}).items() if isinstance(v, dict)}
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"{path} is damaged ({exc}); move it away to start afresh") from None
    return RunStore(path, runs, machines)
