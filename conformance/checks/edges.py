"""Documented legal edges are served: a nullable field sent as null, every form of a field.

A server that refuses what a document allows is as non-conformant as one that serves what
it forbids; these judges read the `edges` probes (`conformance.derived`), each a body the
plan verified valid and outside every undefined zone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.exchange import Exchange


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def legal_edge_served(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Each probe of a documented legal edge is answered with 2xx."""
    if not exchanges:
        return Skip("no probe of this edge was sent")
    findings = []
    for ex in exchanges:
        body = ex.request.json_body if isinstance(ex.request.json_body, dict) else {}
        name = ex.request.field
        what = f"{name}: {_shown(body.get(name))}" if name and name in body else "the request"
        if not ex.ok:
            got = ex.error or f"HTTP {ex.status}"
            if ex.status is not None and ex.body:
                got += f": {ex.body[:200].decode('utf-8', 'replace')}"
            findings.append(Finding(f"{what} (documented as legal) served with 2xx", got, ex))
    return findings
