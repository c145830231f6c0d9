"""The ISP autoconfig source against the test world's web servers.

Every host is reached by its real name: ``--resolve`` overrides send the names a scenario
publishes to the world's HTTPS or plain HTTP server, and the world's DNS server answers "no
such host" for every other name, as the internet would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from app.core.discovery.autoconfig import (
    AUTOCONFIG_PATH,
    WELL_KNOWN_PATH,
    AutoconfigSource,
    autoconfig_urls,
    shown_url,
)
from app.core.discovery.base import SourceOutcome, SourceReport
from app.core.model import AuthKind, EmailAddress, Finding, Outcome, Protocol, Security, Trust
from app.core.net import parse_resolve
from app.core.net.tcp import CLOSE_GRACE
from app.core.texts import render
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.faultproxy import FaultProxy
from tests.world.scenarios_autoconfig import (
    DiscoveryWorld,
    dav_config,
    exchange_only_config,
    isp_config,
    jp_pop_isp_config,
    oauth2_config,
    plain_requests_with,
    resolve_to,
)
from tests.world.web import Response, WebServer, delayed, hang, huge, redirect

T = TypeVar("T")
ADDRESS = "taro.yamada@example.test"
HOST = "autoconfig.example.test"
ADDRESS_FORMS = ("taro.yamada", "taro.yamada%40example.test")  # raw local part, encoded


def run(awaitable: Awaitable[T], limit: float = 15.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def detect(world: DiscoveryWorld, address: str = ADDRESS, **options: object) -> SourceReport:
    return run(AutoconfigSource().run(world.context(address, **options)))


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


@pytest.fixture
def world(
    web: WebServer, plain_web: WebServer, dns: DNSServer, test_ca: TestCA
) -> Iterator[DiscoveryWorld]:
    yield DiscoveryWorld(web, test_ca, dns=dns, plain_web=plain_web)


# --- found over HTTPS ---------------------------------------------------------------------------


def test_https_autoconfig_is_found_and_trusted(world: DiscoveryWorld, web: WebServer) -> None:
    world.serve_isp_autoconfig("example.test", isp_config())
    # the lower-priority place hangs: a valid answer from the first must not wait for it
    world.serve_isp_autoconfig("example.test", hang(), well_known=True)
    started = time.monotonic()
    report = detect(world)
    assert time.monotonic() - started < 2.0
    assert report.outcome is SourceOutcome.FOUND
    assert [(c.incoming.protocol, c.incoming.port) for c in report.candidates] == [
        (Protocol.IMAP, 993),
        (Protocol.IMAP, 143),
        (Protocol.POP3, 995),
    ]
    best = report.candidates[0]
    assert best.incoming.host == "imap.example.test"
    assert best.incoming.username == ADDRESS
    assert best.outgoing is not None
    assert (best.outgoing.host, best.outgoing.port, best.outgoing.security) == (
        "smtp.example.test",
        465,
        Security.TLS,
    )
    assert best.provenance.source == "autoconfig"
    assert best.provenance.trust is Trust.HIGH
    assert best.provenance.over_https
    assert best.provenance.url == f"https://{HOST}{AUTOCONFIG_PATH}"
    assert best.provider_name == "Example Net Mail"
    assert report.findings == ()
    (request,) = web.requests_to(AUTOCONFIG_PATH, host=HOST)
    assert request.query == {"emailaddress": ADDRESS}
    assert request.sni == HOST


def test_well_known_is_used_when_autoconfig_host_does_not_exist(
    world: DiscoveryWorld, web: WebServer, dns: DNSServer
) -> None:
    world.serve_isp_autoconfig("example.jp.test", jp_pop_isp_config(), well_known=True)
    report = detect(world, "hanako@example.jp.test")
    assert report.outcome is SourceOutcome.FOUND
    first = report.candidates[0]
    # POP first, as the ISP lists it; the user name is the part before @
    assert (first.incoming.protocol, first.incoming.host, first.incoming.port) == (
        Protocol.POP3,
        "pop.example.jp.test",
        995,
    )
    assert first.incoming.username == "hanako"
    assert first.outgoing is not None
    assert (first.outgoing.port, first.outgoing.security) == (587, Security.STARTTLS)
    assert first.provenance.url == f"https://example.jp.test{WELL_KNOWN_PATH}"
    assert first.provenance.trust is Trust.HIGH
    assert "support.example.jp.test" in render(first.hints[0], "ja")
    assert dns.queried("autoconfig.example.jp.test")  # asked, and the name does not exist
    assert web.requests_to(WELL_KNOWN_PATH, host="example.jp.test")[0].query == {
        "emailaddress": "hanako@example.jp.test"
    }


def test_autoconfig_host_wins_over_a_faster_well_known(world: DiscoveryWorld) -> None:
    world.serve_isp_autoconfig("example.test", delayed(Response.xml(isp_config()), 0.3))
    world.serve_isp_autoconfig("example.test", dav_config(), well_known=True)
    report = detect(world)
    assert report.candidates[0].incoming.host == "imap.example.test"
    assert report.data["url"] == f"https://{HOST}{AUTOCONFIG_PATH}"


def test_oauth2_and_dav_documents(world: DiscoveryWorld) -> None:
    world.serve_isp_autoconfig("corp.test", oauth2_config())
    report = detect(world, "user@corp.test")
    assert report.candidates[0].auth is AuthKind.OAUTH2_MICROSOFT
    assert "portal.corp.test" in render(report.candidates[0].hints[0])

    world.serve_isp_autoconfig("example.test", dav_config())
    report = detect(world)
    best = report.candidates[0]
    assert best.caldav == "https://dav.example.test/caldav/taro.yamada@example.test/"
    assert best.carddav == "https://dav.example.test/carddav/taro.yamada@example.test/"


def test_a_redirect_to_another_https_host_is_followed(world: DiscoveryWorld) -> None:
    target = "https://config.example.test/isp/example.xml"
    world.serve_isp_autoconfig("example.test", redirect(target))
    world.web.route("/isp/example.xml", Response.xml(isp_config()), host="config.example.test")
    world.route("config.example.test")
    report = detect(world)
    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].provenance.url == target
    assert report.candidates[0].provenance.trust is Trust.HIGH


# --- plain HTTP, the last resort ------------------------------------------------------------------


def test_plain_http_only_when_https_finds_nothing_and_never_with_the_address(
    world: DiscoveryWorld, web: WebServer, plain_web: WebServer
) -> None:
    world.route("example.test")  # the domain's HTTPS site exists, without a settings file
    world.serve_isp_autoconfig("example.test", isp_config(), plain=True)
    report = detect(world)
    assert report.outcome is SourceOutcome.FOUND
    for candidate in report.candidates:
        assert candidate.provenance.trust is Trust.LOW
        assert not candidate.provenance.over_https
        assert not candidate.provenance.trusted
        assert "unprotected" in render(candidate.hints[0])
    warning = finding(report, "discovery.autoconfig.plain-http")
    assert warning.outcome is Outcome.WARNING
    assert "unprotected" in render(warning.cause)
    assert render(warning.cause, "ja")
    assert web.requests_to(WELL_KNOWN_PATH, host="example.test")  # HTTPS was asked first
    plain = plain_web.requests_to(AUTOCONFIG_PATH, host=HOST)
    assert len(plain) == 1
    assert plain[0].target == AUTOCONFIG_PATH  # no query string at all
    assert plain_requests_with(plain_web, ADDRESS_FORMS) == []


def test_plain_http_after_an_html_page_over_https(
    world: DiscoveryWorld, plain_web: WebServer
) -> None:
    page = Response(200, "<!DOCTYPE html><html><body>Welcome</body></html>", content_type=None)
    world.serve_isp_autoconfig("example.test", page, well_known=True)
    world.serve_isp_autoconfig("example.test", isp_config(), plain=True)
    report = detect(world)
    assert finding(report, "discovery.autoconfig.web-page").outcome is Outcome.INFO
    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].provenance.trust is Trust.LOW
    assert plain_requests_with(plain_web, ADDRESS_FORMS) == []


def test_nothing_anywhere(world: DiscoveryWorld, plain_web: WebServer) -> None:
    world.route("example.test")
    world.route("example.test", plain_web)
    report = detect(world)
    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == ()
    assert [f.code for f in report.findings] == ["discovery.autoconfig.not-found"]
    assert [r.target for r in plain_web.requests] == [WELL_KNOWN_PATH]


# --- failures: a finding, and never a downgrade ---------------------------------------------------


@pytest.mark.parametrize(
    ("names", "not_after", "failure"),
    [
        (("other.test",), None, "wrong-host"),
        ((HOST, "example.test"), dt.datetime.now(dt.UTC) - dt.timedelta(days=2), "expired"),
    ],
    ids=["wrong-host", "expired"],
)
def test_tls_failure_is_a_finding_and_no_plain_http(
    world: DiscoveryWorld,
    plain_web: WebServer,
    test_ca: TestCA,
    make_web_server: Callable[..., WebServer],
    names: tuple[str, ...],
    not_after: dt.datetime | None,
    failure: str,
) -> None:
    if not_after is None:
        cert = test_ca.issue(names)
    else:
        cert = test_ca.issue(
            names, not_before=not_after - dt.timedelta(days=30), not_after=not_after
        )
    bad = make_web_server(cert=cert)
    bad.route(AUTOCONFIG_PATH, Response.xml(isp_config()), host=HOST)
    world.add(resolve_to(bad, HOST, "example.test"))
    world.serve_isp_autoconfig("example.test", isp_config(), plain=True)
    world.serve_isp_autoconfig("example.test", isp_config(), well_known=True, plain=True)
    report = detect(world)
    assert report.outcome is SourceOutcome.FAILED
    assert report.candidates == ()
    tls = finding(report, "discovery.autoconfig.tls")
    assert tls.detail["failure"] == failure
    assert tls.detail["url"] == f"https://{HOST}{AUTOCONFIG_PATH}"
    assert HOST in render(tls.cause)
    assert plain_web.requests == []  # a TLS failure never leads to plain HTTP
    assert bad.requests == []  # nothing was sent to the server with the bad certificate


def test_redirect_to_http_is_refused(world: DiscoveryWorld, plain_web: WebServer) -> None:
    world.serve_isp_autoconfig("example.test", redirect(f"http://{HOST}{AUTOCONFIG_PATH}"))
    world.serve_isp_autoconfig("example.test", isp_config(), plain=True)
    report = detect(world)
    assert report.outcome is SourceOutcome.FAILED
    refused = finding(report, "discovery.autoconfig.redirect-downgrade")
    assert refused.detail["target"] == f"http://{HOST}{AUTOCONFIG_PATH}"
    assert plain_web.requests == []


def test_redirect_to_another_scheme_is_refused(world: DiscoveryWorld) -> None:
    world.serve_isp_autoconfig("example.test", redirect("ftp://files.example.test/config.xml"))
    report = detect(world)
    assert finding(report, "discovery.autoconfig.redirect-refused")
    assert report.outcome is SourceOutcome.FAILED


def test_redirect_loop_ends_with_a_finding(world: DiscoveryWorld, web: WebServer) -> None:
    world.route(HOST)
    web.redirect_loop(AUTOCONFIG_PATH, host=HOST)
    started = time.monotonic()
    report = detect(world)
    assert time.monotonic() - started < 3.0
    assert finding(report, "discovery.autoconfig.redirect-loop")
    assert report.outcome is SourceOutcome.FAILED
    assert len(web.requests_to(AUTOCONFIG_PATH, host=HOST)) <= 4


def test_too_many_redirects(world: DiscoveryWorld, web: WebServer) -> None:
    world.route(HOST)
    web.route(AUTOCONFIG_PATH, redirect("/hop/1"), host=HOST)
    for hop in range(1, 10):
        web.route(f"/hop/{hop}", redirect(f"/hop/{hop + 1}"), host=HOST)
    report = detect(world)
    assert (
        finding(report, "discovery.autoconfig.redirect-limit")
        .detail["url"]
        .endswith(AUTOCONFIG_PATH)
    )


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_huge_body_is_cut_off(world: DiscoveryWorld, declare_length: bool) -> None:
    world.serve_isp_autoconfig(
        "example.test",
        huge(8 * 1024 * 1024, content_type="application/xml", declare_length=declare_length),
    )
    started = time.monotonic()
    report = detect(world)
    assert time.monotonic() - started < 3.0
    assert finding(report, "discovery.autoconfig.too-large")
    assert report.outcome is SourceOutcome.FAILED


def test_hanging_server_ends_within_the_timeout(
    world: DiscoveryWorld, web: WebServer, plain_web: WebServer
) -> None:
    web.hang_limit = 5
    world.serve_isp_autoconfig("example.test", hang())
    world.route("example.test")
    started = time.monotonic()
    report = detect(world, timeout=1)
    assert time.monotonic() - started < 3.0
    timed_out = finding(report, "discovery.autoconfig.timeout")
    assert "too long" in render(timed_out.cause)
    assert report.outcome is SourceOutcome.FAILED
    assert plain_web.requests == []  # a timeout is no reason for plain HTTP either


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<clientConfig version="1.1"><emailProvider id="x">&lol3;</emailProvider></clientConfig>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE clientConfig [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<clientConfig version="1.1"><emailProvider id="x">&secret;</emailProvider></clientConfig>"""


@pytest.mark.parametrize("document", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_dangerous_xml_is_refused(world: DiscoveryWorld, document: str) -> None:
    world.serve_isp_autoconfig("example.test", document)
    report = detect(world)
    assert report.outcome is SourceOutcome.FAILED
    assert finding(report, "discovery.autoconfig.forbidden-xml").outcome is Outcome.WARNING


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (Response.text("boom\n", 500), "discovery.autoconfig.http-status"),
        (Response.json({"imap": "imap.example.test"}), "discovery.autoconfig.content-type"),
        (Response.xml("<clientConfig><emailProvider"), "discovery.autoconfig.not-xml"),
        (Response.xml("<settings/>"), "discovery.autoconfig.wrong-root"),
        (Response.xml(exchange_only_config("example.test")), "discovery.autoconfig.exchange-only"),
    ],
    ids=["500", "json", "broken-xml", "wrong-root", "exchange-only"],
)
def test_unusable_answers_are_findings(
    world: DiscoveryWorld, plain_web: WebServer, response: Response, code: str
) -> None:
    world.serve_isp_autoconfig("example.test", response)
    world.serve_isp_autoconfig("example.test", isp_config(), plain=True)
    report = detect(world)
    assert report.outcome is SourceOutcome.FAILED
    assert finding(report, code).detail["url"] == f"https://{HOST}{AUTOCONFIG_PATH}"
    assert render(finding(report, code).cause, "ja")
    assert plain_web.requests == []


def test_a_failure_of_the_first_place_does_not_hide_the_second(world: DiscoveryWorld) -> None:
    world.serve_isp_autoconfig("example.test", Response.text("boom\n", 503))
    world.serve_isp_autoconfig("example.test", isp_config(), well_known=True)
    report = detect(world)
    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].provenance.trust is Trust.HIGH
    assert finding(report, "discovery.autoconfig.http-status").detail["status"] == 503


def test_xml_content_types_are_tolerated(world: DiscoveryWorld) -> None:
    for content_type in ("text/xml", None):
        world.serve_isp_autoconfig(
            "example.test", Response(200, isp_config(), content_type=content_type)
        )
        assert detect(world).outcome is SourceOutcome.FOUND, content_type


# --- offline and cancellation -------------------------------------------------------------------


def test_offline_asks_nobody(world: DiscoveryWorld, web: WebServer, dns: DNSServer) -> None:
    world.serve_isp_autoconfig("example.test", isp_config())
    report = detect(world, offline=True)
    assert report.outcome is SourceOutcome.SKIPPED
    assert web.requests == []
    assert dns.queries == []


def test_cancelled_mid_request_ends_promptly_and_closes_the_connection(
    world: DiscoveryWorld, web: WebServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    web.hang_limit = 5
    web.route(AUTOCONFIG_PATH, hang(), host=HOST)
    proxy = fault_proxy("127.0.0.1", web.port)
    world.add(resolve_to(web, "example.test"))
    world.add([parse_resolve(f"{HOST}:443:127.0.0.1:{proxy.port}")])
    context = world.context(ADDRESS)

    async def scenario() -> float:
        task = asyncio.ensure_future(AutoconfigSource().run(context))
        async with asyncio.timeout(5):
            while not web.requests_to(AUTOCONFIG_PATH, host=HOST):  # noqa: ASYNC110 - another thread
                await asyncio.sleep(0.01)
        assert proxy.open_connections == 1
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 3.0)
        return time.monotonic() - cancelled_at

    # promptly: without waiting for the request's 5-second timeout, nor for a polite goodbye
    # (a cancelled connection is dropped at once, not given CLOSE_GRACE).
    assert run(scenario()) < min(0.5, CLOSE_GRACE)
    assert proxy.wait_idle(2.0), f"{proxy.open_connections} connection(s) left open"


# --- the URLs ----------------------------------------------------------------------------------


def test_urls_carry_the_address_over_https_only() -> None:
    address = EmailAddress.parse("Taro+tag@Bücher.example.test")
    https = autoconfig_urls(address)
    plain = autoconfig_urls(address, https=False)
    assert https == [
        "https://autoconfig.xn--bcher-kva.example.test/mail/config-v1.1.xml"
        "?emailaddress=Taro%2Btag%40xn--bcher-kva.example.test",
        "https://xn--bcher-kva.example.test/.well-known/autoconfig/mail/config-v1.1.xml"
        "?emailaddress=Taro%2Btag%40xn--bcher-kva.example.test",
    ]
    assert plain == [
        "http://autoconfig.xn--bcher-kva.example.test/mail/config-v1.1.xml",
        "http://xn--bcher-kva.example.test/.well-known/autoconfig/mail/config-v1.1.xml",
    ]
    assert shown_url(https[0]) == "https://autoconfig.xn--bcher-kva.example.test" + AUTOCONFIG_PATH
