"""exchanges.har opened by a browser: headless Chromium serves the recorded answers from it.

Playwright's HAR reader (`BrowserContext.route_from_har`, the one Playwright's own HAR replay
uses) loads the file, and a page in Chromium fetches each recorded request: it must get the
recorded status and exactly the recorded bytes (text, base64 and streams alike). This proves
a well-kept HAR consumer reads the file as we meant it; it does not drive DevTools' own HAR
import, which has no programmatic entry point.

Needs Debian's `chromium` (/usr/bin/chromium) and the Python `playwright` package.
"""

from __future__ import annotations

import base64
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.report import har
from tests.audit.recording import har_doc, record

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs the Python package playwright (pip install playwright)",
    ),
]

FETCH = """async ([url, method, headers, body]) => {
    const answer = await fetch(url, {method, headers, body});
    const bytes = new Uint8Array(await answer.arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return [answer.status, btoa(text)];
}"""
# Set by the browser itself; a page may not send them.
FORBIDDEN = {"accept-encoding", "content-length", "connection", "host"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


def _replayable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries a HAR replay can tell apart (a request sent twice with the same body, like a
    determinism pair, replays the first answer) and that got an answer at all."""
    count: dict[tuple[str, str, str], int] = {}
    for e in entries:
        req = e["request"]
        key = (req["method"], req["url"], req.get("postData", {}).get("text", ""))
        count[key] = count.get(key, 0) + 1
    out = []
    for e in entries:
        req = e["request"]
        key = (req["method"], req["url"], req.get("postData", {}).get("text", ""))
        if count[key] == 1 and e["response"]["status"] and "_conformance" in e:
            out.append(e)
    return out


@pytest.mark.parametrize(("faults", "variants"), [(["invalid-utf8"], []), ([], ["gzip"])])
def test_chromium_replays_every_recorded_answer_byte_for_byte(
    browser: Any, tmp_path: Path, faults: list[str], variants: list[str]
) -> None:
    record(tmp_path, faults, variants, profiles=("alphaedge",))
    entries = _replayable(har_doc(tmp_path)["log"]["entries"])
    assert len(entries) > 30
    assert any(e["response"]["content"].get("encoding") == "base64" for e in entries) or variants
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(entries[0]["request"]["url"]))
    context = browser.new_context()
    try:
        context.route_from_har(str(tmp_path / har.HAR_NAME), not_found="abort")
        page = context.new_page()
        # A page on the target's origin, so the recorded answers need no CORS headers.
        page.route(origin, lambda route: route.fulfill(status=200, body="<html></html>"))
        page.goto(origin)
        for item in entries:
            req = item["request"]
            headers = {h["name"]: h["value"] for h in req["headers"]}
            headers = {k: v for k, v in headers.items() if k.lower() not in FORBIDDEN}
            body = req.get("postData", {}).get("text")
            status, got = page.evaluate(FETCH, [req["url"], req["method"], headers, body])
            content = item["response"]["content"]
            want = (
                base64.b64decode(content["text"])
                if content.get("encoding") == "base64"
                else content["text"].encode("utf-8")
            )
            ident = item["_conformance"]["id"]
            assert status == item["response"]["status"], ident
            assert base64.b64decode(got) == want, ident
    finally:
        context.close()
