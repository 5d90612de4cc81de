"""exchanges.har: every exchange of a run as HAR 1.2, and reading it back for `rejudge`.

The file serves two readers. A person opens it in a browser's developer tools or a HAR viewer
and sees each request with its headers, body, status, answer and timings. `conformance
rejudge` rebuilds from it the exact `Probe`s and `Exchange`s the checks judged, so a
certification can be audited, and old recordings re-judged by a newer suite, without calling
the server again.

What HAR has no field for sits in underscore-prefixed custom fields, as HAR 1.2 allows:
`entry._conformance` (the probe: key, operation, tags, meta), `request._conformance` (the
suite's `Request` fields), `response._conformance` (every other `Exchange` field, derived from
the dataclass so new fields are recorded without a change here), `response._pieces` (arrival
time and size of each piece of the body: a stream's rhythm), `response._error`,
`response._cut`, `postData._encoding`, and `log._conformance` (the run's options).

Bytes are kept exactly: a body is `content.text` when it is valid UTF-8, else base64 with
`content.encoding: "base64"`. A body longer than `BODY_LIMIT` is cut there and marked
(`response._cut`), and `rejudge` then keeps the recorded verdict of any check that read it.

Credentials never reach the file. Each one the run sent (the API key, the suite's wrong key,
...) is replaced by a placeholder of the same byte length (`REDACTED0xxxx...`), so offsets
and piece sizes stay true and the checks that look for a key still find its placeholder.

The standard fields (url, headers, status, bodies) are the ones `rejudge` reads, so what a
person sees in a viewer is what is judged; `response._conformance` holds the rest.

We use `harfile` (the HAR writer schemathesis itself uses, already installed with it) for the
typed standard objects. Its file writer is not used: it has no place for custom fields on the
log and the entries, which the recording needs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlsplit

import harfile

from conformance import __version__
from conformance.checks.base import Probe
from conformance.config import RunConfig
from conformance.exchange import WRONG_KEY, Exchange, Request
from conformance.profiles import PROFILES, Operation
from conformance.report import typed_json
from conformance.report.scrub import Scrubber

HAR_NAME = "exchanges.har"
PARTS_DIR = ".exchanges-parts"  # pytest-xdist workers' entries, merged by the controller
FORMAT = 1  # of the custom fields; a reader refuses a newer one
BODY_LIMIT = 1 << 20  # bytes of each body kept; the size cap of an answer is 8 MiB by default

# Roles of credentials that are not secret (the auth probe's wrong key is in the suite's
# source): redacted in the file like every credential, and put back on reading, so a check
# that looks for them in answers judges the same bytes offline.
PUBLIC = {"wrong-key": WRONG_KEY}

# Exchange / Request / Probe fields held by standard HAR fields (or, for memo, not at all).
_EXCHANGE_IN_HAR = frozenset(
    {"request", "url", "status", "headers", "body", "sent_headers", "pieces", "memo"}
)
_REQUEST_IN_HAR = frozenset({"method", "body"})
_PROBE_IN_HAR = frozenset({"op", "request"})


class HarFileError(Exception):
    """A recording that cannot be read; the message is one line for the person."""


def credentials(run: RunConfig) -> list[tuple[str, str]]:
    """(role, value) of every credential the run sends (`RunConfig.secrets`), in its order:
    the order fixes the placeholders, so every pytest-xdist worker of a run redacts alike.

    A value that contains another (`Bearer sk-1` and `sk-1`) is left to the inner one: the
    placeholder then sits inside the same `Bearer ...`, and a re-judged run whose options
    hold the placeholders finds them where the live run found the credentials."""
    values = list(run.secrets())
    inner = [v for v in values if not any(o != v and o in v for o in values)]
    return [
        ("wrong-key" if v == WRONG_KEY else "api-key" if v == run.api_key else "header", v)
        for v in inner
    ]


def placeholder(index: int, length: int) -> str:
    """A stand-in of `length` characters, safe in JSON, URLs, HTML and shells."""
    tag = f"REDACTED{index}"
    if length >= len(tag):
        return tag + "x" * (length - len(tag))
    return (f"R{index}" + "x" * length)[:length]


class Redactor:
    """Replaces each credential, in every spelling the report scrubber knows, by its
    same-length placeholder; `restore` puts the public ones (the wrong key) back."""

    def __init__(self, secrets: Sequence[tuple[str, str]]) -> None:
        pairs: list[tuple[str, str]] = []
        self.roles: dict[str, str] = {}  # placeholder -> role ("api-key", "wrong-key", ...)
        self.public: dict[str, str] = {}  # placeholder -> the public value it stands for
        for index, (role, secret) in enumerate(secrets):
            if not secret.strip():
                continue
            raw = placeholder(index, len(secret.encode("utf-8")))
            self.roles[raw] = role
            if role in PUBLIC:
                self.public[raw] = PUBLIC[role]
            for variant in Scrubber([secret]).secrets:
                pairs.append((variant, placeholder(index, len(variant.encode("utf-8")))))
        pairs.sort(key=lambda p: len(p[0]), reverse=True)  # a longer spelling first
        self._text = pairs
        self._bytes = [(a.encode("utf-8"), b.encode("utf-8")) for a, b in pairs]

    def text(self, value: str) -> str:
        for secret, stand_in in self._text:
            if secret in value:
                value = value.replace(secret, stand_in)
        return value

    def data(self, value: bytes) -> bytes:
        for secret, stand_in in self._bytes:
            if secret in value:
                value = value.replace(secret, stand_in)
        return value

    def restore_text(self, value: str) -> str:
        for stand_in, secret in self.public.items():
            value = value.replace(stand_in, secret)
        return value

    def restore_data(self, value: bytes) -> bytes:
        for stand_in, secret in self.public.items():
            value = value.replace(stand_in.encode(), secret.encode())
        return value

    def tree(
        self, value: Any, fix: Callable[[str], str], fix_bytes: Callable[[bytes], bytes]
    ) -> Any:
        """Apply `fix` to every string of encoded data, `fix_bytes` inside `$bytes` values."""
        if isinstance(value, str):
            return fix(value)
        if isinstance(value, list):
            return [self.tree(v, fix, fix_bytes) for v in value]
        if isinstance(value, dict):
            if set(value) == {"$bytes"}:
                raw = fix_bytes(base64.b64decode(value["$bytes"]))
                return {"$bytes": base64.b64encode(raw).decode("ascii")}
            return {fix(k): self.tree(v, fix, fix_bytes) for k, v in value.items()}
        return value


# --- writing -------------------------------------------------------------------------------


def _body(data: bytes) -> tuple[str, str | None]:
    """`data` (already cut) as HAR text: itself when UTF-8, else base64."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(max(epoch, 0.0), UTC).isoformat(timespec="microseconds")


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _cut(data: bytes, limit: int) -> tuple[bytes, dict[str, Any] | None]:
    if len(data) <= limit:
        return data, None
    mark = {"size": len(data), "kept": limit, "sha256": hashlib.sha256(data).hexdigest()}
    return data[:limit], mark


def entries(
    pairs: Iterable[tuple[Probe, Exchange]], redactor: Redactor, limit: int = BODY_LIMIT
) -> Iterator[dict[str, Any]]:
    """HAR entries for each (probe, exchange), redacted. An exchange held in a field of
    another (e.g. a re-send) gets an entry of its own, after its parent, referenced by id."""
    for probe, exchange in pairs:
        pending: list[tuple[Exchange, str, str | None]] = [(exchange, probe.key, None)]
        while pending:
            ex, ident, parent = pending.pop(0)
            children: list[tuple[Exchange, str, str | None]] = []

            def ref(value: Any, ident: str = ident, children: list[Any] = children) -> str | None:
                if isinstance(value, Exchange):
                    child = f"{ident}#{len(children) + 1}"
                    children.append((value, child, ident))
                    return child
                return None

            yield _entry(probe, ex, ident, parent, redactor, limit, ref)
            pending[:0] = children


def _entry(
    probe: Probe,
    ex: Exchange,
    ident: str,
    parent: str | None,
    redactor: Redactor,
    limit: int,
    ref: typed_json.Ref,
) -> dict[str, Any]:
    req = ex.request
    clean = redactor.text
    url = clean(ex.url)
    post: dict[str, Any] | None = None
    post_cut = None
    if req.body is not None:
        sent, post_cut = _cut(redactor.data(req.body), limit)
        text, encoding = _body(sent)
        mime = _header(ex.sent_headers, "content-type") or _header(req.headers, "content-type")
        post = harfile.PostData(mimeType=clean(mime or ""), text=text).asdict()
        if encoding:
            post["_encoding"] = encoding
    request = harfile.Request(
        method=req.method,
        url=url,
        httpVersion="HTTP/1.1",
        headers=[harfile.Record(name=clean(k), value=clean(v)) for k, v in ex.sent_headers],
        queryString=[
            harfile.Record(name=k, value=v)
            for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
        ],
        bodySize=len(req.body) if req.body is not None else 0,
    ).asdict()
    if post is not None:
        request["postData"] = post
    request["_conformance"] = _scrub(typed_json.encode_fields(req, _REQUEST_IN_HAR), redactor)
    if post_cut:
        request["_cut"] = post_cut

    kept, cut = _cut(redactor.data(ex.body), limit)
    text, encoding = _body(kept)
    content = harfile.Content(
        size=len(ex.body),
        mimeType=clean(ex.header("content-type") or "x-unknown"),
        text=text,
        encoding=encoding,
        comment=f"cut: the first {limit} of {len(ex.body)} bytes" if cut else None,
    )
    response = harfile.Response(
        status=ex.status or 0,
        statusText="",
        httpVersion="HTTP/1.1" if ex.status is not None else "",
        headers=[harfile.Record(name=clean(k), value=clean(v)) for k, v in ex.headers],
        content=content,
        bodySize=(ex.wire_bytes or len(ex.body)) if ex.status is not None else -1,
    ).asdict()
    response["_pieces"] = [[t, n] for t, n in ex.pieces]
    if ex.error:
        response["_error"] = clean(ex.error)
    if cut:
        response["_cut"] = cut
    response["_conformance"] = _scrub(typed_json.encode_fields(ex, _EXCHANGE_IN_HAR, ref), redactor)

    first = ex.pieces[0][0] if ex.pieces else ex.elapsed
    wait = max(0.0, first) * 1000
    total = max(ex.elapsed * 1000, wait)
    timings = harfile.Timings(send=0, wait=round(wait, 3), receive=round(total - wait, 3))
    probe_info = _scrub(typed_json.encode_fields(probe, _PROBE_IN_HAR), redactor)
    probe_info["op"] = f"{probe.op.profile}/{probe.op.name}"
    conformance: dict[str, Any] = {"id": ident, "probe": probe_info}
    if parent is not None:
        conformance["part_of"] = parent
    return {
        "startedDateTime": _iso(ex.started_at),
        "time": round(total, 3),
        "request": request,
        "response": response,
        "cache": {},
        "timings": timings.asdict(),
        "_conformance": conformance,
    }


def _line(item: dict[str, Any]) -> str:
    """One entry as JSON text: UTF-8 readable, or all-ASCII escapes when a string holds a
    lone surrogate (an error message can), which UTF-8 cannot encode."""
    text = json.dumps(item, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(item, ensure_ascii=True, allow_nan=False)
    return text


def _scrub(data: Any, redactor: Redactor) -> Any:
    return redactor.tree(data, redactor.text, redactor.data)


def header(run: RunConfig, redactor: Redactor, started_at: str = "") -> dict[str, Any]:
    """The log's own fields: who wrote it, and the run's options (rebuilt by `rejudge`)."""
    return {
        "version": "1.2",
        "creator": {"name": "llm-api-conformance", "version": __version__},
        "comment": "Every exchange of one conformance run; credentials replaced by "
        "same-length REDACTED placeholders. Re-judge it with `conformance rejudge`.",
        "_conformance": {
            "format": FORMAT,
            "suite_version": __version__,
            "target_url": redactor.text(run.target_url),
            "started_at": started_at,
            "placeholders": dict(redactor.roles),
            "run": _scrub(typed_json.encode_fields(run, ()), redactor),
        },
    }


@dataclass
class Written:
    """What `write` produced: the report names the recording by these."""

    path: Path
    sha256: str
    entries: int
    cut: int

    def field(self) -> dict[str, Any]:
        """The `recording` field of report.json."""
        return {
            "file": self.path.name,
            "sha256": self.sha256,
            "entries": self.entries,
            "cut_bodies": self.cut,
        }


def write(
    path: Path, run: RunConfig, items: Iterable[dict[str, Any]], started_at: str = ""
) -> Written:
    """Write the HAR atomically (temporary name, then rename) and hash what was written."""
    redactor = Redactor(credentials(run))
    log = header(run, redactor, started_at)
    head = json.dumps({"log": log}, ensure_ascii=True, allow_nan=False)
    assert head.endswith("}}")
    prefix = head[:-2] + ', "entries": [\n'
    digest = hashlib.sha256()
    count = cut = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:

            def put(text: str) -> None:
                data = redactor.text(text).encode("utf-8")  # last pass: no key survives
                digest.update(data)
                fh.write(data)

            put(prefix)
            for item in items:
                put((",\n" if count else "") + _line(item))
                count += 1
                cut += "_cut" in item["response"]
            put("\n]}}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Written(path, digest.hexdigest(), count, cut)


def write_recording(
    path: Path,
    run: RunConfig,
    pairs: Iterable[tuple[Probe, Exchange]],
    started_at: str = "",
    limit: int = BODY_LIMIT,
) -> Written:
    """The HAR of one process's exchanges (a run without pytest-xdist)."""
    return write(path, run, entries(pairs, Redactor(credentials(run)), limit), started_at)


# --- pytest-xdist: each worker writes its entries, the controller merges them ---------------


def write_part(
    directory: Path, worker: str, run: RunConfig, pairs: Iterable[tuple[Probe, Exchange]]
) -> Path:
    """One worker's entries, one JSON line each, already redacted."""
    parts = directory / PARTS_DIR
    parts.mkdir(parents=True, exist_ok=True)
    path = parts / f"{worker}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for item in entries(pairs, Redactor(credentials(run))):
            fh.write(_line(item) + "\n")
    return path


def merged_parts(directory: Path, run: RunConfig) -> Iterator[dict[str, Any]]:
    """Every worker's entries in plan order of the operations (each operation's probes were
    all sent by one worker, in plan order); an entry two workers both recorded, once."""
    order = {f"{op.profile}/{op.name}": i for i, op in enumerate(_operations(run))}
    index: list[tuple[int, int, int, Path]] = []
    files = sorted((directory / PARTS_DIR).glob("*.jsonl"))
    seen: set[str] = set()
    for number, path in enumerate(files):
        with path.open("rb") as fh:
            offset = 0
            for line in fh:
                item = json.loads(line)
                ident = item["_conformance"]["id"]
                if ident not in seen:
                    seen.add(ident)
                    rank = order.get(item["_conformance"]["probe"]["op"], len(order))
                    index.append((rank, number, offset, path))
                offset += len(line)
    index.sort(key=lambda t: (t[0], t[1], t[2]))
    handles: dict[Path, BinaryIO] = {}
    try:
        for _, _, offset, path in index:
            if path not in handles:
                handles[path] = path.open("rb")
            handles[path].seek(offset)
            yield json.loads(handles[path].readline())
    finally:
        for handle in handles.values():
            handle.close()


def write_part_error(directory: Path, worker: str, run: RunConfig, exc: BaseException) -> None:
    """A worker could not record its exchanges: say so, for the controller to report."""
    parts = directory / PARTS_DIR
    parts.mkdir(parents=True, exist_ok=True)
    why = Redactor(credentials(run)).text(f"{type(exc).__name__}: {exc}")[:300]
    (parts / f"{worker}.error").write_text(why, "utf-8")


def part_errors(directory: Path) -> list[str]:
    """`worker: why` for each worker whose exchanges are missing from the merged HAR."""
    return [
        f"{path.stem}: {path.read_text('utf-8', errors='replace')}"
        for path in sorted((directory / PARTS_DIR).glob("*.error"))
    ]


def clear_parts(directory: Path) -> None:
    parts = directory / PARTS_DIR
    for path in [*parts.glob("*.jsonl"), *parts.glob("*.error")]:
        with contextlib.suppress(OSError):
            path.unlink()
    with contextlib.suppress(OSError):
        parts.rmdir()


def _operations(run: RunConfig) -> list[Operation]:
    return [op for p in run.profiles if p in PROFILES for op in PROFILES[p].operations]


# --- reading -------------------------------------------------------------------------------


@dataclass
class Recording:
    """A HAR read back: the run's options and every (probe, exchange) in recorded order."""

    path: Path
    sha256: str
    suite_version: str
    target_url: str
    run: RunConfig  # credentials are the placeholders
    pairs: list[tuple[Probe, Exchange]]
    placeholders: list[str]
    cut: set[int] = field(default_factory=set)  # id() of exchanges whose body was cut

    def was_cut(self, exchanges: Iterable[Exchange]) -> bool:
        return any(id(ex) in self.cut for ex in exchanges)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(path: Path) -> Recording:
    """Rebuild the run's probes and exchanges; any problem is a one-line HarFileError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HarFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise HarFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
        log = doc["log"]
        meta = log["_conformance"]
    except (UnicodeDecodeError, ValueError) as exc:
        raise HarFileError(f"{path}: not a HAR file ({str(exc)[:200]})") from None
    except (KeyError, TypeError):
        raise HarFileError(
            f"{path}: a HAR file, but not one written by this suite (no log._conformance)"
        ) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), int):
        raise HarFileError(f"{path}: log._conformance has no format number")
    if meta["format"] > FORMAT:
        raise HarFileError(
            f"{path}: recording format {meta['format']} is newer than this suite reads "
            f"({FORMAT}); upgrade llm-api-conformance"
        )
    redactor = Redactor([])
    roles = meta.get("placeholders", {})
    if not isinstance(roles, dict):
        raise HarFileError(f"{path}: log._conformance.placeholders is not a mapping")
    redactor.roles = {str(k): str(v) for k, v in roles.items()}
    redactor.public = {k: PUBLIC[v] for k, v in redactor.roles.items() if v in PUBLIC}
    try:
        run = typed_json.build(RunConfig, meta["run"])
        reader = _Reader(redactor)
        pairs = reader.pairs(log.get("entries", []))
    except HarFileError as exc:
        raise HarFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise HarFileError(f"{path}: a malformed entry ({type(exc).__name__}: {exc})") from None
    return Recording(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        suite_version=str(meta.get("suite_version", "")),
        target_url=str(meta.get("target_url", "")),
        run=run,
        pairs=pairs,
        placeholders=list(redactor.roles),
        cut=reader.cut,
    )


class _Reader:
    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.cut: set[int] = set()
        self._by_id: dict[str, dict[str, Any]] = {}
        self._built: dict[str, Exchange] = {}

    def pairs(self, items: Any) -> list[tuple[Probe, Exchange]]:
        if not isinstance(items, list):
            raise HarFileError("log.entries is not a list")
        tops = []
        for item in items:
            conf = item["_conformance"]
            self._by_id[str(conf["id"])] = item
            if "part_of" not in conf:
                tops.append(item)
        out = []
        for item in tops:
            probe_data = item["_conformance"]["probe"]
            exchange = self._exchange(str(item["_conformance"]["id"]))
            profile, _, name = str(probe_data["op"]).partition("/")
            op = _operation(profile, name)
            fields = {k: v for k, v in probe_data.items() if k != "op"}
            probe = typed_json.build(Probe, self._restore(fields), op=op, request=exchange.request)
            out.append((probe, exchange))
        return out

    def _restore(self, data: Any) -> Any:
        r = self.redactor
        return r.tree(data, r.restore_text, r.restore_data) if r.public else data

    def _exchange(self, ident: str) -> Exchange:
        if ident in self._built:
            return self._built[ident]
        item = self._by_id.get(ident)
        if item is None:
            raise HarFileError(f"entry {ident!r} refers to a missing entry")
        r = self.redactor
        har_req, har_resp = item["request"], item["response"]
        post = har_req.get("postData")
        body: bytes | None = None
        if post is not None:
            body = r.restore_data(_bytes_of(post.get("text", ""), post.get("_encoding")))
        request = typed_json.build(
            Request,
            self._restore(har_req.get("_conformance", {})),
            None,
            method=str(har_req["method"]),
            body=body,
        )
        content = har_resp.get("content", {})
        status = har_resp.get("status")
        exchange = typed_json.build(
            Exchange,
            self._restore(har_resp.get("_conformance", {})),
            self._exchange,
            request=request,
            url=r.restore_text(str(har_req["url"])),
            status=int(status) if status else None,
            headers=[
                (r.restore_text(h["name"]), r.restore_text(h["value"])) for h in har_resp["headers"]
            ],
            sent_headers=[
                (r.restore_text(h["name"]), r.restore_text(h["value"])) for h in har_req["headers"]
            ],
            body=r.restore_data(_bytes_of(content.get("text", ""), content.get("encoding"))),
            pieces=[(float(t), int(n)) for t, n in har_resp.get("_pieces", [])],
        )
        if "_cut" in har_resp or "_cut" in har_req:
            self.cut.add(id(exchange))
        self._built[ident] = exchange
        return exchange


def _bytes_of(text: Any, encoding: Any) -> bytes:
    if encoding == "base64":
        return base64.b64decode(str(text), validate=True)
    if encoding not in (None, ""):
        raise HarFileError(f"a body in encoding {encoding!r}, which this suite does not write")
    return str(text).encode("utf-8")


def _operation(profile: str, name: str) -> Operation:
    for op in PROFILES[profile].operations if profile in PROFILES else ():
        if op.name == name:
            return op
    raise HarFileError(f"recorded operation {profile}/{name} is not one this suite knows")
