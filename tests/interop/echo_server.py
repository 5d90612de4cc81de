"""A tiny real HTTP server for the recorder's tests: canned answers, one of them echoing auth.

Run as `python echo_server.py PORT`; serves on 127.0.0.1 only.
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SSE = (
    b'data: {"id":"c1","object":"text_completion","choices":[{"index":0,"text":"h\\u00e9"}]}'
    b"\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _send(self, status: int, ctype: str, body: bytes, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Odd-Case", "Kept")
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(200, "application/json", b'{"object":"list","data":[]}', {})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization") or ""
        if b'"stream": true' in raw:
            self._send(200, "text/event-stream", SSE, {})
        elif not auth:
            self._send(401, "application/json", b'{"error":{"message":"no key"}}', {})
        else:
            # Echo the key back, as a careless server might: the recorder must redact it.
            body = ('{"echo": "' + auth + '"}').encode()
            self._send(200, "application/json", body, {"X-Seen-Auth": auth})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
