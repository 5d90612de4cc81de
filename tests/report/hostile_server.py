"""A server whose every answer is an attack on the report page: script and markup payloads in
the status line's neighbours (headers), JSON bodies, SSE data, and the echoed model name.

Run as a real process (`python tests/report/hostile_server.py`); it prints
`hostile-server listening on http://127.0.0.1:PORT` and answers until killed. Standalone on
purpose (standard library only), like any server the suite is pointed at.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Each one tries to run code or change the page if a writer ever put it in as markup: a
# script element, an attribute break-out with an event handler, a javascript: URL, an end
# tag that leaves a raw-text element, template syntax (jinja2, string.Template, ERB), a
# right-to-left override that makes shown text differ from the bytes, a dialog.
PAYLOADS = (
    "<script>window.__pwned='script'</script>",
    '"><img src=x onerror="window.__pwned=\'img-dq\'">',
    "'><svg onload=\"window.__pwned='svg-sq'\"></svg>",
    "javascript:window.__pwned='js-url'",
    "</textarea></title></style><script>window.__pwned='raw-text'</script>",
    "</pre></dd></dl></details></td></tr></tbody></table>"
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
    "<a href=\"javascript:window.__pwned='link'\" id=pwnlink>click</a>",
    '<base href="javascript:/"><meta http-equiv="refresh" content="0;url=data:,pwned">',
    "{{ 7*7 }} {% raw %} ${title} $content <%= 7*7 %>",
    "<script>alert('xss')</script>",
    "\u202edcba.exe",
)
HOSTILE = " ".join(PAYLOADS)
# For the few places a value cannot hold every byte: a header value (latin-1, one line)
# and a --model name (no "=" or ",", which the option reads as a profile or a list).
HEADER = "<script>window.__pwned='header'</script> \"><img src=x onerror=alert(1)>"
MODEL = "</textarea><script>alert('model')</script>{{ 7*7 }}\u202emodel"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # close-delimited: a stream simply ends with the connection

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            request = json.loads(raw)
        except ValueError:
            request = {}
        if not isinstance(request, dict):
            request = {}
        model = request.get("model", HOSTILE)
        self.send_response(200)
        self.send_header("X-Hostile", HEADER)
        self.send_header("X-Request-Id", HEADER.replace("'", '"'))
        if request.get("stream") is True:
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = {
                "id": HOSTILE,
                "object": HOSTILE,
                "model": model,
                "choices": [{"index": 0, "delta": {"content": HOSTILE}, "text": HOSTILE}],
            }
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.write(f"event: {PAYLOADS[0]}\ndata: {HOSTILE}\n\n".encode())
            return  # no [DONE]: the stream checks fail and show this transcript
        body = json.dumps(
            {
                "id": HOSTILE,
                "object": HOSTILE,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "text": HOSTILE,
                        "message": {"role": HOSTILE, "content": HOSTILE},
                        "finish_reason": HOSTILE,
                    }
                ],
                "usage": {"prompt_tokens": HOSTILE},
                "error": {"message": HOSTILE, "type": HOSTILE},
            },
            ensure_ascii=False,
        ).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _answer


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"hostile-server listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
