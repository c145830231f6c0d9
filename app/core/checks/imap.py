"""The IMAP check: connect, TLS, greeting, capabilities, sign-in, folders and the INBOX, for real.

Steps (stable names, in order): ``connect`` (the peer address), ``tls`` (implicit TLS), then
``greeting`` and ``capability``; on a STARTTLS port ``tls`` comes after them (the upgrade by
STARTTLS: the step's detail says which) with a second ``capability``; then ``authenticate``
(XOAUTH2 or OAUTHBEARER with a token; AUTHENTICATE PLAIN, LOGIN or SASL LOGIN with a password),
``capability`` after sign-in, ``list`` (folder count), ``select`` (INBOX, read-only, message
count) and ``logout``.

``imapclient`` does the protocol. It blocks, so it runs in the connection's worker thread
(:mod:`app.core.net.blocking`) on a socket the network seam opened
(:mod:`app.core.checks.imapsocket`); cancelling the check shuts the socket down at once.

Security: STARTTLS must be offered, or the check stops before anything is sent in the clear
(``tls.starttls-missing``; ``imap.starttls.stripped`` when the server also says LOGINDISABLED, a
sign that something on the way removed STARTTLS). Credentials never go over a connection
without TLS. ``LOGINDISABLED`` is honoured. Authentication goes through the runner's
:class:`~app.core.checks.base.AuthGate`, and only a genuine rejection of the credentials is
reported to it as such.

Without credentials the check stops after the capabilities and reports the sign-in methods
offered (``data["auth_mechanisms"]``). iCloud: when ``name@icloud.com`` is rejected, the name
part alone is offered as ``data["username_fallback"]`` for the caller to try visibly; this
check never retries by itself.

Findings come from the knowledge catalog (``resources/knowledge/imap.toml``), codes
``imap.*``; failures of the network seam (DNS, connect, TLS) keep the seam's codes, and a
missing STARTTLS is the general ``tls.starttls-missing``. What every mail check shares is in
:mod:`app.core.checks.mailcheck`.

The round trip's confirmation: :func:`find_test_message` signs in again, selects the INBOX and
searches it for the test message's token until it is there or the wait is over.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final, TypeVar

from app.core.checks.base import (
    AuthGate,
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
)
from app.core.checks.imapsocket import Greeting, SeamIMAPClient
from app.core.checks.mailcheck import (
    OAUTH_MECHANISMS,
    ROUND_TRIP_POLL,
    ROUND_TRIP_WAIT,
    STEP_AUTHENTICATE,
    STEP_CAPABILITY,
    STEP_GREETING,
    STEP_TLS,
    Arrival,
    AuthCodes,
    MailCheck,
    Stop,
    endpoint_of,
    sasl_answers,
    shown,
    tls_detail,
)
from app.core.diagnostics import knowledge
from app.core.errors import SetupError
from app.core.model import Protocol, Security
from app.core.net import TLSInfo
from app.core.net.blocking import BlockingSocket, connect_blocking
from app.core.net.tls import make_context, tls_failure

T = TypeVar("T")

STEP_LIST: Final = "list"
STEP_SELECT: Final = "select"
STEP_SEARCH: Final = "search"  # the round trip's look into the INBOX
STEP_LOGOUT: Final = "logout"

# Finding codes (resources/knowledge/imap.toml). Stable: never rename one.
AUTH_FAILED: Final = "imap.auth.failed"
TOKEN_REJECTED: Final = "imap.auth.token-rejected"  # noqa: S105 - a finding code
PASSWORD_EXPIRED: Final = "imap.auth.expired"  # noqa: S105 - a finding code
AUTH_SKIPPED: Final = "imap.auth.skipped"
AUTH_NOT_TRIED: Final = "imap.auth.not-tried"
# IMAP's LOGIN command carries ASCII only; a server without AUTH=PLAIN cannot take the others
LOGIN_NOT_ASCII: Final = "imap.auth.login-not-ascii"
NO_OAUTH: Final = "imap.auth.no-oauth"
LOGIN_DISABLED: Final = "imap.auth.login-disabled"
AUTH_ERROR: Final = "imap.auth.error"
APP_PASSWORD_REQUIRED: Final = "imap.auth.app-password-required"  # noqa: S105 - a finding code
CONTACT_ADMIN: Final = "imap.auth.contact-admin"
ICLOUD_APP_PASSWORD: Final = "imap.icloud.app-password-needed"  # noqa: S105 - a finding code
UNAVAILABLE: Final = "imap.unavailable"
PRIVACY_REQUIRED: Final = "imap.privacy-required"
STARTTLS_MISSING: Final = "tls.starttls-missing"  # the general catalog's
STARTTLS_STRIPPED: Final = "imap.starttls.stripped"
STARTTLS_REFUSED: Final = "imap.starttls.refused"
PLAINTEXT_REFUSED: Final = "imap.plaintext.refused"
PLAINTEXT: Final = "imap.plaintext"
NO_GREETING: Final = "imap.no-greeting"
GREETING_GARBAGE: Final = "imap.greeting.garbage"
GREETING_BYE: Final = "imap.greeting.bye"
STALLED: Final = "imap.stalled"
CONNECTION_LOST: Final = "imap.connection-lost"
PROTOCOL_ERROR: Final = "imap.protocol-error"
LIST_FAILED: Final = "imap.list.failed"
SELECT_FAILED: Final = "imap.select.failed"

#: Codes that mean "these credentials were rejected": the gate stops the other checks. Any
#: other answer (Microsoft's "not connected" or "AUTHENTICATE failed", a server problem) lets
#: them try: it says nothing certain about the credentials.
CREDENTIAL_REJECTIONS: Final = frozenset(
    {AUTH_FAILED, TOKEN_REJECTED, PASSWORD_EXPIRED, APP_PASSWORD_REQUIRED, ICLOUD_APP_PASSWORD}
)
CODES: Final = AuthCodes.of("imap", CREDENTIAL_REJECTIONS)
ICLOUD_MAIL_SUFFIX: Final = "mail.me.com"
ICLOUD_DOMAINS: Final = frozenset({"icloud.com", "me.com", "mac.com"})

_RESPONSE_CODE = re.compile(r"^\s*\[([A-Za-z0-9.-]+)[\s\]]")
_FAILED_PREFIX = re.compile(r"^[a-z_]+ failed: ", re.IGNORECASE)
_BYTES_REPR = re.compile(r"""^b(['"])(.*)\1$""", re.DOTALL)


@dataclass
class _Failure:
    """How a blocking IMAP call failed, as a finding code and the server's words."""

    code: str
    said: str | None = None
    problem: str | None = None


def server_text(error: BaseException) -> str:
    """What the server said in a failed command, from imaplib's or imapclient's exception:
    the innermost imaplib error's text, without imapclient's ``login failed:`` prefix."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 5:
        chain.append(current)
        current = current.__context__
    for item in reversed(chain):
        if isinstance(item, imaplib.IMAP4.error) and item.args:
            raw = item.args[0]
            if isinstance(raw, bytes):
                return shown(raw)
            if isinstance(raw, str):
                text = _FAILED_PREFIX.sub("", raw)
                literal = _BYTES_REPR.match(text)
                if literal:
                    text = literal.group(2)
                return shown(text)
    return shown(str(error))


def response_code(text: str) -> str | None:
    """The bracketed response code at the start of a reply (``AUTHENTICATIONFAILED``)."""
    found = _RESPONSE_CODE.match(text)
    return found.group(1).upper() if found else None


def auth_mechanisms(capabilities: Sequence[str]) -> list[str]:
    """The SASL mechanisms of a capability list (``AUTH=XOAUTH2`` -> ``XOAUTH2``)."""
    return [c[5:] for c in capabilities if c.upper().startswith("AUTH=")]


def choose_mechanism(
    kind: CredentialKind,
    capabilities: Sequence[str],
    oauth_mechanisms: Sequence[str] = OAUTH_MECHANISMS,
) -> str | None:
    """How to sign in with credentials of ``kind`` on a server with ``capabilities``: the
    first of ``oauth_mechanisms`` offered for a token; ``PLAIN``, the ``LOGIN`` command
    (``LOGIN-COMMAND``; only without LOGINDISABLED) or the SASL ``LOGIN`` mechanism for a
    password; None when the server offers no way for these credentials."""
    offered = {m.upper() for m in auth_mechanisms(capabilities)}
    if kind is CredentialKind.OAUTH2:
        for mechanism in oauth_mechanisms:
            if mechanism in offered:
                return mechanism
        return None
    if "PLAIN" in offered:
        return "PLAIN"
    if "LOGINDISABLED" not in {c.upper() for c in capabilities}:
        return "LOGIN-COMMAND"
    if "LOGIN" in offered:
        return "LOGIN"
    return None


def is_icloud(host: str) -> bool:
    """Whether ``host`` is iCloud's mail server (imap.mail.me.com and its partitions)."""
    return host == ICLOUD_MAIL_SUFFIX or host.endswith("." + ICLOUD_MAIL_SUFFIX)


def icloud_fallback(host: str, username: str) -> str | None:
    """The name part of an iCloud address, when ``host`` is iCloud's mail server and
    ``username`` a full @icloud.com/@me.com/@mac.com address (Apple's IMAP also accepts it)."""
    if not is_icloud(host):
        return None
    local, at, domain = username.rpartition("@")
    if not at or not local or domain.lower() not in ICLOUD_DOMAINS:
        return None
    return local


class _Sasl:
    """A SASL client answer for imaplib: the initial response first, then the answer to an
    error challenge (empty for XOAUTH2, ``\\x01`` for OAUTHBEARER, RFC 7628), which ends the
    exchange rather than sending the token again. Server challenges are kept (secret-free)."""

    def __init__(self, answers: Sequence[bytes], final: bytes = b"") -> None:
        self._answers = list(answers)
        self._final = final
        self.challenges: list[bytes] = []
        self._sent = 0

    def __call__(self, challenge: bytes | None) -> bytes:
        if self._sent > 0 and challenge:
            self.challenges.append(challenge)
        if self._sent < len(self._answers):
            answer = self._answers[self._sent]
            self._sent += 1
            return answer
        return self._final


def sasl_for(mechanism: str, credentials: Credentials) -> _Sasl:
    """The answers for ``mechanism`` (XOAUTH2, OAUTHBEARER, PLAIN, LOGIN)."""
    answers, final = sasl_answers(mechanism, credentials)
    return _Sasl(answers, final=final)


class _ImapCheck(MailCheck):
    """One run of the IMAP check; see the module docstring."""

    protocol = Protocol.IMAP
    codes = CODES
    capabilities: Sequence[str] = ()  # the latest list before sign-in
    stream: BlockingSocket | None = None
    client: SeamIMAPClient | None = None

    # -- helpers -------------------------------------------------------------------------------

    def method_name(self, method: str) -> str:
        return "LOGIN" if method == "LOGIN-COMMAND" else method

    @cached_property
    def tls_context(self) -> ssl.SSLContext:
        """A TLS context for this connection, with the seam's trust (its CA bundles): with
        truststore, one of its own (where OpenSSL verifies, the shared one has no lock).
        ``truststore`` holds a context's lock for a whole handshake, and imapclient's
        handshake blocks in the connection's worker thread: on the seam's shared context, a
        server that stalls in the handshake would stall every other check's handshake, the
        event loop with them, and so the deadline and the cancel, until it timed out."""
        return make_context(self.context.net.options.ca_bundles)

    async def call(self, function: Callable[[], T]) -> T:
        assert self.stream is not None
        return await self.stream.call(function)

    def failure(self, error: BaseException, step: str) -> _Failure:
        """What a failed blocking call means, for ``step``."""
        if isinstance(error, TimeoutError):
            return _Failure(NO_GREETING if step == STEP_GREETING else STALLED, problem="timeout")
        if isinstance(error, imaplib.IMAP4.abort):
            text = str(error)
            if "EOF" in text or (
                text.startswith("socket error") and "unterminated line" not in text
            ):
                return _Failure(CONNECTION_LOST, problem=shown(text))
            code = GREETING_GARBAGE if step == STEP_GREETING else PROTOCOL_ERROR
            return _Failure(code, problem=shown(text))
        if isinstance(error, ssl.SSLError | OSError):
            return _Failure(CONNECTION_LOST, problem=type(error).__name__)
        if isinstance(error, imaplib.IMAP4.error):
            said = server_text(error)
            return _Failure(PROTOCOL_ERROR, said=said, problem=said)
        raise error

    def fail_with(self, step: str, started: float, failure: _Failure) -> Stop:
        """Record a failed step as ``failure`` says; returns the exception that ends the run."""
        return self.fail(step, started, failure.code, said=failure.said, problem=failure.problem)

    def failed(self, error: BaseException, step: str, started: float) -> Stop:
        """A blocking call in ``step`` failed: its finding; returns the exception that ends
        the run."""
        return self.fail_with(step, started, self.failure(error, step))

    # -- the dialogue --------------------------------------------------------------------------

    async def run(self) -> CheckResult:
        try:
            await self.session()
            if await self.authenticate():
                await self.after_login()
        except Stop:
            self.stopped = True
        finally:
            self.close()
        return self.result()

    def close(self) -> None:
        self.release()
        if self.stream is not None:
            self.stream.close()

    async def session(self) -> None:
        """Connect, TLS, greeting and capabilities: everything before signing in."""
        net, host, port = self.context.net, self.host, self.port
        self.stream = stream = await self.connect_with(lambda: connect_blocking(net, host, port))
        if self.implicit_tls:
            context = self.tls_context
            await self.secure(
                lambda: stream.start_tls(context), starttls=False, started=time.monotonic()
            )
        await self.greet()
        if self.endpoint.security is Security.STARTTLS:
            await self.starttls()

    async def greet(self) -> None:
        assert self.stream is not None
        stream, implicit = self.stream, self.implicit_tls
        started = time.monotonic()
        greeting = Greeting()
        try:
            client = await self.call(
                lambda: SeamIMAPClient(stream, implicit_tls=implicit, greeting=greeting)
            )
        except Exception as error:  # the greeting or the first CAPABILITY failed
            raise self.greeting_failed(error, greeting, started) from None
        self.client = client
        said = self.redact(shown(greeting.line))
        self.data["greeting"] = said
        self.note_date(said)
        self.timeline.add(STEP_GREETING, True, started, said)
        capabilities = [c.upper() for c in client.imap4.capabilities]
        self.record_capabilities(capabilities, greeting.at or started, "capabilities")

    def greeting_failed(self, error: Exception, greeting: Greeting, started: float) -> Stop:
        line = greeting.line
        if not line:
            return self.failed(error, STEP_GREETING, started)
        said = shown(line)
        self.data["greeting"] = self.redact(said)
        if not _is_greeting(line):
            code = GREETING_BYE if line.upper().startswith(b"* BYE") else GREETING_GARBAGE
            problem = "not an IMAP greeting"
            return self.fail(STEP_GREETING, started, code, said=said, problem=problem)
        self.note_date(said)
        self.timeline.add(STEP_GREETING, True, started, self.redact(said))
        return self.failed(error, STEP_CAPABILITY, greeting.at or time.monotonic())

    def record_capabilities(self, capabilities: list[str], started: float, key: str) -> None:
        mechanisms = auth_mechanisms(capabilities)
        self.capabilities = capabilities
        self.data[key] = capabilities
        self.data["auth_mechanisms"] = mechanisms
        self.data["login_disabled"] = "LOGINDISABLED" in capabilities
        detail = "AUTH " + " ".join(mechanisms) if mechanisms else "no AUTH= mechanisms"
        if "LOGINDISABLED" in capabilities:
            detail += ", LOGINDISABLED"
        self.timeline.add(STEP_CAPABILITY, True, started, detail)

    async def starttls(self) -> None:
        """The ``tls`` step by STARTTLS, then the capabilities again (over TLS)."""
        assert self.stream is not None and self.client is not None
        client, stream = self.client, self.stream
        capabilities = self.capabilities
        offered = "STARTTLS" in capabilities
        self.data["starttls_offered"] = offered
        started = time.monotonic()
        if not offered:
            code = STARTTLS_STRIPPED if "LOGINDISABLED" in capabilities else STARTTLS_MISSING
            raise self.fail(STEP_TLS, started, code, problem="STARTTLS not offered")
        context = self.tls_context
        try:
            await self.call(lambda: client.start_tls(context))
        except (ssl.SSLError, ssl.CertificateError) as error:
            tls_error = tls_failure(error, self.host, self.port, stream.peer)
            raise self.fail_error(STEP_TLS, started, tls_error) from None
        except imaplib.IMAP4.abort as error:
            raise self.failed(error, STEP_TLS, started) from None
        except imaplib.IMAP4.error as error:
            said = server_text(error)
            raise self.fail(STEP_TLS, started, STARTTLS_REFUSED, said=said, problem=said) from None
        except Exception as error:
            raise self.failed(error, STEP_TLS, started) from None
        sock = client.imap4.sock
        if isinstance(sock, ssl.SSLSocket):
            self.tls = TLSInfo.from_ssl_object(sock, stream.tls_name)
            self.note_tls(self.tls)
        detail = tls_detail(self.tls, starttls=True) if self.tls else "STARTTLS"
        self.timeline.add(STEP_TLS, True, started, detail)
        self.data["capabilities_before_tls"] = capabilities
        started = time.monotonic()
        try:
            raw = await self.call(client.capabilities)
        except Exception as error:
            raise self.failed(error, STEP_CAPABILITY, started) from None
        self.record_capabilities(_decoded(raw), started, "capabilities")

    async def authenticate(self) -> bool:
        """Sign in if there are credentials; True when signed in."""
        assert self.client is not None
        client = self.client
        capabilities, mechanisms = self.capabilities, self.oauth_mechanisms
        chosen = await self.sign_in_method(
            lambda kind: choose_mechanism(kind, capabilities, mechanisms)
        )
        if chosen is None:
            return False
        credentials, mechanism, started = chosen
        sasl = None if mechanism == "LOGIN-COMMAND" else sasl_for(mechanism, credentials)
        if sasl is None and not (credentials.username + credentials.secret.reveal()).isascii():
            # imaplib would fail to encode it (a crash, not an answer): say so, send nothing
            self.report(AuthOutcome.FAILED_OTHERWISE)
            raise self.fail(STEP_AUTHENTICATE, started, LOGIN_NOT_ASCII)
        try:
            if sasl is None:
                user, secret = credentials.username, credentials.secret.reveal()
                await self.call(lambda: client.login(user, secret))
            else:
                answers = sasl
                await self.call(lambda: client.sasl_login(mechanism, answers))
        except imaplib.IMAP4.abort as error:
            self.report(AuthOutcome.FAILED_OTHERWISE)
            raise self.failed(error, STEP_AUTHENTICATE, started) from None
        except imaplib.IMAP4.error as error:
            raise self.rejected(error, sasl, started) from None
        except Exception as error:
            self.report(AuthOutcome.FAILED_OTHERWISE)
            raise self.failed(error, STEP_AUTHENTICATE, started) from None
        finally:
            client.forget_commands()
        self.signed_in(mechanism, started)
        return True

    def rejected(self, error: imaplib.IMAP4.error, sasl: _Sasl | None, started: float) -> Stop:
        """The server said NO (or BAD) to the sign-in: which problem it is, and the gate told
        whether it was the credentials."""
        assert self.credentials is not None
        said = server_text(error)
        reply_code = response_code(said)
        challenge = shown(sasl.challenges[-1]) if sasl is not None and sasl.challenges else ""
        bad = " command error: BAD" in str(error)
        # the catalog knows providers' sentences too (microsoft.not-connected ...)
        code = self.refusal_code(said, challenge, reply_code, AUTH_ERROR if bad else None)
        if code == AUTH_FAILED and is_icloud(self.host):
            code = ICLOUD_APP_PASSWORD
            fallback = icloud_fallback(self.host, self.credentials.username)
            if fallback is not None:
                self.data["username_fallback"] = fallback
        return self.refused(code, said, challenge, reply_code, started)

    async def after_login(self) -> None:
        assert self.client is not None
        client = self.client
        started = time.monotonic()
        try:
            raw = await self.call(client.capabilities)
        except Exception as error:
            raise self.failed(error, STEP_CAPABILITY, started) from None
        capabilities = _decoded(raw)
        self.data["capabilities_after_login"] = capabilities
        self.timeline.add(STEP_CAPABILITY, True, started, f"{len(capabilities)} after sign-in")
        started = time.monotonic()
        try:
            folders = await self.call(client.list_folders)
        except imaplib.IMAP4.error as error:
            raise self.fail_with(
                STEP_LIST, started, self.command_failed(error, LIST_FAILED, STEP_LIST)
            ) from None
        except Exception as error:
            raise self.failed(error, STEP_LIST, started) from None
        self.data["folders"] = len(folders)
        self.timeline.add(STEP_LIST, True, started, f"{len(folders)} folders")
        exists = await self.select_inbox()
        self.data["messages"] = exists
        await self.logout()

    async def select_inbox(self) -> int:
        """SELECT INBOX read-only (the ``select`` step); the number of messages in it."""
        assert self.client is not None
        client = self.client
        started = time.monotonic()
        try:
            selected = await self.call(lambda: client.select_folder("INBOX", readonly=True))
        except imaplib.IMAP4.error as error:
            raise self.fail_with(
                STEP_SELECT, started, self.command_failed(error, SELECT_FAILED, STEP_SELECT)
            ) from None
        except Exception as error:
            raise self.failed(error, STEP_SELECT, started) from None
        exists = int(selected.get(b"EXISTS", 0)) if isinstance(selected, dict) else 0
        self.timeline.add(STEP_SELECT, True, started, f"INBOX: {exists} messages")
        return exists

    async def logout(self) -> None:
        """LOGOUT; the check passed already, so a failed goodbye is only noted."""
        assert self.client is not None
        client = self.client
        started = time.monotonic()
        try:
            await self.call(client.logout)
        except Exception as error:
            self.timeline.add(STEP_LOGOUT, False, started, type(error).__name__)
            return
        self.timeline.add(STEP_LOGOUT, True, started)

    def command_failed(self, error: imaplib.IMAP4.error, default: str, step: str) -> _Failure:
        """A NO or BAD after sign-in (LIST, SELECT): a known problem, else ``default``."""
        if isinstance(error, imaplib.IMAP4.abort):
            return self.failure(error, step)
        said = server_text(error)
        code = knowledge.match(said, protocol=Protocol.IMAP.value, code=response_code(said))
        if code is None or not code.startswith("imap.") or code in CREDENTIAL_REJECTIONS:
            code = default
        return _Failure(code, said=said, problem=said)

    # -- the round trip ------------------------------------------------------------------------

    async def look_for(self, token: str, *, wait: float, poll: float) -> Arrival:
        """Sign in, select the INBOX and search it for ``token`` in a Subject until it is
        there or ``wait`` seconds have passed (a NOOP before each new search lets the server
        tell of new mail)."""
        started = time.monotonic()
        searches = 0
        try:
            await self.session()
            if not await self.authenticate():
                return Arrival(False, time.monotonic() - started, problem=AUTH_NOT_TRIED)
            await self.select_inbox()
            client = self.client
            assert client is not None
            criteria = ["SUBJECT", token]
            while True:
                searches += 1
                if await self.call(lambda: client.search(criteria)):
                    await self.logout()
                    return Arrival(True, time.monotonic() - started, searches)
                left = started + wait - time.monotonic()
                if left <= 0:
                    await self.logout()
                    return Arrival(False, time.monotonic() - started, searches)
                await asyncio.sleep(min(poll, left))
                await self.call(client.noop)
        except Stop:
            problem = self.findings[-1].code if self.findings else PROTOCOL_ERROR
            return Arrival(False, time.monotonic() - started, searches, problem)
        except SetupError as error:  # the connection closed under a call
            return Arrival(False, time.monotonic() - started, searches, error.code)
        except (imaplib.IMAP4.error, OSError) as error:
            problem = self.failure(error, STEP_SEARCH).code
            return Arrival(False, time.monotonic() - started, searches, problem)
        finally:
            self.close()


def _decoded(raw: object) -> list[str]:
    if not isinstance(raw, tuple | list):
        return []
    return [(c.decode("ascii", "replace") if isinstance(c, bytes) else str(c)).upper() for c in raw]


def _is_greeting(line: bytes) -> bool:
    upper = line.upper()
    return upper.startswith((b"* OK", b"* PREAUTH"))


async def check_imap(
    target: CheckTarget,
    context: CheckContext,
    *,
    oauth_mechanisms: Sequence[str] = OAUTH_MECHANISMS,
) -> CheckResult:
    """Check an IMAP server (``target.endpoint``), signing in with ``target.credentials`` if
    given (a token with the first of ``oauth_mechanisms`` the server offers). Never raises
    for a failure of the server or the network; cancellable at any moment (the connection
    closes at once)."""
    endpoint = endpoint_of(target, Protocol.IMAP, "check_imap")
    return await _ImapCheck(target, endpoint, context, oauth_mechanisms).run()


async def find_test_message(
    target: CheckTarget,
    context: CheckContext,
    token: str,
    *,
    wait: float = ROUND_TRIP_WAIT,
    poll: float = ROUND_TRIP_POLL,
) -> Arrival:
    """Whether the round trip's test message (``token`` in its Subject) arrives in the INBOX
    of ``target`` (an IMAP server and credentials) within ``wait`` seconds: sign in, SELECT
    INBOX (read-only), SEARCH SUBJECT every ``poll`` seconds. Nothing is recorded in
    ``context``'s timeline, and the sign-in does not go through its gate: call it only after
    the IMAP check signed in with the same credentials (the runner does). Never raises for a
    failure of the server or the network (``Arrival.problem``); cancellable at any moment."""
    endpoint = endpoint_of(target, Protocol.IMAP, "find_test_message")
    quiet = CheckContext(net=context.net, gate=AuthGate(), language=context.language)
    return await _ImapCheck(target, endpoint, quiet).look_for(token, wait=wait, poll=poll)
