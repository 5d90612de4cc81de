"""Turn a RunReport (or a report.json read back from disk) into one every writer can trust.

The writers must never raise on odd data: a report is written at the end of a run that may
have gone wrong in any way, and a crash there loses the evidence. So the writers never see
the raw report. They see the result of `clean_report`: every string scrubbed (secrets,
size, unencodable characters), every field of the type `conformance.results` declares,
every verdict one of the four known ones.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, get_args

from conformance.results import (
    SCHEMA_VERSION,
    CheckResult,
    Evidence,
    FindingRecord,
    RunReport,
    Verdict,
)

VERDICTS: tuple[str, ...] = get_args(Verdict)
_MAX_DEPTH = 32
_SENSITIVE_OPTION_WORDS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "authorization", "credentials"}
)

Clean = Callable[[str], str]


def _tree(value: Any, clean: Clean, depth: int = 0) -> Any:
    """A JSON-ready copy of `value` with every string (keys too) passed through `clean`."""
    if depth > _MAX_DEPTH:
        return clean(f"<nested deeper than {_MAX_DEPTH} levels>")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bytes | bytearray):
        return clean(bytes(value).decode("utf-8", errors="replace"))
    if isinstance(value, Mapping):
        return {_text(k, clean): _tree(v, clean, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_tree(v, clean, depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _tree(
            {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)},
            clean,
            depth + 1,
        )
    return clean(_safe_str(value))


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a broken __str__ must not lose the report
        return f"<unprintable {type(value).__name__}>"


def _text(value: Any, clean: Clean, default: str = "") -> str:
    if value is None:
        return clean(default)
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bytes | bytearray):
        return clean(bytes(value).decode("utf-8", errors="replace"))
    return clean(_safe_str(value))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _float(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return 0.0


def _dict(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [] if value is None else [value]


def _str_dict(value: Any, clean: Clean) -> dict[str, str]:
    if isinstance(value, list | tuple):  # header lists [(name, value), ...]
        value = {p[0]: p[1] for p in value if isinstance(p, list | tuple) and len(p) == 2}
    return {_text(k, clean): _text(v, clean) for k, v in _dict(value).items()}


def _options(value: Any, clean: Clean) -> dict[str, Any]:
    """Options with any credential-looking entry blanked, whatever its value."""
    tree = _tree(_dict(value), clean)
    out: dict[str, Any] = {}
    for key, item in tree.items():
        words = set(re.split(r"[^a-z0-9]+", key.lower()))  # "max_tokens" is not a token
        sensitive = bool(words & _SENSITIVE_OPTION_WORDS)
        out[key] = "[REDACTED]" if sensitive and item not in (None, "", False) else item
    return out


def _evidence(value: Any, clean: Clean) -> Evidence | None:
    if value is None:
        return None
    data = _dict(value) if not isinstance(value, Evidence) else dataclasses.asdict(value)
    if not data:
        return None
    sse = data.get("sse_excerpt")
    error = data.get("error")
    arrival = data.get("arrival")
    return Evidence(
        method=_text(data.get("method"), clean),
        url=_text(data.get("url"), clean),
        request_headers=_str_dict(data.get("request_headers"), clean),
        request_body=_text(data.get("request_body"), clean),
        status=_int(data.get("status")),
        response_headers=_str_dict(data.get("response_headers"), clean),
        body_excerpt=_text(data.get("body_excerpt"), clean),
        sse_excerpt=None if sse is None else _text(sse, clean),
        curl=_text(data.get("curl"), clean),
        error=None if error is None else _text(error, clean),
        arrival=None if arrival is None else _text(arrival, clean),
    )


def _finding(value: Any, clean: Clean) -> FindingRecord:
    if isinstance(value, FindingRecord):
        return FindingRecord(_text(value.message, clean), _evidence(value.evidence, clean))
    if isinstance(value, Mapping):
        return FindingRecord(
            _text(value.get("message"), clean), _evidence(value.get("evidence"), clean)
        )
    return FindingRecord(_text(value, clean))


def _check(value: Any, clean: Clean) -> CheckResult:
    data: Mapping[str, Any] = _dict(value)
    if isinstance(value, CheckResult):
        data = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    check_id = _text(data.get("id"), clean, "(check without id)")
    parts = check_id.split("/")
    verdict = _text(data.get("verdict"), clean)
    reason = _text(data.get("reason"), clean)
    if verdict not in VERDICTS:
        # An unknown verdict is an engine bug; showing it as a failure keeps it visible.
        reason = f"unknown verdict {verdict!r} recorded by the engine. {reason}".strip()
        verdict = "fail"
    level = _text(data.get("level"), clean, "MUST") or "MUST"
    return CheckResult(
        id=check_id,
        profile=_text(data.get("profile"), clean) or (parts[0] if len(parts) > 1 else "?"),
        operation=_text(data.get("operation"), clean) or (parts[1] if len(parts) > 2 else "?"),
        area=_text(data.get("area"), clean) or (parts[2] if len(parts) > 3 else "other"),
        level=level,  # type: ignore[arg-type]  # kept verbatim so an odd level stays visible
        title=_text(data.get("title"), clean),
        source=[_text(s, clean) for s in _list(data.get("source"))],
        verdict=verdict,  # type: ignore[arg-type]  # checked against VERDICTS above
        reason=reason,
        findings=[_finding(f, clean) for f in _list(data.get("findings"))],
        requests=_int(data.get("requests")) or 0,
        duration_s=_float(data.get("duration_s")),
    )


def clean_report(report: RunReport | Mapping[str, Any], clean: Clean) -> RunReport:
    """A copy of `report` that is safe and well-typed; never raises on odd field values."""
    if isinstance(report, RunReport):
        data: Mapping[str, Any] = {
            f.name: getattr(report, f.name) for f in dataclasses.fields(report)
        }
    else:
        data = _dict(report)
    status = _text(data.get("status"), clean, "completed")
    error = data.get("error")
    schema = _int(data.get("schema_version"))
    return RunReport(
        target_url=_text(data.get("target_url"), clean),
        profiles=[_text(p, clean) for p in _list(data.get("profiles"))],
        options=_options(data.get("options"), clean),
        suite_version=_text(data.get("suite_version"), clean),
        specs=_str_dict(data.get("specs"), clean),
        started_at=_text(data.get("started_at"), clean),
        finished_at=_text(data.get("finished_at"), clean),
        status=status,  # type: ignore[arg-type]  # unknown statuses are shown, not hidden
        error=None if error is None else _text(error, clean),
        hint=None if data.get("hint") is None else _text(data.get("hint"), clean),
        not_certified=_str_dict(data.get("not_certified"), clean),
        results=[_check(r, clean) for r in _list(data.get("results"))],
        schema_version=SCHEMA_VERSION if schema is None else schema,
        recording=_tree(data["recording"], clean) if _dict(data.get("recording")) else None,
        baseline=_tree(data["baseline"], clean) if _dict(data.get("baseline")) else None,
        cost=_tree(data["cost"], clean) if _dict(data.get("cost")) else None,
    )
