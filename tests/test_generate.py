"""Generated cases: reproducible, pinned to the configured model, truly invalid when
negative, and independent of the working directory (no schemathesis.toml pickup)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import generate, spec
from conformance.profiles import PROFILES
from tests.suite.certify import config_for

COMPAT = PROFILES["compat"].operations[0]


def _bodies(op: object = COMPAT) -> list[object]:
    generate._GENERATED.clear()
    cfg = config_for("http://127.0.0.1:1", depth="standard")
    return [p.request.json_body for p in generate.generated_probes(op, cfg)]  # type: ignore[arg-type]


def test_generation_is_reproducible() -> None:
    assert _bodies() == _bodies()


def test_positive_cases_are_valid_and_pinned_to_the_model() -> None:
    generate._GENERATED.clear()
    cfg = config_for("http://127.0.0.1:1", depth="standard")
    probes = generate.generated_probes(COMPAT, cfg)
    validator = spec.validator("compat", COMPAT.request_schema)
    positive = [p for p in probes if "positive" in p.tags]
    negative = [p for p in probes if "negative" in p.tags]
    assert len(positive) >= 20 and len(negative) >= 15
    for probe in positive:
        body = probe.request.json_body
        assert validator.is_valid(body), body
        assert body["model"] == "gpt-4"
        assert body.get("max_tokens", 1) <= generate.MAX_TOKENS
    for probe in negative:
        assert not validator.is_valid(probe.request.json_body)


def test_a_schemathesis_toml_in_the_working_directory_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _bodies()
    generate._schema.cache_clear()
    (tmp_path / "schemathesis.toml").write_text(
        '[generation]\ncodec = "ascii"\nallow-x00 = false\n'
    )
    monkeypatch.chdir(tmp_path)
    assert _bodies() == expected
    generate._schema.cache_clear()
