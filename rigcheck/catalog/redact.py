"""Credentials out of URLs before a URL is shown, logged or written to a report: ``user:secret@`` and token values.

Also here, for the same places: ``escape_controls``, which writes control characters as visible ``\\uXXXX``.

A feed URL may carry credentials (``https://user:secret@mirror.example/feed.json``, ``...?token=...``) so a
private mirror works; rigcheck keeps the URL as given to fetch from it, and every place that shows it (the
status bar, ``catalog show``, ``catalog refresh`` messages, reports, ``fit --json``) shows it through
``redact_url`` or, for a sentence that may quote one, ``redact_text``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"

_SECRET_PARAMS = re.compile(r"token|secret|passw|pwd|key|sig|auth|credential|session", re.IGNORECASE)
# In running text a URL ends at white space, a quote, an angle bracket or a backslash (a URL quoted in a
# message, or inside a JSON string, where a backslash starts an escape): a match never runs past those.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s?#@\"'<>\\]*)@")
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;](?:[^=&;#\s\"'<>\\]*(?:token|secret|passw|pwd|key|sig|auth|credential|session)"
    r"[^=&;#\s\"'<>\\]*)=)(?P<value>[^&;#\s\"'<>\\)\]]*)", re.IGNORECASE)


def redact_url(url: str | None) -> str | None:
    """``url`` with any user name and password replaced by ``***`` and the values of query parameters that
    look like secrets (token, key, sig, password, auth...) too. Anything that does not parse as a URL is
    passed through ``redact_text``. None stays None."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_SECRET_PARAMS.search(name) for name, _ in pairs):
                query = urlencode([(n, REDACTED if _SECRET_PARAMS.search(n) else v) for n, v in pairs], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not a URL urllib can take apart ("http://[::1"): scrub it as text
        return redact_text(url)


def redact_text(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***`` (for messages that quote URLs)."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('name')}{REDACTED}", text)


_KEEP = {0x09, 0x0A}
_CONTROLS = [c for c in (*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
             if c not in _KEEP]
_ESCAPES = {c: f"\\u{c:04x}" for c in _CONTROLS}


def escape_controls(text: str) -> str:
    """``text`` with control characters (C0 but newline and tab, DEL, C1) and bidi overrides written as a
    visible ``\\uXXXX``: a terminal escape, a bell or a carriage return from a feed shows, and does nothing."""
    return text.translate(_ESCAPES)
