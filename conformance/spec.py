"""Load the OpenAPI documents and turn their component schemas into validators.

The specs are the single source of truth: the mock validates requests with them and the
checks validate answers with them, so a bound lives in exactly one place.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import profiles
from conformance.profiles import PROFILES
from conformance.profiles import specs_dir as specs_dir  # where it was found before


def spec_path(profile: str) -> Path:
    return PROFILES[profile].spec_path


def load_spec(profile: str) -> dict[str, Any]:
    """The profile's parsed document (read once, by `conformance.profiles`)."""
    return profiles.document(profile)


@cache
def spec_sha256(profile: str) -> str:
    return hashlib.sha256(spec_path(profile).read_bytes()).hexdigest()


def _is_iso8601(value: object) -> bool:
    # 003 says "ISO 8601 format", which is wider than RFC 3339 (offset optional).
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value or " " in value


FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("date-time")(_is_iso8601)

_SPEC_URI = "urn:conformance:spec:{profile}"


@cache
def _registry(profile: str) -> Registry:
    resource = Resource.from_contents(load_spec(profile), default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(_SPEC_URI.format(profile=profile), resource)
    return registry


@cache
def validator(profile: str, schema_name: str) -> Draft202012Validator:
    """A validator for `#/components/schemas/<schema_name>`, refs resolved, formats checked."""
    if schema_name not in load_spec(profile).get("components", {}).get("schemas", {}):
        raise KeyError(f"{PROFILES[profile].spec_file} has no components.schemas.{schema_name}")
    ref = {"$ref": f"{_SPEC_URI.format(profile=profile)}#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=_registry(profile), format_checker=FORMAT_CHECKER)


def component(profile: str, schema_name: str) -> dict[str, Any]:
    schema = load_spec(profile)["components"]["schemas"][schema_name]
    assert isinstance(schema, dict)
    return schema


def resolve(profile: str, node: Any) -> Any:
    """Follow a local `$ref` (one level at a time until a non-ref node)."""
    spec = load_spec(profile)
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        if not pointer.startswith("#/"):
            raise ValueError(f"only local refs are supported, got {pointer}")
        node = spec
        for part in pointer[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def request_property(profile: str, schema_name: str, field: str) -> dict[str, Any]:
    """The (ref-resolved) schema of one request field, with its x-source and x-level."""
    props = resolve(profile, component(profile, schema_name)).get("properties", {})
    node = resolve(profile, props[field])
    assert isinstance(node, dict)
    return node


def x_source(node: dict[str, Any]) -> str:
    """The document words a schema node cites, as 'file: words' (empty if uncited)."""
    src = node.get("x-source")
    if isinstance(src, dict):
        return f"{src.get('document', '?')}: {src.get('words', '')}"
    return str(src or "")
