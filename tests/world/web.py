"""The test world's web server: HTTPS (or plain HTTP) on one port of 127.0.0.1 for many hosts.

A threaded HTTP/1.1 server run in-process. Routes are chosen by the request's Host header (or,
without one, the TLS SNI name), so a single port plays autoconfig.example.test, example.test,
autodiscover.corp.test ... once the program maps those names to ``127.0.0.1:PORT`` through its
host overrides. A route answers with a fixed ``Response`` or a callable ``(Request) -> Response``;
helpers make the misbehaving answers failure tests need: ``delayed``, ``hang`` (accepts, never
answers, bounded by ``WebServer.hang_limit`` or the server's stop), ``huge`` (a streamed body of
any size, never held in memory), ``redirect`` and ``WebServer.redirect_loop``. Every request is
kept in ``WebServer.requests`` for assertions such as "the address never went over plain HTTP".
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.world.ca import CertPair

HANG_LIMIT = 30.0  # seconds a "hang" response holds the connection at most
IDLE_TIMEOUT = 60.0  # seconds an idle keep-alive connection is kept


class Headers(Mapping[str, str]):
    """Request headers, looked up case-insensitively (the last value wins for repeats)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.items_list = list(items)
        self._map = {k.lower(): v for k, v in self.items_list}

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"Headers({self.items_list!r})"


@dataclass(frozen=True)
class Request:
    """A request as the server received it."""

    method: str
    path: str  # without the query string
    query: dict[str, str]  # the last value of each parameter
    headers: Headers
    body: bytes
    host: str  # from the Host header without port, lower case; else the SNI name; else the IP
    scheme: str  # "https" or "http"
    target: str  # the request target as sent, e.g. "/mail/config-v1.1.xml?emailaddress=..."
    sni: str | None  # the TLS server name the client sent, if any
    client_port: int
    time: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.target}"

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class Response:
    """What a route answers. ``stream`` (a function returning an iterable of chunks) replaces
    ``body`` for big bodies; ``length`` is its Content-Length (None: chunked encoding)."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0  # seconds before the answer starts
    hang: bool = False  # never answer (until hang_limit or the server stops), then close
    stream: Callable[[], Iterable[bytes]] | None = None
    length: int | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, **kwargs: Any) -> Response:
        return cls(status, json.dumps(data).encode(), content_type="application/json", **kwargs)

    @classmethod
    def xml(cls, text: str | bytes, status: int = 200, **kwargs: Any) -> Response:
        return cls(status, text, content_type="application/xml; charset=utf-8", **kwargs)

    @classmethod
    def text(cls, text: str, status: int = 200, **kwargs: Any) -> Response:
        return cls(status, text, content_type="text/plain; charset=utf-8", **kwargs)


Handler = Response | Callable[[Request], Response]


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", headers={"Location": location})


def delayed(handler: Handler, seconds: float) -> Handler:
    """``handler``'s answer, started only after ``seconds``."""
    if isinstance(handler, Response):
        return dataclasses.replace(handler, delay=seconds)

    def slow(request: Request) -> Response:
        return dataclasses.replace(handler(request), delay=seconds)

    return slow


def hang() -> Response:
    """Accept the request and never answer (the connection closes at the server's hang_limit)."""
    return Response(hang=True)


def huge(
    size: int = 50 * 1024 * 1024,
    *,
    chunk: int = 64 * 1024,
    content_type: str = "application/octet-stream",
    declare_length: bool = True,
) -> Response:
    """A body of ``size`` bytes made chunk by chunk while sending (never held in memory)."""
    block = (b"0123456789abcdef" * (chunk // 16 + 1))[:chunk]

    def chunks() -> Iterator[bytes]:
        left = size
        while left > 0:
            piece = block if left >= chunk else block[:left]
            left -= len(piece)
            yield piece

    return Response(
        200,
        content_type=content_type,
        stream=chunks,
        length=size if declare_length else None,
    )


def _server_context(cert: CertPair) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.chain, cert.key)
    return context


def _host_of(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8443
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


@dataclass(frozen=True)
class _RouteKey:
    host: str | None
    method: str
    path: str


_State = tuple[dict[_RouteKey, Handler], dict[str, ssl.SSLContext], ssl.SSLContext | None]


class WebServer:
    """An HTTP/1.1 server on ``127.0.0.1:port``, TLS when given a certificate."""

    def __init__(
        self,
        name: str = "https",
        *,
        cert: CertPair | None = None,
        log: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.name = name
        self.host = host
        self.port = 0
        self.cert = cert
        self.log_path = log
        self.hang_limit = HANG_LIMIT
        self.requests: list[Request] = []
        self._routes: dict[_RouteKey, Handler] = {}
        self._host_certs: dict[str, ssl.SSLContext] = {}
        self._context = _server_context(cert) if cert else None
        if self._context is not None:
            self._context.sni_callback = self._pick_certificate
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------------ addresses

    @property
    def scheme(self) -> str:
        return "https" if self.cert else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str = "/", host: str | None = None) -> str:
        """The URL of ``path`` on this server, named ``host`` (e.g. autoconfig.example.test) when
        given: the name the program maps to 127.0.0.1:PORT through its host overrides."""
        if not path.startswith("/"):
            path = "/" + path
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    # ------------------------------------------------------------------ routes

    def route(
        self, path: str, handler: Handler, host: str | None = None, method: str = "GET"
    ) -> None:
        """Answer ``method`` (``"*"``: any) requests for ``path`` (exact, without query string)
        sent to ``host`` (None: any host) with ``handler``. A later route replaces an earlier."""
        key = _RouteKey(host.lower() if host else None, method.upper(), path)
        with self._lock:
            self._routes[key] = handler

    def unroute(self, path: str, host: str | None = None, method: str = "GET") -> None:
        with self._lock:
            self._routes.pop(_RouteKey(host.lower() if host else None, method.upper(), path), None)

    def redirect_loop(self, path: str, host: str | None = None, status: int = 302) -> None:
        """``path`` redirects to ``path?loop=1``, which redirects back to ``path``: forever."""

        def loop(request: Request) -> Response:
            target = path if request.query.get("loop") else f"{path}?loop=1"
            return redirect(target, status)

        self.route(path, loop, host=host)

    def set_certificate(self, cert: CertPair, host: str | None = None) -> None:
        """Present ``cert`` to clients asking (SNI) for ``host``; for every host when None."""
        if self._context is None:
            raise ValueError("a plain HTTP server has no certificate")
        context = _server_context(cert)
        with self._lock:
            if host is None:
                context.sni_callback = self._pick_certificate
                self._context = context
            else:
                self._host_certs[host.lower()] = context

    def _pick_certificate(
        self, sock: ssl.SSLSocket | ssl.SSLObject, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        sock.world_sni = server_name  # type: ignore[union-attr]
        with self._lock:
            context = self._host_certs.get((server_name or "").lower())
        if context is not None:
            sock.context = context

    def snapshot(self) -> _State:
        with self._lock:
            return dict(self._routes), dict(self._host_certs), self._context

    def restore(
        self, state: tuple[dict[_RouteKey, Handler], dict[str, ssl.SSLContext], Any]
    ) -> None:
        with self._lock:
            routes, certs, context = state
            self._routes = dict(routes)
            self._host_certs = dict(certs)
            self._context = context
        self.hang_limit = HANG_LIMIT

    def reset(self) -> None:
        """No routes, no per-host certificates, an empty log."""
        with self._lock:
            self._routes.clear()
            self._host_certs.clear()
        self.requests.clear()

    def requests_to(self, path: str | None = None, host: str | None = None) -> list[Request]:
        return [
            r
            for r in list(self.requests)
            if (path is None or r.path == path) and (host is None or r.host == host.lower())
        ]

    def find(self, host: str, method: str, path: str) -> Handler | bool | None:
        """The handler, or None (no such path: 404) or False (path known, method not: 405)."""
        with self._lock:
            for key in (
                _RouteKey(host, method, path),
                _RouteKey(host, "*", path),
                _RouteKey(None, method, path),
                _RouteKey(None, "*", path),
            ):
                if key in self._routes:
                    return self._routes[key]
            if method == "HEAD":
                return self.find(host, "GET", path)
            if any(k.path == path and k.host in (None, host) for k in self._routes):
                return False
        return None

    # ------------------------------------------------------------------ running

    def log(self, line: str) -> None:
        if self.log_path is None:
            return
        with self._log_lock, self.log_path.open("a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    def start(self) -> WebServer:
        self.stopping.clear()
        self._server = _Server((self.host, 0), _RequestHandler, self)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"world-web-{self.name}",
            daemon=True,
        )
        self._thread.start()
        self.log(f"listening on {self.base_url}")
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.log("stopped")

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wrap(self, conn: socket.socket) -> socket.socket | None:
        """The accepted connection ready for HTTP: after the TLS handshake for HTTPS."""
        with self._lock:
            self._connections.add(conn)
            context = self._context
        # without it, small responses wait ~40 ms on the client's delayed ACK
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if context is None:
            return conn
        conn.settimeout(10)
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            self.log(f"TLS handshake failed: {exc}")
            self.forget(conn)
            return None
        with self._lock:
            self._connections.discard(conn)
            self._connections.add(tls)
        return tls

    def forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], web: WebServer
    ) -> None:
        self.web = web
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn = self.web.wrap(request)
        if conn is None:
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.web.forget(conn)
            if conn is not request:
                with contextlib.suppress(OSError):
                    conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.web.log(f"error with {client_address}:\n{traceback.format_exc()}")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WorldWeb/1.0"
    timeout = IDLE_TIMEOUT
    server: _Server

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._dispatch  # every method, including PROPFIND and friends
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.web.log(f"{self.client_address[1]} {format % args}")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        web = self.server.web
        split = urlsplit(self.path)
        sni = getattr(self.connection, "world_sni", None)
        host_header = self.headers.get("Host")
        host = _host_of(host_header) if host_header else (sni or self.server.web.host).lower()
        request = Request(
            method=self.command,
            path=split.path or "/",
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers=Headers(self.headers.items()),
            body=self._read_body(),
            host=host,
            scheme=web.scheme,
            target=self.path,
            sni=sni,
            client_port=int(self.client_address[1]),
        )
        web.requests.append(request)
        handler = web.find(host, self.command, request.path)
        if handler is None:
            response = Response.text("not found\n", 404)
        elif handler is False:
            response = Response.text("method not allowed\n", 405)
        elif isinstance(handler, Response):
            response = handler
        else:
            try:
                response = handler(request)  # type: ignore[operator]
            except Exception:
                web.log(f"handler for {request.url} failed:\n{traceback.format_exc()}")
                response = Response.text("handler failed\n", 500)
        try:
            self._send(request, response)
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError) as exc:
            web.log(f"{self.client_address[1]} {request.method} {request.url}: client left ({exc})")
            self.close_connection = True

    def _send(self, request: Request, response: Response) -> None:
        web = self.server.web
        if response.delay and web.stopping.wait(response.delay):
            self.close_connection = True
            return
        if response.hang:
            web.log(f"{self.client_address[1]} {request.method} {request.url}: hanging")
            web.stopping.wait(web.hang_limit)
            self.close_connection = True
            return
        body = response.body.encode() if isinstance(response.body, str) else response.body
        self.send_response(response.status)
        headers = {k.lower(): k for k in response.headers}
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.content_type and "content-type" not in headers:
            self.send_header("Content-Type", response.content_type)
        chunked = response.stream is not None and response.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif "content-length" not in headers:
            length = response.length if response.stream is not None else len(body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if request.method == "HEAD":
            return
        if response.stream is None:
            self.wfile.write(body)
            return
        for piece in itertools.takewhile(lambda _: not web.stopping.is_set(), response.stream()):
            if chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
        if web.stopping.is_set():
            self.close_connection = True
        elif chunked:
            self.wfile.write(b"0\r\n\r\n")


def fetch_ready(server: WebServer, ca: Path | None, timeout: float = 2.0) -> bool:
    """Whether the server answers a real request (a 404 is an answer). Without ``ca`` the
    certificate is not checked (servers started on purpose with a broken one)."""
    context: ssl.SSLContext | None = None
    if server.cert is not None and ca is not None:
        context = ssl.create_default_context(cafile=str(ca))
    elif server.cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((server.host, server.port), timeout=timeout) as raw:
            conn: socket.socket = raw
            if context is not None:
                conn = context.wrap_socket(raw, server_hostname=server.host)
            conn.sendall(b"GET /__world__/ready HTTP/1.1\r\nHost: ready.invalid\r\n\r\n")
            head = conn.recv(64)
            if context is not None:
                conn.close()
    except (OSError, ssl.SSLError):
        return False
    return head.startswith(b"HTTP/1.1 ")


__all__ = [
    "HANG_LIMIT",
    "Handler",
    "Headers",
    "Request",
    "Response",
    "WebServer",
    "delayed",
    "fetch_ready",
    "hang",
    "huge",
    "redirect",
]
