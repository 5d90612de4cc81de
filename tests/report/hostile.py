"""Hostile reports and a judge of what a browser made of them.

`planted_report` puts the payloads of `hostile_server` into every string a RunReport holds
(dict keys too), walking the dataclasses so that a field added later is planted as well, or
this module fails to build it and says which field to handle. `attacks` asks the loaded page
whether any payload became markup: a script that ran, an element or attribute the writer
never emits, a raw right-to-left override.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conformance.results import CheckResult, Evidence, FindingRecord, RunReport
from tests.report.hostile_server import HOSTILE

VERDICTS = ("fail", "warn", "skip", "pass")


def _plant(cls: type, keep: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        kind = str(f.type)
        if f.name in keep:
            values[f.name] = keep[f.name]
        elif kind in ("str", "str | None", "Verdict", "Level") or kind.startswith("Literal"):
            values[f.name] = HOSTILE
        elif kind == "dict[str, str]":
            values[f.name] = {HOSTILE: HOSTILE, "x-plain": HOSTILE}
        elif kind in ("dict[str, Any]", "dict[str, object]"):
            values[f.name] = {HOSTILE: HOSTILE, "models": {HOSTILE: [HOSTILE]}}
        elif kind == "list[str]":
            values[f.name] = [HOSTILE, HOSTILE]
        elif kind == "Evidence | None":
            values[f.name] = _plant(Evidence, {"status": 500})
        elif kind in ("int", "float", "int | None"):
            values[f.name] = 1
        else:
            raise AssertionError(f"hostile.py does not know how to plant {cls.__name__}.{f.name}")
    return cls(**values)


def _cost() -> dict[str, Any]:
    spent = {
        "requests": 3,
        "retried": 0,
        "not_sent": 0,
        "answers": 2,
        "answers_with_usage": 1,
        "prompt_tokens": 5,
        "completion_tokens": 7,
        "first_sent": 1.0,
        "last_answer": 2.0,
        "window_s": 1.0,
    }
    return {
        "requests": 4,
        "preflight_requests": 1,
        "wall_s": 2.5,
        "max_requests": None,
        "budget_reached": False,
        "profiles": {HOSTILE: spent, "alphaedge": spent},
    }


def planted_report(valid: bool = False) -> RunReport:
    """Every string hostile. `valid`: keep the fields report.schema.json enumerates (level,
    verdict, status, the recording's sha256) legal, so that the file loads for the matrix;
    otherwise those are planted too (a writer must survive an engine bug as well)."""
    results = []
    verdicts = VERDICTS if valid else (*VERDICTS, HOSTILE)  # an unknown verdict shows as fail
    for n, verdict in enumerate(verdicts):
        findings = [
            _plant(FindingRecord, {"evidence": _plant(Evidence, {"status": 500})}),
            _plant(FindingRecord, {"evidence": None}),
        ]
        keep: dict[str, Any] = {"verdict": verdict, "findings": findings, "id": f"{HOSTILE}/{n}"}
        keep["profile"] = HOSTILE if n % 2 else "alphaedge"
        if valid:
            keep["level"] = "MUST"
        results.append(_plant(CheckResult, keep))
    keep = {
        "results": results,
        "profiles": ["alphaedge", HOSTILE],
        "schema_version": 2,
        "cost": _cost(),
        "baseline": {
            "file": HOSTILE,
            "accepted_failures": [HOSTILE],
            "unexpected_failures": [],
            "now_pass": [HOSTILE],
            "not_judged": [],
        },
        "recording": {"file": HOSTILE, "sha256": HOSTILE, "error": HOSTILE},
    }
    if valid:
        keep["status"] = "completed"
        keep["recording"] = {"file": HOSTILE, "sha256": "0" * 64, "entries": 1, "cut_bodies": 0}
    return _plant(RunReport, keep)  # type: ignore[no-any-return]


def shown_findings(report: RunReport) -> tuple[int, int]:
    """(findings, findings with evidence) the page must show: those of failed and warned
    checks (an unknown verdict is shown as a failure)."""
    shown = [f for r in report.results if r.verdict not in ("pass", "skip") for f in r.findings]
    return len(shown), sum(f.evidence is not None for f in shown)


# What the writers emit: anything else in the DOM came from data.
ATTACKS_JS = """
() => {
  const found = [];
  if (window.__pwned !== undefined) found.push('script ran: ' + window.__pwned);
  const allowed = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1',
    'h2', 'h3', 'dl', 'dt', 'dd', 'div', 'span', 'section', 'table', 'thead', 'tbody', 'tr',
    'th', 'td', 'ul', 'li', 'code', 'pre', 'details', 'summary', 'p', 'main', 'footer']);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (!allowed.has(tag)) found.push('element <' + tag + '>');
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith('on')) found.push('handler ' + attr.name);
      if (['href', 'src', 'srcdoc', 'action', 'formaction'].includes(attr.name.toLowerCase()))
        found.push('attribute ' + attr.name);
      if (/^\\s*javascript:/i.test(attr.value)) found.push('javascript: URL in ' + attr.name);
    }
  }
  for (const meta of document.querySelectorAll('meta[http-equiv]')) {
    if (meta.getAttribute('http-equiv').toLowerCase() !== 'content-security-policy')
      found.push('meta http-equiv=' + meta.getAttribute('http-equiv'));
  }
  if (document.querySelectorAll('style').length !== 1) found.push('a second <style>');
  if (document.querySelectorAll('body').length !== 1) found.push('a second <body>');
  if (document.body.innerText.includes('\\u202e')) found.push('a raw right-to-left override');
  return found;
}
"""


def open_page(context: Any, path: Any) -> tuple[Any, list[str]]:
    """Open a written page with every <details> opened (a closed one still runs scripts, but
    lazily loaded images wait for it) and return it with the dialogs it raised."""
    dialogs: list[str] = []
    tab = context.new_page()

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.goto(path.as_uri())
    tab.wait_for_load_state("load")
    tab.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    tab.wait_for_timeout(300)  # an onerror / onload handler fires after the load event
    return tab, dialogs
