"""Property tests: whatever a user types or a driver reports, the lookups answer or refuse with their own error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.catalog import devices
from rigcheck.catalog.lookup import ModelLookupError, find_model
from rigcheck.catalog.store import load_embedded

CATALOG = load_embedded()
NAMES = [d.name for d in CATALOG.devices] + [a for d in CATALOG.devices for a in d.aliases]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
mutated_name = st.builds(lambda name, junk: name + junk, st.sampled_from(NAMES), text)

fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(name=st.one_of(text, mutated_name), memory=st.one_of(st.none(), st.integers(0, 2**45)),
       cores=st.one_of(st.none(), st.integers(0, 200)))
def test_resolve_answers_a_device_or_none(name, memory, cores):
    result = devices.resolve(name, memory_bytes=memory, gpu_cores=cores, devices=CATALOG.devices)
    assert result is None or result in CATALOG.devices


@fuzz
@given(name=st.one_of(text, mutated_name))
def test_lookup_refuses_with_its_own_error(name):
    try:
        assert devices.lookup(name, CATALOG.devices) in CATALOG.devices
    except devices.DeviceLookupError as exc:
        assert str(exc) and "\n" not in str(exc)


@fuzz
@given(value=st.one_of(text, st.from_regex(r"\s*\d{1,6}(\.\d{1,3})?\s*[kKmMgGtTpP]?i?[bB]?\s*", fullmatch=True)))
def test_parse_size_refuses_with_its_own_error(value):
    try:
        assert devices.parse_size(value) > 0
    except devices.InvalidSizeError as exc:
        assert str(exc)


@fuzz
@given(query=text)
def test_find_model_refuses_with_its_own_error(query):
    try:
        assert find_model(CATALOG, query) in CATALOG.models
    except ModelLookupError as exc:
        assert str(exc) and "\n" not in str(exc)


@fuzz
@given(specs=st.lists(st.one_of(text, st.builds(lambda n, name: f"{n} x {name}", st.integers(-3, 300),
                                                      st.sampled_from(NAMES))), max_size=3),
       ram=st.one_of(st.none(), st.integers(1, 2**42)))
def test_hypothetical_machine_builds_or_refuses(specs, ram):
    try:
        machine = devices.hypothetical_machine(specs, ram, catalog=CATALOG)
    except devices.DeviceLookupError:
        return
    assert machine.is_hypothetical and machine.memory.total_bytes >= 0
    assert all(g.sources.get("memory_bandwidth_bytes_per_s") in (None, "spec table") for g in machine.gpus)


@pytest.mark.parametrize("name", ["\x00", "  ", "(", "80GB", "76-core GPU", "x" * 500])
def test_odd_names(name):
    assert devices.resolve(name, devices=CATALOG.devices) is None
