"""report.json: the machine-readable record every other view (diff, matrix) is built from."""

from __future__ import annotations

import json

from conformance.results import SCHEMA_VERSION, RunReport


def render(report: RunReport) -> str:
    """`RunReport.to_dict()` as indented UTF-8 JSON; `report` must already be cleaned.

    The file has the current shape whatever version a loaded report was read from, so it
    says the current `schema_version` (report.schema.json describes it)."""
    data = {**report.to_dict(), "schema_version": SCHEMA_VERSION}
    # default=str and allow_nan=False: a stray non-JSON value becomes text, never invalid JSON.
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"
