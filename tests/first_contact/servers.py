"""Small real servers on 127.0.0.1 for the first-contact tests: a target that answers every
request with one status, one that accepts connections and never answers, and a forwarding
proxy (an HTTP proxy for HTTP_PROXY, or a gateway in front of the mock that can hide a
profile's path or want its key bare).

Each is a real socket server in a thread, so the suite under test talks real HTTP to it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client went away (the suite stopped reading): nothing to report


@contextmanager
def _serving(server: socketserver.BaseServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def always(
    status: int, body: bytes = b"{}", headers: dict[str, str] | None = None
) -> Iterator[str]:
    """Every request, whatever its method and path, gets `status` with `body`."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serving(_Quiet(("127.0.0.1", 0), Handler)) as url:
        yield url


@contextmanager
def silent() -> Iterator[str]:
    """Accepts every connection, reads what comes, and never answers: a hung server."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(0.2)
            while not stop.is_set():
                try:
                    if not self.request.recv(65536):
                        return
                except TimeoutError:
                    continue
                except OSError:
                    return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    try:
        with _serving(server) as url:
            yield url
    finally:
        stop.set()


@dataclass
class Forwarder:
    """What a forwarding server saw: the request lines and the Authorization values."""

    seen: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # names lower-cased


@contextmanager
def forwarding(
    upstream: str | None = None, hide: str | None = None, bare_key: str | None = None
) -> Iterator[tuple[str, Forwarder]]:
    """A server that forwards each request to `upstream` (a gateway), or to the absolute URL
    in the request line (an HTTP proxy, as HTTP_PROXY makes clients send). Paths starting
    with `hide` answer 404. With `bare_key`, it wants `Authorization: KEY` (no scheme) and
    passes `Bearer KEY` on; anything else gets 401."""
    record = Forwarder()
    client = httpx.Client(timeout=30, trust_env=False)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the answer ends when the connection closes

        def _forward(self) -> None:
            record.seen.append(f"{self.command} {self.path}")
            url = self.path if self.path.startswith("http") else f"{upstream}{self.path}"
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
            }
            auth = self.headers.get("authorization", "")
            record.authorizations.append(auth)
            record.headers.append({k.lower(): v for k, v in self.headers.items()})
            if hide and urlsplit(url).path.startswith(hide):
                return self._plain(404, b'{"detail": "Not Found"}')
            if bare_key is not None:
                if auth != bare_key:
                    return self._plain(401, b'{"detail": "bad key"}')
                headers["authorization"] = f"Bearer {bare_key}"
            with client.stream(self.command, url, content=body, headers=headers) as answer:
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.end_headers()
                for piece in answer.iter_raw():
                    self.wfile.write(piece)
                    self.wfile.flush()
            return None

        def _plain(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    try:
        with _serving(_Quiet(("127.0.0.1", 0), Handler)) as url:
            yield url, record
    finally:
        client.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    time.sleep(0.01)
    return port
