"""The network seam's DNS and address resolution against the test world's DNS server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import pytest

from app.core.errors import DNSError, DNSFailure, NetworkError
from app.core.net import (
    DNS_REFUSED,
    DNS_SERVFAIL,
    DNS_TIMEOUT,
    DNS_UNREACHABLE,
    MXRecord,
    Network,
    NetworkOptions,
    SRVRecord,
    parse_dns_server,
    parse_resolve,
)
from tests.world.dns import DNSServer
from tests.world.proc import free_udp_port

T = TypeVar("T")


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def network(dns: DNSServer, **options: object) -> Network:
    return Network(NetworkOptions(dns_server=parse_dns_server(dns.address), **options))  # type: ignore[arg-type]


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that greets each connection with its own port number."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(f"port {port}\r\n".encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_mx_is_sorted_numerically_by_preference(dns: DNSServer) -> None:
    for value in ("100 mx100.example.test", "20 mx20.example.test", "5 mx5.example.test"):
        dns.add("example.test", "MX", value)
    records = run(network(dns).mx("Example.TEST"))
    # "100" sorts before "20" as text: the order must be the numbers'
    assert records == [
        MXRecord(5, "mx5.example.test"),
        MXRecord(20, "mx20.example.test"),
        MXRecord(100, "mx100.example.test"),
    ]
    assert dns.queried("example.test", "MX")


def test_null_mx_is_recognised(dns: DNSServer) -> None:
    dns.add("nomail.example.test", "MX", "0 .")
    (record,) = run(network(dns).mx("nomail.example.test"))
    assert record.is_null


def test_srv_is_sorted_by_priority_then_weight(dns: DNSServer) -> None:
    name = "_imaps._tcp.example.test"
    for value in (
        "20 100 993 backup.example.test",
        "10 5 993 light.example.test",
        "10 60 993 heavy.example.test",
        "10 60 1993 heavy.example.test",
    ):
        dns.add(name, "SRV", value)
    records = run(network(dns).srv(name))
    assert records == [
        SRVRecord(10, 60, 993, "heavy.example.test"),
        SRVRecord(10, 60, 1993, "heavy.example.test"),
        SRVRecord(10, 5, 993, "light.example.test"),
        SRVRecord(20, 100, 993, "backup.example.test"),
    ]


def test_srv_dot_target_means_not_offered(dns: DNSServer) -> None:
    dns.add("_pop3._tcp.example.test", "SRV", "0 0 0 .")
    (record,) = run(network(dns).srv("_pop3._tcp.example.test"))
    assert record.unavailable


def test_txt_joins_each_records_strings(dns: DNSServer) -> None:
    dns.add("example.test", "TXT", ["v=spf1 ", "include:spf.example.test -all"])
    dns.add("example.test", "TXT", "mailconf=https://autoconfig.example.test/")
    records = run(network(dns).txt("example.test"))
    assert sorted(records) == [
        "mailconf=https://autoconfig.example.test/",
        "v=spf1 include:spf.example.test -all",
    ]


def test_large_answers_come_whole_over_tcp(dns: DNSServer) -> None:
    values = [f"record-{i:03d}-" + "x" * 40 for i in range(60)]  # far beyond 512 bytes
    for value in values:
        dns.add("big.example.test", "TXT", value)
    assert sorted(run(network(dns).txt("big.example.test"))) == values


def test_a_and_aaaa(dns: DNSServer) -> None:
    dns.add("mail.example.test", "A", "127.0.0.2")
    dns.add("mail.example.test", "AAAA", "::1")
    net = network(dns)
    assert run(net.a("mail.example.test")) == ["127.0.0.2"]
    assert run(net.aaaa("mail.example.test")) == ["::1"]


def test_nxdomain_is_not_found(dns: DNSServer) -> None:
    with pytest.raises(DNSError) as caught:
        run(network(dns).mx("missing.example.test"))
    assert caught.value.failure is DNSFailure.NOT_FOUND
    assert caught.value.detail["host"] == "missing.example.test"


def test_name_without_that_type_is_no_answer(dns: DNSServer) -> None:
    dns.add("www.example.test", "A", "127.0.0.1")
    with pytest.raises(DNSError) as caught:
        run(network(dns).mx("www.example.test"))
    assert caught.value.failure is DNSFailure.NO_ANSWER


@pytest.mark.parametrize(
    ("mode", "problem"), [("SERVFAIL", DNS_SERVFAIL), ("REFUSED", DNS_REFUSED)]
)
def test_server_failures(dns: DNSServer, mode: str, problem: str) -> None:
    dns.fail("broken.example.test", mode)
    with pytest.raises(DNSError) as caught:
        run(network(dns).mx("broken.example.test"))
    assert caught.value.failure is DNSFailure.FAILED
    assert caught.value.detail["problem"] == problem
    assert caught.value.detail["dns_server"] == dns.address


def test_forced_nxdomain(dns: DNSServer) -> None:
    dns.add("gone.example.test", "MX", "10 mx.example.test")
    dns.fail("gone.example.test", "NXDOMAIN")
    with pytest.raises(DNSError) as caught:
        run(network(dns).mx("gone.example.test"))
    assert caught.value.failure is DNSFailure.NOT_FOUND


def test_a_silent_server_times_out_within_the_timeout(dns: DNSServer) -> None:
    dns.fail("slow.example.test", "TIMEOUT")
    started = time.monotonic()
    with pytest.raises(DNSError) as caught:
        run(network(dns, timeout=0.6).mx("slow.example.test"))
    elapsed = time.monotonic() - started
    assert caught.value.failure is DNSFailure.FAILED
    assert caught.value.detail["problem"] == DNS_TIMEOUT
    assert 0.5 <= elapsed < 3.0


def test_a_dns_server_that_is_not_there(dns: DNSServer) -> None:
    port = free_udp_port()
    net = Network(NetworkOptions(dns_server=parse_dns_server(f"127.0.0.1:{port}"), timeout=0.5))
    started = time.monotonic()
    with pytest.raises(DNSError) as caught:
        run(net.mx("example.test"))
    assert caught.value.failure is DNSFailure.FAILED
    assert caught.value.detail["problem"] in (DNS_UNREACHABLE, DNS_TIMEOUT)
    assert time.monotonic() - started < 2.5


def test_offline_mode_asks_nobody(dns: DNSServer) -> None:
    dns.add("example.test", "MX", "10 mx.example.test")
    with pytest.raises(NetworkError) as caught:
        run(network(dns, offline=True).mx("example.test"))
    assert caught.value.code == "network.offline"
    assert not dns.queried("example.test")


# --- where TCP connections go ------------------------------------------------------------------


def test_connect_uses_the_dns_servers_addresses(dns: DNSServer, echo_port: int) -> None:
    dns.add("imap.example.test", "A", "127.0.0.1")

    async def go() -> tuple[str, tuple[str, int], bytes]:
        net = network(dns)
        async with await net.connect("imap.example.test", echo_port) as conn:
            return conn.target.via, conn.peer, await conn.readline()

    via, peer, greeting = run(go())
    assert via == "dns-server"
    assert peer == ("127.0.0.1", echo_port)
    assert greeting == f"port {echo_port}\r\n".encode()


def test_an_override_comes_before_dns(dns: DNSServer, echo_port: int) -> None:
    dns.add("imap.example.test", "A", "127.0.0.9")  # nothing listens there
    net = network(dns, resolve=(parse_resolve(f"imap.example.test:993:127.0.0.1:{echo_port}"),))
    target = run(net.resolve("imap.example.test", 993))
    assert target.addresses == (("127.0.0.1", echo_port),)
    assert target.overridden
    assert not dns.queried("imap.example.test")


def test_an_ip_literal_is_used_as_is(dns: DNSServer) -> None:
    target = run(network(dns).resolve("[::1]", 993))
    assert target.addresses == (("::1", 993),)
    assert target.via == "literal"
    assert dns.queries == []


def test_an_override_applies_to_an_ip_address_too(dns: DNSServer) -> None:
    net = network(dns, resolve=(parse_resolve("192.0.2.10:993:127.0.0.1:1993"),))
    target = run(net.resolve("192.0.2.10", 993))
    assert target.addresses == (("127.0.0.1", 1993),)
    assert target.overridden


def test_both_families_are_tried_in_turn(dns: DNSServer, echo_port: int) -> None:
    # ::1 has nothing on this port (refused), 127.0.0.1 answers: the connection still works
    dns.add("dual.example.test", "AAAA", "::1")
    dns.add("dual.example.test", "A", "127.0.0.1")

    async def go() -> tuple[tuple[tuple[str, int], ...], tuple[str, int]]:
        net = network(dns)
        target = await net.resolve("dual.example.test", echo_port)
        async with await net.connect("dual.example.test", echo_port) as conn:
            return target.addresses, conn.peer

    addresses, peer = run(go())
    assert addresses == (("::1", echo_port), ("127.0.0.1", echo_port))
    assert peer == ("127.0.0.1", echo_port)


def test_a_name_without_addresses_fails_as_dns(dns: DNSServer) -> None:
    dns.add("noaddr.example.test", "MX", "10 mx.example.test")
    with pytest.raises(DNSError) as caught:
        run(network(dns).connect("noaddr.example.test", 993))
    assert caught.value.failure is DNSFailure.NO_ANSWER
    with pytest.raises(DNSError) as caught:
        run(network(dns).connect("nothing.example.test", 993))
    assert caught.value.failure is DNSFailure.NOT_FOUND
