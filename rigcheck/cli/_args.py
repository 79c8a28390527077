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


def positive_number(kind=float, *, zero: bool = False):
    """An argparse type: a finite number above zero (or zero too, with ``zero``), read as ``kind`` (int or float)."""
    import math

    def parse(text: str):
        try:
            value = kind(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"{text!r} must be {'zero or more' if zero else 'above zero'}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error messages
    return parse
