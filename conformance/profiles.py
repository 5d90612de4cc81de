"""Profiles as data: each API document carries an `x-conformance` block, read here alone.

A profile is one API document (an OpenAPI 3.1 file) and the traits that make it differ from
the others: its operations (path, kind, the level of its stream rules), how it refuses a
request (the statuses, the shape of its error bodies), what an unknown model gets, whether
one request may name several models, whether it documents a not-ready status, its default
models. They sit in the document's `x-conformance` block (conformance/data/
x-conformance.schema.yaml gives its shape, docs/own-api.md explains each trait), beside the
schemas the suite validates with, so a profile is added by writing one document: the
shipped ones are `specs/*.yaml`, a user's comes in with `--spec PATH` (`register`).

Everything else reads the typed traits made here (`Operation`, `Traits`), never a profile's
name. The shipped documents are read on first use, not at import: the pytest plugin imports
this module in every pytest run on the machine, and must not pay for YAML there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Level = Literal["MUST", "SHOULD"]
Kind = Literal["text", "chat"]
ErrorStyle = Literal["openai", "fastapi", "envelope"]

_PACKAGED = Path(__file__).parent / "specs"  # inside an installed wheel
_SOURCE = Path(__file__).parent.parent / "specs"  # in a source checkout / editable install
_META = Path(__file__).parent / "data" / "x-conformance.schema.yaml"
BLOCK = "x-conformance"
GUIDE = "docs/own-api.md"


def specs_dir() -> Path:
    """Where the shipped documents are: the packaged copy when installed, else the checkout."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


class ProfileError(ValueError):
    """A document that cannot be a profile. The message is one line for the user: the file,
    the place in it (JSON pointer and line), and what is wrong there."""


@dataclass(frozen=True)
class StatusRule:
    """A documented answer to one kind of request: its status, and how strongly it holds."""

    status: int | None  # None: any 4xx
    level: Level = "MUST"


@dataclass(frozen=True)
class ErrorTraits:
    style: ErrorStyle  # the bodies the reference mock answers errors with
    rejection: tuple[int, ...]  # the statuses that count as refusing an invalid request
    envelope: str | None = None  # style "envelope": the body template, as JSON text

    @property
    def status(self) -> int:
        """The status the reference mock refuses an invalid request with."""
        return self.rejection[0]


@dataclass(frozen=True)
class Traits:
    """What makes one profile's contract differ; read by checks, planner, catalogue, mock."""

    errors: ErrorTraits
    unknown_model: StatusRule  # status None: any 4xx
    not_ready: StatusRule | None  # None: the document names no not-ready answer
    multi_model: bool  # a request may name several models: one choice per model
    finish_reasons: Literal["openai", "free"]
    openai_sdk: bool  # OpenAI-shaped answers: the official SDK must parse them
    served_models: tuple[str, ...]  # the reference mock's models besides the schema's enum


@dataclass(frozen=True)
class Operation:
    profile: str
    name: str  # short name used in check ids: "completions", "chat", "completion"
    path: str
    request_schema: str  # component schema name in the profile's spec
    response_schema: str
    chunk_schema: str | None  # None when the operation has no streaming form
    kind: Kind  # "text" (prompt -> choices[].text) or "chat" (messages -> choices[].message)
    stream_level: Level  # of the stream rules: MUST where the document specifies the stream
    traits: Traits = field(compare=False, repr=False)  # the profile's


@dataclass(frozen=True)
class Profile:
    name: str
    spec_file: str  # the document's file name
    spec_path: Path
    operations: tuple[Operation, ...]
    default_models: tuple[str, ...]
    error_schema: str | None  # the component the rejection status's body is documented by
    traits: Traits = field(compare=False, repr=False)
    words: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    default: bool = False  # checked with --target-url and no --profile
    shipped: bool = True  # one of specs/*.yaml (not a --spec document)
    order: int = 1000


# ---------------------------------------------------------------------------------------
# Reading one document


def read_document(path: Path) -> dict[str, Any]:
    """The parsed document, or ProfileError naming the file, line and YAML/JSON problem."""
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            # libyaml's loader parses the specs ~10x faster: every mock process pays this.
            data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError(f"{path}: {where}not YAML: {what}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: not an OpenAPI document (its top level is not a mapping)")
    return data


def _pointer(parts: tuple[str | int, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _line(path: Path, parts: tuple[str | int, ...]) -> int | None:
    """The line of the node at `parts` in the document's text (only computed for a message)."""
    import yaml

    try:
        node: Any = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if str(k.value) == str(part)]
            if not found:
                break
            key, node = found[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


class _Doc:
    """One document being read: its data, and errors worded at their place in it."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def error(self, parts: tuple[str | int, ...], what: str) -> ProfileError:
        line = _line(self.path, parts)
        where = f"line {line}: " if line else ""
        return ProfileError(f"{self.path}: {where}{_pointer(parts)}: {what} (see {GUIDE})")

    def at(self, parts: tuple[str | int, ...]) -> Any:
        node: Any = self.data
        for part in parts:
            found = isinstance(node, dict) and part in node
            indexed = isinstance(node, list) and isinstance(part, int) and part < len(node)
            if not (found or indexed):
                return None
            node = node[part]
        return node

    def deref(self, parts: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], Any]:
        """Follow local `$ref`s from the node at `parts`: (where it lives, the node)."""
        node = self.at(parts)
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise self.error((*parts, "$ref"), f"only local references (#/...), got {ref!r}")
            target = tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))
            if self.at(target) is None:
                raise self.error((*parts, "$ref"), f"{ref} points at nothing in the document")
            parts, node = target, self.at(target)
            seen += 1
            if seen > 20:
                raise self.error(parts, "a cycle of $ref")
        return parts, node

    def schema_name(self, parts: tuple[str | int, ...], what: str) -> str:
        """The component schema a `{$ref: '#/components/schemas/NAME'}` at `parts` names."""
        node = self.at(parts)
        ref = node.get("$ref") if isinstance(node, dict) else None
        prefix = "#/components/schemas/"
        if not isinstance(ref, str) or not ref.startswith(prefix):
            raise self.error(parts, f"{what}: expected {{$ref: '{prefix}NAME'}}")
        name = ref[len(prefix) :]
        if not isinstance(self.at(("components", "schemas", name)), dict):
            raise self.error((*parts, "$ref"), f"{what}: no components/schemas/{name}")
        return name


@dataclass(frozen=True)
class _Loaded:
    profile: Profile
    document: dict[str, Any]


def _validate_block(doc: _Doc) -> dict[str, Any]:
    import yaml
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    block = doc.data.get(BLOCK)
    if block is None:
        raise ProfileError(
            f"{doc.path}: no {BLOCK} block: a profile's document names its operations and "
            f"traits there (see {GUIDE})"
        )
    with _META.open("rb") as fh:
        meta = yaml.safe_load(fh)
    error = best_match(Draft202012Validator(meta).iter_errors(block))
    if error is not None:
        raise doc.error((BLOCK, *error.absolute_path), error.message)
    assert isinstance(block, dict)
    return block


def _operation(doc: _Doc, i: int, entry: dict[str, Any], profile: str, traits: Traits) -> Operation:
    here: tuple[str | int, ...] = (BLOCK, "operations", i)
    path = entry["path"]
    post = doc.at(("paths", path, "post"))
    if not isinstance(post, dict):
        raise doc.error((*here, "path"), f"the document has no `post` at paths/{path}")
    item: tuple[str | int, ...] = ("paths", path, "post")
    body, _ = doc.deref((*item, "requestBody"))
    request = doc.schema_name((*body, "content", "application/json", "schema"), "request body")
    ok, answer = doc.deref((*item, "responses", "200"))
    if not isinstance(answer, dict):
        raise doc.error((*item, "responses"), "no 200 answer documented")
    response = doc.schema_name((*ok, "content", "application/json", "schema"), "200 answer")
    chunk = None
    if isinstance(doc.at((*ok, "content", "text/event-stream")), dict):
        events, _ = doc.deref((*ok, "content", "text/event-stream", "schema"))
        data = doc.at((*events, "properties", "data", "oneOf"))
        members = [
            j for j, m in enumerate(data or []) if isinstance(m, dict) and "contentSchema" in m
        ]
        if not members:
            raise doc.error(
                events,
                "a text/event-stream answer's schema is one event: properties.data.oneOf "
                "with a member whose contentSchema is {$ref} to the chunk schema",
            )
        chunk_at = (*events, "properties", "data", "oneOf", members[0], "contentSchema")
        chunk = doc.schema_name(chunk_at, "stream chunk")
    elif "stream" in entry:
        raise doc.error((*here, "stream"), "the operation documents no text/event-stream answer")
    return Operation(
        profile=profile,
        name=entry["name"],
        path=path,
        request_schema=request,
        response_schema=response,
        chunk_schema=chunk,
        kind=entry["kind"],
        stream_level=entry.get("stream", "SHOULD"),
        traits=traits,
    )


def _error_schema(doc: _Doc, op: Operation, status: int) -> str | None:
    """The component that documents the body of `status` on `op` (None: no body)."""
    responses = doc.at(("paths", op.path, "post", "responses")) or {}
    if str(status) not in responses:
        return None
    where, _ = doc.deref(("paths", op.path, "post", "responses", str(status)))
    schema = doc.at((*where, "content", "application/json", "schema"))
    if schema is None:
        return None
    return doc.schema_name((*where, "content", "application/json", "schema"), "error body")


def _check_refs(doc: _Doc, node: Any, parts: tuple[str | int, ...]) -> None:
    """Every `$ref` in the document resolves (a broken one is named here, not mid-run)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            doc.deref(parts)
        for key, value in node.items():
            _check_refs(doc, value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_refs(doc, value, (*parts, index))


def _check_schemas(doc: _Doc) -> None:
    """Each component schema is valid JSON Schema 2020-12 (OpenAPI 3.1's dialect)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    for name, schema in (doc.at(("components", "schemas")) or {}).items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise doc.error(
                ("components", "schemas", name, *exc.absolute_path),
                f"not JSON Schema: {exc.message}",
            ) from None


def _check_requests(doc: _Doc, ops: tuple[Operation, ...]) -> None:
    """Each request schema has what the planner fills (model, and prompt or messages), and
    every undefined zone (`x-conformance-undefined`) is well formed."""
    from jsonschema.exceptions import SchemaError

    from conformance.undefined import KEY, ZoneError, parse_zone

    for op in ops:
        where, schema = doc.deref(("components", "schemas", op.request_schema))
        properties = schema.get("properties") if isinstance(schema, dict) else None
        needed = ("model", "messages" if op.kind == "chat" else "prompt")
        missing = [n for n in needed if not isinstance(properties, dict) or n not in properties]
        if missing:
            raise doc.error(
                (*where, "properties"),
                f"the request of operation {op.name!r} ({op.kind}) documents no "
                f"{' and no '.join(missing)}: the suite's requests fill them",
            )

    def walk(node: Any, parts: tuple[str | int, ...], root: bool) -> None:
        if isinstance(node, dict):
            entries = node.get(KEY, [])
            if not isinstance(entries, list):
                raise doc.error((*parts, KEY), "a list of zones, each {ambiguity, ...}")
            for j, entry in enumerate(entries):
                try:
                    parse_zone(entry, () if root else ("field",))
                except (ZoneError, SchemaError) as exc:
                    message = getattr(exc, "message", None) or str(exc)
                    raise doc.error((*parts, KEY, j), message) from None
            for key, value in node.items():
                if key != KEY:
                    walk(value, (*parts, key), False)
        elif isinstance(node, list):
            for j, value in enumerate(node):
                walk(value, (*parts, j), False)

    requests = {op.request_schema for op in ops}
    for name, schema in (doc.at(("components", "schemas")) or {}).items():
        walk(schema, ("components", "schemas", name), name in requests)


def load(path: Path, shipped: bool) -> _Loaded:
    """Read one document into its profile; ProfileError (one line, with the place) if it
    cannot be one. A user's document is also checked deeply (every $ref, every schema)."""
    data = read_document(path)
    doc = _Doc(path, data)
    version = data.get("openapi")
    if not (isinstance(version, str) and version.startswith("3.1")):
        raise doc.error(
            ("openapi",),
            f"expected an OpenAPI 3.1 document (openapi: 3.1.0), got {version!r}; a 3.0 "
            "document converts by writing `nullable: true` as a type list with null",
        )
    block = _validate_block(doc)
    name = block["profile"]
    errors = block["errors"]
    style = errors["style"]
    if (style == "envelope") != ("envelope" in errors):
        raise doc.error((BLOCK, "errors"), "style envelope and an `envelope` template go together")
    envelope = json.dumps(errors["envelope"]) if style == "envelope" else None
    unknown = block.get("unknown-model", {})
    not_ready = block.get("not-ready")
    models = block["models"]
    traits = Traits(
        errors=ErrorTraits(style, tuple(errors["rejection"]), envelope),
        unknown_model=StatusRule(unknown.get("status"), unknown.get("level", "MUST")),
        not_ready=StatusRule(not_ready["status"]) if not_ready else None,
        multi_model=models.get("multi", False),
        finish_reasons=block.get("finish-reasons", "openai"),
        openai_sdk=block.get("openai-sdk", True),
        served_models=tuple(models.get("served", ())),
    )
    if not shipped:
        _check_refs(doc, data, ())
        _check_schemas(doc)
    entries = block["operations"]
    ops = tuple(_operation(doc, i, e, name, traits) for i, e in enumerate(entries))
    for key in ("name", "path"):
        values = [getattr(op, key) for op in ops]
        for i, value in enumerate(values):
            if value in values[:i]:
                raise doc.error((BLOCK, "operations", i, key), f"{value!r} is listed twice")
    if not shipped:
        _check_requests(doc, ops)
    profile = Profile(
        name=name,
        spec_file=path.name,
        spec_path=path,
        operations=ops,
        default_models=tuple(models["default"]),
        error_schema=_error_schema(doc, ops[0], traits.errors.status),
        traits=traits,
        words=block.get("words", {}),
        default=block.get("default", False),
        shipped=shipped,
        order=block.get("order", 1000),
    )
    return _Loaded(profile, data)


# ---------------------------------------------------------------------------------------
# The registry: the shipped documents, read on first use, and the --spec ones


class _Registry(Mapping[str, Profile]):
    """name -> Profile, shipped first (by `order`), then each registered document."""

    def __init__(self) -> None:
        self._profiles: dict[str, Profile] | None = None
        self._documents: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def _all(self) -> dict[str, Profile]:
        profiles = self._profiles
        if profiles is not None:
            return profiles
        with self._lock:
            if self._profiles is None:
                loaded = [load(p, shipped=True) for p in sorted(specs_dir().glob("*.yaml"))]
                loaded.sort(key=lambda d: (d.profile.order, d.profile.name))
                names = [d.profile.name for d in loaded]
                for i, d in enumerate(loaded):
                    if d.profile.name in names[:i]:
                        raise ProfileError(
                            f"{d.profile.spec_path}: /{BLOCK}/profile: {d.profile.name!r} is "
                            "the name of another shipped document too"
                        )
                self._documents = {d.profile.name: d.document for d in loaded}
                self._profiles = {d.profile.name: d.profile for d in loaded}
            return self._profiles

    def __getitem__(self, name: str) -> Profile:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._all()))

    def __len__(self) -> int:
        return len(self._all())

    def document(self, name: str) -> dict[str, Any]:
        self._all()
        return self._documents[name]

    def register(self, path: str | Path) -> Profile:
        """Add the profile of a user's document (`--spec PATH`); the same file again is a
        no-op. ProfileError when it cannot be one, or its name or a path is taken."""
        resolved = Path(path).expanduser().resolve()
        with self._lock:
            profiles = self._all()
            for existing in profiles.values():
                if existing.spec_path == resolved:
                    return existing
            loaded = load(resolved, shipped=False)
            name = loaded.profile.name
            if name in profiles:
                taken = profiles[name]
                which = (
                    "a shipped profile" if taken.shipped else f"the profile of {taken.spec_path}"
                )
                raise ProfileError(
                    f"{resolved}: /{BLOCK}/profile: {name!r} is already {which}; give the "
                    "document a name of its own"
                )
            self._documents[name] = loaded.document
            profiles[name] = loaded.profile
            return loaded.profile

    def unregister(self, name: str) -> None:
        """Forget a registered (not a shipped) profile: a test's or a long-lived caller's
        cleanup, so one run's --spec documents do not leak into the next."""
        with self._lock:
            profile = self._all().get(name)
            if profile is not None and not profile.shipped:
                del self._all()[name]
                del self._documents[name]


PROFILES = _Registry()


def register(path: str | Path) -> Profile:
    return PROFILES.register(path)


def document(name: str) -> dict[str, Any]:
    """The parsed document of a profile (what `conformance.spec` validates with)."""
    return PROFILES.document(name)


def names() -> tuple[str, ...]:
    return tuple(PROFILES)


def shipped() -> tuple[str, ...]:
    return tuple(name for name, p in PROFILES.items() if p.shipped)


def defaults() -> tuple[str, ...]:
    """The profiles a run against --target-url checks when no --profile is given."""
    return tuple(name for name, p in PROFILES.items() if p.default) or shipped()[:1]


def __getattr__(name: str) -> tuple[str, ...]:
    """`PROFILE_NAMES`: every known profile, read when first asked for (PEP 562)."""
    if name == "PROFILE_NAMES":
        return names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def operation_for_path(path: str) -> Operation | None:
    for profile in PROFILES.values():
        for op in profile.operations:
            if op.path == path:
                return op
    return None
