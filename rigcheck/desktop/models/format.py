"""Human strings for numbers in base units: bytes, tokens/s, seconds, dollars, counts.

Everything the GUI shows passes through here, so the table, the detail pane and the tooltips agree.
"""

from __future__ import annotations

import datetime as _dt
import html as _html

from rigcheck.catalog.estimate.types import Band

DASH = "—"

_VERDICT_TEXT = {
    "gpu": "Fits in VRAM",
    "unified": "Fits (unified)",
    "gpu+ram": "GPU + RAM",
    "cpu": "CPU only",
    "no_fit": "Does not fit",
}


def verdict_text(verdict: str | None) -> str:
    if verdict is None:
        return DASH
    return _VERDICT_TEXT.get(verdict, verdict)


def bytes_text(n: float | None, *, digits: int = 1) -> str:
    """Binary units (GiB), as drivers and ``nvidia-smi`` count VRAM."""
    if n is None:
        return DASH
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.{digits}f} {unit}"
        value /= 1024
    return f"{value:.{digits}f} TiB"  # pragma: no cover - loop always returns


def bandwidth_text(bytes_per_s: float | None) -> str:
    """Memory bandwidth in decimal GB/s, as spec sheets quote it."""
    if bytes_per_s is None:
        return DASH
    gb = bytes_per_s / 1e9
    return f"{gb:,.0f} GB/s" if gb >= 100 else f"{gb:.1f} GB/s"


def tflops_text(tflops: float | None) -> str:
    if tflops is None:
        return DASH
    return f"{tflops:,.0f} TFLOPS" if tflops >= 100 else f"{tflops:.1f} TFLOPS"


def rate_text(tokens_per_s: float | None) -> str:
    if tokens_per_s is None:
        return DASH
    if tokens_per_s >= 1000:
        return f"{tokens_per_s:,.0f}"
    if tokens_per_s >= 10:
        return f"{tokens_per_s:.0f}"
    return f"{tokens_per_s:.1f}"


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def band_text(band: Band | None, fmt=rate_text, unit: str = "") -> str:
    """"42 (35–51) tok/s": expected value with its low–high band."""
    if band is None:
        return DASH
    suffix = f" {unit}" if unit else ""
    return f"{fmt(band.expected)} ({fmt(band.low)}–{fmt(band.high)}){suffix}"


def tokens_text(tokens: int | None) -> str:
    """Context lengths: 8192 -> "8K", 131072 -> "128K", 1048576 -> "1M"."""
    if tokens is None:
        return DASH
    if tokens >= 1024 * 1024 and tokens % (1024 * 1024) == 0:
        return f"{tokens // (1024 * 1024)}M"
    if tokens >= 1000_000:
        return f"{tokens / 1_000_000:.1f}M"
    if tokens >= 1024:
        k = tokens / 1024
        return f"{k:.0f}K" if abs(k - round(k)) < 0.05 else f"{tokens / 1000:.0f}K"
    return str(tokens)


def params_text(total_b: float | None, active_b: float | None = None) -> str:
    """"8B", "235B / 22B active"."""
    if total_b is None:
        return DASH

    def one(b: float) -> str:
        if b >= 100:
            return f"{b:.0f}B"
        if b >= 10:
            return f"{b:.0f}B" if abs(b - round(b)) < 0.05 else f"{b:.1f}B"
        return f"{b:.1f}B" if abs(b - round(b)) >= 0.05 else f"{b:.0f}B"

    if active_b is not None and active_b < total_b * 0.98:
        return f"{one(total_b)} / {one(active_b)}"
    return one(total_b)


def usd_text(usd: float | None) -> str:
    if usd is None:
        return DASH
    if usd >= 100:
        return f"${usd:,.0f}"
    if usd >= 0.1 or usd == 0:
        return f"${usd:.2f}"
    text = f"{usd:.3f}"
    return "$" + (text[:-1] if text.endswith("0") else text)  # $0.08, but $0.035


def age_text(iso_timestamp: str | None, now: _dt.datetime | None = None) -> str:
    """"3 days ago" for an ISO 8601 timestamp; the raw string when it cannot be parsed."""
    if not iso_timestamp:
        return "unknown age"
    try:
        then = _dt.datetime.fromisoformat(iso_timestamp.replace("Z", "+00:00"))
    except ValueError:
        return iso_timestamp
    if then.tzinfo is None:
        then = then.replace(tzinfo=_dt.timezone.utc)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    seconds = (now - then).total_seconds()
    if seconds < 0:
        return "just now"
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


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
    return "<qt>" + _html.escape(text).replace("\n", "<br>") + "</qt>"
