"""report.json read back: the one loader behind diff, matrix, rejudge, baseline and interop.

A report.json outlives the run that wrote it: it is committed as a CI reference, published
beside a vendor's page, compared with reports of other suite versions. So before any field
is read the file is checked against the published JSON Schema (`schema/report.schema.json`,
the same file as docs/report.schema.json), and a file that is not a report (hand-edited,
truncated, of a newer shape) gets one line saying where it is wrong, never a KeyError deep
inside a writer. The schema also names the versions this suite reads.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import strict_json
from conformance.report.model import clean_report
from conformance.report.scrub import Scrubber, one_line, visible
from conformance.results import RunReport

SCHEMA_FILE = "schema/report.schema.json"
_MESSAGE_LIMIT = 200

if TYPE_CHECKING:  # jsonschema is imported when a report is read, not by every command
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


class ReportFileError(Exception):
    """A report.json that cannot be read; the message is one line for the person."""


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema of report.json, as shipped in the package."""
    text = resources.files("conformance.report").joinpath(SCHEMA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def readable_versions() -> frozenset[int]:
    """The `schema_version`s this suite reads: the ones its schema describes."""
    return frozenset(schema()["properties"]["schema_version"]["enum"])


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def _where(error: ValidationError) -> str:
    """`results[3].findings[0].evidence.status`: the place in the file, as a person reads it."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.removeprefix(".") or "(top level)"


def problem(data: Any) -> str | None:
    """The most telling way `data` departs from the schema, as "where: what", or None."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return None
    return f"{_where(error)}: {error.message}"


def check(data: Any, name: str = "report.json") -> None:
    """Raise ReportFileError (one line, naming `name`) unless `data` is a report this suite
    reads. The version is checked first: a newer shape deserves that reason, not a field."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ReportFileError(f"{name}: not a conformance report.json (no 'results' list)")
    version = data.get("schema_version")
    known = readable_versions()
    if isinstance(version, bool) or version not in known:
        versions = ", ".join(str(v) for v in sorted(known))
        raise ReportFileError(
            f"{name}: schema_version {one_line(visible(repr(version)), 40)} is not one this "
            f"version reads (knows: {versions})"
        )
    found = problem(data)
    if found is not None:
        raise ReportFileError(
            f"{name}: not a valid report.json (schema_version {version}): "
            + one_line(visible(found), _MESSAGE_LIMIT)
        )


def load(path: Path) -> RunReport:
    """The report in `path`, checked against the schema; any problem is a ReportFileError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportFileError(f"{path}: is a directory, not a report.json") from None
    except OSError as exc:
        raise ReportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = strict_json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        reason = one_line(visible(str(exc)), _MESSAGE_LIMIT)
        raise ReportFileError(f"{path}: not a JSON report ({reason})") from None
    check(data, str(path))
    # The schema guarantees the shape; cleaning gives the declared Python types (and the
    # same field limits the writers applied) without re-deciding anything.
    return clean_report(data, Scrubber())
