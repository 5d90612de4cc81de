"""The options of one certification run, parsed and checked once, independent of pytest."""

from __future__ import annotations

import math
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from conformance.connection import Connection
from conformance.exchange import Limits, credential_values, credentials_sent
from conformance.profiles import PROFILES, Profile, ProfileError

Depth = Literal["quick", "standard", "thorough"]
GateLevel = Literal["must", "should"]

# How many schemathesis-generated cases each operation gets: (positive, streamed, negative).
DEPTH_CASES: dict[str, tuple[int, int, int]] = {
    "quick": (2, 1, 2),
    "standard": (20, 6, 20),
    "thorough": (100, 25, 100),
}


class ConfigError(ValueError):
    """A bad option; its message is shown to the user as is."""


@dataclass(frozen=True)
class RunConfig:
    target_url: str
    profiles: tuple[str, ...]
    models: dict[str, tuple[str, ...]]
    api_key: str | None = None
    not_ready_model: str | None = None
    depth: Depth = "quick"
    level: GateLevel = "must"
    limits: Limits = field(default_factory=Limits)
    concurrency: int = 4
    seed: int = 0
    embedded: bool = False  # the suite started the bundled mock itself
    connection: Connection = field(default_factory=Connection)
    preflight: bool = True  # --no-preflight turns it off
    specs: tuple[str, ...] = ()  # --spec: API documents that add a profile each
    max_requests: int | None = None  # --max-requests: the run's budget (None: no limit)

    def secrets(self) -> tuple[str, ...]:
        """Every credential the run sends (the key, the auth probe's wrong key, credential
        --header values): what every output must leave out."""
        return credentials_sent(self.api_key, self.connection.headers)

    def options(self) -> dict[str, object]:
        """The run's options for the report: everything but the key itself."""
        conn = self.connection
        return {
            "profiles": list(self.profiles),
            "models": {k: list(v) for k, v in self.models.items()},
            "api_key": "[REDACTED]" if self.api_key else None,
            "not_ready_model": self.not_ready_model,
            "depth": self.depth,
            "level": self.level,
            "request_timeout": self.limits.request_timeout,
            "stream_timeout": self.limits.stream_timeout,
            "stall_timeout": self.limits.stall_timeout,
            "max_response_bytes": self.limits.max_bytes,
            "concurrency": self.concurrency,
            "seed": self.seed,
            "embedded_mock": self.embedded,
            "headers": [
                f"{name}: {'[REDACTED]' if credential_values(name, value) else value}"
                for name, value in conn.headers
            ],
            "auth_scheme": conn.auth_scheme or "none",
            "ca_bundle": conn.ca_bundle,
            "insecure": conn.insecure,
            "preflight": self.preflight,
            "max_requests": self.max_requests,
        }


def parse_profiles(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        return default
    names = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    unknown = [n for n in names if n not in PROFILES]
    if unknown or not names:
        raise ConfigError(
            f"--profile: unknown profile {', '.join(unknown) or repr(value)}; "
            f"choose from {', '.join(PROFILES)} (comma-separated; --spec PATH adds one)"
        )
    return names


def register_specs(paths: Sequence[str]) -> tuple[Profile, ...]:
    """`--spec PATH` (repeatable): each document's profile, added to the known ones; a
    document that cannot be one is one line naming the place in it."""
    out = []
    for path in paths:
        try:
            out.append(PROFILES.register(path))
        except ProfileError as exc:
            raise ConfigError(f"--spec {exc}") from None
    return tuple(dict.fromkeys(out))


def parse_models(values: list[str], profiles: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """`--model NAME` sets every profile; `--model PROFILE=NAME[,NAME]` sets one."""
    # the shipped profiles' (as ever) and the run's: another run's --spec documents stay out
    models = {
        p: PROFILES[p].default_models for p in PROFILES if PROFILES[p].shipped or p in profiles
    }
    for raw in values:
        target, sep, names = raw.partition("=")
        if sep and target in PROFILES:
            scope: tuple[str, ...] = (target,)
        elif sep and target not in PROFILES:
            raise ConfigError(
                f"--model {raw!r}: {target!r} is not a profile ({', '.join(PROFILES)})"
            )
        else:
            scope, names = profiles, raw
        parsed = tuple(n.strip() for n in names.split(",") if n.strip())
        if not parsed:
            raise ConfigError(f"--model {raw!r}: no model name given")
        for p in scope:
            # Only a multi-model profile takes a list in one request; elsewhere the first.
            models[p] = parsed if PROFILES[p].traits.multi_model else parsed[:1]
    return models


def check_target_url(url: str) -> str:
    """`http(s)://HOST[:PORT][/prefix]`, without a trailing slash; anything else is refused
    here, before a request, rather than failing in every check."""
    shape = "expected http://HOST:PORT[/prefix] or https://..."
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"--target-url {url!r}: {exc}; {shape}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--target-url {url!r}: {shape}")
    if parts.query or parts.fragment:
        raise ConfigError(f"--target-url {url!r}: no ?query or #fragment; {shape}")
    if parts.username or parts.password:
        raise ConfigError(
            "--target-url: no user:password@ in the URL (it would be printed); "
            "pass the key with --api-key or CONFORMANCE_API_KEY"
        )
    return url.strip().rstrip("/")


def positive_number(name: str, value: float | str) -> float:
    """A finite number of seconds > 0, from the command line's text or a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"{name}: expected a positive number of seconds, got {value!r}")
    return number


def whole_number(name: str, value: int | str, minimum: int) -> int:
    """An integer >= `minimum`, from the command line's text or a number."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number


def choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


# RFC 9110 field-name: a token (no spaces, separators or colons).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def parse_header(raw: str) -> tuple[str, str]:
    """`--header 'Name: value'` as (name, value); a malformed one is refused by name."""
    name, sep, value = raw.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.fullmatch(name):
        raise ConfigError(f"--header {_shown(raw)}: expected 'Name: value' (e.g. 'X-Org: acme')")
    if any(c in value for c in "\r\n\0"):
        raise ConfigError(f"--header {name}: the value must not hold a line break or NUL")
    return name, value


def _shown(raw: str) -> str:
    """A --header argument for an error message, its value hidden if it may be a secret."""
    name, sep, value = raw.partition(":")
    if not sep:  # no colon: the value may be in there somewhere; show the first word only
        words = raw.split()
        return repr(words[0] + (" …" if len(words) > 1 else "")) if words else repr(raw)
    return repr(f"{name}: [REDACTED]") if credential_values(name, value) else repr(raw)


AUTH_SCHEME_BARE = ("none", "raw", "bare")


def parse_auth_scheme(raw: str) -> str:
    """`Bearer` (the default), any other scheme word, or none/raw for a bare key."""
    value = raw.strip()
    if value.lower() in AUTH_SCHEME_BARE:
        return ""
    if not _TOKEN.fullmatch(value):
        raise ConfigError(
            f"--auth-scheme {raw!r}: expected one word such as Bearer, Token or Basic, "
            "or none (the key is sent as the bare Authorization value)"
        )
    return value


def check_ca_bundle(path: str) -> str:
    """A readable PEM bundle that loads as CA certificates."""
    if not os.path.isfile(path):
        raise ConfigError(f"--ca-bundle {path}: no such file")
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"--ca-bundle {path}: not a PEM file of CA certificates ({exc})"
        ) from None
    return path


def parse_connection(
    headers: Sequence[str], auth_scheme: str, ca_bundle: str | None, insecure: bool
) -> Connection:
    if ca_bundle and insecure:
        raise ConfigError("--ca-bundle and --insecure: give one (--insecure verifies nothing)")
    return Connection(
        headers=tuple(parse_header(h) for h in headers),
        auth_scheme=parse_auth_scheme(auth_scheme),
        ca_bundle=check_ca_bundle(ca_bundle) if ca_bundle else None,
        insecure=insecure,
    )
