"""Special files and depth: a device, a FIFO, a folder or a socket where a file is read is refused at once (never a
hang, never a MemoryError), a file is read only up to a cap whatever ``st_size`` says, and JSON nested deeper than
anything rigcheck reads is refused before a parser recurses into it."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from rigcheck.catalog import cache
from rigcheck.catalog.records import CatalogError, decode_catalog
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped
from tests.hostile.conftest import assert_one_clear_line, cache_state, feed_bytes, good_feed, run

pytestmark = pytest.mark.timeout(60)

DEEP = b'{"schema": "rigcheck.machine/1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path):
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    yield path
    server.close()


def _special_path(kind: str, tmp_path, fifo, unix_socket=None) -> str | None:
    """The path of a file of ``kind``: a device, a FIFO, a folder, a socket, or JSON nested too deeply; None for a
    kind the test makes itself."""
    if kind == "deep":
        (tmp_path / "deep.json").write_bytes(DEEP)
        return str(tmp_path / "deep.json")
    return {"/dev/zero": "/dev/zero", "/dev/urandom": "/dev/urandom", "fifo": str(fifo), "folder": str(tmp_path),
            "socket": str(unix_socket)}.get(kind)


@pytest.mark.parametrize("kind", ["/dev/zero", "/dev/urandom", "fifo", "folder", "socket", "deep", "huge"])
def test_machine_profile_special_files(cli, tmp_path, fifo, unix_socket, kind):
    path = _special_path(kind, tmp_path, fifo, unix_socket)
    if kind == "huge":  # sparse: st_size says 6 MiB, nothing is stored
        path = str(tmp_path / "huge.json")
        with open(path, "wb") as fh:
            fh.truncate(6 * 2**20)
    expected = {"folder": "is a folder", "deep": "nests too deeply", "huge": "too large"}.get(kind, "not a regular file")
    code, _, err = cli("fit", "--machine", path)
    assert code == 2
    assert_one_clear_line(err, expected)


def test_fifo_with_no_writer_does_not_hang_the_process(fifo):
    proc = run("fit", "--machine", str(fifo), timeout=30)
    assert proc.returncode == 2
    assert_one_clear_line(proc.stderr, "FIFO")


def test_read_capped_never_trusts_st_size(tmp_path):
    # /proc files say 0 bytes and hold more; /dev/zero says 0 and never ends.
    assert len(read_capped("/proc/self/status", 1 << 20, "proc file")) > 0
    with pytest.raises(FileReadError, match="not a regular file"):
        read_capped("/dev/zero", 100, "zero")
    grow = tmp_path / "grow"
    grow.write_bytes(b"x" * 101)
    with pytest.raises(FileReadError, match="larger than 100 bytes"):
        read_capped(grow, 100, "file")
    assert read_capped(grow, 101, "file") == b"x" * 101


@pytest.mark.parametrize("where", ["catalog", "previous", "meta"])
def test_a_fifo_in_the_cache_folder_does_not_hang_catalog_show(where, cli):
    folder = cache.catalog_path().parent
    folder.mkdir(parents=True, exist_ok=True)
    target = {"catalog": cache.catalog_path(), "previous": cache.previous_path(), "meta": cache.meta_path()}[where]
    if where == "meta":
        cache.catalog_path().write_bytes(feed_bytes(good_feed()))
    os.mkfifo(target)
    code, out, err = cli("catalog", "show")
    assert code == 0, err
    assert "sequence" in out
    model = "org/model-0" if where == "meta" else "llama-3.1-8b"
    code, out, err = cli("fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", model)
    assert code == 0, err
    assert target.exists() and not target.is_file(), "the FIFO was left as it was"


def test_a_deep_cache_file_falls_back_without_recursion(cli):
    cache.catalog_path().parent.mkdir(parents=True, exist_ok=True)
    cache.catalog_path().write_bytes(b'{"schema_version": "1.0", "generated_at": "2026-01-01", "x": '
                                     + b"[" * 200_000 + b"]" * 200_000 + b"}")
    code, out, err = cli("catalog", "show")
    assert code == 0, err
    assert "nests deeper" in out + err and "embedded" in out + err


def test_a_deep_feed_is_refused_before_parsing(installed, serve_feed, cli):
    body = feed_bytes(good_feed(sequence=202612010006))[:-2] + b', "junk": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(body))
    assert code == 1
    assert_one_clear_line(err, "nests deeper")
    assert cache_state() == installed


def test_deep_json_is_refused_even_on_a_small_thread_stack():
    """The C parsers recurse once per level: on a 256 KiB stack (macOS gives secondary threads 512 KiB) a deep
    document would crash the process, not raise. The depth check runs first and never recurses."""
    outcome = []

    def decode():
        try:
            decode_catalog(b'{"schema_version": "1.0", "x": ' + b"[" * 300_000 + b"]" * 300_000 + b"}")
        except CatalogError as exc:
            outcome.append(str(exc))

    threading.stack_size(256 * 1024)
    try:
        worker = threading.Thread(target=decode)
        worker.start()
        worker.join(30)
    finally:
        threading.stack_size(0)
    assert outcome and "nests deeper" in outcome[0]


@pytest.mark.parametrize(("text", "deep"), [
    (b"[]", False), (b"[" * 64 + b"]" * 64, False), (b"[" * 65 + b"]" * 65, True),
    (b'["' + b"[" * 500 + b'"]', False),  # brackets in a string do not count
    (b'["\\"' + b"[" * 500 + b'"]', False),  # nor after an escaped quote
    (b'["\\\\", ' + b"[" * 70 + b"]" * 70 + b"]", True),  # an escaped backslash does not hide the next quote
    (b"[" * 100 + b"}" * 100, False),  # malformed, not deep: the parser says what is wrong
])
def test_json_too_deep(text, deep):
    assert json_too_deep(text) is deep


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "deep", "folder"])
def test_validate_and_sign_refuse_special_files(cli, tmp_path, fifo, kind):
    path = _special_path(kind, tmp_path, fifo)
    code, _, err = cli("validate", path)
    assert code == 2, err
    assert_one_clear_line(err)
    key = tmp_path / "k.pem"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    code, _, err = cli("catalog", "sign", path, "--key", "/dev/zero")
    assert code == 2, err
    assert_one_clear_line(err, "not a regular file")
    code, _, err = cli("catalog", "sign", path, "--key", str(key))
    assert code == 2, err
    assert_one_clear_line(err)


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "deep", "folder"])
def test_measured_import_refuses_special_files(cli, tmp_path, fifo, kind):
    path = _special_path(kind, tmp_path, fifo)
    code, _, err = cli("measured", "import", path, "--gpu", "RTX 4090", "--ram", "64GB")
    assert code == 2, err
    assert_one_clear_line(err)


def test_the_installed_model_scan_skips_a_fifo_for_config_json(cli, tmp_path):
    """A model folder whose config.json is a FIFO: the walk takes only regular files, and reading the folder's
    config (were the file swapped for a FIFO after the walk) refuses it at once."""
    from rigcheck.catalog.installed.describe import safetensors_summary

    model = tmp_path / "models" / "org" / "repo"
    model.mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    os.mkfifo(model / "config.json")
    proc = run("installed", "--path", str(tmp_path / "models"), "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = safetensors_summary(model, [model / "model.safetensors"], [16])
    assert summary["problem"] == "config.json is missing or not valid JSON"
