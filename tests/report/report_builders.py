"""Builders shared by the report tests: check results, reports, an HTML element finder."""

from __future__ import annotations

from html.parser import HTMLParser

from conformance.results import CheckResult, RunReport

TARGET = "http://127.0.0.1:8000"
HOSTILE_BODY = '{"error": "</script><script>alert(1)</script> <b>bold</b> \x00\x1b[31m ünïcødé ✓"}'
SSE_EXCERPT = 'data: {"id":"c1","choices":[{"delta":{"content":"Hi"}}]}\n\ndata: {"id":"c1"}\n\n'
CURL_STREAM = (
    "curl -sS -N -X POST 'http://127.0.0.1:8000/v1/chat/completions' "
    "-H 'content-type: application/json' -H 'authorization: Bearer [REDACTED]' "
    '--data-raw \'{"model":"alphaedge-large-3-2512","stream":true}\''
)
CURL_BOUNDS = (
    "curl -sS -X POST 'http://127.0.0.1:8000/v1/completions' "
    "-H 'content-type: application/json' --data-raw '{\"max_tokens\":-1}'"
)


def check(check_id: str, verdict: str, level: str = "MUST", **extra: object) -> CheckResult:
    profile, operation, area, name = check_id.split("/")
    return CheckResult(
        id=check_id,
        profile=profile,
        operation=operation,
        area=area,
        level=level,  # type: ignore[arg-type]
        title=extra.pop("title", f"{name.replace('-', ' ')} holds"),  # type: ignore[arg-type]
        source=extra.pop("source", [f"001_x.txt: words for {name}"]),  # type: ignore[arg-type]
        verdict=verdict,
        requests=3,
        duration_s=0.25,
        **extra,  # type: ignore[arg-type]
    )


def base_report(**extra: object) -> RunReport:
    fields: dict[str, object] = {
        "target_url": TARGET,
        "profiles": ["alphaedge", "gateway"],
        "options": {"depth": "quick", "level": "must", "api_key": "[REDACTED]", "max_tokens": 16},
        "suite_version": "0.1.0",
        "specs": {"alphaedge": "a" * 64, "gateway": "b" * 64},
        "started_at": "2025-01-02T03:04:05Z",
        "finished_at": "2025-01-02T03:05:00Z",
    }
    return RunReport(**{**fields, **extra})  # type: ignore[arg-type]


class Elements(HTMLParser):
    """Every start tag with its attributes, plus the page text, for assertions on HTML."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
        attrs = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            a
            for t, a in self.tags
            if (tag is None or t == tag) and all(a.get(k) == v for k, v in attrs.items())
        ]
