"""The hosted prices table: hosted_prices.csv (reference and supplement) as HostedOffer records, with residency
from each row's own words and, where a row says nothing, from supplement/provider_policies.csv."""

from __future__ import annotations

import re
from pathlib import Path

from msgspec.structs import replace

from rigcheck.catalog.records import HostedOffer
from rigcheck.catalog.sources.reference.cells import BuildError, parse_bool, parse_float, parse_int, read_csv


def read_hosted_offers(reference_dir: Path, supplement_dir: Path) -> list[HostedOffer]:
    """The offers of both hosted_prices.csv files, provider policies applied. Raises BuildError on bad input."""
    hosted = [_hosted(r) for r in read_csv(reference_dir / "hosted_prices.csv")]
    hosted += [_hosted(r) for r in read_csv(supplement_dir / "hosted_prices.csv")]
    return apply_provider_policies(hosted, read_csv(supplement_dir / "provider_policies.csv"))


def _hosted(row: dict[str, str]) -> HostedOffer:
    notes = row.get("region_or_residency_notes", "")
    source = row.get("source", "")
    low = f"{notes} {source}".lower()
    quantization = None
    m = re.search(r"key '[^']*?(fp8|fp4|int8|int4|bf16)[^']*'", source, re.IGNORECASE)
    if m:
        quantization = m.group(1).upper()
    # Residency: only what the row states. LiteLLM keys carry no residency or training terms.
    residency, region, no_training = "unknown", None, None
    m = re.search(r"\b(eu|us|eu-[a-z]+-\d|us-[a-z]+-\d)\b", notes.lower())
    if "region" in low and m:
        residency, region = "region", m.group(1).upper() if len(m.group(1)) == 2 else m.group(1)
    if "no training" in low or "no-training" in low or "zero data retention" in low:
        # Zero retention implies no training: nothing is kept to train on.
        residency, no_training = "no-training", True
    date_seen = row.get("date_seen", "")
    m = re.match(r"\d{4}-\d{2}(-\d{2})?", date_seen)
    return HostedOffer(
        model_id=row["model_id"],
        provider=row["provider"],
        usd_per_m_input=float(row["usd_per_m_input"]),
        usd_per_m_output=float(row["usd_per_m_output"]),
        usd_per_m_cached_input=parse_float(row.get("usd_per_m_cached_input", "")),
        context_tokens=parse_int(row.get("context", "")),
        quantization=quantization,
        residency=residency,  # type: ignore[arg-type]
        region=region,
        no_training=no_training,
        notes=notes or None,
        date_seen=m.group(0) if m else (date_seen or None),
        source=source or None,
    )


_POLICY_RESIDENCY = ("region", "no-training", "anywhere")


def apply_provider_policies(offers: list[HostedOffer], rows: list[dict[str, str]]) -> list[HostedOffer]:
    """Residency facts from a provider's own published policy, applied to that provider's offers.

    supplement/provider_policies.csv holds one row per provider whose data-handling terms a source states
    (DeepInfra and xAI: no training on API data; DeepSeek: data stored in the PRC). A row applies only to
    offers whose own row said nothing (residency "unknown"): an offer's own statement wins; models the
    policy itself excepts (``except_model_prefixes``) are skipped. Providers without a row keep "unknown";
    nothing is assumed.
    """
    policies: dict[str, dict[str, str]] = {}
    for row in rows:
        provider = row["provider"]
        if provider in policies:
            raise BuildError(f"provider_policies.csv: provider {provider!r} appears twice")
        if row["residency"] not in _POLICY_RESIDENCY:
            raise BuildError(f"provider_policies.csv: {provider} has residency {row['residency']!r}; "
                             f"use one of {', '.join(_POLICY_RESIDENCY)}")
        if not row.get("source"):
            raise BuildError(f"provider_policies.csv: {provider} has no source")
        if row.get("no_training") and parse_bool(row["no_training"]) is None:
            raise BuildError(f"provider_policies.csv: {provider} no_training = {row['no_training']!r} "
                             "is not true/false")
        policies[provider] = row
    out = []
    for offer in offers:
        policy = policies.get(offer.provider)
        excepted = tuple(x.strip() for x in (policy or {}).get("except_model_prefixes", "").split(";") if x.strip())
        if policy is None or offer.residency != "unknown" or (excepted and offer.model_id.startswith(excepted)):
            out.append(offer)
            continue
        note = f"provider policy: {policy['note']}" if policy.get("note") else "provider policy"
        out.append(replace(
            offer,
            residency=policy["residency"],
            region=policy.get("region") or offer.region,
            no_training=parse_bool(policy.get("no_training", "")),
            notes="; ".join(x for x in (offer.notes, note) if x),
            source=f"{offer.source}; residency: {policy['source']}" if offer.source else policy["source"],
        ))
    return out
