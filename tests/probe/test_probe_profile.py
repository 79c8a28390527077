"""Machine profiles: exact round trips, and one clear ProfileError sentence for every kind of bad file."""

from __future__ import annotations

import json

import pytest
from fake_nvml import SCENARIOS
from tests_probe_paths import SYSFS

from rigcheck.probe.detect import probe_machine
from rigcheck.probe.profile import (
    ProfileError,
    dump_profile,
    load_profile,
    machine_from_dict,
    machine_to_dict,
)
from rigcheck.probe.types import PROFILE_SCHEMA


@pytest.fixture(params=sorted(SCENARIOS))
def machine(request):
    return probe_machine(nvml=SCENARIOS[request.param](), sysfs_root=SYSFS / "strix_halo", measure_bandwidth=False)


def test_round_trip_is_exact(machine):
    data = machine_to_dict(machine)
    assert data["schema"] == PROFILE_SCHEMA and next(iter(data)) == "schema"
    assert machine_from_dict(data) == machine
    assert machine_from_dict(json.loads(dump_profile(machine))) == machine


def test_load_marks_origin_and_keeps_everything_else(machine, tmp_path):
    path = tmp_path / "workstation.json"
    path.write_text(dump_profile(machine))
    loaded = load_profile(path)
    assert loaded.origin == "profile"
    assert loaded.label == machine.label
    assert loaded.gpus == machine.gpus and loaded.cpu == machine.cpu and loaded.memory == machine.memory
    assert loaded.backends == machine.backends


def test_label_defaults_to_file_name(tmp_path):
    data = machine_to_dict(probe_machine(nvml=SCENARIOS["one_gpu"]()))
    data["label"] = None
    path = tmp_path / "lab-box.json"
    path.write_text(json.dumps(data))
    assert load_profile(path).label == "lab-box"


def test_unknown_keys_are_ignored(tmp_path):
    data = machine_to_dict(probe_machine(nvml=SCENARIOS["one_gpu"]()))
    data["added_by_a_newer_rigcheck"] = 1
    data["gpus"][0]["also_new"] = "x"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    assert load_profile(path).gpus[0].name == "NVIDIA GeForce RTX 4090"


def _bad(tmp_path, mutate) -> str:
    data = machine_to_dict(probe_machine(nvml=SCENARIOS["two_mixed_gpus"]()))
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(schema="rigcheck.machine/2"), "schema 'rigcheck.machine/2'"),
        (lambda d: d.pop("schema"), 'no "schema" key'),
        (lambda d: d.pop("cpu"), "cpu is missing"),
        (lambda d: d["memory"].pop("total_bytes"), "memory.total_bytes is missing"),
        (lambda d: d["gpus"][1].update(vram_total_bytes="12 GB"), "gpus[1].vram_total_bytes should be an integer, not a string"),
        (lambda d: d["gpus"][0].update(vendor="matrox"), "gpus[0].vendor should be one of"),
        (lambda d: d["gpus"][0].update(unified_memory=1), "gpus[0].unified_memory should be true or false"),
        (lambda d: d["gpus"][0].update(name=None), "gpus[0].name should be a string, not null"),
        (lambda d: d.update(gpus={}), "gpus should be a list, not an object"),
        (lambda d: d["gpus"][0]["sources"].update(uuid=3), "gpus[0].sources.uuid should be a string"),
        (lambda d: d["cpu"].update(isa_flags="avx2"), "cpu.isa_flags should be a list"),
        (lambda d: d["memory"].update(total_bytes=True), "memory.total_bytes should be an integer, not true/false"),
        (lambda d: d.update(origin="stolen"), "origin should be one of"),
    ],
)
def test_wrong_content_is_one_sentence(tmp_path, mutate, expected):
    assert expected in _bad(tmp_path, mutate)


def test_missing_file(tmp_path):
    with pytest.raises(ProfileError, match=r"does not exist"):
        load_profile(tmp_path / "nope.json")


def test_folder(tmp_path):
    with pytest.raises(ProfileError, match="is a folder"):
        load_profile(tmp_path)


def test_not_json(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"schema": "rigcheck.machine/1",,}')
    with pytest.raises(ProfileError, match=r"not valid JSON \(line 1, column 33"):
        load_profile(path)


def test_not_text(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProfileError, match="not text"):
        load_profile(path)


def test_json_but_not_an_object(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("[1, 2]")
    with pytest.raises(ProfileError, match="should be a JSON object, not a list"):
        load_profile(path)


def test_huge_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b" " * (5 * 1024 * 1024 + 1))
    with pytest.raises(ProfileError, match="too large"):
        load_profile(path)


def test_machine_argument_turns_a_bad_profile_into_a_usage_error(tmp_path):
    import argparse

    from rigcheck.cli import UsageError
    from rigcheck.cli._machine import machines_from_args

    path = tmp_path / "bad.json"
    path.write_text("{")
    args = argparse.Namespace(machine=str(path), gpu=[], ram=None)
    with pytest.raises(UsageError, match=r"bad.json is not valid JSON"):
        machines_from_args(args)
