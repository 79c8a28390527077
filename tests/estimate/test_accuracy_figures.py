"""One error figure per question: the README's and docs/estimator.md's accuracy tables are what `rigcheck validate`
prints (``validation.summary_rows``), and `make bench` prints the same summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rigcheck.catalog.store import load_catalog
from rigcheck.cli.main import main
from rigcheck.estimate.calibration.measurements import read_measurements
from rigcheck.estimate.calibration.serving_rows import read_serving_csv, validate_serving
from rigcheck.estimate.calibration.validation import (
    ErrorStats,
    ValidationReport,
    fit_agreement_text,
    pct_text,
    summary_rows,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
SPEED_CSV = Path("/work/shared/calibration/speed.csv")
SERVING_CSV = Path("/work/shared/calibration/serving.csv")
HELDOUT_SPEED = ROOT / "tests" / "data" / "heldout_speed.csv"
HELDOUT_SERVING = ROOT / "tests" / "data" / "heldout_serving.csv"


def _cells(markdown: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell`` (bold and "before →" parts taken out)."""
    for line in markdown.splitlines():
        cells = [c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return [c.split("→")[-1].strip() for c in cells[1:]]
    raise AssertionError(f"no table row {first_cell!r}")


def _summary_cells(report) -> dict[str, list[str]]:
    return {r.platform: [r.rows_text, pct_text(r.prefill.median_pct), pct_text(r.prefill.p90_pct),
                         pct_text(r.decode.median_pct), pct_text(r.decode.p90_pct)] for r in summary_rows(report)}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.skipif(not SPEED_CSV.exists(), reason="shared calibration data not present")
def test_the_calibration_tables_are_what_validate_prints(catalog):
    got = _summary_cells(validate(read_measurements(SPEED_CSV), catalog))
    readme = (ROOT / "README.md").read_text()
    assert _cells(readme, "calibration data (`speed.csv`: CUDA, Metal, ROCm, Vulkan)") == got["all"]
    estimator_md = (ROOT / "docs" / "estimator.md").read_text()
    assert _cells(estimator_md, "all") == got["all"]
    for platform, label in [("llama.cpp CUDA", "llama.cpp CUDA"), ("llama.cpp Metal", "llama.cpp Metal"),
                            ("llama.cpp ROCm", "llama.cpp ROCm"), ("llama.cpp Vulkan", "llama.cpp Vulkan"),
                            ("llama.cpp CUDA batched", "llama.cpp CUDA, batched (llama-batched-bench)")]:
        assert _cells(estimator_md, label) == got[platform], platform


def test_the_held_out_tables_are_what_validate_prints(catalog):
    got = _summary_cells(validate(read_measurements(HELDOUT_SPEED), catalog))
    readme = (ROOT / "README.md").read_text()
    assert _cells(readme, "held-out published rows, never used to fit anything (prefill/decode)") == got["all"]
    estimator_md = (ROOT / "docs" / "estimator.md").read_text()
    assert _cells(estimator_md, "all")  # the calibration table's; the held-out table follows
    held_out = estimator_md[estimator_md.index("| held-out platform"):]
    assert _cells(held_out, "all") == got["all"]
    for platform in ("llama.cpp CUDA", "llama.cpp Metal", "llama.cpp ROCm", "llama.cpp Vulkan"):
        assert _cells(held_out, platform) == got[platform], platform


def _readme_serving() -> str:
    readme = (ROOT / "README.md").read_text()
    return " ".join(readme[readme.index("Serving (`rigcheck serve`"):].split("\n\n")[0].split())


@pytest.mark.skipif(not SERVING_CSV.exists(), reason="shared calibration data not present")
def test_the_readme_serving_figures_are_what_validate_serving_prints(catalog):
    report = validate_serving(read_serving_csv(SERVING_CSV), catalog)
    out, user = report.summary("output"), report.summary("per_user")
    text = _readme_serving()
    assert f"on {out['count']} published multi-user runs" in text
    assert (f"output tokens/s is off by a median of {out['median_abs_error_pct']:.0f}% "
            f"(p90 {out['p90_abs_error_pct']:.0f}%)") in text
    assert f"per-user tokens/s by {user['median_abs_error_pct']:.0f}% (p90 {user['p90_abs_error_pct']:.0f}%)" in text


def test_the_readme_held_out_serving_figures_are_what_validate_serving_prints(catalog):
    report = validate_serving(read_serving_csv(HELDOUT_SERVING), catalog)
    out = report.summary("output")
    held = re.search(r"(\d+)% \(p90 (\d+)%\) on (\d+) held-out rows", _readme_serving())
    assert held, "the README's held-out serving figure"
    assert [int(g) for g in held.groups()] == [round(out["median_abs_error_pct"]), round(out["p90_abs_error_pct"]),
                                               out["count"]]


def test_validate_prints_the_summary_rows(tmp_path, capsys):
    assert main(["validate", str(HELDOUT_SPEED)]) == 0
    out = capsys.readouterr().out
    report = validate(read_measurements(HELDOUT_SPEED), load_catalog())
    for r in summary_rows(report):
        line = next(x for x in out.splitlines() if x.startswith(r.platform + "  ") or x.split("  ")[0] == r.platform)
        assert line.split()[-5:] == [r.rows_text, pct_text(r.prefill.median_pct), pct_text(r.prefill.p90_pct),
                                     pct_text(r.decode.median_pct), pct_text(r.decode.p90_pct)]
    assert fit_agreement_text(report) in out


def test_the_bench_prints_the_same_summary():
    bench = (ROOT / "benchmarks" / "bench_estimate.py").read_text()
    assert "summary_rows(report)" in bench and "fit_agreement_text(report)" in bench


def test_fit_agreement_never_rounds_a_disagreement_away():
    report = ValidationReport(fit_checked=364, fit_disagreements=[{"row": 1}])
    assert fit_agreement_text(report) == "fit agreement: 99.7% of 364 rows (1 disagree)"
    assert report.to_dict()["summary"]["fit_agreement"] == 0.9973


def test_rows_read_prefill_slash_decode_only_when_they_differ():
    from rigcheck.estimate.calibration.validation import SummaryRow
    stats = lambda n: ErrorStats(n, 1.0, 2.0, 0.5)  # noqa: E731
    assert SummaryRow("all", stats(390), stats(410)).rows_text == "390/410"
    assert SummaryRow("all", stats(60), stats(60)).rows_text == "60"
