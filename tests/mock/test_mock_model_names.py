"""The mock's two readings of "the model used": `--variant model-resolved` names the requested
model resolved to a dated snapshot, as OpenAI does ("gpt-4" -> "gpt-4-0613"), on every answer,
chunk and gateway choice; `--fault model-wrong` names another model, which is no resolution
of the requested one (the rule `semantics.names_model` states)."""

from __future__ import annotations

import httpx

from conformance.checks.semantics import names_model
from conformance.mock.variants import RESOLVED_MODEL_SUFFIX
from tests.mock.conftest import Mocks
from tests.mock.helpers import ALPHA, CHAT, COMPAT, COMPLETIONS, GATEWAY, body_for, post, stream

TWO = ["gpt-4", "llama-2-70b"]


def _names(client: httpx.Client, url: str) -> tuple[str, list[str], list[str], str]:
    plain = post(client, url, COMPLETIONS, body_for("alphaedge")).json()["model"]
    chunks = stream(client, url, CHAT, body_for("chat", stream=True)).chunks
    choices = post(client, url, GATEWAY, body_for("gateway", model=TWO)).json()["choices"]
    compat = post(client, url, COMPAT, body_for("compat")).json()["model"]
    return plain, [c["model"] for c in chunks], [c["model"] for c in choices], compat


def test_model_resolved_names_the_requested_model_resolved(
    mocks: Mocks, client: httpx.Client, clean: str
) -> None:
    url = mocks.url(variants=["model-resolved"])
    plain, chunks, choices, compat = _names(client, url)
    resolved = ALPHA + RESOLVED_MODEL_SUFFIX
    assert plain == resolved and chunks and set(chunks) == {resolved}
    assert choices == [m + RESOLVED_MODEL_SUFFIX for m in TWO]
    assert compat == "gpt-4" + RESOLVED_MODEL_SUFFIX
    assert names_model(plain, ALPHA) and names_model(compat, "gpt-4")
    # the correct mock answers the requested names themselves
    plain, chunks, choices, compat = _names(client, clean)
    assert (plain, set(chunks), choices, compat) == (ALPHA, {ALPHA}, TWO, "gpt-4")


def test_model_wrong_names_no_resolution_of_the_requested_model(
    mocks: Mocks, client: httpx.Client
) -> None:
    plain, chunks, choices, compat = _names(client, mocks.url(faults=["model-wrong"]))
    assert not names_model(plain, ALPHA) and not names_model(compat, "gpt-4")
    assert chunks and not any(names_model(m, ALPHA) for m in chunks)
    assert not any(names_model(m, wanted) for m in choices for wanted in TWO)
