"""Argument types shared by the subcommands, so `--context 8,192` means the same in fit, plan, cost and report.

Every numeric flag is parsed by one of these: a finite number within a physically sensible range, or one
argparse error line naming the range (exit 2). Values are shown shortened in messages, so a flag of 400
digits still gives one readable line.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

MAX_TOKENS = 100_000_000
"""Above any model's context: a larger number is a typo, not a setting."""
MAX_NUMBER = 1e12
"""The ceiling of a numeric flag that names none of its own."""


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for an error message, cut in the middle when long (a 400-digit number stays one line)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit // 2]!r}...{text[-8:]!r} ({len(text)} characters)"


def _parse_number(text: str, integer: bool) -> float | int | None:
    """The number ``text`` writes, or None when it writes none. With ``integer``, a whole number in any notation
    ("8192", "8e3"), or a number too large for any range ("1e30", 5,000 digits: the caller's range says so);
    None for a fraction. A number that reads is never "not a number" however absurd: the range refuses it."""
    raw = text.strip().replace("_", "").replace(",", "")
    if integer:
        try:
            return int(raw)
        except ValueError:
            pass  # "8e3", "1e30", or more than 4300 digits: read as a float below
    try:
        value = float(raw)
    except ValueError:
        return None
    if math.isnan(value) or (math.isinf(value) and any(c.isalpha() and c not in "eE" for c in raw)):
        return None  # "nan", "inf", "infinity": not numbers a person means
    if integer and math.isfinite(value) and value != int(value):
        return None  # a fraction of a count
    return value  # an infinity from too many digits is a number too large, which the range says


def number(low: float, high: float, *, integer: bool = False, unit: str = "",
           low_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a number (an integer when ``integer``) from ``low`` to ``high`` inclusive (above
    ``low`` when ``low_open``). NaN, infinities and anything outside the range are one clear error."""
    kind = "a whole number" if integer else "a number"
    suffix = f" {unit}" if unit else ""
    if low == 0:
        floor = "above zero" if low_open else "zero or more"
    else:
        floor = f"above {low:g}" if low_open else f"at least {low:g}"

    def parse(text: str) -> float:
        value = _parse_number(text, integer)
        if value is None:
            raise argparse.ArgumentTypeError(f"{shown(text)} is not {kind}")
        if (value <= low if low_open else value < low) or value > high:
            raise argparse.ArgumentTypeError(f"{shown(text)} must be {floor} and at most {high:g}{suffix}")
        return int(value) if integer else value

    parse.__name__ = "whole number" if integer else "number"
    return parse


TOKEN_MULTIPLES = {"k": 1024, "m": 1024 * 1024}
"""Suffixes of a token count as the field writes context sizes: "8k" is 8,192 tokens, "128k" 131,072, "1m" 1,048,576."""


def token_count(text: str) -> int:
    """A positive number of tokens; "8192", "8_192", "8,192" and "8k" all read as 8192 (k = 1,024 tokens, m =
    1,024 k, as context sizes are named: "128k" is 131,072)."""
    raw = text.strip()
    multiple = TOKEN_MULTIPLES.get(raw[-1:].lower(), 1) if len(raw) > 1 else 1
    if multiple > 1:
        amount = _parse_number(raw[:-1], integer=False)
        value = None if amount is None or not math.isfinite(amount) else amount * multiple
        if value is not None and value != int(value):
            raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number of tokens")
        value = None if value is None else int(value)
    else:
        value = _parse_number(text, integer=True)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number of tokens")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{shown(text)} must be at least 1")
    if value > MAX_TOKENS:
        raise argparse.ArgumentTypeError(f"{shown(text)} is more than any model's context")
    return int(value)


def positive_number(kind=float, *, zero: bool = False, high: float | None = None):
    """An argparse type: a number above zero (or zero too, with ``zero``), read as ``kind`` (int or float), at
    most ``high`` (default 10^12: above any count, rate or price a person types; a larger one is a typo)."""
    return number(0, MAX_NUMBER if high is None else high, integer=kind is int, low_open=not zero)


def http_url(text: str) -> str:
    """An http(s) URL with a host name; one clear error (credentials redacted) for anything else, such as
    a bracket left open (``http://[::1``), a port out of range or another scheme."""
    from urllib.parse import urlsplit

    from rigcheck.catalog.redact import redact_url

    url = text.strip()
    safe = shown(redact_url(url) or "", 80)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- reading it is what checks it (ValueError for "host:99999")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{safe} is not a usable URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise argparse.ArgumentTypeError(f"{safe} is not an http(s) URL")
    if not parts.hostname:
        raise argparse.ArgumentTypeError(f"{safe} has no host name")
    return url
