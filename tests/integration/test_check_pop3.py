"""The POP3 check against the test world's real Dovecot (implicit TLS and STLS), through the
fault proxy for broken networks, and against a small scripted POP3 server for the sentences of
providers that Dovecot cannot say."""

from __future__ import annotations

import asyncio
import logging
import ssl
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
    CheckTarget,
    CredentialKind,
    Credentials,
    Secret,
    Step,
)
from app.core.checks.imap import check_imap
from app.core.checks.pop3 import check_pop3
from app.core.model import Endpoint, Protocol, Security
from app.core.net import Network
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

HOST = "pop.example.test"
TLS_PORT = 995
STARTTLS_PORT = 110

network = partial(support.network, host=HOST, logical=TLS_PORT)
target = partial(support.mail_target, Protocol.POP3, host=HOST, ports=(TLS_PORT, STARTTLS_PORT))
mailbox = partial(support.mailbox, prefix="pop")


# --- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_password_counts_the_messages(
    security: Security, dovecot: DovecotServer, test_ca: TestCA
) -> None:
    user = mailbox(dovecot)
    for index in range(2):
        dovecot.deliver(user, message(f"message {index}", user))
    tls = security is Security.TLS
    port = dovecot.pop3_tls_port if tls else dovecot.pop3_starttls_port
    net = network(test_ca, port, logical=TLS_PORT if tls else STARTTLS_PORT)
    result = run(check_pop3(target(security, password(user, "correct horse")), CheckContext(net)))
    assert result.ok, result.finding
    assert result.authenticated and result.auth_tried
    secure = (
        ["tls", "greeting", "capability"]
        if tls
        else [
            "greeting",
            "capability",
            "tls",
            "capability",
        ]
    )
    assert step_names(result) == ["connect", *secure, "authenticate", "stat", "quit"]
    assert all(s.ok for s in result.steps)
    tls_step = next(s for s in result.steps if s.name == "tls")
    how = "implicit TLS" if tls else "STARTTLS"
    assert tls_step.detail is not None and tls_step.detail.startswith(f"{how}: TLSv1.")
    assert result.data["messages"] == len(dovecot.messages(user)) == 2
    assert result.data["mechanism"] == "PLAIN"
    assert result.tls is not None and result.tls.server_hostname == HOST
    assert dovecot.auth_successes(user) == 1


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_token_sign_in(
    mechanism: str, dovecot: DovecotServer, idp: IdentityProvider, test_ca: TestCA
) -> None:
    box, upn = oauth_user(idp, dovecot)
    dovecot.deliver(box, message("for the token", box))
    access = idp.issue_access_token(upn, [IMAP_SCOPE])
    net = network(test_ca, dovecot.pop3_tls_port)
    result = run(
        check_pop3(
            target(Security.TLS, token(box, access)),
            CheckContext(net),
            oauth_mechanisms=(mechanism,),
        )
    )
    assert result.ok, result.finding
    assert result.data["mechanism"] == mechanism
    assert result.data["messages"] == 1
    assert dovecot.auth_successes(box) == 1


def test_without_credentials_reports_what_the_server_offers(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    net = network(test_ca, dovecot.pop3_starttls_port, logical=STARTTLS_PORT)
    result = run(check_pop3(target(Security.STARTTLS, None), CheckContext(net)))
    assert result.ok and not result.authenticated and not result.auth_tried
    assert step_names(result) == ["connect", "greeting", "capability", "tls", "capability"]
    assert result.data["auth_mechanisms"] == ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]
    assert result.data["user_command"] is True
    # The TLS upgrade by STLS is analysed too (the test CA is a configured bundle).
    assert [f.code for f in result.findings] == ["tls.configured-ca", "pop3.auth.not-tried"]
    assert "XOAUTH2" in result.findings[1].to_dict()["cause"]  # type: ignore[operator]


# --- the credentials are wrong ----------------------------------------------------------------


def test_wrong_password_costs_one_failed_login(dovecot: DovecotServer, test_ca: TestCA) -> None:
    user = mailbox(dovecot, "right password")
    net = network(test_ca, dovecot.pop3_tls_port)
    result = run(
        check_pop3(target(Security.TLS, password(user, "wrong password")), CheckContext(net))
    )
    assert code(result) == "pop3.auth.failed"
    assert result.finding is not None
    assert result.finding.server_said == "[AUTH] Authentication failed."
    assert result.finding.detail["response_code"] == "AUTH"
    assert not result.ok and not result.authenticated and result.auth_tried
    assert dovecot.auth_failures(user) == 1
    assert dovecot.auth_successes(user) == 0


@pytest.mark.parametrize("how", ["revoked", "forged"])
def test_rejected_token(
    how: str, dovecot: DovecotServer, idp: IdentityProvider, test_ca: TestCA
) -> None:
    box, upn = oauth_user(idp, dovecot)
    access = refused_token(idp, upn, IMAP_SCOPE, how)
    net = network(test_ca, dovecot.pop3_tls_port)
    result = run(check_pop3(target(Security.TLS, token(box, access)), CheckContext(net)))
    assert code(result) == "pop3.auth.token-rejected"
    assert result.finding is not None and "401" in str(result.finding.detail["challenge"])
    assert dovecot.auth_failures(box) == 1


def test_the_gate_keeps_the_other_protocol_from_trying(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    """IMAP and POP3 with the same wrong password at once: whichever asks the gate first
    signs in, the other is told not to try: one failed login, not two."""
    user = dovecot.add_user(f"both-{uuid.uuid4().hex[:8]}@example.test", "right password")
    creds = password(user, "wrong password")
    gate = AuthGate()
    pop_net = network(test_ca, dovecot.pop3_tls_port)
    imap_net = network(test_ca, dovecot.imap_tls_port, host="imap.example.test", logical=993)
    imap_target = CheckTarget(
        Protocol.IMAP,
        Endpoint(Protocol.IMAP, "imap.example.test", 993, Security.TLS),
        credentials=creds,
    )

    async def both() -> list[CheckResult]:
        return list(
            await asyncio.gather(
                check_pop3(target(Security.TLS, creds), CheckContext(pop_net, gate=gate)),
                check_imap(imap_target, CheckContext(imap_net, gate=gate)),
            )
        )

    results = run(both())
    codes = sorted(code(r) or "" for r in results)
    assert codes in (
        ["imap.auth.failed", "pop3.auth.skipped"],
        ["imap.auth.skipped", "pop3.auth.failed"],
    )
    skipped = next(r for r in results if (code(r) or "").endswith("skipped"))
    assert not skipped.auth_tried and not skipped.ok
    assert dovecot.auth_failures(user) == 1


# --- the network and the server misbehave -----------------------------------------------------


def test_stripped_stls_stops_before_any_sign_in(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_starttls_port, strip_starttls=True)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host)
    creds = password(user, "correct horse")
    result = run(check_pop3(target(Security.STARTTLS, creds), CheckContext(net)))
    assert code(result) == "tls.starttls-missing"
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
    port = dovecot.pop3_tls_port if tls else dovecot.pop3_starttls_port
    other = "pop.elsewhere.test"  # not among the names of the world's certificate
    net = network(test_ca, port, host=other, logical=TLS_PORT if tls else STARTTLS_PORT)
    result = run(
        check_pop3(target(security, password(user, "correct horse"), host=other), CheckContext(net))
    )
    assert code(result) == "tls.wrong-host"
    assert not result.auth_tried
    assert dovecot.auth_successes(user) == 0 and dovecot.auth_failures(user) == 0


def test_intercepting_proxy_with_an_unknown_ca(
    dovecot: DovecotServer, test_ca: TestCA, corporate_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_tls_port, intercept=corporate_ca)
    net = network(test_ca, proxy.port, address=proxy.host)
    result = run(
        check_pop3(target(Security.TLS, password(user, "correct horse")), CheckContext(net))
    )
    assert code(result) == "tls.untrusted"
    assert not result.auth_tried


def test_interception_in_front_of_a_known_provider_is_reported(
    provider_dovecot: DovecotServer,
    test_ca: TestCA,
    corporate_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    dovecot = provider_dovecot
    user = mailbox(dovecot)
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_tls_port, intercept=corporate_ca)
    net = support.network(
        test_ca,
        proxy.port,
        host=PROVIDER_HOST,
        logical=TLS_PORT,
        address=proxy.host,
        extra_ca=(corporate_ca,),
    )
    provider = partial(
        support.mail_target, Protocol.POP3, host=PROVIDER_HOST, ports=(TLS_PORT, STARTTLS_PORT)
    )
    result = run(
        check_pop3(provider(Security.TLS, password(user, "correct horse")), CheckContext(net))
    )
    support.assert_intercepted_but_signed_in(
        result, dovecot, user, proxy.client_names, PROVIDER_HOST
    )


def test_server_that_stalls_after_the_greeting(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    greeting = greeting_length(dovecot.pop3_starttls_port)
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_starttls_port, stall_after=greeting)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host, timeout=0.5)
    started = time.monotonic()
    result = run(check_pop3(target(Security.STARTTLS, None), CheckContext(net)))
    elapsed = time.monotonic() - started
    assert code(result) == "pop3.stalled"
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
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_starttls_port, accept_and_hang=True)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host, timeout=0.5)
    started = time.monotonic()
    result = run(check_pop3(target(Security.STARTTLS, None), CheckContext(net)))
    assert time.monotonic() - started < 2.0
    assert code(result) == "pop3.no-greeting"


@pytest.mark.parametrize("after_greeting", [False, True])
def test_connection_reset(
    after_greeting: bool,
    dovecot: DovecotServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    reset_after = greeting_length(dovecot.pop3_starttls_port) if after_greeting else 0
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_starttls_port, latency=0.1, reset_after=reset_after)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host)
    result = run(check_pop3(target(Security.STARTTLS, None), CheckContext(net)))
    assert code(result) == "pop3.connection-lost"
    failed = [s.name for s in result.steps if not s.ok]
    assert failed == (["capability"] if after_greeting else ["greeting"])


def test_garbage_instead_of_a_greeting(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    garbage = b"SSH-2.0-OpenSSH_9.2\r\n"
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_starttls_port, garbage=garbage)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host)
    result = run(check_pop3(target(Security.STARTTLS, None), CheckContext(net)))
    assert code(result) == "pop3.greeting.garbage"
    assert result.finding is not None and result.finding.server_said == "SSH-2.0-OpenSSH_9.2"


def test_plain_text_settings_never_send_credentials(
    dovecot: DovecotServer, test_ca: TestCA
) -> None:
    user = mailbox(dovecot)
    net = network(test_ca, dovecot.pop3_starttls_port, logical=STARTTLS_PORT)
    result = run(
        check_pop3(target(Security.PLAIN, password(user, "correct horse")), CheckContext(net))
    )
    assert code(result) == "pop3.plaintext.refused"
    assert not result.auth_tried
    assert dovecot.auth_failures(user) == 0 and dovecot.auth_successes(user) == 0


def test_cancel_closes_the_connection_at_once(
    dovecot: DovecotServer, test_ca: TestCA, fault_proxy: FaultProxyFactory
) -> None:
    greeting = greeting_length(dovecot.pop3_starttls_port)
    proxy = fault_proxy(MAIL_HOST, dovecot.pop3_starttls_port, stall_after=greeting)
    net = network(test_ca, proxy.port, logical=STARTTLS_PORT, address=proxy.host, timeout=30)

    async def scenario() -> float:
        greeted = asyncio.Event()

        def on_step(_protocol: Protocol, step: Step) -> None:
            if step.name == "greeting":
                greeted.set()

        task = asyncio.ensure_future(
            check_pop3(target(Security.STARTTLS, None), CheckContext(net, on_step=on_step))
        )
        await asyncio.wait_for(greeted.wait(), 5)
        await asyncio.sleep(0.2)  # now waiting for the CAPA answer that never comes
        assert proxy.open_connections == 1
        cancelled = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(proxy.wait_idle, 1.0), "still open after cancel"
        return time.monotonic() - cancelled

    assert run(scenario()) < 1.0


# --- providers' own sentences (a scripted POP3 server) ----------------------------------------


class ScriptedPop3(ScriptedServer):
    """A tiny POP3 server: it offers ``capabilities`` and answers every sign-in (PASS or the
    end of AUTH) with ``reply``."""

    name = "scripted-pop3"

    def __init__(self, cert: CertPair, capabilities: list[str], reply: str) -> None:
        self.capabilities = capabilities
        self.reply = reply
        self.sign_ins = 0
        super().__init__(cert)

    def serve(self, conn: ssl.SSLSocket, reader: BinaryIO) -> None:
        conn.sendall(b"+OK Scripted POP3 ready.\r\n")
        while line := reader.readline():
            command = line.decode().strip().split(" ")[0].upper()
            if command == "CAPA":
                listed = "".join(f"{c}\r\n" for c in self.capabilities)
                conn.sendall(f"+OK\r\n{listed}.\r\n".encode())
            elif command == "USER":
                conn.sendall(b"+OK\r\n")
            elif command in ("PASS", "AUTH"):
                if command == "AUTH":
                    conn.sendall(b"+ \r\n")
                    reader.readline()
                self.sign_ins += 1
                conn.sendall(f"{self.reply}\r\n".encode())
            elif command == "QUIT":
                conn.sendall(b"+OK bye\r\n")
                return
            else:
                conn.sendall(b"-ERR unknown command\r\n")


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    yield from support.scripted_servers()


PROVIDER_SENTENCES = [
    # (reply to the sign-in, credentials kind, finding, counts as a rejection of the credentials)
    (
        "-ERR Authentication failure: unknown user name or bad password.",
        CredentialKind.OAUTH2,
        "pop3.auth.token-rejected",
        True,
    ),
    ("-ERR Logon failure: bad password", CredentialKind.PASSWORD, "pop3.auth.failed", True),
    (
        "-ERR User is authenticated but not connected.",
        CredentialKind.OAUTH2,
        "microsoft.not-connected",
        False,
    ),
    (
        "-ERR [IN-USE] Mailbox is locked by another session",
        CredentialKind.PASSWORD,
        "pop3.in-use",
        False,
    ),
    ("-ERR [LOGIN-DELAY] Wait 15 minutes", CredentialKind.PASSWORD, "pop3.login-delay", False),
    ("-ERR [SYS/TEMP] Try again later", CredentialKind.PASSWORD, "pop3.sys-temp", False),
    ("-ERR [SYS/PERM] Mailbox damaged", CredentialKind.PASSWORD, "pop3.sys-perm", False),
    (
        "-ERR [AUTH] Application-specific password required",
        CredentialKind.PASSWORD,
        "pop3.auth.app-password-required",
        True,
    ),
    (
        "-ERR Basic authentication is disabled.",
        CredentialKind.PASSWORD,
        "microsoft.basic-auth-disabled",
        False,
    ),
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
    server = ScriptedPop3(world_cert, ["USER", "SASL PLAIN XOAUTH2"], reply)
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    creds = Credentials("someone@example.test", Secret("secret value"), kind)
    gate = AuthGate()

    async def check_then_ask_the_gate() -> tuple[CheckResult, bool]:
        result = await check_pop3(target(Security.TLS, creds), CheckContext(net, gate=gate))
        return result, await gate.turn(creds)

    result, others_may_try = run(check_then_ask_the_gate())
    assert code(result) == expected
    assert result.auth_tried and server.sign_ins == 1
    assert others_may_try is not rejected


def test_user_and_pass_when_sasl_plain_is_missing(
    world_cert: CertPair, test_ca: TestCA, scripted: list[ScriptedServer]
) -> None:
    server = ScriptedPop3(world_cert, ["USER", "UIDL"], "+OK signed in")
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    creds = password("someone@example.test", "a password")
    result = run(check_pop3(target(Security.TLS, creds), CheckContext(net)))
    assert result.authenticated and result.data["mechanism"] == "USER"
    assert server.sign_ins == 1
    assert code(result) == "pop3.stat.failed"  # the scripted server knows no STAT


def test_no_token_method_offered(
    world_cert: CertPair, test_ca: TestCA, scripted: list[ScriptedServer]
) -> None:
    server = ScriptedPop3(world_cert, ["USER", "SASL PLAIN"], "-ERR never")
    scripted.append(server)
    net = network(test_ca, server.port, address="127.0.0.1")
    result = run(
        check_pop3(target(Security.TLS, token("a@example.test", "t0ken")), CheckContext(net))
    )
    assert code(result) == "pop3.auth.no-oauth"
    assert not result.auth_tried and server.sign_ins == 0


# --- secrets ----------------------------------------------------------------------------------


def test_secrets_never_reach_results_or_logs(
    dovecot: DovecotServer,
    idp: IdentityProvider,
    test_ca: TestCA,
    world_cert: CertPair,
    scripted: list[ScriptedServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sentinel_password = f"SENTINEL-pw-{uuid.uuid4().hex}"
    sentinel_token = f"SENTINEL-token-{uuid.uuid4().hex}"
    user = mailbox(dovecot, sentinel_password)
    wrong = mailbox(dovecot, "another password")
    box, _upn = oauth_user(idp, dovecot)
    tls_net = network(test_ca, dovecot.pop3_tls_port)
    plain_net = network(test_ca, dovecot.pop3_starttls_port, logical=STARTTLS_PORT)
    server = ScriptedPop3(world_cert, ["USER"], "-ERR [AUTH] Invalid login")
    scripted.append(server)
    user_pass_net = network(test_ca, server.port, address="127.0.0.1")
    runs: list[tuple[CheckTarget, Network, tuple[str, ...]]] = [
        (target(Security.TLS, password(user, sentinel_password)), tls_net, ()),
        (target(Security.STARTTLS, password(wrong, sentinel_password)), plain_net, ()),
        (target(Security.TLS, token(box, sentinel_token)), tls_net, ("XOAUTH2",)),
        (target(Security.TLS, token(box, sentinel_token)), tls_net, ("OAUTHBEARER",)),
        (target(Security.TLS, password(user, sentinel_password)), user_pass_net, ()),
    ]
    outputs: list[str] = []
    oks: list[bool] = []
    for check_target, net, mechanisms in runs:
        kwargs = {"oauth_mechanisms": mechanisms} if mechanisms else {}
        result = run(check_pop3(check_target, CheckContext(net), **kwargs))
        oks.append(result.ok)
        outputs.extend(everything_shown(result))
    assert oks == [True, False, False, False, False]
    everything = "\n".join(outputs) + caplog.text
    for secret in (sentinel_password, sentinel_token):
        for form in secret_forms(secret):
            assert form not in everything
