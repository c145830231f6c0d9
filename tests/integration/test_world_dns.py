"""The test world's DNS server answers like a real authoritative server (checked with dnspython)."""

from __future__ import annotations

import asyncio
import time

import pytest
from dns import asyncresolver, message, query, rcode, rdatatype, resolver

from tests.world.dns import DNSServer


def _resolver(server: DNSServer, *, lifetime: float = 2.0) -> asyncresolver.Resolver:
    res = asyncresolver.Resolver(configure=False)
    res.nameservers = [server.host]
    res.port = server.port
    res.timeout = lifetime
    res.lifetime = lifetime
    res.cache = None
    return res


def _resolve(server: DNSServer, name: str, rtype: str, **kwargs: float) -> resolver.Answer:
    async def run() -> resolver.Answer:
        return await _resolver(server, **kwargs).resolve(name, rtype)

    return asyncio.run(run())


def test_mx_records_come_back_and_sort_by_priority(dns: DNSServer) -> None:
    dns.add("example.test", "MX", "20 mx2.example.test.")
    dns.add("example.test", "MX", "10 mx1.example.test")
    answer = _resolve(dns, "example.test", "MX")
    ordered = sorted(answer, key=lambda r: r.preference)
    assert [(r.preference, r.exchange.to_text()) for r in ordered] == [
        (10, "mx1.example.test."),
        (20, "mx2.example.test."),
    ]
    assert answer.rrset is not None and answer.rrset.ttl == 60
    assert ("example.test", "MX") in dns.queries


def test_srv_txt_a_aaaa(dns: DNSServer) -> None:
    dns.add("_imaps._tcp.example.test", "SRV", "0 1 993 imap.example.test.")
    dns.add("_caldavs._tcp.example.test", "TXT", "path=/dav/")
    dns.add("imap.example.test", "A", "127.0.0.1", ttl=300)
    dns.add("imap.example.test", "AAAA", "::1")
    srv = list(_resolve(dns, "_imaps._tcp.example.test", "SRV"))
    assert [(r.priority, r.weight, r.port, r.target.to_text()) for r in srv] == [
        (0, 1, 993, "imap.example.test.")
    ]
    txt = list(_resolve(dns, "_caldavs._tcp.example.test", "TXT"))
    assert [b"".join(r.strings) for r in txt] == [b"path=/dav/"]
    a = _resolve(dns, "imap.example.test", "A")
    assert [r.address for r in a] == ["127.0.0.1"]
    assert a.rrset is not None and a.rrset.ttl == 300
    assert [r.address for r in _resolve(dns, "imap.example.test", "AAAA")] == ["::1"]


def test_root_targets_for_null_mx_and_unoffered_srv(dns: DNSServer) -> None:
    dns.add("nomail.example.test", "MX", "0 .")
    dns.add("_pop3._tcp.example.test", "SRV", "0 0 0 .")
    (mx,) = _resolve(dns, "nomail.example.test", "MX")
    assert (mx.preference, mx.exchange.to_text()) == (0, ".")
    (srv,) = _resolve(dns, "_pop3._tcp.example.test", "SRV")
    assert (srv.port, srv.target.to_text()) == (0, ".")


def test_names_are_case_insensitive_and_the_dot_optional(dns: DNSServer) -> None:
    dns.add("Mixed.Example.TEST.", "A", "127.0.0.2")
    assert [r.address for r in _resolve(dns, "mixed.example.test", "A")] == ["127.0.0.2"]
    assert [r.address for r in _resolve(dns, "MIXED.example.Test.", "A")] == ["127.0.0.2"]


def test_cname_is_followed_in_the_zone(dns: DNSServer) -> None:
    dns.add("mail.example.test", "CNAME", "imap.example.test.")
    dns.add("imap.example.test", "A", "127.0.0.1")
    answer = _resolve(dns, "mail.example.test", "A")
    assert [r.address for r in answer] == ["127.0.0.1"]
    assert answer.canonical_name.to_text() == "imap.example.test."


def test_nxdomain_versus_nodata(dns: DNSServer) -> None:
    dns.add("_imaps._tcp.example.test", "SRV", "0 1 993 imap.example.test.")
    dns.add("example.test", "A", "127.0.0.1")
    with pytest.raises(resolver.NXDOMAIN):
        _resolve(dns, "nothing.example.test", "A")
    with pytest.raises(resolver.NoAnswer):  # the name exists, the type does not
        _resolve(dns, "example.test", "MX")
    with pytest.raises(resolver.NoAnswer):  # an empty non-terminal exists too
        _resolve(dns, "_tcp.example.test", "TXT")


def test_remove_and_clear_forget_records(dns: DNSServer) -> None:
    dns.add("gone.example.test", "A", "127.0.0.1")
    dns.add("gone.example.test", "MX", "10 mx.example.test.")
    dns.remove("gone.example.test", "MX")
    with pytest.raises(resolver.NoAnswer):
        _resolve(dns, "gone.example.test", "MX")
    dns.remove("gone.example.test")
    with pytest.raises(resolver.NXDOMAIN):
        _resolve(dns, "gone.example.test", "A")


def test_failure_modes(dns: DNSServer) -> None:
    dns.add("broken.example.test", "MX", "10 mx.example.test.")
    for mode, expected in (("SERVFAIL", rcode.SERVFAIL), ("REFUSED", rcode.REFUSED)):
        dns.remove("broken.example.test")
        dns.fail("broken.example.test", mode)
        reply = query.udp(
            message.make_query("broken.example.test", "MX"), dns.host, timeout=2, port=dns.port
        )
        assert reply.rcode() == expected
    dns.remove("broken.example.test")
    dns.add("broken.example.test", "MX", "10 mx.example.test.")
    dns.fail("broken.example.test", "NXDOMAIN")
    with pytest.raises(resolver.NXDOMAIN):
        _resolve(dns, "broken.example.test", "MX")
    dns.remove("broken.example.test")
    dns.fail("broken.example.test", "SERVFAIL")
    with pytest.raises(resolver.NoNameservers):  # how a resolver reports a SERVFAIL
        _resolve(dns, "broken.example.test", "MX")


def test_failure_for_one_type_only(dns: DNSServer) -> None:
    dns.add("half.example.test", "A", "127.0.0.1")
    dns.fail("half.example.test", "SERVFAIL", rtype="MX")
    assert [r.address for r in _resolve(dns, "half.example.test", "A")] == ["127.0.0.1"]
    with pytest.raises(resolver.NoNameservers):
        _resolve(dns, "half.example.test", "MX")


def test_timeout_never_answers(dns: DNSServer) -> None:
    dns.fail("slow.example.test", "TIMEOUT")
    started = time.monotonic()
    with pytest.raises(resolver.LifetimeTimeout):
        _resolve(dns, "slow.example.test", "A", lifetime=0.3)
    assert 0.25 < time.monotonic() - started < 3
    assert dns.queried("slow.example.test", "A")


def test_delay_slows_an_answer(dns: DNSServer) -> None:
    dns.add("late.example.test", "A", "127.0.0.1")
    dns.delay("late.example.test", 0.3)
    started = time.monotonic()
    assert [r.address for r in _resolve(dns, "late.example.test", "A")] == ["127.0.0.1"]
    assert time.monotonic() - started >= 0.3


def test_tcp_query(dns: DNSServer) -> None:
    dns.add("example.test", "MX", "10 mx1.example.test.")
    reply = query.tcp(message.make_query("example.test", "MX"), dns.host, timeout=2, port=dns.port)
    assert reply.rcode() == rcode.NOERROR
    assert [r.exchange.to_text() for r in reply.answer[0]] == ["mx1.example.test."]


def test_large_answer_is_truncated_over_udp_and_complete_over_tcp(dns: DNSServer) -> None:
    for i in range(12):
        dns.add("big.example.test", "TXT", f"record-{i:02d}-" + "x" * 100)
    udp = query.udp(
        message.make_query("big.example.test", "TXT", use_edns=False),
        dns.host,
        timeout=2,
        port=dns.port,
    )
    assert udp.flags & 0x0200  # TC
    assert not udp.answer
    # the resolver retries over TCP by itself
    txt = _resolve(dns, "big.example.test", "TXT")
    assert len(list(txt)) == 12
    assert ("big.example.test", "TXT") in dns.queries
    assert txt.rdtype == rdatatype.TXT


def test_dns_fixture_rolls_back_what_a_test_added(dns_server: DNSServer, dns: DNSServer) -> None:
    assert dns is dns_server
    assert dns.queries == []
    assert not dns.records("rollback.example.test")
    dns.add("rollback.example.test", "A", "127.0.0.1")
    dns.fail("other.example.test", "TIMEOUT")
    state = dns.snapshot()
    assert "rollback.example.test" in state.records
    assert "other.example.test" in state.failures


def test_rolled_back_by_now(dns: DNSServer) -> None:
    # runs after the test above in file order: nothing of it is left
    assert not dns.records("rollback.example.test")
    assert "other.example.test" not in dns.snapshot().failures


def test_bad_values_are_refused_when_added(dns: DNSServer) -> None:
    with pytest.raises(ValueError):
        dns.add("example.test", "MX", "mx-without-priority.example.test.")
    with pytest.raises(ValueError):
        dns.fail("example.test", "BROKEN")
