"""No answer may carry back a credential the suite sent, and no report may show one.

The suite sends the configured key, a deliberately wrong key (the auth probe) and whatever
credential-looking --header the user gives. A 401 that quotes the wrong key leaks what a
real client sent by mistake (often a real key of another account); it is a finding, and the
report names which credential leaked without printing it.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from conformance.checks import http
from conformance.checks.base import Context, Skip
from conformance.exchange import (
    WRONG_KEY,
    Exchange,
    Request,
    credential_values,
    credentials_sent,
    redact,
)
from conformance.profiles import PROFILES
from tests.suite.certify import API_KEY, certify_mock, config_for

OP = PROFILES["alphaedge"].operations[0]
CTX = Context(config_for("http://127.0.0.1:1"), OP)


def _answer(auth: str, body: bytes, sent: str | None, *extra: tuple[str, str]) -> Exchange:
    headers = [("content-type", "application/json"), *extra]
    if sent is not None:
        headers.append(("authorization", f"Bearer {sent}"))
    request = Request("POST", OP.path, b"{}", json_body={}, auth=auth)
    return Exchange(request, "http://127.0.0.1:1" + OP.path, 401, body=body, sent_headers=headers)


@pytest.mark.parametrize(
    ("name", "value", "found"),
    [
        ("authorization", "Bearer sk-abc123", ["Bearer sk-abc123", "sk-abc123"]),
        ("Authorization", "sk-bare-value", ["sk-bare-value"]),
        ("x-api-key", "gw-key-1", ["gw-key-1"]),
        ("X-Auth-Token", "t0k3n-t0k3n", ["t0k3n-t0k3n"]),
        ("x-api-key", "k-1", []),  # too short to be one: redacting it would wreck reports
        ("cookie", "a=1; session=s3cr3t", ["a=1; session=s3cr3t", "s3cr3t"]),
        ("x-custom", "sk-proj-abcdefgh12", ["sk-proj-abcdefgh12"]),
        ("content-type", "application/json", []),
        ("accept-encoding", "gzip, deflate", []),
        ("idempotency-key", "retry-1", []),
        ("x-request-id", "0f8e2c5a-1b9d-4c3e-9a7f-6d5e4c3b2a10", []),
    ],
)
def test_which_headers_are_credentials(name: str, value: str, found: list[str]) -> None:
    assert credential_values(name, value) == found


def test_the_run_credentials_include_the_wrong_key_and_credential_headers() -> None:
    sent = credentials_sent("sk-mine", [("x-api-key", "gateway-secret"), ("x-trace", "abc")])
    assert sent == ("sk-mine", WRONG_KEY, "gateway-secret")


def test_redaction_covers_every_credential_longest_first() -> None:
    text = f"Bearer {WRONG_KEY} and sk-1 and Bearer sk-1"
    assert redact(text, ["sk-1", "Bearer sk-1", WRONG_KEY]) == (
        "Bearer [REDACTED] and [REDACTED] and [REDACTED]"
    )


def test_a_401_that_quotes_the_wrong_key_is_a_finding_naming_it_not_showing_it() -> None:
    body = f'{{"error": {{"message": "Incorrect API key provided: {WRONG_KEY}"}}}}'.encode()
    ex = _answer("wrong", body, WRONG_KEY)
    outcome = http.key_never_echoed([ex], CTX)
    assert not isinstance(outcome, Skip)
    assert [f.actual for f in outcome] == [
        f"the wrong key the auth probe sent appears in the body at byte {body.find(b'conf')}"
    ]
    assert WRONG_KEY not in outcome[0].expected + outcome[0].actual


def test_a_header_credential_echoed_in_a_response_header_is_a_finding() -> None:
    ex = _answer("valid", b"{}", API_KEY, ("x-api-key", "gw-secret-1"))
    ex.headers = [("x-echo", "gw-secret-1")]
    (finding,) = http.key_never_echoed([ex], CTX)  # type: ignore[misc]
    assert finding.actual == (
        "the value of the x-api-key header the suite sent appears in the response header x-echo"
    )


def test_a_401_without_any_credential_in_it_passes() -> None:
    ex = _answer("wrong", b'{"error": {"message": "Incorrect API key provided"}}', WRONG_KEY)
    assert http.key_never_echoed([ex], CTX) == []


def test_no_credential_sent_is_a_skip() -> None:
    ctx = Context(config_for("http://127.0.0.1:1", api_key=None), OP)
    assert isinstance(http.key_never_echoed([_answer("none", b"{}", None)], ctx), Skip)


def test_against_the_mock_the_echo_is_caught_and_no_result_shows_a_key() -> None:
    """End to end: the wrong-key-echoed mock quotes the wrong key in its 401s; the check
    goes red, and nothing the engine records (findings, evidence, curl) contains a key."""
    results = certify_mock(faults=["wrong-key-echoed"])
    red = [r for r in results if r.id.endswith("/http/key-never-echoed")]
    assert red and all(r.verdict == "fail" for r in red), [(r.id, r.verdict) for r in red]
    recorded = json.dumps([asdict(r) for r in results])
    assert "the wrong key the auth probe sent" in recorded
    assert WRONG_KEY not in recorded
    assert API_KEY not in recorded
