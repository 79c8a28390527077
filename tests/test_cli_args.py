"""Token-count arguments read the same in every command that takes them."""

from __future__ import annotations

import pytest

from rigcheck.cli.main import build_parser


@pytest.mark.parametrize("command", ["fit", "plan --model x", "cost --model x", "report -o r.md"])
@pytest.mark.parametrize(
    ("text", "tokens"),
    [("8192", 8192), ("8_192", 8192), ("8,192", 8192),  # separators people type
     ("8k", 8192), ("8K", 8192), ("1.5k", 1536), ("128k", 131072), ("1m", 1048576)],  # context sizes as named
)
def test_context_and_prompt_accept_the_same_spellings(command, text, tokens):
    args = build_parser().parse_args([*command.split(), "--context", text, "--prompt", text])
    assert (args.context, args.prompt) == (tokens, tokens)


@pytest.mark.parametrize("command", ["fit", "plan --model x", "cost --model x", "report -o r.md"])
@pytest.mark.parametrize("text", ["0", "-5", "abc", "200000000", "0.1k", "k", "2kk", "1e400k", "200m", "nank"])
def test_bad_token_counts_are_refused_alike(command, text, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*command.split(), "--context", text])
    assert exc.value.code == 2
    assert "--context" in capsys.readouterr().err
