"""Helpers the check tests share (test_check_imap.py, test_check_pop3.py, test_check_smtp.py,
test_check_dav.py, test_runner_cancel.py): running a check with a bounded wait, credentials,
the network seam aimed at one server of the test world, mailboxes and messages in Dovecot,
reading a result, every form a leaked secret could take, and a small scripted TLS server for
the sentences of providers that the world's real servers cannot say."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Awaitable, Iterator
from email.message import EmailMessage
from typing import BinaryIO, TypeVar

from app.core.checks.base import CheckResult, CheckTarget, CredentialKind, Credentials, Secret
from app.core.model import Endpoint, Protocol, Security
from app.core.net import Network, NetworkOptions, parse_resolve
from tests.world.ca import CertPair, TestCA
from tests.world.dovecot import MAIL_HOST, DovecotServer
from tests.world.idp import IdentityProvider

T = TypeVar("T")

TIMEOUT = 3.0  # the seam's per-operation timeout, unless a test needs another
LIMIT = 20.0  # no test waits longer than this for a check


def run(awaitable: Awaitable[T], limit: float = LIMIT) -> T:
    """Run ``awaitable`` in a new event loop, failing after ``limit`` seconds."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


def password(user: str, secret: str) -> Credentials:
    return Credentials(user, Secret(secret))


def token(user: str, value: str) -> Credentials:
    return Credentials(user, Secret(value), CredentialKind.OAUTH2)


def network(
    test_ca: TestCA,
    port: int,
    *,
    host: str,
    logical: int,
    address: str = MAIL_HOST,
    timeout: float = TIMEOUT,
    extra_ca: tuple[CertPair | TestCA, ...] = (),
) -> Network:
    """The seam aimed at one server: ``host:logical`` goes to ``address:port``; the world's
    test CA (and any ``extra_ca``) trusted."""
    bundles = (test_ca.cert_path, *(ca.cert_path for ca in extra_ca if isinstance(ca, TestCA)))
    return Network(
        NetworkOptions(
            ca_bundles=bundles,
            resolve=(parse_resolve(f"{host}:{logical}:{address}:{port}"),),
            system_proxy=False,
            timeout=timeout,
        )
    )


def mail_target(
    protocol: Protocol,
    security: Security,
    credentials: Credentials | None,
    *,
    host: str,
    ports: tuple[int, int],
    address: str | None = None,
) -> CheckTarget:
    """A mail server to check: ``ports`` are the implicit-TLS and the STARTTLS port."""
    port = ports[0] if security is Security.TLS else ports[1]
    return CheckTarget(
        protocol,
        Endpoint(protocol, host, port, security),
        credentials=credentials,
        address=address,
    )


def mailbox(dovecot: DovecotServer, password: str = "correct horse", prefix: str = "box") -> str:
    """A new Dovecot mailbox (IMAP, POP3 and, through the SMTP server, submission)."""
    return dovecot.add_user(f"{prefix}-{uuid.uuid4().hex[:8]}@example.test", password)


def message(subject: str, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "sender@example.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Hello from the check tests.\n")
    return msg.as_bytes()


def oauth_user(idp: IdentityProvider, dovecot: DovecotServer) -> tuple[str, str]:
    """A Dovecot mailbox and an identity-provider user whose mailbox it is."""
    box = mailbox(dovecot, "unused password", "oauth")
    upn = box.replace("@example.test", "@contoso.test")
    idp.add_user(upn, "Entra password", mailbox=box)
    return box, upn


def refused_token(idp: IdentityProvider, upn: str, scope: str, how: str) -> str:
    """A token the servers refuse: one the identity provider issued and then revoked
    (``how="revoked"``), or one it never issued (``"forged"``)."""
    if how == "forged":
        return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    access = idp.issue_access_token(upn, [scope])
    idp.revoke_access_tokens(upn)
    return access


def greeting_length(port: int) -> int:
    """The length of Dovecot's plain-text greeting on ``port`` (for stall_after/reset_after)."""
    with socket.create_connection((MAIL_HOST, port), timeout=5) as raw:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = raw.recv(4096)
            assert chunk, "Dovecot closed before greeting"
            data += chunk
        return len(data)


def step_names(result: CheckResult) -> list[str]:
    return [s.name for s in result.steps]


def code(result: CheckResult) -> str | None:
    return None if result.finding is None else result.finding.code


def everything_shown(result: CheckResult) -> list[str]:
    """What a result can show: its JSON in both languages and its repr."""
    shown = [json.dumps(result.to_dict(language), ensure_ascii=False) for language in ("en", "ja")]
    return [*shown, repr(result)]


def secret_forms(secret: str) -> list[str]:
    """The forms a secret could leak in: itself, base64, and base64 inside SASL payloads."""
    raw = secret.encode()
    forms = [secret, base64.b64encode(raw).decode()]
    for prefix in (b"\x00", b"\x00\x00", b"x\x00", b"user=a@b.test\x01auth=Bearer "):
        forms.append(base64.b64encode(prefix + raw).decode().rstrip("="))
    return forms


class ScriptedServer:
    """A tiny server over TLS (the world certificate) on 127.0.0.1 that plays a provider whose
    exact sentences the world's servers cannot say: each connection is handed to ``serve`` in
    a background thread. Subclasses set their attributes before calling ``__init__``."""

    name = "scripted"

    def __init__(self, cert: CertPair) -> None:
        self.connections = 0
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert.chain, cert.key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port: int = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=self.name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()

    def serve(self, conn: ssl.SSLSocket, reader: BinaryIO) -> None:
        raise NotImplementedError

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with raw:
                raw.settimeout(5)
                with (
                    contextlib.suppress(OSError, ssl.SSLError),
                    self.context.wrap_socket(raw, server_side=True) as conn,
                ):
                    self.serve(conn, conn.makefile("rb"))


def scripted_servers() -> Iterator[list[ScriptedServer]]:
    """The body of a ``scripted`` fixture: a list to add servers to, all closed after."""
    servers: list[ScriptedServer] = []
    yield servers
    for server in servers:
        server.close()


def assert_intercepted_but_signed_in(
    result: CheckResult, dovecot: DovecotServer, user: str, client_names: list[str], host: str
) -> None:
    """An intercepting proxy with a CA the user configured, in front of a known provider:
    the sign-in works and the one finding is a ``tls.intercepted`` warning naming the CA."""
    assert result.ok, result.findings  # a warning: the sign-in worked
    assert result.authenticated and dovecot.auth_successes(user) == 1
    assert client_names == [host]
    assert [f.code for f in result.findings] == ["tls.intercepted"]
    found = result.findings[0]
    assert found.outcome.value == "warning" and result.finding is None
    assert "Contoso Corporate Inspection CA" in str(found.to_dict()["cause"])
    assert "Contoso Corporate Inspection CA" in str(found.to_dict("ja")["cause"])
