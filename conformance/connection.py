"""How the suite reaches a target: TLS trust, extra headers, the form of `Authorization`,
proxies, and a way to abort every request in flight.

Real deployments sit behind TLS with a private CA, gateways that want their own headers, and
corporate proxies; a run must fit them without code. Proxies come from the standard
environment variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`), which httpx
reads when the client trusts the environment, exactly as curl and the openai SDK do.

`Sockets` exists for Ctrl-C: a thread blocked reading from a hung server does not notice
that its client was closed (closing a socket in another thread does not wake a blocked
read on Linux), and Python waits for every worker thread at exit. Shutting the sockets down
does wake them, so a stopped run ends in well under a second whatever the target does.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

STOPPED = "the run was stopped before this request could connect"


@dataclass(frozen=True)
class Connection:
    """The connection settings of a run (`--header`, `--auth-scheme`, `--ca-bundle`,
    `--insecure`). The defaults are what an OpenAI-style client sends."""

    headers: tuple[tuple[str, str], ...] = ()  # extra headers, sent on every request
    auth_scheme: str = "Bearer"  # "" sends the key as the bare Authorization value
    ca_bundle: str | None = None  # PEM file of the CAs to trust instead of the system's
    insecure: bool = False  # no TLS certificate verification at all

    def authorization(self, key: str) -> str:
        """The Authorization value that carries `key`: `Bearer KEY`, or `KEY` bare."""
        return f"{self.auth_scheme} {key}" if self.auth_scheme else key

    def verify(self) -> ssl.SSLContext:
        """The TLS context every client of a run shares (built once: loading a CA bundle
        costs tens of milliseconds, and a client is made per resend).

        By default the CAs httpx trusts (certifi, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when
        set); with --ca-bundle only that bundle, as `curl --cacert` does; with --insecure
        no verification at all.
        """
        if self.insecure:
            return httpx.create_ssl_context(verify=False)
        if self.ca_bundle:
            return ssl.create_default_context(cafile=self.ca_bundle)
        return httpx.create_ssl_context(verify=True, trust_env=True)

    def curl_options(self) -> list[str]:
        """The curl options that reach the target the same way (for reproduce lines)."""
        if self.insecure:
            return ["-k"]
        if self.ca_bundle:
            return ["--cacert", self.ca_bundle]
        return []


class _Stream(httpcore.NetworkStream):
    """A connection's stream, remembered while it is open so that `Sockets.abort` can shut
    it down. After `start_tls` it wraps the TLS stream, whose socket is the one to shut."""

    def __init__(self, inner: httpcore.NetworkStream, sockets: Sockets) -> None:
        self.inner = inner
        self.sockets = sockets

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, timeout)

    def close(self) -> None:
        self.sockets.forget(self)
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        self.inner = self.inner.start_tls(ssl_context, server_hostname, timeout)
        return self

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)

    def shut_down(self) -> None:
        sock = self.inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            # socket.socket's own shutdown, not SSLSocket's: that one also drops the TLS
            # state under the feet of the thread still reading from it.
            # An OSError: already closed by the other side, nothing is blocked on it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Backend(httpcore.NetworkBackend):
    """httpcore's network backend, with every stream it opens registered in `Sockets`."""

    def __init__(self, inner: httpcore.NetworkBackend, sockets: Sockets) -> None:
        self.inner = inner
        self.sockets = sockets

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        if self.sockets.aborted:
            raise httpcore.ConnectError(STOPPED)
        stream = self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return self.sockets.track(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        if self.sockets.aborted:
            raise httpcore.ConnectError(STOPPED)
        return self.sockets.track(self.inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class Sockets:
    """Every connection the clients of one Transport hold open, so they can be shut at once.

    httpx has no public hook for httpcore's network backend, so `install` swaps it on the
    client's connection pools (the direct one and one per environment proxy). Should a
    future httpx move those attributes, `install` changes nothing and `abort` only stops
    new connections; the Ctrl-C test shows the difference.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[_Stream] = set()
        self.aborted = False

    def install(self, client: httpx.Client) -> httpx.Client:
        transports = [client._transport, *client._mounts.values()]
        for transport in transports:
            pool = getattr(transport, "_pool", None)
            inner = getattr(pool, "_network_backend", None)
            if pool is not None and isinstance(inner, httpcore.NetworkBackend):
                pool._network_backend = _Backend(inner, self)
        return client

    def track(self, stream: httpcore.NetworkStream) -> _Stream:
        tracked = _Stream(stream, self)
        with self._lock:
            self._open.add(tracked)
        return tracked

    def forget(self, stream: _Stream) -> None:
        with self._lock:
            self._open.discard(stream)

    def abort(self) -> None:
        """Refuse new connections and shut every open one: blocked reads end at once."""
        with self._lock:
            self.aborted = True
            streams = list(self._open)
        for stream in streams:
            stream.shut_down()
