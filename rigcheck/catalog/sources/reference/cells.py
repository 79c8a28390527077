"""What every reference table shares: reading a CSV into rows of stripped text, typed cells, ``BuildError``."""

from __future__ import annotations

import csv
from pathlib import Path

# The label on every value rigcheck computes rather than reads. It is written into the catalog's sources, so
# it keeps the builder's original file name: changing it would change every derived record.
DERIVED = "derived by rigcheck (sources/reference.py)"


class BuildError(Exception):
    """The reference or supplement files cannot be turned into a catalog; one sentence says why."""


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV with a header, every cell stripped (empty for a missing one).

    Raises BuildError when the file is missing, is not UTF-8 CSV, or a row has more fields than the header.
    """
    if not path.is_file():
        raise BuildError(f"{path} is missing")
    rows = []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                if None in row:  # csv puts surplus fields under the key None
                    raise BuildError(f"{path.name} line {reader.line_num}: more fields than the header "
                                     "(quote cells that contain commas)")
                rows.append({k: (v or "").strip() for k, v in row.items()})
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BuildError(f"{path.name} cannot be read: {exc}") from None
    return rows


def parse_float(value: str) -> float | None:
    """A number cell ("1,024.5" reads as 1024.5); None when empty or not a number."""
    value = value.replace(",", "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def parse_int(value: str) -> int | None:
    """A number cell rounded to an integer; None when empty or not a number."""
    number = parse_float(value)
    return int(round(number)) if number is not None else None


def parse_bool(value: str) -> bool | None:
    """true/yes/1 or false/no/0 (any case); None for anything else."""
    value = value.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    return None


def source_list(cell: str) -> list[str]:
    """A row's ``source`` cell as a record's sources."""
    # The source column is kept verbatim: one entry, never split (URLs and commas mix inside it).
    return [cell] if cell else []
