"""Blocking sockets from the network seam, for libraries that do their own socket I/O.

``imapclient`` (over ``imaplib``) reads and writes a blocking socket. This module lets such a
library use a connection the seam opened, so it gets the seam's address resolution (``--resolve``
overrides, the DNS server), its happy-eyeballs connect, its TLS context (the system's trust store
plus the extra CA bundles) and host-name check against the name asked for, and its timeout::

    stream = await connect_blocking(net, "imap.example.test", 993)
    try:
        await stream.start_tls()  # implicit TLS, checked against imap.example.test
        greeting = await stream.call(lambda: stream.sock.recv(1024))
    finally:
        stream.close()

Blocking calls run one at a time, in order, in the socket's own worker thread (``call``), so
the event loop never blocks. Cancelling the task that awaits ``call`` shuts the socket down at
once from the loop's side (``shutdown``: the blocked call returns straight away, the peer sees
the connection end) and closes it as soon as the call has returned: nothing is left open and a
late answer is never read. Every operation on the socket is bounded by the seam's timeout.

``wrap_tls`` is the TLS handshake for blocking sockets (``start_tls`` here, and ``imaplib``'s
STARTTLS through ``app.core.checks.imapsocket``): it leaves no TLS socket open when the handshake
fails, which ``ssl.SSLContext.wrap_socket`` does not guarantee.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from app.core.errors import ConnectFailure
from app.core.net import _errors
from app.core.net._errors import Address
from app.core.net.network import Network
from app.core.net.options import normalize_host
from app.core.net.tcp import Target, _connect_failure, open_socket
from app.core.net.tls import TLSInfo, make_context, tls_failure

T = TypeVar("T")


class BlockingSocket:
    """A connected TCP socket in blocking mode (with the seam's timeout on each operation).

    ``sock`` is what the library reads and writes: the plain socket, or the TLS socket after
    ``start_tls``. A library that wraps the socket itself (``imaplib``'s STARTTLS) keeps its
    own reference; ``add_closer`` tells this object how to let go of it on ``close``.
    """

    def __init__(
        self,
        target: Target,
        peer: Address,
        sock: socket.socket,
        *,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        sock.settimeout(timeout)
        self.target = target
        self.peer = peer
        self.timeout = timeout
        self.context = context
        self.tls: TLSInfo | None = None
        self._sock = sock
        # A second descriptor of the same connection: shutting it down from any thread ends
        # the connection even while the worker thread blocks in the library's socket (which a
        # TLS wrap replaces by another object: the descriptor stays the same).
        self._control = sock.dup()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seam-blocking")
        self._closers: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._running: Future[Any] | None = None
        self._closing = False
        self._closed = False

    @property
    def host(self) -> str:
        """The host name asked for (the one certificates are checked against)."""
        return self.target.host

    @property
    def port(self) -> int:
        return self.target.port

    @property
    def tls_name(self) -> str:
        """The name for SNI and the certificate check: the host asked for, normalised."""
        return normalize_host(self.target.host)

    @property
    def sock(self) -> socket.socket:
        return self._sock

    @property
    def closed(self) -> bool:
        """True once ``close`` was called (the descriptors may follow a moment later)."""
        return self._closing

    def add_closer(self, closer: Callable[[], object]) -> None:
        """Call ``closer`` when this socket is closed (its errors are ignored): how a library
        that holds the socket itself (a file made from it, a TLS wrap) lets go of it."""
        with self._lock:
            if not self._closed:
                self._closers.append(closer)
                return
        with contextlib.suppress(Exception):
            closer()

    async def call(self, function: Callable[[], T]) -> T:
        """Run the blocking ``function`` in this socket's worker thread and return its result
        (or raise its exception). Cancel-safe: see the module docstring."""
        if self._closing:
            raise _errors.connect_error(
                self.host, self.port, ConnectFailure.CLOSED, self.peer, "the connection is closed"
            )
        future: Future[T] = self._executor.submit(function)
        self._running = future
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.add_done_callback(_drop_late_socket)
            self.close()  # aborts now, releases once the call has returned
            raise

    async def start_tls(self, context: ssl.SSLContext | None = None) -> TLSInfo:
        """The TLS handshake on this socket (implicit TLS), checked against the host name
        asked for, with the seam's context unless another is given. On failure the socket is
        closed and the seam's ``TLSError``/``ConnectError``/``DeadlineError`` raised."""
        if self.tls is not None:
            raise ValueError("this connection is already secured by TLS")
        name = self.tls_name
        plain = self._sock
        use = context or self.context

        def handshake() -> ssl.SSLSocket:
            return wrap_tls(use, plain, name)

        try:
            wrapped = await self.call(handshake)
        except (ssl.SSLError, ssl.CertificateError) as exc:
            self.close()
            raise tls_failure(exc, self.host, self.port, self.peer) from exc
        except TimeoutError as exc:
            self.close()
            raise _errors.deadline_error(
                self.host, self.timeout, "tls-handshake", self.port, self.peer
            ) from exc
        except OSError as exc:
            self.close()
            raise _errors.connect_error(
                self.host, self.port, ConnectFailure.CLOSED, self.peer, f"TLS handshake: {exc}"
            ) from exc
        self._sock = wrapped
        self.tls = TLSInfo.from_ssl_object(wrapped, name)
        return self.tls

    def abort(self) -> None:
        """End the connection now, from any thread: a call blocked on it returns at once.
        Idempotent; the descriptors are released by ``close``."""
        with contextlib.suppress(OSError):
            self._control.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """End the connection now and release everything (idempotent, from any thread). While
        a ``call`` still runs in the worker thread, the descriptors are released as soon as
        it has returned (never under its feet)."""
        self._closing = True
        self.abort()
        running = self._running
        if running is not None and not running.done():
            running.add_done_callback(lambda _: self.close())
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
            closers, self._closers = self._closers, []
        for closer in closers:
            with contextlib.suppress(Exception):
                closer()
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError):
            self._control.close()
        self._executor.shutdown(wait=False)


def wrap_tls(context: ssl.SSLContext, sock: socket.socket, hostname: str) -> ssl.SSLSocket:
    """The client side of a TLS handshake on the blocking ``sock`` (checked against
    ``hostname``). Whatever fails, no TLS socket is left open: ``ssl`` itself leaves one open
    when the peer reset the connection before the wrap (CPython 3.11's ``SSLSocket._create``
    raises from its "not connected" probe without closing), and can when a handshake fails."""
    try:
        wrapped = context.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    except BaseException as exc:
        _close_orphans(exc)
        raise
    try:
        wrapped.do_handshake()
    except BaseException:
        wrapped.close()
        raise
    return wrapped


def _close_orphans(exc: BaseException) -> None:
    """Close the TLS sockets ``ssl`` made and dropped while raising ``exc`` (found in the
    frames of its traceback: the half-built socket is ``self`` in ``SSLSocket._create``)."""
    frame = exc.__traceback__
    while frame is not None:
        made = frame.tb_frame.f_locals.get("self")
        if isinstance(made, ssl.SSLSocket):
            with contextlib.suppress(OSError):
                made.close()
        frame = frame.tb_next


def _drop_late_socket(future: Future[Any]) -> None:
    """A call cancelled while it made a socket (a TLS wrap that finished anyway): close it,
    nobody will."""
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    if isinstance(result, socket.socket):
        result.close()


async def connect_blocking(net: Network, host: str, port: int) -> BlockingSocket:
    """A TCP connection to ``host:port`` as the seam makes it (overrides, DNS server, several
    addresses tried in turn, the seam's timeout), handed over as a ``BlockingSocket``. Raises
    the seam's ``DNSError``/``ConnectError``/``NetworkError`` as ``Network.connect`` does."""
    target = await net.resolve(host, port)
    seconds = net.options.timeout
    first = target.addresses[0] if len(target.addresses) == 1 else None
    try:
        async with asyncio.timeout(seconds):
            sock, peer = await open_socket(target.addresses)
    except TimeoutError as exc:
        raise _errors.connect_error(
            host, port, ConnectFailure.TIMEOUT, first, f"no answer within {seconds:g} s"
        ) from exc
    except OSError as exc:
        raise _errors.connect_error(host, port, _connect_failure(exc), first, str(exc)) from exc
    try:
        # With truststore, a context of its own (make_context gives one): truststore holds a
        # context's lock for a whole handshake, and a blocking handshake that stalls in a worker
        # thread must not stall a shared context (and with it the event loop, the deadline and
        # Cancel). OpenSSL's own verification has no such lock, and there it is shared.
        context = make_context(net.options.ca_bundles)
        return BlockingSocket(target, peer, sock, timeout=seconds, context=context)
    except BaseException:
        sock.close()
        raise


async def open_blocking(net: Network, host: str, port: int, *, tls: bool) -> BlockingSocket:
    """``connect_blocking`` and, with ``tls``, the implicit-TLS handshake (ports 993, 995)."""
    stream = await connect_blocking(net, host, port)
    if tls:
        await stream.start_tls()  # closes the socket itself on failure
    return stream
