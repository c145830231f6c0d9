"""The ISPDB source against the test world: a web server plays the ISPDB (and the mail-hosting
companies' autoconfig hosts), the world's DNS server holds the MX records."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import pytest

from app.core.discovery.base import SourceOutcome, SourceReport
from app.core.discovery.ispdb import IspdbSource, ispdb_url, mx_keys
from app.core.model import Finding, Outcome, Protocol, Trust
from app.core.texts import render
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.scenarios_autoconfig import (
    AUTOCONFIG_PATH,
    ISPDB_HOST,
    ISPDB_PATH,
    PUBLIC_ISPDB_HOST,
    DiscoveryWorld,
    hosting_config,
    isp_config,
    jp_pop_isp_config,
    plain_requests_with,
    resolve_to,
    serve_ispdb,
    trust_host,
)
from tests.world.web import Response, WebServer, delayed

T = TypeVar("T")


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def detect(world: DiscoveryWorld, address: str, **options: object) -> SourceReport:
    return run(IspdbSource().run(world.context(address, **options)))


def finding(report: SourceReport, code: str) -> Finding:
    """The report's finding ``code``; every finding and hint must render in both languages."""
    for language in ("en", "ja"):
        for item in report.findings:
            for text in (item.checked, item.cause, item.fix):
                if text is not None:
                    assert render(text, language, strict=True)
        for candidate in report.candidates:
            for hint in candidate.hints:
                assert render(hint, language, strict=True)
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} in {[f.code for f in report.findings]}"
    return found[0]


def ispdb_paths(web: WebServer) -> list[str]:
    return [r.path for r in web.requests if r.host == ISPDB_HOST]


@pytest.fixture
def world(
    web: WebServer, plain_web: WebServer, dns: DNSServer, test_ca: TestCA
) -> Iterator[DiscoveryWorld]:
    yield DiscoveryWorld(web, test_ca, dns=dns, plain_web=plain_web)


# --- by domain -----------------------------------------------------------------------------------


def test_exact_domain(world: DiscoveryWorld, web: WebServer) -> None:
    world.serve_ispdb("example.jp.test", jp_pop_isp_config())
    report = detect(world, "hanako@example.jp.test")
    assert report.outcome is SourceOutcome.FOUND
    best = report.candidates[0]
    assert best.incoming.protocol is Protocol.POP3
    assert best.incoming.username == "hanako"
    assert best.provenance.source == "ispdb"
    assert best.provenance.trust is Trust.HIGH
    assert best.provenance.over_https
    assert best.provenance.url == f"https://{ISPDB_HOST}{ISPDB_PATH}example.jp.test"
    assert best.provenance.detail == "domain example.jp.test"
    assert report.data["matched"] == "example.jp.test"
    assert report.findings == ()
    # only domain names go to the ISPDB, never the address
    assert plain_requests_with(web, ("hanako",)) == []
    assert all(not r.query for r in web.requests)


def test_the_default_ispdb_url(world: DiscoveryWorld, web: WebServer) -> None:
    url = world.use_public_ispdb()
    assert url == "https://live.thunderbird.net/autoconfig/v1.1/"
    serve_ispdb(web, "example.test", isp_config(), host=PUBLIC_ISPDB_HOST)
    report = detect(world, "user@example.test")
    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].provenance.url == f"{url}example.test"
    (request,) = web.requests_to("/autoconfig/v1.1/example.test", host=PUBLIC_ISPDB_HOST)
    assert request.sni == PUBLIC_ISPDB_HOST


def test_a_mirror_with_a_domain_placeholder(world: DiscoveryWorld, web: WebServer) -> None:
    web.route("/mirror/example.test.xml", Response.xml(isp_config()), host=ISPDB_HOST)
    report = detect(
        world,
        "user@example.test",
        ispdb_url=f"https://{ISPDB_HOST}/mirror/{{{{domain}}}}.xml",
    )
    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].provenance.trust is Trust.HIGH


def test_not_in_the_ispdb_is_nothing(world: DiscoveryWorld, web: WebServer) -> None:
    report = detect(world, "user@example.test")
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == ()
    assert [f.code for f in report.findings] == ["discovery.ispdb.not-found"]
    assert finding(report, "discovery.ispdb.not-found").outcome is Outcome.INFO
    assert ispdb_paths(web) == [f"{ISPDB_PATH}example.test"]  # no MX, no other keys


def test_an_http_mirror_is_used_but_flagged(
    world: DiscoveryWorld, plain_web: WebServer, web: WebServer
) -> None:
    mirror = serve_ispdb(plain_web, "example.test", isp_config(), host="ispdb.corp.test")
    world.add(resolve_to(plain_web, "ispdb.corp.test"))
    report = detect(world, "user@example.test", ispdb_url=mirror)
    assert mirror == "http://ispdb.corp.test/autoconfig/v1.1/"
    assert report.outcome is SourceOutcome.FOUND
    for candidate in report.candidates:
        assert candidate.provenance.trust is Trust.LOW
        assert not candidate.provenance.over_https
        assert "unprotected" in render(candidate.hints[0])
    warning = finding(report, "discovery.ispdb.plain-http")
    assert warning.outcome is Outcome.WARNING
    assert render(warning.cause, "ja")
    assert plain_requests_with(plain_web, ("user@", "user%40")) == []


def test_ispdb_server_error_is_a_finding(world: DiscoveryWorld, web: WebServer) -> None:
    web.route(f"{ISPDB_PATH}example.test", Response.text("maintenance\n", 503), host=ISPDB_HOST)
    report = detect(world, "user@example.test")
    assert report.outcome is SourceOutcome.FAILED
    assert finding(report, "discovery.ispdb.http-status").detail["status"] == 503


def test_ispdb_tls_failure_is_a_finding(world: DiscoveryWorld, web: WebServer) -> None:
    untrusted = TestCA(world.ca.directory / "untrusted-ca", common_name="Unknown CA")
    trust_host(web, untrusted, ISPDB_HOST)  # a certificate from a CA the program does not trust
    world.serve_ispdb("example.test", isp_config())
    report = detect(world, "user@example.test")
    assert report.outcome is SourceOutcome.FAILED
    assert finding(report, "discovery.ispdb.tls").detail["failure"] == "untrusted"


# --- by MX ---------------------------------------------------------------------------------------


def test_by_mx_base_domain(world: DiscoveryWorld, web: WebServer) -> None:
    world.add_mx("shop.test", "mx3.hostingco.test")
    world.serve_ispdb("hostingco.test", hosting_config())
    report = detect(world, "owner@shop.test")
    assert report.outcome is SourceOutcome.FOUND
    best = report.candidates[0]
    assert best.incoming.host == "imap.hostingco.test"
    assert best.incoming.username == "owner@shop.test"
    assert best.provenance.source == "ispdb"
    assert best.provenance.trust is Trust.HIGH
    assert best.provenance.detail == "via MX mx3.hostingco.test (ISPDB key hostingco.test)"
    assert report.data["matched"] == "hostingco.test"
    assert report.data["mx"] == "mx3.hostingco.test"
    paths = ispdb_paths(web)
    assert f"{ISPDB_PATH}shop.test" in paths
    assert f"{ISPDB_PATH}mx3.hostingco.test" in paths  # the full MX host is asked too


def test_the_most_preferred_mx_counts(world: DiscoveryWorld, dns: DNSServer) -> None:
    dns.add("shop.test", "MX", "20 mx.other.test")
    dns.add("shop.test", "MX", "5 mx3.hostingco.test")
    world.serve_ispdb("hostingco.test", hosting_config())
    world.serve_ispdb("other.test", isp_config("other.test"))
    report = detect(world, "owner@shop.test")
    assert report.data["mx"] == "mx3.hostingco.test"
    assert report.candidates[0].incoming.host == "imap.hostingco.test"


def test_the_more_specific_key_wins_even_when_slower(world: DiscoveryWorld) -> None:
    # <tenant>.mail.protection.outlook.com is Microsoft 365, not Outlook.com
    world.add_mx("contoso.test", "contoso-test.mail.protection.outlook.test")
    world.serve_ispdb(
        "mail.protection.outlook.test",
        delayed(Response.xml(isp_config("office365.test", "Office 365")), 0.3),
    )
    world.serve_ispdb("outlook.test", isp_config("outlook.test", "Outlook.com"))
    report = detect(world, "user@contoso.test")
    assert report.data["matched"] == "mail.protection.outlook.test"
    assert report.candidates[0].provider_name == "Office 365 Mail"


def test_the_full_mx_host_is_a_key(world: DiscoveryWorld) -> None:
    world.add_mx("home.jp.test", "mx2.tiki.jp.test")
    world.serve_ispdb("mx2.tiki.jp.test", jp_pop_isp_config("tiki.jp.test"))
    report = detect(world, "taro@home.jp.test")
    assert report.data["matched"] == "mx2.tiki.jp.test"
    assert report.candidates[0].incoming.host == "pop.tiki.jp.test"


def test_the_exact_domain_wins_over_mx(world: DiscoveryWorld) -> None:
    world.add_mx("shop.test", "mx3.hostingco.test")
    world.serve_ispdb("hostingco.test", hosting_config())
    world.serve_ispdb("shop.test", delayed(Response.xml(isp_config("shop.test")), 0.2))
    report = detect(world, "owner@shop.test")
    assert report.data["matched"] == "shop.test"
    assert report.candidates[0].provenance.detail == "domain shop.test"


def test_an_mx_under_the_own_domain_adds_no_keys(world: DiscoveryWorld, web: WebServer) -> None:
    world.add_mx("example.test", "mx.example.test")
    report = detect(world, "user@example.test")
    assert report.outcome is SourceOutcome.NOTHING
    assert report.data["keys"] == []
    assert ispdb_paths(web) == [f"{ISPDB_PATH}example.test"]


def test_mx_hosting_company_autoconfig_over_https(
    world: DiscoveryWorld, web: WebServer, test_ca: TestCA
) -> None:
    world.add_mx("shop.test", "mx3.hostingco.test")
    trust_host(web, test_ca, "autoconfig.hostingco.test")
    world.serve_isp_autoconfig("hostingco.test", hosting_config())
    report = detect(world, "owner@shop.test")
    assert report.outcome is SourceOutcome.FOUND
    best = report.candidates[0]
    assert best.provenance.source == "autoconfig"
    assert best.provenance.trust is Trust.MEDIUM  # an unauthenticated MX record chose it
    assert best.provenance.url == f"https://autoconfig.hostingco.test{AUTOCONFIG_PATH}"
    assert best.provenance.detail == "via MX mx3.hostingco.test (autoconfig.hostingco.test)"
    (request,) = web.requests_to(AUTOCONFIG_PATH, host="autoconfig.hostingco.test")
    assert request.query == {}  # no address for a third party
    assert report.data["kind"] == "isp"


def test_the_ispdb_entry_beats_the_hosting_company_file(
    world: DiscoveryWorld, web: WebServer, test_ca: TestCA
) -> None:
    world.add_mx("shop.test", "mx3.hostingco.test")
    trust_host(web, test_ca, "autoconfig.hostingco.test")
    world.serve_isp_autoconfig("hostingco.test", isp_config("hostingco.test"))
    world.serve_ispdb("hostingco.test", delayed(Response.xml(hosting_config()), 0.2))
    report = detect(world, "owner@shop.test")
    assert report.data["kind"] == "ispdb"
    assert report.candidates[0].provenance.trust is Trust.HIGH


def test_mx_failure_leaves_the_exact_answer(world: DiscoveryWorld, dns: DNSServer) -> None:
    dns.fail("shop.test", "SERVFAIL", "MX")
    report = detect(world, "owner@shop.test")
    assert report.outcome is SourceOutcome.NOTHING
    assert report.data["mx_problem"] == "dns.failed"


def test_offline_asks_nobody(world: DiscoveryWorld, web: WebServer) -> None:
    world.serve_ispdb("example.test", isp_config())
    report = detect(world, "user@example.test", offline=True)
    assert report.outcome is SourceOutcome.SKIPPED
    assert web.requests == []


# --- the URL and the keys --------------------------------------------------------------------


def test_ispdb_url_forms() -> None:
    assert (
        ispdb_url("https://live.thunderbird.net/autoconfig/v1.1/", "example.jp")
        == "https://live.thunderbird.net/autoconfig/v1.1/example.jp"
    )
    assert ispdb_url("https://m.test/db/{{domain}}.xml", "a.test") == "https://m.test/db/a.test.xml"
    assert ispdb_url("https://m.test/lookup?d=", "a.test") == "https://m.test/lookup?d=a.test"
    assert ispdb_url("https://m.test/db", "a.test") == "https://m.test/db/a.test"


def test_mx_keys() -> None:
    assert mx_keys("mx3.hostingco.test", "shop.test") == [
        "mx3.hostingco.test",
        "hostingco.test",
    ]
    assert mx_keys("mx.example.test", "example.test") == []
    assert mx_keys(".", "example.test") == []


def test_an_ispdb_switched_off_by_it_is_never_asked(web: WebServer, test_ca: TestCA) -> None:
    world = DiscoveryWorld(web, test_ca)
    world.serve_ispdb("switched-off.test", isp_config("switched-off.test"))
    context = world.context("taro@switched-off.test", ispdb_url=None)
    report = asyncio.run(IspdbSource().run(context))
    assert report.outcome is SourceOutcome.SKIPPED
    assert not web.requests_to(host=ISPDB_HOST)
