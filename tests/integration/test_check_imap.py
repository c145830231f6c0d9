"""The IMAP check against the test world's real Dovecot (implicit TLS and STARTTLS), through the
fault proxy for broken networks, and against a small scripted IMAP server for the sentences of
providers (Microsoft, iCloud) that Dovecot cannot say."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

import pytest

from app.core.checks.base import (
    AuthGate,
    CheckContext,
    CheckResult,
    CredentialKind,
    Credentials,
    Secret,
    Step,
)
from app.core.checks.imap import check_imap
from app.core.model import Protocol, Security
from tests.integration import checks_support as support
from tests.integration.checks_support import (
    ScriptedServer,
    code,
    everything_shown,
    greeting_length,
    message,
    oauth_user,
    password,
    refused_token,
    run,
    secret_forms,
    step_names,
    token,
)
from tests.world.ca import CertPair, TestCA
from tests.world.dovecot import MAIL_HOST, DovecotServer
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import PROVIDER_HOST
from tests.world.idp import IdentityProvider
from tests.world.idp_client import IMAP_SCOPE

pytestmark = pytest.mark.world

HOST = "imap.example.test"
TIMEOUT = support.TIMEOUT
TLS_PORT = 993
STARTTLS_PORT = 143

network = partial(support.network, host=HOST, logical=TLS_PORT)
target = partial(support.mail_target, Protocol.IMAP, host=HOST, ports=(TLS_PORT, STARTTLS_PORT))
mailbox = partial(support.mailbox, prefix="imap")


# --- success ----------------------------------------------------------------------------------


def test_password_over_implicit_tls_counts_the_inbox(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    user = mailbox(dovecot)
    for index in range(3):
        dovecot.deliver(user, message(f"message {index}", user))
    net = network(test_ca, dovecot.imap_tls_port)
    result = run(
        check_imap(target(Security.TLS, password(user, "correct horse")), CheckContext(net))
    )
    assert result.ok, result.finding
    assert result.authenticated and result.auth_tried
    assert step_names(result) == [
        "connect",
        "tls",
        "greeting",
        "capability",
        "authenticate",
        "capability",
        "list",
        "select",
        "logout",
    ]
    assert all(s.ok for s in result.steps)
    assert str(result.steps[1].detail).startswith("implicit TLS: TLSv1.")
    assert result.data["messages"] == len(dovecot.messages(user)) == 3
    assert result.data["folders"] == 1
    assert result.data["peer"] == f"{MAIL_HOST}:{dovecot.imap_tls_port}"
    assert result.tls is not None and result.tls.version.startswith("TLSv1.")
    assert result.tls.server_hostname == HOST
    assert result.finding is None
    # The test CA is passed as a configured bundle: said once, as information only.
    assert [f.code for f in result.findings] == ["tls.configured-ca"]
    assert result.findings[0].outcome.value == "info"
    assert test_ca.common_name in str(result.findings[0].to_dict()["cause"])
    assert dovecot.auth_successes(user) == 1


def test_password_over_starttls(dovecot: DovecotServer, test_ca: TestCA) -> None:
    user = mailbox(dovecot, "s3cret: with colon")
    dovecot.deliver(user, message("only one", user))
    net = network(test_ca, dovecot.imap_starttls_port, logical=STARTTLS_PORT)
    creds = password(user, "s3cret: with colon")
    result = run(check_imap(target(Security.STARTTLS, creds), CheckContext(net)))
    assert result.ok, result.finding
    assert step_names(result)[:6] == [
        "connect",
        "greeting",
        "capability",
        "tls",
        "capability",
        "authenticate",
    ]
    tls_step = next(s for s in result.steps if s.name == "tls")
    assert tls_step.detail is not None and tls_step.detail.startswith("STARTTLS: TLSv1.")
    assert result.data["starttls_offered"] is True
    before = result.data["capabilities_before_tls"]
    assert isinstance(before, list) and "LOGINDISABLED" in before and "STARTTLS" in before
    assert "AUTH=PLAIN" in result.data["capabilities"]  # type: ignore[operator]
    assert result.tls is not None and result.tls.server_hostname == HOST
    assert result.data["messages"] == 1
    assert dovecot.auth_successes(user) == 1


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_token_sign_in(
    mechanism: str, dovecot: DovecotServer, idp: IdentityProvider, test_ca: TestCA
) -> None:
    box, upn = oauth_user(idp, dovecot)
    dovecot.deliver(box, message("for the token", box))
    access = idp.issue_access_token(upn, [IMAP_SCOPE])
    net = network(test_ca, dovecot.imap_tls_port)
    result = run(
        check_imap(
            target(Security.TLS, token(box, access)),
            CheckContext(net),
            oauth_mechanisms=(mechanism,),
        )
    )
    assert result.ok, result.finding
    assert result.authenticated
    assert result.data["mechanism"] == mechanism
    assert result.data["messages"] == 1
    assert dovecot.auth_successes(box) == 1


def test_without_credentials_reports_what_the_server_offers(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    net = network(test_ca, dovecot.imap_starttls_port, logical=STARTTLS_PORT)
    result = run(check_imap(target(Security.STARTTLS, None), CheckContext(net)))
    assert result.ok and not result.authenticated and not result.auth_tried
    assert step_names(result) == ["connect", "greeting", "capability", "tls", "capability"]
    assert result.data["auth_mechanisms"] == ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]
    assert result.finding is None
    # The TLS upgrade by STARTTLS is analysed too (the test CA is a configured bundle).
    assert [f.code for f in result.findings] == ["tls.configured-ca", "imap.auth.not-tried"]
    assert "XOAUTH2" in result.findings[1].to_dict()["cause"]  # type: ignore[operator]


# --- the credentials are wrong ----------------------------------------------------------------


def test_wrong_password_costs_one_failed_login(dovecot: DovecotServer, test_ca: TestCA) -> None:
    user = mailbox(dovecot, "right password")
    net = network(test_ca, dovecot.imap_tls_port)
    started = time.monotonic()
    result = run(
        check_imap(target(Security.TLS, password(user, "wrong password")), CheckContext(net))
    )
    assert time.monotonic() - started < TIMEOUT
    assert not result.ok and not result.authenticated and result.auth_tried
    assert code(result) == "imap.auth.failed"
    assert result.finding is not None
    assert result.finding.server_said == "[AUTHENTICATIONFAILED] Authentication failed."
    assert result.finding.detail["response_code"] == "AUTHENTICATIONFAILED"
    assert result.steps[-1].name == "authenticate" and not result.steps[-1].ok
    assert dovecot.auth_failures(user) == 1
    assert dovecot.auth_successes(user) == 0


@pytest.mark.parametrize("how", ["revoked", "forged"])
def test_rejected_token(
    how: str, dovecot: DovecotServer, idp: IdentityProvider, test_ca: TestCA
) -> None:
    box, upn = oauth_user(idp, dovecot)
    access = refused_token(idp, upn, IMAP_SCOPE, how)
    net = network(test_ca, dovecot.imap_tls_port)
    result = run(check_imap(target(Security.TLS, token(box, access)), CheckContext(net)))
    assert code(result) == "imap.auth.token-rejected"
    assert result.finding is not None and "401" in str(result.finding.detail["challenge"])
    assert dovecot.auth_failures(box) == 1
    assert dovecot.auth_successes(box) == 0


def test_the_gate_keeps_a_second_check_from_trying(dovecot: DovecotServer, test_ca: TestCA) -> None:
    """Two checks with the same wrong password: one signs in, the other waits at the gate
    and is told not to try: one failed login in Dovecot's log, not two."""
    user = mailbox(dovecot, "right password")
    creds = password(user, "wrong password")
    gate = AuthGate()
    tls_net = network(test_ca, dovecot.imap_tls_port)
    plain_net = network(test_ca, dovecot.imap_starttls_port, logical=STARTTLS_PORT)

    async def both() -> list[CheckResult]:
        return list(
            await asyncio.gather(
                check_imap(target(Security.TLS, creds), CheckContext(tls_net, gate=gate)),
                check_imap(target(Security.STARTTLS, creds), CheckContext(plain_net, gate=gate)),
            )
        )

    results = run(both())
    assert sorted(code(r) or "" for r in results) == ["imap.auth.failed", "imap.auth.skipped"]
    skipped = next(r for r in results if code(r) == "imap.auth.skipped")
    assert not skipped.auth_tried and not skipped.ok
    assert dovecot.auth_failures(user) == 1


# --- the network and the server misbehave -----------------------------------------------------


def test_stripped_starttls_stops_before_any_sign_in(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_starttls_port, strip_starttls=True)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host)
    creds = password(user, "correct horse")
    result = run(check_imap(target(Security.STARTTLS, creds), CheckContext(net)))
    # Dovecot says LOGINDISABLED: a server that demands TLS offers STARTTLS, so it was stripped
    assert code(result) == "imap.starttls.stripped"
    assert result.data["starttls_offered"] is False
    assert not result.auth_tried and result.tls is None
    assert step_names(result) == ["connect", "greeting", "capability", "tls"]
    assert dovecot.auth_failures(user) == 0 and dovecot.auth_successes(user) == 0


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_certificate_for_another_host(
    security: Security, dovecot: DovecotServer, test_ca: TestCA
) -> None:
    user = mailbox(dovecot)
    tls = security is Security.TLS
    port = dovecot.imap_tls_port if tls else dovecot.imap_starttls_port
    other = "imap.elsewhere.test"  # not among the names of the world's certificate
    net = network(test_ca, port, host=other, logical=TLS_PORT if tls else STARTTLS_PORT)
    creds = password(user, "correct horse")
    result = run(check_imap(target(security, creds, host=other), CheckContext(net)))
    assert code(result) == "tls.wrong-host"
    assert result.finding is not None and result.finding.detail["step"] == "tls"
    assert not result.auth_tried
    assert dovecot.auth_failures(user) == 0 and dovecot.auth_successes(user) == 0


def test_intercepting_proxy_with_an_unknown_ca(
    dovecot: DovecotServer, test_ca: TestCA, corporate_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_tls_port, intercept=corporate_ca)
    net = network(test_ca, proxy.port, address=proxy.host)
    result = run(
        check_imap(target(Security.TLS, password(user, "correct horse")), CheckContext(net))
    )
    assert code(result) == "tls.untrusted"
    assert not result.auth_tried
    assert dovecot.auth_successes(user) == 0


def test_intercepting_proxy_with_the_ca_the_user_passed(
    dovecot: DovecotServer, test_ca: TestCA, corporate_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_tls_port, intercept=corporate_ca)
    net = network(test_ca, proxy.port, address=proxy.host, extra_ca=(corporate_ca,))
    result = run(
        check_imap(target(Security.TLS, password(user, "correct horse")), CheckContext(net))
    )
    assert result.ok, result.finding
    assert result.tls is not None and result.tls.certificate is not None
    assert result.tls.certificate.issuer_common_name == "Contoso Corporate Inspection CA"
    assert proxy.client_names == [HOST]
    # Not a known provider's host: the configured CA is information, not an alarm.
    assert [f.code for f in result.findings] == ["tls.configured-ca"]
    assert "Contoso Corporate Inspection CA" in str(result.findings[0].to_dict()["cause"])


def test_interception_in_front_of_a_known_provider_is_reported(
    provider_dovecot: DovecotServer,
    test_ca: TestCA,
    corporate_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    dovecot = provider_dovecot
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_tls_port, intercept=corporate_ca)
    net = support.network(
        test_ca,
        proxy.port,
        host=PROVIDER_HOST,
        logical=TLS_PORT,
        address=proxy.host,
        extra_ca=(corporate_ca,),
    )
    provider = partial(
        support.mail_target, Protocol.IMAP, host=PROVIDER_HOST, ports=(TLS_PORT, STARTTLS_PORT)
    )
    result = run(
        check_imap(provider(Security.TLS, password(user, "correct horse")), CheckContext(net))
    )
    support.assert_intercepted_but_signed_in(
        result, dovecot, user, proxy.client_names, PROVIDER_HOST
    )


def test_server_that_stalls_after_the_greeting(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    user = mailbox(dovecot)
    greeting = greeting_length(dovecot.imap_starttls_port)
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_starttls_port, stall_after=greeting)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host, timeout=0.5)
    started = time.monotonic()
    creds = password(user, "correct horse")
    result = run(check_imap(target(Security.STARTTLS, creds), CheckContext(net)))
    elapsed = time.monotonic() - started
    assert code(result) == "imap.stalled"
    assert 0.45 < elapsed < 2.0
    assert [(s.name, s.ok) for s in result.steps] == [
        ("connect", True),
        ("greeting", True),
        ("capability", False),
    ]
    assert proxy.wait_idle(1.0)


def test_server_that_never_greets(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_starttls_port, accept_and_hang=True)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host, timeout=0.5)
    started = time.monotonic()
    result = run(check_imap(target(Security.STARTTLS, None), CheckContext(net)))
    assert time.monotonic() - started < 2.0
    assert code(result) == "imap.no-greeting"
    assert proxy.wait_idle(1.0)


@pytest.mark.parametrize("after_greeting", [False, True])
def test_connection_reset(
    after_greeting: bool,
    dovecot: DovecotServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    reset_after = greeting_length(dovecot.imap_starttls_port) if after_greeting else 0
    # a short latency first, so that the connection is made before the reset
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_starttls_port, latency=0.1, reset_after=reset_after)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host)
    result = run(check_imap(target(Security.STARTTLS, None), CheckContext(net)))
    assert code(result) == "imap.connection-lost"
    failed = [s.name for s in result.steps if not s.ok]
    assert failed == (["capability"] if after_greeting else ["greeting"])


def test_reset_during_the_tls_handshake(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    # accepted, then reset a moment later: while the client waits for the server's hello
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_tls_port, latency=0.2, reset_after=0)
    net = network(test_ca, proxy.port, address=proxy.host)
    result = run(check_imap(target(Security.TLS, None), CheckContext(net)))
    assert code(result) == "connect.closed"
    assert [(s.name, s.ok) for s in result.steps] == [("connect", True), ("tls", False)]


def test_garbage_instead_of_a_greeting(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    garbage = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_starttls_port, garbage=garbage)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host)
    result = run(check_imap(target(Security.STARTTLS, None), CheckContext(net)))
    assert code(result) == "imap.greeting.garbage"
    assert result.finding is not None and result.finding.server_said == "HTTP/1.1 400 Bad Request"


def test_plain_text_settings_never_send_credentials(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    user = mailbox(dovecot)
    net = network(test_ca, dovecot.imap_starttls_port, logical=STARTTLS_PORT)
    creds = password(user, "correct horse")
    result = run(check_imap(target(Security.PLAIN, creds), CheckContext(net)))
    assert code(result) == "imap.plaintext.refused"
    assert not result.auth_tried
    assert dovecot.auth_failures(user) == 0 and dovecot.auth_successes(user) == 0
    without = run(check_imap(target(Security.PLAIN, None), CheckContext(net)))
    assert without.ok
    assert [f.code for f in without.findings] == ["imap.plaintext", "imap.auth.not-tried"]


def test_cancel_closes_the_connection_at_once(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    """Cancelled while imapclient blocks in its worker thread (the server stalls after the
    greeting): the socket is shut down from the event loop and the proxy sees it close."""
    greeting = greeting_length(dovecot.imap_starttls_port)
    proxy = fault_proxy(MAIL_HOST, dovecot.imap_starttls_port, stall_after=greeting)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host, timeout=30)

    async def scenario() -> float:
        connected = asyncio.Event()

        def on_step(_protocol: Protocol, step: Step) -> None:
            if step.name == "connect":
                connected.set()

        task = asyncio.ensure_future(
            check_imap(target(Security.STARTTLS, None), CheckContext(net, on_step=on_step))
        )
        await asyncio.wait_for(connected.wait(), 5)
        await asyncio.sleep(0.3)  # the worker thread now waits for the CAPABILITY answer
        assert proxy.open_connections == 1
        cancelled = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        idle = await asyncio.to_thread(proxy.wait_idle, 1.0)
        assert idle, "the connection stayed open after cancel"
        return time.monotonic() - cancelled

    assert run(scenario()) < 1.0
    deadline = time.monotonic() + 1.0
    while any(t.name.startswith("seam-blocking") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the worker thread outlived the cancel"
        time.sleep(0.01)


# --- providers' own sentences (a scripted IMAP server) ----------------------------------------


class ScriptedImap(ScriptedServer):
    """A tiny IMAP server: it greets with ``capabilities`` and answers every LOGIN or
    AUTHENTICATE with ``reply``, as a provider's server (Microsoft's, iCloud's) does, whose
    exact sentences Dovecot cannot say."""

    name = "scripted-imap"

    def __init__(
        self, cert: CertPair, capabilities: str, reply: str, greeting: str | None = None
    ) -> None:
        self.capabilities = capabilities
        self.reply = reply
        self.greeting = greeting or f"* OK [CAPABILITY {capabilities}] Scripted ready."
        self.sign_ins = 0
        super().__init__(cert)

    def serve(self, conn: ssl.SSLSocket, reader: BinaryIO) -> None:
        conn.sendall(f"{self.greeting}\r\n".encode())
        while line := reader.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            command = rest.split(" ")[0].upper()
            if command == "CAPABILITY":
                conn.sendall(f"* CAPABILITY {self.capabilities}\r\n{tag} OK done\r\n".encode())
            elif command in ("LOGIN", "AUTHENTICATE"):
                if command == "AUTHENTICATE":
                    conn.sendall(b"+ \r\n")
                    reader.readline()
                self.sign_ins += 1
                conn.sendall(f"{tag} {self.reply}\r\n".encode())
            elif command == "LOGOUT":
                conn.sendall(f"* BYE bye\r\n{tag} OK done\r\n".encode())
                return
            else:
                conn.sendall(f"{tag} BAD unknown command\r\n".encode())


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    yield from support.scripted_servers()


PROVIDER_SENTENCES = [
    # (reply to the sign-in, credentials kind, finding, counts as a rejection of the credentials)
    ("NO LOGIN failed.", CredentialKind.PASSWORD, "imap.auth.failed", True),
    # Microsoft's answer to a refused token: wrong token, or IMAP off: not certainly the token
    ("NO AUTHENTICATE failed.", CredentialKind.OAUTH2, "microsoft.authenticate-failed", False),
    (
        "NO User is authenticated but not connected.",
        CredentialKind.OAUTH2,
        "microsoft.not-connected",
        False,
    ),
    (
        "NO Basic authentication is disabled.",
        CredentialKind.PASSWORD,
        "microsoft.basic-auth-disabled",
        False,
    ),
    (
        "NO [UNAVAILABLE] Temporary authentication failure",
        CredentialKind.PASSWORD,
        "imap.unavailable",
        False,
    ),
    (
        "NO [PRIVACYREQUIRED] Connection is not secure",
        CredentialKind.PASSWORD,
        "imap.privacy-required",
        False,
    ),
    ("NO [EXPIRED] Password expired", CredentialKind.PASSWORD, "imap.auth.expired", True),
    (
        "NO [ALERT] Application-specific password required: https://support.example/apps",
        CredentialKind.PASSWORD,
        "imap.auth.app-password-required",
        True,
    ),
    ("BAD Invalid SASL argument", CredentialKind.PASSWORD, "imap.auth.error", False),
]


@pytest.mark.parametrize(("reply", "kind", "expected", "rejected"), PROVIDER_SENTENCES)
def test_provider_sentences(
    reply: str,
    kind: CredentialKind,
    expected: str,
    rejected: bool,
    world_cert: CertPair,
    test_ca: TestCA,
    scripted: list[ScriptedServer],
) -> None:
    server = ScriptedImap(world_cert, "IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2", reply)
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    creds = Credentials("someone@example.test", Secret("secret value"), kind)
    gate = AuthGate()

    async def check_then_ask_the_gate() -> tuple[CheckResult, bool]:
        result = await check_imap(target(Security.TLS, creds), CheckContext(net, gate=gate))
        return result, await gate.turn(creds)

    result, others_may_try = run(check_then_ask_the_gate())
    assert code(result) == expected
    assert result.auth_tried and server.sign_ins == 1
    assert others_may_try is not rejected
    assert result.finding is not None and result.finding.server_said


def test_microsoft_password_where_only_tokens_work(
    world_cert: CertPair, test_ca: TestCA, scripted: list[ScriptedServer]
) -> None:
    """Exchange Online announces AUTH=XOAUTH2 LOGINDISABLED: a password is not even sent."""
    server = ScriptedImap(world_cert, "IMAP4rev1 AUTH=XOAUTH2 LOGINDISABLED", "NO never")
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    creds = password("someone@example.test", "a password")
    result = run(check_imap(target(Security.TLS, creds), CheckContext(net)))
    assert code(result) == "imap.auth.login-disabled"
    assert not result.auth_tried and server.sign_ins == 0
    assert "XOAUTH2" in result.finding.to_dict()["cause"]  # type: ignore[union-attr,operator]


def test_a_password_the_login_command_cannot_carry_is_not_sent(
    world_cert: CertPair, test_ca: TestCA, scripted: list[ScriptedServer]
) -> None:
    """Only the LOGIN command (ASCII) is offered and the password is Japanese: a finding, no
    sign-in attempt, and the other protocols may still try (not a credentials rejection)."""
    server = ScriptedImap(world_cert, "IMAP4rev1", "NO never")
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    creds = password("someone@example.test", "パスワード123")
    gate = AuthGate()

    async def check_then_ask_the_gate() -> tuple[CheckResult, bool]:
        result = await check_imap(target(Security.TLS, creds), CheckContext(net, gate=gate))
        return result, await gate.turn(creds)

    result, others_may_try = run(check_then_ask_the_gate())
    assert code(result) == "imap.auth.login-not-ascii"
    assert server.sign_ins == 0
    assert others_may_try


def test_a_server_that_turns_the_connection_away(
    world_cert: CertPair, test_ca: TestCA, scripted: list[ScriptedServer]
) -> None:
    bye = "* BYE Too many connections from your IP"
    server = ScriptedImap(world_cert, "IMAP4rev1", "NO never", greeting=bye)
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    result = run(check_imap(target(Security.TLS, None), CheckContext(net)))
    assert code(result) == "imap.greeting.bye"
    assert result.finding is not None and result.finding.server_said == bye


def test_icloud_offers_the_name_part_as_a_visible_fallback(
    test_ca: TestCA, scripted: list[ScriptedServer]
) -> None:
    """imap.mail.me.com refuses the Apple Account password as iCloud does: the iCloud
    finding, and the name part offered as data for the caller to try visibly; the check
    itself signs in once and never retries."""
    icloud = "imap.mail.me.com"
    server = ScriptedImap(
        test_ca.issue((icloud,), label="icloud"),
        "IMAP4rev1 SASL-IR AUTH=ATOKEN AUTH=PLAIN AUTH=ATOKEN2 AUTH=XOAUTH2",
        "NO [AUTHENTICATIONFAILED] Authentication failed.",
    )
    scripted.append(server)
    net = network(test_ca, server.port, host=icloud, address="127.0.0.1")
    creds = password("emily.parker@icloud.com", "my Apple Account password")
    result = run(check_imap(target(Security.TLS, creds, host=icloud), CheckContext(net)))
    assert code(result) == "imap.icloud.app-password-needed"
    assert result.data["username_fallback"] == "emily.parker"
    assert server.sign_ins == 1 and server.connections == 1


# --- secrets ----------------------------------------------------------------------------------


def test_secrets_never_reach_results_or_logs(
    dovecot: DovecotServer,
    idp: IdentityProvider,
    test_ca: TestCA,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sentinel_password = f"SENTINEL-pw-{uuid.uuid4().hex}"
    sentinel_token = f"SENTINEL-token-{uuid.uuid4().hex}"
    user = mailbox(dovecot, sentinel_password)
    wrong = mailbox(dovecot, "another password")
    box, _upn = oauth_user(idp, dovecot)
    tls_net = network(test_ca, dovecot.imap_tls_port)
    plain_net = network(test_ca, dovecot.imap_starttls_port, logical=STARTTLS_PORT)
    runs = [
        (target(Security.TLS, password(user, sentinel_password)), tls_net, ()),
        (target(Security.STARTTLS, password(wrong, sentinel_password)), plain_net, ()),
        (target(Security.TLS, token(box, sentinel_token)), tls_net, ("XOAUTH2",)),
        (target(Security.TLS, token(box, sentinel_token)), tls_net, ("OAUTHBEARER",)),
    ]
    outputs: list[str] = []
    oks: list[bool] = []
    for check_target, net, mechanisms in runs:
        kwargs = {"oauth_mechanisms": mechanisms} if mechanisms else {}
        result = run(check_imap(check_target, CheckContext(net), **kwargs))
        oks.append(result.ok)
        outputs.extend(everything_shown(result))
    assert oks == [True, False, False, False]
    everything = "\n".join(outputs) + caplog.text
    for secret in (sentinel_password, sentinel_token):
        for form in secret_forms(secret):
            assert form not in everything
