"""``rigcheck plan`` end to end on the embedded catalog and the real estimator."""

from __future__ import annotations

import json

import pytest

from rigcheck.cli.main import main


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_deepseek_r1_fp8_recommends_configurations_that_fit_with_prices(capsys):
    """Issue 7's check: FP8 R1 (~671 GB of weights) fits 8x H200 or B200, not 8x H100 80 GB."""
    data = run_json(capsys, "plan", "--model", "deepseek-ai/DeepSeek-R1", "--quant", "FP8", "--json")
    assert data["schema"] == "rigcheck.plan/1"
    labels = [o["label"] for o in data["options"]]
    assert labels, "some configuration must hold it"
    assert "8x NVIDIA H100 SXM" not in labels
    assert "8x NVIDIA H200 SXM" in labels
    for option in data["options"]:
        assert option["quant"] == "FP8"
        assert option["estimate"]["verdict"] in ("gpu", "unified")
        assert option["memory_total_bytes"] >= option["estimate"]["memory"]["total_bytes"]
    h200 = data["options"][labels.index("8x NVIDIA H200 SXM")]
    assert h200["rental_usd_per_hour"]["expected"] > 0
    assert h200["usd_per_m_output_rented_at_full_utilization"]["expected"] > 0
    assert h200["power_w"] == pytest.approx(8 * 700)
    assert h200["split"] == "tensor parallel over 8 GPUs (vLLM)"
    # priced options come first; those without any price say so rather than vanish
    known = [o["price_known"] for o in data["options"]]
    assert known == sorted(known, reverse=True)
    assert all(o["purchase_note"].startswith("price unknown") for o in data["options"] if o["purchase_usd"] is None)
    # and the 8x H100 node is rejected with both sizes in the reason
    h100 = next(r for r in data["rejected"] if r["label"] == "8x NVIDIA H100 SXM")
    assert "640 GiB" in h100["reason"] and "needed (FP8)" in h100["reason"]


def test_rent_ranking_and_budget(capsys):
    data = run_json(capsys, "plan", "--model", "deepseek-ai/DeepSeek-R1", "--quant", "FP8", "--rent",
                    "--budget", "20000", "--json")
    monthly = [o["rental_usd_per_month"] for o in data["options"]]
    assert monthly and all(m is not None and m <= 20000 for m in monthly)
    assert monthly == sorted(monthly)
    assert any(r["reason"].endswith("> $20,000") for r in data["rejected"])


def test_a_decode_target_is_met_by_every_option(capsys):
    data = run_json(capsys, "plan", "--model", "Qwen/Qwen3-8B", "--min-decode", "100", "--json")
    assert data["options"]
    for option in data["options"]:
        assert option["estimate"]["decode_tokens_per_s"]["expected"] >= 100


def test_upgrade_advice_for_a_what_if_machine(capsys):
    data = run_json(capsys, "plan", "--model", "Qwen/Qwen3-32B", "--quant", "Q8_0", "--gpu", "RTX 4090",
                    "--ram", "8GB", "--min-decode", "10", "--json")
    assert data["machine"]
    upgrades = data["upgrades"]
    assert upgrades and upgrades[0]["kind"] in ("ram", "add-gpu", "replace-gpu")
    assert all(u["meets_target"] for u in upgrades)
    kinds = [u["kind"] for u in upgrades]
    assert kinds == sorted(kinds, key=["ram", "add-gpu", "replace-gpu", "machine"].index)
    add = next(u for u in upgrades if u["kind"] == "add-gpu")
    # The RTX 4090 (September 2022) is no longer a current part at the catalog's date: its $1,599 launch price is
    # not what another one costs, so the change is unpriced (prices.is_current).
    assert add["cost_usd"] is None


def test_adding_a_current_card_is_priced_at_its_launch_price(capsys):
    data = run_json(capsys, "plan", "--model", "Qwen/Qwen3-32B", "--quant", "BF16", "--gpu", "RTX 5090",
                    "--ram", "8GB", "--min-decode", "10", "--json")
    add = next(u for u in data["upgrades"] if u["kind"] == "add-gpu")
    words = add["change"].split()
    assert add["cost_usd"] == pytest.approx(1999.0 * (int(words[1]) if words[1].isdigit() else 1))


def test_human_output(capsys):
    assert main(["plan", "--model", "deepseek-ai/DeepSeek-R1", "--quant", "FP8"]) == 0
    out = capsys.readouterr().out
    assert "8x NVIDIA H200 SXM" in out and "price unknown" in out
    assert "8x NVIDIA H100 SXM: 640 GiB" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan"], "--model"),
        (["plan", "--model", "deepseek-ai/DeepSeek-R1", "--quant", "Q9_Z"], "no quant 'Q9_Z'"),
        (["plan", "--model", "Qwen/Qwen3-8B", "--min-decode", "-3"], "above zero"),
        (["plan", "--model", "Qwen/Qwen3-8B", "--buy", "--rent"], "not allowed"),
        (["plan", "--model", "Qwen/Qwen3-8B", "--prompt", "9000", "--context", "8192"], "longer than"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3  # argparse adds its usage line


def test_r1_plan_includes_the_m3_ultra_512_gb_at_q4_k_m_and_no_one_bit_configuration(capsys):
    """Issue 16: a unified-memory machine that runs the model usably is an answer, and with 4-bit configurations
    on the list no configuration runs it below 3 bits per weight."""
    data = run_json(capsys, "plan", "--model", "deepseek-ai/DeepSeek-R1", "--json")
    options = {o["label"]: o for o in data["options"]}
    mac = options.get("Apple M3 Ultra (80-core GPU) 512 GB")
    assert mac is not None, list(options)
    assert mac["quant"] == "Q4_K_M" and mac["estimate"]["verdict"] == "unified"
    assert mac["estimate"]["decode_tokens_per_s"]["expected"] >= 10 and mac["estimate"]["ttft_s"]["expected"] <= 60
    assert all(o["estimate"]["bits_per_weight"] >= 3.0 for o in data["options"])
    assert any("below 3 bits" in note for note in data["notes"])


def test_a_workstation_is_never_offered_sxm_modules_unless_asked(capsys):
    upgrade = run_json(capsys, "plan", "--model", "deepseek-ai/DeepSeek-R1", "--gpu", "RTX 4090", "--ram", "64GB",
                       "--json")
    labels = [o["label"] for o in upgrade["options"]]
    assert labels and not [label for label in labels if "SXM" in label or "H200" in label or "B200" in label]
    assert all(o["gpu_count"] <= 4 or o["kind"] == "unified" for o in upgrade["options"])
    assert not [u for u in upgrade["upgrades"] if "SXM" in u["change"]]
    asked = run_json(capsys, "plan", "--model", "deepseek-ai/DeepSeek-R1", "--gpu", "RTX 4090", "--ram", "64GB",
                     "--class", "server", "--json")
    assert any("SXM" in o["label"] for o in asked["options"]), "asked for servers: SXM nodes are offered"
    assert not [o for o in asked["options"] if o["kind"] == "unified"]
