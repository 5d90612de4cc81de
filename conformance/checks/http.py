"""HTTP-level contract: authentication, the key never echoed, methods, content types."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.exchange import Exchange


def auth_required(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Without the key, or with a wrong one, the request is refused with 401."""
    if not ctx.config.api_key:
        return Skip("no --api-key given: the target is not known to require one")
    findings = []
    for ex in exchanges:
        if ex.status != 401:
            how = "no Authorization header" if ex.request.auth == "none" else "a wrong key"
            findings.append(
                Finding(f"HTTP 401 for a request with {how}", ex.error or f"HTTP {ex.status}", ex)
            )
    return findings


def key_never_echoed(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """No answer, success or error, contains the API key (logs and UIs show error bodies)."""
    key = ctx.config.api_key
    if not key:
        return Skip("no --api-key given")
    needle = key.encode()
    findings = []
    for ex in exchanges:
        in_headers = any(key in value for _, value in ex.headers)
        if needle in ex.body or in_headers:
            where = (
                "a response header" if in_headers else f"the body at byte {ex.body.find(needle)}"
            )
            findings.append(
                Finding("no trace of the API key in the answer", f"the key appears in {where}", ex)
            )
    return findings


def wrong_method_405(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """GET on a POST-only path is 405 Method Not Allowed (RFC 9110), not 404 or 200."""
    return [
        Finding("HTTP 405 for GET on a POST-only path", ex.error or f"HTTP {ex.status}", ex)
        for ex in exchanges
        if ex.status != 405
    ]


def json_content_type(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """JSON answers say `application/json`, or clients that check the type refuse them."""
    findings = []
    judged = 0
    for ex in exchanges:
        if ex.status is None or ex.request.streaming or ex.status in (405,) or not ex.body:
            continue
        ok, _ = ex.json()
        if not ok:
            continue
        judged += 1
        ctype = ex.content_type
        if ctype != "application/json" and not ctype.endswith("+json"):
            findings.append(
                Finding(
                    "Content-Type: application/json",
                    f"Content-Type: {ex.header('content-type')!r}",
                    ex,
                )
            )
    if not judged:
        return Skip("no JSON answer to judge")
    return findings[:5]
