"""GUI-only wording for tooltips: where a figure came from, and Qt-safe tooltip text.

Numbers with units are formatted by :mod:`rigcheck.units`, shared with the report and the CLI.
"""

from __future__ import annotations


def provenance_text(source: str | None, unavailable: str | None = None) -> str:
    """Tooltip line saying where a figure came from."""
    if unavailable:
        return f"Not available: {unavailable}"
    if not source:
        return "Source: not recorded"
    return {
        "driver": "Source: reported by the GPU driver",
        "sysfs": "Source: Linux sysfs",
        "os": "Source: the operating system",
        "measured": "Source: measured by rigcheck on this machine",
        "spec table": "Source: rigcheck's device spec table (not read from the hardware)",
        "user": "Source: entered by you (what-if machine)",
        "profile": "Source: the machine profile file",
    }.get(source, f"Source: {source}")


def tooltip(text: str | None) -> str | None:
    """A tooltip that shows ``text`` literally. Qt renders any tooltip that looks like HTML as rich text, so
    text that may hold catalog or network strings is escaped and wrapped as explicit rich text."""
    if not text:
        return None
    return "<qt>" + escape(text).replace("\n", "<br>") + "</qt>"


def escape(text: str) -> str:
    """``html.escape(text)``, without importing ``html`` (and ``html.entities``) during start-up: the machine
    panel's tooltips are built before the first paint, and PySide's import hook re-reads each new module's
    source."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))
