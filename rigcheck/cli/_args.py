"""Argument types shared by the subcommands, so `--context 8,192` means the same in fit, plan, cost and report."""

from __future__ import annotations

import argparse

MAX_TOKENS = 100_000_000
"""Above any model's context: a larger number is a typo, not a setting."""


def token_count(text: str) -> int:
    """A positive number of tokens; "8192", "8_192" and "8,192" all read as 8192."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of tokens") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    if value > MAX_TOKENS:
        raise argparse.ArgumentTypeError(f"{text!r} is more than any model's context")
    return value
