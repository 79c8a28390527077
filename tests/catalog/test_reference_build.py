"""The builder of the embedded catalog: pattern parsing rules, bad input refused with one sentence, and the
committed catalog.json equal to a fresh build (nobody edits the generated file by hand)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rigcheck.catalog.records import decode_catalog, encode_catalog
from rigcheck.catalog.sources.reference.build import (
    DEFAULT_REFERENCE_DIR,
    SUPPLEMENT_DIR,
    build,
    main,
    sequence_from_timestamp,
)
from rigcheck.catalog.sources.reference.cells import BuildError
from rigcheck.catalog.sources.reference.closed_models import closed_model_from_id
from rigcheck.catalog.sources.reference.models import gdn_state_bytes, parse_layer_pattern
from rigcheck.catalog.store import embedded_catalog_path

REFERENCE = DEFAULT_REFERENCE_DIR
needs_reference = pytest.mark.skipif(not (REFERENCE / "models.csv").is_file(), reason="shared reference not present")


@pytest.mark.parametrize(
    ("pattern", "layers", "expected", "why"),
    [
        ("cycle of 4: 3 Gated DeltaNet (linear) + 1 gated full attention -> 12 of 48 layers hold KV cache", 48, 12,
         "1 in 4"),
        ("cycle of 4: 3 sliding (4096) + 1 full", 32, 8, "Olmo 3"),
        ("5 local sliding : 1 global", 62, 11, "Gemma 3 27B: 62/6 rounded up"),
        ("5 local sliding (1024) : 1 global; global layers: 4 KV heads, head_dim 512", 60, 10, "Gemma 4 31B"),
        ("4 local sliding (512) : 1 global; 20 KV-shared layers; global head_dim 512", 35, 7, "Gemma 4 E2B"),
        ("alternating 1 local sliding (4096) : 1 global", 26, 13, "Gemma 2"),
        ("alternating 1 sliding (128) : 1 full attention", 36, 18, "gpt-oss"),
        ("every 4th layer global NoPE attention; other layers chunked local attention (chunk 8192)", 48, 12,
         "Llama 4"),
        ("23 Mamba-2 + 23 MoE + 6 attention layers (only 6 layers hold KV cache)", 52, 6, "Nemotron 3 Nano"),
        ("Qwen3.5 family uses 3 Gated DeltaNet : 1 full attention (per MaxText qwen3.5 configs)", 64, 16,
         "Qwen3.5 dense"),
        ("local sliding (512) / global mix; 18 KV-shared layers; global head_dim 512", 42, None, "no ratio given"),
        ("", 40, None, "no pattern"),
        ("cycle of 4: 3 sliding + 1 full", None, None, "no layer count"),
    ],
)
def test_parse_layer_pattern(pattern, layers, expected, why):
    assert parse_layer_pattern(pattern, layers).full_attention_layers == expected, why


def test_global_layer_dims():
    parsed = parse_layer_pattern("5 local sliding (1024) : 1 global; global layers: 2 KV heads, head_dim 512", 30)
    assert (parsed.global_kv_heads, parsed.global_head_dim) == (2, 512)


def test_gdn_state_bytes():
    assert gdn_state_bytes("cycle of 4 ...; GDN 16 key heads/32 value heads, head dim 128") == 32 * 128 * 128 * 2
    assert gdn_state_bytes("cycle of 4: 3 Gated DeltaNet + 1 full attention") is None


@needs_reference
def test_committed_catalog_equals_a_fresh_build():
    committed = decode_catalog(embedded_catalog_path().read_bytes())
    # The sequence is left to its default (generated_at as YYYYMMDDHHMM) so a hand-set sequence fails here too.
    fresh = build(generated_at=committed.generated_at)
    assert encode_catalog(fresh) == encode_catalog(committed), (
        "catalog.json is stale or hand-edited: run `python -m rigcheck.catalog.sources.reference "
        f"--generated-at {committed.generated_at}`"
    )


@pytest.fixture()
def inputs(tmp_path):
    """A copy of the reference and supplement folders that a test may break."""
    if not (REFERENCE / "models.csv").is_file():
        pytest.skip("shared reference not present")
    ref = tmp_path / "reference"
    sup = tmp_path / "supplement"
    shutil.copytree(REFERENCE, ref)
    shutil.copytree(SUPPLEMENT_DIR, sup)
    return ref, sup


def _append(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\r\n") + "\n" + line + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        ("supplement/model_overrides.csv", "nobody/Nothing,params_total_b,1,x,", "unknown models"),
        ("supplement/model_overrides.csv", "Qwen/Qwen3-8B,colour,blue,x,", "unknown field 'colour'"),
        ("supplement/model_overrides.csv", "Qwen/Qwen3-8B,num_layers,many,x,", "'many' is not a valid value"),
        ("supplement/model_overrides.csv", "Qwen/Qwen3-8B,num_layers,36.5,x,", "'36.5' is not a valid value"),
        ("supplement/variants.csv", "a/B,c/Missing,,,,,src,note", "unknown base 'c/Missing'"),
        ("supplement/quant_files.csv", "Qwen/Qwen3-8B,Q4_K_M,gguf,,,,src,", "has no file_size_bytes"),
        ("supplement/device_overrides.csv", "No Such GPU,launch_price_usd,1,src", "unknown device 'No Such GPU'"),
        ("supplement/scores.csv", "Qwen/Qwen3-8B,elo,1200,2026,src,", "unknown benchmark 'elo'"),
        ("supplement/closed_models.csv", "closed:x/y,Y,X,src,extra,fields", "more fields than the header"),
        ("reference/gpu_rental.csv", "Unobtainium 9000,1,1.0,,acme,2026,src,", "matches no device"),
    ],
)
def test_bad_input_is_one_clear_error(inputs, file, line, message):
    ref, sup = inputs
    _append((ref if file.startswith("reference/") else sup) / file.split("/", 1)[1], line)
    with pytest.raises(BuildError, match=message):
        build(ref, sup, generated_at="2026-01-01T00:00:00Z")


def test_missing_file(inputs):
    ref, sup = inputs
    (sup / "variants.csv").unlink()
    with pytest.raises(BuildError, match="variants.csv is missing"):
        build(ref, sup)


def test_main_writes_a_valid_catalog_and_reports_errors(inputs, tmp_path, capsys):
    ref, sup = inputs
    out = tmp_path / "catalog.json"
    assert main(["--reference", str(ref), "--supplement", str(sup), "--output", str(out),
                 "--generated-at", "2026-01-01T00:00:00Z", "--sequence", "7"]) == 0
    built = decode_catalog(out.read_bytes())
    assert built.sequence == 7 and built.source == "embedded" and len(built.models) >= 100
    assert "wrote" in capsys.readouterr().out
    (sup / "quant_files.csv").write_text("model_id,quant\nnobody/x,Q4_K_M\n", encoding="utf-8")
    assert main(["--reference", str(ref), "--supplement", str(sup), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("catalog build failed: ") and err.count("\n") == 1
    assert decode_catalog(out.read_bytes()).sequence == 7, "a failed build leaves the previous file"


def test_committed_sequence_follows_the_feed_scheme():
    """The embedded sequence is its build time as YYYYMMDDHHMM, as refreshed feeds number themselves, so newer
    embedded data in an app update outranks an older cached feed (store and refresh compare sequences)."""
    committed = decode_catalog(embedded_catalog_path().read_bytes())
    assert committed.sequence == sequence_from_timestamp(committed.generated_at)
    assert committed.sequence >= 202601010000


@pytest.mark.parametrize(
    ("timestamp", "sequence"),
    [
        ("2026-11-29T00:00:00+00:00", 202611290000),
        ("2026-01-01T00:00:00Z", 202601010000),
        ("2026-03-05T23:59:59", 202603052359),  # no offset: taken as UTC
        ("2026-03-06T01:30:00+02:00", 202603052330),  # converted to UTC
    ],
)
def test_sequence_from_timestamp(timestamp, sequence):
    assert sequence_from_timestamp(timestamp) == sequence


def test_main_defaults_the_sequence_to_generated_at_and_refuses_bad_timestamps(inputs, tmp_path, capsys):
    ref, sup = inputs
    out = tmp_path / "catalog.json"
    assert main(["--reference", str(ref), "--supplement", str(sup), "--output", str(out),
                 "--generated-at", "2026-02-03T04:05:06Z"]) == 0
    assert decode_catalog(out.read_bytes()).sequence == 202602030405
    capsys.readouterr()
    assert main(["--reference", str(ref), "--supplement", str(sup), "--output", str(out),
                 "--generated-at", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert err == "catalog build failed: generated_at 'yesterday' is not an ISO 8601 timestamp\n"
    assert decode_catalog(out.read_bytes()).sequence == 202602030405, "a failed build leaves the previous file"


@pytest.mark.parametrize(
    ("model_id", "name", "vendor"),
    [("closed:openai/gpt-5-mini", "GPT-5 mini", "OpenAI"), ("closed:anthropic/claude-sonnet-4.5", "Claude Sonnet 4.5",
                                                              "Anthropic"),
     ("closed:google/gemini-2.5-pro", "Gemini 2.5 Pro", "Google"), ("closed:xai/grok-4", "Grok 4", "xAI"),
     ("closed:acme/thing-1", "thing 1", "acme")],
)
def test_closed_model_names(model_id, name, vendor):
    closed = closed_model_from_id(model_id)
    assert (closed.id, closed.name, closed.vendor) == (model_id, name, vendor)
