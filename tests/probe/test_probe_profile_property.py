"""Property test: any Machine the types and ranges allow survives dump_profile -> JSON -> machine_from_dict exactly."""

from __future__ import annotations

import json

from hypothesis import given, settings

from rigcheck.probe.profile import dump_profile, machine_from_dict
from tests.hostile.strategies import machines


@settings(max_examples=25, deadline=None)
@given(machines)
def test_any_machine_round_trips_exactly(machine):
    assert machine_from_dict(json.loads(dump_profile(machine))) == machine
