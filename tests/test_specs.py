"""The specs are the contract the mock and the checks both trust, so they are held to the
documents here: valid OpenAPI 3.1, in agreement with every row of document_facts.csv, every
node traceable to document words, and accepting the documents' own examples while refusing
broken copies of them. An edit that drifts from a document fails one of these."""

from __future__ import annotations

import copy
import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from conformance import spec
from conformance.profiles import PROFILES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
AMBIGUITIES = ROOT / "specs" / "AMBIGUITIES.md"
PROFILE_OF_SPEC = {p.spec_file: name for name, p in PROFILES.items()}
DOCUMENTS = {
    "alphaedge": {
        "000_969e15bf3493e0c6.txt",
        "001_d8b703e9dfe642d7.txt",
        "002_4326352ecf7304e4.txt",
    },
    "gateway": {"003_b2618ff3683095ec.txt"},
    "compat": {"004_11a99aef08cd0f1b.txt"},
}
# docs/architecture.md, "Component schema names": other modules look these up by name.
COMPONENTS = {
    "alphaedge": {
        "CompletionRequest",
        "CompletionResponse",
        "CompletionChoice",
        "CompletionChunk",
        "CompletionChunkChoice",
        "ChatCompletionRequest",
        "ChatMessage",
        "ChatCompletionResponse",
        "ChatChoice",
        "ChatCompletionChunk",
        "ChatChunkChoice",
        "ChatDelta",
        "Usage",
        "ErrorResponse",
        "CompletionEvent",
        "ChatCompletionEvent",
    },
    "gateway": {
        "CompletionRequest",
        "CompletionResponse",
        "CompletionChoice",
        "Usage",
        "ErrorResponse",
    },
    "compat": {
        "CompletionRequest",
        "StreamOptions",
        "CompletionResponse",
        "CompletionChoice",
        "CompletionChunk",
        "CompletionChunkChoice",
        "Usage",
        "HTTPValidationError",
        "ValidationError",
        "CompletionEvent",
    },
}
LEVELS = {"MUST", "SHOULD"}
ELLIPSIS = " … "  # separates the verbatim fragments of one `words` quotation
WINDOW = 400  # the fragments of one quotation lie within this many characters


def _seeds_dir() -> Path | None:
    """The seed documents sit beside the checkout (shared/seeds), or where the env says."""
    for candidate in (os.environ.get("CONFORMANCE_SEEDS"), ROOT.parent / "shared" / "seeds"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


FACTS: list[dict[str, str]] = list(
    csv.DictReader(_read(FIXTURES / "document_facts.csv").splitlines(keepends=True))
)
EXAMPLES: list[dict[str, Any]] = json.loads(_read(FIXTURES / "examples" / "manifest.json"))[
    "examples"
]


def _fact_id(row: dict[str, str]) -> str:
    field = f".{row['field']}" if row["field"] else ""
    return f"{row['spec'].removesuffix('.yaml')}:{row['schema']}{field}:{row['fact']}"


# ---- walking schemas ------------------------------------------------------------------------


def _branches(profile: str, node: Any) -> Iterator[dict[str, Any]]:
    """The node and its anyOf/oneOf alternatives, refs resolved. allOf members are left out:
    they hold keywords of another x-level, which a document fact must never rely on."""
    node = spec.resolve(profile, node)
    if isinstance(node, dict):
        yield node
        for key in ("anyOf", "oneOf"):
            for alt in node.get(key, []):
                yield from _branches(profile, alt)


def _locate(profile: str, schema: str, field: str) -> tuple[dict[str, Any] | None, str, Any]:
    """(parent object, property name, node) for a dotted path such as `choices[].usage.x`."""
    node: Any = spec.component(profile, schema)
    parent: dict[str, Any] | None = None
    name = ""
    for step in [s for s in field.split(".") if s]:
        prop, items = step.removesuffix("[]"), step.endswith("[]")
        owners = [b for b in _branches(profile, node) if prop in b.get("properties", {})]
        assert owners, f"{schema} has no property `{prop}` on the way to `{field}`"
        parent, name, node = owners[0], prop, owners[0]["properties"][prop]
        if items:
            arrays = [b for b in _branches(profile, node) if "items" in b]
            assert arrays, f"`{prop}` in {schema} is not an array"
            parent, name, node = None, f"{prop}[]", arrays[0]["items"]
    return parent, name, node


def _types(profile: str, node: Any) -> set[str]:
    out: set[str] = set()
    for branch in _branches(profile, node):
        raw = branch.get("type")
        out |= {raw} if isinstance(raw, str) else set(raw or [])
    return out


def _same(a: Any, b: Any) -> bool:
    """JSON equality that keeps true apart from 1 and false apart from 0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _nodes(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping in a spec, with its location."""
    if isinstance(value, dict):
        yield path, value
        for key, child in value.items():
            yield from _nodes(child, f"{path}/{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _nodes(child, f"{path}/{i}")


def _annotation_problems(
    node: dict[str, Any], where: str, level: str | None, convention: bool
) -> Iterator[str]:
    """The annotation rule, for one schema node and everything below it (refs not followed):
    each `properties` entry and each `allOf` member carries its own x-source and x-level;
    other nodes inherit them; a SHOULD node explains itself in x-convention, or sits in a
    SHOULD node that does."""
    own = node.get("x-level")
    if own is not None and own not in LEVELS:
        yield f"{where}: x-level {own!r}"
    if own is not None and own != level:
        convention = False
    level = own or level
    convention = convention or "x-convention" in node
    if level == "SHOULD" and not convention:
        yield f"{where}: SHOULD without x-convention"
    children: list[tuple[str, Any, bool]] = []
    for key, prop in node.get("properties", {}).items():
        children.append((f"{where}.{key}", prop, True))
    for key in ("allOf", "anyOf", "oneOf"):
        for i, member in enumerate(node.get(key, [])):
            children.append((f"{where}/{key}/{i}", member, key == "allOf"))
    if isinstance(node.get("items"), dict):
        children.append((f"{where}[]", node["items"], False))
    for path, child, needs_own in children:
        if needs_own and not ({"x-source", "x-level"} <= child.keys()):
            yield f"{path}: no x-source/x-level of its own"
        yield from _annotation_problems(child, path, level, convention)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _quoted(words: str, document: str) -> bool:
    """True when every fragment of `words` is in the document, in order, close together."""
    fragments = [_normalise(f) for f in words.split(ELLIPSIS)]
    start = document.find(fragments[0])
    while start != -1:
        end, ok = start + len(fragments[0]), True
        for fragment in fragments[1:]:
            at = document.find(fragment, end)
            if at == -1 or at - start > WINDOW:
                ok = False
                break
            end = at + len(fragment)
        if ok:
            return True
        start = document.find(fragments[0], start + 1)
    return False


def _sources(profile: str) -> list[tuple[str, dict[str, Any]]]:
    return [(p, n["x-source"]) for p, n in _nodes(spec.load_spec(profile)) if "x-source" in n]


# ---- the specs as OpenAPI documents ---------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_spec_is_valid_openapi_3_1(profile: str) -> None:
    document = spec.load_spec(profile)
    assert str(document["openapi"]).startswith("3.1.")
    validate_openapi(copy.deepcopy(document))


def test_openapi_validation_can_fail() -> None:
    broken = copy.deepcopy(spec.load_spec("compat"))
    broken["paths"]["/api/v1/compatibility/openai/v1/completions"]["post"]["responses"] = []
    with pytest.raises(OpenAPIValidationError):
        validate_openapi(broken)


def test_loader_finds_every_spec() -> None:
    assert spec.specs_dir().is_dir()
    for name, profile in PROFILES.items():
        assert spec.spec_path(name).is_file(), spec.spec_path(name)
        assert spec.spec_path(name).parent == spec.specs_dir()
        document = spec.load_spec(name)
        schemas = document["components"]["schemas"]
        assert set(schemas) == COMPONENTS[name]
        assert profile.error_schema in schemas
        for op in profile.operations:
            assert "post" in document["paths"][op.path]
            for schema in (op.request_schema, op.response_schema, op.chunk_schema):
                if schema is not None:
                    assert spec.validator(name, schema).schema["$ref"].endswith(schema)


# ---- document facts -------------------------------------------------------------------------


@pytest.mark.parametrize("row", FACTS, ids=[_fact_id(r) for r in FACTS])
def test_document_fact_holds_in_spec(row: dict[str, str]) -> None:
    profile = PROFILE_OF_SPEC[row["spec"]]
    assert row["document"] in DOCUMENTS[profile], "a fact must come from its profile's document"
    assert row["words"].strip(), "every fact quotes the document's words"
    fact, value = row["fact"], json.loads(row["value"])
    if fact == "path":
        body = spec.load_spec(profile)["paths"][value]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{row['schema']}"
        return
    parent, name, node = _locate(profile, row["schema"], row["field"])
    if fact == "required":
        assert parent is not None, "`required` needs an object property"
        assert (name in parent.get("required", [])) is value, f"{name} required should be {value}"
    elif fact == "type":
        wanted = set(value) if isinstance(value, list) else {value}
        assert _types(profile, node) == wanted
    else:
        found = [b[fact] for b in _branches(profile, node) if fact in b]
        assert any(_same(v, value) for v in found), f"{fact}: spec has {found}, document {value}"


def test_facts_cover_every_must_request_field() -> None:
    covered = {(PROFILE_OF_SPEC[r["spec"]], r["schema"], r["field"]) for r in FACTS}
    for name, profile in PROFILES.items():
        for op in profile.operations:
            for field, prop in spec.component(name, op.request_schema)["properties"].items():
                if prop.get("x-level") == "MUST":
                    assert (name, op.request_schema, field) in covered, (name, field)


# ---- traceability ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_every_property_is_annotated(profile: str) -> None:
    problems: list[str] = []
    for name, schema in spec.load_spec(profile)["components"]["schemas"].items():
        if not ({"x-source", "x-level"} <= schema.keys()):
            problems.append(f"{name}: no x-source/x-level")
        problems.extend(_annotation_problems(schema, name, None, False))
    assert not problems, "\n".join(problems)


def test_annotation_rule_can_fail() -> None:
    bare = {"type": "object", "x-source": {}, "x-level": "MUST", "properties": {"a": {}}}
    assert list(_annotation_problems(bare, "X", None, False))
    loose = {"type": "string", "x-source": {}, "x-level": "SHOULD"}
    assert list(_annotation_problems(loose, "Y", None, False))


@pytest.mark.parametrize("profile", PROFILES)
def test_x_levels_and_sources_are_well_formed(profile: str) -> None:
    nodes = list(_nodes(spec.load_spec(profile)))
    for path, node in nodes:
        if "x-level" in node:
            assert node["x-level"] in LEVELS, path
    sources = _sources(profile)
    assert len(sources) >= len(COMPONENTS[profile])
    for path, source in sources:
        assert set(source) == {"document", "words"}, path
        assert source["document"] in DOCUMENTS[profile], path
        assert 0 < len(source["words"]) <= 160, f"{path}: quote a few words only"


@pytest.mark.parametrize("profile", PROFILES)
def test_quoted_words_are_in_the_document(profile: str) -> None:
    seeds = _seeds_dir()
    if seeds is None:
        pytest.skip("seed documents not found (set CONFORMANCE_SEEDS)")
    texts = {d: _normalise(_read(seeds / d)) for d in DOCUMENTS[profile]}
    quotes = [(p, s["document"], s["words"]) for p, s in _sources(profile)]
    quotes += [
        (_fact_id(r), r["document"], r["words"])
        for r in FACTS
        if PROFILE_OF_SPEC[r["spec"]] == profile
    ]
    missing = [f"{p}: {w!r}" for p, d, w in quotes if not _quoted(w, texts[d])]
    assert not missing, "not found in the document:\n" + "\n".join(missing)


def test_quote_matching_can_fail() -> None:
    assert _quoted("a b … d", "a b c d")
    assert not _quoted("d … a b", "a b c d")
    assert not _quoted("a … z", "a" + " " * WINDOW + "z")


@pytest.mark.parametrize("profile", PROFILES)
def test_ambiguity_references_exist(profile: str) -> None:
    text = _read(AMBIGUITIES)
    defined = set(re.findall(r"^## (A\d\d)\b", text, flags=re.MULTILINE))
    used = {n["x-ambiguity"] for _, n in _nodes(spec.load_spec(profile)) if "x-ambiguity" in n}
    assert used and used <= defined, used - defined


# ---- bounds and shapes named by the issue ---------------------------------------------------


def _prop(profile: str, schema: str, field: str) -> dict[str, Any]:
    return spec.request_property(profile, schema, field)


def _should_keyword(node: dict[str, Any], keyword: str) -> Any:
    members = [m for m in node.get("allOf", []) if keyword in m]
    assert len(members) == 1 and members[0]["x-level"] == "SHOULD", (keyword, node)
    return members[0][keyword]


def test_documented_bounds_are_present() -> None:
    assert _prop("compat", "CompletionRequest", "temperature")["maximum"] == 2
    assert _prop("compat", "CompletionRequest", "temperature")["minimum"] == 0
    assert _prop("compat", "CompletionRequest", "temperature")["default"] == 0
    assert _prop("compat", "CompletionRequest", "n")["minimum"] == 1
    assert _prop("compat", "CompletionRequest", "n")["default"] == 1
    assert _prop("compat", "CompletionRequest", "stop")["minItems"] == 1
    assert _prop("compat", "CompletionRequest", "max_tokens")["minimum"] == 1
    assert _prop("compat", "StreamOptions", "include_usage")["type"] == "boolean"
    assert _prop("compat", "CompletionRequest", "seed")["type"] == "integer"
    assert _prop("gateway", "CompletionRequest", "temperature")["maximum"] == 1
    assert _prop("gateway", "CompletionRequest", "top_p")["maximum"] == 1
    for penalty in ("presence_penalty", "frequency_penalty"):
        node = _prop("gateway", "CompletionRequest", penalty)
        assert (node["minimum"], node["maximum"]) == (-2, 2)
    assert _prop("alphaedge", "CompletionRequest", "temperature")["maximum"] == 2
    assert _prop("alphaedge", "ChatCompletionRequest", "temperature")["maximum"] == 2
    assert _prop("alphaedge", "CompletionRequest", "max_tokens")["type"] == ["integer", "null"]
    assert _should_keyword(_prop("alphaedge", "ChatCompletionRequest", "messages"), "minItems") == 1
    role = spec.component("alphaedge", "ChatMessage")["properties"]["role"]
    assert role["type"] == "string"
    assert _should_keyword(role, "enum") == ["system", "user", "assistant"]
    for profile in PROFILES:
        usage = spec.component(profile, "Usage")["properties"]
        for count in ("prompt_tokens", "completion_tokens", "total_tokens"):
            assert usage[count]["type"] == "integer"
            assert _should_keyword(usage[count], "minimum") == 0
    gateway = spec.component("gateway", "CompletionResponse")["properties"]
    assert gateway["id"]["format"] == "uuid" and gateway["created"]["format"] == "date-time"
    ms = spec.component("gateway", "Usage")["properties"]["prediction_time_ms"]
    assert (ms["type"], ms["format"]) == ("integer", "int64")
    assert len(_prop("gateway", "CompletionRequest", "model")["anyOf"][0]["enum"]) == 20


@pytest.mark.parametrize("profile", PROFILES)
def test_responses_by_status(profile: str) -> None:
    op_paths = spec.load_spec(profile)["paths"]
    for op in PROFILES[profile].operations:
        responses = op_paths[op.path]["post"]["responses"]
        content = responses["200"]["content"]
        wanted = (
            {"application/json", "text/event-stream"} if op.chunk_schema else {"application/json"}
        )
        assert set(content) == wanted
        if op.chunk_schema:
            event = spec.resolve(profile, content["text/event-stream"]["schema"])
            done, chunk = event["properties"]["data"]["oneOf"]
            assert done == {"const": "[DONE]"} and chunk["contentMediaType"] == "application/json"
            assert chunk["contentSchema"]["$ref"].endswith(f"/{op.chunk_schema}")
        if profile == "compat":
            assert {"400", "404", "422"} <= set(responses)
            assert "content" not in responses["400"] and "content" not in responses["404"]
            body = responses["422"]["content"]["application/json"]["schema"]
            assert body["$ref"].endswith("/HTTPValidationError")
        else:
            for status in ("400", "401", "404", "422"):
                error = spec.resolve(profile, responses[status])
                assert error["x-level"] == "SHOULD"
                assert error["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorResponse"
                )


@pytest.mark.parametrize("profile", PROFILES)
def test_objects_stay_open(profile: str) -> None:
    nodes = _nodes(spec.load_spec(profile))
    assert not [p for p, n in nodes if n.get("additionalProperties") is False]


def test_integer_and_null_policy() -> None:
    compat = spec.validator("compat", "CompletionRequest")
    base = {"model": "m", "prompt": "p"}
    assert compat.is_valid({**base, "max_tokens": 5.0})  # AMBIGUITIES A12
    assert not compat.is_valid({**base, "max_tokens": 5.5})
    assert not compat.is_valid({**base, "max_tokens": None})  # A13: null only where documented
    alpha = spec.validator("alphaedge", "CompletionRequest")
    assert alpha.is_valid({**base, "max_tokens": None})
    assert not alpha.is_valid({**base, "temperature": None})


# ---- the documents' examples ----------------------------------------------------------------


def _events(text: str) -> list[dict[str, Any]]:
    return [{"data": line.removeprefix("data: ")} for line in text.splitlines() if line]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["file"] for e in EXAMPLES])
def test_document_example_matches_spec(example: dict[str, Any]) -> None:
    profile, path = example["profile"], FIXTURES / "examples" / example["file"]
    assert example["document"] in DOCUMENTS[profile]
    check = spec.validator(profile, example["schema"])
    if example["kind"] == "stream":
        events = _events(_read(path))
        assert events[-1] == {"data": "[DONE]"} and len(events) >= 2
        chunk = spec.validator(profile, example["chunk"])
        for event in events:
            check.validate(event)
            if event["data"] != "[DONE]":
                chunk.validate(json.loads(event["data"]))
        return
    body = json.loads(_read(path))
    errors = {"/".join(map(str, e.absolute_path)) for e in check.iter_errors(body)}
    assert errors == set(example.get("invalid_at", [])), errors


def _mutations(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Broken copies of an example answer: each must fail validation on its own."""
    iso = isinstance(body["created"], str)  # 003's answer: UUID id, ISO 8601 created
    swap = {
        "text_completion": "chat.completion",
        "chat.completion": "text_completion",
        "chat.completion.chunk": "chat.completion",
    }
    edits: dict[str, dict[str, Any]] = {
        "wrong-object": {"object": 42 if iso else swap[body["object"]]},
        "created-wrong-type": {"created": 1714564800 if iso else str(body["created"])},
    }
    if iso:
        edits |= {"id-not-uuid": {"id": "cmpl-abc123"}, "created-not-iso": {"created": "noon"}}
    out = {name: {**body, **edit} for name, edit in edits.items()}
    out["missing-id"] = {k: v for k, v in body.items() if k != "id"}
    return out


MUTATED = [
    pytest.param(e, name, broken, id=f"{e['file']}-{name}")
    for e in EXAMPLES
    if e["kind"] == "response"
    for name, broken in _mutations(json.loads(_read(FIXTURES / "examples" / e["file"]))).items()
]


@pytest.mark.parametrize(("example", "mutation", "broken"), MUTATED)
def test_mutated_example_is_rejected(
    example: dict[str, Any], mutation: str, broken: dict[str, Any]
) -> None:
    assert not spec.validator(example["profile"], example["schema"]).is_valid(broken), mutation


@pytest.mark.parametrize("schema", ["CompletionEvent", "ChatCompletionEvent"])
def test_event_schema_needs_string_data(schema: str) -> None:
    check = spec.validator("alphaedge", schema)
    assert check.is_valid({"data": "[DONE]"}) and check.is_valid({"data": "{}"})
    assert not check.is_valid({"data": 5}) and not check.is_valid({})
