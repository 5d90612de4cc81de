"""Error answers in each profile's shape (docs/architecture.md, "Error conventions").

The shape is the profile's error style (`errors` in its document's x-conformance block):
`openai` is the envelope `{"error": {"message", "type", "param", "code"}}`; `fastapi` a 422
`{"detail": [{"loc", "msg", "type", ...}]}` for request problems and `{"detail": "..."}`
otherwise; `envelope` the document's own template. A refused request gets the profile's
first rejection status, an unknown model and a not-ready endpoint theirs. The error faults
(wrong status, bad detail shape, echoed key) live here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from conformance.mock import faults as F
from conformance.mock.config import MockConfig
from conformance.mock.validation import Problem
from conformance.profiles import ErrorTraits, Traits

# Where no profile owns the path (an unknown path), and the shape alphaedge's document implies.
_NO_PROFILE = ErrorTraits("openai", (400,))

MAX_TEXT = 200  # how much of an offending value an error message quotes


@dataclass
class Reply:
    """An answer not yet encoded: a JSON value, or raw bytes with their content type."""

    status: int
    json: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class Errors:
    """Builds the error replies of one profile under one configuration."""

    def __init__(self, traits: Traits | None, config: MockConfig, echo: str | None) -> None:
        errors = traits.errors if traits is not None else _NO_PROFILE
        self.compat = errors.style == "fastapi"
        self.template = json.loads(errors.envelope) if errors.envelope else None
        self.refused = errors.status  # the status of a refused request
        unknown = traits.unknown_model.status if traits is not None else None
        self.unknown_status = unknown or 404
        ready = traits.not_ready if traits is not None else None
        self.not_ready_status = ready.status if ready is not None and ready.status else 400
        self.config = config
        # key-echoed: the Authorization value a request carried, to leak into error bodies
        self.echo = echo if "key-echoed" in config.faults else None
        # wrong-key-echoed: only a 401 quotes it (a wrong key, as "Incorrect API key: ...")
        self.echo_refused = echo if "wrong-key-echoed" in config.faults else self.echo

    def _message(self, text: str) -> str:
        return f"{text} (Authorization: {self.echo})" if self.echo else text

    def _simple(self, status: int, text: str, kind: str, code: str | None = None) -> Reply:
        if self.compat:
            return Reply(status, {"detail": self._message(text)})
        return self._wrapped(status, self._message(text), kind, None, code)

    def _wrapped(
        self, status: int, message: str, kind: str, param: str | None, code: str | None
    ) -> Reply:
        """The profile's envelope: OpenAI's, or its document's template."""
        if self.template is None:
            return Reply(status, _envelope(message, kind, param, code))
        words = {"message": message, "type": kind, "param": param, "code": code}
        return Reply(status, _fill(self.template, status, words))

    def not_found_path(self, path: str) -> Reply:
        text = f"Not Found: no route for {_clip(path)}"
        if path.startswith("/api/"):
            return Reply(404, {"detail": self._message(text)})
        return Reply(404, _envelope(self._message(text), "invalid_request_error", None, None))

    def method_not_allowed(self, method: str, path: str) -> Reply:
        if "method-not-405" in self.config.faults:
            return self.not_found_path(path)
        text = f"Method {_clip(method)} not allowed; use POST"
        reply = self._simple(405, text, "invalid_request_error", "method_not_allowed")
        reply.headers.append((b"allow", b"POST"))
        return reply

    def unauthorized(self) -> Reply:
        text = (
            f"Incorrect API key provided: {self.echo_refused}"
            if self.echo_refused
            else "Missing or invalid API key: send 'Authorization: Bearer <key>'"
        )
        status = 400 if "auth-400" in self.config.faults else 401
        if self.compat:
            reply = Reply(status, {"detail": text})
        else:
            reply = self._wrapped(status, text, "authentication_error", None, "invalid_api_key")
        reply.headers.append((b"www-authenticate", b"Bearer"))
        return reply

    def rate_limited(self) -> Reply:
        reply = self._simple(429, "Rate limit exceeded: retry after 1 second",
                             "rate_limit_error", "rate_limit_exceeded")  # fmt: skip
        reply.headers.append((b"retry-after", b"1"))
        return reply

    def too_large(self, limit: int) -> Reply:
        return self._simple(413, f"Request body larger than {limit} bytes",
                            "invalid_request_error")  # fmt: skip

    def malformed(self, position: int, reason: str) -> Reply:
        if "malformed-json-500" in self.config.faults:
            return Reply(500, raw=F.HTML_500, content_type="text/html; charset=utf-8")
        if self.compat:
            item = {"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
                    "input": {}, "ctx": {"error": reason}}  # fmt: skip
            return self._detail_list([item])
        text = (
            "We could not parse the JSON body of your request "
            f"({reason} at position {position}); send a JSON object"
        )
        return self._wrapped(self.refused, self._message(text), "invalid_request_error", None,
                             None)  # fmt: skip

    def not_object(self, value: Any) -> Reply:
        if self.compat:
            item = {"type": "model_attributes_type", "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": _clip_value(value)}  # fmt: skip
            return self._detail_list([item])
        text = f"The request body must be a JSON object, not {type(value).__name__}"
        return self._wrapped(self.refused, self._message(text), "invalid_request_error", None,
                             None)  # fmt: skip

    def invalid(self, problems: list[Problem]) -> Reply:
        missing = any(p.keyword == "required" for p in problems)
        if missing and "missing-field-500" in self.config.faults:
            return Reply(500, raw=b"Internal Server Error", content_type="text/plain")
        if self.compat:
            return self._detail_list([_detail_item(p) for p in problems])
        first = problems[0]
        param = _param(first.path)
        text = f"{param}: {_clip(first.message)}" if param else _clip(first.message)
        code = "missing_required_parameter" if first.keyword == "required" else None
        return self._wrapped(self.refused, self._message(text), "invalid_request_error", param,
                             code)  # fmt: skip

    def limit(self, field_name: str, value: int, maximum: int) -> Reply:
        """A mock-side limit the documents do not state (so the mock cannot be DoS'd)."""
        if self.compat:
            item = {"type": "less_than_equal", "loc": ["body", field_name],
                    "msg": f"Input should be less than or equal to {maximum} (mock limit)",
                    "input": value, "ctx": {"le": maximum}}  # fmt: skip
            return self._detail_list([item])
        text = f"{field_name}: this server makes at most {maximum} choices per request"
        return self._wrapped(self.refused, self._message(text), "invalid_request_error",
                             field_name, None)  # fmt: skip

    def unknown_model(self, name: str) -> Reply:
        status = self.unknown_status
        if self.compat:
            text = f"Unknown model endpoint {_clip(name)!r}"
            return Reply(status, {"detail": self._message(text)})
        text = f"The model {_clip(name)!r} does not exist or you do not have access to it"
        return self._wrapped(status, self._message(text), "invalid_request_error", "model",
                             "model_not_found")  # fmt: skip

    def not_ready(self) -> Reply:
        text = self._message("Model endpoint not ready")
        if self.compat:
            return Reply(self.not_ready_status, {"detail": text})
        return self._wrapped(self.not_ready_status, text, "invalid_request_error", "model",
                             "model_not_ready")  # fmt: skip

    def _detail_list(self, items: list[dict[str, Any]]) -> Reply:
        status = 400 if "compat-400-not-422" in self.config.faults else self.refused
        if "compat-422-bad-detail" in self.config.faults:
            return Reply(status, {"detail": self._message("bad request")})
        if self.echo and items:
            items[0]["msg"] = self._message(str(items[0]["msg"]))
        if "compat-422-loc-objects" in self.config.faults:
            for item in items:
                item["loc"] = [{}]
        return Reply(status, {"detail": items})


def _envelope(message: str, kind: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _fill(template: Any, status: int, words: dict[str, str | None]) -> Any:
    """The template with its placeholders filled: "{status}" is the status (a number), a
    string that is one "{name}" the word itself (null where there is none), and "{name}"
    inside a longer string the word's text."""
    if isinstance(template, dict):
        return {key: _fill(value, status, words) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, status, words) for value in template]
    if not isinstance(template, str):
        return template
    if template == "{status}":
        return status
    for name, word in words.items():
        if template == "{" + name + "}":
            return word
    out = template.replace("{status}", str(status))
    for name, word in words.items():
        out = out.replace("{" + name + "}", word or "")
    return out


def _param(path: tuple[str | int, ...]) -> str | None:
    if not path:
        return None
    out = str(path[0])
    for part in path[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def _clip_value(value: Any) -> Any:
    """An offending value to quote back: short, and always encodable as strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 1e400 parses to inf, which JSON cannot carry
    if isinstance(value, str | int | float | bool) or value is None:
        return _clip(value) if isinstance(value, str) else value
    try:
        return _clip(repr(value))
    except RecursionError:
        return "(a deeply nested value)"


_TYPE_NAMES = {
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "string": ("string_type", "Input should be a valid string"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "null": ("none_required", "Input should be None"),
}


def _detail_item(p: Problem) -> dict[str, Any]:
    kind, msg, ctx = _pydantic_words(p)
    item: dict[str, Any] = {"type": kind, "loc": ["body", *p.path], "msg": msg}
    item["input"] = None if p.keyword == "required" else _clip_value(p.instance)
    if ctx:
        item["ctx"] = ctx
    return item


def _pydantic_words(p: Problem) -> tuple[str, str, dict[str, Any] | None]:
    """FastAPI/pydantic's error type and words for a JSON Schema keyword failure."""
    v = p.expected
    k = p.keyword
    if k == "required":
        return "missing", "Field required", None
    if k == "minimum":
        return "greater_than_equal", f"Input should be greater than or equal to {v}", {"ge": v}
    if k == "maximum":
        return "less_than_equal", f"Input should be less than or equal to {v}", {"le": v}
    if k == "exclusiveMinimum":
        return "greater_than", f"Input should be greater than {v}", {"gt": v}
    if k == "exclusiveMaximum":
        return "less_than", f"Input should be less than {v}", {"lt": v}
    if k == "type":
        names = v if isinstance(v, list) else [v]
        name = next((n for n in names if n != "null"), names[0] if names else "string")
        kind, msg = _TYPE_NAMES.get(str(name), ("value_error", p.message))
        return kind, msg, None
    if k in ("minItems", "maxItems", "minLength", "maxLength"):
        return _length_words(p)
    if k in ("enum", "const"):
        allowed = v if isinstance(v, list) else [v]
        words = " or ".join(repr(a) for a in allowed[:10])
        return ("enum" if k == "enum" else "literal_error"), f"Input should be {words}", None
    if k == "additionalProperties":
        return "extra_forbidden", "Extra inputs are not permitted", None
    if k == "pattern":
        return "string_pattern_mismatch", f"String should match pattern '{v}'", {"pattern": v}
    if k == "multipleOf":
        return "multiple_of", f"Input should be a multiple of {v}", {"multiple_of": v}
    return "value_error", _clip(p.message), None


def _length_words(p: Problem) -> tuple[str, str, dict[str, Any] | None]:
    v = p.expected
    actual = len(p.instance) if isinstance(p.instance, str | list | dict) else 0
    unit = "character" if p.keyword.endswith("Length") else "item"
    plural = "" if v == 1 else "s"
    if p.keyword in ("minItems", "minLength"):
        kind = "string_too_short" if unit == "character" else "too_short"
        text = f"should have at least {v} {unit}{plural}"
        ctx: dict[str, Any] = {"min_length": v}
    else:
        kind = "string_too_long" if unit == "character" else "too_long"
        text = f"should have at most {v} {unit}{plural}"
        ctx = {"max_length": v}
    head = "String" if unit == "character" else "List"
    tail = "" if unit == "character" else f" after validation, not {actual}"
    ctx["actual_length"] = actual
    return kind, f"{head} {text}{tail}", ctx
