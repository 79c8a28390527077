"""Values at the boundary: a number outside its physically possible range is refused with the field named, from a
feed (served over HTTP), a cache file written behind rigcheck's back, a machine profile or a what-if flag."""

from __future__ import annotations

import json
import math

import pytest

from rigcheck.catalog import cache
from rigcheck.catalog.records import CatalogError, decode_catalog
from rigcheck.probe.profile import RANGES, ProfileError, load_profile, machine_to_dict
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory
from tests.hostile.conftest import assert_one_clear_line, cache_state, feed_bytes, good_feed

pytestmark = pytest.mark.timeout(60)


def _model_change(field: str, value) -> dict:
    doc = good_feed(sequence=202612010006)
    doc["models"][1][field] = value
    return doc


@pytest.mark.parametrize(("doc", "field"), [
    (_model_change("params_total_b", 1e300), "params_total_b"),
    (_model_change("num_layers", 0), "num_layers"),
    (_model_change("max_context_tokens", -8192), "max_context_tokens"),
    (_model_change("params_active_b", 9.0), "params_active_b"),  # more active than total (8 B)
    (good_feed(sequence=202612010006, devices=[{"name": "X", "vendor": "NVIDIA", "kind": "consumer",
                                                "bandwidth_bytes_per_s": 1e300}]), "bandwidth_bytes_per_s"),
    (good_feed(sequence=202612010006, hosted=[{"model_id": "org/model-0", "provider": "x",
                                               "usd_per_m_input": 1e99, "usd_per_m_output": 1}]), "usd_per_m_input"),
], ids=["params-1e300", "zero-layers", "negative-context", "active-above-total", "bandwidth-1e300", "price-1e99"])
def test_an_insane_number_in_a_feed_is_refused_and_the_catalog_kept(installed, serve_feed, cli, doc, field):
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(feed_bytes(doc)))
    assert code == 1
    assert_one_clear_line(err, "not a usable catalog", field)
    assert cache_state() == installed


def test_a_number_of_400_digits_in_a_feed_is_refused(installed, serve_feed, cli):
    body = feed_bytes(good_feed(sequence=202612010006)).replace(b'"params_total_b": 8.0', b'"params_total_b": 9' + b"9" * 400)
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(body))
    assert code == 1
    assert_one_clear_line(err, "params_total_b")
    assert cache_state() == installed


def test_an_out_of_range_cache_file_falls_back_to_the_embedded_catalog(cli):
    doc = good_feed()
    doc["models"][0]["params_total_b"] = 1e300
    cache.catalog_path().parent.mkdir(parents=True, exist_ok=True)
    cache.catalog_path().write_bytes(feed_bytes(doc))
    code, out, err = cli("fit", "--gpu", "RTX 4090", "--ram", "64GB", "--json")
    assert code == 0, err
    assert json.loads(out)["catalog"]["source"] == "embedded"
    code, out, err = cli("catalog", "show")
    assert code == 0
    assert "params_total_b" in out + err and "embedded" in out + err


def test_decode_names_the_field_and_the_value():
    doc = good_feed()
    doc["models"][1]["num_layers"] = -3
    with pytest.raises(CatalogError, match=r"\$\.models\[1\]\.num_layers is -3; it must be at least 1"):
        decode_catalog(feed_bytes(doc))


def _profile(tmp_path, **changes) -> str:
    machine = Machine(gpus=(Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 4090", vram_total_bytes=24 * 2**30,
                                memory_bandwidth_bytes_per_s=1.008e12),),
                      cpu=Cpu(model="x", physical_cores=16), memory=Memory(total_bytes=64 * 2**30))
    data = machine_to_dict(machine)
    for path, value in changes.items():
        target = data
        *parents, leaf = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[leaf] = value
    text = json.dumps(data).replace('"@NaN@"', "NaN").replace('"@Inf@"', "Infinity").replace('"@-Inf@"', "-Infinity")
    out = tmp_path / "m.json"
    out.write_text(text.replace('"@BIG@"', "9" * 400))
    return str(out)


@pytest.mark.parametrize(("change", "field"), [
    ({"gpus.0.vram_total_bytes": -1}, "gpus[0].vram_total_bytes"),
    ({"gpus.0.memory_bandwidth_bytes_per_s": "@NaN@"}, "gpus[0].memory_bandwidth_bytes_per_s"),
    ({"gpus.0.memory_bandwidth_bytes_per_s": "@Inf@"}, "gpus[0].memory_bandwidth_bytes_per_s"),
    ({"gpus.0.memory_bandwidth_bytes_per_s": 0}, "gpus[0].memory_bandwidth_bytes_per_s"),
    ({"memory.total_bytes": "@BIG@"}, "memory.total_bytes"),
    ({"memory.bandwidth_bytes_per_s": "@-Inf@"}, "memory.bandwidth_bytes_per_s"),
    ({"cpu.max_clock_mhz": 1e300}, "cpu.max_clock_mhz"),
    ({"gpus.0.index": -5}, "gpus[0].index"),
], ids=["negative-vram", "nan-bandwidth", "inf-bandwidth", "zero-bandwidth", "400-digit-ram", "minus-inf",
        "huge-clock", "negative-index"])
def test_an_insane_number_in_a_profile_is_one_line_exit_2(tmp_path, cli, change, field):
    path = _profile(tmp_path, **change)
    for command in (["fit"], ["report", "-o", str(tmp_path / "r.md")], ["cost", "--model", "llama-3.1-8b"]):
        code, out, err = cli(*command, "--machine", path)
        assert code == 2, (command, err)
        assert_one_clear_line(err, field)
        assert not (tmp_path / "r.md").exists()


def test_every_number_of_a_profile_has_a_range():
    import typing

    from rigcheck.probe.types import BackendStatus

    numeric = set()
    for cls in (Machine, Gpu, Cpu, Memory, BackendStatus):
        for name in cls.__struct_fields__:
            hint = typing.get_type_hints(cls)[name]
            if {int, float} & set(typing.get_args(hint) or (hint,)):
                numeric.add(name)
    assert numeric <= set(RANGES), f"no range for {sorted(numeric - set(RANGES))}"


def test_profile_range_error_names_the_field_and_bounds(tmp_path):
    with pytest.raises(ProfileError, match=r"gpus\[0\]\.vram_total_bytes is -1; it must be between 0 and"):
        load_profile(_profile(tmp_path, **{"gpus.0.vram_total_bytes": -1}))


def test_a_clock_is_unknown_or_real(tmp_path):
    """A subnormal CPU clock once made a first token take infinite seconds (found by tests/hostile's properties).
    The other clocks are whole MHz, so 0 or at least 1 already."""
    path = "cpu.max_clock_mhz"
    for value in (2.2e-309, 0.5):
        with pytest.raises(ProfileError, match=rf"is {value}; it must be 0 \(not known\) or between 1 and 100000 MHz"):
            load_profile(_profile(tmp_path, **{path: value}))
    for value in (0, 1, 3500.5):
        assert load_profile(_profile(tmp_path, **{path: value})).cpu.max_clock_mhz == value


def test_a_clock_below_any_real_one_counts_as_unknown_in_estimates():
    from rigcheck.catalog.store import load_embedded
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

    catalog = load_embedded()
    machine = Machine(gpus=(), cpu=Cpu(max_clock_mhz=2.2e-309), memory=Memory(total_bytes=3 * 2**30,
                                                                          bandwidth_bytes_per_s=1e6))
    rows = evaluate(machine, catalog, Settings(context_tokens=1, prompt_tokens=1), models=catalog.models[:12])
    assert rows and all(math.isfinite(r.ttft_s.high) for r in rows if r.ttft_s is not None)


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--gpu", "RTX 4090", "--ram", "9" * 400 + "GB"], "more than any machine has"),
    (["--gpu", "RTX 4090", "--ram", "5PB"], "more than any machine has"),
    (["--gpu", "RTX 4090", "--ram", "0GB"], "more than zero"),
    (["--gpu", "9" * 5000 + " x RTX 4090", "--ram", "64GB"], "GPU count"),
    (["--gpu", "0 x RTX 4090", "--ram", "64GB"], "GPU count"),
], ids=["ram-400-digits", "ram-5PB", "ram-zero", "count-5000-digits", "count-zero"])
def test_what_if_sizes_are_ranged(cli, flags, fragment):
    code, _, err = cli("fit", *flags)
    assert code == 2
    line = assert_one_clear_line(err, fragment)
    assert len(line) < 300
