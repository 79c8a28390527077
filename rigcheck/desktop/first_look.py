"""The first look: this machine's table, computed by a helper process while the GUI process starts Qt.

Why a process: on a small machine the window's own start-up (PySide6, the widgets, the first paint) and the
catalog and estimator work (their imports, the catalog, the probe, the evaluation) each take about as long as a
bare Qt window, and Python threads cannot overlap them (they share one interpreter lock). A helper process can.
``rigcheck`` starts it before it imports Qt; the helper loads the catalog, probes this machine, evaluates every
model with the saved settings and renders the table's cells (``models.cells``: Qt-free, the same code the table
uses), then writes one pickle to its stdout: the machine, the spec figures the machine panel shows, the catalog's
status line and the cells. The window paints that, then loads the catalog and evaluates in its own process as
before (the detail pane, what-if, re-evaluation and export need the full records); that evaluation replaces the
cells in place. helper_process.py starts the helper and collects its output.

A helper whose inputs are those of the last start's first look sends that again without loading the catalog
(first_look_memo.py): a 10,000-model catalog's first look then takes its helper ~60 ms instead of ~1 s.

Nothing here is load-bearing: when the helper cannot start, fails, exceeds its time, writes anything unexpected or
used other settings than the window's, the window starts the way it does without it.

The payload is two pickles: the settings and the machine, then the specs, the catalog's line and the cells (the
part the memo keeps). It is read only from the child this process started, over its own pipe, by an unpickler
that makes no object but the classes a first look holds (``_ALLOWED``); this module's ``main`` is the only writer.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import time
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from rigcheck.catalog.records import Device
    from rigcheck.desktop.catalog_info import CatalogInfo
    from rigcheck.desktop.models.cells import TableRow
    from rigcheck.estimate.types import Settings
    from rigcheck.probe.types import Machine

MODELS_PER_CHUNK = 1000
"""Models per chunk of the first look's work, shared with forked workers (``estimate.forked``) over a large catalog."""
MAGIC = b"rigcheck first look 1\n"
"""Starts the helper's output: a different build's helper (or stray output) is not mistaken for a payload."""


class GpuSpec(msgspec.Struct, frozen=True):
    """The spec-table figures the machine panel shows for a GPU (what it reads of a catalog ``Device``)."""

    name: str
    bandwidth_bytes_per_s: float | None
    fp16_tensor_tflops: float | None
    bf16_tensor_tflops: float | None
    fp16_vector_tflops: float | None

    @classmethod
    def of(cls, device: Device | None) -> GpuSpec | None:
        if device is None:
            return None
        return cls(device.name, device.bandwidth_bytes_per_s, device.fp16_tensor_tflops, device.bf16_tensor_tflops,
                   device.fp16_vector_tflops)


class FirstLook(msgspec.Struct, frozen=True):
    settings: Settings
    """The estimator settings the helper read from the settings file: used only when they are the window's."""
    machine: Machine
    specs: tuple[GpuSpec | None, ...]
    """Per GPU of ``machine``, in order."""
    catalog: CatalogInfo
    cells: tuple[TableRow, ...]
    seconds: float
    """How long the helper worked (for the log)."""


class _Failed(msgspec.Struct, frozen=True):
    message: str


def compute(settings_file: Path) -> FirstLook:
    """What the helper computes (also callable in-process, which the tests use to compare)."""
    started = time.perf_counter()
    settings, machine = _inputs(settings_file)
    specs, info, cells, _until = _body(settings, machine)
    return FirstLook(settings, machine, specs, info, cells, time.perf_counter() - started)


def _inputs(settings_file: Path) -> tuple[Settings, Machine]:
    """The saved estimator settings and this machine, probed."""
    from rigcheck.desktop import state
    from rigcheck.probe.detect import probe_machine

    return state.load_estimator_settings(state.IniValues(settings_file)), probe_machine()


def _body(settings: Settings, machine: Machine) -> tuple[tuple[GpuSpec | None, ...], CatalogInfo, tuple[TableRow, ...],
                                                         float | None]:
    """What the catalog and the estimator make of ``settings`` and ``machine``: the GPUs' spec figures, the catalog's
    status line and the table's cells (first_look_memo.py says what else they depend on), and the Unix time from
    which the status line's expiry sentence would read otherwise (None: never)."""
    from rigcheck.catalog.cache import expiry_warning_until
    from rigcheck.catalog.devices import resolve_gpu
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.catalog_info import catalog_info
    from rigcheck.desktop.models.cells import table_rows
    from rigcheck.desktop.models.rows import build_rows, mac_hints, needs_mac_hints
    from rigcheck.estimate import forked
    from rigcheck.estimate.estimator import Estimator
    from rigcheck.estimate.picks import evaluate_picks

    catalog = load_catalog()
    # The table shows the row that speaks for each model: only those are estimated (and the hints read only those).
    models = catalog.models
    chunks = len(models) // MODELS_PER_CHUNK
    workers = 0 if needs_mac_hints(machine) else forked.default_workers(chunks)
    if workers:
        # A large catalog: chunks of models estimated and made into cells beside forked workers (``forked``); the
        # window is waiting, and each model's cells depend on that model alone.
        estimator = Estimator(machine, catalog.devices, settings)
        size = -(-len(models) // chunks)

        def part(j: int) -> list[TableRow]:
            some = models[j * size:(j + 1) * size]
            return table_rows(build_rows(catalog, evaluate_picks(machine, catalog, settings, some, estimator),
                                         settings, None, some))

        cells = [cell for cells_of in forked.in_order(chunks, part, workers) for cell in cells_of]
    else:
        estimates = evaluate_picks(machine, catalog, settings)
        hints = mac_hints(machine, catalog, settings, estimates, evaluate_picks)
        cells = table_rows(build_rows(catalog, list(estimates), settings, hints))
    specs = tuple(GpuSpec.of(resolve_gpu(g, catalog.devices)) for g in machine.gpus)
    until = expiry_warning_until(catalog)
    return specs, catalog_info(catalog), tuple(cells), until.timestamp() if until else None


def _mapping(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        # The probe's records keep their provenance in read-only mappings, which pickle cannot save as such.
        if type(obj) is MappingProxyType:
            return _mapping, (dict(obj),)
        return NotImplemented


class _Head(msgspec.Struct, frozen=True):
    """The payload's first part; the second is (specs, catalog, cells), pickled apart so that the memo
    (first_look_memo.py) can keep it and a later helper send it again as it is."""

    settings: Settings
    machine: Machine
    seconds: float


_ALLOWED = frozenset({
    ("rigcheck.desktop.first_look", "_Head"), ("rigcheck.desktop.first_look", "_Failed"),
    ("rigcheck.desktop.first_look", "_mapping"), ("rigcheck.desktop.first_look", "GpuSpec"),
    ("rigcheck.desktop.catalog_info", "CatalogInfo"), ("rigcheck.desktop.models.cells", "TableRow"),
    ("rigcheck.estimate.types", "Settings"), ("rigcheck.estimate.rules", "Thresholds"),
    ("rigcheck.probe.types", "Machine"), ("rigcheck.probe.types", "Gpu"), ("rigcheck.probe.types", "Cpu"),
    ("rigcheck.probe.types", "Memory"), ("rigcheck.probe.types", "BackendStatus"),
})
"""Every class a payload holds: the unpickler makes nothing else (the second part may come from the memo file)."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a first look")
        return super().find_class(module, name)


def _dump(obj: object) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def dumps(obj: object) -> bytes:
    if isinstance(obj, FirstLook):
        return MAGIC + _dump(_Head(obj.settings, obj.machine, obj.seconds)) + _dump((obj.specs, obj.catalog, obj.cells))
    return MAGIC + _dump(obj)


def loads(data: bytes) -> FirstLook:
    """The helper's payload; raises ValueError with a readable reason when it is not a first look."""
    if not data.startswith(MAGIC):
        raise ValueError("its output is not a first look" if data else "it wrote nothing")
    try:
        stream = io.BytesIO(memoryview(data)[len(MAGIC):])
        head = _Unpickler(stream).load()
        body = _Unpickler(stream).load() if isinstance(head, _Head) else None  # a pickle of its own
    except Exception as exc:  # truncated, from another version, or a class no first look holds
        raise ValueError(f"its output could not be read ({type(exc).__name__}: {exc})") from None
    if isinstance(head, _Failed):
        raise ValueError(head.message)
    if not isinstance(head, _Head):
        raise ValueError(f"its output is a {type(head).__name__}, not a first look")
    from rigcheck.desktop.catalog_info import CatalogInfo
    from rigcheck.desktop.models.cells import TableRow

    if not (isinstance(body, tuple) and len(body) == 3 and isinstance(body[1], CatalogInfo)
            and isinstance(body[0], tuple) and isinstance(body[2], tuple)
            and all(isinstance(cell, TableRow) for cell in body[2])):
        raise ValueError("its output is not a first look (its cells are missing)")
    specs, info, cells = body
    return FirstLook(head.settings, head.machine, specs, info, cells, head.seconds)


def main() -> int:
    """The helper process: compute, write the payload (or the reason it failed) to stdout, exit 0.

    It ends with ``os._exit`` once the payload is flushed: the window is waiting for it, and tearing down an
    interpreter full of catalog records (module and object clean-up) takes tens of milliseconds that nobody
    needs; the process holds no file or lock to release."""
    import gc

    gc.disable()  # a short-lived process that leaves with os._exit: collecting cycles is wasted work
    from rigcheck.desktop import first_look_memo, state

    try:
        started = time.perf_counter()
        settings, machine = _inputs(state.settings_path())
        # The last start's first look, when it was made from the same inputs (first_look_memo.py); else made now.
        key = first_look_memo.memo_key(settings, machine)
        body = first_look_memo.read(key)
        if body is None:
            specs, info, cells, until = _body(settings, machine)
            body = _dump((specs, info, cells))
            first_look_memo.write(key, body, until)
        payload = MAGIC + _dump(_Head(settings, machine, time.perf_counter() - started)) + body
    except Exception as exc:  # reported to the window, which then starts without the first look
        payload = dumps(_Failed(f"{type(exc).__name__}: {exc}"))
    sys.stdout.buffer.write(payload)
    sys.stdout.buffer.flush()
    os._exit(0)


if __name__ == "__main__":
    # Run from the imported module, not from __main__: the payload's classes must pickle under their real names.
    from rigcheck.desktop.first_look import main as _main

    sys.exit(_main())
