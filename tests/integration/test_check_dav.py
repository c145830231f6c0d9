"""The CalDAV and CardDAV check against real servers: the test world's Radicale (a real CalDAV and
CardDAV server, over TLS) and the world's web server playing DAV servers that misbehave, answer
their home set on another host (as iCloud's ``pNN-caldav.icloud.com``), or redirect where the
password must not go. Every failure mode gives its own finding code within the deadline."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from app.core.checks.base import (
    AuthGate,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
    Secret,
)
from app.core.checks.dav import MAX_REDIRECTS, check_caldav, check_carddav, check_dav
from app.core.model import Protocol
from app.core.net import Network, NetworkOptions, parse_resolve
from tests.integration.checks_support import password, run
from tests.world.ca import TestCA
from tests.world.faultproxy import FaultProxy
from tests.world.radicale import RadicaleServer
from tests.world.web import Request, Response, WebServer, hang, huge, redirect

DAV_HOST = "dav.example.test"
SHARD_HOST = "p07-dav.example.test"  # same registered domain: gets the password
FOREIGN_HOST = "dav.corp.test"  # another registered domain: never gets the password
USER = "taro@example.test"
PASSWORD = "fake-Secret-7"


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def target(
    url: str,
    credentials: Credentials | None = None,
    protocol: Protocol = Protocol.CALDAV,
    address: str | None = None,
) -> CheckTarget:
    return CheckTarget(protocol=protocol, url=url, credentials=credentials, address=address)


def check(
    net: Network, checked: CheckTarget, gate: AuthGate | None = None, limit: float = 20.0
) -> CheckResult:
    return run(check_dav(checked, CheckContext(net=net, gate=gate or AuthGate())), limit)


def step_names(result: CheckResult) -> list[tuple[str, bool]]:
    return [(step.name, step.ok) for step in result.steps]


def codes(result: CheckResult) -> list[str]:
    return [finding.code for finding in result.findings]


# --- Radicale: the real server ------------------------------------------------------------------


@pytest.fixture
def radicale_net(radicale: RadicaleServer, test_ca: TestCA) -> Network:
    """Trusts the test CA; ``dav.example.test:443`` is Radicale."""
    return Network(
        NetworkOptions(
            ca_bundles=(test_ca.cert_path,),
            resolve=(parse_resolve(f"{DAV_HOST}:443:127.0.0.1:{radicale.port}"),),
            system_proxy=False,
            timeout=5.0,
        )
    )


def new_user(radicale: RadicaleServer, secret: str = PASSWORD) -> str:
    """A user of its own for each test, so that its failed logins are its own."""
    user = f"dav-{uuid.uuid4().hex[:10]}@example.test"
    radicale.add_user(user, secret)
    return user


def failed_logins(radicale: RadicaleServer, user: str, *, at_least: int = 0) -> int:
    """Radicale's count of failed logins for ``user`` (its log says each one), read once it
    shows ``at_least`` (bounded wait: the log is written by another process)."""
    deadline = time.monotonic() + 3.0
    while True:
        text = radicale.log.read_text(encoding="utf-8", errors="replace")
        count = sum(
            1 for line in text.splitlines() if "Failed login attempt" in line and repr(user) in line
        )
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


@pytest.mark.parametrize("start", ["root", "root-by-name", "well-known"])
def test_caldav_finds_the_users_calendar(
    radicale: RadicaleServer, radicale_net: Network, start: str
) -> None:
    user = new_user(radicale)
    url = {
        "root": radicale.url,
        "root-by-name": f"https://{DAV_HOST}/",
        "well-known": f"https://{DAV_HOST}/.well-known/caldav",
    }[start]
    result = check(radicale_net, target(url, password(user, PASSWORD), address=user))

    assert result.ok, result.finding
    assert result.authenticated and result.auth_tried
    assert result.finding is None
    assert step_names(result) == [
        ("connect", True),
        ("tls", True),
        ("well-known", True),
        ("challenge", True),
        ("principal", True),
        ("home-set", True),
        ("collections", True),
    ]
    base = url.split("/.well-known")[0].rstrip("/")
    principal = f"{base}/{quote(user, safe='')}/"
    assert result.data["principal_url"] == principal
    assert result.data["home_set_url"] == principal
    assert result.data["auth_schemes"] == ["Basic"]
    assert result.data["context_url"] == base + "/"
    assert result.data["collections"] == [
        {
            "url": f"{principal}calendar/",
            "displayname": "Calendar",
            "components": ["VEVENT", "VTODO"],
        }
    ]
    assert result.tls is not None and result.tls.version in ("TLSv1.2", "TLSv1.3")
    assert str(result.steps[1].detail).startswith(f"implicit TLS: {result.tls.version}")
    assert result.data["username_differs"] is False
    assert failed_logins(radicale, user) == 0


def test_carddav_finds_the_users_address_book(
    radicale: RadicaleServer, radicale_net: Network
) -> None:
    user = new_user(radicale)
    result = run(
        check_carddav(
            target(radicale.url, password(user, PASSWORD), protocol=Protocol.CARDDAV),
            CheckContext(net=radicale_net),
        )
    )
    assert result.ok and result.authenticated, result.finding
    assert result.protocol is Protocol.CARDDAV
    assert result.data["service"] == "carddav"
    assert result.data["collections"] == [
        {"url": radicale.addressbook_url(user), "displayname": "Contacts", "components": []}
    ]
    assert [s.name for s in result.steps][-3:] == ["principal", "home-set", "collections"]


def test_wrong_password_costs_exactly_one_failed_login(
    radicale: RadicaleServer, radicale_net: Network
) -> None:
    user = new_user(radicale)
    gate = AuthGate()
    result = check(radicale_net, target(radicale.url, password(user, "not-the-password")), gate)

    assert not result.ok and not result.authenticated and result.auth_tried
    assert result.finding is not None and result.finding.code == "dav.auth.failed"
    assert result.finding.server_said is not None and "401" in result.finding.server_said
    assert ("principal", False) in step_names(result)
    assert failed_logins(radicale, user, at_least=1) == 1
    time.sleep(0.3)  # nothing else arrives late
    assert failed_logins(radicale, user) == 1


def test_caldav_and_carddav_share_one_failed_login_through_the_gate(
    radicale: RadicaleServer, radicale_net: Network
) -> None:
    user = new_user(radicale)
    wrong = password(user, "wrong-for-both")
    gate = AuthGate()

    async def both() -> list[CheckResult]:
        context = CheckContext(net=radicale_net, gate=gate)
        return list(
            await asyncio.gather(
                check_caldav(target(radicale.url, wrong), context),
                check_carddav(target(radicale.url, wrong, Protocol.CARDDAV), context),
            )
        )

    results = run(both())
    assert sorted(r.finding.code for r in results if r.finding) == [
        "dav.auth.failed",
        "dav.auth.skipped",
    ]
    skipped = next(r for r in results if r.finding and r.finding.code == "dav.auth.skipped")
    assert not skipped.auth_tried and not skipped.ok
    assert step_names(skipped)[-1] == ("principal", False)
    assert failed_logins(radicale, user, at_least=1) == 1


def test_right_password_lets_both_checks_sign_in_after_the_first(
    radicale: RadicaleServer, radicale_net: Network
) -> None:
    user = new_user(radicale)
    right = password(user, PASSWORD)

    async def both() -> list[CheckResult]:
        context = CheckContext(net=radicale_net)
        return list(
            await asyncio.gather(
                check_caldav(target(radicale.url, right), context),
                check_carddav(target(radicale.url, right, Protocol.CARDDAV), context),
            )
        )

    assert [(r.ok, r.authenticated) for r in run(both())] == [(True, True), (True, True)]


def test_without_credentials_the_challenge_is_reported(
    radicale: RadicaleServer, radicale_net: Network
) -> None:
    result = check(radicale_net, target(radicale.url))
    assert result.ok and not result.authenticated and not result.auth_tried
    assert result.finding is None
    # the test CA is one the caller configured (ca_bundles): told as such, not as a failure
    assert codes(result) == ["tls.configured-ca", "dav.auth.required"]
    assert result.data["auth_schemes"] == ["Basic"]
    assert step_names(result) == [
        ("connect", True),
        ("tls", True),
        ("well-known", True),
        ("challenge", True),
    ]
    rendered = result.findings[1].to_dict()
    assert "Basic" in str(rendered["cause"])


# --- a DAV server played by the world's web server ----------------------------------------------


def multistatus(*responses: str) -> Response:
    return Response.xml(
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'
        ' xmlns:card="urn:ietf:params:xml:ns:carddav">' + "".join(responses) + "</d:multistatus>",
        status=207,
    )


def dav_response(href: str, props: str) -> str:
    return (
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )


def principal_answer(path: str = "/", principal: str = "/u/principal/") -> Response:
    return multistatus(
        dav_response(
            path,
            f"<d:current-user-principal><d:href>{principal}</d:href></d:current-user-principal>",
        )
    )


def home_answer(home_href: str, principal: str = "/u/principal/") -> Response:
    return multistatus(
        dav_response(
            principal, f"<c:calendar-home-set><d:href>{home_href}</d:href></c:calendar-home-set>"
        )
    )


def calendars_answer(home: str = "/u/calendars/", *, with_calendar: bool = True) -> Response:
    parts = [
        dav_response(home, "<d:resourcetype><d:collection/></d:resourcetype>"),
        dav_response(
            f"{home}inbox/",
            "<d:resourcetype><d:collection/><c:schedule-inbox/></d:resourcetype>",
        ),
    ]
    if with_calendar:
        parts.append(
            dav_response(
                f"{home}work/",
                "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
                "<d:displayname>Work 仕事</d:displayname>"
                '<c:supported-calendar-component-set><c:comp name="VEVENT"/>'
                "</c:supported-calendar-component-set>",
            )
        )
    return multistatus(*parts)


@dataclass
class FakeDav:
    """Routes on the world's web server that behave like a DAV server for one user: a request
    without the right ``Authorization`` gets a 401 challenge."""

    web: WebServer
    test_ca: TestCA
    user: str = USER
    secret: str = PASSWORD
    kind: CredentialKind = CredentialKind.PASSWORD
    challenge: str = 'Basic realm="fake dav"'
    hosts: list[str] = field(default_factory=lambda: [DAV_HOST, SHARD_HOST, FOREIGN_HOST])

    @property
    def authorization(self) -> str:
        if self.kind is CredentialKind.OAUTH2:
            return f"Bearer {self.secret}"
        return basic(self.user, self.secret)

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.user, Secret(self.secret), self.kind)

    def guarded(self, answer: Response | Callable[[Request], Response]) -> Callable[..., Response]:
        def handle(request: Request) -> Response:
            if request.headers.get("Authorization") != self.authorization:
                return Response.text("sign in\n", 401, headers={"WWW-Authenticate": self.challenge})
            return answer if isinstance(answer, Response) else answer(request)

        return handle

    def serve(
        self,
        path: str,
        answer: Response | Callable[[Request], Response],
        host: str = DAV_HOST,
        *,
        guard: bool = True,
    ) -> None:
        self.web.route(
            path, self.guarded(answer) if guard else answer, host=host, method="PROPFIND"
        )

    def serve_account(self, home_href: str, home_host: str = DAV_HOST) -> None:
        """The root names the principal; the principal names ``home_href`` as its home set;
        the home set (on ``home_host``) holds a calendar."""
        self.serve("/", principal_answer())
        self.serve("/u/principal/", home_answer(home_href))
        self.serve("/u/calendars/", calendars_answer(), host=home_host)

    def net(self, *, timeout: float = 5.0, port: int | None = None, **extra: int) -> Network:
        """``hosts`` on port 443 go to the web server (or ``port``); ``extra`` maps more
        ``host:port`` strings to local ports."""
        overrides = [
            parse_resolve(f"{host}:443:127.0.0.1:{port or self.web.port}") for host in self.hosts
        ]
        overrides += [parse_resolve(f"{key}:127.0.0.1:{value}") for key, value in extra.items()]
        return Network(
            NetworkOptions(
                ca_bundles=(self.test_ca.cert_path,),
                resolve=tuple(overrides),
                system_proxy=False,
                timeout=timeout,
            )
        )

    def authorized_hosts(self) -> set[str]:
        return {r.host for r in self.web.requests if "Authorization" in r.headers}


@pytest.fixture
def fake(web: WebServer, test_ca: TestCA) -> FakeDav:
    return FakeDav(web, test_ca)


def test_a_home_set_on_another_host_of_the_same_domain_is_followed(fake: FakeDav) -> None:
    fake.serve_account(f"https://{SHARD_HOST}/u/calendars/", home_host=SHARD_HOST)
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))

    assert result.ok and result.authenticated, result.finding
    assert result.data["home_set_url"] == f"https://{SHARD_HOST}/u/calendars/"
    assert result.data["collections"] == [
        {
            "url": f"https://{SHARD_HOST}/u/calendars/work/",
            "displayname": "Work 仕事",
            "components": ["VEVENT"],
        }
    ]
    shard = fake.web.requests_to("/u/calendars/", host=SHARD_HOST)
    assert [r.headers.get("Authorization") for r in shard] == [fake.authorization]
    assert shard[0].headers["Depth"] == "1"


def test_a_home_set_on_a_foreign_domain_gets_no_credentials(fake: FakeDav) -> None:
    fake.serve_account(f"https://{FOREIGN_HOST}/u/calendars/", home_host=FOREIGN_HOST)
    gate = AuthGate()
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials), gate)

    assert not result.ok
    assert result.finding is not None and result.finding.code == "dav.href.foreign"
    assert result.finding.detail["target"] == f"https://{FOREIGN_HOST}/u/calendars/"
    assert result.authenticated  # the sign-in at the provider itself worked
    assert fake.web.requests_to(host=FOREIGN_HOST) == []
    assert fake.authorized_hosts() == {DAV_HOST}


def test_a_redirect_to_a_foreign_domain_is_reported_not_followed_with_credentials(
    fake: FakeDav,
) -> None:
    fake.serve("/", redirect(f"https://{FOREIGN_HOST}/"), guard=False)
    fake.serve("/", principal_answer(), host=FOREIGN_HOST)
    gate = AuthGate()
    credentials = fake.credentials
    result = check(fake.net(), target(f"https://{DAV_HOST}/", credentials), gate)

    assert result.finding is not None and result.finding.code == "dav.redirect.foreign"
    assert result.finding.detail["target"] == f"https://{FOREIGN_HOST}/"
    assert not result.auth_tried
    foreign = fake.web.requests_to(host=FOREIGN_HOST)
    assert foreign, "the unauthenticated request follows the redirect"
    assert all("Authorization" not in r.headers for r in foreign)
    assert fake.authorized_hosts() == set()

    async def next_turn() -> bool:  # the gate was released: another check may sign in
        return await asyncio.wait_for(gate.turn(credentials), 1.0)

    assert run(next_turn())


def test_a_redirect_to_http_is_refused_and_http_never_asked(
    fake: FakeDav, plain_web: WebServer
) -> None:
    fake.serve("/dav/", redirect(f"http://{DAV_HOST}/dav/", 301), guard=False)
    plain_web.route(
        "/dav/", fake.guarded(principal_answer("/dav/")), host=DAV_HOST, method="PROPFIND"
    )
    net = fake.net(**{f"{DAV_HOST}:80": plain_web.port})
    for credentials in (fake.credentials, None):
        result = check(net, target(f"https://{DAV_HOST}/dav/", credentials))
        assert result.finding is not None and result.finding.code == "dav.redirect.insecure"
        assert result.finding.detail["target"] == f"http://{DAV_HOST}/dav/"
        assert not result.ok
    assert plain_web.requests == []


def test_a_redirect_loop_is_found(fake: FakeDav) -> None:
    def loop(request: Request) -> Response:
        return redirect("/loop" if request.query.get("again") else "/loop?again=1")

    fake.serve("/loop", loop, guard=False)
    result = check(fake.net(), target(f"https://{DAV_HOST}/loop", fake.credentials))
    assert result.finding is not None and result.finding.code == "dav.redirect.loop"
    assert len(fake.web.requests_to("/loop")) == 2
    assert not result.auth_tried


def test_too_many_redirects_are_cut_off(fake: FakeDav) -> None:
    for hop in range(12):
        fake.serve(f"/r{hop}", redirect(f"/r{hop + 1}", 307), guard=False)
    result = check(fake.net(), target(f"https://{DAV_HOST}/r0"))
    assert result.finding is not None and result.finding.code == "dav.redirect.too-many"
    assert len(fake.web.requests) == MAX_REDIRECTS + 1
    assert len(result.data["redirects"]) == MAX_REDIRECTS + 1  # type: ignore[arg-type]


def test_the_well_known_redirect_is_followed_to_the_context_path(fake: FakeDav) -> None:
    fake.serve("/.well-known/caldav", redirect("/dav/", 301), guard=False)
    fake.serve("/dav/", principal_answer("/dav/"))
    fake.serve("/u/principal/", home_answer("/u/calendars/"))
    fake.serve("/u/calendars/", calendars_answer())
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))
    assert result.ok, result.finding
    assert result.data["context_url"] == f"https://{DAV_HOST}/dav/"
    assert result.data["redirects"] == [
        {
            "from": f"https://{DAV_HOST}/.well-known/caldav",
            "to": f"https://{DAV_HOST}/dav/",
            "status": 301,
        }
    ]
    assert fake.web.requests_to("/", host=DAV_HOST) == []  # the root was not needed


def test_404_everywhere_means_no_dav_here(fake: FakeDav) -> None:
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))
    assert result.finding is not None and result.finding.code == "dav.not-found"
    assert result.finding.detail["status"] == 404
    assert step_names(result)[-2:] == [("well-known", False), ("principal", False)]
    assert [r.path for r in fake.web.requests] == ["/.well-known/caldav", "/"]
    assert not result.auth_tried


def test_403_after_sign_in_is_forbidden_not_a_wrong_password(fake: FakeDav) -> None:
    fake.serve("/", Response.text("no calendars for you\n", 403))
    gate = AuthGate()
    credentials = fake.credentials
    result = check(fake.net(), target(f"https://{DAV_HOST}/", credentials), gate)
    assert result.finding is not None and result.finding.code == "dav.forbidden"
    assert result.finding.server_said == "HTTP 403 Forbidden: no calendars for you"
    assert result.auth_tried and not result.authenticated

    async def next_turn() -> bool:  # FAILED_OTHERWISE: others may still try
        return await asyncio.wait_for(gate.turn(credentials), 1.0)

    assert run(next_turn())


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_huge_body_is_not_read(fake: FakeDav, declare_length: bool) -> None:
    body = dataclasses.replace(
        huge(50 * 1024 * 1024, declare_length=declare_length, content_type="application/xml"),
        status=207,
    )
    fake.serve("/dav/", body, guard=False)
    started = time.monotonic()
    result = check(fake.net(), target(f"https://{DAV_HOST}/dav/", fake.credentials))
    assert time.monotonic() - started < 5.0
    assert result.finding is not None and result.finding.code == "dav.response.too-large"
    assert result.finding.detail["host"] == DAV_HOST


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (
            Response.xml(b"<d:multistatus xmlns:d='DAV:'><d:response><<garbage", 207),
            "dav.response.malformed",
        ),
        (
            Response.xml(
                b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                b'<multistatus xmlns="DAV:">&a;</multistatus>',
                207,
            ),
            "dav.response.malformed",
        ),
        (
            Response(207, "<html><body>It works!</body></html>", content_type="text/html"),
            "dav.not-dav",
        ),
        (
            Response(200, "<html><body>It works!</body></html>", content_type="text/html"),
            "dav.not-dav",
        ),
        (multistatus(dav_response("/", "<d:displayname>root</d:displayname>")), "dav.no-principal"),
        (Response.text("oops\n", 500), "dav.server-error"),
        (Response.text("teapot\n", 418), "dav.unexpected-status"),
    ],
)
def test_what_the_server_answers_after_sign_in(fake: FakeDav, answer: Response, code: str) -> None:
    fake.serve("/", answer)
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))
    assert result.finding is not None and result.finding.code == code
    assert ("principal", False) in step_names(result)


def test_a_principal_without_home_set(fake: FakeDav) -> None:
    fake.serve("/", principal_answer())
    fake.serve("/u/principal/", multistatus(dav_response("/u/principal/", "<d:displayname/>")))
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))
    assert result.finding is not None and result.finding.code == "dav.no-home-set"
    assert step_names(result)[-1] == ("home-set", False)


@pytest.mark.parametrize(
    ("protocol", "code"),
    [(Protocol.CALDAV, "dav.no-calendars"), (Protocol.CARDDAV, "dav.no-address-books")],
)
def test_an_account_with_the_service_switched_off_has_no_collections(
    fake: FakeDav, protocol: Protocol, code: str
) -> None:
    fake.serve("/", principal_answer())
    fake.serve(
        "/u/principal/",
        multistatus(
            dav_response(
                "/u/principal/",
                "<c:calendar-home-set><d:href>/u/calendars/</d:href></c:calendar-home-set>"
                "<card:addressbook-home-set><d:href>/u/calendars/</d:href>"
                "</card:addressbook-home-set>",
            )
        ),
    )
    fake.serve("/u/calendars/", calendars_answer(with_calendar=False))
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials, protocol))
    assert result.authenticated and not result.ok
    assert result.finding is not None and result.finding.code == code
    assert result.finding.outcome.value == "warning"
    assert result.data["collections"] == []


def test_a_server_open_to_anyone_is_walked_without_credentials(fake: FakeDav) -> None:
    fake.serve("/", principal_answer(), guard=False)
    fake.serve("/u/principal/", home_answer("/u/calendars/"), guard=False)
    fake.serve("/u/calendars/", calendars_answer(), guard=False)
    free = check(fake.net(), target(f"https://{DAV_HOST}/"))
    assert free.ok and not free.authenticated and not free.auth_tried
    assert [c["url"] for c in free.data["collections"]] == [  # type: ignore[attr-defined]
        f"https://{DAV_HOST}/u/calendars/work/"
    ]
    assert "challenge" not in [s.name for s in free.steps]
    # with a password: it is sent, but an open server accepts any, so nothing is proven
    fake.web.requests.clear()
    signed = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))
    assert signed.ok and signed.auth_tried and not signed.authenticated
    assert fake.authorized_hosts() == {DAV_HOST}


def test_bearer_token_is_sent_as_bearer(fake: FakeDav) -> None:
    fake.kind = CredentialKind.OAUTH2
    fake.secret = "token-ABC.def"
    fake.challenge = 'Bearer realm="fake", Basic realm="fake"'
    fake.serve_account("/u/calendars/")
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials))
    assert result.ok and result.authenticated, result.finding
    assert result.data["auth_method"] == "bearer"
    assert result.data["auth_schemes"] == ["Bearer", "Basic"]
    sent = {
        r.headers.get("Authorization") for r in fake.web.requests if "Authorization" in r.headers
    }
    assert sent == {"Bearer token-ABC.def"}


def test_a_password_is_not_sent_where_only_bearer_is_offered(fake: FakeDav) -> None:
    fake.challenge = 'Bearer realm="fake"'
    fake.serve_account("/u/calendars/")
    gate = AuthGate()
    result = check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials), gate)
    assert result.finding is not None and result.finding.code == "dav.auth.basic-not-offered"
    assert result.data["auth_schemes"] == ["Bearer"]
    assert step_names(result)[-1] == ("principal", False)
    assert not result.auth_tried
    assert fake.authorized_hosts() == set()


def test_the_server_not_answering_in_time(fake: FakeDav) -> None:
    fake.web.hang_limit = 3
    fake.serve("/dav/", hang(), guard=False)
    started = time.monotonic()
    result = check(fake.net(timeout=0.5), target(f"https://{DAV_HOST}/dav/", fake.credentials))
    assert time.monotonic() - started < 2.5
    assert result.finding is not None and result.finding.code == "dav.timeout"
    assert result.steps[-1].name == "principal" and not result.steps[-1].ok


@pytest.mark.parametrize(
    ("names", "expired", "code"),
    [(("other.test",), False, "tls.wrong-host"), ((DAV_HOST,), True, "tls.expired")],
)
def test_tls_failures_come_from_the_seam(
    fake: FakeDav,
    test_ca: TestCA,
    make_web_server: Callable[..., WebServer],
    names: tuple[str, ...],
    expired: bool,
    code: str,
) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = test_ca.issue(
        names,
        not_before=now - dt.timedelta(days=30) if expired else None,
        not_after=now - dt.timedelta(days=1) if expired else None,
    )
    bad = make_web_server(cert=cert)
    result = check(fake.net(port=bad.port), target(f"https://{DAV_HOST}/", fake.credentials))
    assert result.finding is not None and result.finding.code == code
    assert step_names(result) == [("connect", True), ("tls", False)]
    assert not result.auth_tried and bad.requests == []


def test_a_plain_http_address_gets_no_password(fake: FakeDav) -> None:
    result = check(fake.net(), target(f"http://{DAV_HOST}/", fake.credentials))
    assert result.finding is not None and result.finding.code == "dav.insecure-url"
    assert fake.web.requests == [] and result.steps == ()


def test_an_unusable_url_is_a_finding(fake: FakeDav) -> None:
    result = check(fake.net(), target("ftp://dav.example.test/", fake.credentials))
    assert result.finding is not None and result.finding.code == "dav.url.invalid"


# --- iCloud's shape: Apple Account name, pNN shard host -----------------------------------------


@pytest.fixture
def icloud(fake: FakeDav, test_ca: TestCA) -> FakeDav:
    cert = test_ca.issue(("caldav.icloud.com", "p07-caldav.icloud.com"))
    for host in ("caldav.icloud.com", "p07-caldav.icloud.com"):
        fake.web.set_certificate(cert, host=host)
    fake.hosts = ["caldav.icloud.com", "p07-caldav.icloud.com"]
    fake.user = "taro.apple-id@gmail.test"
    fake.secret = "abcd-efgh-ijkl-mnop"
    host = "caldav.icloud.com"
    fake.serve(
        "/.well-known/caldav",
        principal_answer("/.well-known/caldav/", "/1234/principal/"),
        host=host,
    )
    fake.serve(
        "/1234/principal/",
        home_answer("https://p07-caldav.icloud.com:443/1234/calendars/", "/1234/principal/"),
        host=host,
    )
    fake.serve(
        "/1234/calendars/", calendars_answer("/1234/calendars/"), host="p07-caldav.icloud.com"
    )
    return fake


def test_icloud_calendars_on_the_shard_host_with_the_apple_account(icloud: FakeDav) -> None:
    result = check(
        icloud.net(),
        target("https://caldav.icloud.com/", icloud.credentials, address="taro@icloud.com"),
    )
    assert result.ok and result.authenticated, result.finding
    assert result.data["home_set_url"] == "https://p07-caldav.icloud.com:443/1234/calendars/"
    assert [c["displayname"] for c in result.data["collections"]] == ["Work 仕事"]  # type: ignore[index,union-attr]
    assert result.data["username_differs"] is True
    # a well-known provider's hosts showing a certificate of a CA outside the public roots:
    # each host's own certificate is looked at, and inspection is a warning, not a failure
    assert codes(result) == ["dav.username-differs", "tls.intercepted", "tls.intercepted"]
    assert [f.detail["host"] for f in result.findings[1:]] == [
        "caldav.icloud.com",
        "p07-caldav.icloud.com",
    ]
    assert icloud.authorized_hosts() == {"caldav.icloud.com", "p07-caldav.icloud.com"}


def test_icloud_wrong_password_explains_app_specific_passwords(icloud: FakeDav) -> None:
    wrong = Credentials(icloud.user, Secret("my-apple-account-password"))
    result = check(
        icloud.net(), target("https://caldav.icloud.com/", wrong, address="taro@icloud.com")
    )
    assert result.finding is not None and result.finding.code == "dav.auth.icloud"
    text = json.dumps(result.finding.to_dict("ja"), ensure_ascii=False)
    assert "App 用パスワード" in text
    assert codes(result) == ["dav.auth.icloud", "dav.username-differs", "tls.intercepted"]
    assert len([r for r in icloud.web.requests if "Authorization" in r.headers]) == 1


# --- cancel and secrets -------------------------------------------------------------------------


def test_cancel_closes_the_connection_at_once(
    fake: FakeDav, fault_proxy: Callable[..., FaultProxy]
) -> None:
    fake.web.hang_limit = 5
    fake.serve("/dav/", hang(), guard=False)
    proxy = fault_proxy("127.0.0.1", fake.web.port)
    net = fake.net(port=proxy.port)

    async def scenario() -> float:
        task = asyncio.ensure_future(
            check_dav(target(f"https://{DAV_HOST}/dav/", fake.credentials), CheckContext(net=net))
        )
        async with asyncio.timeout(5):
            while not fake.web.requests_to("/dav/"):  # noqa: ASYNC110 - another thread
                await asyncio.sleep(0.01)
        assert proxy.open_connections == 1
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 3.0)
        return time.monotonic() - cancelled_at

    assert run(scenario()) < 0.5
    assert proxy.wait_idle(1.0), f"{proxy.open_connections} connection(s) left open"


def _forms(*secrets: str, user: str) -> list[str]:
    forms: list[str] = []
    for secret in secrets:
        for raw in (secret.encode(), f"{user}:{secret}".encode()):
            forms += [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
        forms.append(secret)
    return [f.rstrip("=") for f in forms]


def test_secrets_never_reach_the_result_or_the_logs(
    radicale: RadicaleServer,
    radicale_net: Network,
    fake: FakeDav,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    right, wrong, token = "Sentinel-Pw-7f3a9c", "Sentinel-Wrong-2b8d41", "Sentinel-Tok-91e0c7"
    user = new_user(radicale, right)
    results = [
        check(radicale_net, target(radicale.url, password(user, right), address=user)),
        check(radicale_net, target(radicale.url, password(user, wrong))),
    ]
    fake.kind, fake.secret = CredentialKind.OAUTH2, token
    fake.challenge = "Bearer"
    fake.serve_account("/u/calendars/")
    results.append(check(fake.net(), target(f"https://{DAV_HOST}/", fake.credentials)))
    bad_token = Credentials(USER, Secret(token + "-x"), CredentialKind.OAUTH2)
    results.append(check(fake.net(), target(f"https://{DAV_HOST}/", bad_token)))

    assert [r.ok for r in results] == [True, False, True, False]
    assert [r.finding.code for r in results if r.finding] == ["dav.auth.failed", "dav.auth.failed"]
    shown = json.dumps(
        [r.to_dict() for r in results] + [r.to_dict("ja") for r in results], ensure_ascii=False
    )
    shown += repr(results) + caplog.text
    shown += "".join(str(record.args) + record.getMessage() for record in caplog.records)
    assert caplog.records, "the check's HTTP traffic is logged at DEBUG"
    for form in _forms(right, wrong, token, token + "-x", user=user) + _forms(token, user=USER):
        assert form not in shown, form
