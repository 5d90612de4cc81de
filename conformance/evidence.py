"""Turn a captured exchange into redacted, human-sized evidence with a curl reproduction.

The curl line is meant to be pasted into a shell as it is: the key comes from
`$CONFORMANCE_API_KEY` (the line ends with a comment saying so), other credential headers are
shown as `[REDACTED]` with a note, and a body that is not printable UTF-8 is piped in from
`printf` with octal escapes (POSIX sh), so that exactly the bytes the suite sent are sent
again, NUL bytes included.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Sequence

from conformance.exchange import REDACTED, Exchange, credential_values, redact
from conformance.results import CheckResult, Evidence

__all__ = ["curl_command", "from_exchange", "redact", "with_tls_options"]

EXCERPT = 2000  # characters of a body kept in evidence
KEY_VARIABLE = "CONFORMANCE_API_KEY"
TIMELINE_PIECES = 12  # arrival times listed in evidence; the rest are counted


def _text(data: bytes, limit: int = EXCERPT) -> str:
    text = data[:limit].decode("utf-8", errors="replace")
    return text + (f"... [{len(data) - limit} more bytes]" if len(data) > limit else "")


def _sse_excerpt(body: bytes) -> str:
    lines = body.decode("utf-8", errors="replace").splitlines(keepends=True)
    if len(lines) <= 40:
        return "".join(lines)
    return "".join(lines[:30]) + f"... [{len(lines) - 40} lines] ...\n" + "".join(lines[-10:])


def _secrets(secret: str | Iterable[str] | None) -> list[str]:
    if not secret:
        return []
    return [secret] if isinstance(secret, str) else [s for s in secret if s and s.strip()]


def _printable(data: bytes) -> str | None:
    """`data` as text when it is UTF-8 a shell word can hold as it is, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\n\t" for c in text) else None


def printf_bytes(data: bytes) -> str:
    """A POSIX `printf` command that writes exactly `data` (octal escapes for every byte
    outside printable ASCII, so a NUL or a broken UTF-8 sequence survives)."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "printf " + shlex.quote("".join(out))


def _authorization(value: str, secrets: Sequence[str]) -> str | None:
    """The Authorization value with the key replaced by $CONFORMANCE_API_KEY, when the value
    is `SCHEME KEY` or a bare `KEY` with KEY among the run's credentials."""
    scheme, _, rest = value.partition(" ")
    if rest and rest in secrets:
        return f"{scheme} ${KEY_VARIABLE}"
    if value in secrets:
        return f"${KEY_VARIABLE}"
    return None


def curl_command(ex: Exchange, secret: str | Iterable[str] | None = None) -> str:
    """A shell command that repeats the request; the key comes from $CONFORMANCE_API_KEY."""
    secrets = _secrets(secret)
    req = ex.request
    parts = ["curl", "-sS", "-i"]
    if req.streaming:
        parts.append("-N")
    parts += ["-X", req.method, shlex.quote(ex.url)]
    notes: list[str] = []
    for name, value in ex.sent_headers:
        keyed = _authorization(value, secrets) if name.lower() == "authorization" else None
        if keyed is not None and req.auth == "valid":
            parts += ["-H", f'"{name}: {keyed}"']
            notes.append(f"export {KEY_VARIABLE} first")
        elif credential_values(name, value) or any(s in value for s in secrets):
            parts += ["-H", shlex.quote(f"{name}: {REDACTED}")]
            notes.append(f"put your {name} value in place of {REDACTED}")
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    pipe = ""
    if req.body is not None:
        text = _printable(req.body)
        if text is not None:
            parts += ["--data-binary", shlex.quote(text)]
        else:
            pipe = printf_bytes(req.body) + " | "
            parts += ["--data-binary", "@-"]
    line = pipe + " ".join(parts)
    if notes:  # the key first: it is the note every keyed run has
        ordered = sorted(dict.fromkeys(notes), key=lambda n: not n.startswith("export"))
        line += "  # " + "; ".join(ordered)
    return redact(line, secrets)


def _timeline(ex: Exchange) -> str | None:
    """When each piece of the body arrived, for an answer that streamed or broke off: the
    evidence of a stall is the gap after the last piece."""
    ended_by = getattr(ex, "ended_by", None)
    if not ex.pieces or not (ex.request.streaming or ex.error or ended_by):
        return None
    shown = ", ".join(f"{t:.2f} s +{size}" for t, size in ex.pieces[:TIMELINE_PIECES])
    more = len(ex.pieces) - TIMELINE_PIECES
    if more > 0:
        shown += f", ... {more} more pieces, the last at {ex.pieces[-1][0]:.2f} s"
    total = sum(size for _, size in ex.pieces)
    count = f"{len(ex.pieces)} piece{'s' if len(ex.pieces) != 1 else ''}"
    line = f"{count}, {total} bytes, at: {shown}"
    if ex.error or ended_by:
        line += f"; then {ended_by or 'an error'} ended it at {ex.elapsed:.2f} s"
    return line


def from_exchange(ex: Exchange, secret: str | Iterable[str] | None) -> Evidence:
    secrets = _secrets(secret)

    def clean(text: str) -> str:
        return redact(text, secrets)

    sent = {}
    for name, value in ex.sent_headers:
        keyed = _authorization(value, secrets) if name.lower() == "authorization" else None
        if keyed is not None:
            sent[name] = keyed.replace(f"${KEY_VARIABLE}", REDACTED)
        elif credential_values(name, value):
            sent[name] = REDACTED
        else:
            sent[name] = clean(value)
    streamed = ex.content_type == "text/event-stream"
    return Evidence(
        method=ex.request.method,
        url=clean(ex.url),
        request_headers=sent,
        request_body=clean(_text(ex.request.body or b"")),
        status=ex.status,
        response_headers={k: clean(v) for k, v in ex.headers},
        body_excerpt="" if streamed else clean(_text(ex.body)),
        sse_excerpt=clean(_sse_excerpt(ex.body)) if streamed else None,
        curl=curl_command(ex, secrets),
        error=clean(ex.error) if ex.error else None,
        arrival=_timeline(ex),
    )


def with_tls_options(result: CheckResult, options: Sequence[str]) -> CheckResult:
    """The result with `options` (e.g. --cacert PATH, -k) in every reproduce line, so the
    line reaches an https target the way the run did."""
    if not options:
        return result
    words = " ".join(shlex.quote(o) for o in options)
    for finding in result.findings:
        ev = finding.evidence
        if ev is not None and "curl -sS " in ev.curl:
            curl = ev.curl.replace("curl -sS ", f"curl {words} -sS ", 1)
            finding.evidence = dataclasses.replace(ev, curl=curl)
    return result
