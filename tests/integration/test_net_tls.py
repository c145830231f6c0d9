"""TCP and TLS through the network seam against real TLS servers on 127.0.0.1.

Each test starts a small line server in its own event loop (greeting, optional STARTTLS, then
echo) with a certificate from the test world's CA, and connects through ``Network``, mostly by
name with a ``--resolve`` override, as the program reaches mail servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from app.core.errors import (
    ConnectError,
    ConnectFailure,
    DeadlineError,
    NetworkError,
    TLSError,
    TLSFailure,
)
from app.core.net import Connection, Network, NetworkOptions, parse_resolve
from tests.world.ca import CertPair, TestCA
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.proc import free_port

T = TypeVar("T")
HOST = "mail.example.test"


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


@dataclass
class LineServer:
    """A line server: ``* OK ready``; ``STARTTLS`` -> ``OK begin`` and a TLS upgrade; any
    other line is echoed. ``silent``: accept and never send anything."""

    cert: CertPair | None
    implicit_tls: bool = False
    silent: bool = False
    inject: bytes = b""  # sent right after "OK begin", before the handshake
    port: int = 0
    sni: list[str | None] = field(default_factory=list)
    connections: int = 0
    accepted: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    def context(self) -> ssl.SSLContext:
        assert self.cert is not None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert.chain, self.cert.key)

        def remember(_obj: object, name: str | None, _ctx: ssl.SSLContext) -> None:
            self.sni.append(name)

        context.sni_callback = remember
        return context

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.accepted.set()
        try:
            if self.silent:
                await reader.read()  # until the client leaves
                return
            writer.write(b"* OK ready\r\n")
            await writer.drain()
            while line := await reader.readline():
                if line.strip().upper() == b"STARTTLS" and not self.implicit_tls:
                    writer.write(b"OK begin\r\n" + self.inject)
                    await writer.drain()
                    if self.inject:  # an attacker's trick: the client must leave here
                        await reader.read()
                        return
                    await writer.start_tls(self.context(), ssl_handshake_timeout=5)
                else:
                    writer.write(b"echo " + line)
                    await writer.drain()
        except (OSError, ssl.SSLError, ConnectionError):
            pass
        finally:
            self.closed.set()
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await writer.wait_closed()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LineServer]:
        context = self.context() if self.implicit_tls else None
        self._server = await asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()
            async with asyncio.timeout(5):
                await self._server.wait_closed()


def seam(server: LineServer, *bundles: TestCA, port: int = 993, **options: object) -> Network:
    """A Network that sends HOST:port to the server, trusting ``bundles``."""
    return Network(
        NetworkOptions(
            resolve=(parse_resolve(f"{HOST}:{port}:127.0.0.1:{server.port}"),),
            ca_bundles=tuple(ca.cert_path for ca in bundles),
            **options,  # type: ignore[arg-type]
        )
    )


@pytest.fixture(scope="module")
def host_cert(test_ca: TestCA) -> CertPair:
    return test_ca.issue((HOST,), label="tls-mail")


def days(n: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=n)


# --- verified connections ----------------------------------------------------------------------


def test_implicit_tls_verified_through_the_extra_ca_bundle(
    test_ca: TestCA, host_cert: CertPair
) -> None:
    async def go() -> tuple[Connection, bytes, bytes, list[str | None]]:
        async with LineServer(host_cert, implicit_tls=True).running() as server:
            async with await seam(server, test_ca).connect(HOST, 993, tls=True) as conn:
                greeting = await conn.readline()
                await conn.write(b"hello\r\n")
                echo = await conn.readline()
            return conn, greeting, echo, server.sni

    conn, greeting, echo, sni = run(go())
    assert greeting == b"* OK ready\r\n"
    assert echo == b"echo hello\r\n"
    # the name asked for went into SNI, although the connection went to 127.0.0.1
    assert sni == [HOST]
    assert conn.peer[0] == "127.0.0.1"
    assert conn.target.overridden
    assert conn.tls is not None
    assert conn.tls.version in ("TLSv1.2", "TLSv1.3")
    assert conn.tls.cipher
    assert conn.tls.server_hostname == HOST
    cert = conn.tls.certificate
    assert cert is not None
    assert cert.der == ssl.PEM_cert_to_DER_cert(host_cert.cert.read_text())
    assert cert.common_name == HOST
    assert cert.dns_names == (HOST,)
    assert cert.issuer_common_name == test_ca.common_name
    assert not cert.self_issued
    assert cert.valid_at()
    assert cert.not_before < dt.datetime.now(dt.UTC) < cert.not_after
    assert len(cert.sha256) == 64


def test_starttls_upgrade(test_ca: TestCA, host_cert: CertPair) -> None:
    async def go() -> tuple[Connection, list[bytes]]:
        async with LineServer(host_cert).running() as server:
            async with await seam(server, test_ca, port=143).connect(HOST, 143) as conn:
                lines = [await conn.readline()]
                assert conn.tls is None
                await conn.write(b"STARTTLS\r\n")
                lines.append(await conn.readline())
                await conn.start_tls()
                await conn.write(b"secret\r\n")
                lines.append(await conn.readline())
            return conn, lines

    conn, lines = run(go())
    assert lines == [b"* OK ready\r\n", b"OK begin\r\n", b"echo secret\r\n"]
    assert conn.tls is not None
    assert conn.tls.certificate is not None
    assert conn.tls.certificate.dns_names == (HOST,)


def test_a_tls_inspecting_proxy_is_trusted_only_through_its_ca(
    test_ca: TestCA, corporate_ca: TestCA, host_cert: CertPair, fault_proxy: FaultProxyFactory
) -> None:
    async def go(*bundles: TestCA) -> Connection:
        async with LineServer(host_cert, implicit_tls=True).running() as server:
            proxy = await asyncio.to_thread(
                fault_proxy, "127.0.0.1", server.port, intercept=corporate_ca
            )
            net = Network(
                NetworkOptions(
                    resolve=(parse_resolve(f"{HOST}:993:127.0.0.1:{proxy.port}"),),
                    ca_bundles=tuple(ca.cert_path for ca in bundles),
                )
            )
            async with await net.connect(HOST, 993, tls=True) as conn:
                assert await conn.readline() == b"* OK ready\r\n"
            return conn

    with pytest.raises(TLSError) as caught:
        run(go(test_ca))
    assert caught.value.failure is TLSFailure.UNTRUSTED
    conn = run(go(test_ca, corporate_ca))  # --ca-bundle with IT's inspection CA
    assert conn.tls is not None and conn.tls.certificate is not None
    assert conn.tls.certificate.issuer_common_name == corporate_ca.common_name


# --- refused certificates ------------------------------------------------------------------------


def refused(server: LineServer, net_bundles: tuple[TestCA, ...]) -> TLSError:
    async def go() -> None:
        async with server.running():
            net = seam(server, *net_bundles)
            conn = await net.connect(HOST, 993, tls=True)
            await conn.close()

    with pytest.raises(TLSError) as caught:
        run(go())
    return caught.value


def test_an_unknown_ca_is_refused(host_cert: CertPair) -> None:
    error = refused(LineServer(host_cert, implicit_tls=True), ())
    assert error.failure is TLSFailure.UNTRUSTED
    assert error.detail["problem"] == "unknown-ca"
    assert error.detail["host"] == HOST
    assert error.detail["peer"].startswith("127.0.0.1:")


def test_a_self_signed_certificate_is_refused(test_ca: TestCA) -> None:
    cert = test_ca.issue((HOST,), self_signed=True)
    error = refused(LineServer(cert, implicit_tls=True), (test_ca,))
    assert error.failure is TLSFailure.SELF_SIGNED


def test_a_certificate_for_another_name_is_refused(test_ca: TestCA) -> None:
    cert = test_ca.issue(("other.example.test",))
    error = refused(LineServer(cert, implicit_tls=True), (test_ca,))
    assert error.failure is TLSFailure.WRONG_HOST


def test_the_name_is_checked_not_the_override_address(test_ca: TestCA) -> None:
    # valid for 127.0.0.1, where the override sends the connection, but not for the name asked
    cert = test_ca.issue(("127.0.0.1", "localhost"))
    error = refused(LineServer(cert, implicit_tls=True), (test_ca,))
    assert error.failure is TLSFailure.WRONG_HOST


def test_an_expired_certificate_is_refused(test_ca: TestCA) -> None:
    cert = test_ca.issue((HOST,), not_before=days(-30), not_after=days(-1))
    error = refused(LineServer(cert, implicit_tls=True), (test_ca,))
    assert error.failure is TLSFailure.EXPIRED


def test_a_certificate_not_yet_valid_is_refused(test_ca: TestCA) -> None:
    cert = test_ca.issue((HOST,), not_before=days(1), not_after=days(30))
    error = refused(LineServer(cert, implicit_tls=True), (test_ca,))
    assert error.failure is TLSFailure.NOT_YET_VALID


def test_a_plain_text_server_on_a_tls_port(host_cert: CertPair, test_ca: TestCA) -> None:
    error = refused(LineServer(host_cert, implicit_tls=False), (test_ca,))
    assert error.failure is TLSFailure.HANDSHAKE
    assert error.detail["problem"] == "not-tls"


def test_tls_below_1_2_is_refused(test_ca: TestCA) -> None:
    # an old server that speaks TLS 1.0 and 1.1 only, in a thread (asyncio's server side
    # would drop the connection without the protocol-version alert a real server sends)
    cert = test_ca.issue((HOST,))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.chain, cert.key)
    with warnings.catch_warnings():  # old on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)

        def serve() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with conn, contextlib.suppress(OSError):
                    context.wrap_socket(conn, server_side=True).close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        net = Network(
            NetworkOptions(
                resolve=(parse_resolve(f"{HOST}:993:127.0.0.1:{port}"),),
                ca_bundles=(test_ca.cert_path,),
            )
        )
        with pytest.raises(TLSError) as caught:
            run(net.connect(HOST, 993, tls=True))
        thread.join(5)
    assert caught.value.failure is TLSFailure.HANDSHAKE
    assert caught.value.detail["problem"] == "old-protocol"


def test_a_failed_starttls_never_falls_back_to_plain_text(host_cert: CertPair) -> None:
    async def go() -> tuple[Connection, int]:
        async with LineServer(host_cert).running() as server:
            conn = await seam(server, port=143).connect(HOST, 143)
            await conn.readline()
            await conn.write(b"STARTTLS\r\n")
            await conn.readline()
            with pytest.raises(TLSError) as caught:
                await conn.start_tls()  # the test CA is not trusted here
            assert caught.value.failure is TLSFailure.UNTRUSTED
            assert conn.closed
            with pytest.raises(NetworkError):
                await conn.write(b"PASSWORD hunter2\r\n")
                await conn.readline()
            await asyncio.wait_for(server.closed.wait(), 5)
            return conn, server.connections

    conn, connections = run(go())
    assert conn.tls is None
    assert connections == 1


def test_data_injected_before_the_starttls_handshake_is_refused(
    test_ca: TestCA, host_cert: CertPair
) -> None:
    async def go() -> None:
        async with LineServer(host_cert, inject=b"* injected\r\n").running() as server:
            conn = await seam(server, test_ca, port=143).connect(HOST, 143)
            await conn.readline()
            await conn.write(b"STARTTLS\r\n")
            await conn.readline()
            await asyncio.sleep(0.1)  # let the injected line arrive
            try:
                await conn.start_tls()
            finally:
                await conn.close()

    with pytest.raises(TLSError) as caught:
        run(go())
    assert caught.value.detail["problem"] == "data-before-handshake"


# --- offline, refusals, deadlines, cancellation --------------------------------------------------


def test_offline_mode_connects_nowhere(test_ca: TestCA, host_cert: CertPair) -> None:
    async def go() -> int:
        async with LineServer(host_cert, implicit_tls=True).running() as server:
            with pytest.raises(NetworkError) as caught:
                await seam(server, test_ca, offline=True).connect(HOST, 993, tls=True)
            assert caught.value.code == "network.offline"
            await asyncio.sleep(0.05)
            return server.connections

    assert run(go()) == 0


def test_nothing_listening_is_refused() -> None:
    port = free_port()
    net = Network(NetworkOptions(resolve=(parse_resolve(f"{HOST}:993:127.0.0.1:{port}"),)))
    with pytest.raises(ConnectError) as caught:
        run(net.connect(HOST, 993, tls=True))
    assert caught.value.failure is ConnectFailure.REFUSED
    assert caught.value.detail["peer"] == f"127.0.0.1:{port}"


def test_a_silent_server_cannot_stall_the_handshake(test_ca: TestCA, host_cert: CertPair) -> None:
    async def go() -> None:
        async with LineServer(host_cert, silent=True).running() as server:
            await seam(server, test_ca, timeout=0.5).connect(HOST, 993, tls=True)

    started = time.monotonic()
    with pytest.raises(DeadlineError) as caught:
        run(go())
    assert caught.value.detail["stage"] == "tls-handshake"
    assert 0.4 < time.monotonic() - started < 3.0


def test_a_silent_server_cannot_stall_a_read(host_cert: CertPair) -> None:
    async def go() -> None:
        async with (
            LineServer(host_cert, silent=True).running() as server,
            await seam(server, timeout=0.5).connect(HOST, 993) as conn,
        ):
            await conn.readline()

    started = time.monotonic()
    with pytest.raises(DeadlineError) as caught:
        run(go())
    assert caught.value.detail["stage"] == "read"
    assert 0.4 < time.monotonic() - started < 3.0


def test_a_cancelled_connect_closes_its_socket(test_ca: TestCA, host_cert: CertPair) -> None:
    async def go() -> int:
        async with LineServer(host_cert, silent=True).running() as server:
            task = asyncio.create_task(seam(server, test_ca).connect(HOST, 993, tls=True))
            # the TCP connection is up, the handshake waits for the silent server
            await asyncio.wait_for(server.accepted.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the server sees the client leave: the socket was closed, not leaked
            await asyncio.wait_for(server.closed.wait(), 5)
            return server.connections

    assert run(go()) == 1


# --- how failures are told apart where the platform verifies (Windows, macOS) --------------------


@pytest.mark.parametrize(
    ("code", "message", "problem"),
    [
        (0x800B0101, "CERT_E_EXPIRED", "expired"),
        (-2146762495, "CERT_E_EXPIRED as a signed number", "expired"),
        (0x800B010F, "CERT_E_CN_NO_MATCH", "wrong-host"),
        (0x800B0109, "CERT_E_UNTRUSTEDROOT", "unknown-ca"),
        (-67818, "errSecCertificateExpired", "expired"),
        (-67819, "errSecCertificateNotValidYet", "not-yet-valid"),
        (-67602, "errSecHostNameMismatch", "wrong-host"),
        (12345, "certificate is not trusted", "unknown-ca"),
        (12345, "certificate has expired", "expired"),
        (12345, "hostname mismatch, certificate is not valid for x", "wrong-host"),
    ],
)
def test_platform_verification_codes(code: int, message: str, problem: str) -> None:
    from app.core.net.tls import PROBLEM_FAILURE, classify

    error = ssl.SSLCertVerificationError(message)
    error.verify_code = code
    error.verify_message = message
    assert classify(error) == problem
    assert problem in PROBLEM_FAILURE
