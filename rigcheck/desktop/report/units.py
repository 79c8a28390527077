"""Human strings for the report's numbers: sizes, rates, bands, prices, token counts.

Every renderer formats through these functions so PDF, HTML and Markdown say the same thing the same way.
Sizes are binary (GiB) because VRAM is sold and reported by drivers in binary units.
"""

from __future__ import annotations

from rigcheck.catalog.estimate.types import Band

GIB = 1024**3
_DASH = "—"


def gib(value_bytes: int | float | None, digits: int = 1) -> str:
    """``25769803776`` -> ``"24.0 GiB"``; ``None`` -> ``"—"``."""
    if value_bytes is None:
        return _DASH
    value = value_bytes / GIB
    if value >= 100:
        return f"{value:.0f} GiB"
    return f"{value:.{digits}f} GiB"


def bandwidth(bytes_per_s: float | None) -> str:
    """Memory bandwidth in GB/s (decimal, as vendors publish it)."""
    if bytes_per_s is None:
        return _DASH
    return f"{bytes_per_s / 1e9:,.0f} GB/s"


def rate(value: float | None) -> str:
    """A tokens/s figure with sensible precision: 0.84, 8.4, 84, 1,840."""
    if value is None:
        return _DASH
    if value >= 100_000:
        return f"{value / 1000:,.0f}k"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def seconds(value: float | None) -> str:
    if value is None:
        return _DASH
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 120:
        return f"{value / 60:.0f} min"
    if value >= 9.95:  # what would round to "10.0 s" reads better as "10 s"
        return f"{value:.0f} s"
    if value >= 0.995:
        return f"{value:.1f} s"
    return f"{value * 1000:.0f} ms"


def band_range(band: Band | None, fmt=rate) -> str:
    """The band's low–high as one string, e.g. ``"35–50"``, ``"4.6–7.8 s"`` (a shared unit said once)."""
    if band is None:
        return _DASH
    if fmt is rate and band.high >= 1000:
        # Bands sit in narrow table cells: thousands as "2.2k".
        return f"{_kilo(band.low)}–{_kilo(band.high)}"
    if fmt is seconds and band.low < 1 <= band.high < 120:
        low_s = f"{band.low:.2f}".rstrip("0").rstrip(".")
        return f"{low_s}–{seconds(band.high)}"
    low, high = fmt(band.low), fmt(band.high)
    low_num, _, low_unit = low.partition(" ")
    high_num, _, high_unit = high.partition(" ")
    if low_unit and low_unit == high_unit:
        return f"{low_num}–{high_num} {high_unit}"
    return f"{low}–{high}"


def _kilo(value: float) -> str:
    if value < 1000:
        return rate(value)
    return f"{value / 1000:.1f}k" if value < 10_000 else f"{value / 1000:.0f}k"


def band_text(band: Band | None, fmt=rate) -> str:
    """``"42 (35–50)"``: the expected value and its band."""
    if band is None:
        return _DASH
    return f"{fmt(band.expected)} ({band_range(band, fmt)})"


def tokens(count: int | None) -> str:
    """``131072`` -> ``"128k"``; ``4096`` -> ``"4k"``; ``1500`` -> ``"1,500"``."""
    if count is None:
        return _DASH
    if count >= 1024 and count % 1024 == 0:
        k = count // 1024
        if k >= 1024 and k % 1024 == 0:
            return f"{k // 1024}M"
        if k < 1024:
            return f"{k}k"
    if count >= 1_000_000:
        return f"{count / 1e6:.1f}M".replace(".0M", "M")
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    return f"{count:,}"


def usd(value: float | None, digits: int = 2) -> str:
    if value is None:
        return _DASH
    if value >= 1000:
        return f"${value:,.0f}"
    return f"${value:,.{digits}f}"


def params_b(value: float | None) -> str:
    """Parameters in billions: ``"8B"``, ``"0.6B"``, ``"671B"``."""
    if value is None:
        return _DASH
    if value >= 10:
        return f"{value:.0f}B"
    return f"{value:.1f}B".replace(".0B", "B")


def watts(value: float | None) -> str:
    return _DASH if value is None else f"{value:.0f} W"


def mhz(value: float | None) -> str:
    return _DASH if value is None else f"{value:,.0f} MHz"


VERDICT_TEXT = {
    "gpu": "GPU",
    "unified": "unified memory",
    "gpu+ram": "GPU + RAM",
    "cpu": "CPU only",
    "no_fit": "does not fit",
}


def verdict(value: str) -> str:
    return VERDICT_TEXT.get(value, value)


ORIGIN_TEXT = {
    "probed": "probed on this machine",
    "profile": "read from a machine profile",
    "hypothetical": "hypothetical (what-if) machine, figures from the spec table",
}


def origin(value: str) -> str:
    return ORIGIN_TEXT.get(value, value)
