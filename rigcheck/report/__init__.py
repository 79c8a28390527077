"""Exported machine and fleet reports: build a ``ReportData``, then ``export`` it as PDF, HTML, MD, JSON or CSV.

The names below are re-exported from the modules that hold them; no module of this package imports the
package itself. ``records`` holds what a report contains, ``builder`` makes one (with a section module
each: ``inventory``, ``summary``, ``details``, ``plans``, ``fleet``), ``engine`` and ``adapters`` are what
it estimates with, and ``files`` writes it through the renderers (``pdf``, ``html``, ``md``, ``json``,
``csv``). See ``files`` for the atomic write and the thread ``export`` must run on.
"""

from __future__ import annotations

from rigcheck.report.adapters import default_engine
from rigcheck.report.builder import ReportBuildError, build_report
from rigcheck.report.engine import Engine
from rigcheck.report.files import (
    FORMATS,
    ExportError,
    ExportTargetError,
    export,
    format_for_path,
    render_text,
)
from rigcheck.report.records import REPORT_SCHEMA, ReportData

__all__ = [
    "FORMATS",
    "REPORT_SCHEMA",
    "Engine",
    "ExportError",
    "ExportTargetError",
    "ReportBuildError",
    "ReportData",
    "build_report",
    "default_engine",
    "export",
    "format_for_path",
    "render_text",
]
