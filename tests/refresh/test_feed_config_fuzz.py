"""Property: any config.json the Hub could send yields a sane Model or one FeedInvalid, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from rigcheck.catalog.cache import check_record_numbers
from rigcheck.catalog.net import FeedInvalid
from rigcheck.catalog.records import Model
from rigcheck.catalog.sources.huggingface import model_from_config

HF = Path(__file__).parents[1] / "data" / "recorded" / "huggingface"
CONFIGS = [json.loads(p.read_text()) for p in sorted(HF.glob("*.config.json"))]
KEYS = sorted({k for c in CONFIGS for k in c} | {k for c in CONFIGS for k in c.get("text_config", {})}
              | {"layer_types", "no_rope_layers", "attention_chunk_size", "sliding_window_pattern"})

values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.sampled_from(["full_attention", "sliding_attention", "linear_attention",
                                                    0, 1, None, "x"]), max_size=64),
    st.dictionaries(st.sampled_from(KEYS), st.integers(-5, 10**6), max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(CONFIGS), changes=st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
       nest=st.booleans())
def test_mutated_config_never_crashes(base, changes, nest):
    config = json.loads(json.dumps(base))
    target = config["text_config"] if nest and isinstance(config.get("text_config"), dict) else config
    target.update(changes)
    try:
        model = model_from_config("org/repo", config, params_total=1_000_000_000)
    except FeedInvalid as exc:
        assert "does not describe a transformer" in str(exc) or "is not valid: " in str(exc)
        return
    check_record_numbers(model, "model")  # no negative or non-finite number gets into a feed
    msgspec.json.decode(msgspec.json.encode(model), type=Model)  # and it round-trips through the cache
    assert model.num_layers > 0 and model.hidden_size > 0 and model.num_attention_heads > 0
