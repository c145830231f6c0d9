"""The SRV source (app/core/discovery/srv.py) against the test world's real DNS server:
RFC 6186 mail records, RFC 6764 CalDAV/CardDAV records with TXT paths, record choice,
"not offered" targets, plain ports made STARTTLS, and failures."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.core.discovery.base import DiscoveryContext, SourceOutcome, SourceReport
from app.core.discovery.srv import DAV_SERVICES, MAIL_SERVICES, SrvSource
from app.core.model import AuthKind, EmailAddress, Endpoint, Outcome, Security, Trust
from app.core.net import Network, NetworkOptions, parse_dns_server
from app.core.texts import render
from tests.world.dns import DNSServer

pytestmark = pytest.mark.world

DOMAIN = "srv.example.test"
ADDRESS = f"taro@{DOMAIN}"


def network(dns: DNSServer, timeout: float = 5.0) -> Network:
    return Network(
        NetworkOptions(
            dns_server=parse_dns_server(dns.address), system_proxy=False, timeout=timeout
        )
    )


def run_srv(net: Network, address: str = ADDRESS, limit: float = 10.0) -> SourceReport:
    async def go() -> SourceReport:
        context = DiscoveryContext(address=EmailAddress.parse(address), net=net)
        try:
            async with asyncio.timeout(limit):
                return await SrvSource().run(context)
        finally:
            context.close()

    return asyncio.run(go())


def codes(report: SourceReport) -> list[str]:
    return [f.code for f in report.findings]


def srv(dns: DNSServer, label: str, value: str, domain: str = DOMAIN) -> None:
    dns.add(f"{label}.{domain}", "SRV", value)


def test_the_full_set(dns: DNSServer) -> None:
    srv(dns, "_imaps._tcp", f"0 1 993 imap.{DOMAIN}")
    srv(dns, "_imap._tcp", f"0 1 143 imap.{DOMAIN}")
    srv(dns, "_pop3s._tcp", f"10 1 995 pop.{DOMAIN}")
    srv(dns, "_pop3._tcp", f"10 1 110 pop.{DOMAIN}")
    srv(dns, "_submissions._tcp", f"0 1 465 smtp.{DOMAIN}")
    srv(dns, "_submission._tcp", f"0 1 587 smtp.{DOMAIN}")
    srv(dns, "_caldavs._tcp", f"0 1 443 dav.{DOMAIN}")
    dns.add(f"_caldavs._tcp.{DOMAIN}", "TXT", "path=/calendars/")
    srv(dns, "_carddavs._tcp", f"0 1 8443 dav.{DOMAIN}")  # no TXT: the well-known path
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.FOUND
    best = report.candidates[0]
    assert best.incoming == Endpoint("imap", f"imap.{DOMAIN}", 993, "tls", ADDRESS)
    assert best.outgoing == Endpoint("smtp", f"smtp.{DOMAIN}", 465, "tls", ADDRESS)
    assert best.caldav == f"https://dav.{DOMAIN}/calendars/"
    assert best.carddav == f"https://dav.{DOMAIN}:8443/.well-known/carddav"
    assert best.auth is AuthKind.PASSWORD
    assert best.provenance.source == "srv"
    assert best.provenance.trust is Trust.MEDIUM
    assert f"_imaps._tcp.{DOMAIN}: 0 1 993 imap.{DOMAIN}" in (best.provenance.detail or "")
    assert [h.key for h in best.hints] == ["discovery.srv.username-assumed"]
    assert render(best.hints[0], "ja", strict=True)
    # every server appears: the incoming ones with the preferred SMTP, then the other SMTP
    servers = [
        (c.incoming.protocol.value, c.incoming.port, c.incoming.security.value, c.outgoing.port)
        for c in report.candidates
        if c.outgoing is not None
    ]
    assert servers == [
        ("imap", 993, "tls", 465),
        ("imap", 143, "starttls", 465),
        ("pop3", 995, "tls", 465),
        ("pop3", 110, "starttls", 465),
        ("imap", 993, "tls", 587),
    ]
    assert all(c.incoming.security is not Security.PLAIN for c in report.candidates)
    # every name was asked, SRV and the DAV TXT records
    for service in (*MAIL_SERVICES, *DAV_SERVICES):
        assert dns.queried(f"{service.label}.{DOMAIN}", "SRV"), service.label
    assert dns.queried(f"_caldavs._tcp.{DOMAIN}", "TXT")
    assert report.data["caldav"] == best.caldav


def test_lowest_priority_then_highest_weight_wins(dns: DNSServer) -> None:
    srv(dns, "_imaps._tcp", f"10 100 993 backup.{DOMAIN}")
    srv(dns, "_imaps._tcp", f"0 5 993 light.{DOMAIN}")
    srv(dns, "_imaps._tcp", f"0 60 9993 heavy.{DOMAIN}")
    srv(dns, "_submissions._tcp", f"0 0 465 smtp.{DOMAIN}")
    report = run_srv(network(dns))
    assert report.candidates[0].incoming.host == f"heavy.{DOMAIN}"
    assert report.candidates[0].incoming.port == 9993


def test_pop_first_when_its_priority_is_lower(dns: DNSServer) -> None:
    srv(dns, "_imaps._tcp", f"20 0 993 imap.{DOMAIN}")
    srv(dns, "_pop3s._tcp", f"10 0 995 pop.{DOMAIN}")
    srv(dns, "_submissions._tcp", f"0 0 465 smtp.{DOMAIN}")
    report = run_srv(network(dns))
    assert [c.incoming.protocol.value for c in report.candidates] == ["pop3", "imap"]


def test_dot_target_means_not_offered(dns: DNSServer) -> None:
    srv(dns, "_imaps._tcp", "0 0 0 .")
    srv(dns, "_imap._tcp", "0 0 0 .")
    srv(dns, "_pop3s._tcp", f"0 0 995 pop.{DOMAIN}")
    srv(dns, "_submissions._tcp", f"0 0 465 smtp.{DOMAIN}")
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.FOUND
    assert [c.incoming.host for c in report.candidates] == [f"pop.{DOMAIN}"]
    assert codes(report) == ["discovery.srv.not-offered"]
    finding = report.findings[0]
    assert finding.detail["services"] == "_imaps._tcp, _imap._tcp"
    assert "_imap._tcp" in render(finding.cause, "en", strict=True)
    assert report.data["not_offered"] == ["_imaps._tcp", "_imap._tcp"]


def test_nothing_offered_at_all(dns: DNSServer) -> None:
    for service in MAIL_SERVICES:
        srv(dns, service.label, "0 0 0 .")
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == ()
    assert codes(report) == ["discovery.srv.not-offered"]


def test_a_plain_port_becomes_starttls_never_plain_text(dns: DNSServer) -> None:
    srv(dns, "_imap._tcp", f"0 0 143 mail.{DOMAIN}")
    srv(dns, "_submission._tcp", f"0 0 587 mail.{DOMAIN}")
    report = run_srv(network(dns))
    (config,) = report.candidates
    assert config.incoming == Endpoint("imap", f"mail.{DOMAIN}", 143, "starttls", ADDRESS)
    assert config.outgoing == Endpoint("smtp", f"mail.{DOMAIN}", 587, "starttls", ADDRESS)
    assert "STARTTLS assumed for _imap._tcp" in (config.provenance.detail or "")
    assert "_submission._tcp on" not in (config.provenance.detail or "")
    assert codes(report) == ["discovery.srv.starttls-assumed"]
    assert report.findings[0].outcome is Outcome.INFO


def test_imap_without_submission_has_no_outgoing_server(dns: DNSServer) -> None:
    srv(dns, "_imaps._tcp", f"0 0 993 imap.{DOMAIN}")
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.FOUND
    (config,) = report.candidates
    assert config.outgoing is None
    assert codes(report) == ["discovery.srv.no-submission"]
    assert report.findings[0].outcome is Outcome.WARNING
    assert render(report.findings[0].fix, "ja", strict=True)  # type: ignore[arg-type]


def test_dav_only_gives_no_candidate_but_the_urls(dns: DNSServer) -> None:
    srv(dns, "_carddavs._tcp", f"0 0 443 contacts.{DOMAIN}")
    dns.add(f"_carddavs._tcp.{DOMAIN}", "TXT", "path=/dav/contacts/")
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.NOTHING
    assert report.data["carddav"] == f"https://contacts.{DOMAIN}/dav/contacts/"
    assert report.data["caldav"] is None
    assert codes(report) == ["discovery.srv.no-incoming"]


def test_no_srv_records_at_all(dns: DNSServer) -> None:
    dns.add(DOMAIN, "A", "127.0.0.1")
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == () and report.findings == ()
    assert report.detail == f"no SRV records for {DOMAIN}"
    assert dns.queried(f"_imaps._tcp.{DOMAIN}", "SRV")
    assert dns.queried(f"_submission._tcp.{DOMAIN}", "SRV")


def test_servfail_is_reported_and_fails_when_nothing_was_found(dns: DNSServer) -> None:
    dns.fail(f"_imaps._tcp.{DOMAIN}", "SERVFAIL")
    report = run_srv(network(dns))
    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == ["discovery.srv.dns-failed"]
    assert report.findings[0].detail["names"] == f"_imaps._tcp.{DOMAIN}"
    assert report.findings[0].detail["problems"] == "servfail"
    # with an answer from another record, the answer stands and the failure is still told
    srv(dns, "_imap._tcp", f"0 0 143 imap.{DOMAIN}")
    partial = run_srv(network(dns))
    assert partial.outcome is SourceOutcome.FOUND
    assert "discovery.srv.dns-failed" in codes(partial)


def test_queries_run_concurrently_and_a_timeout_ends_in_time(dns: DNSServer) -> None:
    for service in (*MAIL_SERVICES, *DAV_SERVICES):
        dns.delay(f"{service.label}.{DOMAIN}", 0.3)
    srv(dns, "_imaps._tcp", f"0 0 993 imap.{DOMAIN}")
    started = time.monotonic()
    report = run_srv(network(dns))
    elapsed = time.monotonic() - started
    assert report.outcome is SourceOutcome.FOUND
    assert elapsed < 1.2  # eight delayed queries one after another would take 2.4 s
    for service in MAIL_SERVICES:
        dns.fail(f"{service.label}.{DOMAIN}", "TIMEOUT")
    started = time.monotonic()
    silent = run_srv(network(dns, timeout=0.5))
    elapsed = time.monotonic() - started
    assert silent.outcome is SourceOutcome.FAILED
    assert codes(silent) == ["discovery.srv.dns-failed"]
    assert silent.findings[0].detail["problems"] == "timeout"
    assert elapsed < 0.5 + 0.5


def test_offline_skips(dns: DNSServer) -> None:
    report = run_srv(Network(NetworkOptions(offline=True)))
    assert report.outcome is SourceOutcome.SKIPPED
    assert not dns.queries


def test_cancelling_stops_every_query_at_once(dns: DNSServer) -> None:
    for service in (*MAIL_SERVICES, *DAV_SERVICES):
        dns.delay(f"{service.label}.{DOMAIN}", 2.0)

    async def go() -> float:
        context = DiscoveryContext(address=EmailAddress.parse(ADDRESS), net=network(dns))
        task = asyncio.ensure_future(SrvSource().run(context))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    assert asyncio.run(asyncio.wait_for(go(), 5)) < 0.2
