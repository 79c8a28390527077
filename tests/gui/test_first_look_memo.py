"""The first look kept for the next start: sent again only for the same inputs, and never trusted beyond a cache."""

from __future__ import annotations

import datetime
import os
import pickle
import time

import msgspec
import pytest
from msgspec.structs import replace

from rigcheck.catalog import paths
from rigcheck.catalog.records import encode_catalog
from rigcheck.catalog.store import load_embedded
from rigcheck.desktop import first_look, first_look_memo, helper_process
from rigcheck.desktop.first_look import FirstLook
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory

GIB = 1 << 30


def _machine(**changes) -> Machine:
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 4090", vram_total_bytes=24 * GIB,
              vram_free_bytes=20 * GIB, vram_used_bytes=4 * GIB)
    machine = Machine(gpus=(gpu,), cpu=Cpu(model="Ryzen 9 7950X", physical_cores=16),
                      memory=Memory(total_bytes=64 * GIB, available_bytes=40 * GIB, swap_free_bytes=GIB),
                      hostname="box", disk_free_bytes=500 * GIB, probed_at="2026-12-03T10:00:00Z")
    return replace(machine, **changes)


def _key(settings: Settings | None = None, machine: Machine | None = None) -> bytes:
    return first_look_memo.memo_key(settings or Settings(), machine or _machine())


def test_the_key_is_the_same_for_two_probes_of_one_machine():
    later = _machine(gpus=(replace(_machine().gpus[0], vram_free_bytes=3 * GIB, vram_used_bytes=21 * GIB),),
                     memory=replace(_machine().memory, available_bytes=5 * GIB, swap_free_bytes=0),
                     disk_free_bytes=GIB, probed_at="2026-12-03T11:00:00Z")
    assert _key(machine=later) == _key()


@pytest.mark.parametrize("other", [
    Settings(context_tokens=32768),
    Settings(prompt_tokens=512),
    Settings(runtime="vllm"),
    Settings(input_per_output=1.0),
], ids=["context", "prompt", "runtime", "ratio"])
def test_other_settings_make_another_key(other):
    assert _key(other) != _key()


@pytest.mark.parametrize("machine", [
    _machine(gpus=(replace(_machine().gpus[0], name="NVIDIA GeForce RTX 3090"),)),
    _machine(gpus=(replace(_machine().gpus[0], vram_total_bytes=48 * GIB),)),
    _machine(gpus=()),
    _machine(memory=Memory(total_bytes=128 * GIB, available_bytes=40 * GIB)),
    _machine(cpu=Cpu(model="Xeon", physical_cores=8)),
], ids=["gpu", "vram", "no-gpu", "ram", "cpu"])
def test_another_machine_makes_another_key(machine):
    assert _key(machine=machine) != _key()


def test_free_memory_counts_when_the_settings_ask_what_runs_now():
    now = Settings(memory_basis="free")
    busier = _machine(memory=replace(_machine().memory, available_bytes=5 * GIB))
    assert _key(now, busier) != _key(now)


def test_a_changed_catalog_file_makes_another_key():
    before = _key()
    folder = paths.cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in first_look_memo.CATALOG_FILES:
        (folder / name).write_bytes(b"{}")
        after = _key()
        assert after != before, name
        before = after


def test_another_build_makes_another_key_and_another_day_does_not(monkeypatch):
    """The day is not an input of a first look: its one date-dependent sentence (the catalog's expiry) makes the
    memo stale when it changes (``until``), so a large catalog's first start of the day finds the memo."""
    before = _key()
    monkeypatch.setattr(first_look_memo, "_code_fingerprint", lambda: [("/estimate/speed.py", 1, 2)])
    assert _key() != before
    monkeypatch.undo()

    real = datetime.datetime

    class Tomorrow(real):
        @classmethod
        def now(cls, tz=None):
            return real.now(tz) + datetime.timedelta(days=1)

    monkeypatch.setattr(datetime, "datetime", Tomorrow)
    monkeypatch.setattr(time, "time", lambda: real.now().timestamp() + 86400)
    assert _key() == before


def test_the_code_fingerprint_covers_every_module_and_the_embedded_catalog():
    names = {name for name, _, _ in first_look_memo._code_fingerprint()}
    assert "/desktop/first_look.py".replace("/", os.sep) in names
    assert "/catalog/data/catalog.json".replace("/", os.sep) in names
    assert not any("__pycache__" in name for name in names)


def test_a_memo_is_read_back_only_under_its_key():
    first_look_memo.write(b"a" * 64, b"payload")
    assert first_look_memo.read(b"a" * 64) == b"payload"
    assert first_look_memo.read(b"b" * 64) is None
    first_look_memo.write(b"b" * 64, b"other")
    assert first_look_memo.read(b"a" * 64) is None and first_look_memo.read(b"b" * 64) == b"other"
    assert [p.name for p in paths.cache_dir().iterdir()] == [first_look_memo.MEMO_FILE], "no temporary file left"


def test_a_memo_is_stale_from_the_time_it_was_given():
    first_look_memo.write(b"a" * 64, b"payload", until=time.time() + 3600)
    assert first_look_memo.read(b"a" * 64) == b"payload"
    first_look_memo.write(b"a" * 64, b"payload", until=time.time() - 1)
    assert first_look_memo.read(b"a" * 64) is None


def test_a_memo_damaged_on_the_disk_is_a_miss_under_its_own_key():
    first_look_memo.write(b"a" * 64, b"payload" * 100)
    path = first_look_memo.memo_path()
    data = bytearray(path.read_bytes())
    data[-50] ^= 0xFF
    path.write_bytes(bytes(data))
    assert first_look_memo.read(b"a" * 64) is None
    path.write_bytes(bytes(data[:-1]))  # cut short
    assert first_look_memo.read(b"a" * 64) is None


def test_the_memo_of_a_catalog_that_expires_is_stale_when_its_status_line_changes():
    embedded = load_embedded()
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    newer = msgspec.structs.replace(embedded, sequence=embedded.sequence + 1, expires_at=expires.isoformat())
    paths.cache_dir().mkdir(parents=True, exist_ok=True)
    (paths.cache_dir() / "catalog.json").write_bytes(encode_catalog(newer))
    *_, until = first_look._body(Settings(), _machine())
    assert until == pytest.approx(expires.timestamp())


def test_a_temporary_memo_left_by_a_stopped_helper_is_removed_later():
    folder = paths.cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / ".first_look.memo.123.tmp", folder / ".first_look.memo.456.tmp"
    for path in (old, fresh):
        path.write_bytes(b"half a memo")
    os.utime(old, (1, 1))
    first_look_memo.write(b"a" * 64, b"payload")
    assert not old.exists() and fresh.exists(), "one being written now is left alone"
    assert first_look_memo.read(b"a" * 64) == b"payload"


@pytest.mark.parametrize("damage", ["truncated", "foreign", "empty", "folder", "fifo"])
def test_a_damaged_memo_is_a_miss(damage):
    first_look_memo.write(b"a" * 64, b"payload")
    path = first_look_memo.memo_path()
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "foreign":
        path.write_bytes(b"PK\x03\x04" + os.urandom(200))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        path.unlink()
        os.mkfifo(path)
    assert first_look_memo.read(b"a" * 64) is None


def test_a_memo_that_cannot_be_written_is_no_error(monkeypatch, tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setenv("RIGCHECK_CACHE_DIR", str(blocked / "cache"))
    first_look_memo.write(b"a" * 64, b"payload")  # cannot make the folder: nothing raised
    assert first_look_memo.read(b"a" * 64) is None


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


def test_a_payload_with_a_class_no_first_look_holds_is_refused(tmp_path):
    look = first_look.compute(tmp_path / "rigcheck.ini")
    head = first_look._dump(first_look._Head(look.settings, look.machine, look.seconds))
    for body in (pickle.dumps(_Evil()), pickle.dumps((look.specs, look.catalog, (_Evil(),)))):
        with pytest.raises(ValueError, match="could not be read.*not part of a first look"):
            first_look.loads(first_look.MAGIC + head + body)
    with pytest.raises(ValueError, match="its cells are missing"):
        first_look.loads(first_look.MAGIC + head + pickle.dumps(("no", "cells", "here")))


def _helper_look() -> FirstLook:
    helper = helper_process.start_helper()
    assert helper is not None
    look = helper.result(timeout_s=120)
    assert isinstance(look, FirstLook)
    return look


def test_the_next_helper_sends_the_kept_first_look_and_a_new_catalog_is_never_shown_stale():
    first = _helper_look()
    memo = first_look_memo.memo_path()
    assert memo.is_file()
    kept, written = memo.read_bytes(), memo.stat()
    second = _helper_look()
    assert second.cells == first.cells and second.catalog == first.catalog and second.specs == first.specs
    after = memo.stat()
    assert (after.st_ino, after.st_mtime_ns) == (written.st_ino, written.st_mtime_ns), "a hit writes nothing"

    # A memo damaged on the disk is computed again and written whole, not refused by the window on every start.
    memo.write_bytes(kept[:-100] + b"x" * 100)
    mended = _helper_look()
    assert mended.cells == first.cells and memo.read_bytes() == kept

    # A refresh replaces the cached catalog: the next helper computes again, from the new catalog.
    embedded = load_embedded()
    gone = embedded.models[0].id
    newer = msgspec.structs.replace(embedded, sequence=embedded.sequence + 1, models=embedded.models[1:])
    paths.cache_dir().mkdir(parents=True, exist_ok=True)
    (paths.cache_dir() / "catalog.json").write_bytes(encode_catalog(newer))
    third = _helper_look()
    assert len(third.cells) == len(first.cells) - 1 and gone not in {c.model_id for c in third.cells}
    assert third.catalog.sequence == embedded.sequence + 1
    assert memo.read_bytes() != kept
