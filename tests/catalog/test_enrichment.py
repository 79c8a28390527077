"""The supplement's enrichment inputs (device overrides with notes, provider residency policies): applied with
their sources, and bad rows refused with one sentence naming the file, row and value."""

from __future__ import annotations

import csv
import shutil

import pytest

from rigcheck.catalog.records import HostedOffer
from rigcheck.catalog.sources.reference.build import DEFAULT_REFERENCE_DIR, SUPPLEMENT_DIR, build, main
from rigcheck.catalog.sources.reference.cells import BuildError
from rigcheck.catalog.sources.reference.hosted_prices import apply_provider_policies

REFERENCE = DEFAULT_REFERENCE_DIR


@pytest.fixture()
def inputs(tmp_path):
    if not (REFERENCE / "models.csv").is_file():
        pytest.skip("shared reference not present")
    ref, sup = tmp_path / "reference", tmp_path / "supplement"
    shutil.copytree(REFERENCE, ref)
    shutil.copytree(SUPPLEMENT_DIR, sup)
    return ref, sup


def _append(path, row):
    with path.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(row)


def _rewrite(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _offer(provider="acme", model_id="org/model", **kw):
    return HostedOffer(model_id=model_id, provider=provider, usd_per_m_input=1.0, usd_per_m_output=2.0,
                       source="price page", **kw)


POLICY_HEADER = ["provider", "residency", "region", "no_training", "except_model_prefixes", "source", "note"]


def _policy(cells):
    return dict(zip(POLICY_HEADER, cells, strict=True))


def test_policy_applies_to_silent_offers_only():
    rows = [_policy(["acme", "region", "EU", "true", "", "https://acme.example/privacy",
                                     "EU data centres"])]
    silent, stated = _offer(), _offer(residency="anywhere", notes="the row says anywhere")
    out = apply_provider_policies([silent, stated], rows)
    assert (out[0].residency, out[0].region, out[0].no_training) == ("region", "EU", True)
    assert out[0].source == "price page; residency: https://acme.example/privacy"
    assert out[0].notes == "provider policy: EU data centres"
    assert out[1] == stated, "an offer's own statement wins over the provider policy"


def test_policy_exceptions_and_other_providers_stay_unknown():
    rows = [_policy(["acme", "no-training", "", "true", "google/;closed:", "src", ""])]
    gemma, closed, other = _offer(model_id="google/gemma-3-27b-it"), _offer(model_id="closed:x/y"), _offer("zeta")
    out = apply_provider_policies([gemma, closed, other], rows)
    assert all(o.residency == "unknown" and o.no_training is None for o in out)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["acme", "sovereign", "", "", "", "src", ""], "residency 'sovereign'"),
        (["acme", "region", "CN", "maybe", "", "src", ""], "no_training = 'maybe'"),
        (["acme", "region", "CN", "", "", "", ""], "acme has no source"),
    ],
)
def test_bad_policy_rows_refused(row, message):
    with pytest.raises(BuildError, match=message):
        apply_provider_policies([_offer()], [_policy(row)])


def test_duplicate_policy_refused():
    row = _policy(["acme", "region", "CN", "", "", "src", ""])
    with pytest.raises(BuildError, match="appears twice"):
        apply_provider_policies([], [row, row])


def test_device_override_note_and_street_price(inputs):
    ref, sup = inputs
    _append(sup / "device_overrides.csv", ["NVIDIA A100 80GB SXM", "street_price_usd", "15000", "https://example.test/a100",
                                           "reported, not list"])
    catalog = build(ref, sup, generated_at="2026-01-01T00:00:00Z")
    a100 = next(d for d in catalog.devices if d.name == "NVIDIA A100 80GB SXM")
    assert a100.street_price_usd == 15000
    assert "street_price_usd: https://example.test/a100" in a100.sources
    assert a100.notes.endswith("street_price_usd: reported, not list")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["NVIDIA A100 80GB SXM", "street_price_usd", "about 15k", "src", ""], "street_price_usd = 'about 15k' is not a valid"),
        (["NVIDIA A100 80GB SXM", "fp16_tensor_tflops_dense", "", "src", ""], "is not a valid value"),
        (["NVIDIA A100 80GB SXM", "colour", "green", "src", ""], "unknown field 'colour'"),
        (["NVIDIA A999", "tdp_w", "300", "src", ""], "unknown device 'NVIDIA A999'"),
    ],
)
def test_bad_device_overrides_refused(inputs, row, message):
    ref, sup = inputs
    _append(sup / "device_overrides.csv", row)
    with pytest.raises(BuildError, match=message):
        build(ref, sup, generated_at="2026-01-01T00:00:00Z")


def test_bad_policy_file_fails_the_cli_with_one_line(inputs, tmp_path, capsys):
    ref, sup = inputs
    _rewrite(sup / "provider_policies.csv", POLICY_HEADER, [["deepinfra", "somewhere", "", "", "", "src", ""]])
    out = tmp_path / "catalog.json"
    code = main(["--reference", str(ref), "--supplement", str(sup), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and "provider_policies.csv: deepinfra has residency 'somewhere'" in err
