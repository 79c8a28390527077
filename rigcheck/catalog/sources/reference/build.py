"""Assembles the embedded catalog from the reference tables, checks its links and writes it; the command line.

    python -m rigcheck.catalog.sources.reference [--reference DIR] [--output FILE] [--generated-at ISO]
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from rigcheck.catalog.records import SCHEMA_VERSION, Catalog, decode_catalog, encode_catalog
from rigcheck.catalog.sources.reference.cells import BuildError
from rigcheck.catalog.sources.reference.closed_models import read_closed_models
from rigcheck.catalog.sources.reference.devices import read_devices
from rigcheck.catalog.sources.reference.gpu_rental import read_rentals
from rigcheck.catalog.sources.reference.hosted_prices import read_hosted_offers
from rigcheck.catalog.sources.reference.models import read_models
from rigcheck.catalog.sources.reference.quants import add_quants
from rigcheck.catalog.sources.reference.scores import read_scores

DEFAULT_REFERENCE_DIR = Path("/work/shared/reference")
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SUPPLEMENT_DIR = DATA_DIR / "supplement"
OUTPUT_PATH = DATA_DIR / "catalog.json"


def build(reference_dir: Path = DEFAULT_REFERENCE_DIR, supplement_dir: Path = SUPPLEMENT_DIR, *,
          generated_at: str | None = None, sequence: int | None = None) -> Catalog:
    """Build the catalog from the reference and supplement CSVs. Raises BuildError on bad input.

    ``sequence`` defaults to ``generated_at`` as YYYYMMDDHHMM (UTC), the scheme refreshed feeds use, so an app
    update that ships newer embedded data outranks an older cached feed (store and refresh compare sequences).
    """
    generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    if sequence is None:
        sequence = sequence_from_timestamp(generated_at)
    models = read_models(reference_dir, supplement_dir)
    add_quants(models, supplement_dir)
    devices = read_devices(reference_dir, supplement_dir)
    hosted = read_hosted_offers(reference_dir, supplement_dir)
    scores = read_scores(reference_dir, supplement_dir)
    rentals = read_rentals(reference_dir, devices, supplement_dir)
    closed_models = read_closed_models(supplement_dir, hosted, scores)

    catalog = Catalog(
        schema_version=SCHEMA_VERSION,
        generated_at=generated_at,
        sequence=sequence,
        source="embedded",
        models=list(models.values()),
        devices=devices,
        hosted=hosted,
        rentals=rentals,
        scores=scores,
        closed_models=closed_models,
    )
    _check_links(catalog)
    return catalog


def sequence_from_timestamp(timestamp: str) -> int:
    """An ISO 8601 timestamp as the catalog sequence YYYYMMDDHHMM in UTC (as feed.build_feed numbers feeds).

    A timestamp without an offset is taken as UTC. Raises BuildError for text that is not a timestamp.
    """
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        raise BuildError(f"generated_at {timestamp!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M"))


def _check_links(catalog: Catalog) -> None:
    """Fail the build on records that point at nothing or carry no source."""
    for model in catalog.models:
        if not model.sources:
            raise BuildError(f"model {model.id} has no source")
        names = [q.name for q in model.quants]
        if len(set(names)) != len(names):
            raise BuildError(f"model {model.id} has two quants of the same name: {sorted(names)}")
        for quant in model.quants:
            if not quant.sources:
                raise BuildError(f"quant {model.id} {quant.name} has no source")
    for device in catalog.devices:
        if not device.sources:
            raise BuildError(f"device {device.name} has no source")
    for offer in catalog.hosted:
        if not offer.source:
            raise BuildError(f"hosted offer {offer.model_id} at {offer.provider} has no source")
    for score in catalog.scores:
        if not score.source:
            raise BuildError(f"score {score.model_id} {score.benchmark} has no source")


def write(catalog: Catalog, path: Path = OUTPUT_PATH) -> bytes:
    """Write the catalog as indented JSON (diff-friendly) after checking it decodes; returns the bytes."""
    data = msgspec.json.format(encode_catalog(catalog), indent=1) + b"\n"
    decode_catalog(data)  # never write a file the app would refuse
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


def main(argv: list[str] | None = None) -> int:
    """Build and write the catalog; 0 on success, 2 with one line on stderr when the input is bad."""
    parser = argparse.ArgumentParser(
        prog="python -m rigcheck.catalog.sources.reference",
        description="Builder of the embedded catalog from the sourced reference CSVs and rigcheck's own "
                    "supplement files.")
    parser.add_argument("--reference", type=Path,
                        default=Path(os.environ.get("RIGCHECK_REFERENCE_DIR", DEFAULT_REFERENCE_DIR)))
    parser.add_argument("--supplement", type=Path, default=SUPPLEMENT_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    parser.add_argument("--generated-at", help="ISO 8601 timestamp to record (default: now, UTC)")
    parser.add_argument("--sequence", type=int,
                        help="catalog sequence number (default: --generated-at as YYYYMMDDHHMM, UTC, as feeds use)")
    args = parser.parse_args(argv)
    try:
        catalog = build(args.reference, args.supplement, generated_at=args.generated_at, sequence=args.sequence)
        data = write(catalog, args.output)
    except BuildError as exc:
        print(f"catalog build failed: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({len(data) / 1e6:.2f} MB): {len(catalog.models)} models, "
          f"{sum(len(m.quants) for m in catalog.models)} quants, {len(catalog.devices)} devices, "
          f"{len(catalog.hosted)} hosted offers, {len(catalog.rentals)} rentals, {len(catalog.scores)} scores")
    return 0
