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


def _table(out: str) -> list[dict[str, str]]:
    """The listing's rows as dicts by header, split at the columns of the dashed rule under the header."""
    lines = out.splitlines()
    spans, start = [], 0
    for dashes in lines[1].split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    header = [lines[0][a:b].strip() for a, b in spans]
    return [dict(zip(header, (line[a:b].strip() for a, b in spans), strict=True)) for line in lines[2:-1]]


def test_devices_table(capsys):
    code, out, err = run(capsys, "devices")
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].split() == ["device", "kind", "memory", "bandwidth", "FP16", "TFLOPS", "launch", "price"]
    row = next(line for line in lines if line.startswith("NVIDIA GeForce RTX 4090 "))
    assert "24 GiB" in row and "1,008 GB/s" in row and "165 tensor" in row and "$1,599" in row
    assert lines[-1].startswith(f"{len(lines) - 3} devices, by kind, vendor, then memory and bandwidth")


@pytest.mark.parametrize(("device", "kind", "memory", "fp16"), [
    ("NVIDIA GeForce RTX 4090", "desktop", "24 GiB", "165 tensor"),  # a tensor-core rate is stated: it is shown
    ("AMD Radeon RX 7900 XTX", "desktop", "24 GiB", "123 vector"),  # only the shader rate is: shown, labelled so
    ("NVIDIA H200 SXM", "data centre", "141 GiB", "989 tensor"),
    ("Apple M3 Ultra (80-core GPU)", "Apple (unified)", "128/256/512 GiB", "—"),  # the sizes it is sold with
    ("Apple M1 (7-core GPU)", "Apple (unified)", "up to 16 GiB", "—"),  # only the largest size is known
    ("Apple M4 Max (32-core GPU)", "Apple (unified)", "36 GiB", "—"),  # sold in one size
    ("NVIDIA DGX Spark (GB10)", "APU (unified)", "up to 128 GiB", "29.7 vector"),
])
def test_devices_table_cells(capsys, device, kind, memory, fp16):
    _, out, _ = run(capsys, "devices")
    row = next(r for r in _table(out) if r["device"] == device)
    assert (row["kind"], row["memory"], row["FP16 TFLOPS"]) == (kind, memory, fp16)


def test_devices_table_order_is_kind_vendor_then_memory(capsys):
    from rigcheck.catalog import devices as device_table
    from rigcheck.catalog.store import load_catalog

    _, out, _ = run(capsys, "devices")
    names = [r["device"] for r in _table(out)]
    by_name = {d.name: d for d in load_catalog().devices}
    assert len(names) == len(by_name)
    kinds = [by_name[n].kind for n in names]
    assert [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k] == list(device_table.KIND_ORDER), \
        "each kind is one block, in the buyer's order"
    for a, b in zip(names, names[1:], strict=False):
        da, db = by_name[a], by_name[b]
        if (da.kind, da.vendor) == (db.kind, db.vendor):
            ma, mb = device_table.max_memory_bytes(da), device_table.max_memory_bytes(db)
            assert mb is None or (ma is not None and ma <= mb), f"{a} before {b}: smaller memory first"
    assert names.index("NVIDIA GeForce RTX 3060 12 GB") < names.index("NVIDIA GeForce RTX 4090") \
        < names.index("AMD Radeon RX 7600") < names.index("NVIDIA RTX A2000") < names.index("NVIDIA H100 SXM") \
        < names.index("Apple M1 (7-core GPU)") < names.index("NVIDIA DGX Spark (GB10)")


@pytest.mark.parametrize(("query", "check"), [
    ("apple", lambda d: d["vendor"] == "Apple"),
    ("NVIDIA", lambda d: d["vendor"] == "NVIDIA"),
    ("datacenter", lambda d: d["kind"] == "datacenter"),
    ("data centre", lambda d: d["kind"] == "datacenter"),
    ("laptop", lambda d: d["kind"] == "laptop"),
    ("unified", lambda d: d["unified_memory"]),
])
def test_devices_vendor_or_kind_lists_those(capsys, query, check):
    code, out, err = run(capsys, "devices", "--json", query)
    devices = json.loads(out)["devices"]
    assert code == 0 and not err and len(devices) > 1 and all(check(d) for d in devices)
    _, text, _ = run(capsys, "devices", query)
    assert [r["device"] for r in _table(text)] == [d["name"] for d in devices], "the table and --json agree"


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
