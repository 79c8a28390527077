"""Catalog validation: a decoded document and a catalog built in Python are refused with the same sentence."""

from __future__ import annotations

import json

import msgspec
import pytest

from rigcheck.catalog.cache import UTF8_CHUNK_BYTES, check_sanity, validate_catalog_bytes
from rigcheck.catalog.records import (
    Catalog,
    CatalogError,
    ClosedModel,
    Device,
    HostedOffer,
    Model,
    Quant,
    Score,
)


def _doc() -> dict:
    return {
        "schema_version": "1.0",
        "generated_at": "2026-11-01T00:00:00Z",
        "sequence": 3,
        "models": [
            {"id": f"org/model-{i}", "family": "test", "params_total_b": 7.0, "num_layers": 32,
             "quants": [{"name": "Q4_K_M", "format": "gguf", "bits_per_weight": 4.85, "file_size_bytes": 4_000_000_000},
                        {"name": "BF16", "format": "safetensors", "bits_per_weight": 16, "repo": f"org/model-{i}"},
                        {"name": "BF16", "format": "gguf", "bits_per_weight": 16, "repo": "someone/model-GGUF"}]}
            for i in range(3)
        ],
        "devices": [{"name": "RTX 4090", "vendor": "NVIDIA", "kind": "consumer", "memory_bytes": 24 * 2**30,
                     "memory_options_bytes": [24 * 2**30]}],
        "hosted": [{"model_id": "org/model-0", "provider": "x", "usd_per_m_input": 0.1, "usd_per_m_output": 0.3}],
        "scores": [{"model_id": "org/model-0", "benchmark": "aa_index", "value": 40}],
        "closed_models": [{"id": "closed:a/b", "name": "B", "vendor": "A"}],
    }


def _bytes(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def test_a_good_document_passes_both_ways():
    catalog = validate_catalog_bytes(_bytes(_doc()))
    check_sanity(catalog)
    assert [len(m.quants) for m in catalog.models] == [3, 3, 3], "one name in two repos is two quants"


BAD = [
    (lambda d: d["models"][1].update(num_layers=-3), r"^\$\.models\[1\]\.num_layers is -3; it must be at least 1$"),
    (lambda d: d["models"][2].update(params_total_b=-7.5), r"^\$\.models\[2\]\.params_total_b is -7\.5; it must be"),
    (lambda d: d["hosted"][0].update(usd_per_m_output=-1.0), r"^\$\.hosted\[0\]\.usd_per_m_output is -1\.0; it"),
    (lambda d: d["scores"][0].update(value=-0.5), r"^\$\.scores\[0\]\.value is -0\.5; it must be"),
    (lambda d: d["devices"][0].update(memory_options_bytes=[1, -2]),
     r"^\$\.devices\[0\]\.memory_options_bytes\[1\] is -2; it must be"),
    (lambda d: d["models"][0]["quants"][2].update(file_size_bytes=-1),
     r"^\$\.models\[0\]\.quants\[2\]\.file_size_bytes is -1; it must be"),
    (lambda d: d["models"][1]["quants"][0].update(bits_per_weight=0),
     r"^\$\.models\[1\]\.quants\[0\]\.bits_per_weight is 0\.0; it must be at least 0\.5$"),
    (lambda d: d["models"][1]["quants"][0].update(file_size_bytes=-1),
     r"^\$\.models\[1\]\.quants\[0\]\.file_size_bytes is -1; it must be a non-negative number$"),
    (lambda d: d["models"].append(dict(d["models"][0])), r"^catalog lists model id 'org/model-0' twice$"),
    (lambda d: d["models"][2].update(id="  "), r"^\$\.models\[2\]\.id is empty$"),
    (lambda d: d["models"][1]["quants"].append(dict(d["models"][1]["quants"][2])),
     r"^catalog lists quant of org/model-1 'BF16/someone/model-GGUF' twice$"),
    (lambda d: d["models"][1]["quants"].append(dict(d["models"][1]["quants"][0])),
     r"^catalog lists quant of org/model-1 'Q4_K_M' twice$"),
    (lambda d: d["devices"].append(dict(d["devices"][0])), r"^catalog lists device name 'RTX 4090' twice$"),
    (lambda d: d["closed_models"].append(dict(d["closed_models"][0])), r"^catalog lists closed model id"),
    (lambda d: d.update(models=[]), r"^catalog has no models$"),
    (lambda d: d.update(sequence=-1), r"^catalog sequence -1 is negative$"),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD)
def test_a_bad_document_is_refused_with_the_record_named(mutate, expected):
    doc = _doc()
    mutate(doc)
    with pytest.raises(CatalogError, match=expected):
        validate_catalog_bytes(_bytes(doc))


@pytest.mark.parametrize(("mutate", "expected"), BAD)
def test_a_catalog_built_in_python_gets_the_same_sentence(mutate, expected):
    doc = _doc()
    mutate(doc)
    # Built without the decoder's checks, as the feed builder builds its catalogs.
    built = Catalog(
        schema_version=doc["schema_version"], generated_at=doc["generated_at"], sequence=doc["sequence"],
        models=[Model(**{**m, "quants": [Quant(**q) for q in m["quants"]]}) for m in doc["models"]],
        devices=[Device(**r) for r in doc["devices"]],
        hosted=[HostedOffer(**r) for r in doc["hosted"]],
        scores=[Score(**r) for r in doc["scores"]],
        closed_models=[ClosedModel(**r) for r in doc["closed_models"]],
    )
    with pytest.raises(CatalogError, match=expected):
        check_sanity(built)


def test_built_catalogs_refuse_what_json_cannot_hold():
    catalog = validate_catalog_bytes(_bytes(_doc()))
    for bad in (float("nan"), float("inf")):
        model = msgspec.structs.replace(catalog.models[0], params_total_b=bad)
        with pytest.raises(CatalogError, match=r"\$\.models\[0\]\.params_total_b is (nan|inf)"):
            check_sanity(msgspec.structs.replace(catalog, models=[model, *catalog.models[1:]]))


def test_a_number_too_large_for_a_float_is_refused():
    body = _bytes(_doc()).replace(b'"params_total_b": 7.0', b'"params_total_b": 1e999', 1)
    with pytest.raises(CatalogError, match="out of range"):
        validate_catalog_bytes(body)


@pytest.mark.parametrize("where", [10, UTF8_CHUNK_BYTES - 1, UTF8_CHUNK_BYTES + 5, 3 * UTF8_CHUNK_BYTES + 17,
                                   (1 << 20) + 5, 3 * (1 << 20) + 17])
def test_invalid_utf8_is_refused_with_its_offset_in_any_chunk(where):
    doc = _doc()
    doc["padding"] = "x" * (4 << 20)  # an unknown key: ignored by the decoder, still checked as text
    body = bytearray(_bytes(doc))
    offset = body.index(b"xxxx") + where
    body[offset] = 0xFF
    with pytest.raises(CatalogError, match=rf"not valid UTF-8 text \(byte {offset}\)"):
        validate_catalog_bytes(bytes(body))


def test_a_character_split_across_chunks_is_fine():
    doc = _doc()
    doc["padding"] = "x" * (UTF8_CHUNK_BYTES - 30) + "é—€" * 20 + "x" * (3 * UTF8_CHUNK_BYTES) + "€"
    assert validate_catalog_bytes(_bytes(doc))


def test_ascii_and_non_ascii_text_are_both_accepted():
    assert validate_catalog_bytes(_bytes(_doc())) == validate_catalog_bytes(_bytes(_doc()))
    doc = _doc()
    doc["models"][0]["name"] = "Modèle — 7B"
    assert validate_catalog_bytes(_bytes(doc)).models[0].name == "Modèle — 7B"


@pytest.mark.parametrize(("expires_at", "now", "until"), [
    (None, "2026-12-03T12:00:00Z", None),
    ("not a date", "2026-12-03T12:00:00Z", None),
    ("2026-12-03T15:00:00Z", "2026-12-03T12:00:00Z", "2026-12-03T15:00:00Z"),  # not yet: the warning starts then
    ("2026-12-03T10:00:00Z", "2026-12-03T12:00:00Z", "2026-12-04T10:00:00Z"),  # "today" until a day has passed
    ("2026-11-30T10:00:00Z", "2026-12-03T12:00:00Z", "2026-12-04T10:00:00Z"),  # "3 days ago" until the 4th day
])
def test_the_expiry_sentence_changes_when_expiry_warning_until_says(expires_at, now, until):
    from datetime import timedelta

    from rigcheck.catalog.cache import expiry_warning, expiry_warning_until, parse_time

    catalog = msgspec.structs.replace(validate_catalog_bytes(_bytes(_doc())), expires_at=expires_at)
    moment = parse_time(now)
    assert expiry_warning_until(catalog, moment) == (parse_time(until) if until else None)
    if until:
        change = parse_time(until)
        assert expiry_warning(catalog, change - timedelta(seconds=1)) != expiry_warning(
            catalog, change + timedelta(seconds=1))
        assert expiry_warning(catalog, moment) == expiry_warning(catalog, change - timedelta(seconds=1))
