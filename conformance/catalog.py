"""Every check the suite ships, derived: nothing here lists a check.

A check is declared once, beside its judge (`@check(...)` in `conformance/checks/*.py`,
`conformance.checks.declare`); this module imports every check module, iterates the
declarations, and makes each one a `Check` for every operation it applies to, at the level
of the operation's stream where it is declared `STREAM`, with the words document_words.yaml
(or the profile's own document) gives for it. Bound and edge checks are derived from the
request schema (one per documented constraint), with the spec's own `x-source` as words.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance import checks, plan
from conformance.checks import edges, rejections
from conformance.checks.base import Check, Judge, tagged
from conformance.checks.declare import STREAM, Declaration, declared
from conformance.config import RunConfig
from conformance.profiles import PROFILES, Operation
from conformance.results import Level

CONVENTION = "OpenAI convention"
_WORDS_FILE = Path(__file__).with_name("document_words.yaml")


@cache
def _words_table() -> dict[str, Any]:
    with _WORDS_FILE.open("rb") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def render(entry: dict[str, str]) -> str:
    """`file: words (note)` for a quotation, `OpenAI convention: ...` for a convention, the
    standard's own name and rule for one a published standard makes (an RFC is not an OpenAI
    convention)."""
    if "convention" in entry:
        return f"{CONVENTION}: {entry['convention']}"
    if "standard" in entry:
        return entry["standard"]
    text = f"{_words_table()['documents'][entry['doc']]}: {entry['words']}"
    return text + (f" ({entry['note']})" if entry.get("note") else "")


def _own_words(name: str, op: Operation) -> str | None:
    """The words the profile's own document gives for a check (its x-conformance `words`)."""
    entry = PROFILES[op.profile].words.get(name)
    if isinstance(entry, dict) and not ({"document", "convention"} & entry.keys()):
        entry = entry.get(op.name)  # one entry per operation
    if not isinstance(entry, dict):
        return None
    if "convention" in entry:
        return f"{CONVENTION}: {entry['convention']}"
    text = f"{entry['document']}: {entry['words']}"
    return text + (f" ({entry['note']})" if entry.get("note") else "")


def words(name: str, op: Operation, group: str | None = None) -> tuple[str, ...]:
    """The profile document's own words for the check, else the shipped table's for the
    operation, the profile, or every profile ("*"). A --spec document is never made to say
    a shipped document's words: without words of its own it cites a "*" convention, or
    itself.

    `group` is the key of words shared by several checks ("rejected", "stream"): the check's
    own entry (its name) wins over it, so each check can cite the words that make its rule,
    and a document that gives one entry for the group still covers all of them."""
    keys = (name,) if group in (None, name) else (name, group)
    for key in keys:
        own = _own_words(key, op)
        if own is not None:
            return (own,)
    profile = PROFILES[op.profile]
    for key in keys:
        table = _words_table()["checks"].get(key, {})
        for scope in (f"{op.profile}/{op.name}", op.profile, "*"):
            entry = table.get(scope)
            if entry and (profile.shipped or {"convention", "standard"} & entry.keys()):
                return (render(entry),)
    if not profile.shipped:
        return (f"{profile.spec_file}: its own document (it gives no x-conformance words "
                f"for {name})",)  # fmt: skip
    raise KeyError(f"no document words for {name} on {op.profile}/{op.name}")


def _import_check_modules() -> None:
    """Import every module of `conformance.checks`, so each declares its checks: a new check
    module is found without being named here."""
    for info in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"{checks.__name__}.{info.name}")


_import_check_modules()
ROWS: tuple[Declaration, ...] = declared()  # every declared check, in catalogue order
DERIVED_AFTER = 20  # the derived bound and edge checks follow response-schema (order 20)


def _bound_checks(op: Operation) -> list[Check]:
    """The checks derived from the request schema (`conformance.derived`): one per documented
    constraint (`bounds/<field>-<keyword>`: the bound served, just past it refused; a SHOULD
    constraint makes a SHOULD check) and one per documented legal edge (`edges/<field>-null-
    accepted`, `edges/<field>-forms`: served). Their words are the spec's own x-source."""
    judges: dict[str, Judge] = {
        "bounds": rejections.bound_enforced,
        "edges": edges.legal_edge_served,
    }
    out = []
    for rule in plan.derived_rules(op):
        if rule.area is None:
            continue  # its probes feed a catalogue check (wrong-type, missing-field, ...)
        out.append(
            Check(
                f"{op.profile}/{op.name}/{rule.area}/{rule.name}",
                op,
                rule.area,
                rule.level,
                rule.title,
                (rule.source or f"{op.request_schema}.{rule.name}",),
                tagged(rule.tag),
                judges[rule.area],
            )
        )
    return out


def _declared_check(row: Declaration, op: Operation) -> Check:
    level: Level = op.stream_level if row.level == STREAM else row.level
    cited = words(row.name, op, row.words)
    if level == "MUST" and not row.held_at_must and all(w.startswith(CONVENTION) for w in cited):
        level = "SHOULD"  # MUST only where a document makes the rule (README: levels)
    return Check(
        f"{op.profile}/{op.name}/{row.area}/{row.name}",
        op,
        row.area,
        level,
        row.title(op) if callable(row.title) else row.title,
        cited,
        row.reads,
        row.judge,
        row.requires,
    )


def checks_for(op: Operation, config: RunConfig) -> list[Check]:
    rows = [row for row in ROWS if row.applies(op)]
    before = [_declared_check(row, op) for row in rows if row.order <= DERIVED_AFTER]
    after = [_declared_check(row, op) for row in rows if row.order > DERIVED_AFTER]
    return before + _bound_checks(op) + after


def all_checks(config: RunConfig) -> list[Check]:
    return [check for op in plan.operations(config) for check in checks_for(op, config)]
