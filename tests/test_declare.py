"""A check is declared once, beside its judge: the registry is the catalogue's only source,
its declarations are unique, and the typed probe kinds select what the planner sends."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from conformance import catalog, plan
from conformance.checks import load
from conformance.checks.base import Context, Outcome, Probe
from conformance.checks.declare import POSITIVE_STREAM, Reads, Tag, check, declared
from conformance.exchange import Exchange, Request
from tests.suite.certify import config_for

# The tags `conformance.generate` puts on generated probes (drawing them is slow).
GENERATED_TAGS = {"positive", "generated", "stream", "json", "reject", "negative"}


def _judge(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    return []


def _probe(*tags: str) -> Probe:
    op = plan.operations(config_for("http://127.0.0.1:1"))[0]
    return Probe("k", op, Request("POST", op.path, b""), frozenset(tags))


def test_the_catalogue_is_the_registry_in_order() -> None:
    rows = declared()
    assert rows == catalog.ROWS
    assert [r.order for r in rows] == sorted({r.order for r in rows})  # unique, ascending
    assert len({r.name for r in rows}) == len(rows)


def test_every_declaration_makes_a_check_somewhere() -> None:
    names = {c.id.split("/")[-1] for c in catalog.all_checks(config_for("http://127.0.0.1:1"))}
    assert [r.name for r in declared() if r.name not in names] == []


@pytest.mark.parametrize("clash", ["name", "order"])
def test_a_second_declaration_of_a_name_or_an_order_is_refused(clash: str) -> None:
    taken = declared()[0]
    name = taken.name if clash == "name" else "a-new-check"
    order = taken.order if clash == "order" else 10**9
    declare = check(
        order=order, area="x", name=name, level="MUST", title="t", reads=POSITIVE_STREAM
    )
    with pytest.raises(ValueError, match="clashes"):
        declare(_judge)
    assert declared() == catalog.ROWS  # nothing was registered


def test_reads_selects_by_all_any_and_none() -> None:
    assert Reads.all(Tag.POSITIVE, Tag.STREAM)(_probe("positive", "stream", "det"))
    assert not Reads.all(Tag.POSITIVE, Tag.STREAM)(_probe("positive", "json"))
    assert Reads.any(Tag.DET, Tag.CUT)(_probe("cut"))
    assert not Reads.any(Tag.DET, Tag.CUT)(_probe("positive"))
    assert Reads.none(Tag.STREAM)(_probe("reject"))
    assert not Reads.none(Tag.STREAM)(_probe("positive", "stream"))
    assert Reads()(_probe())


def test_every_probe_kind_is_one_the_planner_sends() -> None:
    """A kind no probe carries would be a check that silently reads nothing."""
    config = config_for("http://127.0.0.1:1")
    sent = set(GENERATED_TAGS)
    for op in plan.operations(config):
        for probe in plan.fixed_probes(op, config) + load.burst_probes(op, config):
            sent |= probe.tags
    assert sorted(str(t) for t in Tag if t not in sent) == []
