"""The MX source (app/core/discovery/mx.py) against the test world's real DNS server: the
catalog's MX patterns recognise hosted custom domains, and every DNS failure ends in a
specific finding within the timeout."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.core.discovery.base import DiscoveryContext, SourceOutcome, SourceReport
from app.core.discovery.mx import MxSource
from app.core.model import AuthKind, EmailAddress, Outcome, Security, Trust
from app.core.net import Network, NetworkOptions, parse_dns_server
from app.core.texts import render
from tests.world.dns import DNSServer

pytestmark = pytest.mark.world


def network(dns: DNSServer, timeout: float = 5.0) -> Network:
    return Network(
        NetworkOptions(
            dns_server=parse_dns_server(dns.address), system_proxy=False, timeout=timeout
        )
    )


def run_mx(net: Network, address: str, limit: float = 10.0) -> SourceReport:
    async def go() -> SourceReport:
        context = DiscoveryContext(address=EmailAddress.parse(address), net=net)
        try:
            async with asyncio.timeout(limit):
                return await MxSource().run(context)
        finally:
            context.close()

    return asyncio.run(go())


def codes(report: SourceReport) -> list[str]:
    return [f.code for f in report.findings]


def test_mx_records_are_used_in_numeric_preference_order(dns: DNSServer) -> None:
    # Given out of order; as text "10" < "20" < "5" would pick Google (Thunderbird's bug).
    dns.add("order.example.test", "MX", "10 aspmx.l.google.com")
    dns.add("order.example.test", "MX", "5 order-example-test.mail.protection.outlook.com")
    dns.add("order.example.test", "MX", "20 mx01.mail.icloud.com")
    report = run_mx(network(dns), "taro@order.example.test")
    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None and report.provider.id == "microsoft365"
    assert [m["host"] for m in report.data["mx"]] == [  # type: ignore[index, union-attr]
        "order-example-test.mail.protection.outlook.com",
        "aspmx.l.google.com",
        "mx01.mail.icloud.com",
    ]
    assert dns.queried("order.example.test", "MX")


def test_microsoft_365_tenant_mx_is_not_outlook_com(dns: DNSServer) -> None:
    dns.add("contoso.example.test", "MX", "0 contoso-example-test.mail.protection.outlook.com")
    report = run_mx(network(dns), "taro@contoso.example.test")
    assert report.provider is not None and report.provider.id == "microsoft365"
    best = report.candidates[0]
    assert best.auth is AuthKind.OAUTH2_MICROSOFT
    assert (best.incoming.host, best.incoming.port) == ("outlook.office365.com", 993)
    assert best.outgoing is not None and best.outgoing.host == "smtp.office365.com"
    assert best.incoming.username == "taro@contoso.example.test"
    assert best.provenance.source == "mx"
    assert best.provenance.trust is Trust.HIGH
    assert "contoso-example-test.mail.protection.outlook.com" in (best.provenance.detail or "")
    assert report.data["lookup_keys"] == [
        "contoso-example-test.mail.protection.outlook.com",
        "mail.protection.outlook.com",
        "outlook.com",
    ]
    # and the consumer service's MX is Outlook.com, with its own SMTP host
    dns.add("personal.example.test", "MX", "10 eur.olc.protection.outlook.com")
    personal = run_mx(network(dns), "hanako@personal.example.test")
    assert personal.provider is not None and personal.provider.id == "outlook"
    assert personal.candidates[0].outgoing is not None
    assert personal.candidates[0].outgoing.host == "smtp-mail.outlook.com"


def test_google_workspace_custom_domain(dns: DNSServer) -> None:
    dns.add("shop.example.test", "MX", "1 aspmx.l.google.com")
    dns.add("shop.example.test", "MX", "5 alt1.aspmx.l.google.com")
    dns.add("shop.example.test", "MX", "10 aspmx2.googlemail.com")
    report = run_mx(network(dns), "owner@shop.example.test")
    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None and report.provider.id == "google"
    best = report.candidates[0]
    assert (best.incoming.host, best.incoming.port, best.incoming.security) == (
        "imap.gmail.com",
        993,
        Security.TLS,
    )
    assert best.incoming.username == "owner@shop.example.test"
    assert (
        best.caldav
        == "https://apidata.googleusercontent.com/caldav/v2/owner@shop.example.test/user"
    )
    assert best.auth is AuthKind.OAUTH2_GOOGLE
    assert "MX aspmx.l.google.com (preference 1)" in (best.provenance.detail or "")
    assert codes(report) == ["discovery.mx.provider"]
    assert report.findings[0].outcome is Outcome.OK
    assert "Gmail" in render(report.findings[0].cause, "en", strict=True)


def test_icloud_custom_domain_leaves_the_user_name_to_the_person(dns: DNSServer) -> None:
    dns.add("family.example.test", "MX", "10 mx01.mail.icloud.com")
    dns.add("family.example.test", "MX", "10 mx02.mail.icloud.com")
    report = run_mx(network(dns), "hanako@family.example.test")
    assert report.provider is not None and report.provider.id == "icloud"
    (config,) = report.candidates
    assert config.incoming.host == "imap.mail.me.com"
    assert config.incoming.username is None
    assert config.outgoing is not None and config.outgoing.username is None
    hint = config.hints[0]
    assert hint.key == "discovery.catalog.ask-username"
    assert "@icloud.com" in render(hint, "en", strict=True)
    assert "@icloud.com" in render(hint, "ja", strict=True)


def test_fastmail_hosted_domain(dns: DNSServer) -> None:
    dns.add("writer.example.test", "MX", "10 in1-smtp.messagingengine.com")
    dns.add("writer.example.test", "MX", "20 in2-smtp.messagingengine.com")
    report = run_mx(network(dns), "me@writer.example.test")
    assert report.provider is not None and report.provider.id == "fastmail"
    assert report.candidates[0].incoming.host == "imap.fastmail.com"


def test_a_provider_domain_found_by_mx_gets_its_domain_settings(dns: DNSServer) -> None:
    # icloud.com itself has iCloud's MX: its users are not custom-domain users.
    dns.add("icloud.com", "MX", "10 mx01.mail.icloud.com")
    report = run_mx(network(dns), "taro@icloud.com")
    assert [c.incoming.username for c in report.candidates] == ["taro", "taro@icloud.com"]


def test_unknown_mx_hosts_give_nothing_but_lookup_keys(dns: DNSServer) -> None:
    dns.add("plain.example.test", "MX", "10 mx1.eu.hoster.test")
    dns.add("plain.example.test", "MX", "20 mx2.eu.hoster.test")
    report = run_mx(network(dns), "taro@plain.example.test")
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == () and report.provider is None
    # keys of the most preferred MX host, for the ISPDB source
    assert report.data["lookup_keys"] == ["mx1.eu.hoster.test", "eu.hoster.test", "hoster.test"]


def test_null_mx_says_the_domain_accepts_no_mail(dns: DNSServer) -> None:
    dns.add("nomail.example.test", "MX", "0 .")
    report = run_mx(network(dns), "taro@nomail.example.test")
    assert report.outcome is SourceOutcome.NOTHING
    assert codes(report) == ["discovery.mx.null-mx"]
    assert report.findings[0].outcome is Outcome.ERROR
    assert "accepts no email" in render(report.findings[0].cause, "en", strict=True)


def test_nxdomain_says_the_domain_does_not_exist_and_suggests_a_fix(dns: DNSServer) -> None:
    report = run_mx(network(dns), "taro@gmial.com")  # unknown to the world's DNS: NXDOMAIN
    assert report.outcome is SourceOutcome.NOTHING
    assert codes(report) == ["discovery.mx.nxdomain"]
    finding = report.findings[0]
    assert finding.detail["suggestion"] == "taro@gmail.com"
    assert report.data["suggestion"] == "taro@gmail.com"
    assert "taro@gmail.com" in render(finding.fix, "ja", strict=True)  # type: ignore[arg-type]
    plain = run_mx(network(dns), "taro@nowhere.example.test")
    assert codes(plain) == ["discovery.mx.nxdomain"]
    assert "suggestion" not in plain.data


def test_servfail_is_a_specific_failure(dns: DNSServer) -> None:
    dns.add("broken.example.test", "A", "127.0.0.1")
    dns.fail("broken.example.test", "SERVFAIL", "MX")
    report = run_mx(network(dns), "taro@broken.example.test")
    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == ["discovery.mx.servfail"]
    assert "SERVFAIL" in render(report.findings[0].cause, "en", strict=True)


def test_timeout_ends_within_the_timeout(dns: DNSServer) -> None:
    dns.fail("silent.example.test", "TIMEOUT", "MX")
    started = time.monotonic()
    report = run_mx(network(dns, timeout=0.6), "taro@silent.example.test")
    elapsed = time.monotonic() - started
    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == ["discovery.mx.timeout"]
    assert "0.6 seconds" in render(report.findings[0].cause, "en", strict=True)
    assert elapsed < 0.6 + 0.5


def test_nodata_means_no_mx_record(dns: DNSServer) -> None:
    dns.add("web-only.example.test", "A", "127.0.0.1")
    report = run_mx(network(dns), "taro@web-only.example.test")
    assert report.outcome is SourceOutcome.NOTHING
    assert codes(report) == ["discovery.mx.no-mx"]
    assert report.findings[0].outcome is Outcome.INFO


def test_refused_is_reported_with_its_problem(dns: DNSServer) -> None:
    dns.fail("refusing.example.test", "REFUSED", "MX")
    report = run_mx(network(dns), "taro@refusing.example.test")
    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == ["discovery.mx.failed"]
    assert report.findings[0].detail["problem"] == "refused"


def test_offline_skips(dns: DNSServer) -> None:
    report = run_mx(Network(NetworkOptions(offline=True)), "taro@family.example.test")
    assert report.outcome is SourceOutcome.SKIPPED
    assert not dns.queries
