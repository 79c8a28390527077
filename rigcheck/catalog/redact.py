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
_USERINFO = re.compile(r"[^/\s?#@\"'<>\\]*")
"""What may stand between ``://`` and ``@``: a URL's user information."""
_QUERY_END = re.compile(r"[\s#\"'<>\\)\]]")
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
    # Only around each "@" and "?" (found in C), not a regex over all of it: output of hundreds of MB
    # (``fit --json``) holds a URL in every row, with credentials in none.
    if "@" in text:
        text = _redact_userinfo(text)
    if "?" in text and "=" in text:
        text = _redact_queries(text)
    return text


def _redact_userinfo(text: str) -> str:
    out, last = [], 0
    at = text.find("@")
    while at != -1:
        scheme_end = text.rfind("://", max(last, at - 512), at)
        if scheme_end != -1 and _USERINFO.fullmatch(text, scheme_end + 3, at):
            out += [text[last:scheme_end + 3], REDACTED]
            last = at
        at = text.find("@", at + 1)
    return "".join(out) + text[last:] if out else text


def _redact_queries(text: str) -> str:
    out, last = [], 0
    mark = text.find("?")
    while mark != -1:
        end_match = _QUERY_END.search(text, mark, mark + 4096)
        end = end_match.start() if end_match else min(len(text), mark + 4096)
        query = text[mark:end]
        redacted = _QUERY_SECRET.sub(lambda m: f"{m.group('name')}{REDACTED}", query)
        if redacted != query:
            out += [text[last:mark], redacted]
            last = end
        mark = text.find("?", end if end > mark else mark + 1)
    return "".join(out) + text[last:] if out else text


_KEEP = {0x09, 0x0A}
_CONTROLS = [c for c in (*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
             if c not in _KEEP]
_ESCAPES = {c: f"\\u{c:04x}" for c in _CONTROLS}


def escape_controls(text: str) -> str:
    """``text`` with control characters (C0 but newline and tab, DEL, C1) and bidi overrides written as a
    visible ``\\uXXXX``: a terminal escape, a bell or a carriage return from a feed shows, and does nothing."""
    return text.translate(_ESCAPES)
