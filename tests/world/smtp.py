"""An SMTP submission server for the test world (aiosmtpd in background threads).

``SubmissionServer`` listens on two free ports of the mail host (``MAIL_HOST``, see
``tests/world/dovecot.py``):

- ``tls_port``: implicit TLS (like 465);
- ``starttls_port``: plain, STARTTLS required before anything but EHLO/NOOP/QUIT (like 587);
  AUTH is neither offered nor accepted before TLS.

AUTH PLAIN, LOGIN and XOAUTH2. Passwords come from the server's own users, then from the
Dovecot server it delivers to (so a Dovecot user can submit mail with the same password).
XOAUTH2 tokens are checked by POSTing them to the identity provider's introspection URL
(verifying its certificate with the test CA), off the event loop; the introspected ``username``
must equal the ``user=`` of the request, as Exchange requires. Only authenticated senders may
send (``530 5.7.0 Authentication required``). An accepted message goes into the recipient's
Dovecot INBOX when Dovecot hosts the recipient, else into ``outside[recipient]``; every message
is also kept in ``received``.

``refuse_auth(code, text)`` makes every later AUTH (after the client has sent its credentials)
fail with exactly ``<code> <text>`` until ``allow_auth()``; ``auth_failures(user)`` counts
failed AUTHs (refused ones included). ``log`` is a short log of its own, shown when a test fails.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import http.client
import json
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.world.ca import CertPair
from tests.world.dovecot import MAIL_HOST, DovecotServer
from tests.world.proc import WorldError, free_port, register_log, unregister_log

SERVER_NAME = "mail.example.test"
AUTH_OK = "235 2.7.0 Authentication successful"
AUTH_INVALID = "535 5.7.8 Authentication credentials invalid"
TOKEN_INVALID = "535 5.7.3 Authentication unsuccessful"
AUTH_REQUIRED = "530 5.7.0 Authentication required"

Received = tuple[str, list[str], bytes]


class SubmissionServer:
    """Two aiosmtpd listeners (implicit TLS and STARTTLS) sharing one set of users."""

    def __init__(
        self,
        directory: Path,
        cert: CertPair,
        ca_path: Path,
        introspection_url: str,
        *,
        host: str = MAIL_HOST,
        mailstore: DovecotServer | None = None,
    ) -> None:
        self.host = host
        self.cert = cert
        self.ca_path = ca_path
        self.introspection_url = introspection_url
        self.mailstore = mailstore
        directory.mkdir(parents=True, exist_ok=True)
        self.log: Path = directory / "smtp.log"
        self.tls_port = 0
        self.starttls_port = 0
        self.received: list[Received] = []
        self.outside: dict[str, list[bytes]] = {}
        self._users: dict[str, str] = {}
        self._refusal: str | None = None
        self._failures: dict[str, int] = {}
        self._successes: dict[str, int] = {}
        self._lock = threading.Lock()
        self._controllers: list[Controller] = []

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> float:
        started = time.monotonic()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert.chain, self.cert.key)
        self.log.write_text("")
        register_log("smtp", self.log)
        handler = _Handler(self)
        self.tls_port = free_port(self.host)
        self.starttls_port = free_port(self.host)
        common: dict[str, Any] = {
            "hostname": self.host,
            "server_hostname": SERVER_NAME,
            "ready_timeout": 10.0,
            "auth_required": False,  # _Handler.handle_MAIL answers 530 itself, on both ports
            "decode_data": False,
        }
        self._controllers = [
            # implicit TLS: the whole connection is encrypted, so AUTH needs no STARTTLS
            Controller(
                handler, port=self.tls_port, ssl_context=tls, auth_require_tls=False, **common
            ),
            Controller(
                handler,
                port=self.starttls_port,
                tls_context=tls,
                require_starttls=True,
                auth_require_tls=True,
                **common,
            ),
        ]
        try:
            for controller in self._controllers:
                controller.start()
        except Exception as exc:
            self.stop()
            raise WorldError(f"the SMTP server could not start: {exc!r}") from exc
        self.write_log(
            f"listening on {self.host}: TLS {self.tls_port}, STARTTLS {self.starttls_port}"
        )
        return time.monotonic() - started

    def stop(self) -> None:
        for controller in self._controllers:
            with contextlib.suppress(Exception):
                controller.stop(no_assert=True)
        self._controllers = []
        unregister_log("smtp")

    # -- users and controls --------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> str:
        user = name.strip().lower()
        with self._lock:
            self._users[user] = password
        return user

    def password(self, name: str) -> str | None:
        user = name.strip().lower()
        with self._lock:
            if user in self._users:
                return self._users[user]
        return self.mailstore.password(user) if self.mailstore is not None else None

    def refuse_auth(self, code: int, text: str) -> None:
        """Fail every AUTH from now on with exactly ``f"{code} {text}"``."""
        with self._lock:
            self._refusal = f"{code} {text}"

    def allow_auth(self) -> None:
        with self._lock:
            self._refusal = None

    @contextlib.contextmanager
    def refusing_auth(self, code: int, text: str) -> Iterator[SubmissionServer]:
        self.refuse_auth(code, text)
        try:
            yield self
        finally:
            self.allow_auth()

    def refusal(self) -> str | None:
        with self._lock:
            return self._refusal

    def auth_failures(self, user: str) -> int:
        with self._lock:
            return self._failures.get(user.strip().lower(), 0)

    def auth_successes(self, user: str) -> int:
        with self._lock:
            return self._successes.get(user.strip().lower(), 0)

    def messages_for(self, recipient: str) -> list[bytes]:
        """Messages for a recipient Dovecot does not host."""
        with self._lock:
            return list(self.outside.get(recipient.strip().lower(), []))

    # -- used by the handler -------------------------------------------------------------------

    def write_log(self, line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock, self.log.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line}\n")

    def count(self, user: str, ok: bool) -> None:
        table = self._successes if ok else self._failures
        key = user.strip().lower()
        with self._lock:
            table[key] = table.get(key, 0) + 1

    def introspect(self, token: str) -> dict[str, Any]:
        """POST the token to the introspection URL (blocking; run it off the event loop)."""
        url = urlsplit(self.introspection_url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = urlencode({"token": token})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if url.scheme == "https":
            context = ssl.create_default_context(cafile=str(self.ca_path))
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname or "", url.port or 443, context=context, timeout=5
            )
        else:
            conn = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=5)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise OSError(f"introspection answered HTTP {response.status}")
        answer = json.loads(data)
        if not isinstance(answer, dict):
            raise ValueError("introspection did not answer a JSON object")
        return answer

    def accept(self, sender: str, recipients: list[str], content: bytes, stamp: str) -> None:
        with self._lock:
            self.received.append((sender, list(recipients), content))
        for recipient in recipients:
            message = stamp.format(rcpt=recipient).encode() + content
            if self.mailstore is not None and self.mailstore.has_user(recipient):
                self.mailstore.deliver(recipient, message)
                where = "Dovecot INBOX"
            else:
                with self._lock:
                    self.outside.setdefault(recipient.strip().lower(), []).append(message)
                where = "outside"
            self.write_log(f"delivered from {sender} to {recipient} ({where})")


class _Handler:
    """aiosmtpd hooks: the AUTH mechanisms (overriding the built-in PLAIN and LOGIN), the
    authenticated-senders rule and delivery."""

    def __init__(self, server: SubmissionServer) -> None:
        self.server = server

    async def auth_PLAIN(self, smtp: SMTP, args: list[str]) -> AuthResult:
        try:
            blob = await _response(smtp, args)
        except _Aborted:
            return self._fail("", "PLAIN", "aborted or undecodable", None)
        parts = blob.split(b"\x00") if blob is not None else []
        if len(parts) != 3:
            return self._fail("", "PLAIN", "malformed response", "501 5.5.2 Bad data")
        return self._check_password("PLAIN", parts[1], parts[2])

    async def auth_LOGIN(self, smtp: SMTP, args: list[str]) -> AuthResult:
        try:
            login = await _response(smtp, args, SMTP.AuthLoginUsernameChallenge)
        except _Aborted:
            return self._fail("", "LOGIN", "aborted or undecodable", None)
        if login is None:
            return self._fail("", "LOGIN", "malformed user name", "501 5.5.2 Bad data")
        try:
            password = await _response(smtp, [], SMTP.AuthLoginPasswordChallenge)
        except _Aborted:
            return self._fail(login.decode("utf-8", "replace"), "LOGIN", "aborted", None)
        return self._check_password("LOGIN", login, password or b"")

    async def auth_XOAUTH2(self, smtp: SMTP, args: list[str]) -> AuthResult:
        try:
            fields = _xoauth2_fields(await _response(smtp, args))
        except _Aborted:
            return self._fail("", "XOAUTH2", "aborted or undecodable", None)
        if fields is None:
            return self._fail("", "XOAUTH2", "malformed response", "501 5.5.2 Bad data")
        user, token = fields
        refusal = self.server.refusal()
        if refusal is not None:
            return self._fail(user, "XOAUTH2", "refused (refuse_auth)", refusal)
        loop = asyncio.get_running_loop()
        try:
            introspected = await loop.run_in_executor(None, self.server.introspect, token)
        except (OSError, ValueError) as exc:
            return self._fail(
                user,
                "XOAUTH2",
                f"introspection failed: {exc}",
                "454 4.7.0 Temporary authentication failure",
            )
        active = introspected.get("active") in (True, "true")
        username = str(introspected.get("username", ""))
        if not active:
            return self._fail(user, "XOAUTH2", "token not active", TOKEN_INVALID)
        if username.lower() != user.lower():
            return self._fail(user, "XOAUTH2", f"token is for {username}", TOKEN_INVALID)
        return self._succeed(user, "XOAUTH2")

    def _check_password(self, mechanism: str, login: bytes, password: bytes) -> AuthResult:
        user = login.decode("utf-8", "replace")
        refusal = self.server.refusal()
        if refusal is not None:
            return self._fail(user, mechanism, "refused (refuse_auth)", refusal)
        expected = self.server.password(user)
        if expected is None:
            return self._fail(user, mechanism, "unknown user", AUTH_INVALID)
        if password != expected.encode("utf-8"):
            return self._fail(user, mechanism, "wrong password", AUTH_INVALID)
        return self._succeed(user, mechanism)

    def _succeed(self, user: str, mechanism: str) -> AuthResult:
        self.server.count(user, ok=True)
        self.server.write_log(f"AUTH {mechanism} {user}: ok")
        return AuthResult(
            success=True, auth_data=LoginPassword(user.encode(), b""), message=AUTH_OK
        )

    def _fail(self, user: str, mechanism: str, why: str, reply: str | None) -> AuthResult:
        self.server.count(user, ok=False)
        self.server.write_log(f"AUTH {mechanism} {user or '?'}: failed, {why}")
        if reply is None:  # aiosmtpd has answered already (client sent "*" or bad base64)
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=reply)

    async def handle_MAIL(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not session.authenticated:
            self.server.write_log(f"MAIL FROM {address} refused: not authenticated")
            return AUTH_REQUIRED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content if envelope.original_content else envelope.content
        content = raw if isinstance(raw, bytes) else str(raw or "").encode()
        login = session.login_data
        user = login.decode() if isinstance(login, bytes) else str(login)
        peer = session.peer[0] if session.peer else "?"
        stamp = (
            f"Received: from {session.host_name} ([{peer}]) by {SERVER_NAME} with ESMTPSA"
            f" (authenticated as {user}) for <{{rcpt}}>;"
            f" {format_datetime(datetime.now(UTC))}\r\n"
        )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            None,
            self.server.accept,
            envelope.mail_from or "",
            list(envelope.rcpt_tos),
            content,
            stamp,
        )
        return "250 2.0.0 OK queued"


class _Aborted(Exception):
    """The client answered a challenge with "*" or undecodable base64 (aiosmtpd replied)."""


async def _response(smtp: SMTP, args: list[str], challenge: str = "") -> bytes | None:
    """The client's response: the initial response on the AUTH line, else the answer to a
    ``334`` challenge. None when the initial response is not base64."""
    if len(args) > 1:
        return _b64(args[1])
    answer = await smtp.challenge_auth(challenge)
    if not isinstance(answer, bytes):
        raise _Aborted
    return answer


def _b64(text: str) -> bytes | None:
    if text == "=":
        return b""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None


def _xoauth2_fields(blob: bytes | None) -> tuple[str, str] | None:
    """``user=ADDRESS\\x01auth=Bearer TOKEN\\x01\\x01`` -> (address, token)."""
    if blob is None:
        return None
    fields: dict[str, str] = {}
    for part in blob.decode("utf-8", "replace").split("\x01"):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.lower()] = value
    auth = fields.get("auth", "")
    user = fields.get("user", "")
    if not user or not auth.lower().startswith("bearer "):
        return None
    return user, auth[7:].strip()
