"""Second opinion from the official `openai` Python SDK: can it parse what the server said?

No request is sent again: each captured answer is replayed to the SDK through an
`httpx.MockTransport`, so the SDK parses exactly the bytes the target produced (streams
included), and the check stays a pure function of the exchange.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import httpx

from conformance.checks import applies
from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.checks.declare import POSITIVE, check
from conformance.exchange import Exchange
from conformance.profiles import Operation

# Headers that describe the original transfer, not the content handed to the SDK.
_TRANSFER = {"content-length", "transfer-encoding", "content-encoding", "connection"}


def _replay(openai: Any, op: Operation, ex: Exchange) -> str | None:
    """None when the SDK parses the answer; otherwise what the SDK said."""

    def handler(request: httpx.Request) -> httpx.Response:
        headers = [(k, v) for k, v in ex.headers if k not in _TRANSFER]
        return httpx.Response(ex.status or 500, headers=headers, content=ex.body)

    suffix = "/chat/completions" if op.kind == "chat" else "/completions"
    base = op.path[: -len(suffix)]
    client = openai.OpenAI(
        api_key="replay",
        base_url="http://replay" + base,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_retries=0,
    )
    kind = openai.types.chat.ChatCompletion if op.kind == "chat" else openai.types.Completion
    chunk = openai.types.chat.ChatCompletionChunk if op.kind == "chat" else openai.types.Completion
    path = "/chat/completions" if op.kind == "chat" else "/completions"
    streaming = ex.request.streaming
    try:
        result = client.post(
            path,
            body=ex.request.json_body,
            cast_to=kind,
            stream=streaming,
            stream_cls=openai.Stream[chunk],
        )
        if streaming:
            count = sum(1 for _ in result)
            if count == 0:
                return "the SDK read no chunk from the stream"
        elif not isinstance(result, kind):
            return f"the SDK returned {type(result).__name__}, not {kind.__name__}"
    except Exception as exc:  # the SDK's own verdict is the finding, whatever its type
        return f"{type(exc).__name__}: {str(exc)[:240]}"
    finally:
        client.close()
    return None


def warm_up() -> None:
    """Import the SDK ahead of its check (about 0.8 s of CPU): the engine calls this from its
    background thread while requests are in flight, so the import hides behind the target's
    latency instead of adding to the run after the last answer."""
    with contextlib.suppress(ImportError):
        import openai  # noqa: F401


@check(
    order=460,
    area="sdk",
    name="openai-sdk-parses",
    level="SHOULD",
    title="the official openai SDK parses every 2xx answer",
    reads=POSITIVE,
    applies=applies.openai_sdk,
    words="openai-sdk",
)
def sdk_parses(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every 2xx answer (plain or streamed) parses with the official openai SDK."""
    try:
        import openai
    except ImportError:
        return Skip("the openai package is not installed (pip install 'llm-api-conformance[sdk]')")
    findings = []
    judged = 0
    for ex in exchanges:
        # A body the transfer cut (an error, the size cap) is not what the server sent: the
        # SDK's verdict on it would be about the cut, which other checks report as such.
        if ex.error or ex.truncated or ex.status is None or not 200 <= ex.status < 300:
            continue
        if not isinstance(ex.request.json_body, dict):
            continue
        judged += 1
        problem = _replay(openai, ctx.op, ex)
        if problem:
            findings.append(Finding("the official openai SDK parses the answer", problem, ex))
    if not judged:
        return Skip("no finished 2xx answer to replay")
    return findings[:5]
