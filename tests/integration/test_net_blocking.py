"""The network seam's blocking sockets (app/core/net/blocking.py) against the test world's
Dovecot and the fault proxy: the seam's resolution and trust, and a cancel that ends a call
blocked in the worker thread at once."""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import threading
import time
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from app.core.errors import ConnectError, ConnectFailure, NetworkError, TLSError, TLSFailure
from app.core.net import Network, NetworkOptions, parse_resolve
from app.core.net.blocking import connect_blocking, open_blocking, wrap_tls
from app.core.net.tls import make_context
from tests.world.ca import TestCA
from tests.world.dovecot import MAIL_HOST, DovecotServer
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.proc import free_port

pytestmark = pytest.mark.world

T = TypeVar("T")
HOST = "imap.example.test"


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def network(port: int, *, ca: TestCA | None, host: str = HOST, address: str = MAIL_HOST) -> Network:
    return Network(
        NetworkOptions(
            ca_bundles=() if ca is None else (ca.cert_path,),
            resolve=(parse_resolve(f"{host}:993:{address}:{port}"),),
            system_proxy=False,
            timeout=3.0,
        )
    )


def workers() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("seam-blocking"))


def wait_for_no_workers(limit: float = 1.0) -> None:
    deadline = time.monotonic() + limit
    while workers():
        assert time.monotonic() < deadline, "a worker thread outlived its socket"
        time.sleep(0.01)


def test_implicit_tls_through_an_override(dovecot: DovecotServer, test_ca: TestCA) -> None:
    async def scenario() -> bytes:
        stream = await open_blocking(
            network(dovecot.imap_tls_port, ca=test_ca), HOST, 993, tls=True
        )
        try:
            assert stream.target.overridden
            assert stream.peer == (MAIL_HOST, dovecot.imap_tls_port)
            assert stream.tls is not None and stream.tls.server_hostname == HOST
            assert stream.sock.gettimeout() == 3.0
            return await stream.call(lambda: stream.sock.recv(4096))
        finally:
            stream.close()

    assert run(scenario()).startswith(b"* OK")
    wait_for_no_workers()


def test_certificate_checked_against_the_name_asked_for(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    other = "imap.elsewhere.test"
    net = network(dovecot.imap_tls_port, ca=test_ca, host=other)
    with pytest.raises(TLSError) as caught:
        run(open_blocking(net, other, 993, tls=True))
    assert caught.value.failure is TLSFailure.WRONG_HOST
    gc.collect()  # a TLS socket left open would warn here (warnings are errors)
    wait_for_no_workers()


def test_an_unknown_authority_is_refused(dovecot: DovecotServer) -> None:
    with pytest.raises(TLSError) as caught:
        run(open_blocking(network(dovecot.imap_tls_port, ca=None), HOST, 993, tls=True))
    assert caught.value.failure is TLSFailure.UNTRUSTED
    gc.collect()


def test_refused_connection() -> None:
    port = free_port("127.0.0.1")
    with pytest.raises(ConnectError) as caught:
        run(connect_blocking(network(port, ca=None, address="127.0.0.1"), HOST, 993))
    assert caught.value.failure is ConnectFailure.REFUSED


def test_offline_opens_nothing() -> None:
    net = Network(NetworkOptions(offline=True))
    with pytest.raises(NetworkError) as caught:
        run(connect_blocking(net, HOST, 993))
    assert caught.value.code == "network.offline"


def test_reset_during_the_handshake_leaves_nothing_open(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_tls_port, latency=0.2, reset_after=0)
    net = network(proxy.port, ca=test_ca, address=proxy.host)
    with pytest.raises(ConnectError) as caught:
        run(open_blocking(net, HOST, 993, tls=True))
    assert caught.value.failure is ConnectFailure.CLOSED
    gc.collect()  # the TLS socket of the failed handshake was closed: no ResourceWarning
    assert proxy.wait_idle(1.0)


def test_a_reset_before_the_handshake_leaves_no_tls_socket_open(test_ca: TestCA) -> None:
    """CPython's ssl raises from its "not connected" probe without closing the TLS socket
    when the peer reset the connection before the wrap; wrap_tls closes it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=3)
        accepted, _ = listener.accept()
        accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        accepted.close()  # a TCP reset
        time.sleep(0.1)  # it has arrived before the wrap
        with pytest.raises(OSError):
            wrap_tls(make_context((test_ca.cert_path,)), client, HOST)
    assert client.fileno() == -1  # handed over to ssl, which owns the descriptor now
    gc.collect()  # an unclosed TLS socket would warn here, and warnings are errors


@pytest.mark.parametrize("how", ["cancel", "close"])
def test_a_blocked_call_ends_at_once(
    how: str, dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    """A call blocked in recv (the server never answers): cancelling the awaiting task, or
    closing the socket from the loop, ends the connection within a second."""
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_tls_port, accept_and_hang=True)
    net = network(proxy.port, ca=test_ca, address=proxy.host)

    async def scenario() -> float:
        stream = await connect_blocking(net, HOST, 993)
        task = asyncio.ensure_future(stream.call(lambda: stream.sock.recv(10)))
        await asyncio.sleep(0.2)
        assert proxy.open_connections == 1 and not task.done()
        started = time.monotonic()
        if how == "cancel":
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            stream.close()
            assert await asyncio.wait_for(task, 1.0) == b""  # the peer "closed": EOF
        assert stream.closed
        assert await asyncio.to_thread(proxy.wait_idle, 1.0)
        return time.monotonic() - started

    assert run(scenario()) < 1.0
    wait_for_no_workers()
    gc.collect()


def test_no_calls_after_close(dovecot: DovecotServer, test_ca: TestCA) -> None:
    async def scenario() -> None:
        stream = await connect_blocking(network(dovecot.imap_tls_port, ca=test_ca), HOST, 993)
        stream.close()
        with pytest.raises(ConnectError):
            await stream.call(lambda: None)

    run(scenario())
    wait_for_no_workers()
