"""A prompt is never cut to fit the context (``rules.run_context``): the context grows to hold it, and a model whose
maximum is below the prompt does not fit. The rule as a table, then as fit, the report and the app show it."""

from __future__ import annotations

import json

import pytest

from rigcheck.cli.main import main
from rigcheck.estimate.rules import OUTPUT_RESERVE_TOKENS, run_context

CONTEXTS = [
    # (context setting, prompt, model maximum) -> (context, prompt fits, grown, capped), why
    ((8192, 4096, 131072), (8192, True, False, False), "the defaults: the setting holds the prompt"),
    ((8192, 8192, 131072), (8192, True, False, False), "a prompt as long as the setting still fits in it"),
    ((8192, 100_000, 131072), (100_000 + OUTPUT_RESERVE_TOKENS, True, True, False),
     "a 100k prompt at the default 8k context: the context grows to the prompt + room for the answer"),
    ((200_000, 30_000, 40960), (40960, True, False, True), "a setting above the model's maximum is capped"),
    ((8192, 40_000, 40960), (40960, True, True, True), "grown, then capped: 960 tokens left for the answer"),
    ((200_000, 150_000, 40960), (40960, False, False, True),
     "a 150k prompt on a 40k model: the prompt is longer than its context, it does not fit"),
    ((8192, 40961, 40960), (40960, False, True, True), "one token over the maximum does not fit either"),
    ((512, 4096, None), (4096 + OUTPUT_RESERVE_TOKENS, True, True, False), "no known maximum: no cap"),
]


@pytest.mark.parametrize(("given", "expected", "why"), CONTEXTS, ids=[c[2] for c in CONTEXTS])
def test_run_context(given, expected, why):
    assert tuple(run_context(*given)) == expected, why


def _fit_json(capsys, *argv: str) -> dict:
    code = main(["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--json", "--all", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_a_prompt_longer_than_the_models_maximum_does_not_fit(capsys):
    # Qwen3-32B holds 40,960 tokens: a 150k prompt was once computed as a 40k one ("usable, 28 s to first token").
    doc = _fit_json(capsys, "--model", "Qwen3-32B", "--context", "200000", "--prompt", "150000")
    assert doc["results"] and all(r["verdict"] == "no_fit" and not r["usable"] for r in doc["results"])
    for r in doc["results"]:
        assert r["placement"] == "does not fit: prompt longer than its context (150,000 > 40,960 tokens)"
        assert r["placement"] in r["basis"]
        assert r["decode_tokens_per_s"] is None and r["ttft_s"] is None


def test_a_prompt_longer_than_the_setting_grows_the_context(capsys):
    doc = _fit_json(capsys, "--model", "Llama-3.1-8B", "--prompt", "100000")
    fitting = [r for r in doc["results"] if r["verdict"] != "no_fit"]
    assert fitting, "an 8B at 104k context fits a 24 GB card with 64 GB of RAM"
    for r in fitting:
        assert r["context_tokens"] == 100_000 + OUTPUT_RESERVE_TOKENS
        depth = next(line for line in r["basis"] if "prefill of" in line)
        assert "prefill of 100,000 tokens" in depth and "decode at a depth of 100,000 tokens" in depth
        assert "the 100,000-token prompt + 4,096 for the answer" in depth
        assert "8,192 tokens" not in depth


def test_fit_header_states_the_grown_context(capsys):
    code = main(["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", "Qwen3-32B", "--prompt", "100000"])
    out, err = capsys.readouterr()
    assert code == 0, err
    header = out.splitlines()[0]
    assert "prompt 100k; context grown to hold it + 4k for the answer (the setting, 8k, is shorter)" in header
    assert "a model whose maximum is below the prompt does not fit" in header
    assert "does not fit: prompt longer than its context (100,000 > 40,960 tokens)" in out


def test_the_report_and_the_app_state_the_rule():
    from rigcheck.desktop.widgets.picks_strip import rule_text
    from rigcheck.estimate.types import Settings
    from rigcheck.report.builder import context_rule_sentence

    assert "context grown to hold it" in rule_text(Settings(context_tokens=8192, prompt_tokens=100_000))
    assert "context grown" not in rule_text(Settings())
    assert "never cut" in context_rule_sentence()


HEADERS = [
    # (context, prompt, longest context any row was sized for) -> the header's words, why
    ((8192, 4096, 8192), "context 8k, prompt 4k", "the defaults: a row holds the setting"),
    ((8192, 4096, None), "context 8k, prompt 4k", "no row to tell: the setting"),
    ((65536, 4096, 65536), "context 64k, prompt 4k", "some models are capped, not all: the setting stands"),
    ((10 * 2**20, 4096, 10_000_000), "context capped at each model's maximum (10,485,760 tokens asked; the longest "
     "model holds 10,000,000), prompt 4k", "10M: more than any model holds (once \"context 10M\")"),
    ((65536, 4096, 40960), "context capped at each model's maximum (65,536 tokens asked; the longest model holds "
     "40,960), prompt 4k", "one model asked for, shorter than the setting"),
]


@pytest.mark.parametrize(("given", "text", "why"), HEADERS, ids=[h[2] for h in HEADERS])
def test_the_header_says_when_every_model_is_capped(given, text, why):
    from rigcheck import units

    assert units.context_setting_text(*given) == text, why


@pytest.mark.parametrize(("argv", "capped"), [
    (("--context", "10M"), True),  # every model: the longest holds 10,000,000 tokens
    (("--context", "10M", "--all"), True),
    (("--context", "64k", "--model", "Qwen3-32B"), True),  # its maximum is 40,960
    (("--context", "64k"), False),
    ((), False),
])
def test_fit_plan_and_the_report_say_the_context_is_capped_when_it_is(capsys, tmp_path, argv, capped):
    machine = ("--gpu", "RTX 4090", "--ram", "64GB")
    asked = {"10M": 10 * 2**20, "64k": 65536}.get(argv[1] if argv else "", 8192)
    assert main(["fit", *machine, *argv]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    doc = json.loads(_run_out(capsys, ["fit", *machine, "--json", *argv]))
    longest = max(r["context_tokens"] for r in doc["results"])
    assert (longest < asked) == capped
    if capped:
        assert f"context capped at each model's maximum ({asked:,} tokens asked; the longest model holds " \
               f"{longest:,})" in header, header
    else:
        assert "capped" not in header and f"context {units_text(asked)}, prompt 4k" in header, header
    if "--model" in argv:
        assert main(["plan", "--model", "Qwen3-32B", *argv[:2]]) == 0
        plan_head = capsys.readouterr().out.splitlines()[0]
        assert plan_head.startswith(f"Qwen/Qwen3-32B: context 40,960 tokens (the model's maximum; {asked:,} asked)")
    elif argv[:2] == ("--context", "10M") and "--all" not in argv:
        out = tmp_path / "r.md"
        assert main(["report", *machine, *argv, "--format", "md", "-o", str(out)]) == 0
        capsys.readouterr()
        text = out.read_text(encoding="utf-8")
        assert f"context capped at each model's maximum ({asked:,} tokens asked" in text.splitlines()[2]
        answer = next(line for line in text.splitlines() if line.startswith("> **To run "))
        assert " at 10M context" not in answer, "the answer names the context its model is sized for"


def _run_out(capsys, argv) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def units_text(tokens: int) -> str:
    from rigcheck import units

    return units.tokens_text(tokens)
