"""Certification report writers: report.json, report.html, junit.xml, summary.md.

`write_reports` is the one entry point the pytest plugin calls at the end of a run; `load`
is the one way to read a report.json back (checked against its published JSON Schema). Each
file is written to a temporary name and renamed into place, so a CI job that uploads the
directory never publishes half a report, and an older complete report is only ever replaced
by a newer complete one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.report import html, json_writer, junit, markdown
from conformance.report.loader import ReportFileError, load
from conformance.report.model import clean_report
from conformance.report.scrub import Scrubber
from conformance.results import RunReport

__all__ = ["FILES", "ReportFileError", "atomic_write", "load", "write_reports"]

FINAL_PASS_MIN = 8

# File name -> renderer of a cleaned report. Order is the order of the returned paths.
FILES: dict[str, Callable[[RunReport], str]] = {
    "report.json": json_writer.render,
    "report.html": html.render,
    "junit.xml": junit.render,
    "summary.md": markdown.render,
}


def atomic_write(path: Path, text: str) -> Path:
    """Write UTF-8 `text` to `path` via a temporary file in the same directory + rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", errors="backslashreplace"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be read and shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_reports(
    report: RunReport | Mapping[str, Any],
    directory: Path,
    secrets: Sequence[str] = (),
    recording: Callable[[Path], dict[str, Any]] | None = None,
) -> list[Path]:
    """Write the four report files into `directory` (created if missing).

    Every string is scrubbed of `secrets` (the API key), bounded to ~8 KB per field and made
    encodable before any writer sees it. Odd field values never raise; only filesystem
    errors (an unwritable directory) do, as OSError.

    `recording` writes exchanges.har into the directory first (see `report.har`) and gives
    the `recording` field that names it by its sha256 in report.json.
    """
    written: list[Path] = []
    if recording is not None:
        named = recording(Path(directory))
        if isinstance(report, RunReport):
            report = dataclasses.replace(report, recording=named)
        else:
            report = {**report, "recording": named}
        if named.get("file"):
            written.append(Path(directory) / str(named["file"]))
    clean = clean_report(report, Scrubber(secrets))
    # A last pass over each whole file: two innocent neighbouring fields could spell a key.
    # Only for key-length secrets: a short one could match the file's own markup and break it.
    final = Scrubber([s for s in secrets if len(s) >= FINAL_PASS_MIN], limit=sys.maxsize)
    directory = Path(directory)
    return [
        atomic_write(directory / name, final(render(clean))) for name, render in FILES.items()
    ] + written
