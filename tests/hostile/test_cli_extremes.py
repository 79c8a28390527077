"""CLI extremes: every numeric flag is parsed with a range, and an extreme value is one clear line and exit 2
(never a traceback, never a value that reaches the estimator and breaks it there)."""

from __future__ import annotations

import pytest

from tests.hostile.conftest import assert_one_clear_line

pytestmark = pytest.mark.timeout(60)

BIG = "9" * 400
HUGE = "9" * 5000  # past Python's 4300-digit limit on int()
MODEL = ("--model", "llama-3.1-8b")
WHAT_IF = ("--gpu", "RTX 4090", "--ram", "64GB")

CASES = [
    # command, the extreme flags, a fragment of the one line
    (["fit", "--gpu", "RTX 4090", "--ram", BIG + "GB"], "more than any machine has"),
    # A number that reads but no machine or model has is "too large", whatever its notation; "1e30" was "cannot
    # read size", and 5,000 digits "not a whole number".
    (["fit", "--gpu", "RTX 4090", "--ram", "1e30"], "more than any machine has"),
    (["fit", "--gpu", "RTX 4090", "--ram", "1e30GB"], "more than any machine has"),
    (["fit", "--gpu", "RTX 4090", "--ram", "999999999TB"], "more than any machine has"),
    (["fit", "--gpu", "RTX 4090", "--ram", "1e400"], "more than any machine has"),
    (["fit", "--gpu", "RTX 4090", "--ram", "1e-30"], "more than zero"),
    (["fit", "--gpu", "RTX 4090", "--ram", "lots"], "cannot read size"),
    (["fit", *WHAT_IF, "--context", BIG], "more than any model's context"),
    (["fit", *WHAT_IF, "--context", HUGE], "more than any model's context"),
    (["fit", *WHAT_IF, "--context", "1e30"], "more than any model's context"),
    (["fit", *WHAT_IF, "--context", "1.5"], "not a whole number"),
    (["fit", *WHAT_IF, "--limit", "1e30"], "at most"),
    (["fit", *WHAT_IF, "--prompt", "0"], "at least 1"),
    (["fit", *WHAT_IF, "--context", "nan"], "not a whole number"),
    (["report", *WHAT_IF, "-o", "r.json", "--context", "-5"], "at least 1"),
    (["cost", *MODEL, "--tokens-per-day", "0,1e-320"], "at least 1"),
    (["cost", *MODEL, "--tokens-per-day", f"{BIG},1"], "more tokens than any service"),
    (["cost", *MODEL, "--tokens-per-day", "inf,1M"], "zero or more"),
    (["cost", *MODEL, "--utilization", "nan"], "between 0 and 1"),
    (["cost", *MODEL, "--utilization", "0"], "above 0"),
    (["cost", *MODEL, "--cached-share", "1e400"], "between 0 and 1"),
    (["cost", *MODEL, "--concurrency", HUGE], "at most"),
    (["cost", *MODEL, "--concurrency", BIG], "at most"),
    (["cost", *MODEL, "--usd-per-gpu-hour", "1e-320"], "at least"),
    (["cost", *MODEL, "--usd-per-gpu-hour", "-1"], "above zero"),
    (["cost", *MODEL, "--purchase-usd", "inf"], "not a number"),
    (["cost", *MODEL, "--years", "0"], "at least 0.1"),
    (["cost", *MODEL, "--years", "1e308"], "at most 100"),
    (["cost", *MODEL, "--usd-per-kwh", "nan"], "not a number"),
    (["cost", *MODEL, "--ops-usd-per-month", BIG], "at most"),
    (["plan", *MODEL, "--min-decode", "-3"], "above zero"),
    (["plan", *MODEL, "--max-ttft", "1e999"], "at most"),
    (["plan", *MODEL, "--budget", "0"], "above zero"),
    (["plan", *MODEL, "--limit", BIG], "at most 10000"),
    (["plan", *MODEL, "--concurrency", "0"], "at least 1"),
    (["hosted", "--input-per-output", "-1"], "zero or more"),
    (["fit", *WHAT_IF, "--limit", "0"], "above zero"),
    (["fit", *WHAT_IF, "--min-decode", "nan"], "not a number"),
    (["fit", *WHAT_IF, "--max-ttft", BIG], "at most"),
    (["report", *WHAT_IF, "-o", "r.md", "--input-per-output", "-1"], "zero or more"),
    (["serve", *MODEL, "--gpu", "RTX 4090", "--tp", HUGE], "at most"),
    (["serve", *MODEL, "--gpu", "RTX 4090", "--concurrency", "-3"], "at least 1"),
    (["serve", *MODEL, "--gpu", "RTX 4090", "--output-len", BIG], "more than any model's context"),
    (["cost", *MODEL, "--output-len", "0"], "at least 1"),
    (["bench", "--prompt", BIG], "more than any model's context"),
    (["gui", "--screenshot", "x.png", "--size", "9" * 5000 + "x100"], "not a window size"),
    (["catalog", "build", "-o", "x.json", "--expires-days", BIG], "at most 3650"),
    (["catalog", "build", "-o", "x.json", "--sequence", "-1"], "zero or more"),
    (["catalog", "build", "-o", "x.json", "--sequence", str(2**64)], "at most"),
    (["catalog", "build", "-o", "x.json", "--base-url-hf", "http://[::1"], "not a usable URL"),
    (["catalog", "refresh", "--url", "http://[::1"], "not a usable URL"),
    (["catalog", "refresh", "--url", "https://h:99999/x"], "Port out of range"),
    (["catalog", "refresh", "--url", "file:///etc/passwd"], "not an http(s) URL"),
    (["catalog", "refresh", "--url", "https:///feed.json"], "no host name"),
]


@pytest.mark.parametrize(("argv", "fragment"), CASES, ids=[f"{c[0][0]}-{i}" for i, c in enumerate(CASES)])
def test_extreme_flag_is_one_line_exit_2(cli, tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*argv)
    assert code == 2, err
    line = assert_one_clear_line(err, fragment)
    assert len(line) < 400, "a 400-digit value is shortened in the message"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == [], "nothing written"


def test_credentials_in_a_bad_url_are_not_echoed(cli):
    code, _, err = cli("catalog", "refresh", "--url", "https://user:hunter2@[::1/feed.json")
    assert code == 2
    assert_one_clear_line(err, "not a usable URL")
    assert "hunter2" not in err
