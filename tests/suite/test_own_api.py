"""A sixth profile that exists only as a document (fixtures/profiles/own-api.yaml): the mock
serves it, the suite passes it, and mock faults on it are caught, with no Python naming it.

Its differences from the shipped profiles are all data: a path prefix, both streams
documented (MUST), 400 as the only rejection status, its own error envelope, its own bounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from conformance.mock.process import MockProcess
from conformance.mock.variants import VARIANTS
from conformance.profiles import PROFILES, Profile
from tests.first_contact import cli
from tests.suite.certify import certify_mock, failing

ROOT = Path(__file__).resolve().parents[2]
OWN_API = str(ROOT / "fixtures" / "profiles" / "own-api.yaml")
MOCK = [sys.executable, "-m", "conformance.mock"]


@pytest.fixture(scope="module")
def own() -> Iterator[Profile]:
    profile = PROFILES.register(OWN_API)
    yield profile
    PROFILES.unregister(profile.name)


def test_the_mock_serves_it_and_the_suite_passes_it(own: Profile) -> None:
    results = certify_mock(specs=[OWN_API])
    assert failing(results) == []
    assert [r.id for r in results if r.verdict == "skip"] == []
    ids = {r.id for r in results}
    assert all(i.startswith(f"{own.name}/") for i in ids)
    levels = {r.id: r.level for r in results}
    for op in ("completions", "chat"):  # the traits at work: documented streams, own errors
        assert levels[f"{own.name}/{op}/stream/done-terminates"] == "MUST"
        assert levels[f"{own.name}/{op}/errors/validation-error-shape"] == "MUST"
        assert f"{own.name}/{op}/bounds/temperature-maximum" in ids
    assert f"{own.name}/completions/semantics/prompt-array-choices" in ids


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_legal_variant_passes_on_it(variant: str) -> None:
    assert failing(certify_mock(variants=[variant], specs=[OWN_API])) == []


@pytest.mark.parametrize(
    ("fault", "caught"),
    [
        # its own bound: temperature up to 1.5 (the shipped profiles allow 2)
        ("bound-temperature-max", ["bounds/temperature-maximum"]),
        # its streams are documented, so the [DONE] rule is a MUST there
        ("stream-no-done", ["stream/done-terminates"]),
        # its unknown-model status is documented (404, MUST)
        ("unknown-model-200", ["errors/unknown-model-rejected"]),
    ],
)
def test_faults_on_it_are_caught(own: Profile, fault: str, caught: list[str]) -> None:
    results = certify_mock(faults=[fault], specs=[OWN_API])
    expected = sorted(
        f"{own.name}/{op}/{check}" for op in ("chat", "completions") for check in caught
    )
    assert failing(results) == expected
    assert {r.level for r in results if r.id in expected} == {"MUST"}


def test_an_envelope_the_document_does_not_give_is_caught(own: Profile, tmp_path: Path) -> None:
    """The same document, its mock answering errors in an envelope its schema refuses (the
    `envelope` template no longer fills the documented `detail`): validation-error-shape
    judges every error body against the document's own error schema."""
    data = yaml.safe_load(Path(OWN_API).read_text())
    data["x-conformance"]["profile"] = "nimbus-mangled"
    data["x-conformance"]["errors"]["envelope"] = {
        "problem": {"status": "{status}", "message": "{message}"}
    }
    mangled = tmp_path / "mangled.yaml"
    mangled.write_text(yaml.safe_dump(data, sort_keys=False))
    caught = failing(certify_mock(specs=[str(mangled)]))
    assert caught == [
        "nimbus-mangled/chat/errors/validation-error-shape",
        "nimbus-mangled/completions/errors/validation-error-shape",
    ]


def test_the_mock_serves_only_the_documents_it_is_given(own: Profile) -> None:
    with MockProcess(specs=[OWN_API]) as mock:
        body = {"model": own.default_models[0], "prompt": "Say hello", "max_tokens": 3}
        served = httpx.post(mock.url + own.operations[0].path, json=body, timeout=10)
        assert served.status_code == 200 and served.json()["object"] == "text_completion"
        refused = httpx.post(mock.url + own.operations[0].path, json={**body, "n": 5}, timeout=10)
        assert refused.status_code == 400
        assert refused.json()["problem"]["field"] == "n"  # its own envelope
        assert httpx.post(mock.url + "/v1/completions", json=body, timeout=10).status_code == 404
    with MockProcess(specs=[OWN_API], profiles=[own.name, "gateway"]) as mock:
        gateway = {"model": "gpt-4", "prompt": "Say hello"}
        assert httpx.post(mock.url + "/v1/completion", json=gateway, timeout=10).status_code == 200


def test_two_profiles_on_one_path_are_refused(own: Profile, tmp_path: Path) -> None:
    data = yaml.safe_load(Path(OWN_API).read_text())
    data["x-conformance"]["profile"] = "nimbus-twin"
    twin = tmp_path / "twin.yaml"
    twin.write_text(yaml.safe_dump(data, sort_keys=False))
    done = subprocess.run(
        [*MOCK, "--spec", OWN_API, "--spec", str(twin)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"is both {own.name}'s and nimbus-twin's" in done.stderr


def test_pytest_certifies_it_with_spec(own: Profile, tmp_path: Path) -> None:
    """The user's path: `pytest --spec PATH` certifies the bundled mock serving it."""
    proc = cli.run(tmp_path, "--spec", OWN_API, "--report-dir", str(tmp_path / "out"), "-q")
    cli.no_traceback(proc)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = cli.report(tmp_path / "out")
    assert report["profiles"] == [own.name]
    assert report["status"] == "completed"
    verdicts = {c["verdict"] for c in report["results"]}
    assert verdicts == {"pass"}, json.dumps(report["results"][:3])[:2000]
    bad = cli.run(tmp_path, "--spec", str(tmp_path / "nowhere.yaml"))
    assert bad.returncode == 4 and "cannot read it" in bad.stdout + bad.stderr
