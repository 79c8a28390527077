"""`rigcheck devices` and `rigcheck catalog show|path` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest

from rigcheck.catalog import cache
from rigcheck.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_devices_table(capsys):
    code, out, err = run(capsys, "devices")
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["device", "memory"]
    row = next(line for line in lines if line.startswith("NVIDIA GeForce RTX 4090 "))
    assert "24 GiB" in row and "1,008 GB/s" in row and "165 TFLOPS" in row and "$1,599" in row
    assert lines[-1].startswith(f"{len(lines) - 3} devices")


def test_devices_query_json(capsys):
    code, out, _ = run(capsys, "devices", "--json", "nvidia rtx4090")
    data = json.loads(out)
    assert code == 0 and data["schema"] == "rigcheck.devices/1"
    assert [d["name"] for d in data["devices"]] == ["NVIDIA GeForce RTX 4090"]
    assert data["devices"][0]["memory_bytes"] == 24 * 2**30


def test_devices_all_json(capsys):
    code, out, _ = run(capsys, "devices", "--json")
    assert code == 0 and len(json.loads(out)["devices"]) >= 120


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("A100", "'A100' matches 4 devices; say which: NVIDIA A100 40GB PCIe"),
        ("M2 Ultra", "say which: Apple M2 Ultra (60-core GPU), Apple M2 Ultra (76-core GPU)"),
        ("RTX 9999", "unknown GPU 'RTX 9999'; did you mean"),
    ],
)
def test_devices_refuses_ambiguous_or_unknown(capsys, query, message):
    code, out, err = run(capsys, "devices", query)
    assert code == 2 and not out
    assert err.startswith("rigcheck: error: ") and message in err
    assert err.count("\n") == 1, "one line on stderr"


def test_catalog_show(capsys):
    code, out, err = run(capsys, "catalog", "show")
    assert code == 0 and not err
    fields = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith(("hosted", "GPU", "closed")))
    assert fields["source"].startswith("embedded")
    assert fields["schema"] == "1.0"
    assert int(fields["devices"]) >= 120


def test_catalog_show_json(capsys):
    code, out, _ = run(capsys, "catalog", "show", "--json")
    data = json.loads(out)
    assert code == 0 and data["source"] == "embedded"
    assert data["counts"]["models"] >= 100 and data["counts"]["devices"] >= 120
    assert data["counts"]["hosted"] >= 150 and data["counts"]["scores"] >= 80 and data["counts"]["rentals"] >= 15
    assert data["warnings"] == []


def test_catalog_show_reports_a_corrupt_cache(capsys):
    cache.catalog_path().parent.mkdir(parents=True, exist_ok=True)
    cache.catalog_path().write_text("{not json")
    code, out, _ = run(capsys, "catalog", "show")
    assert code == 0
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "using the embedded catalog" in warnings[0]


def test_catalog_path(capsys):
    code, out, _ = run(capsys, "catalog", "path")
    assert code == 0 and out.strip() == str(cache.catalog_path())
    code, out, _ = run(capsys, "catalog", "path", "--json")
    data = json.loads(out)
    assert data["cache"] == str(cache.catalog_path()) and data["cache_exists"] is False
    assert data["in_use"] == data["embedded"]


def test_gpu_and_ram_arguments_build_a_hypothetical_machine():
    # The shared MACHINE arguments go through devices.hypothetical_machine / parse_size.
    import argparse

    from rigcheck.cli import UsageError
    from rigcheck.cli._machine import add_machine_args, machines_from_args

    parser = argparse.ArgumentParser()
    add_machine_args(parser)
    machine = machines_from_args(parser.parse_args(["--gpu", "2 x RTX 4090", "--ram", "64GB"]))[0]
    assert machine.is_hypothetical and len(machine.gpus) == 2
    with pytest.raises(UsageError, match="cannot read size"):
        machines_from_args(parser.parse_args(["--gpu", "RTX 4090", "--ram", "lots"]))
    with pytest.raises(UsageError, match="ambiguous"):
        machines_from_args(parser.parse_args(["--gpu", "A100"]))


@pytest.mark.parametrize("argv", [("catalog", "show"), ("devices",)])
def test_broken_installation_is_one_line_exit_1(capsys, monkeypatch, tmp_path, argv):
    from rigcheck.catalog import store

    monkeypatch.setattr(store, "embedded_catalog_path", lambda: tmp_path / "missing.json")
    code, out, err = run(capsys, *argv)
    assert code == 1 and not out
    assert "embedded catalog" in err and "reinstall rigcheck" in err and err.count("\n") == 1
