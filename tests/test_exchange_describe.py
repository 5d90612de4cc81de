"""`Exchange.describe()` shows a request body as a reader sees it: a body that is not JSON (the
malformed-JSON probe) as its text, never as a Python bytes repr (`b'{"model"...'`, seen in
findings on real servers), and always on one line."""

from __future__ import annotations

from conformance.exchange import Exchange, Request


def _described(request: Request) -> str:
    ex = Exchange(request=request, url="http://127.0.0.1:1/v1/completions", status=400,
                  headers=[("content-type", "application/json")])  # fmt: skip
    return ex.describe()


def test_a_malformed_json_body_is_shown_as_its_text() -> None:
    raw = b'{"model": "alphaedge-large-3-2512", "prompt": "Write one'
    line = _described(Request("POST", "/v1/completions", raw))
    assert line == (
        'POST /v1/completions {"model": "alphaedge-large-3-2512", "prompt": "Write one'
        " -> HTTP 400 application/json"
    )
    assert "b'" not in line and '\\"' not in line


def test_bytes_that_are_not_utf8_and_control_characters_stay_readable_on_one_line() -> None:
    line = _described(Request("POST", "/v1/completions", b'{"p": "caf\xc3\xa9\n\xff\x00'))
    assert line.startswith('POST /v1/completions {"p": "café\\n\ufffd\\x00 -> HTTP 400')
    assert "\n" not in line


def test_a_long_body_is_cut_and_no_body_is_named() -> None:
    line = _described(Request("POST", "/v1/completions", b"x" * 5000))
    assert "x" * 300 in line and "x" * 301 not in line
    assert _described(Request("GET", "/v1/completions", None)).startswith(
        "GET /v1/completions (no body) -> HTTP 400"
    )


def test_a_json_body_is_still_shown_as_json() -> None:
    line = _described(Request.post_json("/v1/completions", {"model": "m", "prompt": "hi"}))
    assert line.startswith('POST /v1/completions {"model": "m", "prompt": "hi"} -> HTTP 400')
