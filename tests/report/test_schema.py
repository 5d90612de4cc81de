"""report.schema.json: the published shape of report.json, and the one loader that holds
every file to it.

The schema is kept in step with the code by construction: its properties are compared with
the dataclasses of `conformance.results`, its enums with their Literal types, and the blocks
other modules fill (`cost`, `recording`, `baseline`) are built by those modules here and
validated. A field added anywhere without the schema (and a new `schema_version`) fails a
test that says which one.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance import cost, results
from conformance.baseline import Applied
from conformance.cli import main
from conformance.report import ReportFileError, load, write_reports
from conformance.report.har import Written
from conformance.report.loader import SCHEMA_FILE, problem, readable_versions, schema
from conformance.report.model import clean_report
from conformance.report.scrub import Scrubber
from conformance.results import SCHEMA_VERSION, CheckResult, Evidence, FindingRecord, RunReport
from tests.report.report_builders import base_report, check

REPO = Path(__file__).resolve().parents[2]
PACKAGED = REPO / "conformance" / "report" / SCHEMA_FILE
DOCS = REPO / "docs" / "report.schema.json"
KEPT = sorted((REPO / "interop" / "reports").glob("*/report.json"))
V1 = Path(__file__).with_name("data") / "report-v1.json"


def _defs(name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema()["$defs"][name]
    return found


def _write(report: RunReport, directory: Path) -> dict[str, Any]:
    write_reports(report, directory)
    data: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return data


# --- the schema itself ----------------------------------------------------------------------


def test_docs_copy_is_the_packaged_schema() -> None:
    assert DOCS.read_bytes() == PACKAGED.read_bytes(), (
        "docs/report.schema.json differs from conformance/report/schema/report.schema.json: "
        "copy the packaged one over it"
    )


def test_schema_is_valid_draft_2020_12_and_ships_in_the_wheel() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # The wheel is built from the `conformance` package directory; the schema is read from
    # there (importlib.resources), so an installed suite has it.
    wheel = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    assert "conformance" in wheel["targets"]["wheel"]["packages"]
    assert PACKAGED.is_relative_to(REPO / "conformance")


def test_the_current_version_is_the_newest_the_schema_describes() -> None:
    assert max(readable_versions()) == SCHEMA_VERSION
    assert 1 in readable_versions()  # reports already committed (CI references) stay readable


@pytest.mark.parametrize(
    "cls, definition",
    [
        (RunReport, None),
        (CheckResult, "CheckResult"),
        (FindingRecord, "Finding"),
        (Evidence, "Evidence"),
    ],
)
def test_schema_properties_are_the_dataclass_fields(cls: type, definition: str | None) -> None:
    node = schema() if definition is None else _defs(definition)
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(node["properties"]) == fields, (
        f"{cls.__name__} and report.schema.json disagree: describe the new field in the "
        "schema (conformance/report/schema/, then copy it to docs/) and bump SCHEMA_VERSION"
    )
    assert node["additionalProperties"] is False


def test_version_2_requires_every_field() -> None:
    v2 = schema()["allOf"][0]["then"]["required"]
    top = {f.name for f in dataclasses.fields(RunReport)}
    assert set(schema()["required"]) | set(v2) == top
    for definition, cls in (("CheckResult", CheckResult), ("Finding", FindingRecord)):
        assert set(_defs(definition)["required"]) == {f.name for f in dataclasses.fields(cls)}
    assert set(_defs("Evidence")["required"]) | {"arrival"} == {
        f.name for f in dataclasses.fields(Evidence)
    }


def test_enums_are_the_literal_types() -> None:
    hints = typing.get_type_hints(RunReport)
    assert set(schema()["properties"]["status"]["enum"]) == set(typing.get_args(hints["status"]))
    check_node = _defs("CheckResult")["properties"]
    assert set(check_node["verdict"]["enum"]) == set(typing.get_args(results.Verdict))
    assert set(check_node["level"]["enum"]) == set(typing.get_args(results.Level))


# --- the blocks other modules fill, built by those modules -----------------------------------


def _validate_block(definition: str, value: Any) -> None:
    node = {"$defs": schema()["$defs"], "$ref": f"#/$defs/{definition}"}
    jsonschema.Draft202012Validator(node).validate(value)


def test_cost_block_of_conformance_cost_fits() -> None:
    spent = cost.ProfileCost(requests=5, retried=1, answers=4, answers_with_usage=2)
    spent.first_sent, spent.last_answer = 100.0, 101.5
    block = cost.summary(
        ["alphaedge", "gateway"],
        {"alphaedge": spent},
        wall_s=3.2,
        preflight_requests=2,
        max_requests=50,
    )
    _validate_block("Cost", block)
    _validate_block("Cost", cost.summary([], {}, wall_s=0, preflight_requests=0, max_requests=None))


def test_recording_and_baseline_blocks_fit() -> None:
    written = Written(Path("/x/exchanges.har"), "0" * 64, entries=3, cut=1)
    _validate_block("Recording", written.field())
    _validate_block("Recording", {**written.field(), "error": "incomplete: worker gw1"})
    _validate_block("Recording", {"file": None, "error": "exchanges.har not written: disk full"})
    applied = Applied("base.yaml", accepted=["a/b/c/d"], now_pass=["a/b/c/e"])
    _validate_block("Baseline", applied.to_dict())


# --- what the writers produce, and the loader reads back ------------------------------------


def _reports() -> dict[str, RunReport]:
    from conformance.config import RunConfig, parse_models
    from conformance.run_report import preflight_failed

    failing = base_report()
    evidence = Evidence(
        "POST",
        "http://127.0.0.1:1/v1/completions",
        {"a": "b"},
        "{}",
        None,
        {},
        "",
        None,
        "curl ...",
        error="timed out",
        arrival="0.1 s: 10 bytes",
    )
    failing.results = [
        check("alphaedge/chat/shape/a", "fail", findings=[FindingRecord("bad", evidence)]),
        check("alphaedge/chat/shape/b", "warn", level="SHOULD", findings=[FindingRecord("m")]),
        check("gateway/completion/errors/c", "skip", reason="needs --api-key"),
    ]
    failing.cost = cost.summary(
        ["alphaedge"], {}, wall_s=1.0, preflight_requests=1, max_requests=None
    )
    failing.baseline = Applied("b.yaml", accepted=["alphaedge/chat/shape/a"]).to_dict()
    failing.recording = {"file": "exchanges.har", "sha256": "a" * 64, "entries": 2, "cut_bodies": 0}
    failing.not_certified = {"gateway": "nothing was judged"}
    run = RunConfig(
        target_url="http://127.0.0.1:9",
        profiles=("alphaedge",),
        models=parse_models([], ("alphaedge",)),
    )
    stopped = preflight_failed(run, "cannot connect", "start it", started_at="2026-01-01")
    return {"failing": failing, "empty": base_report(), "preflight-failed": stopped}


@pytest.mark.parametrize("name", ["failing", "empty", "preflight-failed"])
def test_written_reports_fit_the_schema_and_load_back_equal(name: str, tmp_path: Path) -> None:
    report = _reports()[name]
    data = _write(report, tmp_path)
    assert data["schema_version"] == SCHEMA_VERSION
    assert problem(data) is None
    loaded = load(tmp_path / "report.json")
    assert loaded == clean_report(report, Scrubber())


@pytest.mark.parametrize("path", [V1, *KEPT], ids=["v1", *(p.parent.name for p in KEPT)])
def test_real_reports_load_and_write_again_as_the_current_version(
    path: Path, tmp_path: Path
) -> None:
    """A report of an older suite (data/report-v1.json: schema_version 1, a real run's, cut
    to a few results; before hint, cost, recording and the evidence's arrival existed) and
    the interop reports kept in the repository are read; written again they fit the current
    version."""
    report = load(path)
    assert report.results and report.schema_version in readable_versions()
    again = _write(report, tmp_path)
    assert again["schema_version"] == SCHEMA_VERSION and problem(again) is None
    if path == V1:
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["schema_version"] == 1 and "cost" not in raw
        assert {r.verdict for r in report.results} == {"fail", "skip", "pass"}


def test_a_version_1_file_without_the_later_fields_is_read(tmp_path: Path) -> None:
    data = _write(_reports()["failing"], tmp_path)
    for key in ("hint", "not_certified", "recording", "baseline", "cost"):
        del data[key]
    del data["results"][0]["findings"][0]["evidence"]["arrival"]
    data["schema_version"] = 1
    (tmp_path / "v1.json").write_text(json.dumps(data))
    assert load(tmp_path / "v1.json").results[0].findings[0].evidence is not None
    data["schema_version"] = 2  # the same file claiming version 2 lacks what 2 requires
    (tmp_path / "v2.json").write_text(json.dumps(data))
    with pytest.raises(ReportFileError, match="is a required property"):
        load(tmp_path / "v2.json")


def _broken(data: dict[str, Any], how: str) -> Any:
    if how == "verdict":
        data["results"][0]["verdict"] = "maybe"
    elif how == "missing":
        del data["results"][1]["title"]
    elif how == "extra":
        data["surprise"] = 1
    elif how == "status-type":
        data["status"] = ["completed"]
    elif how == "evidence-status":
        data["results"][0]["findings"][0]["evidence"]["status"] = "200"
    elif how == "cost":
        data["cost"]["profiles"]["alphaedge"]["requests"] = -1
    elif how == "huge":
        data["results"][0]["level"] = "<b>" + "x" * 10_000
    return data


@pytest.mark.parametrize(
    "how, words",
    [
        ("verdict", "results[0].verdict: 'maybe' is not one of"),
        ("missing", "results[1]: 'title' is a required property"),
        ("extra", "(top level): Additional properties are not allowed ('surprise'"),
        ("status-type", "status: ['completed'] is not one of"),
        ("evidence-status", "results[0].findings[0].evidence.status: '200' is not of type"),
        ("cost", "cost.profiles.alphaedge.requests: -1 is less than the minimum of 0"),
        ("huge", "results[0].level: '<b>xxx"),
    ],
)
def test_a_file_off_the_schema_is_one_line_naming_the_place(
    how: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good" / "report.json"
    _write(_reports()["failing"], good.parent)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken(json.loads(good.read_text()), how)))
    for argv in (["diff", str(good), str(bad)], ["matrix", str(bad), "-o", str(tmp_path / "m")]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert f"{bad}: not a valid report.json (schema_version 2): {words}" in lines[0]
        assert len(lines[0]) < 400 + len(str(bad)) and "Traceback" not in captured.err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "content, words",
    [
        (b'{"schema_version": 2, "results": [], "x": NaN}', "non-standard literal NaN"),
        (b'{"schema_version": true, "results": []}', "schema_version True is not one"),
        (b"", "not a JSON report"),
    ],
)
def test_not_json_or_odd_versions_are_one_line(content: bytes, words: str, tmp_path: Path) -> None:
    bad = tmp_path / "report.json"
    bad.write_bytes(content)
    with pytest.raises(ReportFileError) as caught:
        load(bad)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_directory_is_not_a_report(tmp_path: Path) -> None:
    with pytest.raises(ReportFileError, match="is a directory"):
        load(tmp_path)
