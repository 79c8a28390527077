"""find_model: ids, aliases and unambiguous parts, case-insensitive; clear refusals with suggestions."""

from __future__ import annotations

import pytest

from rigcheck.catalog import devices
from rigcheck.catalog.lookup import ModelLookupError, find_model
from rigcheck.catalog.records import Catalog, Model
from rigcheck.catalog.store import load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize(
    ("query", "expected", "why"),
    [
        ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B", "exact id"),
        ("META-LLAMA/llama-3.1-8b", "meta-llama/Llama-3.1-8B", "case-insensitive id"),
        ("Qwen3-30B-A3B", "Qwen/Qwen3-30B-A3B", "name without the organisation (the Coder sibling also contains it)"),
        ("glm-5.2", "zai-org/GLM-5.2", "whole name"),
        ("GLM-5", "zai-org/GLM-5", "whole name wins over GLM-5.1 and GLM-5.2 that contain it"),
        ("gpt-oss-120", "openai/gpt-oss-120b", "unambiguous part"),
        ("deepseek-r1-distill-llama-70", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "unambiguous part"),
        ("  phi-4 ", "microsoft/phi-4", "surrounding spaces"),
    ],
)
def test_find_model(catalog, query, expected, why):
    assert find_model(catalog, query).id == expected, why


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("qwen3", "matches .* models"),
        ("llama", "matches .* models"),
        ("", "empty model name"),
        ("glm-5.9-ultra", "unknown model 'glm-5.9-ultra'; did you mean: .*GLM-5"),
        ("zzzzzz", "unknown model"),
    ],
)
def test_find_model_refuses(catalog, query, message):
    with pytest.raises(ModelLookupError, match=message):
        find_model(catalog, query)


def test_aliases_and_ambiguous_exact_names():
    a = Model(id="org-a/Thing-7B", family="thing", aliases=["thing-small"])
    b = Model(id="org-b/Thing-7B", family="thing")
    catalog = Catalog(schema_version="1.0", generated_at="2026-01-01T00:00:00Z", models=[a, b])
    assert find_model(catalog, "THING-SMALL").id == "org-a/Thing-7B"
    with pytest.raises(ModelLookupError, match="ambiguous.*org-a/Thing-7B, org-b/Thing-7B"):
        find_model(catalog, "thing-7b")


def test_reexported_from_devices(catalog):
    # The contract names find_model and ModelLookupError in rigcheck.catalog.devices.
    assert devices.find_model is find_model and devices.ModelLookupError is ModelLookupError
    assert issubclass(ModelLookupError, ValueError)
