"""What the GUI asks of the rest of rigcheck, as one injectable bundle of callables.

``default_services()`` wires the real probe, catalog, estimator, refresh, cost and report modules (imported
lazily, so the window opens before the heavy ones load); tests build a ``Services`` with small fakes.
A feature whose module is missing from this build is ``None`` here, and the GUI disables it with a reason.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from rigcheck.desktop.catalog_info import catalog_info

if TYPE_CHECKING:  # annotations only: importing this module must stay cheap (it runs before the window exists)
    from concurrent.futures import Future

    from rigcheck.catalog.records import Catalog, Device, Model, Quant
    from rigcheck.desktop.catalog_info import CatalogInfo
    from rigcheck.estimate.types import Estimate, Settings
    from rigcheck.probe.types import Gpu, Machine


class Services(msgspec.Struct, frozen=True):
    probe_machine: Callable[[], Machine]
    load_catalog: Callable[[], Catalog]
    catalog_info: Callable[[Catalog], CatalogInfo]
    evaluate: Callable[[Machine, Catalog, Settings], list[Estimate]]
    estimate_one: Callable[[Model, Quant, Machine, Settings, list[Device]], Estimate] | None
    hypothetical_machine: Callable[[list[str], int | None, Catalog], Machine]
    load_profile: Callable[[str], Machine]
    parse_size: Callable[[str], int]
    find_model: Callable[[Catalog, str], Model] | None = None
    """HF id or unambiguous part -> Model; raises ValueError (ModelLookupError) with suggestions."""
    resolve_gpu: Callable[[Gpu, list[Device]], Device | None] | None = None
    """The spec-table entry for a probed GPU (compute figures drivers do not report)."""
    refresh_catalog: Callable[..., Any] | None = None
    """``(url, progress=callable, cancel=threading.Event) -> result``; None when refresh is not built. No URL:
    from Hugging Face and OpenRouter, progress ``(models done, total, repo)``; a URL: a feed, ``(bytes, total)``."""
    add_model: Callable[..., Any] | None = None
    """``(repo id or URL, progress=callable, cancel=threading.Event) -> result``: ``catalog add``."""
    remove_model: Callable[[str], Any] | None = None
    """``(repo id) -> result``: ``catalog remove`` of a model added with ``add_model``."""
    added_models: Callable[[], list[str]] | None = None
    """The repos added with ``add_model`` (a small file read: fine on the GUI thread)."""
    export_report: Callable[..., None] | None = None
    """``(machine, catalog, settings, estimates, fmt, path, selected_model_ids=()) -> None``."""
    cost_curves: Callable[..., Any] | None = None
    """``(model, quant_name, machine, catalog, utilizations, settings) -> (dict[label, list[usd_per_m_output]],
    note)``: $/M output tokens against utilization per door (hosted, rented, owned)."""
    serving_view: Callable[..., Any] | None = None
    """``(model, quant_name, machine, catalog, settings) -> serving_bridge.ServingView``: per-user against total
    tokens/s as concurrency grows on the machine, and each door's $/M beside it."""
    warm_up: Callable[[], None] | None = None
    """Imports what the first evaluation needs; run on a prefetch thread while the catalog and probe work."""
    preload: Callable[[], None] | None = None
    """Imports the catalog, probe and estimator modules on the GUI thread before Qt is imported (start-up)."""
    first_look: Callable[[], Any] | None = None
    """Starts the first-look helper process (``helper_process.start_helper``: a ``Helper`` or None)."""
    scan_installed: Callable[[Catalog], list] | None = None
    """The models installed on this machine (``catalog.installed.scan``: Ollama, LM Studio, the Hugging Face and
    llama.cpp caches, the folders added in the app); None when the scan is not part of this build."""
    model_folders: Callable[[], list[str]] | None = None
    """The folders the user added to the scan (kept in the config folder, shared with `rigcheck installed`)."""
    save_model_folders: Callable[[list[str]], None] | None = None
    """Replaces those folders; raises OSError when the config folder is not writable."""

    def with_(self, **changes) -> Services:
        return msgspec.structs.replace(self, **changes)


def _present(module: str) -> bool:
    """Whether a module is part of this build, without importing it or its parent packages.

    ``importlib.util.find_spec("a.b.c")`` imports ``a.b`` first, and ``rigcheck.estimate``'s
    ``__init__`` loads the whole estimator: that would run on the GUI thread before any window exists. So
    each level is looked up on the file system with the path finder (the parent's spec gives its folders).
    """
    import sys
    from importlib.machinery import PathFinder

    if module in sys.modules:
        return True
    parts = module.split(".")
    top = sys.modules.get(parts[0])
    if top is None:
        try:
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            return False
    search = list(getattr(top, "__path__", []))
    name = parts[0]
    for part in parts[1:]:
        name = f"{name}.{part}"
        loaded = sys.modules.get(name)
        if loaded is not None:
            search = list(getattr(loaded, "__path__", []))
            continue
        spec = PathFinder.find_spec(name, search)
        if spec is None:
            return False
        search = list(spec.submodule_search_locations or [])
    return True


def _lazy(module: str, attr: str) -> Callable[..., Any] | None:
    """A callable that imports ``module.attr`` on first call (in the worker that runs it), or None when the
    module is not in this build."""
    if not _present(module):
        return None

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    call.__name__ = attr
    return call


def _hypothetical(gpu_specs: list[str], ram_bytes: int | None, catalog: Catalog) -> Machine:
    from rigcheck.catalog import devices

    return devices.hypothetical_machine(gpu_specs, ram_bytes, catalog=catalog)


def _load_profile(path: str) -> Machine:
    from rigcheck.probe import profile

    return profile.load_profile(path)


def _parse_size(text: str) -> int:
    from rigcheck.catalog import devices

    return devices.parse_size(text)


def _probe() -> Machine:
    from rigcheck.probe.detect import probe_machine

    return probe_machine()


def _load_catalog() -> Catalog:
    from rigcheck.catalog.store import load_catalog

    return load_catalog()


def _evaluate(machine: Machine, catalog: Catalog, settings: Settings) -> list[Estimate]:
    from rigcheck.estimate import evaluate
    from rigcheck.estimate.calibration.correction import with_measured

    return with_measured(machine, catalog, evaluate(machine, catalog, settings), settings.usable)


def _scan_installed(catalog: Catalog) -> list:
    from rigcheck.catalog.installed.scan import default_cache, scan
    from rigcheck.catalog.installed.settings import saved_folders

    return scan(catalog, folders=saved_folders(), cache=default_cache())


def _model_folders() -> list[str]:
    from rigcheck.catalog.installed.settings import saved_folders

    return saved_folders()


def _save_model_folders(folders: list[str]) -> None:
    from rigcheck.catalog.installed.settings import save_folders

    save_folders(folders)


def _warm_up() -> None:
    import rigcheck.catalog.devices  # noqa: F401 - the machine panel resolves GPU specs with it
    import rigcheck.estimate.engine  # noqa: F401


def _preload() -> None:
    import rigcheck.catalog.devices  # noqa: F401
    import rigcheck.catalog.store  # noqa: F401
    import rigcheck.estimate.engine  # noqa: F401
    import rigcheck.probe.detect  # noqa: F401


def _start_first_look():
    from rigcheck.desktop.helper_process import start_helper

    return start_helper()


def default_services() -> Services:
    """The real modules, each imported when first used (most of them on a worker thread)."""
    estimate_one = _lazy("rigcheck.estimate", "estimate")
    resolve_gpu = _lazy("rigcheck.catalog.devices", "resolve_gpu")
    refresh = _lazy("rigcheck.catalog.refresh", "refresh_catalog")
    export = _lazy("rigcheck.desktop.report_bridge", "export_report") if _present("rigcheck.report") else None
    cost = _lazy("rigcheck.desktop.cost_bridge", "cost_curves") if _present("rigcheck.estimate.compare") else None
    serving = (_lazy("rigcheck.desktop.serving_bridge", "serving_view")
               if _present("rigcheck.estimate.serve_answer") else None)
    return Services(
        probe_machine=_probe,
        load_catalog=_load_catalog,
        catalog_info=catalog_info,
        evaluate=_evaluate,
        estimate_one=estimate_one,
        hypothetical_machine=_hypothetical,
        load_profile=_load_profile,
        parse_size=_parse_size,
        resolve_gpu=resolve_gpu,
        find_model=_lazy("rigcheck.catalog.devices", "find_model"),
        refresh_catalog=refresh,
        add_model=_lazy("rigcheck.catalog.live", "add_model"),
        remove_model=_lazy("rigcheck.catalog.live", "remove_model"),
        added_models=_lazy("rigcheck.catalog.live", "added_models"),
        export_report=export,
        cost_curves=cost,
        serving_view=serving,
        warm_up=_warm_up,
        preload=_preload,
        first_look=_start_first_look,
        scan_installed=_scan_installed if _present("rigcheck.catalog.installed") else None,
        model_folders=_model_folders,
        save_model_folders=_save_model_folders,
    )


class Prefetch(msgspec.Struct, frozen=True):
    """The catalog load, this machine's probe and the first evaluation, started before the GUI modules are even
    imported.

    Probing waits on drivers and sysfs far more than it computes, so it overlaps well with start-up; the
    controller then takes the results from these futures instead of starting the work itself.
    """

    catalog: Future
    machine: Future | None
    """None when the window shows another machine (a profile or a what-if) and this one is not probed."""
    evaluation: Future | None = None
    """The first evaluation (an ``Evaluation``) for the settings given to ``with_evaluation``; the controller
    uses it only when its machine, catalog and settings are the ones it would evaluate."""


def _start(fn, name: str) -> Future:
    import threading
    from concurrent.futures import Future

    future: Future = Future()

    def run():
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to the controller, which shows it
            future.set_exception(exc)

    threading.Thread(target=run, name=f"rigcheck-prefetch-{name}", daemon=True).start()
    return future


def prefetch(services: Services, *, probe: bool = True) -> Prefetch:
    return Prefetch(catalog=_start(services.load_catalog, "catalog"),
                    machine=_start(services.probe_machine, "probe") if probe else None)


def with_evaluation(early: Prefetch, services: Services, settings: Settings, machine: Machine | None = None) -> Prefetch:
    """``early`` plus the first evaluation: ``machine`` (or the probed one) against the loaded catalog.

    The evaluation thread imports the estimator while the catalog loads and the probe runs, then evaluates as
    soon as both are in, so the rows are usually ready by the time the window has been built.
    """
    if machine is None and early.machine is None:
        return early

    def evaluation():
        if services.warm_up is not None:
            services.warm_up()
        catalog = early.catalog.result()
        target = machine if machine is not None else early.machine.result()
        from rigcheck.desktop.evaluation import evaluate_rows

        return evaluate_rows(services, target, catalog, settings)

    return msgspec.structs.replace(early, evaluation=_start(evaluation, "evaluation"))
