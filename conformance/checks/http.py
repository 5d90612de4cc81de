"""HTTP-level contract: authentication, no credential echoed, methods, content types."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.checks.declare import EVERY_PROBE, Reads, Tag, check
from conformance.exchange import Exchange, credential_values


@check(
    order=430,
    area="http",
    name="auth-required",
    level="MUST",
    title="no key or a wrong key is refused with a 4xx",
    reads=Reads.all(Tag.AUTH),
    words="auth",
    requires="api_key",
)
def auth_required(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Without the key, or with a wrong one, the request is refused: a 4xx, never served and
    never a 5xx. The documents require the key; which 4xx is `auth-401`'s (a standard's)."""
    if not ctx.config.api_key:
        return Skip("no --api-key given: the target is not known to require one")
    findings = []
    for ex in exchanges:
        if ex.status is None or not 400 <= ex.status < 500:
            how = "no Authorization header" if ex.request.auth == "none" else "a wrong key"
            got = ex.error or f"HTTP {ex.status}" + (" (served)" if ex.ok else "")
            findings.append(Finding(f"a 4xx refusal of a request with {how}", got, ex))
    return findings


@check(
    order=435,
    area="http",
    name="auth-401",
    level="SHOULD",
    title="a missing or wrong key is refused with 401",
    reads=Reads.all(Tag.AUTH),
    requires="api_key",
)
def auth_401(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A refusal for missing or bad credentials is 401 Unauthorized, the status clients
    branch on to ask for a key. Judged on the refusals only: a request that was served is
    `auth-required`'s finding."""
    refused = [ex for ex in exchanges if ex.status is not None and 400 <= ex.status < 500]
    if not refused:
        return Skip("no request without a valid key was refused (auth-required says why)")
    findings = []
    for ex in refused:
        if ex.status != 401:
            how = "no Authorization header" if ex.request.auth == "none" else "a wrong key"
            findings.append(Finding(f"HTTP 401 for a request with {how}", f"HTTP {ex.status}", ex))
    return findings


def _credentials(exchanges: Sequence[Exchange], ctx: Context) -> dict[str, str]:
    """Each credential the suite sent, mapped to words naming it (never the value itself):
    the configured key, the auth probe's wrong key, and any credential-looking header value
    (an --header), read from the headers each request really carried."""
    key = ctx.config.api_key
    named: dict[str, str] = {}
    for ex in exchanges:
        for name, value in ex.sent_headers:
            for secret in credential_values(name, value):
                if key and key in secret:
                    label = "the API key"
                elif name.lower() == "authorization" and ex.request.auth == "wrong":
                    label = "the wrong key the auth probe sent"
                else:
                    label = f"the value of the {name} header the suite sent"
                named.setdefault(secret, label)
    if key:
        named.setdefault(key, "the API key")
    # Look for the shortest form of each: "Bearer k" is found wherever "k" is.
    return {
        s: label
        for s, label in named.items()
        if not any(other != s and other in s for other in named)
    }


@check(
    order=440,
    area="http",
    name="key-never-echoed",
    level="MUST",
    title="no answer contains the API key",
    reads=EVERY_PROBE,
    words="auth",
    requires="api_key",
)
def key_never_echoed(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """No answer, success or error, contains a credential the suite sent: the API key, the
    wrong key of the auth probe, or a credential-looking --header (logs and UIs show error
    bodies, so an echoed key leaks). Findings name which credential, never its value."""
    secrets = _credentials(exchanges, ctx)
    if not secrets:
        return Skip("no credential was sent (no --api-key, no credential-looking header)")
    findings = []
    for ex in exchanges:
        for secret, label in secrets.items():
            needle = secret.encode()
            in_header = next((name for name, value in ex.headers if secret in value), None)
            if in_header is None and needle not in ex.body:
                continue
            where = (
                f"the response header {in_header}"
                if in_header is not None
                else f"the body at byte {ex.body.find(needle)}"
            )
            findings.append(
                Finding(
                    "no trace of any credential the suite sent in the answer",
                    f"{label} appears in {where}",
                    ex,
                )
            )
    return findings


@check(
    order=450,
    area="http",
    name="wrong-method-405",
    level="SHOULD",
    title="GET on the path gives 405",
    reads=Reads.all(Tag.METHOD),
)
def wrong_method_405(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """GET on a POST-only path is 405 Method Not Allowed (RFC 9110), not 404 or 200."""
    return [
        Finding("HTTP 405 for GET on a POST-only path", ex.error or f"HTTP {ex.status}", ex)
        for ex in exchanges
        if ex.status != 405
    ]


@check(
    order=470,
    area="http",
    name="json-content-type",
    level="SHOULD",
    title="JSON answers are labelled application/json",
    reads=Reads.none(Tag.STREAM),
)
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
