"""report.json: the machine-readable record every other view (diff, matrix) is built from."""

from __future__ import annotations

import json

from conformance.results import RunReport


def render(report: RunReport) -> str:
    """`RunReport.to_dict()` as indented UTF-8 JSON; `report` must already be cleaned."""
    # default=str and allow_nan=False: a stray non-JSON value becomes text, never invalid JSON.
    return (
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False, default=str)
        + "\n"
    )
