"""Transport against tiny raw-socket servers: the exact wire behaviours real servers showed.

A real HTTP server cannot be told to misbehave in these ways on cue (close a keep-alive
connection right after a 500, hang up without answering), so each test scripts one on a plain
socket. The server counts connections and requests itself, so the tests see how many times
the Transport really tried, not what it reports.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from conformance.exchange import Exchange, Limits, Request, Transport

# Every blocking socket call on the server side wakes up at least this often, so a test that
# goes wrong ends in a failed assertion instead of a hung thread.
POLL = 0.1
# The longest the server waits for a request that should come.
PATIENCE = 2.0

Handler = Callable[["RawServer", int, socket.socket], None]


def _response(status: str, body: bytes = b"{}", *extra: str) -> bytes:
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    head += [f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


OK_200 = _response("200 OK", b'{"ok": true}')
ERROR_500 = _response("500 Internal Server Error", b"Internal Server Error")


class RawServer:
    """Accepts on 127.0.0.1:<free port>; runs `handler(server, index, conn)` per connection
    in its own thread (index counts from 0), and records every complete request it reads."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[tuple[int, bytes]] = []  # (connection index, request line)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(POLL)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.threads: list[threading.Thread] = []
        self.accepter = threading.Thread(target=self._accept, daemon=True)
        self.accepter.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                index = self.connections
                self.connections += 1
            thread = threading.Thread(target=self._run, args=(index, conn), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, index: int, conn: socket.socket) -> None:
        conn.settimeout(POLL)
        # OSError: the client went away first; what it saw is what the test judges.
        with conn, contextlib.suppress(OSError):
            self.handler(self, index, conn)

    def read_request(self, index: int, conn: socket.socket) -> bool:
        """Read one whole request (headers and Content-Length body); False on EOF/timeout."""
        data = b""
        deadline = time.monotonic() + PATIENCE
        while b"\r\n\r\n" not in data:
            chunk = self._recv(conn, deadline)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = self._recv(conn, deadline)
            if not chunk:
                return False
            body += chunk
        with self.lock:
            self.requests.append((index, head.split(b"\r\n", 1)[0]))
        return True

    def _recv(self, conn: socket.socket, deadline: float) -> bytes:
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def hold(self, conn: socket.socket) -> None:
        """Keep the connection open, answering nothing, until the client or the test ends it."""
        while not self.stop.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.accepter.join(PATIENCE)
        for thread in self.threads:
            thread.join(PATIENCE)


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _send(server: RawServer, limits: Limits, *requests: Request) -> tuple[list[Exchange], float]:
    transport = Transport(server.url, None, limits)
    start = time.monotonic()
    try:
        exchanges = [transport.send(r) for r in requests]
    finally:
        transport.close()
    return exchanges, time.monotonic() - start


LIMITS = Limits(request_timeout=2.0, stream_timeout=2.0, max_retry_wait=0.05)
REQUEST = Request.post_json("/v1/completions", {"prompt": "hi"})


def test_a_keepalive_connection_closed_after_a_500_is_not_blamed_on_the_next_request(
    serve: Callable[[Handler], RawServer],
) -> None:
    """uvicorn's way: a 500 with keep-alive (no `Connection: close`), then the server hangs up
    on the next request that arrives on that connection. That request deserves its own answer."""

    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        if index == 0:
            if server.read_request(index, conn):
                conn.sendall(ERROR_500)
                # Wait for the next request to be written on this pooled connection, then drop
                # it unanswered: the client cannot have noticed the close before reusing it.
                server.read_request(index, conn)
            return
        while server.read_request(index, conn):
            conn.sendall(OK_200)

    server = serve(handler)
    (first, second), _ = _send(server, LIMITS, REQUEST, REQUEST)

    assert (first.status, first.error, first.attempts) == (500, None, 1)
    assert second.error is None, second.error
    assert second.status == 200
    assert second.body == b'{"ok": true}'
    assert second.attempts == 2
    # The second request really reached the server twice: once on the dropped pooled
    # connection, once on a fresh one.
    assert server.connections == 2
    assert [index for index, _ in server.requests] == [0, 0, 1]


def test_a_server_that_always_hangs_up_is_tried_exactly_twice(
    serve: Callable[[Handler], RawServer],
) -> None:
    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        server.read_request(index, conn)  # read it all, then close without a word

    server = serve(handler)
    (exchange,), _ = _send(server, LIMITS, REQUEST)

    assert exchange.status is None
    assert not exchange.timed_out
    assert exchange.error is not None
    assert exchange.error.startswith("RemoteProtocolError:"), exchange.error
    assert "disconnected" in exchange.error, exchange.error
    assert exchange.attempts == 2
    assert server.connections == 2
    assert len(server.requests) == 2


def test_a_timeout_is_not_resent(serve: Callable[[Handler], RawServer]) -> None:
    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        server.read_request(index, conn)
        server.hold(conn)

    server = serve(handler)
    limits = Limits(request_timeout=0.5, stream_timeout=0.5)
    (exchange,), elapsed = _send(server, limits, REQUEST)

    assert exchange.timed_out
    assert exchange.status is None
    assert exchange.error is not None and exchange.error.startswith("timed out"), exchange.error
    assert exchange.attempts == 1
    assert elapsed < 1.5  # one timeout's worth, not two
    time.sleep(POLL * 2)  # a resend would have connected by now; let the server see it
    assert server.connections == 1
    assert len(server.requests) == 1


def _throttled(rejections: int | None, retry_after: str) -> Handler:
    """429 with Retry-After for the first `rejections` requests (all when None), then 200."""

    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        while server.read_request(index, conn):
            seen = len(server.requests)
            if rejections is None or seen <= rejections:
                conn.sendall(
                    _response("429 Too Many Requests", b"{}", f"Retry-After: {retry_after}")
                )
            else:
                conn.sendall(OK_200)

    return handler


def test_429_is_retried_until_served(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(_throttled(2, "0.1"))
    limits = Limits(request_timeout=2.0, max_retries_429=5, max_retry_wait=5.0)
    (exchange,), elapsed = _send(server, limits, REQUEST)

    assert exchange.status == 200
    assert exchange.attempts == 3
    assert len(server.requests) == 3
    assert elapsed >= 0.2  # Retry-After 0.1 s was honoured before each of the two retries


@pytest.mark.parametrize("max_retries", [0, 2])
def test_429_retries_stop_at_the_limit(
    serve: Callable[[Handler], RawServer], max_retries: int
) -> None:
    server = serve(_throttled(None, "30"))
    limits = Limits(request_timeout=2.0, max_retries_429=max_retries, max_retry_wait=0.05)
    (exchange,), elapsed = _send(server, limits, REQUEST)

    assert exchange.status == 429
    assert exchange.header("retry-after") == "30"
    assert exchange.attempts == max_retries + 1
    assert len(server.requests) == max_retries + 1
    assert elapsed < 1.5  # Retry-After 30 s was capped at max_retry_wait
