"""The GPU rental table: gpu_rental.csv (reference and supplement) as RentalOffer records, each GPU named as the
device table names it."""

from __future__ import annotations

import re
from pathlib import Path

from rigcheck.catalog.records import Device, RentalOffer
from rigcheck.catalog.sources.reference.cells import BuildError, parse_float, parse_int, read_csv

# Rental listings name GPUs loosely ("H100 SXM5", "B200 SXM"); map them to the device table's names.
_RENTAL_NAMES = {
    "NVIDIA RTX PRO 6000 Blackwell": "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
    "NVIDIA H200 SXM": "NVIDIA H200 SXM",
    "NVIDIA H200 SXM5": "NVIDIA H200 SXM",
    "NVIDIA B200 SXM": "NVIDIA B200",
    "NVIDIA B200": "NVIDIA B200",
    "NVIDIA A100 80GB": "NVIDIA A100 80GB SXM",
    "NVIDIA A100 80GB SXM": "NVIDIA A100 80GB SXM",
    "NVIDIA H100 SXM5": "NVIDIA H100 SXM",
    "NVIDIA H100 SXM 80GB": "NVIDIA H100 SXM",
}


def read_rentals(reference_dir: Path, devices: list[Device], supplement_dir: Path | None = None) -> list[RentalOffer]:
    """The offers of both gpu_rental.csv files (the supplement's when ``supplement_dir`` is given). Raises
    BuildError for a GPU that matches no device."""
    device_lookup = {_norm(d.name): d.name for d in devices}
    device_lookup.update({_norm(k): v for k, v in _RENTAL_NAMES.items()})
    rows = read_csv(reference_dir / "gpu_rental.csv")
    if supplement_dir is not None:
        rows += read_csv(supplement_dir / "gpu_rental.csv")
    return [_rental(r, device_lookup) for r in rows]


def _rental(row: dict[str, str], device_names: dict[str, str]) -> RentalOffer:
    gpu = device_names.get(_norm(row["gpu"]))
    if gpu is None:
        raise BuildError(f"gpu_rental.csv: GPU {row['gpu']!r} matches no device")
    notes = row.get("notes") or ""
    if gpu != row["gpu"]:
        notes = f"{notes}; listed as '{row['gpu']}'".lstrip("; ")
    return RentalOffer(gpu=gpu, gpus_per_node=parse_int(row.get("count_per_node", "")) or 1,
                       usd_per_gpu_hour=float(row["usd_per_gpu_hour"]),
                       usd_per_gpu_hour_high=parse_float(row.get("usd_per_gpu_hour_high", "")),
                       provider=row.get("provider") or None, date_seen=row.get("date_seen") or None,
                       source=row.get("source") or None, notes=notes or None)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())
