"""Property: no mutation of a valid feed crashes the loader or lets anything but a valid catalog in."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from refresh_helpers import feed_bytes, make_feed, seq
from werkzeug import Response

from rigcheck.catalog import cache
from rigcheck.catalog.refresh import RefreshError, refresh_catalog

GOOD = feed_bytes(make_feed(seq(5)))
CANDIDATE_DOC = make_feed(seq(6))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


ALL_PATHS = [p for p in _paths(CANDIDATE_DOC) if p]


@st.composite
def structural_mutation(draw) -> bytes:
    doc = json.loads(json.dumps(CANDIDATE_DOC))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return json.dumps(doc).encode()


@st.composite
def byte_mutation(draw) -> bytes:
    data = bytearray(feed_bytes(CANDIDATE_DOC))
    kind = draw(st.sampled_from(["truncate", "flip", "insert"]))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return bytes(data[:at])
    if kind == "flip":
        data[at] = draw(st.integers(0, 255))
        return bytes(data)
    return bytes(data[:at]) + draw(st.binary(min_size=1, max_size=8)) + bytes(data[at:])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(structural_mutation(), byte_mutation()))
def test_mutated_feed_never_crashes_and_never_replaces_good_copy_with_bad(httpserver, body):
    for stale in (cache.catalog_path(), cache.previous_path(), cache.meta_path()):
        stale.unlink(missing_ok=True)
    cache.save_catalog(GOOD, cache.CacheMeta(source_url="http://seed", fetched_at="2026-11-01T00:00:00Z"))
    httpserver.clear()
    httpserver.expect_request("/feed.json").respond_with_handler(lambda _r: Response(body))
    httpserver.expect_request("/feed.json.sig").respond_with_data("", status=404)
    try:
        result = refresh_catalog(httpserver.url_for("/feed.json"), allow_unsigned=True)
    except RefreshError as exc:
        assert str(exc) and "\n" not in str(exc)  # one sentence, no traceback text
        assert cache.catalog_path().read_bytes() == GOOD
        assert cache.read_cached().catalog.sequence == seq(5)
    else:
        # Only a document that passes full validation may replace the good copy.
        assert cache.catalog_path().read_bytes() == body
        assert cache.validate_catalog_bytes(body).sequence == result.catalog.sequence >= seq(5)
        assert cache.previous_path().read_bytes() == GOOD
