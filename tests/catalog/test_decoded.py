"""The decoded copy of a large cached catalog (catalog/decoded.py): used only when made from the file beside it by this
code and undamaged; anything else is a miss that reads the JSON and writes a good copy; never a crash or a hang."""

from __future__ import annotations

import os
import threading
import zlib

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.catalog import cache, decoded, store
from rigcheck.catalog.records import CatalogError, check_major, encode_catalog


@pytest.fixture()
def embedded():
    return store.load_embedded()


@pytest.fixture()
def source(embedded, monkeypatch):
    """A cached catalog.json large enough to get a decoded copy (the threshold lowered to the test catalog's size)."""
    monkeypatch.setattr(decoded, "MIN_SOURCE_BYTES", 1)
    catalog = msgspec.structs.replace(embedded, sequence=embedded.sequence + 5, models=embedded.models[:20])
    path = cache.catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_catalog(catalog))
    return path


class Reads:
    """Counts how a load got its catalog: from the JSON or from the decoded copy."""

    def __init__(self, monkeypatch):
        self.json = self.copy = 0
        validate, read = cache.validate_catalog_bytes, decoded.read

        def from_json(data):
            self.json += 1
            return validate(data)

        def from_copy(path):
            found = read(path)
            self.copy += found is not None
            return found

        monkeypatch.setattr(cache, "validate_catalog_bytes", from_json)
        monkeypatch.setattr(decoded, "read", from_copy)


def load(source):
    catalog, problem = cache._read_one(source)
    assert problem is None
    return catalog


def test_a_load_writes_the_copy_and_the_next_load_uses_it(source, monkeypatch):
    reads = Reads(monkeypatch)
    first = load(source)
    copy = decoded.copy_path(source)
    assert copy.is_file() and copy.read_bytes().startswith(decoded.HEADER)
    assert (reads.json, reads.copy) == (1, 0)
    second = load(source)
    assert (reads.json, reads.copy) == (1, 1)
    assert second == first and second is not first
    assert encode_catalog(second) == source.read_bytes(), "the same records, to the byte"


def test_a_small_catalog_gets_no_copy(embedded):
    path = cache.catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_catalog(embedded))  # about 1 MB: under decoded.MIN_SOURCE_BYTES
    assert load(path) == embedded
    assert not decoded.copy_path(path).exists()


@pytest.mark.parametrize("change", ["rewritten", "other code", "other version"])
def test_a_copy_made_from_other_inputs_is_a_miss_and_is_rewritten(source, monkeypatch, embedded, change):
    load(source)
    before = decoded.copy_path(source).read_bytes()
    if change == "rewritten":  # a new file in place (new inode and time), fewer models
        fewer = msgspec.structs.replace(embedded, sequence=embedded.sequence + 6, models=embedded.models[:7])
        source.with_name("new.json").write_bytes(encode_catalog(fewer))
        os.replace(source.with_name("new.json"), source)
    elif change == "other code":
        monkeypatch.setattr(decoded, "code_fingerprint", lambda: [("/estimate/speed.py", 1, 2)])
    else:
        monkeypatch.setattr("rigcheck.__version__", "99.0")
    reads = Reads(monkeypatch)
    catalog = load(source)
    assert (reads.json, reads.copy) == (1, 0)
    assert len(catalog.models) == (7 if change == "rewritten" else 20)
    after = decoded.copy_path(source).read_bytes()
    assert after != before, "a copy with the new key replaced the old one"
    assert load(source) == catalog and reads.copy == 1


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "garbage", "empty", "header only", "bad crc line"])
def test_a_damaged_copy_is_a_miss_and_is_repaired(source, monkeypatch, damage):
    good = load(source)
    copy = decoded.copy_path(source)
    data = bytearray(copy.read_bytes())
    if damage == "flipped byte":
        data[-100] ^= 0x01
    elif damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    elif damage == "empty":
        data = bytearray()
    elif damage == "header only":
        data = data[:len(decoded.HEADER) + decoded.KEY_BYTES + 1]
    else:
        start = len(decoded.HEADER) + decoded.KEY_BYTES + 1
        data[start:start + 1] = b"x"
    copy.write_bytes(bytes(data))
    reads = Reads(monkeypatch)
    assert load(source) == good
    assert (reads.json, reads.copy) == (1, 0)
    assert load(source) == good and reads.copy == 1, "repaired by the JSON read"


def _forge(source, payload: bytes) -> None:
    """A copy with the right key and CRC but ``payload`` of our choosing (what a damaged-but-CRC-valid or hand-made
    copy could hold)."""
    copy = decoded.copy_path(source)
    key = copy.read_bytes()[len(decoded.HEADER):len(decoded.HEADER) + decoded.KEY_BYTES]
    copy.write_bytes(decoded.HEADER + key + b"\n" + b"%d\n" % zlib.crc32(payload) + payload)


def test_a_copy_whose_records_do_not_check_falls_back_to_the_json(source, monkeypatch, embedded):
    good = load(source)
    twice = msgspec.structs.replace(good, models=good.models + good.models[:1])  # a model id twice
    _forge(source, msgspec.msgpack.encode(twice))
    reads = Reads(monkeypatch)
    assert load(source) == good
    assert reads.json == 1


def test_a_copy_with_a_non_finite_number_is_refused(source, monkeypatch):
    good = load(source)
    plain = msgspec.to_builtins(good)
    plain["models"][0]["params_total_b"] = float("nan")  # msgpack can say NaN where JSON cannot
    _forge(source, msgspec.msgpack.encode(plain))
    assert decoded.read(source) is None
    assert load(source) == good


def test_a_deeply_nested_copy_is_a_miss_even_on_a_small_thread_stack(source):
    load(source)
    deep = (b"\x82" + msgspec.msgpack.encode("schema_version") + msgspec.msgpack.encode("1.0")
            + msgspec.msgpack.encode("x") + b"\x91" * 300_000 + b"\xc0")
    _forge(source, deep)
    outcome = []
    threading.stack_size(256 * 1024)
    try:
        worker = threading.Thread(target=lambda: outcome.append(decoded.read(source)))
        worker.start()
        worker.join(30)
    finally:
        threading.stack_size(0)
    assert outcome == [None]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_the_copys_place_neither_hangs_nor_is_replaced(source):
    good = load(source)
    copy = decoded.copy_path(source)
    copy.unlink()
    os.mkfifo(copy)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(load(source)), daemon=True)
    worker.start()
    worker.join(30)
    assert outcome == [good], "read from the JSON, without waiting on the FIFO"
    assert copy.is_fifo(), "a special file is left where it is"


def test_a_copy_that_cannot_be_written_loses_nothing(source):
    decoded.copy_path(source).mkdir()  # a folder in its place: the write fails
    assert len(load(source).models) == 20
    assert decoded.copy_path(source).is_dir()
    assert not [p for p in source.parent.iterdir() if p.name.endswith(".tmp")], "no temporary file left behind"


def test_a_special_source_gets_no_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(decoded, "MIN_SOURCE_BYTES", 1)
    decoded.write(tmp_path, store.load_embedded())  # a folder, not a file
    assert not decoded.copy_path(tmp_path).exists()
    assert decoded.read(tmp_path) is None


def test_installing_a_catalog_writes_its_copy_and_drops_the_previous_ones(source, embedded, monkeypatch):
    load(source)
    decoded.discard(source)  # the catalog in place has no copy (a build that has not loaded it yet)
    written = []
    write = decoded.write
    monkeypatch.setattr(decoded, "write", lambda path, catalog: (written.append(path), write(path, catalog)))
    newer = msgspec.structs.replace(embedded, sequence=embedded.sequence + 9, models=embedded.models[:15])
    cache.install_catalog(encode_catalog(newer), cache.CacheMeta(source_url="https://example.test/f.json",
                                                                 fetched_at="2026-12-03T10:00:00Z"))
    assert written == [source], "a copy of the new catalog only, none of the one it replaced"
    assert cache.previous_path().is_file(), "the old catalog kept as the previous good copy"
    assert not decoded.copy_path(cache.previous_path()).exists()
    reads = Reads(monkeypatch)
    assert len(load(source).models) == 15
    assert (reads.json, reads.copy) == (0, 1), "the refresh wrote the new catalog's copy"
    assert store.load_catalog().sequence == embedded.sequence + 9


_FORGED = None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 10**9)))
def test_a_copy_changed_anywhere_gives_checked_records_or_the_json(source, edits, cut):
    """Bytes of the payload changed at random and the CRC made to match (what no damage but a forgery does): the
    copy gives records that pass every check a catalog built in Python gets and the schema check decoding makes,
    or it is a miss and the JSON is read."""
    global _FORGED
    if _FORGED is None or _FORGED[0] != source:
        good = load(source)
        _FORGED = (source, good, msgspec.msgpack.encode(good))
    _, good, payload = _FORGED
    data = bytearray(payload)
    for where, value in edits:
        data[where % len(data)] = value
    if cut is not None:
        data = data[:cut % len(data)]
    _forge(source, bytes(data))
    found = decoded.read(source)
    if found is not None:
        try:
            check_major(found.schema_version)  # a schema this app reads, as decoding the JSON asks
            cache.check_sanity(found)  # numbers in range, fields that agree, unique ids, readable dates
            accepted = True
        except CatalogError:
            accepted = False
        catalog, problem = cache._read_one(source)
        assert problem is None
        assert catalog == (found if accepted else good)
    else:
        assert load(source) == good


def test_a_second_writer_in_the_same_process_leaves_the_first_ones_file_alone(source, embedded):
    """Two threads of one process writing the copy at once: the second finds the first's temporary file and
    gives up, without removing it (the first then moves it in)."""
    good = load(source)
    copy = decoded.copy_path(source)
    copy.unlink()
    temporary = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
    temporary.write_bytes(b"being written by another thread")
    decoded.write(source, good)
    assert temporary.read_bytes() == b"being written by another thread"
    assert not copy.exists()
    temporary.unlink()
