"""Is the target reachable and configured? A handful of bounded requests before the suite.

A first run is rarely configured right: the wrong port, https to a plain port, `/v1` twice,
no key, a model the server does not serve. Without this step each of those becomes hundreds
of failed checks that all say the same thing, and some checks would even pass (a refusal
check "passes" when every request is refused for the wrong reason). So before any check
runs, one minimal valid request per profile tells whether the target can be judged at all;
when it cannot, the run stops with one line that says what is wrong and one that says what
to do, and no findings. When only some profiles are served, those are certified and the
others are reported as not certified, each with its reason.

Only configuration is diagnosed here. An answer that is merely wrong (a 500, a 400 to a
valid request, garbage) is the server's behaviour: the checks judge it and report it.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

from conformance.config import RunConfig
from conformance.exchange import Exchange, Limits, Request, Transport
from conformance.profiles import PROFILES, Operation

FOLLOW_UP_WAIT = 3.0  # each follow-up request that narrows a diagnosis down
TLS_PROBE_WAIT = 2.0
BODY_CAP = 64 * 1024


@dataclass(frozen=True)
class Diagnosis:
    """Why the target (or one profile of it) cannot be certified as configured."""

    kind: str  # stable name: unreachable, tls-to-plain, plain-to-tls, tls-untrusted,
    # not-found, v1-doubled, wrong-prefix, auth-missing, auth-refused, unknown-model,
    # rate-limited, redirect
    line: str  # what happened, one line
    hint: str  # what to do about it, one line


@dataclass
class Outcome:
    """What the preflight found: a reason to stop, or the profiles that can be judged."""

    fatal: Diagnosis | None = None  # nothing can be certified: the run stops
    blocked: dict[str, Diagnosis] = field(default_factory=dict)  # profile -> why not
    answered: dict[str, str] = field(default_factory=dict)  # profile -> "HTTP 200 in 0.1 s"
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    requests: int = 0  # requests the preflight sent (they count toward --max-requests)

    def summary(self) -> str:
        """The line printed before the suite starts."""
        seen = ", ".join(f"{p} {what}" for p, what in self.answered.items())
        line = f"conformance: preflight ok in {self.elapsed:.1f} s ({seen or 'no answer yet'})"
        return line + "".join(f"; {note}" for note in self.notes)


def _words(ex: Exchange) -> str:
    """The status or the transport error of an exchange, for a diagnosis line."""
    if ex.status is not None:
        return f"HTTP {ex.status}"
    return ex.error or "no answer"


def _body_text(ex: Exchange) -> str:
    return ex.body[:2000].decode("utf-8", errors="replace")


def _error_message(body: str, limit: int = 120) -> str:
    """What an error body says, in one short line: the message of an OpenAI-style error
    envelope or a `detail` string, else the start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    said: object = None
    if isinstance(data, dict):
        error = data.get("error")
        said = error.get("message") if isinstance(error, dict) else error
        said = said or data.get("detail") or data.get("message")
    text = said if isinstance(said, str) else body
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _has_word(text: str, word: str) -> bool:
    return bool(word) and re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])", text) is not None


class _Probe:
    """Sends the preflight's requests: short waits, no 429 waiting, no redirects."""

    def __init__(self, run: RunConfig, base_url: str, wait: float) -> None:
        limits = replace(
            Limits(),
            request_timeout=wait,
            stream_timeout=wait,
            max_bytes=BODY_CAP,
            max_retries_429=0,
        )
        if hasattr(limits, "stall_timeout"):
            limits = replace(limits, stall_timeout=wait)
        self.transport = Transport(base_url, run.api_key, limits, run.connection)

    def send(self, request: Request) -> Exchange:
        return self.transport.send(request)

    def close(self) -> None:
        self.transport.sockets.abort()
        self.transport.close()


def _minimal(op: Operation, run: RunConfig) -> Request:
    """The smallest request the profile's document says must be served."""
    from conformance import plan

    return Request.post_json(op.path, plan.base_payload(op, run, max_tokens=1))


def _send_minimal(probe: _Probe, op: Operation, run: RunConfig) -> Exchange:
    return probe.send(_minimal(op, run))


def _in_parallel(jobs: Sequence[Callable[[], Exchange]]) -> list[Exchange]:
    """Run the jobs on threads; the main thread only waits (so Ctrl-C reaches it)."""
    results: list[Exchange | None] = [None] * len(jobs)

    def run(i: int) -> None:
        results[i] = jobs[i]()

    threads = [
        threading.Thread(target=run, args=(i,), daemon=True, name="conformance-preflight")
        for i in range(len(jobs))
    ]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.1)
    return [r for r in results if r is not None]


def _tls_answers(host: str, port: int) -> bool:
    """Whether host:port completes a TLS handshake (certificate not checked: only the
    protocol is in question here)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=TLS_PROBE_WAIT) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def _plain_http_answers(host: str, port: int) -> bool:
    """Whether host:port answers a plain-text HTTP request with an HTTP status line."""
    try:
        with socket.create_connection((host, port), timeout=TLS_PROBE_WAIT) as sock:
            sock.settimeout(TLS_PROBE_WAIT)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


_TLS_ON_PLAIN = re.compile(
    r"wrong.version.number|record.layer.failure|packet.length.too.long|unknown.protocol|"
    r"http.request|unexpected.eof|tlsv1.alert.protocol",
    re.IGNORECASE,
)
_UNTRUSTED = re.compile(r"certificate.verify.failed|self.signed|unable.to.get.local", re.I)


def _transport_diagnosis(ex: Exchange, url: str) -> Diagnosis | None:
    """A connection-level problem: nothing listens, TLS mismatch, untrusted certificate.
    None when the failure is not one of those (e.g. a timeout: the target may be slow)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    error = ex.error or ""
    ended = getattr(ex, "ended_by", None)
    if ex.timed_out or ended in ("request-timeout", "stall", "stream-timeout"):
        return None
    if parts.scheme == "https" and _UNTRUSTED.search(error):
        return Diagnosis(
            "tls-untrusted",
            f"the TLS certificate of {host}:{port} is not trusted ({_ssl_reason(error)})",
            "pass --ca-bundle PATH with the CA that signed it, or --insecure to skip "
            "certificate verification",
        )
    if parts.scheme == "https" and (
        _TLS_ON_PLAIN.search(error) or "SSL" in error or "TLS" in error
    ):
        if _plain_http_answers(host, port):
            return Diagnosis(
                "tls-to-plain",
                f"{host}:{port} speaks plain HTTP, not TLS ({_ssl_reason(error)})",
                f"use http:// instead of https:// (--target-url={_with_scheme(url, 'http')})",
            )
        return Diagnosis(
            "tls-failed",
            f"the TLS handshake with {host}:{port} failed ({_ssl_reason(error)})",
            "check that the port serves HTTPS; --ca-bundle or --insecure if the certificate "
            "is the problem",
        )
    if "refused" in error.lower():
        return Diagnosis(
            "unreachable",
            f"cannot connect to {host}:{port}: connection refused (nothing listens there)",
            "start the server, or correct the host and port in --target-url",
        )
    if "name or service not known" in error.lower() or "nodename" in error.lower():
        return Diagnosis(
            "unreachable",
            f"cannot resolve the host name {host!r}",
            "correct the host in --target-url",
        )
    if ended == "connect-error" or "ConnectError" in error:
        return Diagnosis(
            "unreachable",
            f"cannot connect to {host}:{port} ({error})",
            "start the server, or correct the host and port in --target-url",
        )
    if parts.scheme == "http" and _tls_answers(host, port):
        return Diagnosis(
            "plain-to-tls",
            f"{host}:{port} speaks TLS, and the suite sent plain HTTP ({error or _words(ex)})",
            f"use https:// instead of http:// (--target-url={_with_scheme(url, 'https')})",
        )
    return None


def _ssl_reason(error: str) -> str:
    match = re.search(r"\[SSL: ([A-Z_]+)\]|\] ([^()]+?) \(_ssl", error)
    if match:
        return (match.group(1) or match.group(2)).replace("_", " ").lower()
    return error.split(": ", 1)[-1][:120] if error else "no detail"


def _with_scheme(url: str, scheme: str) -> str:
    return urlunsplit((scheme, *urlsplit(url)[1:]))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _prefix(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def _overlap(prefix: str, path: str) -> str:
    """The longest tail of `prefix` that `path` starts with ("/v1" for "/api/v1" and
    "/v1/completions"): the part of the URL the suite would send twice."""
    segments = [s for s in prefix.split("/") if s]
    for i in range(len(segments)):
        tail = "/" + "/".join(segments[i:])
        if path.startswith(tail + "/"):
            return tail
    return ""


class _Diagnose:
    """The follow-up requests that tell one 404/401/429 from another."""

    def __init__(self, run: RunConfig) -> None:
        self.run = run
        self.url = run.target_url

    def status_diagnosis(self, op: Operation, ex: Exchange, probe: _Probe) -> Diagnosis | None:
        status = ex.status
        if status is None:
            return None
        body = _body_text(ex)
        if status in (401, 403):
            return self._auth(status)
        if status == 429:
            return self._rate_limited(ex)
        if 300 <= status < 400:
            where = ex.header("location") or "(no Location header)"
            return Diagnosis(
                "redirect",
                f"POST {op.path} answers HTTP {status}, a redirect to {where}",
                "give the URL the server redirects to as --target-url (the suite does not "
                "follow redirects: a POST must not be silently re-sent)",
            )
        if status in (400, 404, 422) and self._names_model(op, body):
            return self._unknown_model(op, status, body, probe)
        if status == 404:
            if self._path_exists(op, probe):
                return self._unknown_model(op, status, body, probe)
            return Diagnosis(
                "not-found",
                f"POST {op.path} answers HTTP 404 (no such path at {self.url})",
                "",
            )
        return None

    def _names_model(self, op: Operation, body: str) -> bool:
        models = self.run.models.get(op.profile, ())
        lowered = body.lower()
        return any(_has_word(body, m) for m in models) or "model_not_found" in lowered

    def _path_exists(self, op: Operation, probe: _Probe) -> bool:
        """A GET on the path: 405 means the route exists and only the method is wrong."""
        ex = probe.send(Request("GET", op.path, None, headers=(("accept", "application/json"),)))
        return ex.status == 405

    def _auth(self, status: int) -> Diagnosis:
        if not self.run.api_key and not any(
            n.lower() == "authorization" for n, _ in self.run.connection.headers
        ):
            return Diagnosis(
                "auth-missing",
                f"every request answers HTTP {status}: the target wants an API key",
                "pass --api-key=KEY or set CONFORMANCE_API_KEY",
            )
        scheme = self.run.connection.auth_scheme
        form = f"Authorization: {scheme} KEY" if scheme else "Authorization: KEY"
        return Diagnosis(
            "auth-refused",
            f"every request answers HTTP {status}: the target refuses the key (sent as {form})",
            "check --api-key / CONFORMANCE_API_KEY, and --auth-scheme if the key is sent "
            "in another form (--auth-scheme=none sends it bare)",
        )

    def _rate_limited(self, ex: Exchange) -> Diagnosis:
        after = ex.header("retry-after")
        when = f" (Retry-After: {after})" if after else ""
        return Diagnosis(
            "rate-limited",
            f"every request answers HTTP 429{when}",
            "the key is over its quota or rate limit; try later, or lower --concurrency",
        )

    def _unknown_model(self, op: Operation, status: int, body: str, probe: _Probe) -> Diagnosis:
        model = ",".join(self.run.models.get(op.profile, ()))
        served = self._served_models(probe)
        hint = f"pass --model=NAME (or --model={op.profile}=NAME) with a model it serves"
        if served:
            hint += f"; GET /v1/models lists: {', '.join(served)}"
        said = _error_message(body)
        return Diagnosis(
            "unknown-model",
            f"model {model!r} is not served: POST {op.path} answers HTTP {status}"
            + (f" ({said})" if said else ""),
            hint,
        )

    def _served_models(self, probe: _Probe) -> list[str]:
        ex = probe.send(
            Request("GET", "/v1/models", None, headers=(("accept", "application/json"),))
        )
        ok, data = ex.json() if ex.status == 200 else (False, None)
        if not ok or not isinstance(data, dict) or not isinstance(data.get("data"), list):
            return []
        names = [m.get("id") for m in data["data"] if isinstance(m, dict)]
        return [n for n in names if isinstance(n, str)][:8]

    def path_diagnosis(self, ops: Sequence[Operation]) -> Diagnosis:
        """Every selected profile's path answers 404: find what is wrong with the URL."""
        prefix = _prefix(self.url)
        paths = ", ".join(f"POST {op.path}" for op in ops)
        for op in ops:
            doubled = _overlap(prefix, op.path)
            if doubled:
                fixed = _origin(self.url) + prefix[: len(prefix) - len(doubled)]
                return Diagnosis(
                    "v1-doubled",
                    f"every endpoint answers HTTP 404: your URL ends in {doubled} and the suite "
                    f"adds {op.path} itself ({self.url}{op.path})",
                    f"drop {doubled} from the URL: --target-url={fixed}",
                )
        candidates = [_origin(self.url)] if prefix else []
        for candidate in candidates:
            if self._answers_at(candidate, ops[0]):
                return Diagnosis(
                    "wrong-prefix",
                    f"every endpoint answers HTTP 404 under the path prefix {prefix}, and the "
                    f"API answers at {candidate}{ops[0].path}",
                    f"use --target-url={candidate}",
                )
        others = self._other_profiles(ops)
        hint = (
            "check the base URL: the suite adds the documented paths (/v1/...) itself; if the "
            "API sits under a path prefix, include it (--target-url=http://HOST:PORT/PREFIX)"
        )
        if others:
            hint = (
                f"this target serves the {' and '.join(others)} profile: "
                f"--profile={','.join(others)}"
            )
        where = f"under the path prefix {prefix}" if prefix else f"at {self.url}"
        return Diagnosis(
            "wrong-prefix" if prefix else "not-found",
            f"every endpoint answers HTTP 404 {where} ({paths})",
            hint,
        )

    def _answers_at(self, base: str, op: Operation) -> bool:
        probe = _Probe(self.run, base, FOLLOW_UP_WAIT)
        try:
            ex = probe.send(_minimal(op, self.run))
        finally:
            probe.close()
        return ex.status is not None and ex.status != 404

    def _other_profiles(self, ops: Sequence[Operation]) -> list[str]:
        """Profiles the run did not select whose path does answer (a --profile hint)."""
        selected = {op.profile for op in ops}
        found = []
        probe = _Probe(self.run, self.url, FOLLOW_UP_WAIT)
        try:
            for name, profile in PROFILES.items():
                if name in selected:
                    continue
                ex = probe.send(_minimal(profile.operations[0], self.run))
                if ex.status is not None and ex.status != 404:
                    found.append(name)
        finally:
            probe.close()
        return found


def check(run: RunConfig) -> Outcome:
    """Send one minimal valid request per profile (in parallel), and diagnose.

    Bounded: the first answers are waited for as long as --request-timeout allows one
    answer (a target that sends nothing in that time cannot be judged at all); a handful of
    follow-ups, each at most FOLLOW_UP_WAIT, narrow a failure down. A misconfigured target
    answers at once, so the usual diagnosis takes well under a second.
    """
    start = time.monotonic()
    outcome = Outcome()
    wait = run.limits.request_timeout
    probe = _Probe(run, run.target_url, wait)
    ops = [PROFILES[p].operations[0] for p in run.profiles]
    diagnose = _Diagnose(run)
    try:
        first = _in_parallel([functools.partial(_send_minimal, probe, op, run) for op in ops])
        retry = [i for i, ex in enumerate(first) if ex.status == 429]
        if retry:  # one 429 may be a burst limit; a second one after a pause is the quota
            time.sleep(1.0)
            for i in retry:
                first[i] = probe.send(_minimal(ops[i], run))
        by_profile: dict[str, Diagnosis] = {}
        silent = 0
        for op, ex in zip(ops, first, strict=True):
            if ex.status is None:
                wrong = _transport_diagnosis(ex, run.target_url)
                if wrong is not None:
                    outcome.fatal = wrong  # the connection is the same for every profile
                    return outcome
                silent += bool(ex.timed_out)
                outcome.notes.append(
                    f"{op.profile}: {ex.error or 'no answer'} (not judged here: the checks "
                    "will see it)"
                )
                continue
            found = diagnose.status_diagnosis(op, ex, probe)
            if found is None:
                outcome.answered[op.profile] = f"HTTP {ex.status} in {ex.elapsed:.2f} s"
            else:
                by_profile[op.profile] = found
        if silent == len(ops):
            outcome.fatal = Diagnosis(
                "no-answer",
                f"the target accepts connections but sent no answer within {wait:g} s "
                "(--request-timeout)",
                "check that the server is up and not stuck (a model still loading?); if it "
                "is only slow, give a larger --request-timeout",
            )
            return outcome
        _settle(outcome, by_profile, ops, diagnose)
        return outcome
    finally:
        probe.close()
        outcome.elapsed = time.monotonic() - start
        outcome.requests = probe.transport.sent


def _settle(
    outcome: Outcome,
    by_profile: dict[str, Diagnosis],
    ops: Sequence[Operation],
    diagnose: _Diagnose,
) -> None:
    """Turn per-profile findings into a stop (nothing usable) or per-profile blocks."""
    missing = [op for op in ops if by_profile.get(op.profile) is not None]
    not_found = [op for op in missing if by_profile[op.profile].kind == "not-found"]
    usable = [op for op in ops if op.profile not in by_profile]
    if not usable and missing:
        if len(not_found) == len(missing):
            outcome.fatal = diagnose.path_diagnosis(not_found)
        else:
            first = by_profile[missing[0].profile]
            outcome.fatal = first
        return
    for op in missing:
        found = by_profile[op.profile]
        if found.kind == "not-found":
            found = Diagnosis(
                "profile-absent",
                f"POST {op.path} answers HTTP 404 while other profiles answer: the target "
                f"does not serve the {op.profile} profile at this URL",
                f"leave it out (--profile={','.join(o.profile for o in usable)}) or check "
                "where it is served",
            )
        outcome.blocked[op.profile] = found


def to_json(blocked: dict[str, Diagnosis]) -> str:
    """The blocked profiles, for pytest-xdist workers (they never see the preflight)."""
    return json.dumps({p: [d.kind, d.line, d.hint] for p, d in blocked.items()})


def blocked_from_json(text: str) -> dict[str, Diagnosis]:
    data = json.loads(text) if text else {}
    return {p: Diagnosis(*v) for p, v in data.items()}
