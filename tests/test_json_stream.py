"""The streamed JSON writer lays a document out exactly as ``json.dumps(indent=1)`` does, at every chunk size."""

from __future__ import annotations

import io
import json

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
