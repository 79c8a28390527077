"""Fixtures of the estimator tests (records in tests/estimate/records.py)."""

from __future__ import annotations

import pytest

from tests.estimate import records


@pytest.fixture
def small_catalog():
    return records.small_catalog()
