"""The streamed JSON writer lays a document out exactly as ``json.dumps(indent=1)`` does, at every chunk size."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest

from rigcheck.cli import _json_stream
from rigcheck.cli._json_stream import write_document

HEAD = {"schema": "rigcheck.fit/1", "machine": {"gpus": [{"name": "RTX 4090", "memory": [1, 2]}], "empty": {}},
        "settings": {"context_tokens": 8192, "quant": None, "note": "é — “quoted” \\ \t tab"}}


def _row(i: int) -> dict:
    return {"model_id": f"org/model-{i}", "best": i % 2 == 0, "memory": {"per_gpu_bytes": [i] * (i % 3)},
            "decode_tokens_per_s": None if i % 4 else {"low": 1.5, "expected": 2.25, "high": 3.0},
            "basis": [f"line {j}" for j in range(i % 3)], "extra": {}}


@pytest.mark.parametrize("count", [0, 1, 2, 4, 5, 9])
def test_the_text_is_what_json_dumps_writes(monkeypatch, count):
    monkeypatch.setattr(_json_stream, "ITEMS_PER_CHUNK", 4)  # chunk edges at 4 and 8
    rows = [_row(i) for i in range(count)]
    out = io.StringIO()
    write_document(out, HEAD, "results", (r for r in rows))
    assert out.getvalue() == json.dumps({**HEAD, "results": rows}, indent=1, ensure_ascii=False) + "\n"


def test_items_are_drawn_a_chunk_at_a_time(monkeypatch):
    monkeypatch.setattr(_json_stream, "ITEMS_PER_CHUNK", 3)
    drawn = []

    class Out(io.StringIO):
        def write(self, text):
            drawn.append(("write", len(made)))
            return super().write(text)

    made: list[int] = []

    def rows():
        for i in range(7):
            made.append(i)
            yield _row(i)

    write_document(Out(), HEAD, "results", rows())
    assert [n for kind, n in drawn] == [0, 3, 6, 7, 7], "head, then one write per chunk, then the end"


def test_nan_is_written_as_null_so_the_output_stays_json():
    out = io.StringIO()
    write_document(out, HEAD, "results", [{"x": float("nan")}])
    assert json.loads(out.getvalue())["results"] == [{"x": None}]


@pytest.mark.parametrize("count", [0, 3, 5])
def test_keys_after_the_list_keep_their_place(monkeypatch, count):
    monkeypatch.setattr(_json_stream, "ITEMS_PER_CHUNK", 4)
    rows = [_row(i) for i in range(count)]
    tail = {"installed_not_estimated": [{"name": "x", "results": []}], "measurements": {"runs": 2}}
    head = {**HEAD, "note": 'a value holding "results": [] as text'}
    out = io.StringIO()
    write_document(out, head, "results", iter(rows), tail)
    assert out.getvalue() == json.dumps({**head, "results": rows, **tail}, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("workers", [0, 1, 2])
@pytest.mark.parametrize("count", [0, 1, 4, 9, 23])
def test_rows_written_by_forked_workers_are_the_same_text(monkeypatch, capfdbinary, workers, count):
    """write_rows hands alternate chunks to forked workers; the parent writes them in order, byte for byte as
    write_document would, and lets go of every row."""
    monkeypatch.setattr(_json_stream, "ITEMS_PER_CHUNK", 4)
    rows = list(range(count))
    expected = io.StringIO()
    write_document(expected, HEAD, "results", (_row(i) for i in range(count)))
    _json_stream.write_rows(sys.stdout, HEAD, "results", rows, _row, workers=workers)
    assert capfdbinary.readouterr().out.decode() == expected.getvalue()
    assert rows == [None] * count


def test_a_failing_worker_is_an_error_in_the_parent(monkeypatch, capfdbinary):
    monkeypatch.setattr(_json_stream, "ITEMS_PER_CHUNK", 2)
    parent = os.getpid()

    def item(i):
        if i == 6 and os.getpid() != parent:
            raise ValueError("row 6 is broken")
        return _row(i)

    with pytest.raises(RuntimeError, match="a worker failed: ValueError: row 6 is broken"):
        _json_stream.write_rows(sys.stdout, HEAD, "results", list(range(12)), item, workers=1)
    out = capfdbinary.readouterr().out.decode()
    assert '"org/model-5"' in out and '"org/model-6"' not in out, "cut short before the failed chunk"


def test_items_encoded_one_by_one_make_the_same_text():
    rows = [_row(i) for i in range(7)]
    out = io.StringIO()
    _json_stream.write_bodies(out, HEAD, "results", [_json_stream.chunk_body([r]) for r in rows])
    assert out.getvalue() == json.dumps({**HEAD, "results": rows}, indent=1, ensure_ascii=False) + "\n"
    out = io.StringIO()
    _json_stream.write_bodies(out, HEAD, "results", [])
    assert json.loads(out.getvalue())["results"] == []


def test_items_encoded_together_are_cut_into_the_bodies_of_each():
    rows = [_row(i) for i in range(7)]
    rows[3]["basis"] = ["a line with ,\n  { in it", "},\n  {", '"quoted", {nested}']
    rows[4]["nested"] = [{"a": {}}, {"b": [{"c": 1}]}]
    assert _json_stream.item_bodies(rows) == [_json_stream.chunk_body([r]) for r in rows]
    assert _json_stream.item_bodies([]) == []
    out = io.StringIO()
    _json_stream.write_bodies(out, HEAD, "results", reversed(_json_stream.item_bodies(rows)))
    assert out.getvalue() == json.dumps({**HEAD, "results": rows[::-1]}, indent=1, ensure_ascii=False) + "\n"


def test_workers_are_used_only_where_forking_is_safe(monkeypatch):
    import threading

    from rigcheck.estimate import forked

    threads = [1]  # the suite's own helpers (a local HTTP server, Qt) may run threads: the count is set here
    monkeypatch.setattr(threading, "active_count", lambda: threads[0])
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7}, raising=False)
    assert forked.default_workers(100) == forked.MAX_WORKERS
    assert forked.default_workers(3) == 0, "a short document is not worth a fork"
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert forked.default_workers(100) == 0
    monkeypatch.setattr(sys, "platform", "darwin")
    assert forked.default_workers(100) == 0
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    threads[0] = 2
    assert forked.default_workers(100) == 0, "another thread could hold a lock the child needs"
    threads[0] = 1
    assert forked.default_workers(100) == 1
