"""Evidence a person can act on: a hung stream's report shows the events that did arrive and
when, and the reproduce line is a shell command that sends the same bytes again."""

from __future__ import annotations

import subprocess
from html import unescape
from pathlib import Path

from conformance.config import RunConfig
from conformance.connection import Connection
from conformance.evidence import curl_command, from_exchange, with_tls_options
from conformance.exchange import WRONG_KEY, Exchange, Request
from conformance.mock.process import MockProcess
from conformance.results import CheckResult, FindingRecord
from tests.first_contact import cli


def test_a_hung_stream_report_shows_the_events_that_arrived(tmp_path: Path) -> None:
    with MockProcess(faults=["stream-stall"]) as mock:
        proc = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=out",
            "--stall-timeout=1",
            "--stream-timeout=3",
            "-k",
            "chat and stream/ends-in-time",
        )
    cli.no_traceback(proc)
    assert proc.returncode == 1, proc.stdout[-3000:]
    data = cli.report(tmp_path / "out")
    (result,) = [r for r in data["results"] if r["id"] == "alphaedge/chat/stream/ends-in-time"]
    assert result["verdict"] == "fail"
    evidence = result["findings"][0]["evidence"]
    assert '"role":"assistant"' in evidence["sse_excerpt"].replace(" ", "")
    assert evidence["arrival"].startswith("1 piece, ")
    assert "then stall ended it at 1." in evidence["arrival"]
    assert "stall" in evidence["error"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "SSE transcript excerpt" in html and "Arrival" in html
    # the SSE data, escaped as text (markupsafe writes a quote as &#34;)
    assert '"role":"assistant"' in unescape(html).replace(" ", "") and "&#34;role&#34;" in html
    assert "then stall ended it" in (tmp_path / "out" / "junit.xml").read_text()


def _exchange(body: bytes, headers: list[tuple[str, str]], auth: str = "valid") -> Exchange:
    request = Request("POST", "/v1/completions", body, auth=auth)
    return Exchange(request=request, url="http://127.0.0.1:9/v1/completions", sent_headers=headers)


def test_a_body_that_is_not_printable_utf8_is_sent_again_byte_for_byte() -> None:
    body = b'{"prompt": "caf\xc3\xa9 100% \\ \x00 it\'s"}\xff\n'
    line = curl_command(_exchange(body, [("content-type", "application/json")]))
    printf, _, curl = line.partition(" | ")
    assert curl.startswith("curl -sS -i ") and curl.endswith("--data-binary @-")
    out = subprocess.run(["sh", "-c", printf], capture_output=True, check=True)
    assert out.stdout == body


def test_a_printable_body_is_one_quoted_word() -> None:
    body = '{"prompt": "it\'s café, 日本語"}'.encode()
    line = curl_command(_exchange(body, [("content-type", "application/json")]))
    word = line.split("--data-binary ", 1)[1]
    out = subprocess.run(["sh", "-c", f"printf %s {word}"], capture_output=True, check=True)
    assert out.stdout == body


def test_reproduce_line_keys_and_credential_headers() -> None:
    key = "sk-evidence-key-0a1b2c3d"
    headers = [
        ("content-type", "application/json"),
        ("X-Api-Key", "sk-hdr-secret-99887766"),
        ("X-Org", "acme"),
        ("authorization", f"Token {key}"),
    ]
    ex = _exchange(b"{}", headers)
    secrets = (key, WRONG_KEY, "sk-hdr-secret-99887766")
    line = curl_command(ex, secrets)
    assert '-H "authorization: Token $CONFORMANCE_API_KEY"' in line
    assert "-H 'X-Api-Key: [REDACTED]'" in line and "-H 'X-Org: acme'" in line
    assert line.endswith(
        "# export CONFORMANCE_API_KEY first; put your X-Api-Key value in place of [REDACTED]"
    )
    assert key not in line and "sk-hdr-secret" not in line
    evidence = from_exchange(ex, secrets)
    assert evidence.request_headers["authorization"] == "Token [REDACTED]"
    assert evidence.request_headers["X-Api-Key"] == "[REDACTED]"
    wrong = from_exchange(
        _exchange(b"{}", [("authorization", f"Bearer {WRONG_KEY}")], "wrong"), secrets
    )
    assert WRONG_KEY not in wrong.curl and WRONG_KEY not in str(wrong.request_headers)


def test_tls_options_go_into_every_reproduce_line() -> None:
    ex = _exchange(b"{}", [("content-type", "application/json")])
    result = CheckResult("a/b/c/d", "a", "b", "c", "MUST", "t", [], "fail")
    result.findings = [FindingRecord("m", from_exchange(ex, ()))]
    with_tls_options(result, Connection(ca_bundle="/etc/ca dir/ca.pem").curl_options())
    curl = result.findings[0].evidence.curl  # type: ignore[union-attr]
    assert curl.startswith("curl --cacert '/etc/ca dir/ca.pem' -sS -i ")
    result.findings = [FindingRecord("m", from_exchange(ex, ()))]
    with_tls_options(result, Connection(insecure=True).curl_options())
    assert result.findings[0].evidence.curl.startswith("curl -k -sS")  # type: ignore[union-attr]


def test_the_run_names_every_credential_it_sends() -> None:
    run = RunConfig(
        target_url="http://127.0.0.1:9",
        profiles=("alphaedge",),
        models={"alphaedge": ("m",)},
        api_key="sk-run-key-12345678",
        connection=Connection(headers=(("X-Api-Key", "abc-secret"), ("X-Org", "acme"))),
    )
    secrets = run.secrets()
    assert {"sk-run-key-12345678", WRONG_KEY, "abc-secret"} <= set(secrets)
    assert "acme" not in secrets
    assert run.options()["headers"] == ["X-Api-Key: [REDACTED]", "X-Org: acme"]
