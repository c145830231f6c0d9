"""The SMTP submission check: can this computer send mail through the account's server?

Steps (names are stable; see :data:`STEPS`)::

    implicit TLS (465):  connect, tls, greeting, ehlo, authenticate, [send], quit
    STARTTLS (587, 25):  connect, greeting, ehlo-plain, tls, ehlo, authenticate, [send], quit

(with the round trip, the runner adds ``round-trip`` at the end: :mod:`app.core.checks.roundtrip`)

``tls`` is the handshake, right after connecting or after ``STARTTLS`` (its detail says
which, as in every check: :func:`~app.core.checks.mailcheck.tls_detail`); STARTTLS is sent only
when the server offers it, and when it does not, the check stops there: nothing more is said
in plain text, and never a password (STARTTLS stripped by a firewall or antivirus is a
finding). ``ehlo`` is always the EHLO over TLS, the only one whose answer counts: its AUTH
mechanisms, SIZE, 8BITMIME and SMTPUTF8 go into ``data``. ``authenticate`` waits for its turn
at the :class:`~app.core.checks.base.AuthGate`, then tries ONE mechanism once: XOAUTH2 (or
OAUTHBEARER) with a token, PLAIN (or LOGIN) with a password. Without credentials the check
stops after ``ehlo`` and reports the mechanisms offered (credential-free mode).

Failures become findings from the knowledge catalog, a refused AUTH recognised by its whole
sentence (``535 5.7.139`` has many meanings). Only a genuine rejection of a password (wrong
password, app password needed) tells the gate ``CREDENTIALS_REJECTED``; "SMTP AUTH disabled"
and the like are ``FAILED_OTHERWISE``, so IMAP still gets its try: "IMAP works but sending
fails" is exactly what this check is for. A refused OAuth token is never reported as rejected
credentials: trying it elsewhere costs no lockout, and SMTP refuses tokens for reasons that are
not the token's (``535 5.7.3`` is also "SMTP AUTH is off").

The round trip (off by default, ``round_trip=True``): after signing in, a small test message
from the account to itself, with a unique token in its subject and Message-ID; the token is in
``result.data["round_trip"]`` (see :func:`round_trip_of`) so the runner can look for it over
IMAP or POP3 (:mod:`app.core.checks.roundtrip`; :func:`find_test_message` recognises it in
messages already fetched).

The check never raises for a failure of the server or the network, closes its connection at
once when cancelled, and never retries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.message
import email.policy
import email.utils
import secrets
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Final, TypeVar

from app.core.checks.base import (
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
)
from app.core.checks.mailcheck import (
    STEP_AUTHENTICATE,
    STEP_CONNECT,
    STEP_GREETING,
    STEP_TLS,
    MailCheck,
    Stop,
    main_first,
    shown,
    tls_detail,
)
from app.core.checks.runner import describe
from app.core.checks.smtpclient import (
    AuthExchange,
    Extensions,
    SmtpClient,
    SmtpProtocolError,
    SmtpReply,
)
from app.core.diagnostics import knowledge
from app.core.errors import ConnectError, ConnectFailure, DeadlineError, SetupError
from app.core.model import Finding, Outcome, Protocol, Security
from app.core.net import Connection, TLSInfo, format_address

M = TypeVar("M", email.message.Message, bytes, str)

# --- step names -------------------------------------------------------------------------------

STEP_EHLO_PLAIN: Final = "ehlo-plain"  # EHLO before STARTTLS (its answer is not trusted)
STEP_EHLO: Final = "ehlo"  # EHLO over TLS
STEP_SEND: Final = "send"  # the round trip's test message
STEP_QUIT: Final = "quit"
STEPS: Final = (
    STEP_CONNECT,
    STEP_TLS,
    STEP_GREETING,
    STEP_EHLO_PLAIN,
    STEP_EHLO,
    STEP_AUTHENTICATE,
    STEP_SEND,
    STEP_QUIT,
)

GATE_NOTE_SECONDS: Final = 0.05  # a wait at the gate longer than this is noted in the step
QUIT_SECONDS: Final = 1.0  # how long QUIT may take before the connection is simply closed
OP25B_PORT: Final = 25
SUBMISSION_PORT: Final = 587

# --- finding codes (resources/knowledge/smtp.toml unless noted) -------------------------------

PORT25_BLOCKED: Final = "connect.port25-blocked"  # general.toml
NO_GREETING: Final = "smtp.no-greeting"
GREETING_REJECTED: Final = "smtp.greeting.rejected"
NOT_SMTP: Final = "smtp.not-smtp"
EHLO_REJECTED: Final = "smtp.ehlo.rejected"
STARTTLS_MISSING: Final = "tls.starttls-missing"  # general.toml
STARTTLS_REFUSED: Final = "smtp.starttls.refused"
AUTH_NOT_OFFERED: Final = "smtp.auth.not-offered"
AUTH_NO_MECHANISM: Final = "smtp.auth.no-mechanism"
AUTH_MECHANISMS: Final = "smtp.auth.mechanisms"  # info: credential-free mode
AUTH_SKIPPED: Final = "smtp.auth.skipped"
AUTH_FAILED: Final = "smtp.auth.failed"  # a 535 nothing more specific explains
AUTH_TOKEN_REFUSED: Final = "smtp.auth.token-refused"  # noqa: S105 - a finding code
AUTH_TEMPORARY: Final = "smtp.auth.temporary"
AUTH_REFUSED: Final = "smtp.auth.refused"  # any other refusal of AUTH
ORGANIZATION_CONFIGURATION: Final = "smtp.auth.organization-configuration"  # Microsoft 5.7.139
GOOGLE_BAD_CREDENTIALS: Final = "smtp.auth.google-bad-credentials"
GOOGLE_APP_PASSWORD: Final = "smtp.auth.google-app-password-required"  # noqa: S105
SEND_REJECTED: Final = "smtp.send.rejected"

#: Knowledge codes that mean "this password was rejected": the gate is told
#: ``CREDENTIALS_REJECTED`` so no other server is tried with it (see the module docstring).
CREDENTIAL_REJECTIONS: Final = frozenset(
    {
        AUTH_FAILED,
        GOOGLE_BAD_CREDENTIALS,
        GOOGLE_APP_PASSWORD,
        "microsoft.credentials-incorrect",  # general.toml
    }
)

# --- the round trip ---------------------------------------------------------------------------

SUBJECT_PREFIX: Final = "Mail Setup Wizard test message"
TOKEN_PREFIX: Final = "msw-"  # noqa: S105 - the round trip token's prefix


def new_token() -> str:
    """A fresh, unguessable token for one round trip (``msw-`` and 20 hex digits)."""
    return TOKEN_PREFIX + secrets.token_hex(10)


def message_id_for(token: str, address: str) -> str:
    """The Message-ID (without angle brackets) of the test message carrying ``token``."""
    domain = address.rpartition("@")[2] or "mailsetup.invalid"
    return f"{token}@{domain}"


def build_test_message(address: str, token: str, *, when: dt.datetime | None = None) -> bytes:
    """The round trip's test message from ``address`` to itself: a MIME text message with
    ``token`` in its Subject, Message-ID and body, lines ending in CRLF."""
    needs_utf8 = not address.isascii()
    policy = email.policy.SMTPUTF8 if needs_utf8 else email.policy.SMTP
    message = email.message.EmailMessage(policy=policy)
    message["From"] = address
    message["To"] = address
    message["Subject"] = f"{SUBJECT_PREFIX} {token}"
    message["Date"] = email.utils.format_datetime(when or dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{message_id_for(token, address)}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "This message was sent by Mail Setup Wizard to check that this account can send mail.\n"
        "It went from the account to itself; you can delete it.\n"
        "\n"
        f"Check token: {token}\n"
    )
    return message.as_bytes(policy=policy)


def find_test_message(messages: Iterable[M], token: str) -> M | None:
    """The first of ``messages`` (parsed messages, or raw bytes/text) that is the test message
    carrying ``token`` (by its Subject or Message-ID); None if none is."""
    for message in messages:
        if isinstance(message, email.message.Message):
            headers = f"{message.get('Subject', '')} {message.get('Message-ID', '')}"
            if token in headers:
                return message
        else:
            raw = message if isinstance(message, str) else message.decode("utf-8", "replace")
            head = raw.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
            if token in head:
                return message
    return None


@dataclass(frozen=True)
class RoundTrip:
    """What the round trip sent: look for ``token`` (Subject/Message-ID) in ``address``'s
    INBOX over IMAP."""

    token: str
    address: str
    message_id: str
    subject: str
    sent: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "token": self.token,
            "address": self.address,
            "message_id": self.message_id,
            "subject": self.subject,
            "sent": self.sent,
        }


def round_trip_of(result: CheckResult) -> RoundTrip | None:
    """The round trip of a check result, if one was attempted."""
    value = result.data.get("round_trip")
    if not isinstance(value, Mapping):
        return None
    return RoundTrip(
        token=str(value["token"]),
        address=str(value["address"]),
        message_id=str(value["message_id"]),
        subject=str(value["subject"]),
        sent=bool(value["sent"]),
    )


# --- the check --------------------------------------------------------------------------------


@dataclass
class _StepState:
    ok: bool = True
    detail: str | None = None


def choose_mechanism(offered: Iterable[str], kind: CredentialKind) -> str | None:
    """The one mechanism to try: XOAUTH2, else OAUTHBEARER for a token; PLAIN, else LOGIN
    for a password. None when the server offers none of them."""
    available = {m.upper() for m in offered}
    preferred = ("XOAUTH2", "OAUTHBEARER") if kind is CredentialKind.OAUTH2 else ("PLAIN", "LOGIN")
    return next((m for m in preferred if m in available), None)


def auth_finding_code(reply: SmtpReply, kind: CredentialKind) -> str:
    """The knowledge code for a refused AUTH: the catalog's match on the whole sentence, else
    a generic code by reply class."""
    matched = _match(reply)
    if matched == AUTH_FAILED and kind is CredentialKind.OAUTH2:
        return AUTH_TOKEN_REFUSED  # "535" alone says "credentials invalid": here, a token
    if matched is not None:
        return matched
    if reply.transient:
        return AUTH_TEMPORARY
    if reply.code == 535:
        return AUTH_TOKEN_REFUSED if kind is CredentialKind.OAUTH2 else AUTH_FAILED
    return AUTH_REFUSED


def _match(reply: SmtpReply) -> str | None:
    """The knowledge entry that explains ``reply``, matched on its whole sentence."""
    return knowledge.match(reply.sentence, protocol="smtp", code=reply.enhanced or str(reply.code))


def gate_outcome(code: str, kind: CredentialKind) -> AuthOutcome:
    """What the gate is told about a refused AUTH explained by knowledge ``code``."""
    if kind is CredentialKind.PASSWORD and code in CREDENTIAL_REJECTIONS:
        return AuthOutcome.CREDENTIALS_REJECTED
    return AuthOutcome.FAILED_OTHERWISE


class _SmtpCheck(MailCheck):
    """One run of the check; see :func:`check_smtp`."""

    protocol = Protocol.SMTP

    def __init__(self, target: CheckTarget, context: CheckContext, round_trip: bool) -> None:
        if target.endpoint is None:
            raise ValueError("an SMTP check needs an endpoint")
        super().__init__(target, target.endpoint, context)
        self.round_trip = round_trip
        self.conn: Connection | None = None
        self.client: SmtpClient | None = None

    # -- helpers -------------------------------------------------------------------------------

    def said(self, reply: SmtpReply) -> str:
        """What the server said, redacted, for a finding or a step."""
        return self.redact(reply.shown())

    def secured(self, tls: TLSInfo, *, starttls: bool) -> str:
        """Note what a handshake showed (interception, a configured CA, a certificate about
        to expire); the ``tls`` step's detail."""
        self.note_tls(tls)
        return tls_detail(tls, starttls=starttls)

    @contextlib.asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[_StepState]:
        """Time one step and record it. A seam error or garbage inside ends the check with
        its finding; setting ``state.ok = False`` records a failed step and ends it politely
        (the finding is the caller's)."""
        state = _StepState()
        started = time.monotonic()
        try:
            yield state
        except SetupError as error:
            self.timeline.add(name, False, started, self.redact(_error_detail(error)))
            self.on_error(name, error)
            raise Stop(polite=False) from None
        except SmtpProtocolError as error:
            said = self.redact(shown(error.line)) if error.line else None
            self.timeline.add(name, False, started, f"not SMTP: {error.reason}")
            self.add(NOT_SMTP, name, said=said, detail={"problem": error.reason})
            raise Stop(polite=False) from None
        detail = None if state.detail is None else self.redact(state.detail)
        self.timeline.add(name, state.ok, started, detail)
        if not state.ok:
            raise Stop(polite=True)

    def on_error(self, step: str, error: SetupError) -> None:
        """The finding for a seam error in ``step``: OP25B and a silent server are recognised,
        everything else is the seam's own finding."""
        if (
            step == STEP_CONNECT
            and self.port == OP25B_PORT
            and isinstance(error, ConnectError)
            and error.failure in (ConnectFailure.TIMEOUT, ConnectFailure.REFUSED)
        ):
            self.add(
                PORT25_BLOCKED,
                step,
                params={"suggested_port": SUBMISSION_PORT},
                detail={"failure": error.failure.value, "suggested_port": SUBMISSION_PORT},
            )
            self.add_error(step, error)
            return
        if step == STEP_GREETING and isinstance(error, DeadlineError):
            seconds = error.seconds
            self.add(
                NO_GREETING,
                step,
                params={"seconds": round(seconds, 1)},
                detail={"seconds": str(round(seconds, 1))},
            )
            return
        self.add_error(step, error)

    # -- the dialogue --------------------------------------------------------------------------

    async def run(self) -> CheckResult:
        try:
            await self.dialogue()
        except Stop:
            pass
        finally:
            self.release()  # stopped between the gate's "go" and a report (cancelled)
        return self.result()

    async def dialogue(self) -> None:
        async with self.step(STEP_CONNECT) as state:
            self.conn = await self.context.net.connect(self.host, self.port, tls=False)
            state.detail = format_address(self.conn.peer)
        conn = self.conn
        assert conn is not None
        self.client = SmtpClient(conn)
        try:
            await self.session(self.client)
        except Stop as stop:
            if stop.polite:
                await self.quit(self.client)
            raise
        except BaseException:
            conn.abort()  # cancelled, or a bug: drop the connection now
            raise
        finally:
            if conn.closed:
                conn.abort()
            else:
                await conn.close()

    async def session(self, client: SmtpClient) -> None:
        implicit = self.endpoint.security is Security.TLS
        if implicit:
            async with self.step(STEP_TLS) as state:
                state.detail = self.secured(await client.conn.start_tls(), starttls=False)
        await self.greeting(client)
        if not implicit:
            await self.starttls(client)
        extensions = await self.ehlo(client, STEP_EHLO)
        self.data["extensions"] = extensions.to_dict()
        self.data["auth_mechanisms"] = list(extensions.auth)
        if self.credentials is None:
            self.credential_free(extensions)
        else:
            await self.authenticate(client, self.credentials, extensions)
            if self.round_trip:
                await self.send_test_message(client, self.credentials, extensions)
        await self.quit(client)

    async def greeting(self, client: SmtpClient) -> None:
        async with self.step(STEP_GREETING) as state:
            reply = await client.greeting()
            state.detail = self.said(reply)
            self.note_date(reply.sentence)  # a date in it ("... ESMTP; Mon, 1 Jun 2026 ...")
            if reply.code != 220:
                state.ok = False
                self.add(
                    _match(reply) or GREETING_REJECTED,
                    STEP_GREETING,
                    said=self.said(reply),
                    detail={"reply_code": reply.code},
                )

    async def ehlo(self, client: SmtpClient, name: str) -> Extensions:
        async with self.step(name) as state:
            reply, extensions = await client.ehlo()
            if reply.code != 250:
                state.ok = False
                state.detail = self.said(reply)
                self.add(
                    EHLO_REJECTED,
                    name,
                    said=self.said(reply),
                    detail={"reply_code": reply.code},
                )
            else:
                state.detail = extensions.summary()
        return extensions

    async def starttls(self, client: SmtpClient) -> None:
        plain = await self.ehlo(client, STEP_EHLO_PLAIN)
        if plain.auth:
            self.data["auth_mechanisms_before_tls"] = list(plain.auth)
        async with self.step(STEP_TLS) as state:
            if not plain.starttls:
                state.ok = False
                state.detail = "STARTTLS not offered: stopped, nothing sent in plain text"
                self.data["starttls_offered"] = False
                self.add(STARTTLS_MISSING, STEP_TLS)
                return
            self.data["starttls_offered"] = True
            reply, tls = await client.starttls()
            if tls is None:
                state.ok = False
                state.detail = self.said(reply)
                self.add(
                    STARTTLS_REFUSED,
                    STEP_TLS,
                    said=self.said(reply),
                    detail={"reply_code": reply.code},
                )
                return
            state.detail = self.secured(tls, starttls=True)

    def credential_free(self, extensions: Extensions) -> None:
        """No password or token: say what the server offers (an info finding)."""
        mechanisms = " ".join(extensions.auth) if extensions.auth else "-"
        if not extensions.auth:
            self.add(AUTH_NOT_OFFERED, STEP_EHLO)
            return
        self.add(AUTH_MECHANISMS, STEP_EHLO, params={"mechanisms": mechanisms})

    async def authenticate(
        self, client: SmtpClient, credentials: Credentials, extensions: Extensions
    ) -> None:
        started = time.monotonic()
        if not extensions.auth:
            self.timeline.add(STEP_AUTHENTICATE, False, started, "the server offers no AUTH")
            self.add(AUTH_NOT_OFFERED, STEP_AUTHENTICATE)
            raise Stop(polite=True)
        mechanism = choose_mechanism(extensions.auth, credentials.kind)
        if mechanism is None:
            offered = " ".join(extensions.auth)
            self.timeline.add(STEP_AUTHENTICATE, False, started, f"offered: {offered}")
            self.add(
                AUTH_NO_MECHANISM,
                STEP_AUTHENTICATE,
                params={"mechanisms": offered},
                detail={"credential_kind": credentials.kind.value},
            )
            raise Stop(polite=True)
        await self.take_turn(credentials, started, AUTH_SKIPPED)
        waited = time.monotonic() - started
        async with self.step(STEP_AUTHENTICATE) as state:
            try:
                exchange = await _authenticate(client, mechanism, credentials)
            except BaseException:
                self.report(AuthOutcome.FAILED_OTHERWISE)
                raise
            note = ""
            if waited > GATE_NOTE_SECONDS:
                note = f" (after waiting {round(waited * 1000)} ms for another check's sign-in)"
            state.detail = f"{mechanism}: {self.said(exchange.reply)}{note}"
            self.data["auth_mechanism"] = mechanism
            if exchange.succeeded:
                self.authenticated = True
                self.report(AuthOutcome.SUCCEEDED)
                self.data["auth_outcome"] = AuthOutcome.SUCCEEDED.value
                return
            state.ok = False
            self.auth_refused(exchange, credentials.kind)

    def auth_refused(self, exchange: AuthExchange, kind: CredentialKind) -> None:
        reply = exchange.reply
        code = auth_finding_code(reply, kind)
        outcome = gate_outcome(code, kind)
        self.report(outcome)
        self.data["auth_outcome"] = outcome.value
        detail: dict[str, str | int] = {"reply_code": reply.code, "mechanism": exchange.mechanism}
        if reply.enhanced:
            detail["enhanced_code"] = reply.enhanced
        if exchange.challenge is not None:
            detail["challenge"] = self.redact(exchange.challenge)
        self.add(
            code,
            STEP_AUTHENTICATE,
            said=self.said(reply),
            params={"username": self.credentials.username if self.credentials else ""},
            detail=detail,
        )

    async def send_test_message(
        self, client: SmtpClient, credentials: Credentials, extensions: Extensions
    ) -> None:
        address = self.target.address or credentials.username
        if not self.authenticated or "@" not in address:
            return
        token = new_token()
        trip = RoundTrip(
            token=token,
            address=address,
            message_id=f"<{message_id_for(token, address)}>",
            subject=f"{SUBJECT_PREFIX} {token}",
            sent=False,
        )
        self.data["round_trip"] = trip.to_dict()
        message = build_test_message(address, token)
        params: list[str] = []
        if not address.isascii() and extensions.smtputf8:
            params.append("SMTPUTF8")
        if extensions.size is not None:
            params.append(f"SIZE={len(message)}")
        async with self.step(STEP_SEND) as state:
            for command in ("MAIL", "RCPT", "DATA"):
                if command == "MAIL":
                    reply = await client.mail(address, params)
                elif command == "RCPT":
                    reply = await client.rcpt(address)
                else:
                    reply = await client.data(message)
                state.detail = f"{command}: {self.said(reply)}"
                if not reply.positive:
                    state.ok = False
                    self.add(
                        _match(reply) or SEND_REJECTED,
                        STEP_SEND,
                        said=self.said(reply),
                        params={"command": command},
                        detail={"command": command, "reply_code": reply.code},
                    )
                    return
            self.data["round_trip"] = {**trip.to_dict(), "sent": True}

    async def quit(self, client: SmtpClient) -> None:
        """QUIT, briefly; its failure never fails the check (the answer is already known)."""
        if client.conn.closed:
            return
        started = time.monotonic()
        try:
            reply = await client.quit(seconds=min(client.conn.timeout, QUIT_SECONDS))
        except (SetupError, SmtpProtocolError) as error:
            detail = _error_detail(error) if isinstance(error, SetupError) else error.reason
            self.timeline.add(STEP_QUIT, False, started, self.redact(f"ignored: {detail}"))
            return
        self.timeline.add(STEP_QUIT, reply.code == 221, started, self.said(reply))

    # -- the result ----------------------------------------------------------------------------

    def result(self) -> CheckResult:
        failed = [s for s in self.timeline.steps if not s.ok and s.name != STEP_QUIT]
        errors = [f for f in self.findings if f.outcome is Outcome.ERROR]
        ok = not errors and not failed
        main: Finding | None = None
        if not ok:  # the worst finding, the first of equals (a skipped sign-in is a warning)
            worst = max((f.outcome.severity for f in self.findings), default=0)
            main = next((f for f in self.findings if f.outcome.severity == worst), None)
        conn = self.conn
        return CheckResult(
            protocol=Protocol.SMTP,
            target=describe(self.target),
            ok=ok,
            authenticated=self.authenticated,
            steps=tuple(self.timeline.steps),
            tls=None if conn is None else conn.tls,
            finding=main,
            findings=main_first(self.findings, main),
            data=dict(self.data),
            auth_tried=self.auth_tried,
        )


async def _authenticate(
    client: SmtpClient, mechanism: str, credentials: Credentials
) -> AuthExchange:
    username, secret = credentials.username, credentials.secret
    if mechanism == "XOAUTH2":
        return await client.auth_xoauth2(username, secret)
    if mechanism == "OAUTHBEARER":
        return await client.auth_oauthbearer(username, secret)
    if mechanism == "PLAIN":
        return await client.auth_plain(username, secret)
    return await client.auth_login(username, secret)


def _error_detail(error: SetupError) -> str:
    problem = error.detail.get("problem") or error.detail.get("stage")
    return f"{error.code}: {problem}" if problem else error.code


async def check_smtp(
    target: CheckTarget, context: CheckContext, *, round_trip: bool = False
) -> CheckResult:
    """Check SMTP submission on ``target.endpoint`` (see the module docstring). With
    ``round_trip``, also send the test message after signing in (its token is in
    ``result.data["round_trip"]``)."""
    return await _SmtpCheck(target, context, round_trip).run()


#: ``check_smtp`` with the round trip, in the runner's ``CheckFunction`` shape.
check_smtp_round_trip = partial(check_smtp, round_trip=True)


__all__ = [
    "CREDENTIAL_REJECTIONS",
    "STEPS",
    "SUBJECT_PREFIX",
    "RoundTrip",
    "auth_finding_code",
    "build_test_message",
    "check_smtp",
    "check_smtp_round_trip",
    "choose_mechanism",
    "find_test_message",
    "gate_outcome",
    "message_id_for",
    "new_token",
    "round_trip_of",
]
