"""exchanges.har: valid HAR 1.2, every field a check reads kept exactly, no credential.

The schema is the npm package `har-schema` 2.0.0, vendored under fixtures/har-schema/ with
its licence (the schema `har-validator` checks HAR files against).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

from conformance.checks.base import Probe
from conformance.connection import Connection
from conformance.engine import Engine
from conformance.exchange import WRONG_KEY, Exchange, Request
from conformance.mock.process import MockProcess
from conformance.profiles import PROFILES
from conformance.report import har, typed_json
from tests.audit.recording import ROOT, har_doc, record
from tests.suite.certify import API_KEY, config_for

SCHEMA_DIR = ROOT / "fixtures" / "har-schema"
HEADER_SECRET = "hdr-secret-5f0c2a91d7"


def _validator() -> Draft6Validator:
    registry: Registry = Registry()
    for path in SCHEMA_DIR.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT6)
        registry = registry.with_resource(schema["$id"].rstrip("#"), resource)
    root = json.loads((SCHEMA_DIR / "har.json").read_text(encoding="utf-8"))
    return Draft6Validator(root, registry=registry, format_checker=FormatChecker())


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return data


def _nonstandard_keys(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Keys the HAR schema does not define that do not start with `_` (HAR's custom fields)."""
    if "$ref" in schema:
        schema = _schema(schema["$ref"].split("#")[0])
    found = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            sub = schema["properties"].get(key)
            if sub is None:
                if not key.startswith("_"):
                    found.append(f"{where}.{key}")
            else:
                found += _nonstandard_keys(item, sub, f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += _nonstandard_keys(item, schema["items"], f"{where}[{i}]")
    return found


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose answers include every kind of body: streams, errors, a 401 that echoes
    the key it was sent, bytes that are not UTF-8, and a stream cut by the stall limit."""
    directory = tmp_path_factory.mktemp("har")
    record(directory, faults=["key-echoed", "invalid-utf8"])
    return directory


def test_the_har_validates_against_the_har_1_2_schema(recorded: Path) -> None:
    doc = har_doc(recorded)
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert doc["log"]["version"] == "1.2"
    assert len(doc["log"]["entries"]) > 100


def test_the_schema_check_can_fail() -> None:
    broken = {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}}}
    assert list(_validator().iter_errors(broken)), "a HAR without entries must not validate"
    entry = {"startedDateTime": "yesterday", "time": 1}
    doc = {**broken, "log": {**broken["log"], "entries": [entry]}}
    messages = " ".join(e.message for e in _validator().iter_errors(doc))
    assert "request" in messages and "date-time" in messages


def test_every_field_outside_har_1_2_is_an_underscore_custom_field(recorded: Path) -> None:
    doc = har_doc(recorded)
    assert _nonstandard_keys(doc, _schema("har.json"), "") == []
    assert _nonstandard_keys({"log": {"mine": 1}}, _schema("har.json"), "") == [".log.mine"]


def test_each_request_has_its_timings_and_each_stream_its_pieces(recorded: Path) -> None:
    streams = 0
    for item in har_doc(recorded)["log"]["entries"]:
        timings = item["timings"]
        assert timings["wait"] >= 0 and timings["receive"] >= 0
        assert abs(timings["send"] + timings["wait"] + timings["receive"] - item["time"]) < 0.01
        response = item["response"]
        if response["content"]["mimeType"].startswith("text/event-stream"):
            streams += 1
            pieces = response["_pieces"]
            assert pieces, item["_conformance"]["id"]
            assert sum(size for _, size in pieces) == response["content"]["size"]
            assert [t for t, _ in pieces] == sorted(t for t, _ in pieces)
    assert streams >= 6


def test_bodies_that_are_not_utf8_are_base64_and_exact(recorded: Path) -> None:
    encoded = [
        e["response"]["content"]
        for e in har_doc(recorded)["log"]["entries"]
        if e["response"]["content"].get("encoding") == "base64"
    ]
    assert encoded, "the invalid-utf8 fault's answers must be recorded as base64"
    for content in encoded:
        raw = base64.b64decode(content["text"])
        assert len(raw) == content["size"]
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")


def test_no_credential_the_run_sent_reaches_the_file(tmp_path: Path) -> None:
    """The key, the auth probe's wrong key and a credential --header, even where the server
    echoed them: replaced by placeholders of the same length."""
    conn = Connection(headers=(("X-Api-Key", HEADER_SECRET),))
    record(tmp_path, faults=["key-echoed", "wrong-key-echoed"], connection=conn)
    raw = (tmp_path / har.HAR_NAME).read_text(encoding="utf-8")
    for secret in (API_KEY, WRONG_KEY, HEADER_SECRET):
        assert secret not in raw
        assert json.dumps(secret)[1:-1] not in raw
    stand_ins = json.loads(raw)["log"]["_conformance"]["placeholders"]
    assert sorted(stand_ins.values()) == ["api-key", "header", "wrong-key"]
    for stand_in in stand_ins:
        assert len(stand_in) in (len(API_KEY), len(WRONG_KEY), len(HEADER_SECRET))
    key_echo = next(k for k, role in stand_ins.items() if role == "api-key")
    echoed = [
        e
        for e in json.loads(raw)["log"]["entries"]
        if key_echo in e["response"]["content"].get("text", "")
    ]
    assert echoed, "the key-echoed fault's echo must still be visible, as its placeholder"


def test_a_huge_answer_is_cut_and_marked(tmp_path: Path) -> None:
    limit = 32 * 1024
    with MockProcess(faults=["huge-body"], api_key=API_KEY) as mock:
        config = config_for(mock.url, profiles=("gateway",))
        engine = Engine(config)
        try:
            engine.prefetch(engine.checks)
            for check in engine.checks:
                engine.run(check)
        finally:
            engine.close()
    pairs = engine.recorded()
    written = har.write_recording(tmp_path / har.HAR_NAME, config, pairs, limit=limit)
    cut = [e for e in har_doc(tmp_path)["log"]["entries"] if "_cut" in e["response"]]
    assert written.cut == len(cut) > 0
    for item in cut:
        mark, content = item["response"]["_cut"], item["response"]["content"]
        assert mark["kept"] == limit and mark["size"] == content["size"] > limit
        assert len(content["text"].encode()) <= limit or content.get("encoding") == "base64"
        assert "cut" in content["comment"]
    assert (tmp_path / har.HAR_NAME).stat().st_size < (len(pairs) + 1) * (limit + 4096)
    by_key = {p.key: ex for p, ex in pairs}
    for probe, rebuilt in har.read(tmp_path / har.HAR_NAME).pairs:
        if len(by_key[probe.key].body) > limit:
            assert rebuilt.body == by_key[probe.key].body[:limit]


# --- every field comes back ----------------------------------------------------------------


def _normal(value: Any, redactor: har.Redactor) -> Any:
    """A comparable form of a Probe/Exchange with every credential as its placeholder
    (the reader gives the public wrong key back; the original has the real key)."""

    def ref(obj: Any) -> str | None:
        if isinstance(obj, Exchange):
            return json.dumps(_normal(obj, redactor), sort_keys=True)
        return None

    encoded = typed_json.encode_fields(value, ("memo",), ref)
    return redactor.tree(encoded, redactor.text, redactor.data)


@pytest.mark.parametrize(
    ("faults", "variants"),
    [
        (["invalid-utf8", "json-nan"], []),
        (["breaks-under-concurrency"], []),
        ([], ["gzip"]),
        (["stream-reset-midway", "key-echoed"], []),
    ],
)
def test_every_probe_and_exchange_field_comes_back_exactly(
    tmp_path: Path, faults: list[str], variants: list[str]
) -> None:
    with MockProcess(faults=faults, variants=variants, api_key=API_KEY) as mock:
        config = config_for(mock.url)
        engine = Engine(config)
        try:
            engine.prefetch(engine.checks)
            for check in engine.checks:
                engine.run(check)
        finally:
            engine.close()
    pairs = engine.recorded()
    har.write_recording(tmp_path / har.HAR_NAME, config, pairs)
    back = har.read(tmp_path / har.HAR_NAME)
    redactor = har.Redactor(har.credentials(config))
    assert [p.key for p, _ in back.pairs] == [p.key for p, _ in pairs]
    for (probe, exchange), (probe2, exchange2) in zip(pairs, back.pairs, strict=True):
        assert probe2.op == probe.op and probe2.tags == probe.tags and probe2.meta == probe.meta
        assert _normal(exchange2, redactor) == _normal(exchange, redactor), probe.key
    rebuilt = back.run
    assert rebuilt == dataclasses.replace(config, api_key=rebuilt.api_key)
    assert rebuilt.api_key is not None and rebuilt.api_key != API_KEY


def _non_default(name: str, exchange: Exchange) -> Any:
    """A value unlike the default for each Exchange field. A field added to Exchange must be
    given one here, so this test proves the recording keeps it."""
    other = Exchange(request=exchange.request, url="http://127.0.0.1:1/x", status=200)
    values: dict[str, Any] = {
        "request": exchange.request,
        "url": "http://127.0.0.1:9/v1/completions?x=1",
        "status": 418,
        "headers": [("content-type", "text/event-stream"), ("x-dup", "1"), ("x-dup", "2")],
        "body": b"data: {}\n\n\xff\xfe",
        "pieces": [(0.001, 4), (0.5, 8)],
        "truncated": True,
        "error": "ReadError: connection reset",
        "timed_out": True,
        "elapsed": 1.25,
        "attempts": 3,
        "sent_headers": [("content-type", "application/json"), ("x-org", "acme")],
        "started_at": 1_790_000_000.123456,
        "ended_by": "stall",
        "content_encoding": "gzip",
        "wire_bytes": 7,
        "concurrent": other,
        "in_flight": 5,
        "memo": {},
    }
    assert name in values, f"Exchange.{name} is new: give it a non-default value here"
    return values[name]


def test_a_synthetic_exchange_with_every_field_set_round_trips(tmp_path: Path) -> None:
    op = PROFILES["alphaedge"].operations[0]
    request = Request(
        "POST",
        op.path,
        b'{"prompt": "\xc3\xa9"}',
        headers=(("content-type", "application/json"), ("x-trace", "1")),
        json_body={"prompt": "é"},
        auth="wrong",
        tags=frozenset({"positive", "json"}),
        field="prompt",
    )
    plain = Request("GET", "/")
    for f in dataclasses.fields(Request):
        assert getattr(request, f.name) != getattr(plain, f.name), f"give Request.{f.name} a value"
    template = Exchange(request=plain, url="")
    exchange = Exchange(
        **{f.name: _non_default(f.name, template) for f in dataclasses.fields(Exchange)}
    )
    exchange.request = request
    for f in dataclasses.fields(Exchange):
        if f.compare:
            assert getattr(exchange, f.name) != getattr(template, f.name), f.name
    probe = Probe("alphaedge/completions/synthetic", op, request, request.tags, {"n": (1, 2)})
    config = config_for("http://127.0.0.1:9")
    har.write_recording(tmp_path / har.HAR_NAME, config, [(probe, exchange)])
    [(probe2, exchange2)] = har.read(tmp_path / har.HAR_NAME).pairs
    assert exchange2 == exchange
    assert probe2 == probe
