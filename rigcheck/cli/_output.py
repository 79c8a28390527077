"""What the command line writes: control characters shown escaped, credentials in URLs redacted, JSON always valid.

Strings from feeds, caches and profiles (model names, providers, host names, notes) reach the terminal in
``devices``, ``fit``, ``hosted``, ``catalog show``, ``probe``... A raw escape sequence there could recolour,
retitle or rewrite the user's terminal, a bell ring it, a carriage return overwrite a line, a bidi override
reorder it. ``main`` wraps stdout and stderr in ``SafeStream``, which writes every such character as a visible
``\\uXXXX`` (also valid inside a JSON string, so JSON output stays JSON and keeps its data) and redacts the
credentials of any URL (``https://***@host/``). Newlines and tabs pass.
"""

from __future__ import annotations

import json
import math
from typing import Any, TextIO

from rigcheck.catalog.redact import escape_controls, redact_text


def printable(text: str) -> str:
    """``text`` with control characters (C0 but newline and tab, DEL, C1) and bidi overrides written as
    ``\\uXXXX``, and URL credentials redacted: safe to write to a terminal."""
    return redact_text(escape_controls(text))


class SafeStream:
    """A text stream that writes everything through ``printable``; anything else is the wrapped stream's.

    ``unfiltered`` is the stream itself, for the one writer that means its escape sequences (the progress
    line's carriage return and erase-line)."""

    def __init__(self, stream: TextIO) -> None:
        self.unfiltered = stream

    def write(self, text: str) -> int:
        self.unfiltered.write(printable(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unfiltered, name)


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [finite(v) for v in value]
    return value


def json_text(data: Any, indent: int | None = 2) -> str:
    """``data`` as JSON text: non-finite numbers as null, and ``allow_nan=False`` so nothing else slips by."""
    return json.dumps(finite(data), indent=indent, ensure_ascii=False, allow_nan=False)
