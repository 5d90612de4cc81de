"""A profile is data: the x-conformance block of its document, read by conformance.profiles.

The shipped traits equal what the Python table held before they moved into the specs; a
user's document (`--spec`) becomes a profile; a document that cannot be one is refused
with one line naming the file, the place in it (JSON pointer and line) and the problem.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import catalog, profiles
from conformance.config import ConfigError, parse_models, register_specs
from conformance.profiles import PROFILES, ProfileError, StatusRule
from tests.suite.certify import config_for

ROOT = Path(__file__).resolve().parents[1]
OWN_API = ROOT / "fixtures" / "profiles" / "own-api.yaml"
SEED_FILES = re.compile(r"\b00[0-4]_[0-9a-f]{16}\.txt\b")


@pytest.fixture
def own_api() -> Iterator[profiles.Profile]:
    profile = PROFILES.register(OWN_API)
    yield profile
    PROFILES.unregister(profile.name)


# What conformance/profiles.py held as Python before the traits moved into specs/*.yaml.
SHIPPED = {
    "alphaedge": (
        [
            ("completions", "/v1/completions", "CompletionRequest", "CompletionResponse",
             "CompletionChunk", "text", "SHOULD"),
            ("chat", "/v1/chat/completions", "ChatCompletionRequest", "ChatCompletionResponse",
             "ChatCompletionChunk", "chat", "MUST"),
        ],
        ("alphaedge-large-3-2512",), "ErrorResponse",
    ),
    "gateway": (
        [("completion", "/v1/completion", "CompletionRequest", "CompletionResponse", None,
          "text", "SHOULD")],
        ("gpt-4", "llama-2-70b"), "ErrorResponse",
    ),
    "compat": (
        [("completions", "/api/v1/compatibility/openai/v1/completions", "CompletionRequest",
          "CompletionResponse", "CompletionChunk", "text", "SHOULD")],
        ("gpt-4",), "HTTPValidationError",
    ),
}  # fmt: skip


def test_shipped_profiles_are_the_documents_in_specs() -> None:
    assert profiles.shipped() == ("alphaedge", "gateway", "compat")
    assert profiles.defaults() == ("alphaedge",)
    for name, (ops, models, error_schema) in SHIPPED.items():
        profile = PROFILES[name]
        assert profile.spec_path == profiles.specs_dir() / f"{name}.yaml"
        got = [
            (o.name, o.path, o.request_schema, o.response_schema, o.chunk_schema, o.kind,
             o.stream_level)
            for o in profile.operations
        ]  # fmt: skip
        assert got == ops
        assert (profile.default_models, profile.error_schema) == (models, error_schema)
        assert all(op.traits is profile.traits for op in profile.operations)


def test_shipped_traits() -> None:
    alphaedge, gateway, compat = (PROFILES[n].traits for n in ("alphaedge", "gateway", "compat"))
    assert [t.errors.rejection for t in (alphaedge, gateway, compat)] == [
        (400, 422),
        (400, 422),
        (422,),
    ]
    assert [t.errors.style for t in (alphaedge, gateway, compat)] == ["openai", "openai", "fastapi"]
    assert alphaedge.unknown_model == StatusRule(404, "SHOULD")
    assert gateway.unknown_model == StatusRule(None, "MUST")
    assert compat.unknown_model == StatusRule(404, "MUST")
    assert [t.not_ready for t in (alphaedge, gateway, compat)] == [None, None, StatusRule(400)]
    assert [t.multi_model for t in (alphaedge, gateway, compat)] == [False, True, False]
    assert [t.finish_reasons for t in (alphaedge, gateway, compat)] == ["openai", "free", "openai"]
    assert [t.openai_sdk for t in (alphaedge, gateway, compat)] == [True, False, True]


def test_a_document_of_ones_own_becomes_a_profile(own_api: profiles.Profile) -> None:
    assert own_api.name in PROFILES and not own_api.shipped
    assert [op.path for op in own_api.operations] == [
        "/nimbus/api/v2/completions",
        "/nimbus/api/v2/chat/completions",
    ]
    assert [op.stream_level for op in own_api.operations] == ["MUST", "MUST"]
    assert own_api.traits.errors.rejection == (400,)
    assert own_api.error_schema == "Problem"
    assert PROFILES.register(OWN_API) is own_api  # the same file again: the same profile
    assert register_specs([str(OWN_API)]) == (own_api,)
    # the checks of a user's profile never quote a shipped vendor document
    config = config_for("http://127.0.0.1:1", profiles=(own_api.name,))
    checks = catalog.all_checks(config)
    assert checks and all(c.id.startswith(f"{own_api.name}/") for c in checks)
    assert [c.id for c in checks if SEED_FILES.search(" ".join(c.source))] == []


def test_another_runs_document_does_not_leak_into_a_run(own_api: profiles.Profile) -> None:
    assert set(parse_models([], ("alphaedge",))) == {"alphaedge", "gateway", "compat"}
    assert own_api.name in parse_models([], (own_api.name,))
    PROFILES.unregister(own_api.name)
    assert own_api.name not in PROFILES
    PROFILES.unregister("alphaedge")  # a shipped profile stays
    assert "alphaedge" in PROFILES


def _mutated(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        data = yaml.safe_load(OWN_API.read_text())
        change(data)
        path = tmp / "api.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, width=200))
        return path

    return write


def _text(text: str) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        path = tmp / "api.yaml"
        path.write_text(text)
        return path

    return write


def _set(*parts: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value

    return change


def _delete(*parts: str | int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for part in parts[:-1]:
            node = node[part]
        del node[parts[-1]]

    return change


def _no_prompt(data: dict[str, Any]) -> None:
    request = data["components"]["schemas"]["TextRequest"]
    del request["properties"]["prompt"]
    request["required"] = ["model"]


TEXT = "/nimbus/api/v2/completions"
JSON_SCHEMA = ("paths", TEXT, "post", "requestBody", "content", "application/json", "schema")

# (case, document, JSON pointer, words, the key on the line the message names or None)
BAD = [
    ("kind", _mutated(_set("x-conformance", "operations", 1, "kind", value="chatt")),
     "/x-conformance/operations/1/kind", "is not one of", "kind"),
    ("unknown trait", _mutated(_set("x-conformance", "colour", value="red")),
     "/x-conformance", "'colour' was unexpected", None),
    ("name", _mutated(_set("x-conformance", "profile", value="Nimbus API")),
     "/x-conformance/profile", "does not match", "profile"),
    ("path", _mutated(_set("x-conformance", "operations", 0, "path", value="/nowhere")),
     "/x-conformance/operations/0/path", "no `post` at paths//nowhere", "path"),
    ("ref", _mutated(_set(*JSON_SCHEMA, "$ref", value="#/components/schemas/Nope")),
     "/paths/~1nimbus~1api~1v2~1completions/post/requestBody/content/application~1json/schema"
     "/$ref", "points at nothing", "$ref"),
    ("openapi 3.0", _mutated(_set("openapi", value="3.0.3")), "/openapi", "OpenAPI 3.1",
     "openapi"),
    ("no block", _mutated(_delete("x-conformance")), None, "no x-conformance block", None),
    ("twice", _mutated(_set("x-conformance", "operations", 1, "name", value="completions")),
     "/x-conformance/operations/1/name", "listed twice", "name"),
    ("no prompt", _mutated(_no_prompt), "/components/schemas/TextRequest/properties",
     "documents no prompt", "properties"),
    ("no template", _mutated(_delete("x-conformance", "errors", "envelope")),
     "/x-conformance/errors", "go together", "errors"),
    ("schema", _mutated(_set("components", "schemas", "N", "minimum", value="one")),
     "/components/schemas/N/minimum", "not JSON Schema", "minimum"),
    ("zone", _mutated(_set("components", "schemas", "TextRequest", "x-conformance-undefined", 0,
                           value={"rule": "null-for-optional"})),
     "/components/schemas/TextRequest/x-conformance-undefined/0", "ambiguity", None),
    ("stream", _mutated(_delete("paths", TEXT, "post", "responses", "200", "content",
                                "text/event-stream")),
     "/x-conformance/operations/0/stream", "no text/event-stream", "stream"),
    ("status", _mutated(_set("x-conformance", "errors", "rejection", value=[200])),
     "/x-conformance/errors/rejection/0", "less than the minimum", None),
    ("taken", _mutated(_set("x-conformance", "profile", value="alphaedge")),
     "/x-conformance/profile", "already a shipped profile", None),
    ("yaml", _text("openapi: 3.1.0\npaths: [\n"), None, "not YAML", None),
    ("top level", _text("- just\n- a list\n"), None, "not an OpenAPI document", None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "write", "pointer", "words", "key"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_document_is_one_line_naming_the_place(
    tmp_path: Path,
    case: str,
    write: Callable[[Path], Path],
    pointer: str | None,
    words: str,
    key: str | None,
) -> None:
    path = write(tmp_path)
    with pytest.raises(ProfileError) as caught:
        PROFILES.register(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path.resolve())), message
    assert words in message, message
    if pointer is not None:
        assert f": {pointer}: " in message, message
    if key is not None:
        line = re.search(r": line (\d+): ", message)
        assert line, message
        assert key in path.read_text().splitlines()[int(line.group(1)) - 1], message
    assert case and path.resolve() not in [p.spec_path for p in PROFILES.values()]


def test_a_missing_document() -> None:
    with pytest.raises(ConfigError, match=r"^--spec .*nowhere\.yaml: cannot read it"):
        register_specs(["/nowhere.yaml"])


def test_the_mock_refuses_a_bad_document_in_one_line(tmp_path: Path) -> None:
    path = _mutated(_set("x-conformance", "operations", 1, "kind", value="chatt"))(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "conformance.mock", "--spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "/x-conformance/operations/1/kind" in lines[0], done.stderr
