"""The three documented API profiles and the operations each one serves.

A profile is one vendor document family; an operation is one documented path. Everything
else (schemas, bounds, sources) lives in the spec files, not here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    profile: str
    name: str  # short name used in check ids: "completions", "chat", "completion"
    path: str
    request_schema: str  # component schema name in the profile's spec
    response_schema: str
    chunk_schema: str | None  # None when the operation has no streaming form
    kind: str  # "text" (prompt -> choices[].text) or "chat" (messages -> choices[].message)


@dataclass(frozen=True)
class Profile:
    name: str
    spec_file: str
    operations: tuple[Operation, ...]
    default_models: tuple[str, ...]
    error_schema: str


PROFILES: dict[str, Profile] = {
    "alphaedge": Profile(
        name="alphaedge",
        spec_file="alphaedge.yaml",
        operations=(
            Operation(
                "alphaedge",
                "completions",
                "/v1/completions",
                "CompletionRequest",
                "CompletionResponse",
                "CompletionChunk",
                "text",
            ),
            Operation(
                "alphaedge",
                "chat",
                "/v1/chat/completions",
                "ChatCompletionRequest",
                "ChatCompletionResponse",
                "ChatCompletionChunk",
                "chat",
            ),
        ),
        default_models=("alphaedge-large-3-2512",),
        error_schema="ErrorResponse",
    ),
    "gateway": Profile(
        name="gateway",
        spec_file="gateway.yaml",
        operations=(
            Operation(
                "gateway",
                "completion",
                "/v1/completion",
                "CompletionRequest",
                "CompletionResponse",
                None,
                "text",
            ),
        ),
        default_models=("gpt-4", "llama-2-70b"),
        error_schema="ErrorResponse",
    ),
    "compat": Profile(
        name="compat",
        spec_file="compat.yaml",
        operations=(
            Operation(
                "compat",
                "completions",
                "/api/v1/compatibility/openai/v1/completions",
                "CompletionRequest",
                "CompletionResponse",
                "CompletionChunk",
                "text",
            ),
        ),
        default_models=("gpt-4",),
        error_schema="HTTPValidationError",
    ),
}

PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def operation_for_path(path: str) -> Operation | None:
    for profile in PROFILES.values():
        for op in profile.operations:
            if op.path == path:
                return op
    return None
