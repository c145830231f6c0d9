"""The Microsoft discovery source against the emulation of Microsoft's endpoints and of an
on-premises Exchange (``tests/world/exchange.py``), on the world's real HTTPS server.

Every test reaches Microsoft's names through ``--resolve``-style overrides with certificates
from the test CA; the DNS server answers MX questions. Each failure mode ends in a specific
``discovery.microsoft.*`` finding within the seam's timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

from app.core.discovery.base import DiscoveryContext, SourceOutcome, SourceReport
from app.core.discovery.microsoft import MicrosoftSource
from app.core.model import AuthKind, EmailAddress, Protocol, Security, Trust
from app.core.net import Network, NetworkOptions, parse_dns_server, parse_resolve
from app.core.net.tcp import CLOSE_GRACE
from tests.world.dns import DNSServer
from tests.world.exchange import (
    ACTIVESYNC_PATH,
    AUTODISCOVER_PATH,
    CONSUMER_TENANT_ID,
    OPENID_SUFFIX,
    ExchangeWorld,
    userrealm_path,
)
from tests.world.proc import free_port
from tests.world.web import Request, Response, WebServer, hang, huge, redirect

T = TypeVar("T")
EXO = "outlook.office365.com"
LOGIN = "login.microsoftonline.com"


def run(awaitable: Awaitable[T], limit: float = 20.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def detect(net: Network, address: str, source: MicrosoftSource | None = None) -> SourceReport:
    async def go() -> SourceReport:
        context = DiscoveryContext(EmailAddress.parse(address), net)
        try:
            return await (source or MicrosoftSource()).run(context)
        finally:
            context.close()

    return run(go())


def codes(report: SourceReport) -> list[str]:
    return [f.code for f in report.findings]


def hint_keys(report: SourceReport, index: int = 0) -> list[str]:
    return [h.key for h in report.candidates[index].hints]


def sent_address(web: WebServer, address: str) -> list[Request]:
    """Requests that carried ``address`` anywhere in their target."""
    quoted = address.replace("@", "%40")
    return [r for r in web.requests if address in r.target or quoted in r.target]


# --- Exchange Online ---------------------------------------------------------------------------


def test_exchange_online_managed_domain(exchange: ExchangeWorld, dns: DNSServer) -> None:
    tenant = exchange.add_tenant("example.test", name="Example")
    exchange.add_mailbox("taro@example.test", tenant)
    dns.add("example.test", "MX", "0 example-test.mail.protection.outlook.com.")

    report = detect(exchange.network(dns=dns.address), "taro@example.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None and report.provider.id == "microsoft365"
    first = report.candidates[0]
    assert first.incoming.protocol is Protocol.IMAP
    assert (first.incoming.host, first.incoming.port) == ("outlook.office365.com", 993)
    assert first.incoming.security is Security.TLS
    assert first.incoming.username == "taro@example.test"
    assert first.outgoing is not None
    assert (first.outgoing.host, first.outgoing.port) == ("smtp.office365.com", 587)
    assert first.outgoing.security is Security.STARTTLS
    assert first.auth is AuthKind.OAUTH2_MICROSOFT
    assert first.provenance.trust is Trust.HIGH and first.provenance.over_https
    assert {c.incoming.protocol for c in report.candidates} == {Protocol.IMAP, Protocol.POP3}
    keys = hint_keys(report)
    assert "discovery.microsoft.hint.tenant-confirmed" in keys
    assert "provider.microsoft365.note.imap_may_be_off" in keys
    assert report.data["tenant_id"] == tenant.tenant_id
    assert report.data["cloud"] == "worldwide"
    assert report.data["namespace_type"] == "managed"
    assert report.data["mailbox"] == "exchange-online"
    assert report.data["mx_microsoft"] is True
    assert "discovery.microsoft.tenant.found" in codes(report)
    # Tenant discovery sent the domain only; the address went to Microsoft's hosts only.
    (discovery,) = exchange.requests(LOGIN, f"/example.test{OPENID_SUFFIX}")
    assert "taro" not in discovery.target
    assert {r.host for r in sent_address(exchange.web, "taro@example.test")} == {LOGIN, EXO}
    (realm,) = exchange.requests(LOGIN, userrealm_path("taro@example.test"))
    assert realm.query["api-version"] == "2.1"
    (autodiscover,) = exchange.requests(EXO, AUTODISCOVER_PATH)
    assert autodiscover.query["Protocol"] == "ActiveSync"


def test_federated_domain_reports_its_sign_in_host(exchange: ExchangeWorld, dns: DNSServer) -> None:
    tenant = exchange.add_tenant(
        "corp.test", namespace="Federated", federation_host="sts.corp.test", name="Contoso"
    )
    exchange.add_mailbox("jiro@corp.test", tenant)

    report = detect(exchange.network(dns=dns.address), "jiro@corp.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.data["namespace_type"] == "federated"
    assert report.data["federation_host"] == "sts.corp.test"
    assert report.data["federation_brand_name"] == "Contoso"
    hints = report.candidates[0].hints
    assert any(
        h.key == "discovery.microsoft.hint.federated" and h.params["host"] == "sts.corp.test"
        for h in hints
    )
    # No MX record: the Exchange Online answer of Autodiscover is what makes it trusted.
    assert report.data["mx_microsoft"] is None
    assert report.candidates[0].provenance.trust is Trust.HIGH


def test_tenant_whose_mail_goes_elsewhere_is_not_trusted(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    tenant = exchange.add_tenant("example.test")
    exchange.add_mailbox("taro@example.test", tenant)
    dns.add("example.test", "MX", "10 mx.filter.example.test.")

    report = detect(exchange.network(dns=dns.address), "taro@example.test")

    assert report.provider is not None and report.provider.id == "microsoft365"
    assert {c.provenance.trust for c in report.candidates} == {Trust.MEDIUM}
    assert "discovery.microsoft.mx.elsewhere" in codes(report)


def test_personal_account_domain_is_outlook(exchange: ExchangeWorld, dns: DNSServer) -> None:
    exchange.add_tenant("hotmail.example.test", consumer=True, region_scope=None)

    report = detect(exchange.network(dns=dns.address), "hanako@hotmail.example.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None and report.provider.id == "outlook"
    first = report.candidates[0]
    assert first.incoming.host == "outlook.office365.com"
    assert first.outgoing is not None and first.outgoing.host == "smtp-mail.outlook.com"
    assert first.provenance.trust is Trust.HIGH
    assert report.data["consumer"] is True
    assert report.data["tenant_id"] == CONSUMER_TENANT_ID
    # The consumer tenant says it all: the address was not sent anywhere.
    assert sent_address(exchange.web, "hanako@hotmail.example.test") == []


def test_realm_saying_personal_domain_means_outlook(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    tenant = exchange.add_tenant("live.example.test")
    tenant.consumer = True  # the realm marks the domain as a consumer domain
    exchange.add_mailbox("ken@live.example.test", tenant)

    report = detect(exchange.network(dns=dns.address), "ken@live.example.test")

    assert report.provider is not None and report.provider.id == "outlook"
    assert report.data["namespace_type"] == "consumer"


def test_domain_without_tenant_is_skipped_fast(exchange: ExchangeWorld, dns: DNSServer) -> None:
    exchange.not_a_tenant("example.jp.test")
    started = time.monotonic()

    report = detect(exchange.network(dns=dns.address), "yuki@example.jp.test")

    assert time.monotonic() - started < 2.0
    assert report.outcome is SourceOutcome.SKIPPED
    assert codes(report) == ["discovery.microsoft.tenant.not-found"]
    assert report.findings[0].detail["aadsts"] == "AADSTS90002"
    assert report.candidates == ()
    # Only the domain went to Microsoft; the address went nowhere.
    assert [r.path for r in exchange.web.requests] == [f"/example.jp.test{OPENID_SUFFIX}"]


def test_tenant_discovery_error_fails_the_source(exchange: ExchangeWorld, dns: DNSServer) -> None:
    # No route: the sign-in service answers 404.
    report = detect(exchange.network(dns=dns.address), "yuki@example.test")

    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == ["discovery.microsoft.tenant.http-error"]
    assert report.findings[0].detail["status"] == 404


def test_offline_asks_nobody(exchange: ExchangeWorld) -> None:
    net = Network(NetworkOptions(offline=True, system_proxy=False))

    report = detect(net, "taro@example.test")

    assert report.outcome is SourceOutcome.SKIPPED
    assert exchange.web.requests == []


# --- national clouds ---------------------------------------------------------------------------


def test_gcc_high_tenant_gets_its_own_hosts(exchange: ExchangeWorld, dns: DNSServer) -> None:
    tenant = exchange.add_tenant(
        "agency.example.test",
        cloud="microsoftonline.us",
        region_scope="USGov",
        region_sub_scope="DODCON",
    )
    exchange.add_mailbox("mei@agency.example.test", tenant)

    report = detect(exchange.network(dns=dns.address), "mei@agency.example.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None
    assert (report.provider.id, report.provider.name) == ("microsoft365", "Microsoft 365 GCC High")
    first = report.candidates[0]
    assert first.incoming.host == "outlook.office365.us"
    assert first.outgoing is not None and first.outgoing.host == "smtp.office365.us"
    assert report.data["cloud"] == "usgov-gcchigh"
    keys = hint_keys(report)
    assert "discovery.microsoft.hint.national-cloud" in keys
    assert "discovery.microsoft.hint.smtp-auth" in keys
    # The worldwide entry's note names smtp.office365.com: wrong here, so left out.
    assert "provider.microsoft365.note.smtp_auth_disabled" not in keys
    # The realm and Autodiscover were asked in the US government cloud.
    assert exchange.requests("login.microsoftonline.us", userrealm_path("mei@agency.example.test"))
    assert exchange.requests("outlook.office365.us", AUTODISCOVER_PATH)
    assert not exchange.requests(EXO)


@pytest.mark.parametrize(
    ("cloud", "sub_scope"),
    [("microsoftonline.us", "DOD"), ("partner.microsoftonline.cn", None), ("example.cloud", None)],
)
def test_clouds_without_verified_servers_are_not_supported(
    exchange: ExchangeWorld, dns: DNSServer, cloud: str, sub_scope: str | None
) -> None:
    exchange.add_tenant("agency.example.test", cloud=cloud, region_sub_scope=sub_scope)

    report = detect(exchange.network(dns=dns.address), "mei@agency.example.test")

    assert report.outcome is SourceOutcome.NOTHING
    assert report.candidates == ()
    assert "discovery.microsoft.cloud.not-supported" in codes(report)
    assert sent_address(exchange.web, "mei@agency.example.test") == []


# --- the hybrid chain --------------------------------------------------------------------------


def test_hybrid_chain_end_to_end(exchange: ExchangeWorld, dns: DNSServer) -> None:
    tenant = exchange.add_tenant(
        "corp.test", namespace="Federated", federation_host="sts.corp.test"
    )
    server = exchange.add_on_premises(tenant=tenant)
    exchange.add_mailbox("hanako@corp.test", tenant, on_premises=server)
    dns.add("corp.test", "MX", "0 corp-test.mail.protection.outlook.com.")

    report = detect(exchange.network(dns=dns.address), "hanako@corp.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None
    assert (report.provider.id, report.provider.name) == ("exchange", "Microsoft Exchange (hybrid)")
    (candidate,) = report.candidates
    assert candidate.auth is AuthKind.EXCHANGE_HYBRID
    assert candidate.incoming.host == "mail.corp.test"
    assert candidate.provenance.trust is Trust.MEDIUM
    assert hint_keys(report) == [
        "discovery.microsoft.hint.hybrid",
        "discovery.microsoft.hint.exchange-imap",
    ]
    assert "discovery.microsoft.bearer.hybrid-modern-auth" in codes(report)
    assert report.detail is not None and "hybrid modern authentication" in report.detail
    data = report.data
    assert data["mailbox"] == "on-premises"
    assert data["activesync_url"] == "https://mail.corp.test/Microsoft-Server-ActiveSync"
    assert data["authorization_uri"] == "https://login.microsoftonline.com/common/oauth2/authorize"
    assert data["authority"] == "https://login.microsoftonline.com/common"
    assert data["trusted_issuers"] == [f"00000001-0000-0000-c000-000000000000@{tenant.tenant_id}"]
    assert data["bearer_tenant_id"] == tenant.tenant_id
    assert data["autodiscover_hosts"] == [EXO, "autodiscover.corp.test"]
    assert data["federation_host"] == "sts.corp.test"
    # The redirect was followed with its RedirectCount; the probe sent an empty Bearer only.
    (onprem,) = exchange.requests("autodiscover.corp.test", AUTODISCOVER_PATH)
    assert onprem.query["RedirectCount"] == "3"
    assert onprem.query["Email"] == "hanako@corp.test"
    (probe,) = exchange.requests("mail.corp.test", ACTIVESYNC_PATH)
    assert probe.headers["Authorization"] == "Bearer"
    assert "hanako" not in probe.target


@pytest.mark.parametrize("server_to_server", [False, True])
def test_on_premises_without_modern_auth(
    exchange: ExchangeWorld, dns: DNSServer, server_to_server: bool
) -> None:
    tenant = exchange.add_tenant("corp.test")
    server = exchange.add_on_premises(
        tenant=tenant, modern_auth=False, server_to_server=server_to_server
    )
    exchange.add_mailbox("hanako@corp.test", tenant, on_premises=server)

    report = detect(exchange.network(dns=dns.address), "hanako@corp.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.provider is not None
    assert report.provider.name == "Microsoft Exchange (on-premises)"
    (candidate,) = report.candidates
    assert candidate.auth is AuthKind.PASSWORD
    assert "discovery.microsoft.hint.on-premises" in hint_keys(report)
    assert "discovery.microsoft.bearer.no-modern-auth" in codes(report)
    schemes = ["Basic", "NTLM", "Negotiate"]
    assert report.data["www_authenticate"] == (
        ["Bearer", *schemes] if server_to_server else schemes
    )
    assert "authorization_uri" not in report.data or report.data["authorization_uri"] is None


def test_bearer_with_an_organisation_authority_is_not_hybrid(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    tenant = exchange.add_tenant("corp.test")
    server = exchange.add_on_premises(
        tenant=tenant, authorization_uri="https://adfs.corp.test/adfs/oauth2/authorize"
    )
    exchange.add_mailbox("hanako@corp.test", tenant, on_premises=server)

    report = detect(exchange.network(dns=dns.address), "hanako@corp.test")

    assert report.candidates[0].auth is AuthKind.PASSWORD
    assert "discovery.microsoft.bearer.other-authority" in codes(report)


def _onprem_mailbox(exchange: ExchangeWorld, **options: object) -> None:
    tenant = exchange.add_tenant("corp.test")
    server = exchange.add_on_premises(tenant=tenant, **options)  # type: ignore[arg-type]
    exchange.add_mailbox("hanako@corp.test", tenant, on_premises=server)


def _refused(report: SourceReport, code: str) -> None:
    assert report.outcome is SourceOutcome.FAILED
    assert report.candidates == ()
    assert report.provider is not None and report.provider.id == "exchange"
    assert code in codes(report)
    assert report.data["mailbox"] == "on-premises"


def test_redirect_loop_is_refused(exchange: ExchangeWorld, dns: DNSServer) -> None:
    _onprem_mailbox(exchange)

    def again(request: Request) -> Response:  # the same URL, counting down: still a loop
        query = {k: v for k, v in request.query.items()}
        query["RedirectCount"] = str(int(query.get("RedirectCount", "3")) - 1)
        target = "&".join(f"{k}={v}" for k, v in query.items())
        return redirect(f"https://autodiscover.corp.test{AUTODISCOVER_PATH}?{target}")

    exchange.web.route(AUTODISCOVER_PATH, again, host="autodiscover.corp.test")

    report = detect(exchange.network(dns=dns.address), "hanako@corp.test")

    _refused(report, "discovery.microsoft.redirect.loop")
    assert report.data["redirect_refused"] == "loop"
    assert len(exchange.requests("autodiscover.corp.test")) == 1


def _extra(web: WebServer, *hosts: str) -> tuple:  # type: ignore[type-arg]
    return tuple(parse_resolve(f"{h}:443:127.0.0.1:{web.port}") for h in hosts)


def test_redirect_past_the_count_is_refused(exchange: ExchangeWorld, dns: DNSServer) -> None:
    _onprem_mailbox(exchange, redirect_count=1)
    url = "https://{host}" + AUTODISCOVER_PATH + "?Email=hanako%40corp.test&Protocol=ActiveSync"
    exchange.web.route(
        AUTODISCOVER_PATH,
        redirect(url.format(host="ad2.corp.test") + "&RedirectCount=0"),
        host="autodiscover.corp.test",
    )
    exchange.web.route(
        AUTODISCOVER_PATH,
        redirect(url.format(host="ad3.corp.test") + "&RedirectCount=0"),
        host="ad2.corp.test",
    )
    exchange.web.route(AUTODISCOVER_PATH, Response.json({}), host="ad3.corp.test")
    net = exchange.network(
        dns=dns.address, extra=_extra(exchange.web, "ad2.corp.test", "ad3.corp.test")
    )

    report = detect(net, "hanako@corp.test")

    _refused(report, "discovery.microsoft.redirect.count-exceeded")
    assert exchange.requests("ad2.corp.test")  # followed while the count allowed it
    assert exchange.requests("ad3.corp.test") == []


def test_redirect_that_does_not_count_down_is_refused(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    _onprem_mailbox(exchange, redirect_count=3)
    exchange.web.route(
        AUTODISCOVER_PATH,
        redirect(
            f"https://ad2.corp.test{AUTODISCOVER_PATH}"
            "?Email=hanako%40corp.test&Protocol=ActiveSync&RedirectCount=3"
        ),
        host="autodiscover.corp.test",
    )
    net = exchange.network(dns=dns.address, extra=_extra(exchange.web, "ad2.corp.test"))

    report = detect(net, "hanako@corp.test")

    _refused(report, "discovery.microsoft.redirect.count-not-decremented")
    assert exchange.requests("ad2.corp.test") == []


def test_redirect_to_plain_http_is_refused(
    exchange: ExchangeWorld, dns: DNSServer, plain_web: WebServer
) -> None:
    _onprem_mailbox(exchange)
    exchange.web.route(
        AUTODISCOVER_PATH,
        redirect(
            f"http://autodiscover.corp.test{AUTODISCOVER_PATH}"
            "?Email=hanako%40corp.test&Protocol=ActiveSync&RedirectCount=3"
        ),
        host=EXO,
    )
    plain_web.route(AUTODISCOVER_PATH, Response.json({"Protocol": "ActiveSync", "Url": "x"}))
    trap = parse_resolve(f"autodiscover.corp.test:80:127.0.0.1:{plain_web.port}")
    net = exchange.network(dns=dns.address, extra=(trap,))

    report = detect(net, "hanako@corp.test")

    _refused(report, "discovery.microsoft.redirect.insecure")
    assert plain_web.requests == []  # the address never went over plain HTTP
    assert exchange.requests("autodiscover.corp.test") == []


def test_redirect_off_the_organisation_domains_is_refused(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    _onprem_mailbox(exchange)
    exchange.web.route(
        AUTODISCOVER_PATH,
        redirect(
            f"https://autodiscover.example.test{AUTODISCOVER_PATH}"
            "?Email=hanako%40corp.test&Protocol=ActiveSync&RedirectCount=2"
        ),
        host="autodiscover.corp.test",
    )
    net = exchange.network(dns=dns.address, extra=_extra(exchange.web, "autodiscover.example.test"))

    report = detect(net, "hanako@corp.test")

    _refused(report, "discovery.microsoft.redirect.foreign-host")
    assert exchange.requests("autodiscover.example.test") == []


def test_exchange_online_may_name_a_host_under_another_domain(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    # A hosted Exchange: Microsoft names the organisation's Autodiscover, whatever its domain.
    tenant = exchange.add_tenant("corp.test")
    server = exchange.add_on_premises(
        "autodiscover.example.test", "mail.example.test", tenant=tenant
    )
    exchange.add_mailbox("hanako@corp.test", tenant, on_premises=server)

    report = detect(exchange.network(dns=dns.address), "hanako@corp.test")

    assert report.candidates[0].auth is AuthKind.EXCHANGE_HYBRID
    assert report.candidates[0].incoming.host == "mail.example.test"


# --- Autodiscover failures do not block the tenant's answer ----------------------------------


def _cloud_mailbox(exchange: ExchangeWorld, dns: DNSServer) -> None:
    tenant = exchange.add_tenant("example.test")
    exchange.add_mailbox("taro@example.test", tenant)
    dns.add("example.test", "MX", "0 example-test.mail.protection.outlook.com.")


def test_autodiscover_401_does_not_stop_the_tenant_result(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    _cloud_mailbox(exchange, dns)
    challenge = {
        "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
    }
    exchange.web.route(AUTODISCOVER_PATH, Response(401, b"", headers=challenge), host=EXO)

    report = detect(exchange.network(dns=dns.address), "taro@example.test")

    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].incoming.host == "outlook.office365.com"
    assert report.candidates[0].provenance.trust is Trust.HIGH
    assert "discovery.microsoft.autodiscover.unauthorized" in codes(report)
    assert report.data["mailbox"] == "unknown"
    assert report.data["autodiscover_unauthorized"] is True
    assert exchange.requests("autodiscover-s.outlook.com") == []  # a 401 is an answer


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (Response(200, b"<html>sign in</html>", content_type="text/html"), "not-json"),
        (Response.json({"Protocol": "ActiveSync", "Url": "http://x.test/as"}), "bad-url"),
        (Response.json([1, 2, 3]), "unexpected"),
        (huge(2 * 1024 * 1024, content_type="application/json"), "too-large"),
        (huge(2 * 1024 * 1024, declare_length=False), "too-large"),
    ],
)
def test_unusable_autodiscover_answer_is_a_finding(
    exchange: ExchangeWorld, dns: DNSServer, answer: Response, code: str
) -> None:
    _cloud_mailbox(exchange, dns)
    exchange.web.route(AUTODISCOVER_PATH, answer, host=EXO)

    # A short timeout: the seam gives a server still streaming min(timeout, 1 s) to close.
    report = detect(exchange.network(dns=dns.address, timeout=1.0), "taro@example.test")

    assert f"discovery.microsoft.autodiscover.{code}" in codes(report)
    assert report.outcome is SourceOutcome.FOUND
    assert report.candidates[0].provenance.trust is Trust.HIGH  # the MX still agrees


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (Response(200, b"{nope", content_type="application/json"), "unreadable"),
        (Response.json({"issuer": "https://login.microsoftonline.com/common/v2.0"}), "unreadable"),
        (huge(3 * 1024 * 1024, content_type="application/json"), "too-large"),
    ],
)
def test_unusable_tenant_answer_fails_the_source(
    exchange: ExchangeWorld, dns: DNSServer, answer: Response, code: str
) -> None:
    exchange.web.route(f"/example.test{OPENID_SUFFIX}", answer, host=LOGIN)

    report = detect(exchange.network(dns=dns.address), "taro@example.test")

    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == [f"discovery.microsoft.tenant.{code}"]
    assert sent_address(exchange.web, "taro@example.test") == []


def test_garbage_realm_is_only_a_finding(exchange: ExchangeWorld, dns: DNSServer) -> None:
    _cloud_mailbox(exchange, dns)
    exchange.web.route(
        userrealm_path("taro@example.test"), Response.json({"what": "ever"}), host=LOGIN
    )

    report = detect(exchange.network(dns=dns.address), "taro@example.test")

    assert report.outcome is SourceOutcome.FOUND
    assert "discovery.microsoft.realm.unreadable" in codes(report)
    assert report.data["namespace_type"] is None


def test_unreachable_autodiscover_host_falls_back_to_the_other(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    _cloud_mailbox(exchange, dns)
    closed = parse_resolve(f"{EXO}:443:127.0.0.1:{free_port()}")
    net = Network(
        NetworkOptions(
            timeout=3.0,
            dns_server=parse_dns_server(dns.address),
            resolve=(closed, *exchange.resolve()),
            ca_bundles=(exchange.ca_path,),
            system_proxy=False,
        )
    )

    report = detect(net, "taro@example.test")

    assert "discovery.microsoft.autodiscover.connect" in codes(report)
    assert report.data["mailbox"] == "exchange-online"
    assert exchange.requests("autodiscover-s.outlook.com", AUTODISCOVER_PATH)


def test_next_protocol_when_the_first_is_unknown(exchange: ExchangeWorld, dns: DNSServer) -> None:
    tenant = exchange.add_tenant("corp.test")
    server = exchange.add_on_premises(tenant=tenant)
    exchange.add_mailbox("hanako@corp.test", tenant, on_premises=server)

    def only_ews(request: Request) -> Response:
        if request.query.get("Protocol", "").lower() == "ews":
            return Response.json({"Protocol": "EWS", "Url": server.service_url("EWS")})
        return Response.json({"ErrorCode": "ProtocolNotSupported", "ErrorMessage": "no"})

    exchange.web.route(AUTODISCOVER_PATH, only_ews, host="autodiscover.corp.test")

    report = detect(exchange.network(dns=dns.address), "hanako@corp.test")

    assert "discovery.microsoft.autodiscover.error-code" in codes(report)
    assert report.data["ews_url"] == "https://mail.corp.test/EWS/Exchange.asmx"
    assert report.candidates[0].auth is AuthKind.EXCHANGE_HYBRID
    (probe,) = exchange.requests("mail.corp.test")
    assert probe.path == "/EWS/Exchange.asmx"


# --- bounded and cancellable -------------------------------------------------------------------


def test_hanging_autodiscover_is_bounded_by_the_timeout(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    _cloud_mailbox(exchange, dns)
    exchange.web.hang_limit = 5.0
    exchange.web.route(AUTODISCOVER_PATH, hang(), host=EXO)
    started = time.monotonic()

    report = detect(exchange.network(dns=dns.address, timeout=0.5), "taro@example.test")

    assert time.monotonic() - started < 3.0
    assert "discovery.microsoft.autodiscover.timeout" in codes(report)
    assert report.outcome is SourceOutcome.FOUND  # the tenant's answer stands
    assert report.candidates[0].incoming.host == "outlook.office365.com"


def test_hanging_tenant_discovery_is_bounded_by_the_timeout(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    exchange.web.hang_limit = 5.0
    exchange.web.route(f"/example.test{OPENID_SUFFIX}", hang(), host=LOGIN)
    started = time.monotonic()

    report = detect(exchange.network(dns=dns.address, timeout=0.5), "taro@example.test")

    assert time.monotonic() - started < 3.0
    assert report.outcome is SourceOutcome.FAILED
    assert codes(report) == ["discovery.microsoft.tenant.timeout"]


def test_hanging_bearer_probe_keeps_what_was_found(exchange: ExchangeWorld, dns: DNSServer) -> None:
    _onprem_mailbox(exchange)
    exchange.web.hang_limit = 5.0
    exchange.web.route(ACTIVESYNC_PATH, hang(), host="mail.corp.test", method="*")

    report = detect(exchange.network(dns=dns.address, timeout=0.5), "hanako@corp.test")

    assert report.outcome is SourceOutcome.FAILED
    assert "discovery.microsoft.bearer.timeout" in codes(report)
    assert report.data["activesync_url"] == "https://mail.corp.test/Microsoft-Server-ActiveSync"


def test_the_source_is_cancellable(exchange: ExchangeWorld, dns: DNSServer) -> None:
    exchange.web.hang_limit = 5.0
    exchange.web.route(f"/example.test{OPENID_SUFFIX}", hang(), host=LOGIN)
    net = exchange.network(dns=dns.address, timeout=10.0)

    async def go() -> float:
        context = DiscoveryContext(EmailAddress.parse("taro@example.test"), net)
        task = asyncio.ensure_future(MicrosoftSource().run(context))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        context.close()
        return time.monotonic() - started

    # Cancelled at once; a cancelled connection is dropped, not given CLOSE_GRACE to close.
    assert run(go()) < min(0.5, CLOSE_GRACE)
    assert exchange.requests(LOGIN)  # it was really waiting on the server


def test_the_redirect_target_keeps_the_address_in_the_query(
    exchange: ExchangeWorld, dns: DNSServer
) -> None:
    _onprem_mailbox(exchange)

    detect(exchange.network(dns=dns.address), "hanako@corp.test")

    (first,) = exchange.requests(EXO, AUTODISCOVER_PATH)
    assert parse_qs(urlsplit(first.target).query)["Email"] == ["hanako@corp.test"]
