"""Paths of the probe's test data."""

from pathlib import Path

DATA = Path(__file__).parents[1] / "data"
SYSFS = DATA / "sysfs"
MAC = DATA / "mac"
