"""Python values as JSON and back, without loss: the fields of a recorded exchange.

A recording (exchanges.har) must give the checks back exactly what they read during the live
run, or a re-judged verdict could differ for reasons that have nothing to do with the server.
Plain JSON loses bytes, tuples, frozensets, non-finite floats and non-string keys; this codec
keeps them as small tagged objects (`{"$bytes": "<base64>"}`, `{"$tuple": [...]}`, ...).
Fields are encoded by walking the dataclass, so a field added to `Exchange` or `Request`
later is recorded without anyone remembering to list it here. A value of a type the codec
does not know raises `Unencodable`: failing loudly beats a field that silently comes back
as a string.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

TAGS = ("$bytes", "$tuple", "$frozenset", "$set", "$float", "$dict", "$dataclass", "$ref")

T = TypeVar("T")
Ref = Callable[[Any], str | None]  # an object recorded elsewhere (e.g. a nested Exchange) -> id
Resolve = Callable[[str], Any]  # id -> that object, when decoding


class Unencodable(TypeError):
    """A value the recording cannot hold exactly; names the type so the fix is obvious."""


def encode(value: Any, ref: Ref | None = None) -> Any:
    """`value` as JSON-ready data. `ref` may claim an object (returning its id) so that it is
    stored once elsewhere. The suite's own dataclasses are encoded field by field."""
    if ref is not None:
        ident = ref(value)
        if ident is not None:
            return {"$ref": ident}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list):
        return [encode(v, ref) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, ref) for v in value]}
    if isinstance(value, frozenset | set):
        tag = "$frozenset" if isinstance(value, frozenset) else "$set"
        items = [encode(v, ref) for v in value]
        return {tag: sorted(items, key=_sort_key)}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, ref) for k, v in value.items()}
        return {"$dict": [[encode(k, ref), encode(v, ref)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and _ours(type(value)):
        name = f"{type(value).__module__}:{type(value).__qualname__}"
        return {"$dataclass": name, "fields": encode_fields(value, (), ref)}
    raise Unencodable(f"cannot record a value of type {type(value).__qualname__}")


def encode_fields(
    obj: Any, skip: tuple[str, ...] | frozenset[str] = (), ref: Ref | None = None
) -> dict[str, Any]:
    """Every dataclass field of `obj` not in `skip`, encoded: new fields are kept automatically."""
    return {
        f.name: encode(getattr(obj, f.name), ref)
        for f in dataclasses.fields(obj)
        if f.name not in skip
    }


def decode(data: Any, resolve: Resolve | None = None) -> Any:
    """The inverse of `encode`; unknown tags and classes raise ValueError with the reason."""
    if isinstance(data, list):
        return [decode(v, resolve) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) in (1, 2) and next(iter(data), "").startswith("$"):
        return _tagged(data, resolve)
    return {k: decode(v, resolve) for k, v in data.items()}


def _tagged(data: dict[str, Any], resolve: Resolve | None) -> Any:
    tag, payload = next(iter(data.items()))
    if tag == "$bytes":
        return base64.b64decode(payload, validate=True)
    if tag == "$tuple":
        return tuple(decode(v, resolve) for v in payload)
    if tag == "$frozenset":
        return frozenset(decode(v, resolve) for v in payload)
    if tag == "$set":
        return {decode(v, resolve) for v in payload}
    if tag == "$float":
        return float(payload)
    if tag == "$dict":
        return {decode(k, resolve): decode(v, resolve) for k, v in payload}
    if tag == "$ref":
        if resolve is None:
            raise ValueError(f"a reference to {payload!r} where none is allowed")
        return resolve(str(payload))
    if tag == "$dataclass":
        return build(_class(str(payload)), data.get("fields", {}), resolve)
    raise ValueError(f"unknown tag {tag!r}")


def build(
    cls: type[T],
    fields: Mapping[str, Any],
    resolve: Resolve | None = None,
    **given: Any,
) -> T:
    """An instance of dataclass `cls` from encoded `fields` plus already-built `given` ones.

    Fields the recording has but `cls` no longer declares are dropped (an older recording read
    by a newer suite); fields `cls` has but the recording lacks take their defaults."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    args = {k: decode(v, resolve) for k, v in fields.items() if k in known}
    args.update(given)
    return cls(**args)


def _ours(cls: type) -> bool:
    return cls.__module__ == "conformance" or cls.__module__.startswith("conformance.")


def _class(name: str) -> type:
    """The suite's own dataclass named `module:qualname`; nothing else is ever imported."""
    module, _, qualname = name.partition(":")
    try:
        obj: Any = importlib.import_module(module) if module.startswith("conformance.") else None
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
    except ImportError:
        obj = None
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj) and _ours(obj)):
        raise ValueError(f"a recorded {name!r}, a type this version does not rebuild")
    return obj


def _sort_key(item: Any) -> str:
    return repr(item)
