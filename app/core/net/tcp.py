"""TCP connections for the network seam: where a host is, how to reach it, and the open stream.

Address order of precedence: a ``--resolve`` override (as curl, also for an IP address); an IP
address as is; when a ``--dns-server`` is set, its A/AAAA answers; else the system resolver.
Several addresses are tried in turn, the next one starting when the previous fails or after a
short head start (RFC 8305, "happy eyeballs"), within one deadline. A cancelled or failed
attempt closes its socket.

``Connection`` wraps asyncio's streams with deadlines on every read and write, implicit TLS at
connect time and the STARTTLS upgrade later (``start_tls``), both checked against the host name
the caller asked for, never against an override's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from app.core.errors import ConnectFailure, DNSError, DNSFailure, SetupError, TLSFailure
from app.core.net import _errors
from app.core.net._errors import Address
from app.core.net.dnslookup import DnsClient
from app.core.net.options import NetworkOptions, is_ip_address, normalize_host
from app.core.net.tls import TLSInfo, tls_failure

HAPPY_EYEBALLS_DELAY = 0.25
STREAM_LIMIT = 64 * 1024  # longest line ``readline`` accepts
CLOSE_GRACE = 1.0  # seconds a closing connection may take to say goodbye before it is dropped

VIA_LITERAL = "literal"
VIA_OVERRIDE = "override"
VIA_DNS_SERVER = "dns-server"
VIA_SYSTEM = "system"


@dataclass(frozen=True)
class Target:
    """Where a connection to ``host:port`` goes: ``addresses`` in the order to try them, and
    ``via`` how they were found (``literal``, ``override``, ``dns-server``, ``system``)."""

    host: str
    port: int
    addresses: tuple[Address, ...]
    via: str

    @property
    def overridden(self) -> bool:
        return self.via == VIA_OVERRIDE


def _interleave(addresses: Sequence[Address]) -> tuple[Address, ...]:
    """IPv6 and IPv4 addresses alternating, each family in its given order, the first
    address's family first (RFC 8305 section 4); duplicates dropped."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return ()
    first_v6 = ":" in unique[0][0]
    same = [a for a in unique if (":" in a[0]) == first_v6]
    other = [a for a in unique if (":" in a[0]) != first_v6]
    result: list[Address] = []
    for i in range(max(len(same), len(other))):
        result.extend(group[i] for group in (same, other) if i < len(group))
    return tuple(result)


class AddressResolver:
    """Finds the addresses for a TCP connection, following the options' precedence."""

    def __init__(self, options: NetworkOptions, dns: DnsClient) -> None:
        self._options = options
        self._dns = dns

    async def resolve(self, host: str, port: int) -> Target:
        if self._options.offline:
            raise _errors.offline_error(host, port)
        name = normalize_host(host)
        override = self._options.override_for(name, port)
        if override is not None:
            return Target(host, port, ((override.address, override.target_port),), VIA_OVERRIDE)
        if is_ip_address(name):
            return Target(host, port, ((name, port),), VIA_LITERAL)
        if self._options.dns_server is not None:
            return Target(host, port, await self._from_dns_server(name, port), VIA_DNS_SERVER)
        return Target(host, port, await self._from_system(name, port), VIA_SYSTEM)

    async def _from_dns_server(self, name: str, port: int) -> tuple[Address, ...]:
        v6, v4 = await asyncio.gather(
            self._dns.aaaa(name), self._dns.a(name), return_exceptions=True
        )
        found = [(ip, port) for ip in (v6 if isinstance(v6, list) else [])]
        found += [(ip, port) for ip in (v4 if isinstance(v4, list) else [])]
        if found:
            return _interleave(found)
        for result in (v4, v6):
            if isinstance(result, BaseException) and not isinstance(result, DNSError):
                raise result
        errors = [r for r in (v4, v6) if isinstance(r, DNSError)]
        if any(e.failure is DNSFailure.NOT_FOUND for e in errors):
            raise next(e for e in errors if e.failure is DNSFailure.NOT_FOUND)
        if all(e.failure is DNSFailure.NO_ANSWER for e in errors):
            raise errors[0]
        raise next(e for e in errors if e.failure is DNSFailure.FAILED)

    async def _from_system(self, name: str, port: int) -> tuple[Address, ...]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._options.timeout):
                infos = await loop.getaddrinfo(
                    name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
                )
        except TimeoutError as exc:
            raise _errors.dns_error(name, DNSFailure.FAILED, _errors.DNS_TIMEOUT, "system") from exc
        except socket.gaierror as exc:
            raise _gai_error(name, exc) from exc
        except UnicodeError as exc:
            raise _errors.dns_error(
                name, DNSFailure.FAILED, _errors.DNS_BAD_NAME, "system"
            ) from exc
        found: list[Address] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            if family in (socket.AF_INET, socket.AF_INET6):
                found.append((str(sockaddr[0]), int(sockaddr[1])))
        if not found:
            raise _errors.dns_error(name, DNSFailure.NO_ANSWER, server="system")
        return _interleave(found)


def _gai_error(name: str, exc: socket.gaierror) -> DNSError:
    code = exc.args[0] if exc.args else None
    if code == socket.EAI_NONAME:
        return _errors.dns_error(name, DNSFailure.NOT_FOUND, server="system")
    if code == getattr(socket, "EAI_NODATA", object()):
        return _errors.dns_error(name, DNSFailure.NO_ANSWER, server="system")
    if code == socket.EAI_AGAIN:
        return _errors.dns_error(name, DNSFailure.FAILED, _errors.DNS_TIMEOUT, "system")
    return _errors.dns_error(name, DNSFailure.FAILED, _errors.DNS_OTHER, "system")


def _connect_failure(exc: OSError) -> ConnectFailure:
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return ConnectFailure.REFUSED
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return ConnectFailure.CLOSED
    if isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT:
        return ConnectFailure.TIMEOUT
    return ConnectFailure.UNREACHABLE


async def _attempt(address: Address) -> socket.socket:
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


async def open_socket(
    addresses: Sequence[Address], *, delay: float = HAPPY_EYEBALLS_DELAY
) -> tuple[socket.socket, Address]:
    """A connected socket to the first address that answers, trying them staggered by
    ``delay``. Raises ``OSError`` (the most telling one) when all fail. Cancel-safe: every
    socket but the winner's is closed."""
    queue = list(addresses)
    running: dict[asyncio.Task[socket.socket], Address] = {}
    failures: list[OSError] = []
    try:
        while queue or running:
            if queue:
                address = queue.pop(0)
                running[asyncio.ensure_future(_attempt(address))] = address
            done, _ = await asyncio.wait(
                running, timeout=delay if queue else None, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                address = running.pop(task)
                error = task.exception()
                if error is None:
                    return task.result(), address
                if not isinstance(error, OSError):
                    raise error
                failures.append(error)
    finally:
        for task in running:
            task.cancel()
        for result in await asyncio.gather(*running, return_exceptions=True):
            if isinstance(result, socket.socket):
                result.close()
    refused = [f for f in failures if _connect_failure(f) is ConnectFailure.REFUSED]
    raise (refused or failures or [OSError(errno.EADDRNOTAVAIL, "no address to connect to")])[0]


class Connection:
    """An open TCP connection (plain, or TLS once ``tls`` is set). Use as ``async with``."""

    def __init__(
        self,
        target: Target,
        peer: Address,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        timeout: float,
        context: ssl.SSLContext | None,
    ) -> None:
        self.target = target
        self.peer = peer
        self.timeout = timeout
        self.tls: TLSInfo | None = None
        self._reader = reader
        self._writer = writer
        self._context = context
        self._closed = False

    @property
    def host(self) -> str:
        return self.target.host

    @property
    def port(self) -> int:
        return self.target.port

    @property
    def reader(self) -> asyncio.StreamReader:
        return self._reader

    @property
    def writer(self) -> asyncio.StreamWriter:
        return self._writer

    @property
    def closed(self) -> bool:
        return self._closed or self._writer.is_closing()

    def buffered(self) -> int:
        """How many received bytes wait unread (STARTTLS must start with none)."""
        buffer = getattr(self._reader, "_buffer", b"")
        return len(buffer)

    async def start_tls(self) -> TLSInfo:
        """Upgrade to TLS in place (after the protocol's STARTTLS exchange). The certificate
        is checked against ``host``; on failure the connection is closed and ``TLSError``
        raised: nothing more is ever sent in the clear."""
        if self._context is None:
            raise ValueError("this connection was opened without a TLS context")
        if self.tls is not None:
            raise ValueError("this connection is already secured by TLS")
        return await self.upgrade(self._context, self.host)

    async def upgrade(
        self, context: ssl.SSLContext, hostname: str, *, seconds: float | None = None
    ) -> TLSInfo:
        """``start_tls`` with a given context, checked against ``hostname`` (the seam's HTTP
        client uses it for a tunnel through a proxy, where the server is not the peer). On a
        connection that is TLS already (to an ``https://`` proxy) this nests a second session,
        end to end with ``hostname``, inside the first."""
        if self._closed:
            raise _errors.connect_error(
                hostname, self.port, ConnectFailure.CLOSED, self.peer, "the connection is closed"
            )
        name = normalize_host(hostname)
        port = self.port if name == normalize_host(self.host) else None
        waiting = self.buffered()
        if waiting:
            # Bytes the server sent before the handshake would later pass as protected data.
            self.abort()
            raise _errors.tls_error(
                TLSFailure.HANDSHAKE,
                host=hostname,
                port=port,
                peer=self.peer,
                problem="data-before-handshake",
                detail=f"{waiting} bytes arrived before the TLS handshake",
            )
        limit = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(limit):
                await self._writer.start_tls(
                    context, server_hostname=name, ssl_handshake_timeout=limit + 1
                )
        except TimeoutError as exc:
            self.abort()
            raise _errors.deadline_error(hostname, limit, "tls-handshake", port, self.peer) from exc
        except (ssl.SSLError, ssl.CertificateError) as exc:
            self.abort()
            raise tls_failure(exc, hostname, port, self.peer) from exc
        except (OSError, EOFError) as exc:
            self.abort()
            raise _errors.connect_error(
                hostname,
                port or self.port,
                ConnectFailure.CLOSED,
                self.peer,
                f"TLS handshake: {exc}",
            ) from exc
        except BaseException:
            self.abort()
            raise
        ssl_object = self._writer.get_extra_info("ssl_object")
        if ssl_object is None:  # pragma: no cover - asyncio always provides it after start_tls
            self.abort()
            raise _errors.network_error(hostname, "no TLS after start_tls", port, self.peer)
        self.tls = TLSInfo.from_ssl_object(ssl_object, name)
        return self.tls

    def _deadline(self, stage: str, seconds: float) -> SetupError:
        return _errors.deadline_error(self.host, seconds, stage, self.port, self.peer)

    def _io_error(self, stage: str, exc: BaseException) -> SetupError:
        if isinstance(exc, ssl.SSLError):
            return _errors.network_error(
                self.host, f"{stage}: TLS error {exc}", self.port, self.peer
            )
        return _errors.connect_error(
            self.host, self.port, ConnectFailure.CLOSED, self.peer, f"{stage}: {exc}"
        )

    async def read(self, n: int = 65536, *, seconds: float | None = None) -> bytes:
        """Up to ``n`` bytes; ``b""`` once the server has closed the connection."""
        seconds = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(seconds):
                return await self._reader.read(n)
        except TimeoutError as exc:
            raise self._deadline("read", seconds) from exc
        except OSError as exc:
            raise self._io_error("read", exc) from exc

    async def readline(self, *, seconds: float | None = None) -> bytes:
        """One line with its ending; ``b""`` at the end of the stream. A line longer than
        64 KiB, or a stream ending mid-line, is a ``NetworkError``."""
        seconds = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(seconds):
                line = await self._reader.readuntil(b"\n")
        except TimeoutError as exc:
            raise self._deadline("read", seconds) from exc
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return b""
            raise _errors.network_error(
                self.host, "the connection closed in the middle of a line", self.port, self.peer
            ) from exc
        except asyncio.LimitOverrunError as exc:
            raise _errors.network_error(
                self.host,
                f"the server sent a line longer than {STREAM_LIMIT} bytes",
                self.port,
                self.peer,
            ) from exc
        except OSError as exc:
            raise self._io_error("read", exc) from exc
        return line

    async def readexactly(self, n: int, *, seconds: float | None = None) -> bytes:
        seconds = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(seconds):
                return await self._reader.readexactly(n)
        except TimeoutError as exc:
            raise self._deadline("read", seconds) from exc
        except asyncio.IncompleteReadError as exc:
            raise _errors.connect_error(
                self.host,
                self.port,
                ConnectFailure.CLOSED,
                self.peer,
                f"closed after {len(exc.partial)} of {n} bytes",
            ) from exc
        except OSError as exc:
            raise self._io_error("read", exc) from exc

    async def write(self, data: bytes, *, seconds: float | None = None) -> None:
        """Send ``data`` and wait until the kernel took it (bounded)."""
        seconds = self.timeout if seconds is None else seconds
        if self.closed:  # never a byte after a refused handshake, and no silent drop either
            raise _errors.connect_error(
                self.host, self.port, ConnectFailure.CLOSED, self.peer, "the connection is closed"
            )
        try:
            async with asyncio.timeout(seconds):
                self._writer.write(data)
                await self._writer.drain()
        except TimeoutError as exc:
            raise self._deadline("write", seconds) from exc
        except OSError as exc:
            raise self._io_error("write", exc) from exc

    def abort(self) -> None:
        """Drop the connection at once, without waiting (a refused handshake, a cancel)."""
        self._closed = True
        self._writer.transport.abort()

    async def close(self) -> None:
        """Close the connection (idempotent, bounded; errors while closing are ignored)."""
        if self._closed:
            return
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            self.abort()  # cancelled: drop it now, a polite goodbye would delay the cancel
            return
        self._closed = True
        self._writer.close()
        try:
            async with asyncio.timeout(min(self.timeout, CLOSE_GRACE)):
                await self._writer.wait_closed()
        except BaseException as exc:  # no goodbye in time (a TLS peer still sending), a reset
            self._writer.transport.abort()
            if not isinstance(exc, Exception):
                raise  # a cancel goes on, with the connection dropped

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def connect(
    target: Target,
    *,
    tls: bool,
    seconds: float,
    context: ssl.SSLContext | None,
) -> Connection:
    """Open a connection to ``target`` (already resolved); with ``tls``, handshake at once
    (implicit TLS, as on ports 993, 995, 465). Connect and handshake each get ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            sock, peer = await open_socket(target.addresses)
    except TimeoutError as exc:
        raise _errors.connect_error(
            target.host,
            target.port,
            ConnectFailure.TIMEOUT,
            _first(target),
            f"no answer within {seconds:g} s",
        ) from exc
    except OSError as exc:
        raise _errors.connect_error(
            target.host, target.port, _connect_failure(exc), _first(target), str(exc)
        ) from exc
    try:
        reader, writer = await asyncio.open_connection(sock=sock, limit=STREAM_LIMIT)
    except BaseException:
        sock.close()
        raise
    connection = Connection(target, peer, reader, writer, timeout=seconds, context=context)
    if tls:
        await connection.start_tls()  # closes the connection itself on failure
    return connection


def _first(target: Target) -> Address | None:
    return target.addresses[0] if len(target.addresses) == 1 else None
