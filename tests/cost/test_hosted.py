"""Hosted offers: what a workload pays per output token, the cheapest three ways, residency levels, closed comparators."""

from __future__ import annotations

import pytest

from rigcheck.catalog import hosted
from rigcheck.catalog.hosted import TokenMix
from rigcheck.catalog.records import Catalog, ClosedModel, HostedOffer, Score


def offer(provider, inp, out, cached=None, **kw):
    return HostedOffer(model_id=kw.pop("model_id", "org/open-model"), provider=provider, usd_per_m_input=inp,
                       usd_per_m_output=out, usd_per_m_cached_input=cached, **kw)


def catalog(*offers, scores=(), closed=()):
    return Catalog(schema_version="1.0", generated_at="2026-11-01T00:00:00Z", hosted=list(offers),
                   scores=list(scores), closed_models=list(closed))


@pytest.mark.parametrize(
    "inp, out, cached, mix, expected, why",
    [
        (1.0, 2.0, None, TokenMix(0, 0), 2.0, "no input: output price alone"),
        (1.0, 2.0, None, TokenMix(3, 0), 5.0, "3 input tokens per output at $1/M add $3"),
        (1.0, 2.0, 0.1, TokenMix(3, 0.5), 2.0 + 3 * (0.5 * 1.0 + 0.5 * 0.1), "half the input at the cached price"),
        (1.0, 2.0, None, TokenMix(3, 0.5), 5.0, "no cached price published: no discount assumed"),
    ],
)
def test_workload_price_per_m_output(inp, out, cached, mix, expected, why):
    assert hosted.workload_usd_per_m_output(offer("p", inp, out, cached), mix) == pytest.approx(expected), why


def test_cheapest_depends_on_the_mix_and_on_the_measure():
    cheap_out = offer("cheap-out", 2.0, 1.0)
    cheap_in = offer("cheap-in", 0.1, 1.5)
    offers = [cheap_out, cheap_in]
    assert hosted.cheapest_offer(offers, TokenMix(0, 0)).provider == "cheap-out"
    assert hosted.cheapest_offer(offers, TokenMix(10, 0)).provider == "cheap-in"
    assert hosted.cheapest_offer(offers, TokenMix(10, 0), by="output").provider == "cheap-out"
    by_blend = hosted.cheapest_offer(offers, price=lambda o: (3 * o.usd_per_m_input + o.usd_per_m_output) / 4)
    assert by_blend.provider == "cheap-in", "a given price (the rules' blended one) decides"


def test_free_offers_are_not_the_cheapest():
    offers = [offer("promo", 0.0, 0.0), offer("paid", 0.5, 1.0)]
    assert hosted.cheapest_offer(offers).provider == "paid"
    assert hosted.cheapest_offer([offer("promo", 0.0, 0.0)]) is None


def test_residency_levels_filter_and_sovereign_has_no_hosted_offer():
    anywhere = offer("a", 0.1, 0.2)
    eu = offer("eu", 0.5, 1.0, residency="region", region="EU")
    contract = offer("nt", 0.9, 2.0, no_training=True, region="US")
    offers = [anywhere, eu, contract]
    assert hosted.cheapest_offer(offers, residency="anywhere").provider == "a"
    assert hosted.cheapest_offer(offers, residency="region").provider == "eu"
    assert hosted.cheapest_offer(offers, residency="region", region="us").provider == "nt"
    assert hosted.cheapest_offer(offers, residency="no-training").provider == "nt"
    assert hosted.cheapest_offer(offers, residency="sovereign") is None
    assert hosted.offer_residency(contract) == "no-training"
    assert hosted.offer_residency(anywhere) == "unknown"


def test_every_level_has_one_sentence_and_unknown_levels_are_refused():
    for level in (*hosted.RESIDENCY_LEVELS, "unknown"):
        text = hosted.explain_residency(level)
        assert text.endswith(".") and text.count(". ") == 0, level
    with pytest.raises(ValueError, match="sovereign"):
        hosted.explain_residency("moon")


def test_token_mix_rejects_nonsense():
    with pytest.raises(ValueError):
        TokenMix(-1, 0)
    with pytest.raises(ValueError):
        TokenMix(1, 1.5)


def test_scores_keep_the_best_entry_per_benchmark():
    cat = catalog(scores=[Score(model_id="org/open-model", benchmark="aider_polyglot", value=60.0),
                          Score(model_id="org/open-model", benchmark="aider_polyglot", value=71.6),
                          Score(model_id="org/other", benchmark="aider_polyglot", value=99.0)])
    best = hosted.scores_for(cat, "org/open-model")
    assert best["aider_polyglot"].value == 71.6 and len(best) == 1


def test_comparators_put_shared_benchmarks_first_then_the_more_capable_and_derive_unlisted_closed_models():
    cat = catalog(
        offer("p", 1.0, 2.0),
        offer("openai", 1.25, 10.0, model_id="closed:openai/gpt-5"),
        offer("anthropic", 3.0, 15.0, model_id="closed:anthropic/claude-sonnet-4.5"),
        scores=[Score(model_id="org/open-model", benchmark="swe_bench_verified", value=68.0),
                Score(model_id="closed:anthropic/claude-sonnet-4.5", benchmark="swe_bench_verified", value=77.2),
                Score(model_id="closed:openai/gpt-5", benchmark="aider_polyglot", value=88.0)],
        closed=[ClosedModel(id="closed:anthropic/claude-sonnet-4.5", name="Claude Sonnet 4.5", vendor="anthropic")],
    )
    comps = hosted.frontier_comparators(cat, "org/open-model")
    assert [c.model.id for c in comps] == ["closed:anthropic/claude-sonnet-4.5", "closed:openai/gpt-5"]
    # Nothing shared: the more capable first, whatever the price (gpt-5 costs less here).
    ranked = hosted.frontier_comparators(cat, None, capability={"closed:openai/gpt-5": 99.0,
                                                                "closed:anthropic/claude-sonnet-4.5": 88.0}.get)
    assert [c.model.id for c in ranked] == ["closed:openai/gpt-5", "closed:anthropic/claude-sonnet-4.5"]
    unscored = hosted.frontier_comparators(cat, None, capability={"closed:anthropic/claude-sonnet-4.5": 1.0}.get)
    assert [c.model.id for c in unscored] == ["closed:anthropic/claude-sonnet-4.5", "closed:openai/gpt-5"]
    assert comps[0].shared_benchmarks == ("swe_bench_verified",)
    assert comps[1].model.vendor == "openai" and comps[1].model.name == "gpt-5"
    assert comps[1].offer.usd_per_m_output == 10.0


def test_offer_json_explains_residency_and_carries_the_blended_price_given():
    data = hosted.offer_to_dict(offer("a", 0.5, 2.0, region="EU"), 0.875)
    assert data["usd_per_m_blended"] == 0.875 and "usd_per_m_output_all_in" not in data
    assert data["residency"] == "region"
    assert data["residency_explained"] == hosted.RESIDENCY_EXPLANATIONS["region"]
    assert "usd_per_m_blended" not in hosted.offer_to_dict(offer("a", 0.5, 2.0))
