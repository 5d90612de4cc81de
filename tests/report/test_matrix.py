"""`conformance matrix`: implementations as columns, checks as rows, verdicts in cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from conformance.report import write_reports
from conformance.results import RunReport
from tests.report.report_builders import Elements, base_report, check


def _save(report: RunReport, directory: Path) -> Path:
    write_reports(report, directory)
    return directory / "report.json"


@pytest.fixture
def reports(tmp_path: Path) -> list[Path]:
    a = base_report(target_url="http://127.0.0.1:8001")
    a.results = [
        check("alphaedge/chat/shape/x", "pass"),
        check("gateway/completion/errors/y", "fail", reason="<b>500</b>"),
    ]
    b = base_report(target_url="http://127.0.0.1:8002", status="interrupted")
    b.results = [
        check("alphaedge/chat/shape/x", "warn", level="SHOULD"),
        check("alphaedge/chat/stream/z", "skip", reason="no stream"),
    ]
    return [_save(a, tmp_path / "a"), _save(b, tmp_path / "b")]


def _cells(doc: Elements) -> dict[str, list[str]]:
    """check id -> verdicts of its row's cells, in column order."""
    rows: dict[str, list[str]] = {}
    current = None
    for tag, attrs in doc.tags:
        if tag == "tr":
            current = attrs.get("data-check-id")
            if current:
                rows[current] = []
        elif tag == "td" and current and "cell" in attrs.get("class", "").split():
            rows[current].append(attrs["data-verdict"])
    return rows


def test_matrix_columns_rows_and_cells(
    reports: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m" / "matrix.html"
    assert main(["matrix", *map(str, reports), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    doc = Elements(page)
    assert [a["data-impl"] for a in doc.find("th") if "data-impl" in a] == [
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8002",
    ]
    assert _cells(doc) == {
        "alphaedge/chat/shape/x": ["pass", "warn"],
        "alphaedge/chat/stream/z": ["absent", "skip"],
        "gateway/completion/errors/y": ["fail", "absent"],
    }
    assert [a["data-profile"] for a in doc.find("tr", **{"class": "profile-row"})] == [
        "alphaedge",
        "gateway",
    ]
    text = "".join(doc.text)
    assert "not conformant: 1 MUST failure" in text
    assert "not certified: the run was interrupted; results are incomplete" in text
    assert "<b>500</b>" not in page and "src=" not in page


def test_matrix_names(reports: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "matrix.html"
    assert main(["matrix", *map(str, reports), "-o", str(out), "--names", "vLLM, TGI"]) == 0
    doc = Elements(out.read_text(encoding="utf-8"))
    assert [a["data-impl"] for a in doc.find("th") if "data-impl" in a] == ["vLLM", "TGI"]


def test_matrix_bad_names_and_files_exit_2(
    reports: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "matrix.html"
    assert main(["matrix", *map(str, reports), "-o", str(out), "--names", "only-one"]) == 2
    assert "--names has 1 names for 2 reports" in capsys.readouterr().err
    assert main(["matrix", str(reports[0]), str(tmp_path / "missing.json"), "-o", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not out.exists()


def test_matrix_same_target_twice_gets_distinct_columns(
    reports: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "matrix.html"
    assert main(["matrix", str(reports[0]), str(reports[0]), "-o", str(out)]) == 0
    doc = Elements(out.read_text(encoding="utf-8"))
    assert [a["data-impl"] for a in doc.find("th") if "data-impl" in a] == [
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8001 (2)",
    ]
