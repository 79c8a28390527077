"""``rigcheck hosted`` and ``rigcheck cost`` end to end, on the embedded catalog and the real estimator."""

from __future__ import annotations

import json

import pytest

from rigcheck.cli.main import main


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _glm5_rented(capsys, concurrency: int) -> dict:
    data = run_json(capsys, "cost", "--model", "zai-org/GLM-5", "--gpu", "8 x H200", "--ram", "2TB",
                    "--quant", "FP8", "--tokens-per-day", "0,2G", "--utilization", "1", "--concurrency",
                    str(concurrency), "--json")
    return data


def test_glm5_on_a_rented_8x_h200_node_at_full_utilization_lands_in_2_to_4_usd(capsys):
    """Issue 5's check: GLM-5 (744B total, 40B active, FP8) self-hosted on a rented 8x H200 node kept
    saturated costs $2-4 per M output tokens at the catalog's typical H200 price ($4/GPU-hour, the
    median of the offers' midpoints), against the catalog's cheapest hosted output price ($2.56/M).

    Busy every hour at 128 concurrent requests (vLLM, tensor parallel over 8 GPUs). Each decode step reads the
    routed experts once for the whole batch (at 128 sequences nearly all 256 experts are touched, ~740 GB per
    step), so the step time grows slowly with the batch and the cost per token falls almost in proportion to
    it; saturated (the engine's 1,024 sequences) it falls further."""
    data = _glm5_rented(capsys, 128)
    doors = {d["door"]: d for d in data["doors"]}
    rented = doors["rented"]
    assert rented["unavailable_reason"] is None
    band = rented["usd_per_m_output_tokens_at_full_utilization"]
    at_full = band["expected"]
    assert 2.0 <= at_full <= 4.0, at_full
    # the band spans the catalog's cheapest and dearest H200 offers (and the estimator's speed band)
    assert band["low"] < 2.56 < band["high"]
    # 2 G tokens/day need whole nodes: the bill for the workload is at least the saturated figure
    assert rented["usd_per_m_output_tokens"] >= at_full * (1 - 1e-6)
    hosted = doors["hosted"]
    assert hosted["usd_per_m_output_tokens"] == pytest.approx(2.08)  # cheapest GLM-5 output price listed (DeepInfra)
    assert any("wall-clock" in a for a in rented["assumptions"])
    assert any("at 128 concurrent requests" in a for a in rented["assumptions"])
    assert any("tensor parallel over 8 GPUs" in a for a in rented["assumptions"])
    assert rented["usd_per_m_output_tokens_saturated"]["expected"] < at_full
    # the node can only match the hosted endpoint when it is kept (nearly) saturated
    breaks = {b["door"]: b for b in data["break_even"]}
    assert breaks["rented"]["never"] or breaks["rented"]["wins_from_utilization"] > 0.9
    assert breaks["hosted"]["wins_from_utilization"] == 0.0


def test_glm5_rented_cost_falls_with_the_batch_the_traffic_sustains(capsys):
    """Batching is where a dedicated node's cost per token comes from: at 16 concurrent requests the
    same saturated node costs several times more per token than at 128."""
    small = _glm5_rented(capsys, 16)["doors"][1]["usd_per_m_output_tokens_at_full_utilization"]["expected"]
    large = _glm5_rented(capsys, 128)["doors"][1]["usd_per_m_output_tokens_at_full_utilization"]["expected"]
    assert small > 2.5 * large


def test_cost_json_contract(capsys):
    data = run_json(capsys, "cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--ram", "64GB",
                    "--tokens-per-day", "20M,2M", "--utilization", "0.5", "--json")
    assert data["schema"] == "rigcheck.cost/1"
    assert [d["door"] for d in data["doors"]] == ["hosted", "rented", "owned"]
    for door in data["doors"]:
        assert {"door", "usd_per_m_output_tokens", "monthly_usd", "assumptions"} <= set(door)
        assert door["assumptions"] and all(isinstance(a, str) for a in door["assumptions"])
        if door["usd_per_m_output_tokens"] is not None:
            assert door["usd_per_m_output_tokens"] >= 0 and door["monthly_usd"] >= 0
    assert data["workload"]["input_tokens_per_day"] == 20_000_000
    owned = data["doors"][2]
    assert owned["purchase_usd"] == 1599.0  # the RTX 4090's launch price from the device table
    assert isinstance(data["break_even"], list) and data["break_even"]
    for entry in data["break_even"]:
        assert entry["sentence"]


def test_cost_human_output_names_doors_and_break_even(capsys):
    assert main(["cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--ram", "64GB"]) == 0
    out = capsys.readouterr().out
    assert "hosted" in out and "rented" in out and "owned" in out and "Break-even" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cost", "--model", "no-such-model-xyz", "--gpu", "RTX 4090"], "no-such-model-xyz"),
        (["cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--quant", "Q9_Z"], "no quant 'Q9_Z'"),
        (["cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--tokens-per-day", "5M"], "IN,OUT"),
        (["cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--utilization", "1.5"], "between 0 and 1"),
        (["cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--utilization", "0"], "utilization"),
        (["cost", "--model", "Qwen/Qwen3-8B", "--gpu", "Unobtainium 9000"], "unknown GPU"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_sovereign_residency_rules_out_the_hosted_door(capsys):
    data = run_json(capsys, "cost", "--model", "Qwen/Qwen3-8B", "--gpu", "RTX 4090", "--ram", "64GB",
                    "--residency", "sovereign", "--json")
    hosted = data["doors"][0]
    assert hosted["usd_per_m_output_tokens"] is None
    assert "sovereignty" in hosted["unavailable_reason"]
    assert "never leaves the building" in data["residency"]["explained"]


def test_hosted_for_one_model(capsys):
    data = run_json(capsys, "hosted", "--model", "zai-org/GLM-5", "--json")
    assert data["schema"] == "rigcheck.hosted/1"
    providers = {o["provider"] for o in data["offers"]}
    assert {"openrouter", "baseten", "zai"} <= providers
    assert data["cheapest_output"]["usd_per_m_output"] == pytest.approx(2.08)  # DeepInfra, supplement
    blended = [o["usd_per_m_blended"] for o in data["offers"]]
    assert blended == sorted(blended), "cheapest blended price first"
    assert data["cheapest_blended"]["usd_per_m_blended"] == blended[0]
    assert all("usd_per_m_output_all_in" not in o for o in data["offers"])
    assert data["comparators"] and all(c["model_id"].startswith("closed:") for c in data["comparators"])
    assert set(data["residency_levels"]) == {"anywhere", "region", "no-training", "sovereign"}


def test_hosted_overview(capsys):
    data = run_json(capsys, "hosted", "--json")
    ids = [m["model_id"] for m in data["models"]]
    assert "zai-org/GLM-5" in ids and len(ids) == len(set(ids))
    assert all(m["cheapest_blended"] is not None for m in data["models"])
    for m in data["models"]:
        o = m["cheapest_blended"]
        assert o["usd_per_m_blended"] == pytest.approx((3 * o["usd_per_m_input"] + o["usd_per_m_output"]) / 4,
                                                        abs=1e-6)
    assert data["blend"]["input_per_output"] == 3.0
    assert data["closed_models"]


@pytest.mark.parametrize(("model_id", "benchmarks"), [
    # Scored on several capability benchmarks: the rules' mean of them, "other" entries left out.
    ("closed:openai/gpt-5", ["aa_index", "swe_bench_verified", "aider_polyglot"]),
    ("closed:anthropic/claude-sonnet-4.5", ["aa_index", "swe_bench_verified"]),
    ("closed:openai/o3", ["aider_polyglot"]),  # one benchmark: the capability rests on it alone
    ("closed:openai/gpt-5-mini", None),  # no score on a capability benchmark: no capability, never another number
])
def test_hosted_closed_models_carry_the_rules_capability(capsys, model_id, benchmarks):
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.rules import capabilities

    expected = capabilities(load_catalog().scores).get(model_id)
    data = run_json(capsys, "hosted", "--json")
    closed = next(c for c in data["closed_models"] if c["model_id"] == model_id)
    if benchmarks is None:
        assert expected is None and closed["capability"] is None
    else:
        assert closed["capability"] == {"value": expected.value, "benchmarks": benchmarks, "basis": expected.basis}
    assert main(["hosted"]) == 0
    out = capsys.readouterr().out
    closed_table = out[out.index("Closed frontier models"):out.index("Residency levels")]
    row = next(line for line in closed_table.splitlines() if line.startswith(model_id + " "))
    assert "other" not in row and "aa_index" not in row, "no raw, mixed benchmark list in the score column"
    assert row.rstrip().endswith(f"{expected.value:.0f} ({expected.short_basis})" if expected else " -")
    assert "capability = the mean" in closed_table


def test_hosted_closed_models_are_listed_most_capable_first(capsys):
    data = run_json(capsys, "hosted", "--json")
    assert main(["hosted"]) == 0
    out = capsys.readouterr().out
    lines = out[out.index("Closed frontier models"):].splitlines()[3:3 + len(data["closed_models"])]
    values = {c["model_id"]: (c["capability"] or {}).get("value") for c in data["closed_models"]}
    shown = [values[line.split()[0]] for line in lines]
    scored = [v for v in shown if v is not None]
    assert scored == sorted(scored, reverse=True) and shown[:len(scored)] == scored, "unscored after scored"


@pytest.mark.parametrize("model", [
    "Qwen/Qwen3-32B",  # scored on Aider polyglot only: once listed 88, 99, 82, 65, 59, 88, 34 under "larger first"
    "moonshotai/Kimi-K2-Instruct",  # comparators sharing two of its benchmarks, then one, then none
    "zai-org/GLM-4.7",  # an "other" score is no benchmark two models share (it counted as one, ahead of capability)
    "microsoft/phi-4",  # no capability score: nothing shared, the most capable first
])
def test_hosted_lists_a_models_comparators_in_the_order_it_states(capsys, model):
    from rigcheck.catalog.hosted import COMPARATOR_ORDER

    data = run_json(capsys, "hosted", "--model", model, "--json")
    comparators = data["comparators"]

    def price(c):
        return c["offer"]["usd_per_m_blended"] if c["offer"] else float("inf")

    def value(c):
        return (c["capability"] or {}).get("value")

    keys = [(-len(c["shared_benchmarks"]), value(c) is None, -(value(c) or 0.0), price(c)) for c in comparators]
    assert all("other" not in c["shared_benchmarks"] for c in comparators)
    assert keys == sorted(keys), "shared benchmarks first, then the most capable (unscored after), then the cheaper"
    assert main(["hosted", "--model", model]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Closed frontier comparators"):out.index("Residency levels")].splitlines()
    assert table[0] == f"Closed frontier comparators: {COMPARATOR_ORDER}"
    assert [line.split()[0] for line in table[3:3 + len(comparators)]] == [c["model_id"] for c in comparators]
    footnote = next(line for line in table if line.startswith("(capability = "))
    assert "larger first" not in footnote and "ordered" not in footnote, "the footnote defines, it does not order"


def test_concurrency_is_bounded_by_the_kv_pool_that_fits(capsys):
    """Long requests (64k input tokens a request: 128M input per 1M output a day, 512 output tokens each) each
    reserve ~5.6 GiB of GLM-5's latent KV cache on every GPU: 8x H200 runs far fewer than the 512 concurrent
    requests asked for, and the door is priced at what it does run."""
    data = run_json(capsys, "cost", "--model", "zai-org/GLM-5", "--gpu", "8 x H200", "--ram", "2TB",
                    "--quant", "FP8", "--tokens-per-day", "128M,1M", "--concurrency", "512", "--json")
    rented = data["doors"][1]
    assert 1 <= rented["concurrency"] == rented["max_concurrency"] < 512
    assert any(f"the node runs {rented['max_concurrency']:,} at once" in a for a in rented["assumptions"])


def test_hosted_for_a_closed_model_and_an_unknown_one(capsys):
    data = run_json(capsys, "hosted", "--model", "closed:openai/gpt-5", "--json")
    assert data["model_id"] == "closed:openai/gpt-5"
    assert data["offers"][0]["usd_per_m_output"] == pytest.approx(10.0)
    assert "closed:openai/gpt-5" not in [c["model_id"] for c in data["comparators"]]
    assert main(["hosted", "--model", "closed:nobody/nothing"]) == 2
    assert "closed:openai/gpt-5" in capsys.readouterr().err
