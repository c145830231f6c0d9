"""The fault proxy relays to a real server and misbehaves exactly as told."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from tests.world.ca import TestCA
from tests.world.faultproxy import FaultProxy, StartTLSStripper
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.web import Response, WebServer

GREETING = b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] toy ready\r\n"
EHLO = b"250-toy.example.test Hello\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
EHLO_LAST = b"250-toy.example.test Hello\r\n250-SIZE 1000\r\n250 STARTTLS\r\n"
CAPABILITY = b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\na1 OK done\r\n"
CAPA = b"+OK capabilities\r\nUSER\r\nSTLS\r\nSASL PLAIN\r\n.\r\n"


class _ToyHandler(socketserver.StreamRequestHandler):
    """A line server speaking bits of IMAP, SMTP and POP3, plus PING and SEND n."""

    server: _ToyServer

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
        self.wfile.write(GREETING)
        for raw in self.rfile:
            command = raw.strip().decode()
            if command == "EHLO":
                self.wfile.write(EHLO)
            elif command == "EHLO-LAST":
                self.wfile.write(EHLO_LAST)
            elif command == "a1 CAPABILITY":
                self.wfile.write(CAPABILITY)
            elif command == "CAPA":
                self.wfile.write(CAPA)
            elif command == "PING":
                self.wfile.write(b"PONG\r\n")
            elif command.startswith("SEND "):
                self.wfile.write(b"x" * int(command.split()[1]))
            else:
                self.wfile.write(b"BYE\r\n")
                return


class _ToyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ToyHandler)
        self.connections = 0
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture(scope="module")
def toy() -> Iterator[_ToyServer]:
    server = _ToyServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _connect(port: int, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def _read_until(sock: socket.socket, end: bytes, limit: int = 65536) -> bytes:
    data = b""
    while not data.endswith(end):
        chunk = sock.recv(limit)
        if not chunk:
            break
        data += chunk
    return data


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _ping(port: int) -> float:
    started = time.monotonic()
    with _connect(port) as sock:
        assert _read_until(sock, b"\r\n") == GREETING
        sock.sendall(b"PING\r\n")
        assert _read_until(sock, b"\r\n") == b"PONG\r\n"
    return time.monotonic() - started


def test_plain_relay_passes_everything(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port)
    with _connect(proxy.port) as sock:
        assert _read_until(sock, b"\r\n") == GREETING
        sock.sendall(b"EHLO\r\n")
        assert _read_until(sock, b"8BITMIME\r\n") == EHLO
        sock.sendall(b"SEND 200000\r\n")
        assert _read_exactly(sock, 200000) == b"x" * 200000


def test_latency_is_measurable(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port, latency=0.2)
    direct = _ping(toy.port)
    through = _ping(proxy.port)
    assert through >= 0.2
    assert direct < through - 0.15
    proxy.set(latency=0.0, chunk_latency=0.1)
    assert _ping(proxy.port) >= 0.3  # greeting, PING and PONG each wait 0.1 s


def test_stall_after_bytes(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port, stall_after=len(GREETING) + 100)
    with _connect(proxy.port, timeout=0.3) as sock:
        assert _read_until(sock, b"\r\n") == GREETING
        sock.sendall(b"SEND 1000\r\n")
        assert _read_exactly(sock, 100) == b"x" * 100
        with pytest.raises(TimeoutError):
            sock.recv(10)
        assert proxy.open_connections == 1  # stalled, not closed
    assert proxy.wait_idle(2)


def test_reset_after_bytes(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port, reset_after=len(GREETING) + 50)
    with _connect(proxy.port) as sock:
        assert _read_until(sock, b"\r\n") == GREETING
        sock.sendall(b"SEND 5000\r\n")
        received = b""
        with pytest.raises(ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                assert chunk, "a reset, not an orderly close, was expected"
                received += chunk
        assert received == b"x" * 50
    assert proxy.wait_idle(2)


def test_reset_at_once(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port, reset_after=0)
    # the reset may even beat the end of connect(): the client sees it there or on recv
    with pytest.raises(ConnectionResetError), _connect(proxy.port) as sock:
        sock.recv(100)
    with pytest.raises(ConnectionResetError), _connect(proxy.port) as sock:
        time.sleep(0.05)
        sock.sendall(b"PING\r\n" * 1000)
        sock.recv(100)
    assert proxy.wait_idle(2)
    assert proxy.total_connections == 2


def test_garbage_instead_of_the_server(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    before = toy.connections
    proxy = fault_proxy("127.0.0.1", toy.port, garbage=b"\x16\x03\x01garbage!\r\n")
    with _connect(proxy.port) as sock:
        assert _read_until(sock, b"NEVER") == b"\x16\x03\x01garbage!\r\n"  # then EOF
    assert toy.connections == before  # the real server was never asked


def test_accept_and_hang(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    before = toy.connections
    proxy = fault_proxy("127.0.0.1", toy.port, accept_and_hang=True)
    with _connect(proxy.port, timeout=0.3) as sock:
        sock.sendall(b"PING\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(10)
        assert proxy.open_connections == 1
    assert proxy.wait_idle(2)
    assert toy.connections == before


def test_strip_starttls(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port, strip_starttls=True)
    with _connect(proxy.port) as sock:
        assert _read_until(sock, b"\r\n") == (
            b"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] toy ready\r\n"
        )
        sock.sendall(b"a1 CAPABILITY\r\n")
        assert _read_until(sock, b"a1 OK done\r\n") == (
            b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n"
        )
        sock.sendall(b"EHLO\r\n")
        assert _read_until(sock, b"8BITMIME\r\n") == (
            b"250-toy.example.test Hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        )
        sock.sendall(b"EHLO-LAST\r\n")
        assert _read_until(sock, b"SIZE 1000\r\n") == (
            b"250-toy.example.test Hello\r\n250 SIZE 1000\r\n"
        )
        sock.sendall(b"CAPA\r\n")
        assert _read_until(sock, b"\r\n.\r\n") == b"+OK capabilities\r\nUSER\r\nSASL PLAIN\r\n.\r\n"
    # without the behaviour the same server offers STARTTLS
    proxy.set(strip_starttls=False)
    with _connect(proxy.port) as sock:
        assert _read_until(sock, b"\r\n") == GREETING
        sock.sendall(b"EHLO-LAST\r\n")
        assert _read_until(sock, b"STARTTLS\r\n") == EHLO_LAST


def test_stripper_across_chunk_boundaries() -> None:
    stripper = StartTLSStripper()
    stream = EHLO + CAPABILITY + CAPA
    out = b"".join(stripper.feed(stream[i : i + 3]) for i in range(0, len(stream), 3))
    out += stripper.flush()
    assert b"STARTTLS" not in out and b"STLS" not in out
    assert out.count(b"\r\n") == stream.count(b"\r\n") - 2  # 250-STARTTLS and STLS
    # a partial line that is not text (a TLS record) passes at once
    assert StartTLSStripper().feed(b"\x16\x03\x03\x00\x10abc") == b"\x16\x03\x03\x00\x10abc"


def test_intercept_presents_the_corporate_ca(
    web: WebServer,
    fault_proxy: FaultProxyFactory,
    corporate_ca: TestCA,
    test_ca: TestCA,
) -> None:
    web.route("/", Response.text("behind the proxy"))
    proxy = fault_proxy("127.0.0.1", web.port, intercept=corporate_ca)
    trusting_corporate = ssl.create_default_context(cafile=str(corporate_ca.cert_path))
    with (
        _connect(proxy.port) as raw,
        trusting_corporate.wrap_socket(raw, server_hostname="imap.example.test") as tls,
    ):
        cert = tls.getpeercert()
        assert dict(x[0] for x in cert["issuer"])["commonName"] == corporate_ca.common_name
        assert ("DNS", "imap.example.test") in cert["subjectAltName"]
        tls.sendall(b"GET / HTTP/1.1\r\nHost: imap.example.test\r\nConnection: close\r\n\r\n")
        assert _read_until(tls, b"behind the proxy").endswith(b"behind the proxy")
    assert proxy.client_names == ["imap.example.test"]
    # the real server saw a TLS connection with the same name, made by the proxy
    assert web.requests[-1].sni == "imap.example.test"
    trusting_test_ca = ssl.create_default_context(cafile=str(test_ca.cert_path))
    with (
        _connect(proxy.port) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        trusting_test_ca.wrap_socket(raw, server_hostname="imap.example.test")
    # without SNI the certificate covers the loopback names
    with (
        _connect(proxy.port) as raw,
        trusting_corporate.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert ("IP Address", "127.0.0.1") in tls.getpeercert()["subjectAltName"]


def test_open_connections_are_counted(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port)
    clients = [_connect(proxy.port) for _ in range(3)]
    try:
        for sock in clients:
            assert _read_until(sock, b"\r\n") == GREETING
        assert proxy.open_connections == 3
        assert proxy.total_connections == 3
    finally:
        for sock in clients:
            sock.close()
    assert proxy.wait_idle(2)
    assert proxy.open_connections == 0
    assert proxy.total_connections == 3


def test_set_changes_new_connections_only(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy = fault_proxy("127.0.0.1", toy.port)
    with _connect(proxy.port) as old:
        assert _read_until(old, b"\r\n") == GREETING
        proxy.set(garbage=b"junk")
        with _connect(proxy.port) as new:
            assert _read_until(new, b"NEVER") == b"junk"
        old.sendall(b"PING\r\n")
        assert _read_until(old, b"\r\n") == b"PONG\r\n"


def test_close_ends_open_connections(toy: _ToyServer, fault_proxy: FaultProxyFactory) -> None:
    proxy: FaultProxy = fault_proxy.make("127.0.0.1", toy.port)
    sock = _connect(proxy.port)
    try:
        assert _read_until(sock, b"\r\n") == GREETING
        proxy.close()
        with contextlib.suppress(ConnectionResetError):  # EOF or reset: both end it
            assert sock.recv(10) == b""
        assert proxy.open_connections == 0
    finally:
        sock.close()
    with pytest.raises(OSError):
        _connect(proxy.port, timeout=0.5).close()
