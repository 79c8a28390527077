"""The scores table: scores.csv (reference and supplement) as Score records, benchmark names mapped to ours."""

from __future__ import annotations

from pathlib import Path

from rigcheck.catalog.records import Score
from rigcheck.catalog.sources.reference.cells import BuildError, parse_float, read_csv

_BENCHMARKS = {
    "artificial_analysis_intelligence_index": "aa_index",
    "aa_index": "aa_index",
    "swe_bench_verified": "swe_bench_verified",
    "terminal_bench_2": "terminal_bench_2",
    "aider_polyglot": "aider_polyglot",
    "metr_time_horizon_min": "metr_time_horizon_min",
    "other": "other",
}


def read_scores(reference_dir: Path, supplement_dir: Path) -> list[Score]:
    """The scores of both scores.csv files. Raises BuildError for an unknown benchmark or a missing value."""
    scores = [_score(r) for r in read_csv(reference_dir / "scores.csv")]
    scores += [_score(r) for r in read_csv(supplement_dir / "scores.csv")]
    return scores


def _score(row: dict[str, str]) -> Score:
    benchmark = _BENCHMARKS.get(row["benchmark"])
    if benchmark is None:
        raise BuildError(f"scores: unknown benchmark {row['benchmark']!r}")
    value = parse_float(row["value"])
    if value is None:
        raise BuildError(f"scores: {row['model_id']} {benchmark} has no value")
    return Score(model_id=row["model_id"], benchmark=benchmark, value=value,
                 date=row.get("date_or_version") or None, source=row.get("source") or None,
                 notes=row.get("notes") or None)
