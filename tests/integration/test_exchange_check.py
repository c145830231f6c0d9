"""Helpdesk mode's Exchange check (app/core/diagnostics/exchange_check.py) against the test
world's Exchange emulation (``tests/world/exchange.py``) on the world's real HTTPS server.

Every name reaches 127.0.0.1 through ``--resolve``-style overrides; a gateway in front of
Exchange is played by replacing single routes (``web.route``) for one test. Each situation must
give its own ``exchange.*`` finding, within the check's time bound, with no credential sent and
no secret kept.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from app.core.diagnostics.exchange_check import CODES, check_exchange
from app.core.diagnostics.knowledge import entry
from app.core.errors import Fixer
from app.core.model import EmailAddress, Finding, Outcome
from app.core.net import Network, NetworkOptions, parse_resolve
from app.core.texts import render
from tests.world.ca import TestCA
from tests.world.exchange import (
    ACTIVESYNC_PATH,
    AUTODISCOVER_PATH,
    EWS_PATH,
    ExchangeWorld,
    OnPremExchange,
)
from tests.world.proc import free_port
from tests.world.web import Request, Response, hang, redirect

T = TypeVar("T")
ADDRESS = "hanako@corp.test"
AUTODISCOVER = "autodiscover.corp.test"
MAIL = "mail.corp.test"
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Sign In &amp; Continue</title></head>"
    "<body><form method='post'><input name='username'></form></body></html>"
)


def run(awaitable: Awaitable[T], limit: float = 20.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def check(
    net: Network, *, hosts: Sequence[str] | None = None, seconds: float = 5.0
) -> tuple[dict[str, object], list[Finding]]:
    return run(check_exchange(EmailAddress.parse(ADDRESS), net, hosts=hosts, seconds=seconds))


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, codes(findings)
    return found[0]


def on_premises(exchange: ExchangeWorld, **options: bool) -> OnPremExchange:
    tenant = exchange.add_tenant("corp.test")
    server = exchange.add_on_premises(tenant=tenant, **options)
    exchange.add_mailbox(ADDRESS, tenant, on_premises=server)
    return server


def dumped(facts: dict[str, object], findings: list[Finding]) -> str:
    """Everything the check hands over, as the report would hold it (both languages)."""
    shown = [f.to_dict(language) for f in findings for language in ("en", "ja")]
    return json.dumps({"facts": facts, "findings": shown}, ensure_ascii=False)


# --- the Bearer challenge ------------------------------------------------------------------------


def test_hybrid_modern_auth_gives_no_problem(exchange: ExchangeWorld) -> None:
    server = on_premises(exchange)

    facts, findings = check(exchange.network())

    assert codes(findings) == ["exchange.modern-auth"]
    (ok,) = findings
    assert ok.outcome is Outcome.OK
    assert ok.detail["host"] == MAIL and ok.detail["services"] == "ActiveSync, EWS"
    cause = render(ok.cause, "en")
    assert "https://login.microsoftonline.com/common" in cause and MAIL in cause
    assert facts["modern_auth"] == {"ActiveSync": True, "EWS": True}
    assert facts["pre_authentication"] is False
    assert facts["urls"] == {
        "ActiveSync": f"https://{MAIL}{ACTIVESYNC_PATH}",
        "EWS": f"https://{MAIL}{EWS_PATH}",
    }
    services = facts["services"]
    assert isinstance(services, list) and len(services) == 2
    for service in services:
        assert service["status"] == 401
        assert service["schemes"] == ["Bearer", "Basic", "NTLM", "Negotiate"]
        assert service["authorization_uri"] == server.authorization_uri
        assert service["tenant_id"] == server.tenant_id
    # Autodiscover asked for both protocols, anonymously; the services got an empty Bearer only.
    asked = exchange.requests(AUTODISCOVER, AUTODISCOVER_PATH)
    assert sorted(r.query["Protocol"] for r in asked) == ["ActiveSync", "EWS"]
    assert all("authorization" not in r.headers for r in asked)
    probes = exchange.requests(MAIL)
    assert sorted(r.path for r in probes) == sorted([ACTIVESYNC_PATH, EWS_PATH])
    assert all(r.headers["Authorization"] == "Bearer" and ADDRESS not in r.target for r in probes)
    # The address went only to Autodiscover: the facts hold URLs without their query strings.
    assert "hanako" not in json.dumps(facts)


@pytest.mark.parametrize(
    ("options", "code", "schemes"),
    [
        ({"modern_auth": False}, "exchange.bearer-missing", "Basic, NTLM, Negotiate"),
        (
            {"modern_auth": False, "server_to_server": True},
            "exchange.bearer-no-authority",
            "Bearer, Basic, NTLM, Negotiate",
        ),
    ],
)
def test_without_modern_auth_only_basic_and_ntlm_come_back(
    exchange: ExchangeWorld, options: dict[str, bool], code: str, schemes: str
) -> None:
    on_premises(exchange, **options)

    facts, findings = check(exchange.network())

    assert codes(findings) == [code]
    (problem,) = findings
    assert problem.outcome is Outcome.WARNING and problem.fixer is Fixer.ADMIN
    assert problem.detail["schemes"] == schemes
    assert problem.detail["services"] == "ActiveSync, EWS"  # one finding for the host
    assert "authorization_uri" not in problem.detail
    if code == "exchange.bearer-missing":
        assert "Basic, NTLM, Negotiate" in render(problem.cause, "en")
        assert "Basic, NTLM, Negotiate" in render(problem.cause, "ja")
    assert facts["modern_auth"] == {"ActiveSync": False, "EWS": False}


def test_a_proxy_that_strips_the_bearer_challenge_is_found(exchange: ExchangeWorld) -> None:
    """A reverse proxy answering the 401 itself for ActiveSync, with only Basic: EWS (not behind
    it) still offers modern authentication."""
    on_premises(exchange)
    exchange.web.route(
        ACTIVESYNC_PATH,
        Response.text("401\n", 401, headers={"WWW-Authenticate": 'Basic realm="gateway"'}),
        host=MAIL,
        method="*",
    )

    facts, findings = check(exchange.network())

    assert sorted(codes(findings)) == ["exchange.bearer-missing", "exchange.modern-auth"]
    missing = only(findings, "exchange.bearer-missing")
    assert missing.detail["services"] == "ActiveSync" and missing.detail["schemes"] == "Basic"
    assert only(findings, "exchange.modern-auth").detail["services"] == "EWS"
    assert facts["modern_auth"] == {"ActiveSync": False, "EWS": True}


def test_a_malformed_challenge_is_its_own_finding(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    bad = {"WWW-Authenticate": 'Bearer authorization_uri="http://login.corp.test/authorize"'}
    for path in (ACTIVESYNC_PATH, EWS_PATH):
        exchange.web.route(path, Response.text("401\n", 401, headers=bad), host=MAIL, method="*")

    _facts, findings = check(exchange.network())

    problem = only(findings, "exchange.bearer-unreadable")
    assert problem.detail["error"] == "discovery.www-authenticate.bad-authorization-uri"


# --- pre-authentication --------------------------------------------------------------------------


def test_a_redirect_to_a_sign_in_page_is_pre_authentication(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    target = "https://sts.corp.test/adfs/ls/?wa=wsignin1.0&wctx=rm%3d0%26id%3dSECRETSTATE"
    exchange.web.route(ACTIVESYNC_PATH, redirect(target), host=MAIL, method="*")

    facts, findings = check(exchange.network())

    problem = only(findings, "exchange.pre-auth")
    assert problem.outcome is Outcome.ERROR and problem.fixer is Fixer.ADMIN
    assert problem.detail["services"] == "ActiveSync"
    assert problem.detail["status"] == 302
    assert problem.detail["looks_like"] == "AD FS (Web Application Proxy)"
    cause = render(problem.cause, "en")
    assert "HTTP 302 -> https://sts.corp.test/adfs/ls/" in cause
    assert only(findings, "exchange.modern-auth").detail["services"] == "EWS"
    assert facts["pre_authentication"] is True
    assert "SECRETSTATE" not in dumped(facts, findings)  # the query string is never kept
    # The redirect was reported, never followed.
    assert exchange.web.requests_to(host="sts.corp.test") == []


def test_a_sign_in_page_answering_200_is_pre_authentication(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    page = Response(
        200,
        LOGIN_PAGE,
        content_type="text/html; charset=utf-8",
        headers={"Set-Cookie": "MRHSession=COOKIEVALUE; path=/; secure"},
    )
    for path in (ACTIVESYNC_PATH, EWS_PATH):
        exchange.web.route(path, page, host=MAIL, method="*")

    facts, findings = check(exchange.network())

    assert codes(findings) == ["exchange.pre-auth"]
    (problem,) = findings
    assert problem.detail["services"] == "ActiveSync, EWS"
    assert problem.detail["looks_like"] == "F5 BIG-IP APM"
    assert problem.server_said == "Sign In & Continue"
    assert 'HTTP 200 text/html "Sign In & Continue"' in render(problem.cause, "ja")
    assert facts["modern_auth"] == {"ActiveSync": False, "EWS": False}
    assert "COOKIEVALUE" not in dumped(facts, findings)


def test_a_sign_in_page_in_front_of_autodiscover(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    exchange.web.route(
        AUTODISCOVER_PATH, Response(200, LOGIN_PAGE, content_type="text/html"), host=AUTODISCOVER
    )

    facts, findings = check(exchange.network())

    assert codes(findings) == ["exchange.autodiscover-pre-auth"]
    (problem,) = findings
    assert problem.outcome is Outcome.ERROR
    assert problem.detail["host"] == AUTODISCOVER
    assert facts["services"] == [] and facts["pre_authentication"] is True
    assert exchange.requests(MAIL) == []  # no URL was found, so no service was asked


def test_autodiscover_redirected_to_a_gateway_is_pre_authentication(
    exchange: ExchangeWorld,
) -> None:
    on_premises(exchange)
    exchange.web.route(
        AUTODISCOVER_PATH,
        redirect("https://gw.corp.test/my.policy?session=SECRETSESSION"),
        host=AUTODISCOVER,
    )

    facts, findings = check(exchange.network())

    problem = only(findings, "exchange.autodiscover-pre-auth")
    assert problem.detail["looks_like"] == "F5 BIG-IP APM"
    assert "https://gw.corp.test/my.policy" in render(problem.cause, "en")
    assert "SECRETSESSION" not in dumped(facts, findings)


def test_autodiscover_asking_for_a_sign_in(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    exchange.web.route(
        AUTODISCOVER_PATH,
        Response.text(
            "401\n", 401, headers={"WWW-Authenticate": "Negotiate", "Www-Authenticate": "NTLM"}
        ),
        host=AUTODISCOVER,
    )

    _facts, findings = check(exchange.network())

    problem = only(findings, "exchange.autodiscover-unauthorized")
    assert problem.detail["schemes"] == "Negotiate, NTLM"
    assert problem.outcome is Outcome.WARNING


def test_an_error_code_for_one_protocol_keeps_the_other(exchange: ExchangeWorld) -> None:
    server = on_premises(exchange)

    def answer(request: Request) -> Response:
        if request.query.get("Protocol") == "EWS":
            return Response.json({"ErrorCode": "ProtocolNotSupported", "ErrorMessage": "no EWS"})
        return Response.json({"Protocol": "ActiveSync", "Url": server.service_url("ActiveSync")})

    exchange.web.route(AUTODISCOVER_PATH, answer, host=AUTODISCOVER)

    facts, findings = check(exchange.network())

    assert sorted(codes(findings)) == ["exchange.autodiscover-refused", "exchange.modern-auth"]
    refused = only(findings, "exchange.autodiscover-refused")
    assert refused.detail["protocol"] == "EWS"
    assert refused.server_said == "ProtocolNotSupported: no EWS"
    assert facts["modern_auth"] == {"ActiveSync": True, "EWS": None}


# --- Autodiscover that does not answer -----------------------------------------------------------


def test_autodiscover_refusing_connections(exchange: ExchangeWorld) -> None:
    closed = parse_resolve(f"autodiscover.gone.test:443:127.0.0.1:{free_port()}")
    net = exchange.network(extra=(closed,))

    facts, findings = run(check_exchange(EmailAddress.parse("taro@gone.test"), net))

    assert codes(findings) == ["exchange.autodiscover-missing"]
    (problem,) = findings
    assert problem.detail["hosts"] == "autodiscover.gone.test"
    assert problem.detail["protocols"] == "ActiveSync, EWS"
    assert "autodiscover.gone.test" in render(problem.cause, "ja")
    lookups = facts["autodiscover"]
    assert isinstance(lookups, list)
    assert {item["result"] for item in lookups} == {"unreachable"}
    assert {item["error"] for item in lookups} == {"connect.refused"}


def test_autodiscover_not_published(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    exchange.web.unroute(AUTODISCOVER_PATH, host=AUTODISCOVER)  # 404 from then on

    facts, findings = check(exchange.network())

    assert codes(findings) == ["exchange.autodiscover-missing"]
    lookups = facts["autodiscover"]
    assert isinstance(lookups, list) and {item["status"] for item in lookups} == {404}


def test_a_hanging_autodiscover_is_a_timeout_within_the_bound(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    exchange.web.hang_limit = 5.0
    exchange.web.route(AUTODISCOVER_PATH, hang(), host=AUTODISCOVER)

    started = time.monotonic()
    facts, findings = check(exchange.network(), seconds=1.0)
    elapsed = time.monotonic() - started

    assert codes(findings) == ["exchange.timeout"]
    (problem,) = findings
    assert problem.detail == {"host": AUTODISCOVER, "seconds": "1"}
    assert elapsed < 3.0  # both questions at once, each bounded by one second
    lookups = facts["autodiscover"]
    assert isinstance(lookups, list) and {item["result"] for item in lookups} == {"timeout"}


def test_a_later_host_that_answers_wins(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    closed = parse_resolve(f"autodiscover.old.corp.test:443:127.0.0.1:{free_port()}")

    facts, findings = check(
        exchange.network(extra=(closed,)), hosts=["autodiscover.old.corp.test", AUTODISCOVER]
    )

    assert codes(findings) == ["exchange.modern-auth"]
    assert facts["hosts"] == ["autodiscover.old.corp.test", AUTODISCOVER]


def test_exchange_online_redirects_to_the_organisation(exchange: ExchangeWorld) -> None:
    """Asked first, as AutoDetect does, Exchange Online sends a hybrid mailbox's question on to
    the organisation's own Autodiscover (a redirect the discovery source's rules allow)."""
    on_premises(exchange)

    facts, findings = check(exchange.network(), hosts=["outlook.office365.com"])

    assert codes(findings) == ["exchange.modern-auth"]
    lookups = facts["autodiscover"]
    assert isinstance(lookups, list)
    for item in lookups:
        assert item["hops"] == [
            f"https://outlook.office365.com{AUTODISCOVER_PATH}",
            f"https://{AUTODISCOVER}{AUTODISCOVER_PATH}",
        ]
    assert len(exchange.requests(AUTODISCOVER, AUTODISCOVER_PATH)) == 2


def test_a_hanging_service_is_a_timeout_and_the_other_still_counts(
    exchange: ExchangeWorld,
) -> None:
    on_premises(exchange)
    exchange.web.hang_limit = 5.0
    exchange.web.route(ACTIVESYNC_PATH, hang(), host=MAIL, method="*")

    started = time.monotonic()
    facts, findings = check(exchange.network(), seconds=1.0)

    assert time.monotonic() - started < 3.0
    assert sorted(codes(findings)) == ["exchange.modern-auth", "exchange.timeout"]
    assert only(findings, "exchange.timeout").detail["host"] == MAIL
    assert facts["modern_auth"] == {"ActiveSync": False, "EWS": True}


# --- TLS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [MAIL, AUTODISCOVER])
def test_an_untrusted_certificate_is_a_tls_finding(
    exchange: ExchangeWorld, tmp_path: Path, host: str
) -> None:
    on_premises(exchange)
    unknown = TestCA(tmp_path / "unknown-ca", common_name="Unknown Inspection CA")
    exchange.web.set_certificate(unknown.issue((host,)), host=host)

    facts, findings = check(exchange.network())

    assert codes(findings) == ["exchange.tls"]  # ActiveSync and EWS on one host: one finding
    (problem,) = findings
    assert problem.outcome is Outcome.ERROR
    assert problem.detail == {"host": host, "error": "tls.untrusted"}
    assert "mailsetup explain tls.untrusted" in render(problem.fix or problem.cause, "en")
    # Autodiscover unusable: no service asked (None); the service unusable: no modern auth seen.
    seen = None if host == AUTODISCOVER else False
    assert facts["modern_auth"] == {"ActiveSync": seen, "EWS": seen}


# --- the rest -------------------------------------------------------------------------------------


def test_offline_asks_nothing(exchange: ExchangeWorld) -> None:
    on_premises(exchange)
    net = Network(NetworkOptions(offline=True, resolve=exchange.resolve()))

    facts, findings = check(net)

    assert findings == [] and facts["skipped"] == "offline"
    assert exchange.web.requests == []


def test_every_code_has_its_knowledge_entry() -> None:
    for code in CODES:
        assert entry(code).code == code


# --- in helpdesk mode -------------------------------------------------------------------------


def test_helpdesk_mode_checks_a_hybrid_mailbox_for_the_bearer_challenge(
    exchange: ExchangeWorld,
) -> None:
    """diagnose() runs the check for a mailbox on Exchange Server signing in through Microsoft
    (hybrid), and only for those; the phone symptom puts its findings first."""
    from app.core.diagnostics.diagnose import DiagnoseOptions, diagnose
    from app.core.diagnostics.environment import HostFacts
    from app.core.model import (
        AccountConfig,
        AuthKind,
        Endpoint,
        Protocol,
        Provenance,
        Security,
        Trust,
    )

    on_premises(exchange, modern_auth=False)
    hybrid = AccountConfig(
        incoming=Endpoint(Protocol.IMAP, MAIL, 993, Security.TLS),
        outgoing=None,
        provenance=Provenance("microsoft", Trust.HIGH, over_https=True),
        auth=AuthKind.EXCHANGE_HYBRID,
    )
    facts = HostFacts("Linux", "6", "#1", "x86_64", "3.11", "0.1.0", "tester", privileged=False)
    options = DiagnoseOptions(
        symptom="phone-stopped-syncing",
        settings=hybrid,
        keyring=False,
        thunderbird=(),
        facts=facts,
        deadline=10.0,
    )
    diagnosis = run(diagnose(ADDRESS, exchange.network(), options), limit=40.0)
    found = codes(list(diagnosis.findings))
    assert "exchange.bearer-missing" in found, found
    shown = diagnosis.to_dict()["exchange"]
    assert isinstance(shown, dict) and shown["modern_auth"] == {"ActiveSync": False, "EWS": False}
    # an ordinary IMAP account is none of Exchange's business: nothing is asked
    plain = run(
        diagnose(
            ADDRESS,
            exchange.network(),
            DiagnoseOptions(
                settings=AccountConfig(
                    incoming=hybrid.incoming,
                    outgoing=None,
                    provenance=hybrid.provenance,
                    auth=AuthKind.PASSWORD,
                ),
                keyring=False,
                thunderbird=(),
                facts=facts,
                deadline=10.0,
            ),
        ),
        limit=40.0,
    )
    assert plain.exchange is None
    assert not [code for code in codes(list(plain.findings)) if code.startswith("exchange.")]
