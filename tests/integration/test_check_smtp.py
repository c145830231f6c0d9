"""The SMTP check (app/core/checks/smtp.py) against the test world's real submission server
(aiosmtpd: implicit TLS and STARTTLS, PLAIN/LOGIN/XOAUTH2, delivery into Dovecot), through the
fault proxy for a network that misbehaves, and with certificates that must be refused.

The program reaches the servers by name (``smtp.example.test``) through the network seam's
``--resolve`` overrides, as a helpdesk would aim it at a server, trusting the world's test CA.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from app.core.checks.base import (
    AuthGate,
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    Credentials,
    Secret,
    Step,
)
from app.core.checks.roundtrip import STEP_ROUND_TRIP
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.checks.smtp import (
    STEP_AUTHENTICATE,
    STEP_CONNECT,
    STEP_EHLO,
    STEP_EHLO_PLAIN,
    STEP_GREETING,
    STEP_QUIT,
    STEP_SEND,
    STEP_TLS,
    check_smtp,
    check_smtp_round_trip,
    find_test_message,
    round_trip_of,
)
from app.core.checks.smtpclient import SmtpClient, plain_response, xoauth2_response
from app.core.model import Endpoint, Protocol, Security
from app.core.net import Network, NetworkOptions, parse_resolve
from tests.integration import checks_support as support
from tests.integration.checks_support import password, token
from tests.world.ca import CertPair, TestCA
from tests.world.dovecot import MAIL_HOST
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import MailWorld
from tests.world.idp import SMTP_SCOPE, IdentityProvider
from tests.world.proc import free_port
from tests.world.smtp import SubmissionServer

pytestmark = pytest.mark.world

HOST = "smtp.example.test"
TIMEOUT = 2.0  # the seam's per-operation timeout in these tests
LIMIT = 15.0  # no test waits longer than this for a check


run = partial(support.run, limit=LIMIT)


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.test"


def network(
    test_ca: TestCA,
    *routes: tuple[int, str, int],
    host: str = HOST,
    timeout: float = TIMEOUT,
    trust_test_ca: bool = True,
    extra_ca: TestCA | None = None,
) -> Network:
    """A seam aimed at the world: each route sends ``host:port`` to ``address:target_port``."""
    bundles = [test_ca.cert_path] if trust_test_ca else []
    if extra_ca is not None:
        bundles.append(extra_ca.cert_path)
    return Network(
        NetworkOptions(
            ca_bundles=tuple(bundles),
            resolve=tuple(
                parse_resolve(f"{host}:{port}:{address}:{target}")
                for port, address, target in routes
            ),
            system_proxy=False,
            timeout=timeout,
        )
    )


def tls_route(smtp: SubmissionServer) -> tuple[int, str, int]:
    return (465, MAIL_HOST, smtp.tls_port)


def starttls_route(smtp: SubmissionServer) -> tuple[int, str, int]:
    return (587, MAIL_HOST, smtp.starttls_port)


def target(
    security: Security,
    credentials: Credentials | None = None,
    *,
    port: int | None = None,
    host: str = HOST,
    address: str | None = None,
) -> CheckTarget:
    port = port or (465 if security is Security.TLS else 587)
    return CheckTarget(
        protocol=Protocol.SMTP,
        endpoint=Endpoint(Protocol.SMTP, host, port, security),
        credentials=credentials,
        address=address,
    )


def check(
    net: Network, what: CheckTarget, gate: AuthGate | None = None, **options: bool
) -> CheckResult:
    context = CheckContext(net=net, gate=gate or AuthGate())
    return run(check_smtp(what, context, **options))


def names(result: CheckResult) -> list[str]:
    return [step.name for step in result.steps]


def step(result: CheckResult, name: str) -> dict[str, object]:
    found = [s.to_dict() for s in result.steps if s.name == name]
    assert len(found) == 1, names(result)
    return found[0]


def codes(result: CheckResult) -> list[str]:
    return [finding.code for finding in result.findings]


def gate_after(
    net: Network, what: CheckTarget, credentials: Credentials
) -> tuple[CheckResult, bool]:
    """Run the check with a fresh gate, then ask the gate for another check's turn with the
    same credentials: False means the check reported them as rejected."""

    async def both() -> tuple[CheckResult, bool]:
        gate = AuthGate()
        result = await check_smtp(what, CheckContext(net=net, gate=gate))
        return result, await gate.turn(credentials)

    return run(both())


# --- signing in -------------------------------------------------------------------------------


def test_implicit_tls_with_plain(mail_world: MailWorld, test_ca: TestCA) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("plain"), "the password")
    net = network(test_ca, tls_route(smtp))
    creds = password(user, "the password")
    result, next_turn = gate_after(net, target(Security.TLS, creds), creds)
    assert result.ok and result.authenticated and result.auth_tried, result.findings
    assert names(result) == [
        STEP_CONNECT,
        STEP_TLS,
        STEP_GREETING,
        STEP_EHLO,
        STEP_AUTHENTICATE,
        STEP_QUIT,
    ]
    assert all(s.ok for s in result.steps)
    assert result.finding is None
    assert codes(result) == ["tls.configured-ca"]  # the world's CA, given as a CA bundle
    assert result.target == f"smtp://{HOST}:465"
    assert result.data["auth_mechanism"] == "PLAIN"
    assert result.data["auth_outcome"] == "succeeded"
    extensions = result.data["extensions"]
    assert isinstance(extensions, dict)
    assert extensions["size"] == 33554432 and extensions["8bitmime"] and extensions["smtputf8"]
    assert result.tls is not None and result.tls.version in ("TLSv1.2", "TLSv1.3")
    assert result.tls.server_hostname == HOST
    assert str(step(result, STEP_GREETING)["detail"]).startswith("220 ")
    assert str(step(result, STEP_TLS)["detail"]).startswith("implicit TLS: TLSv1.")
    assert "235" in str(step(result, STEP_AUTHENTICATE)["detail"])
    assert next_turn is True
    assert smtp.auth_successes(user) == 1 and smtp.auth_failures(user) == 0


def test_starttls_with_plain_and_the_steps_before_tls(
    mail_world: MailWorld, test_ca: TestCA
) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("starttls"), "pw over starttls")
    net = network(test_ca, starttls_route(smtp))
    result = check(net, target(Security.STARTTLS, password(user, "pw over starttls")))
    assert result.ok and result.authenticated, result.findings
    assert names(result) == [
        STEP_CONNECT,
        STEP_GREETING,
        STEP_EHLO_PLAIN,
        STEP_TLS,
        STEP_EHLO,
        STEP_AUTHENTICATE,
        STEP_QUIT,
    ]
    # Before TLS the server offers STARTTLS and no AUTH; over TLS, AUTH and no STARTTLS.
    assert "STARTTLS" in str(step(result, STEP_EHLO_PLAIN)["detail"])
    assert str(step(result, STEP_EHLO_PLAIN)["detail"]).startswith("auth: none; STARTTLS")
    assert str(step(result, STEP_EHLO)["detail"]).startswith("auth: LOGIN PLAIN XOAUTH2; SIZE")
    assert result.data["starttls_offered"] is True
    assert str(step(result, STEP_TLS)["detail"]).startswith("STARTTLS: TLSv1.")
    assert result.tls is not None
    assert smtp.auth_successes(user) == 1


def test_client_auth_login_over_starttls(mail_world: MailWorld, test_ca: TestCA) -> None:
    """LOGIN (the check prefers PLAIN, so the client is driven directly): user name and
    password each answer a 334 challenge; the server's own log names the mechanism."""
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("login"), "login pw")
    net = network(test_ca, starttls_route(smtp))

    async def dialogue() -> tuple[int, int, int]:
        async with await net.connect(HOST, 587) as conn:
            client = SmtpClient(conn)
            greeting = await client.greeting()
            await client.ehlo()
            reply, tls = await client.starttls()
            assert tls is not None and reply.code == 220
            _, extensions = await client.ehlo()
            assert "LOGIN" in extensions.auth
            exchange = await client.auth_login(user, Secret("login pw"))
            quit_reply = await client.quit()
            return greeting.code, exchange.reply.code, quit_reply.code

    assert run(dialogue()) == (220, 235, 221)
    assert f"AUTH LOGIN {user}: ok" in smtp.log.read_text()
    assert smtp.auth_successes(user) == 1


def test_xoauth2_with_a_token_from_the_identity_provider(
    mail_world: MailWorld, idp: IdentityProvider, test_ca: TestCA
) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("oauth"), "unused password")
    idp.add_user(user, "entra password")
    access = idp.issue_access_token(user, [SMTP_SCOPE])
    net = network(test_ca, tls_route(smtp))
    result = check(net, target(Security.TLS, token(user, access)))
    assert result.ok and result.authenticated, result.findings
    assert result.data["auth_mechanism"] == "XOAUTH2"
    assert f"AUTH XOAUTH2 {user}: ok" in smtp.log.read_text()
    assert smtp.auth_successes(user) == 1


def test_xoauth2_token_of_another_user_is_refused_but_not_as_a_password(
    mail_world: MailWorld, idp: IdentityProvider, test_ca: TestCA
) -> None:
    smtp = mail_world.smtp
    user, other = _address("victim"), _address("other")
    mail_world.mail_user(user, "pw")
    idp.add_user(other, "pw")
    creds = token(user, idp.issue_access_token(other, [SMTP_SCOPE]))
    net = network(test_ca, tls_route(smtp))
    result, next_turn = gate_after(net, target(Security.TLS, creds), creds)
    assert not result.ok and not result.authenticated and result.auth_tried
    assert result.finding is not None
    assert result.finding.server_said == "535 5.7.3 Authentication unsuccessful"
    assert result.data["auth_outcome"] == AuthOutcome.FAILED_OTHERWISE.value
    assert next_turn is True  # a refused token does not stop IMAP from trying
    assert smtp.auth_failures(user) == 1


def test_wrong_password_costs_exactly_one_failed_login(
    mail_world: MailWorld, test_ca: TestCA
) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("wrong"), "right password")
    net = network(test_ca, starttls_route(smtp))
    creds = password(user, "wrong password")
    started = time.monotonic()
    result, next_turn = gate_after(net, target(Security.STARTTLS, creds), creds)
    assert time.monotonic() - started < 5
    assert not result.ok and not result.authenticated and result.auth_tried
    assert result.finding is not None and result.finding.code == "smtp.auth.failed"
    assert result.finding.server_said == "535 5.7.8 Authentication credentials invalid"
    assert result.finding.detail["mechanism"] == "PLAIN"
    rendered = result.finding.to_dict("ja")
    assert rendered["cause"] and user in str(rendered["cause"])
    assert result.data["auth_outcome"] == AuthOutcome.CREDENTIALS_REJECTED.value
    assert next_turn is False  # the gate tells every other check not to try
    assert step(result, STEP_AUTHENTICATE)["ok"] is False
    assert step(result, STEP_QUIT)["ok"] is True  # a polite goodbye after the refusal
    assert smtp.auth_failures(user) == 1
    assert smtp.auth_successes(user) == 0


def test_a_second_check_after_a_rejection_does_not_try(
    mail_world: MailWorld, test_ca: TestCA
) -> None:
    """Two SMTP checks with the same wrong password through one gate: one failed login."""
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("twice"), "right")
    net = network(test_ca, tls_route(smtp), starttls_route(smtp))
    creds = password(user, "wrong")

    async def both() -> list[CheckResult]:
        context = CheckContext(net=net, gate=AuthGate())
        return list(
            await asyncio.gather(
                check_smtp(target(Security.TLS, creds), context),
                check_smtp(target(Security.STARTTLS, creds), context),
            )
        )

    results = run(both())
    first, second = sorted(results, key=lambda r: not r.auth_tried)
    assert first.auth_tried and first.finding is not None
    assert first.finding.code == "smtp.auth.failed"
    assert not second.auth_tried and not second.ok
    assert second.finding is not None and second.finding.code == "smtp.auth.skipped"
    assert smtp.auth_failures(user) == 1


# --- refusals by their whole sentence ---------------------------------------------------------

MICROSOFT = "Authentication unsuccessful"
REFUSALS = [
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
        "smtp.auth.disabled-tenant",
        AuthOutcome.FAILED_OTHERWISE,
        id="tenant",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
        "smtp.auth.disabled-mailbox",
        AuthOutcome.FAILED_OTHERWISE,
        id="mailbox",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
        "microsoft.basic-auth-disabled",
        AuthOutcome.FAILED_OTHERWISE,
        id="basic-disabled",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
        "microsoft.credentials-incorrect",
        AuthOutcome.CREDENTIALS_REJECTED,
        id="credentials-incorrect",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, user is locked by your organization's security "
        "defaults policy. Contact your administrator.",
        "microsoft.security-defaults",
        AuthOutcome.FAILED_OTHERWISE,
        id="security-defaults",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
        "authenticated successfully. Contact your administrator.",
        "microsoft.conditional-access",
        AuthOutcome.FAILED_OTHERWISE,
        id="conditional-access",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, the organization configuration does not allow "
        "this authentication request.",
        "smtp.auth.organization-configuration",
        AuthOutcome.FAILED_OTHERWISE,
        id="organization-configuration",
    ),
    pytest.param(
        535,
        "5.7.139 Authentication unsuccessful, user account is disabled.",
        "microsoft.account-disabled",
        AuthOutcome.FAILED_OTHERWISE,
        id="account-disabled",
    ),
    pytest.param(
        535,
        "5.7.3 Authentication unsuccessful [SN4PR0501CA0040.namprd05.prod.outlook.com]",
        "microsoft.smtp-auth-unsuccessful",
        AuthOutcome.FAILED_OTHERWISE,
        id="5.7.3",
    ),
    pytest.param(
        535,
        "5.7.8 Username and Password not accepted. For more information, go to "
        "https://support.google.com/mail/?p=BadCredentials a1-20020a170902 - gsmtp",
        "smtp.auth.google-bad-credentials",
        AuthOutcome.CREDENTIALS_REJECTED,
        id="gmail-bad-credentials",
    ),
    pytest.param(
        534,
        "5.7.9 Application-specific password required. For more information, go to "
        "https://support.google.com/mail/?p=InvalidSecondFactor a1-20020a170902 - gsmtp",
        "smtp.auth.google-app-password-required",
        AuthOutcome.CREDENTIALS_REJECTED,
        id="gmail-app-password",
    ),
    pytest.param(
        535,
        "Authentication failed",
        "smtp.auth.failed",
        AuthOutcome.CREDENTIALS_REJECTED,
        id="generic-535",
    ),
    pytest.param(
        454,
        "4.7.0 Temporary authentication failure",
        "smtp.auth.temporary",
        AuthOutcome.FAILED_OTHERWISE,
        id="temporary",
    ),
    pytest.param(
        550,
        "5.7.1 Relaying denied by policy",
        "smtp.auth.refused",
        AuthOutcome.FAILED_OTHERWISE,
        id="other-5xx",
    ),
]


@pytest.mark.parametrize(("code", "text", "expected", "outcome"), REFUSALS)
def test_refused_auth_is_explained_by_its_sentence(
    smtp: SubmissionServer,
    test_ca: TestCA,
    code: int,
    text: str,
    expected: str,
    outcome: AuthOutcome,
) -> None:
    user = smtp.add_user(_address("refused"), "good password")
    creds = password(user, "good password")
    net = network(test_ca, tls_route(smtp))
    with smtp.refusing_auth(code, text):
        result, next_turn = gate_after(net, target(Security.TLS, creds), creds)
    assert result.finding is not None, result
    assert result.finding.code == expected
    assert result.finding.server_said == f"{code} {text}"
    assert result.data["auth_outcome"] == outcome.value
    assert next_turn is (outcome is not AuthOutcome.CREDENTIALS_REJECTED)
    assert not result.ok and not result.authenticated
    assert smtp.auth_failures(user) == 1


def test_smtp_auth_disabled_for_a_token_is_not_a_token_problem(
    smtp: SubmissionServer, idp: IdentityProvider, test_ca: TestCA
) -> None:
    user = smtp.add_user(_address("tenant"), "pw")
    idp.add_user(user, "pw")
    creds = token(user, idp.issue_access_token(user, [SMTP_SCOPE]))
    net = network(test_ca, tls_route(smtp))
    sentence = str(REFUSALS[0].values[1])
    with smtp.refusing_auth(535, sentence):
        result, next_turn = gate_after(net, target(Security.TLS, creds), creds)
    assert result.finding is not None
    assert result.finding.code == "smtp.auth.disabled-tenant"
    assert next_turn is True
    assert smtp.auth_failures(user) == 1


# --- without credentials ----------------------------------------------------------------------


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_credential_free_reports_the_mechanisms(
    smtp: SubmissionServer, test_ca: TestCA, security: Security
) -> None:
    route = tls_route(smtp) if security is Security.TLS else starttls_route(smtp)
    result = check(network(test_ca, route), target(security))
    assert result.ok and not result.authenticated and not result.auth_tried, result.findings
    assert STEP_AUTHENTICATE not in names(result)
    assert names(result)[-2:] == [STEP_EHLO, STEP_QUIT]
    assert sorted(result.data["auth_mechanisms"]) == ["LOGIN", "PLAIN", "XOAUTH2"]
    assert result.finding is None
    assert codes(result) == ["tls.configured-ca", "smtp.auth.mechanisms"]
    info = result.findings[1].to_dict()
    assert info["outcome"] == "info" and "XOAUTH2" in str(info["cause"])
    assert result.tls is not None


def test_a_password_where_only_tokens_would_do_is_never_sent(
    smtp: SubmissionServer, test_ca: TestCA, world_cert: CertPair
) -> None:
    """A server that offers only XOAUTH2: the password is not sent, the gate not taken."""
    with _OnlyXoauth2Server(world_cert) as server:
        net = network(test_ca, (465, MAIL_HOST, server.port))
        creds = password("ann@example.test", "a password")
        result, next_turn = gate_after(net, target(Security.TLS, creds), creds)
        assert not server.auth_lines
    assert result.finding is not None and result.finding.code == "smtp.auth.no-mechanism"
    assert "XOAUTH2" in str(result.finding.to_dict()["cause"])
    assert not result.auth_tried and next_turn is True


# --- a network that misbehaves ----------------------------------------------------------------


def test_stripped_starttls_stops_before_anything_is_sent(
    mail_world: MailWorld, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("stripped"), "never sent")
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, strip_starttls=True)
    net = network(test_ca, (587, proxy.host, proxy.port))
    creds = password(user, "never sent")
    log_before = smtp.log.read_text()
    result, next_turn = gate_after(net, target(Security.STARTTLS, creds), creds)
    assert not result.ok and not result.auth_tried
    assert result.finding is not None and result.finding.code == "tls.starttls-missing"
    assert names(result) == [STEP_CONNECT, STEP_GREETING, STEP_EHLO_PLAIN, STEP_TLS, STEP_QUIT]
    assert step(result, STEP_TLS)["ok"] is False
    assert result.data["starttls_offered"] is False
    assert result.tls is None
    assert next_turn is True  # the gate was never taken, so nobody waits for this check
    assert smtp.auth_failures(user) == 0 and smtp.auth_successes(user) == 0
    assert user not in smtp.log.read_text()[len(log_before) :]
    assert proxy.wait_idle(2.0)


def _greeting_length(smtp: SubmissionServer) -> int:
    async def read() -> int:
        reader, writer = await asyncio.open_connection(MAIL_HOST, smtp.starttls_port)
        try:
            return len(await reader.readline())
        finally:
            writer.close()

    return run(read(), limit=5)


def test_no_greeting_within_the_timeout(
    smtp: SubmissionServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, stall_after=0)
    net = network(test_ca, (587, proxy.host, proxy.port), timeout=0.5)
    started = time.monotonic()
    result = check(net, target(Security.STARTTLS))
    assert time.monotonic() - started < 3
    assert result.finding is not None and result.finding.code == "smtp.no-greeting"
    assert names(result) == [STEP_CONNECT, STEP_GREETING]
    assert "0.5 seconds" in str(result.finding.to_dict()["cause"])
    assert "0.5 秒" in str(result.finding.to_dict("ja")["cause"])
    assert proxy.wait_idle(2.0)


def test_stall_after_the_greeting(
    smtp: SubmissionServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, stall_after=_greeting_length(smtp))
    net = network(test_ca, (587, proxy.host, proxy.port), timeout=0.5)
    started = time.monotonic()
    result = check(net, target(Security.STARTTLS))
    assert time.monotonic() - started < 3
    assert result.finding is not None and result.finding.code == "deadline.exceeded"
    assert names(result) == [STEP_CONNECT, STEP_GREETING, STEP_EHLO_PLAIN]
    assert step(result, STEP_GREETING)["ok"] is True
    assert proxy.wait_idle(2.0)


@pytest.mark.parametrize(("after", "failed_step"), [(0, STEP_GREETING), (None, STEP_EHLO_PLAIN)])
def test_reset_by_the_network(
    smtp: SubmissionServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
    after: int | None,
    failed_step: str,
) -> None:
    # None: in the middle of the answer to EHLO, so surely after the client has spoken.
    reset_after = _greeting_length(smtp) + 5 if after is None else after
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, reset_after=reset_after)
    result = check(network(test_ca, (587, proxy.host, proxy.port)), target(Security.STARTTLS))
    assert result.finding is not None and result.finding.code == "connect.closed"
    # A reset at once may already hit the connection's set-up, or only its first read.
    expected = (STEP_CONNECT, STEP_GREETING) if failed_step == STEP_GREETING else (failed_step,)
    assert names(result)[-1] in expected
    assert step(result, names(result)[-1])["ok"] is False


def test_garbage_is_not_smtp(
    smtp: SubmissionServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, garbage=b"HTTP/1.1 400 Bad Request\r\n\r\n")
    result = check(network(test_ca, (587, proxy.host, proxy.port)), target(Security.STARTTLS))
    assert result.finding is not None and result.finding.code == "smtp.not-smtp"
    assert result.finding.server_said == "HTTP/1.1 400 Bad Request"
    assert names(result) == [STEP_CONNECT, STEP_GREETING]


def test_greeting_that_turns_us_away(
    smtp: SubmissionServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    said = b"554 5.7.1 Service unavailable; client host [192.0.2.9] blocked\r\n"
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, garbage=said)
    result = check(network(test_ca, (587, proxy.host, proxy.port)), target(Security.STARTTLS))
    assert result.finding is not None and result.finding.code == "smtp.greeting.rejected"
    assert result.finding.server_said == said.decode().strip()
    assert result.finding.detail["reply_code"] == 554
    assert step(result, STEP_GREETING)["ok"] is False
    assert STEP_EHLO_PLAIN not in names(result)


def test_implicit_tls_port_spoken_to_without_tls(smtp: SubmissionServer, test_ca: TestCA) -> None:
    """STARTTLS configured against a port that expects TLS at once: the server waits for a
    handshake and says nothing, and the finding says why that may be."""
    net = network(test_ca, (587, MAIL_HOST, smtp.tls_port), timeout=0.5)
    result = check(net, target(Security.STARTTLS))
    assert result.finding is not None and result.finding.code == "smtp.no-greeting"
    assert "465" in str(result.finding.to_dict()["cause"])


# --- certificates -----------------------------------------------------------------------------


def test_certificate_for_another_host(smtp: SubmissionServer, test_ca: TestCA) -> None:
    other = "smtp.elsewhere.test"  # not among the names of the world's certificate
    net = network(test_ca, tls_route(smtp), host=other)
    result = check(net, target(Security.TLS, host=other))
    assert result.finding is not None and result.finding.code == "tls.wrong-host"
    assert names(result) == [STEP_CONNECT, STEP_TLS]


def test_certificate_for_another_host_after_starttls(
    smtp: SubmissionServer, test_ca: TestCA
) -> None:
    other = "smtp.elsewhere.test"
    user = smtp.add_user(_address("mitm"), "pw")
    net = network(test_ca, starttls_route(smtp), host=other)
    result = check(net, target(Security.STARTTLS, password(user, "pw"), host=other))
    assert result.finding is not None and result.finding.code == "tls.wrong-host"
    assert names(result)[-1] == STEP_TLS
    assert smtp.auth_failures(user) == 0 and not result.auth_tried


def test_certificate_from_an_unknown_authority(smtp: SubmissionServer, test_ca: TestCA) -> None:
    net = network(test_ca, tls_route(smtp), trust_test_ca=False)
    result = check(net, target(Security.TLS))
    assert result.finding is not None and result.finding.code == "tls.untrusted"


def test_intercepting_proxy(
    smtp: SubmissionServer,
    test_ca: TestCA,
    corporate_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    proxy = fault_proxy(MAIL_HOST, smtp.tls_port, intercept=corporate_ca)
    route = (465, proxy.host, proxy.port)
    refused = check(network(test_ca, route), target(Security.TLS))
    assert refused.finding is not None and refused.finding.code == "tls.untrusted"
    trusted = check(network(test_ca, route, extra_ca=corporate_ca), target(Security.TLS))
    assert trusted.ok, trusted.findings
    assert codes(trusted) == ["tls.configured-ca", "smtp.auth.mechanisms"]
    assert corporate_ca.common_name in str(trusted.findings[0].to_dict()["cause"])
    assert trusted.tls is not None and trusted.tls.certificate is not None
    assert trusted.tls.certificate.issuer_common_name == corporate_ca.common_name
    assert corporate_ca.common_name != test_ca.common_name


# --- OP25B ------------------------------------------------------------------------------------


def test_port_25_refused_suggests_587(test_ca: TestCA) -> None:
    closed = free_port(MAIL_HOST)  # nothing listens there
    net = network(test_ca, (25, MAIL_HOST, closed))
    result = check(net, target(Security.STARTTLS, port=25))
    assert result.finding is not None and result.finding.code == "connect.port25-blocked"
    assert codes(result) == ["connect.port25-blocked", "connect.refused"]
    assert "587" in str(result.finding.to_dict()["fix"])
    assert "587" in str(result.finding.to_dict("ja")["fix"])
    assert names(result) == [STEP_CONNECT]


def test_other_ports_refused_are_just_refused(test_ca: TestCA) -> None:
    closed = free_port(MAIL_HOST)
    result = check(network(test_ca, (587, MAIL_HOST, closed)), target(Security.STARTTLS))
    assert codes(result) == ["connect.refused"]


# --- the round trip ---------------------------------------------------------------------------


def test_round_trip_arrives_in_the_mailbox(mail_world: MailWorld, test_ca: TestCA) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("trip"), "trip pw")
    net = network(test_ca, starttls_route(smtp))
    what = target(Security.STARTTLS, password(user, "trip pw"), address=user)
    result = run(check_smtp_round_trip(what, CheckContext(net=net)))
    assert result.ok and result.authenticated, result.findings
    assert names(result)[-2:] == [STEP_SEND, STEP_QUIT]
    trip = round_trip_of(result)
    assert trip is not None and trip.sent and trip.address == user
    found = find_test_message(mail_world.dovecot.messages(user), trip.token)
    assert found is not None
    assert found["Message-ID"] == trip.message_id
    assert found["Subject"] == trip.subject
    assert trip.token in found.get_content()
    sender, recipients, _ = smtp.received[-1]
    assert (sender, recipients) == (user, [user])


def test_round_trip_is_off_by_default(mail_world: MailWorld, test_ca: TestCA) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("notrip"), "pw")
    before = len(smtp.received)
    result = check(network(test_ca, tls_route(smtp)), target(Security.TLS, password(user, "pw")))
    assert result.ok and round_trip_of(result) is None
    assert STEP_SEND not in names(result)
    assert len(smtp.received) == before and mail_world.dovecot.messages(user) == []


def test_round_trip_refused_recipient(
    mail_world: MailWorld, test_ca: TestCA, world_cert: CertPair
) -> None:
    """A server that refuses the test message: the send step fails with the server's words."""
    with _OnlyXoauth2Server(world_cert, refuse_rcpt=True) as server:
        net = network(test_ca, (465, MAIL_HOST, server.port))
        creds = token("ann@example.test", "any token")
        result = run(check_smtp_round_trip(target(Security.TLS, creds), CheckContext(net=net)))
    assert result.authenticated and not result.ok
    assert result.finding is not None and result.finding.code == "smtp.send.rejected"
    assert result.finding.detail["command"] == "RCPT"
    assert result.finding.server_said == "550 5.7.60 SMTP; Client does not have permissions"
    trip = round_trip_of(result)
    assert trip is not None and not trip.sent


def _round_trip_targets(
    mail_world: MailWorld,
    incoming: Protocol,
    incoming_user: str,
    smtp_user: str,
    secret: str,
    address: str,
) -> list[CheckTarget]:
    """The incoming server (Dovecot, implicit TLS) and the submission server (STARTTLS), by
    their address (the world certificate names it)."""
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    port = dovecot.imap_tls_port if incoming is Protocol.IMAP else dovecot.pop3_tls_port
    return [
        CheckTarget(
            incoming,
            Endpoint(incoming, MAIL_HOST, port, Security.TLS),
            credentials=password(incoming_user, secret),
            address=address,
        ),
        CheckTarget(
            Protocol.SMTP,
            Endpoint(Protocol.SMTP, MAIL_HOST, smtp.starttls_port, Security.STARTTLS),
            credentials=password(smtp_user, secret),
            address=address,
        ),
    ]


def _verify(
    test_ca: TestCA,
    address: str,
    targets: list[CheckTarget],
    options: VerifyOptions,
    on_step: Callable[[Protocol, Step], None] | None = None,
) -> VerifyResult:
    """The runner over ``targets``, reached by address (no overrides needed)."""
    net = Network(NetworkOptions(ca_bundles=(test_ca.cert_path,), system_proxy=False))
    return run(verify(address, targets, net, options=options, on_step=on_step))


@pytest.mark.parametrize("incoming", [Protocol.IMAP, Protocol.POP3])
def test_runner_confirms_the_round_trip(
    incoming: Protocol, mail_world: MailWorld, test_ca: TestCA
) -> None:
    """verify(..., round_trip=True): the message sent through SMTP is found in the INBOX over
    IMAP (or POP3) once both checks signed in; the SMTP check gets a passed round-trip step."""
    user = mail_world.mail_user(_address("confirm"), "confirm pw")
    targets = _round_trip_targets(mail_world, incoming, user, user, "confirm pw", user)
    seen: list[tuple[Protocol, str]] = []
    result = _verify(
        test_ca,
        user,
        targets,
        VerifyOptions(round_trip=True, round_trip_wait=5.0),
        on_step=lambda protocol, done: seen.append((protocol, done.name)),
    )
    assert result.ok, [c.findings for c in result.checks]
    incoming_check, smtp_check = result.checks
    assert incoming_check.authenticated and smtp_check.authenticated
    assert names(smtp_check)[-1] == STEP_ROUND_TRIP
    confirmed = step(smtp_check, STEP_ROUND_TRIP)
    assert confirmed["ok"] is True and str(confirmed["detail"]).startswith("arrived")
    assert (Protocol.SMTP, STEP_ROUND_TRIP) in seen  # the live timeline saw it too
    trip = round_trip_of(smtp_check)
    assert trip is not None and trip.sent
    data = smtp_check.data["round_trip"]
    assert isinstance(data, dict)
    assert data["arrived"] is True and data["checked_over"] == incoming.value
    assert isinstance(data["arrived_ms"], int) and data["searches"] >= 1
    arrived = find_test_message(mail_world.dovecot.messages(user), trip.token)
    assert arrived is not None and arrived["Subject"] == trip.subject
    # the confirmation signs in again after the check did: successes only (POP3 may look
    # more than once, each time in a new session)
    assert mail_world.dovecot.auth_failures(user) == 0
    successes = mail_world.dovecot.auth_successes(user)
    assert successes == 2 if incoming is Protocol.IMAP else successes >= 2


def test_round_trip_that_never_arrives(mail_world: MailWorld, test_ca: TestCA) -> None:
    """The submission server accepts the message, but for an address Dovecot does not host
    (it keeps it "outside"): the INBOX that is looked at never receives it, and the finding
    comes when the wait is over, not later."""
    smtp = mail_world.smtp
    outside = smtp.add_user(_address("outside"), "same pw")
    inbox = mail_world.mail_user(_address("inbox"), "same pw")
    targets = _round_trip_targets(mail_world, Protocol.IMAP, inbox, outside, "same pw", outside)
    started = time.monotonic()
    result = _verify(test_ca, outside, targets, VerifyOptions(round_trip=True, round_trip_wait=1.5))
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 5.0
    imap_check, smtp_check = result.checks
    assert imap_check.ok and smtp_check.authenticated and not smtp_check.ok
    assert not result.ok
    assert smtp_check.finding is not None
    assert smtp_check.finding.code == "smtp.round-trip.not-arrived"
    assert "1.5" in str(smtp_check.finding.to_dict()["cause"])
    assert smtp_check.finding.to_dict("ja")["cause"]
    failed = step(smtp_check, STEP_ROUND_TRIP)
    assert failed["ok"] is False and "not in the imap INBOX" in str(failed["detail"])
    data = smtp_check.data["round_trip"]
    assert isinstance(data, dict) and data["arrived"] is False and data["searches"] >= 2
    trip = round_trip_of(smtp_check)
    assert trip is not None and trip.sent
    assert find_test_message(smtp.messages_for(outside), trip.token) is not None  # accepted
    assert find_test_message(mail_world.dovecot.messages(inbox), trip.token) is None


def test_round_trip_not_checked_when_the_inbox_refuses_the_sign_in(
    mail_world: MailWorld, test_ca: TestCA
) -> None:
    """The message went out, but IMAP refused its password: nothing can be confirmed, which
    is a warning on SMTP (IMAP's own finding says why), never a second try at IMAP."""
    user = mail_world.mail_user(_address("noinbox"), "imap pw")
    sender = mail_world.smtp.add_user(_address("sender"), "smtp pw")
    targets = _round_trip_targets(mail_world, Protocol.IMAP, user, sender, "smtp pw", sender)
    result = _verify(test_ca, user, targets, VerifyOptions(round_trip=True))
    imap_check, smtp_check = result.checks
    assert imap_check.finding is not None and imap_check.finding.code == "imap.auth.failed"
    assert smtp_check.ok and smtp_check.finding is None
    assert "smtp.round-trip.not-checked" in codes(smtp_check)
    assert STEP_ROUND_TRIP not in names(smtp_check)
    assert mail_world.dovecot.auth_failures(user) == 1


def test_without_the_round_trip_the_runner_sends_nothing(
    mail_world: MailWorld, test_ca: TestCA
) -> None:
    user = mail_world.mail_user(_address("quiet"), "quiet pw")
    targets = _round_trip_targets(mail_world, Protocol.IMAP, user, user, "quiet pw", user)
    result = _verify(test_ca, user, targets, VerifyOptions())
    assert result.ok
    smtp_check = result.checks[1]
    assert STEP_SEND not in names(smtp_check) and STEP_ROUND_TRIP not in names(smtp_check)
    assert mail_world.dovecot.messages(user) == []


def test_dot_stuffing_on_the_wire(mail_world: MailWorld, test_ca: TestCA) -> None:
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("dots"), "dots pw")
    body = b"Subject: dots\r\n\r\nfirst\r\n.\r\n..two dots\r\n.one dot\r\nlast\r\n"

    async def send() -> int:
        async with await network(test_ca, tls_route(smtp)).connect(HOST, 465, tls=True) as conn:
            client = SmtpClient(conn)
            await client.greeting()
            await client.ehlo()
            assert (await client.auth_plain(user, Secret("dots pw"))).succeeded
            assert (await client.mail(user)).code == 250
            assert (await client.rcpt(user)).code == 250
            reply = await client.data(body)
            await client.quit()
            return reply.code

    assert run(send()) == 250
    (raw,) = mail_world.dovecot.raw_messages(user)
    assert raw.endswith(b"first\n.\n..two dots\n.one dot\nlast\n")


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_closes_the_connection_at_once(
    smtp: SubmissionServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy(MAIL_HOST, smtp.starttls_port, stall_after=0)
    net = network(test_ca, (587, proxy.host, proxy.port), timeout=10.0)

    async def cancel_midway() -> None:
        connected = asyncio.Event()

        def on_step(_protocol: Protocol, done: Step) -> None:
            if done.name == STEP_CONNECT:
                connected.set()

        context = CheckContext(net=net, on_step=on_step)
        task = asyncio.ensure_future(check_smtp(target(Security.STARTTLS), context))
        async with asyncio.timeout(5):
            await connected.wait()
        await asyncio.sleep(0.1)  # waiting for a greeting that never comes
        assert not task.done() and proxy.open_connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(cancel_midway())
    assert proxy.wait_idle(1.0)


def test_cancel_while_waiting_at_the_gate(
    mail_world: MailWorld, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    """Waiting for another check's sign-in, then cancelled: the socket closes, and the gate is
    not answered on the other check's behalf."""
    smtp = mail_world.smtp
    user = mail_world.mail_user(_address("gate"), "pw")
    proxy = fault_proxy(MAIL_HOST, smtp.tls_port)
    net = network(test_ca, (465, proxy.host, proxy.port), timeout=10.0)
    creds = password(user, "pw")

    async def scenario() -> bool:
        gate = AuthGate()
        assert await gate.turn(creds)  # another check holds the turn and never reports
        capabilities_read = asyncio.Event()

        def on_step(_protocol: Protocol, done: Step) -> None:
            if done.name == STEP_EHLO:
                capabilities_read.set()

        context = CheckContext(net=net, gate=gate, on_step=on_step)
        task = asyncio.ensure_future(check_smtp(target(Security.TLS, creds), context))
        async with asyncio.timeout(5):
            await capabilities_read.wait()
        await asyncio.sleep(0.1)  # now waiting at the gate
        assert not task.done() and proxy.open_connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        waiter = asyncio.ensure_future(gate.turn(creds))
        await asyncio.sleep(0.05)
        still_waiting = not waiter.done()
        waiter.cancel()
        return still_waiting

    assert run(scenario()) is True
    assert proxy.wait_idle(1.0)
    assert smtp.auth_failures(user) == 0 and smtp.auth_successes(user) == 0


# --- secrets ----------------------------------------------------------------------------------


def _forms(user: str, secret: str) -> list[str]:
    return [
        secret,
        base64.b64encode(secret.encode()).decode(),
        plain_response(user, secret),
        xoauth2_response(user, secret),
        base64.b64encode(f"\0{user}\0{secret}".encode()).decode()[8:],  # inside a payload
    ]


def test_secrets_never_leave_the_check(
    mail_world: MailWorld,
    idp: IdentityProvider,
    test_ca: TestCA,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp = mail_world.smtp
    sentinel_pw = f"SENTINEL-pw-{uuid.uuid4().hex}"
    sentinel_token = f"SENTINEL-token-{uuid.uuid4().hex}"
    user = mail_world.mail_user(_address("sentinel"), sentinel_pw)
    idp.add_user(user, "pw")
    net = network(test_ca, tls_route(smtp), starttls_route(smtp))
    caplog.set_level(logging.DEBUG, logger="app")
    results = [
        # right password, with the round trip
        run(
            check_smtp_round_trip(
                target(Security.STARTTLS, password(user, sentinel_pw), address=user),
                CheckContext(net=net),
            )
        ),
        # wrong password (the sentinel is the wrong one)
        check(net, target(Security.TLS, password(user, sentinel_pw + "x"))),
        # a token the server refuses
        check(net, target(Security.TLS, token(user, sentinel_token))),
    ]
    assert results[0].authenticated and not results[1].authenticated
    assert not results[2].authenticated
    app_log = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.name.startswith("app")
    )
    assert "C: AUTH PLAIN [redacted]" in app_log  # the transcript was logged, masked
    assert "C: AUTH XOAUTH2 [redacted]" in app_log
    for result in results:
        dumped = json.dumps(result.to_dict(), ensure_ascii=False)
        steps = " ".join(str(s.to_dict()) for s in result.steps)
        for secret in (sentinel_pw, sentinel_pw + "x", sentinel_token):
            for form in _forms(user, secret):
                assert form not in dumped
                assert form not in steps
                assert form not in app_log
        assert "SENTINEL" not in dumped and "SENTINEL" not in steps
    assert "SENTINEL" not in app_log


# --- a scripted second server (aiosmtpd) ------------------------------------------------------

GMAIL_ERROR = b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'
GMAIL_535 = (
    "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
    "535 5.7.8  https://support.google.com/mail/?p=BadCredentials x1-20020a17 - gsmtp"
)


class _OnlyXoauth2Server:
    """A real aiosmtpd server with implicit TLS that offers only XOAUTH2; it accepts any
    token for ann@example.test unless ``gmail_error`` (then it answers as Gmail does: a 334
    with a JSON error, then, after the client's empty line, a multi-line 535), and may refuse
    every recipient (``refuse_rcpt``). ``auth_lines`` records each AUTH attempt."""

    def __init__(
        self,
        cert: CertPair,
        *,
        gmail_error: bool = False,
        refuse_rcpt: bool = False,
        ident: str = "ESMTP",
    ) -> None:
        self.cert = cert
        self.gmail_error = gmail_error
        self.refuse_rcpt = refuse_rcpt
        self.auth_lines: list[str] = []
        self.empty_answer = False
        self.port = free_port(MAIL_HOST)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert.chain, cert.key)
        self.controller = Controller(
            self,
            hostname=MAIL_HOST,
            port=self.port,
            ssl_context=context,
            server_hostname="mail.example.test",
            auth_require_tls=False,
            auth_exclude_mechanism=["PLAIN", "LOGIN"],
            ident=ident,
            ready_timeout=10.0,
        )

    def __enter__(self) -> _OnlyXoauth2Server:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop(no_assert=True)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        self.auth_lines.append(" ".join(args[:1]))
        if self.gmail_error:
            answer = await server.challenge_auth(GMAIL_ERROR)
            self.empty_answer = answer == b""
            return AuthResult(success=False, handled=False, message=GMAIL_535)
        return AuthResult(success=True, auth_data="ann@example.test")

    async def handle_RCPT(
        self, server: SMTP, session: object, envelope: object, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return "550 5.7.60 SMTP; Client does not have permissions"
        return "250 OK"


@pytest.fixture
def gmail_like(world_cert: CertPair) -> Iterator[_OnlyXoauth2Server]:
    with _OnlyXoauth2Server(world_cert, gmail_error=True) as server:
        yield server


def test_xoauth2_error_challenge_then_final_reply(
    gmail_like: _OnlyXoauth2Server, test_ca: TestCA
) -> None:
    net = network(test_ca, (465, MAIL_HOST, gmail_like.port))
    creds = token("ann@example.test", "an expired token")
    result, next_turn = gate_after(net, target(Security.TLS, creds), creds)
    assert gmail_like.empty_answer  # the client answered the 334 with an empty line
    assert result.finding is not None
    assert result.finding.code == "smtp.auth.google-bad-credentials"
    assert result.finding.detail["challenge"] == GMAIL_ERROR.decode()
    assert result.finding.server_said is not None
    assert result.finding.server_said.startswith("535 5.7.8 Username and Password not accepted")
    assert "BadCredentials" in result.finding.server_said
    assert next_turn is True  # a token: never reported as rejected credentials
    assert step(result, STEP_QUIT)["ok"] is True


def test_a_greeting_with_a_skewed_date_warns_about_the_clock(
    test_ca: TestCA, world_cert: CertPair
) -> None:
    skewed = "ESMTP ready; Mon, 01 Jun 2020 10:00:00 +0000"
    with _OnlyXoauth2Server(world_cert, ident=skewed) as server:
        result = check(network(test_ca, (465, MAIL_HOST, server.port)), target(Security.TLS))
    assert result.ok  # a warning, not a failure
    assert "clock.skew" in codes(result)
    (skew,) = [f for f in result.findings if f.code == "clock.skew"]
    assert skew.outcome.value == "warning" and skew.detail["local_is"] == "ahead"
