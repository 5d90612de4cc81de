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
        self.heads: list[bytes] = []  # the whole head (request line and headers) of each
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
            self.heads.append(head)
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


# -- evidence kept whatever ends the transfer (issue 9, class 4) -----------------------------

STREAM = Request.post_json("/v1/chat/completions", {"messages": [], "stream": True})
ROLE = b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
WORD = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
DONE = b"data: [DONE]\n\n"


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _stream_head(*extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: text/event-stream", "Transfer-Encoding: chunked"]
    return ("\r\n".join([*head, *extra]) + "\r\n\r\n").encode()


def _events_then(events: list[bytes], then: str, pause: float = 0.0) -> Handler:
    """A stream that sends `events` (one chunk each, `pause` apart), then: "close" (hang up
    mid-body), "hold" (send nothing more) or "drip" (an SSE comment every 0.1 s, forever)."""

    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        server.read_request(index, conn)
        conn.sendall(_stream_head())
        for event in events:
            conn.sendall(_chunk(event))
            time.sleep(pause)
        if then == "hold":
            server.hold(conn)
        elif then == "drip":
            while not server.stop.is_set():
                conn.sendall(_chunk(b": tick\n\n"))
                time.sleep(0.1)
        # "close": return, and the connection closes without the last chunk

    return handler


def test_a_reset_mid_stream_keeps_what_arrived(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(_events_then([ROLE, WORD], "close", pause=0.05))
    (ex,), _ = _send(server, LIMITS, STREAM)

    assert ex.status == 200
    assert ex.ended_by == "reset"
    assert not ex.timed_out
    assert ex.body == ROLE + WORD  # the evidence is kept, not thrown away
    assert [size for _, size in ex.pieces] == [len(ROLE), len(WORD)]
    assert ex.pieces[1][0] >= ex.pieces[0][0] + 0.04  # arrival times as they were
    assert ex.error is not None
    assert ex.error.startswith(f"the connection broke: {len(ROLE + WORD)} bytes over ")
    assert "RemoteProtocolError" in ex.error
    assert ex.attempts == 1  # a status line arrived: this break is the answer, not resent


def test_a_stall_is_ended_by_the_stall_limit_and_keeps_the_events(
    serve: Callable[[Handler], RawServer],
) -> None:
    server = serve(_events_then([ROLE], "hold"))
    limits = Limits(request_timeout=2.0, stall_timeout=0.3, stream_timeout=5.0)
    (ex,), elapsed = _send(server, limits, STREAM)

    assert (ex.status, ex.ended_by, ex.timed_out) == (200, "stall", True)
    assert ex.body == ROLE
    assert elapsed < 1.5  # the stall limit, not the 2 s request limit nor the 5 s stream one
    assert ex.error is not None
    assert ", then nothing for 0." in ex.error
    assert " s: the stall limit (--stall-timeout 0.3 s)" in ex.error
    assert "--stream-timeout" not in ex.error and "--request-timeout" not in ex.error


def test_a_stream_that_never_ends_is_ended_by_the_whole_stream_limit(
    serve: Callable[[Handler], RawServer],
) -> None:
    """Pieces keep coming (never a stall): only the whole-stream limit can end it."""
    server = serve(_events_then([ROLE], "drip"))
    limits = Limits(request_timeout=2.0, stall_timeout=1.0, stream_timeout=0.6)
    (ex,), elapsed = _send(server, limits, STREAM)

    assert (ex.ended_by, ex.timed_out) == ("stream-timeout", True)
    assert ex.body.startswith(ROLE) and ex.body.count(b": tick") >= 3
    assert elapsed < 1.5
    assert ex.error is not None and "whole-stream limit (--stream-timeout 0.6 s)" in ex.error
    assert "stall" not in ex.error


def test_the_headers_wait_for_the_request_limit_not_the_stall_limit(
    serve: Callable[[Handler], RawServer],
) -> None:
    """A model that thinks 0.6 s before its first byte is not stalling: the stall limit
    bounds gaps between pieces, the request limit the wait for the headers."""

    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        server.read_request(index, conn)
        time.sleep(0.6)
        conn.sendall(_stream_head() + _chunk(ROLE) + _chunk(DONE) + b"0\r\n\r\n")

    server = serve(handler)
    limits = Limits(request_timeout=2.0, stall_timeout=0.3, stream_timeout=5.0)
    (ex,), _ = _send(server, limits, STREAM)

    assert (ex.status, ex.ended_by, ex.error) == (200, None, None)
    assert ex.body == ROLE + DONE


def test_done_that_arrived_before_a_stall_counts_as_arrived(
    serve: Callable[[Handler], RawServer],
) -> None:
    from conformance.checks import stream
    from tests.checks.test_stream_cut import CTX

    server = serve(_events_then([ROLE, WORD, DONE], "hold"))
    limits = Limits(request_timeout=2.0, stall_timeout=0.3, stream_timeout=5.0)
    (ex,), _ = _send(server, limits, STREAM)

    assert ex.ended_by == "stall"
    assert stream.view(ex).done_at == 2
    assert stream.finished(ex)
    assert stream.done_terminates([ex], CTX) == []
    assert stream.ends_in_time([ex], CTX) == []


def test_a_status_line_that_never_comes_is_the_request_limit(
    serve: Callable[[Handler], RawServer],
) -> None:
    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        server.read_request(index, conn)
        server.hold(conn)

    server = serve(handler)
    limits = Limits(request_timeout=0.4, stall_timeout=0.1, stream_timeout=5.0)
    (ex,), _ = _send(server, limits, STREAM)

    assert (ex.status, ex.ended_by) == (None, "request-timeout")
    assert ex.error is not None
    assert ex.error.startswith("timed out: no status line and headers within 0.4 s")
    assert "--request-timeout 0.4 s" in ex.error


# -- compression (issue 9, class 16) ---------------------------------------------------------


def test_the_suite_asks_for_compression_as_httpx_and_the_openai_sdk_do(
    serve: Callable[[Handler], RawServer],
) -> None:
    import httpx

    from conformance.content_coding import ACCEPT_ENCODING

    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        if server.read_request(index, conn):
            conn.sendall(OK_200)

    server = serve(handler)
    _send(server, LIMITS, REQUEST)
    assert b"\r\naccept-encoding: gzip, deflate\r\n" in server.heads[0].lower()
    # What httpx sends by default, so what the openai SDK (built on httpx) sends; every
    # coding the suite asks for, it can decode.
    with httpx.Client() as client:
        asked = {c.strip() for c in client.headers["accept-encoding"].split(",")}
    assert {c.strip() for c in ACCEPT_ENCODING.split(",")} <= asked


def _encoded_answer(coding: str, pieces: list[bytes], content_type: str) -> Handler:
    def handler(server: RawServer, index: int, conn: socket.socket) -> None:
        server.read_request(index, conn)
        conn.sendall(_stream_head(f"Content-Encoding: {coding}").replace(
            b"text/event-stream", content_type.encode()
        ))  # fmt: skip
        for piece in pieces:
            conn.sendall(_chunk(piece))
            time.sleep(0.05)
        conn.sendall(b"0\r\n\r\n")

    return handler


def test_a_gzip_stream_is_decoded_piece_by_piece(serve: Callable[[Handler], RawServer]) -> None:
    import zlib

    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    wire = [z.compress(e) + z.flush(zlib.Z_SYNC_FLUSH) for e in (ROLE, WORD, DONE)]
    wire[-1] += z.flush()
    server = serve(_encoded_answer("gzip", wire, "text/event-stream"))
    (ex,), _ = _send(server, LIMITS, STREAM)

    assert (ex.ended_by, ex.error, ex.content_encoding) == (None, None, "gzip")
    assert ex.body == ROLE + WORD + DONE
    assert ex.wire_bytes == sum(map(len, wire))
    # The arrival boundaries are the decoded events', so the SSE checks still see them.
    assert [size for _, size in ex.pieces] == [len(ROLE), len(WORD), len(DONE)]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "deflate-raw"])
def test_compressed_json_is_decoded(serve: Callable[[Handler], RawServer], coding: str) -> None:
    import zlib

    wbits = {"gzip": 31, "deflate": 15, "deflate-raw": -15}[coding]
    z = zlib.compressobj(6, zlib.DEFLATED, wbits)
    data = b'{"ok": true, "text": "caf\xc3\xa9"}'
    packed = z.compress(data) + z.flush()
    name = coding.split("-")[0]
    server = serve(_encoded_answer(name, [packed[:5], packed[5:]], "application/json"))
    (ex,), _ = _send(server, LIMITS, REQUEST)

    assert ex.content_encoding == name
    assert ex.json() == (True, {"ok": True, "text": "café"})


def test_a_gzip_bomb_is_cut_at_the_decompressed_cap_and_named(
    serve: Callable[[Handler], RawServer],
) -> None:
    import zlib

    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = z.compress(b" " * (64 * 1024 * 1024)) + z.flush()  # 64 MB in about 64 kB
    server = serve(_encoded_answer("gzip", [bomb], "application/json"))
    cap = 1024 * 1024
    (ex,), _ = _send(server, Limits(request_timeout=5.0, max_bytes=cap), REQUEST)

    assert (ex.ended_by, ex.truncated) == ("cap", True)
    assert len(ex.body) == cap  # never inflated past the cap
    ok, reason = ex.json()
    assert not ok
    assert reason.startswith(f"the gzip body expands past the {cap}-byte cap"), reason
    assert "UTF-8" not in reason


@pytest.mark.parametrize("damage", ["corrupt", "cut"])
def test_a_corrupt_gzip_body_is_its_own_clear_finding(
    serve: Callable[[Handler], RawServer], damage: str
) -> None:
    import gzip

    packed = gzip.compress(b'{"ok": true}')
    broken = packed[:12] + b"\xff" * 8 + packed[20:] if damage == "corrupt" else packed[:-6]
    server = serve(_encoded_answer("gzip", [broken], "application/json"))
    (ex,), _ = _send(server, LIMITS, REQUEST)

    assert ex.ended_by == "decode-error"
    assert ex.error is not None and ex.error.startswith("the gzip body is corrupt: ")
    assert ex.json() == (False, ex.error)
