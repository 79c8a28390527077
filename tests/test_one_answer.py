"""One rule, one number (issue 16): the blended price and the usable set read the same in every door."""

from __future__ import annotations

import json

import pytest

from rigcheck.cli.main import main

MACHINE = ("--gpu", "RTX 4090", "--ram", "64GB")
MODEL = "Qwen/Qwen3-32B"


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def report_json(capsys, tmp_path, *argv: str) -> dict:
    out = tmp_path / "report.json"
    assert main(["report", *MACHINE, "-o", str(out), *argv]) == 0
    capsys.readouterr()
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("ratio", [None, "1"])
def test_one_blended_price_in_hosted_fit_and_report(capsys, tmp_path, ratio):
    extra = () if ratio is None else ("--input-per-output", ratio)
    hosted = run_json(capsys, "hosted", "--model", MODEL, "--json", *extra)["cheapest_blended"]
    fit = run_json(capsys, "fit", *MACHINE, "--model", MODEL, "--json", *extra)["results"][0]["cheapest_hosted"]
    report = report_json(capsys, tmp_path, *extra)
    row = next(r for r in report["machines"][0]["rows"] if r["model_id"] == MODEL)["cheapest_hosted"]
    assert hosted["provider"] == fit["provider"] == row["provider"]
    assert hosted["usd_per_m_blended"] == fit["usd_per_m_blended"] == row["usd_per_m_blended"]
    r = 3.0 if ratio is None else float(ratio)
    assert hosted["usd_per_m_blended"] == pytest.approx((r * hosted["usd_per_m_input"] + hosted["usd_per_m_output"])
                                                        / (r + 1), abs=1e-6)


@pytest.mark.parametrize("thresholds", [(), ("--min-decode", "30", "--max-ttft", "10")])
def test_the_usable_models_of_fit_and_of_the_report_are_one_set(capsys, tmp_path, thresholds):
    fit = run_json(capsys, "fit", *MACHINE, "--json", *thresholds)
    report = report_json(capsys, tmp_path, *thresholds)
    fit_usable = {r["model_id"] for r in fit["results"] if r["best"] and r["usable"]}
    rows = report["machines"][0]["rows"]
    report_usable = {r["model_id"] for r in rows if r["estimate"]["best"] and r["estimate"]["usable"]}
    assert fit_usable and fit_usable == report_usable
    summary = report["machines"][0]["summary"]
    assert summary["usable_models"] == len(fit_usable)
    assert summary["catalog_models"] == fit["catalog"]["models"], "the summary counts the catalog's models"
    # and each model's pick is the same quant in both
    fit_picks = {r["model_id"]: r["quant"] for r in fit["results"] if r["best"]}
    report_picks = {r["model_id"]: r["estimate"]["quant"] for r in rows if r["estimate"]["best"]}
    assert fit_picks == report_picks


@pytest.mark.parametrize(("model", "text"), [
    ("microsoft/phi-4", "$0.088/M"),  # (3 x 0.07 + 0.14) / 4 = 0.0875: 0.08750000000000001 in one sum, 0.0875 rounded
    ("deepseek-ai/DeepSeek-V3-0324", "$0.18/M"),  # 0.175
    ("MiniMaxAI/MiniMax-M2.7", "$0.53/M"),  # 0.525, computed as 0.5249999999999999
])
def test_one_blended_price_reads_the_same_in_hosted_fit_report_and_the_app(capsys, tmp_path, model, text):
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.models.cells import HOSTED, table_row
    from rigcheck.desktop.models.rows import build_rows

    assert main(["hosted", "--model", model]) == 0
    hosted = capsys.readouterr().out
    assert f"Cheapest: {hosted.split('Cheapest: ')[1].split(',')[0]}, {text}" in hosted
    node = ("--gpu", "8 x H200", "--ram", "2048GB")  # every one of them fits there
    assert main(["fit", *node, "--model", model]) == 0
    assert text in capsys.readouterr().out
    out = tmp_path / "r.md"
    assert main(["report", *node, "--format", "md", "-o", str(out)]) == 0
    capsys.readouterr()
    row = next(line for line in out.read_text(encoding="utf-8").splitlines()
               if f"| {model.split('/')[-1]} |" in line and "/M (" in line)
    assert text in row
    catalog = load_catalog()
    cell = next(table_row(r) for r in build_rows(catalog, []) if r.model.id == model)
    assert cell.display[HOSTED].startswith(text)


DUAL_3090 = ("--gpu", "RTX 3090", "--gpu", "RTX 3090", "--ram", "128GB")


def groups(picks: list[tuple[str, bool, float]]) -> list[int]:
    """Per model in listed order: 0 usable at 3 bits or more, 1 usable only below 3 bits, 2 not usable."""
    return [2 if not usable else 1 if bits < 3 else 0 for _, usable, bits in picks]


def test_fit_lists_models_usable_only_at_a_heavy_loss_quant_after_the_others_with_the_tier(capsys):
    # GLM-4.7 scores highest of all models here, but only its 1.75-bit UD-IQ1_M runs usably on 2x RTX 3090: it is
    # listed after every model with a usable pick of 3 bits or more, and the listing says "heavy loss".
    fit = run_json(capsys, "fit", *DUAL_3090, "--best", "--json")
    picks = [(r["model_id"], r["usable"], r["bits_per_weight"]) for r in fit["results"]]
    assert groups(picks) == sorted(groups(picks)) and set(groups(picks)) == {0, 1, 2}
    glm = next(r for r in fit["results"] if r["model_id"] == "zai-org/GLM-4.7")
    assert glm["usable"] and glm["bits_per_weight"] < 3 and glm["quant"] == "UD-IQ1_M"
    assert glm["capability"] == max(r["capability"] or 0 for r in fit["results"] if r["usable"])
    assert main(["fit", *DUAL_3090, "--best"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines[2:2 + len(picks)]]
    assert listed == [model for model, *_ in picks], "the listing and --json keep one order"
    assert "UD-IQ1_M (heavy loss)" in lines[2 + listed.index("zai-org/GLM-4.7")]
    assert "Q6_K (near-lossless)" in lines[2 + listed.index("Qwen/Qwen3-32B")]
    assert any(line.startswith("  Order: models with a usable pick of 3 bits") for line in lines)


def test_the_report_lists_its_picks_in_the_rules_order(capsys, tmp_path):
    out = tmp_path / "r.json"
    assert main(["report", *DUAL_3090, "-o", str(out)]) == 0
    md = tmp_path / "r.md"
    assert main(["report", *DUAL_3090, "--format", "md", "-o", str(md)]) == 0
    capsys.readouterr()
    machine = json.loads(out.read_text(encoding="utf-8"))["machines"][0]
    pick = {r["model_id"].split("/")[-1]: (r["estimate"]["usable"], r["estimate"]["bits_per_weight"])
            for r in machine["rows"] if r["estimate"]["best"]}
    assert pick["GLM-4.7"][0] and pick["GLM-4.7"][1] < 3
    # The summary's picks are this machine's most capable usable models of 3 bits or more, not GLM-4.7.
    assert all(pick[p["model_name"]][1] >= 3 for p in machine["summary"]["runs_well"])
    text = md.read_text(encoding="utf-8")
    table = text.split("## Fit table")[1].split("\n## ")[0]
    names = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines() if line.startswith("| ")]
    listed = [(name, *pick[name]) for name in names if name in pick]
    assert listed[0][0] == machine["summary"]["runs_well"][0]["model_name"] == "MiniMax-M2"
    assert len(listed) > 50 and groups(listed) == sorted(groups(listed)) and set(groups(listed)) == {0, 1, 2}


@pytest.mark.parametrize(("machine", "model"), [
    (MACHINE, MODEL),  # Q4_K_M in VRAM, not Q5_K_M spilled to RAM for one more bit
    (("--gpu", "RTX 5090", "--ram", "64GB"), "Qwen/Qwen3-30B-A3B"),  # a calibrated runtime with headroom
    (DUAL_3090, "zai-org/GLM-4.7"),  # usable only at a heavy-loss quant: still the rules' pick
])
def test_the_owned_door_of_cost_runs_the_rules_pick(capsys, machine, model):
    fit = run_json(capsys, "fit", *machine, "--model", model, "--best", "--json")["results"][0]
    doors = {d["door"]: d for d in run_json(capsys, "cost", *machine, "--model", model, "--json")["doors"]}
    assert doors["owned"]["label"].endswith(f" ({fit['quant']})"), (doors["owned"]["label"], fit["quant"])


NODE = ("--gpu", "8 x H200", "--ram", "2TB")


@pytest.mark.parametrize(("machine", "gpus", "ram_gib"), [
    (MACHINE, ["RTX 4090"], 64),  # some fit, some are too slow, some do not fit, three cannot be estimated
    (NODE, ["8 x H200"], 2048),  # everything estimated runs: the three unestimated still count in the total
])
def test_fit_the_app_and_the_report_count_the_same_models_out_of_the_catalog(capsys, tmp_path, machine, gpus,
                                                                              ram_gib):
    from rigcheck.catalog.devices import hypothetical_machine
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.models.cells import table_rows
    from rigcheck.desktop.models.picks import capacity_line
    from rigcheck.desktop.models.rows import build_rows
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

    catalog = load_catalog()
    total = len(catalog.models)
    assert main(["fit", *machine]) == 0
    footer = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Usable here: "))
    usable = int(footer.split()[2])
    assert footer.startswith(f"Usable here: {usable} of {total} models;"), footer
    parts = {"fit but are too slow": 0, "do not fit": 0, "are not estimated": 0}
    for part in footer.split(". Listed")[0].split("; ")[1:]:
        count, _, words = part.partition(" ")
        parts[next(p for p in parts if words.startswith(p))] = int(count)
    assert parts["are not estimated"] == 3, footer
    assert usable + sum(parts.values()) == total, "the footer's parts add up to the catalog's models"

    summary = _report_summary(capsys, tmp_path, machine)
    assert (summary["catalog_models"], summary["usable_models"], summary["unestimated_models"]) == (
        total, usable, parts["are not estimated"])
    assert summary["fitting_models"] == usable + parts["fit but are too slow"]
    assert f"runs {usable} of the catalog's {total} models usably" in summary["headline"]

    what_if = hypothetical_machine(gpus, ram_gib * 2**30, catalog)
    settings = Settings()
    cells = table_rows(build_rows(catalog, evaluate(what_if, catalog, settings), settings))
    assert capacity_line(cells).endswith(f" {usable} of {total} models run usably.")


def _report_summary(capsys, tmp_path, machine) -> dict:
    out = tmp_path / "report.json"
    assert main(["report", *machine, "-o", str(out)]) == 0
    capsys.readouterr()
    return json.loads(out.read_text(encoding="utf-8"))["machines"][0]["summary"]


@pytest.mark.parametrize(("age_s", "text"), [
    (4.7 * 86400, "4 days ago"),  # the report once said "(5 days old)" beside catalog show's "4 days ago"
    (5 * 86400 - 30, "4 days ago"),  # 4.9997 days: rounded down, never up to 5
    (5 * 86400, "5 days ago"),
    (86400 + 60, "1 day ago"),
    (5 * 3600 + 20, "5 h ago"),  # under a day: the same whole hours
    (3 * 60 + 1, "3 min ago"),
])
def test_the_catalog_age_reads_the_same_in_catalog_show_the_status_bar_and_the_report(age_s, text):
    import datetime as dt

    import msgspec

    from rigcheck import units
    from rigcheck.catalog.store import load_catalog
    from rigcheck.report.catalog_facts import catalog_info

    now = dt.datetime(2026, 12, 3, 16, 57, 1, tzinfo=dt.timezone.utc)
    generated = (now - dt.timedelta(seconds=age_s)).isoformat()
    catalog = msgspec.structs.replace(load_catalog(), generated_at=generated)
    report_days = catalog_info(catalog, None, now).age_days
    assert report_days == pytest.approx(age_s / 86400)  # the JSON's figure: exact
    assert units.age_seconds_text(age_s) == text  # catalog show (store.CatalogStatus.age_s)
    assert units.age_text(generated, now) == text  # the status bar
    assert units.age_days_text(report_days) == text  # the report (md, html and so pdf)



def test_every_json_output_gives_one_capability_figure_per_model(capsys, tmp_path):
    # The report once rounded it to whole points (gpt-oss-120b: 48) where fit --json gave the rules' 47.5.
    fit = {r["model_id"]: r["capability"] for r in run_json(capsys, "fit", *MACHINE, "--json")["results"]}
    report = report_json(capsys, tmp_path)["machines"][0]
    rows = {r["model_id"]: (r["capability"] or {}).get("value") for r in report["rows"]}
    assert fit == rows and sum(v is not None for v in fit.values()) > 10
    assert fit["openai/gpt-oss-120b"] == 47.5, "a capability with a decimal: the case that differed"
    for pick in (*report["summary"]["runs_well"], *report["summary"]["cannot_run"]):
        assert pick["capability"]["value"] == fit[pick["model_id"]]
    for model_id in ("openai/gpt-oss-120b", "Qwen/Qwen3-32B"):
        hosted = run_json(capsys, "hosted", "--model", model_id, "--json")["capability"]["value"]
        assert hosted == fit[model_id]


@pytest.mark.parametrize(("model", "text"), [
    ("openai/gpt-oss-120b", "48"),  # 47.5: half to even, the same in every text view
    ("Qwen/Qwen3-32B", "52"),
])
def test_every_text_view_writes_the_capability_alike(capsys, tmp_path, model, text):
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.models.cells import CAPABILITY, table_row
    from rigcheck.desktop.models.rows import build_rows

    assert main(["fit", *MACHINE, "--model", model]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(model))
    assert f"  {text}  " in line
    assert main(["hosted", "--model", model]) == 0
    assert f"Capability: {text} (" in capsys.readouterr().out
    out = tmp_path / "r.md"
    assert main(["report", *MACHINE, "--format", "md", "-o", str(out)]) == 0
    capsys.readouterr()
    name = model.split("/")[-1]
    rows = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {name} |")]
    assert rows and all(f"| {text} (" in line for line in rows)
    cell = next(table_row(r) for r in build_rows(load_catalog(), []) if r.model.id == model)
    assert cell.display[CAPABILITY] == text


@pytest.mark.parametrize(("machine", "model"), [
    (MACHINE, MODEL),  # no rental offer for an RTX 4090: a node is rented in its place, running the 4090's Q4_K_M
    (("--gpu", "RTX 5090", "--ram", "64GB"), "Qwen/Qwen3-30B-A3B"),
])
def test_the_rented_door_runs_the_machines_pick_in_cost_and_in_the_app(capsys, machine, model):
    """The quant run on a rented node, and so its price, comes from one rule: `cost` without --quant and the
    app's Serving and Cost tabs (which pass the detail pane's quant, the pick at first) price the same doors.
    `cost` used to rent the planner's node at the best quality it holds (Q6_K) while the app rented it at the
    pick (Q4_K_M): $1.60/M saturated against $1.38/M for one node."""
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.cost_bridge import cost_curves
    from rigcheck.desktop.serving_bridge import serving_view
    from rigcheck.estimate.types import Settings

    pick = run_json(capsys, "fit", *machine, "--model", model, "--best", "--json")["results"][0]["quant"]
    doors = {d["door"]: d for d in run_json(capsys, "cost", *machine, "--model", model, "--json")["doors"]}
    assert doors["owned"]["label"].endswith(f" ({pick})")
    assert doors["rented"]["label"].endswith(f", {pick})"), (doors["rented"]["label"], pick)

    catalog = load_catalog()
    found = next(m for m in catalog.models if m.id == model)
    gpus = [machine[i + 1] for i, a in enumerate(machine) if a == "--gpu"]
    box = devices.hypothetical_machine(gpus, 64 * 2**30, catalog=catalog)
    view = {d.door: d for d in serving_view(found, pick, box, catalog, Settings()).doors}
    for door in ("rented", "owned"):
        assert view[door].label == doors[door]["label"]
        assert view[door].usd_per_m_workload == pytest.approx(doors[door]["usd_per_m_output_tokens"], rel=1e-5)
        assert view[door].usd_per_m_saturated == pytest.approx(
            doors[door]["usd_per_m_output_tokens_saturated"]["expected"], rel=1e-5)
    curves, _note = cost_curves(found, pick, box, catalog, [1.0], Settings())
    rented = next(v for label, v in curves.items() if label.startswith("rented"))
    assert rented[0] == pytest.approx(doors["rented"]["usd_per_m_output_tokens_at_full_utilization"]["expected"],
                                      rel=1e-5)


APPLE = ("--gpu", "Apple M3 Ultra (80-core GPU)", "--ram", "96GB")


def test_a_pick_no_priced_node_runs_leaves_the_rented_node_at_the_best_priced_quality(capsys):
    """An MLX pick runs on Apple silicon alone, and no Apple machine is rented: the node rented in place of an
    M3 Ultra runs the best quality a priced node holds, says so, and the app (passing the pick) prices the same
    door. With the pick forced on the rented node, gpt-oss-120b's rented door was "no configuration with a rental
    price holds openai/gpt-oss-120b"; a quant asked for that is not the pick is still priced as asked, or not."""
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.serving_bridge import serving_view
    from rigcheck.estimate.types import Settings

    model = "openai/gpt-oss-120b"
    pick = run_json(capsys, "fit", *APPLE, "--model", model, "--best", "--json")["results"][0]
    assert pick["runtime"] == "mlx", pick["quant"]
    answer = run_json(capsys, "cost", *APPLE, "--model", model, "--json")
    rented = next(d for d in answer["doors"] if d["door"] == "rented")
    assert rented["usd_per_m_output_tokens"] is not None, rented["unavailable_reason"]
    node_quant = rented["label"].rsplit(", ", 1)[1].rstrip(")")
    assert not node_quant.startswith("MLX"), rented["label"]
    assert any(f"runs {pick['quant']} (this machine's pick): the rented node runs {node_quant}" in n
               for n in answer["notes"]), answer["notes"]

    catalog = load_catalog()
    found = next(m for m in catalog.models if m.id == model)
    box = devices.hypothetical_machine([APPLE[1]], 96 * 2**30, catalog=catalog)
    view = next(d for d in serving_view(found, pick["quant"], box, catalog, Settings()).doors if d.door == "rented")
    assert view.label == rented["label"]
    assert view.usd_per_m_workload == pytest.approx(rented["usd_per_m_output_tokens"], rel=1e-5)

    asked = next(q.name for q in found.quants if q.name.startswith("MLX") and q.name != pick["quant"])
    answer = run_json(capsys, "cost", *APPLE, "--model", model, "--quant", asked, "--json")
    rented = next(d for d in answer["doors"] if d["door"] == "rented")
    assert rented["unavailable_reason"] == f"no configuration with a rental price holds {model} at {asked}"


R1_NODE = ("--gpu", "8 x H200", "--ram", "2TB")


@pytest.mark.parametrize("prompt", [None, 8192])
def test_one_request_shape_for_a_node_in_serve_cost_and_the_app(capsys, prompt):
    """`serve` (its defaults, or --input-len), `cost` (its default workload, or --prompt) and the app's Serving tab
    (the Prompt setting) assume one request and so say one "requests at once" for one node. They used to assume
    1,024 + 1,024 (`serve`: 455 at once), 5,120 + 512 (`cost`) and 4,096 + 512 (the app: 160 at once)."""
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.serving_bridge import serving_view
    from rigcheck.estimate.types import Settings

    model = "deepseek-ai/DeepSeek-R1-0528"
    serve_args = () if prompt is None else ("--input-len", str(prompt))
    cost_args = () if prompt is None else ("--prompt", str(prompt), "--context", str(2 * prompt))
    served = run_json(capsys, "serve", "--model", model, *R1_NODE, "--json", *serve_args)
    cost = run_json(capsys, "cost", "--model", model, *R1_NODE, "--json", *cost_args)
    workload = cost["workload"]
    want = prompt or 4096  # the settings' prompt length, as in `fit`
    assert (served["settings"]["input_len"], served["settings"]["output_len"], served["settings"]["concurrency"]) \
        == (workload["input_tokens_per_request"], workload["output_tokens_per_request"],
            workload["peak_concurrency"]) == (want, 512, 16)
    rented = next(d for d in cost["doors"] if d["door"] == "rented")
    assert rented["label"].endswith("(rented, FP8)") and served["quant"] == "FP8"
    assert served["max_concurrency"] == rented["max_concurrency"]

    catalog = load_catalog()
    found = next(m for m in catalog.models if m.id == model)
    machine = devices.hypothetical_machine(["8 x H200"], 2 * 2**40, catalog=catalog)
    settings = Settings() if prompt is None else Settings(prompt_tokens=prompt, context_tokens=2 * prompt)
    view = serving_view(found, "FP8", machine, catalog, settings)
    assert view.points[-1].saturated and view.points[-1].concurrency == served["max_concurrency"]
    assert f"{want:,} in (the Prompt setting) + 512 out per request" in view.note
    assert f"at most {served['max_concurrency']:,} at once" in view.note
    assert f"requests of {want:,} uncached input + 512 output tokens, 16 at a time" in view.workload

    assert main(["serve", "--model", model, *R1_NODE, *serve_args]) == 0
    text = capsys.readouterr().out.splitlines()[1]
    assert text.startswith(f"{want:,} input + 512 output tokens per request")
    assert ("(the default request" in text) == (prompt is None)
    assert f"the node runs {served['max_concurrency']:,} requests at once" in text
