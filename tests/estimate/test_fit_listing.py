"""What `rigcheck fit` lists and says about what it does not: models that do not fit, models asked for by name, a
what-if machine without RAM, and the row scope of --json."""

from __future__ import annotations

import json
import re

import pytest

from rigcheck.cli.main import main

MACHINE = ("--gpu", "RTX 4090", "--ram", "64GB")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_model_asked_for_by_name_is_shown_with_why_it_does_not_fit(capsys):
    # It once printed "no model is usable on this machine with these settings" and nothing about DeepSeek-R1.
    code, out, err = _run(capsys, "fit", "--model", "DeepSeek-R1", *MACHINE)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("deepseek-ai/DeepSeek-R1 "))
    assert "does not fit" in row and " no " in row
    note = next(line for line in out.splitlines() if line.startswith("deepseek-ai/DeepSeek-R1 does not fit here"))
    # Against what the verdict counted: the usable budget (the memory chart's line), of the VRAM and RAM there are.
    needed = re.search(r"needs about (\d+) GiB against 85.5 GiB usable of 24 GiB VRAM \+ 64 GiB RAM", note)
    assert needed and 100 < int(needed.group(1)) < 200, note
    assert "`rigcheck plan --model deepseek-ai/DeepSeek-R1`" in note
    assert "no model is usable" not in out


def test_a_slow_model_asked_for_by_name_says_why_and_where_to_look(capsys):
    code, out, _ = _run(capsys, "fit", "--model", "Llama-2-70b", *MACHINE)
    assert code == 0
    assert re.search(r"meta-llama/Llama-2-70b-hf is not usable here: decode [\d.]+ tok/s < 10; "
                     r"`rigcheck plan --model meta-llama/Llama-2-70b-hf` says what would run it usably", out)


def test_usable_leaves_out_a_named_model_but_says_so(capsys):
    code, out, _ = _run(capsys, "fit", "--model", "Qwen3-8B", "--model", "DeepSeek-R1", "--usable", *MACHINE)
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines()[2:] if line.startswith(("Qwen/", "deepseek-ai/"))]
    assert listed[0] == "Qwen/Qwen3-8B"
    assert "deepseek-ai/DeepSeek-R1 does not fit here" in out
    assert "not listed: 1 not usable (--usable)" in out


def test_default_listing_counts_what_it_leaves_out(capsys):
    _, out, _ = _run(capsys, "fit", *MACHINE)
    doc = json.loads(_run(capsys, "fit", *MACHINE, "--json")[1])
    by_model: dict[str, list] = {}
    for r in doc["results"]:
        by_model.setdefault(r["model_id"], []).append(r)
    no_fit = sum(1 for rows in by_model.values() if all(r["verdict"] == "no_fit" for r in rows))
    usable = sum(1 for rows in by_model.values() if any(r["usable"] and r["best"] for r in rows))
    slow = len(by_model) - no_fit - usable
    assert no_fit > 10, "an RTX 4090 with 64 GB cannot hold the largest models"
    unestimated = doc["catalog"]["models"] - len(by_model)
    assert unestimated == 3, "three catalog models have no parameter count"
    footer = next(line for line in out.splitlines() if line.startswith("Usable here:"))
    assert re.fullmatch(  # counted out of the catalog's models, as the GUI and the report count them
        f"Usable here: {usable} of {doc['catalog']['models']} models; {slow} fit but are too slow; {no_fit} do not "
        f"fit; {unestimated} are not estimated " r"\(no parameter count in the catalog: [^)]*\)"
        f". Listed: {usable + slow} models, each at its pick; not listed: the {no_fit} that do not fit "
        r"\(--all lists them\)\.", footer), footer
    listed = [line for line in out.splitlines()[2:] if line.split("  ")[0].count("/") == 1 and "  " in line]
    assert len(listed) == usable + slow


def test_limit_says_how_many_more(capsys):
    _, out, _ = _run(capsys, "fit", *MACHINE, "--limit", "3")
    assert re.search(r"Listed: 3 models, each at its pick; not listed: the \d+ that do not fit \(--all lists them\), "
                     r"\d+ more after the first 3 \(--limit\)\.", out)


def test_gpu_without_ram_says_nothing_is_offloaded(capsys):
    _, out, _ = _run(capsys, "fit", "--gpu", "RTX 4090", "--limit", "1")
    assert "RAM not given (--ram): nothing offloaded to RAM" in out.splitlines()[0]
    _, out, _ = _run(capsys, "fit", *MACHINE, "--limit", "1")
    assert "RAM not given" not in out


@pytest.mark.parametrize(
    ("flags", "rows"),
    [
        ((), "all"),  # the contract scripts rely on: every model x quant
        (("--best",), "picks"),
        (("--usable",), "picks"),
        (("--limit", "3"), "picks"),
        (("--sort", "decode"), "picks"),
        (("--all", "--limit", "3"), "all"),  # --all keeps every row whatever else is asked
        (("--all", "--usable"), "all"),
    ],
)
def test_fit_json_says_its_row_scope(capsys, flags, rows):
    code, out, err = _run(capsys, "fit", *MACHINE, "--json", *flags)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["settings"]["rows"] == rows
    results = doc["results"]
    models = [r["model_id"] for r in results]
    if rows == "picks":
        assert len(models) == len(set(models)), "one row per model"
    else:
        assert len(models) > len(set(models)), "every quant of each model"
    if "--limit" in flags:
        assert len(set(models)) == 3
    if "--usable" in flags:
        assert all(any(r["usable"] for r in results if r["model_id"] == m) for m in set(models))


def test_all_with_best_is_refused(capsys):
    code, out, err = _run(capsys, "fit", *MACHINE, "--all", "--best")
    assert code == 2 and not out and "choose one" in err


def test_models_without_a_parameter_count_are_counted_and_explained_not_dropped(capsys):
    # The catalog holds three Cohere models whose parameter count no stored source states; the footer once said
    # "78 of 110 models" against a catalog of 113, and `--model` of one said only "no model is listed".
    from rigcheck.catalog.store import load_catalog

    unknown = sorted(m.id for m in load_catalog().models if not (m.params_total_b or m.params_active_b))
    assert unknown, "the embedded catalog no longer has a model without a parameter count: pick another case"
    code, out, _ = _run(capsys, "fit", *MACHINE, "--limit", "1")
    assert code == 0
    counts = next(line for line in out.splitlines() if line.startswith("Usable here:"))
    total = len(load_catalog().models)
    assert f"{len(unknown)} are not estimated (no parameter count in the catalog: " in counts
    looked_at = int(re.search(r"of ([\d,]+) models", counts).group(1).replace(",", ""))
    assert looked_at == total, "the models that cannot be estimated count in the total, as in the GUI and report"
    code, out, _ = _run(capsys, "fit", *MACHINE, "--model", unknown[0])
    assert code == 0
    assert f"{unknown[0]} is not estimated: its parameter count is not in the catalog" in out
