"""Adapts the report builder and renderers to the GUI's export action (runs in a worker)."""

from __future__ import annotations

from collections.abc import Sequence

from rigcheck.catalog.records import Catalog
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine


def export_report(machine: Machine, catalog: Catalog, settings: Settings, estimates: Sequence[Estimate], fmt: str,
                  path: str, selected_model_ids: Sequence[str] = ()) -> None:
    """Build the report from the estimates on screen (no re-evaluation) and write it atomically.

    Raises the report's ExportError/ReportBuildError (one sentence each) on failure.
    """
    from rigcheck import report

    status = None
    try:
        from rigcheck.catalog.store import catalog_status

        status = catalog_status()
    except ImportError:
        status = None
    data = report.build_report([machine], catalog, settings, estimates=[list(estimates)],
                               selected_model_ids=list(selected_model_ids), catalog_status=status)
    report.export(data, fmt, path)
