"""Parsing of the workload options shared by hosted, cost and plan."""

from __future__ import annotations

import argparse

import pytest

from rigcheck.cli import _pricing


@pytest.mark.parametrize(
    "text, expected",
    [("5000000", 5e6), ("5M", 5e6), ("200k", 2e5), ("1.5G", 1.5e9), ("2_000", 2000), ("0", 0.0), ("3e6", 3e6)],
)
def test_token_counts(text, expected):
    assert _pricing.token_count(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["lots", "-5", "5X", "", "inf"])
def test_bad_token_counts(text):
    with pytest.raises(argparse.ArgumentTypeError):
        _pricing.token_count(text)


def test_tokens_per_day_needs_both_and_some_output():
    assert _pricing.tokens_per_day("20M,2M") == (2e7, 2e6)
    for bad in ("20M", "20M,0", "1,2,3"):
        with pytest.raises(argparse.ArgumentTypeError):
            _pricing.tokens_per_day(bad)


@pytest.mark.parametrize("text, expected", [("0.4", 0.4), ("40%", 0.4), ("1", 1.0), ("0", 0.0)])
def test_shares(text, expected):
    assert _pricing.share(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1.2", "-0.1", "150%", "half"])
def test_bad_shares(text):
    with pytest.raises(argparse.ArgumentTypeError):
        _pricing.share(text)


def test_json_writes_infinity_as_null(capsys):
    _pricing.print_json({"a": float("inf"), "b": [1.0, float("nan")], "c": (1, 2)})
    assert capsys.readouterr().out.split() == ['{', '"a":', 'null,', '"b":', '[', '1.0,', 'null', '],', '"c":',
                                               '[', '1,', '2', ']', '}']
