"""The IMAP check: connect, TLS, greeting, capabilities, sign-in, folders and the INBOX, for real.

Steps (stable names, in order): ``connect`` (the peer address), ``tls`` (implicit TLS: version
and cipher) or, on a STARTTLS port, ``greeting``, ``capability``, ``starttls`` and a second
``capability``; then ``authenticate`` (XOAUTH2 or OAUTHBEARER with a token; AUTHENTICATE PLAIN,
LOGIN or SASL LOGIN with a password), ``capability`` after sign-in, ``list`` (folder count),
``select`` (INBOX, read-only, message count) and ``logout``.

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
missing STARTTLS is the general ``tls.starttls-missing``.
"""

from __future__ import annotations

import imaplib
import re
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from app.core.checks.base import (
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
    Timeline,
)
from app.core.checks.imapsocket import Greeting, SeamIMAPClient
from app.core.checks.runner import describe
from app.core.diagnostics import knowledge
from app.core.diagnostics.redact import redact
from app.core.errors import SetupError
from app.core.model import Endpoint, Finding, Outcome, Protocol, Security
from app.core.net import TLSInfo, format_address
from app.core.net.blocking import BlockingSocket, connect_blocking
from app.core.net.tls import tls_failure
from app.core.texts import ParamValue, Text

T = TypeVar("T")

STEP_CONNECT: Final = "connect"
STEP_TLS: Final = "tls"
STEP_GREETING: Final = "greeting"
STEP_CAPABILITY: Final = "capability"
STEP_STARTTLS: Final = "starttls"
STEP_AUTHENTICATE: Final = "authenticate"
STEP_LIST: Final = "list"
STEP_SELECT: Final = "select"
STEP_LOGOUT: Final = "logout"

# Finding codes (resources/knowledge/imap.toml). Stable: never rename one.
AUTH_FAILED: Final = "imap.auth.failed"
TOKEN_REJECTED: Final = "imap.auth.token-rejected"  # noqa: S105 - a finding code
PASSWORD_EXPIRED: Final = "imap.auth.expired"  # noqa: S105 - a finding code
AUTH_SKIPPED: Final = "imap.auth.skipped"
AUTH_NOT_TRIED: Final = "imap.auth.not-tried"
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
ICLOUD_MAIL_SUFFIX: Final = "mail.me.com"
ICLOUD_DOMAINS: Final = frozenset({"icloud.com", "me.com", "mac.com"})
MAX_SHOWN: Final = 300
#: The token mechanisms in the order they are tried (Microsoft offers only XOAUTH2).
OAUTH_MECHANISMS: Final = ("XOAUTH2", "OAUTHBEARER")

_RESPONSE_CODE = re.compile(r"^\s*\[([A-Za-z0-9.-]+)[\s\]]")
_FAILED_PREFIX = re.compile(r"^[a-z_]+ failed: ", re.IGNORECASE)
_BYTES_REPR = re.compile(r"""^b(['"])(.*)\1$""", re.DOTALL)
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class _Stop(Exception):
    """Ends the dialogue early; the finding is recorded already."""


@dataclass
class _Failure:
    """How a blocking IMAP call failed, as a finding code and the server's words."""

    code: str
    said: str | None = None
    problem: str | None = None


def _shown(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = _UNPRINTABLE.sub("?", text.rstrip("\r\n"))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


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
                return _shown(raw)
            if isinstance(raw, str):
                text = _FAILED_PREFIX.sub("", raw)
                literal = _BYTES_REPR.match(text)
                if literal:
                    text = literal.group(2)
                return _shown(text)
    return _shown(str(error))


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
    user = credentials.username
    secret = credentials.secret.reveal()
    if mechanism == "XOAUTH2":
        return _Sasl([f"user={user}\x01auth=Bearer {secret}\x01\x01".encode()])
    if mechanism == "OAUTHBEARER":
        authzid = user.replace("=", "=3D").replace(",", "=2C")
        payload = f"n,a={authzid},\x01auth=Bearer {secret}\x01\x01".encode()
        return _Sasl([payload], final=b"\x01")
    if mechanism == "PLAIN":
        return _Sasl([f"\x00{user}\x00{secret}".encode()])
    if mechanism == "LOGIN":
        return _Sasl([user.encode(), secret.encode()])
    raise ValueError(f"no SASL answers for {mechanism}")


class _ImapCheck:
    """One run of the IMAP check; see the module docstring."""

    def __init__(
        self,
        target: CheckTarget,
        endpoint: Endpoint,
        context: CheckContext,
        oauth_mechanisms: Sequence[str] = OAUTH_MECHANISMS,
    ) -> None:
        self.target = target
        self.oauth_mechanisms = tuple(m.upper() for m in oauth_mechanisms)
        self.endpoint = endpoint
        self.context = context
        self.credentials = target.credentials
        self.timeline: Timeline = context.timeline(Protocol.IMAP)
        self.findings: list[Finding] = []
        self.data: dict[str, object] = {"security": endpoint.security.value}
        self.capabilities: list[str] = []  # the latest list before sign-in
        self.tls: TLSInfo | None = None
        self.stream: BlockingSocket | None = None
        self.client: SeamIMAPClient | None = None
        self.authenticated = False
        self.auth_tried = False
        self.stopped = False  # a step failed and ended the check (its finding is the last)
        self._turn = False  # this check holds a turn at the gate it has not reported yet
        self._secrets: tuple[str, ...] = ()
        if self.credentials is not None:
            self._secrets = (self.credentials.secret.reveal(),)

    # -- helpers -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.endpoint.host

    @property
    def port(self) -> int:
        return self.endpoint.port

    @property
    def implicit_tls(self) -> bool:
        return self.endpoint.security is Security.TLS

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def params(self) -> dict[str, ParamValue]:
        username = self.credentials.username if self.credentials is not None else ""
        mechanisms = self.data.get("auth_mechanisms")
        shown = ", ".join(mechanisms) if isinstance(mechanisms, list) and mechanisms else "-"
        return {
            "host": self.host,
            "port": self.port,
            "username": username,
            "mechanisms": shown,
            "seconds": round(self.context.net.options.timeout, 1),
        }

    def checked(self, step: str) -> Text:
        if step == STEP_CONNECT:
            return Text("check.connect", {"host": self.host, "port": self.port})
        if step in (STEP_TLS, STEP_STARTTLS):
            return Text("check.tls", {"host": self.host})
        return Text("check.server", {"host": self.host})

    def add(
        self,
        code: str,
        step: str,
        *,
        said: str | None = None,
        detail: Mapping[str, str | int] | None = None,
    ) -> Finding:
        found = knowledge.finding(
            code,
            checked=self.checked(step),
            server_said=None if said is None else self.redact(said),
            params=self.params(),
            detail={"host": self.host, "port": self.port, "step": step, **(detail or {})},
        )
        self.findings.append(found)
        return found

    def add_error(self, step: str, error: SetupError) -> Finding:
        """A failure of the network seam, by its own code (the catalog's entry if it has one,
        else the error's own finding), redacted once more."""
        detail: dict[str, str | int] = {
            k: self.redact(v) if isinstance(v, str) else v for k, v in error.detail.items()
        }
        detail["step"] = step
        said = None if error.server_said is None else self.redact(error.server_said)
        if error.code in knowledge.default_knowledge().by_code:
            params: dict[str, ParamValue] = {**self.params(), **detail}
            found = knowledge.finding(
                error.code,
                checked=self.checked(step),
                server_said=said,
                params=params,
                detail=detail,
            )
        else:
            base = error.to_finding(self.checked(step))
            found = Finding(
                code=base.code,
                checked=base.checked,
                outcome=base.outcome,
                cause=base.cause,
                fix=base.fix,
                fixer=base.fixer,
                help_topic=base.help_topic,
                server_said=said,
                detail=detail,
                title=base.title,
            )
        self.findings.append(found)
        return found

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
                return _Failure(CONNECTION_LOST, problem=_shown(text))
            code = GREETING_GARBAGE if step == STEP_GREETING else PROTOCOL_ERROR
            return _Failure(code, problem=_shown(text))
        if isinstance(error, ssl.SSLError | OSError):
            return _Failure(CONNECTION_LOST, problem=type(error).__name__)
        if isinstance(error, imaplib.IMAP4.error):
            said = server_text(error)
            return _Failure(PROTOCOL_ERROR, said=said, problem=said)
        raise error

    def fail(self, step: str, started: float, failure: _Failure) -> _Stop:
        """Record a failed step and its finding; returns the exception that ends the run."""
        detail = {"problem": failure.problem} if failure.problem else None
        self.timeline.add(step, False, started, failure.problem and self.redact(failure.problem))
        self.add(failure.code, step, said=failure.said, detail=detail)
        return _Stop()

    def result(self) -> CheckResult:
        """The result: the finding that stopped the check (the last one recorded) or else the
        first error is the main finding; ``ok`` when there is none."""
        main = next((f for f in self.findings if f.outcome is Outcome.ERROR), None)
        if self.stopped and self.findings:
            main = self.findings[-1]
        ordered = tuple(self.findings)
        if main is not None:
            ordered = (main, *(f for f in self.findings if f is not main))
        return CheckResult(
            protocol=Protocol.IMAP,
            target=describe(self.target),
            ok=main is None,
            authenticated=self.authenticated,
            steps=tuple(self.timeline.steps),
            tls=self.tls,
            finding=main,
            findings=ordered,
            data=dict(self.data),
            auth_tried=self.auth_tried,
        )

    # -- the dialogue --------------------------------------------------------------------------

    async def run(self) -> CheckResult:
        try:
            await self.connect()
            await self.greet()
            if self.endpoint.security is Security.STARTTLS:
                await self.starttls()
            if await self.authenticate():
                await self.after_login()
        except _Stop:
            self.stopped = True
        finally:
            if self._turn and self.credentials is not None:
                self.context.gate.release(self.credentials)
                self._turn = False
            if self.stream is not None:
                self.stream.close()
        return self.result()

    async def connect(self) -> None:
        started = time.monotonic()
        try:
            self.stream = await connect_blocking(self.context.net, self.host, self.port)
        except SetupError as error:
            self.timeline.add(STEP_CONNECT, False, started, error.code)
            self.add_error(STEP_CONNECT, error)
            raise _Stop() from None
        peer = format_address(self.stream.peer)
        self.data["peer"] = peer
        self.timeline.add(STEP_CONNECT, True, started, peer)
        if not self.implicit_tls:
            return
        started = time.monotonic()
        try:
            self.tls = await self.stream.start_tls()
        except SetupError as error:
            self.timeline.add(STEP_TLS, False, started, error.code)
            self.add_error(STEP_TLS, error)
            raise _Stop() from None
        self.timeline.add(STEP_TLS, True, started, f"{self.tls.version} {self.tls.cipher}")

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
        shown = self.redact(_shown(greeting.line))
        self.data["greeting"] = shown
        self.timeline.add(STEP_GREETING, True, started, shown)
        capabilities = [c.upper() for c in client.imap4.capabilities]
        self.record_capabilities(capabilities, greeting.at or started, "capabilities")

    def greeting_failed(self, error: Exception, greeting: Greeting, started: float) -> _Stop:
        line = greeting.line
        if not line:
            return self.fail(STEP_GREETING, started, self.failure(error, STEP_GREETING))
        shown = _shown(line)
        self.data["greeting"] = self.redact(shown)
        if not _is_greeting(line):
            code = GREETING_BYE if line.upper().startswith(b"* BYE") else GREETING_GARBAGE
            return self.fail(
                STEP_GREETING, started, _Failure(code, said=shown, problem="not an IMAP greeting")
            )
        self.timeline.add(STEP_GREETING, True, started, self.redact(shown))
        after = greeting.at or time.monotonic()
        return self.fail(STEP_CAPABILITY, after, self.failure(error, STEP_CAPABILITY))

    def record_capabilities(self, capabilities: list[str], started: float, key: str) -> None:
        mechanisms = auth_mechanisms(capabilities)
        self.capabilities = capabilities
        self.data[key] = capabilities
        self.data["auth_mechanisms"] = mechanisms
        self.data["login_disabled"] = "LOGINDISABLED" in capabilities
        shown = "AUTH " + " ".join(mechanisms) if mechanisms else "no AUTH= mechanisms"
        if "LOGINDISABLED" in capabilities:
            shown += ", LOGINDISABLED"
        self.timeline.add(STEP_CAPABILITY, True, started, shown)

    async def starttls(self) -> None:
        assert self.stream is not None and self.client is not None
        client, stream = self.client, self.stream
        capabilities = self.capabilities
        offered = "STARTTLS" in capabilities
        self.data["starttls_offered"] = offered
        started = time.monotonic()
        if not offered:
            code = STARTTLS_STRIPPED if "LOGINDISABLED" in capabilities else STARTTLS_MISSING
            raise self.fail(STEP_STARTTLS, started, _Failure(code, problem="not offered"))
        try:
            await self.call(client.start_tls)
        except (ssl.SSLError, ssl.CertificateError) as error:
            tls_error = tls_failure(error, self.host, self.port, stream.peer)
            self.timeline.add(STEP_STARTTLS, False, started, tls_error.code)
            self.add_error(STEP_STARTTLS, tls_error)
            raise _Stop() from None
        except imaplib.IMAP4.abort as error:
            raise self.fail(STEP_STARTTLS, started, self.failure(error, STEP_STARTTLS)) from None
        except imaplib.IMAP4.error as error:
            said = server_text(error)
            raise self.fail(
                STEP_STARTTLS, started, _Failure(STARTTLS_REFUSED, said=said, problem=said)
            ) from None
        except Exception as error:
            raise self.fail(STEP_STARTTLS, started, self.failure(error, STEP_STARTTLS)) from None
        sock = client.imap4.sock
        if isinstance(sock, ssl.SSLSocket):
            self.tls = TLSInfo.from_ssl_object(sock, stream.tls_name)
        detail = f"{self.tls.version} {self.tls.cipher}" if self.tls else None
        self.timeline.add(STEP_STARTTLS, True, started, detail)
        self.data["capabilities_before_tls"] = capabilities
        started = time.monotonic()
        try:
            raw = await self.call(client.capabilities)
        except Exception as error:
            raise self.fail(
                STEP_CAPABILITY, started, self.failure(error, STEP_CAPABILITY)
            ) from None
        self.record_capabilities(_decoded(raw), started, "capabilities")

    async def authenticate(self) -> bool:
        """Sign in if there are credentials; True when signed in."""
        assert self.client is not None
        client = self.client
        credentials = self.credentials
        capabilities = self.capabilities
        started = time.monotonic()
        if self.endpoint.security is Security.PLAIN:
            if credentials is not None:  # never a password or token in the clear
                failure = _Failure(PLAINTEXT_REFUSED, problem="no TLS")
                raise self.fail(STEP_AUTHENTICATE, started, failure)
            self.add(PLAINTEXT, STEP_AUTHENTICATE)
        if credentials is None:
            self.add(AUTH_NOT_TRIED, STEP_AUTHENTICATE)
            return False
        mechanism = choose_mechanism(credentials.kind, capabilities, self.oauth_mechanisms)
        if mechanism is None:
            code = NO_OAUTH if credentials.kind is CredentialKind.OAUTH2 else LOGIN_DISABLED
            raise self.fail(STEP_AUTHENTICATE, started, _Failure(code, problem="no mechanism"))
        shown = "LOGIN" if mechanism == "LOGIN-COMMAND" else mechanism
        self.data["mechanism"] = shown
        if not await self.context.gate.turn(credentials):
            self.timeline.add(STEP_AUTHENTICATE, False, started, "not tried")
            self.add(AUTH_SKIPPED, STEP_AUTHENTICATE)
            raise _Stop()
        self._turn = True
        started = time.monotonic()
        sasl = None if mechanism == "LOGIN-COMMAND" else sasl_for(mechanism, credentials)
        self.auth_tried = True
        try:
            if sasl is None:
                user, secret = credentials.username, credentials.secret.reveal()
                await self.call(lambda: client.login(user, secret))
            else:
                answers = sasl
                await self.call(lambda: client.sasl_login(mechanism, answers))
        except imaplib.IMAP4.abort as error:
            self.report(AuthOutcome.FAILED_OTHERWISE)
            failure = self.failure(error, STEP_AUTHENTICATE)
            raise self.fail(STEP_AUTHENTICATE, started, failure) from None
        except imaplib.IMAP4.error as error:
            raise self.rejected(error, sasl, started) from None
        except Exception as error:
            self.report(AuthOutcome.FAILED_OTHERWISE)
            failure = self.failure(error, STEP_AUTHENTICATE)
            raise self.fail(STEP_AUTHENTICATE, started, failure) from None
        finally:
            client.forget_commands()
        self.report(AuthOutcome.SUCCEEDED)
        self.authenticated = True
        self.timeline.add(STEP_AUTHENTICATE, True, started, shown)
        return True

    def report(self, outcome: AuthOutcome) -> None:
        if self._turn and self.credentials is not None:
            self.context.gate.done(self.credentials, outcome)
            self._turn = False

    def rejected(self, error: imaplib.IMAP4.error, sasl: _Sasl | None, started: float) -> _Stop:
        """The server said NO (or BAD) to the sign-in: which problem it is, and the gate told
        whether it was the credentials."""
        assert self.credentials is not None
        said = server_text(error)
        reply_code = response_code(said)
        challenge = _shown(sasl.challenges[-1]) if sasl is not None and sasl.challenges else ""
        text = f"{said} {challenge}".strip()
        # the catalog knows providers' sentences too (microsoft.not-connected ...)
        code = knowledge.match(text, protocol=Protocol.IMAP.value, code=reply_code)
        if code is None:
            bad = " command error: BAD" in str(error)
            code = AUTH_ERROR if bad else AUTH_FAILED  # a plain NO: not accepted
        if code == AUTH_FAILED and self.credentials.kind is CredentialKind.OAUTH2:
            code = TOKEN_REJECTED
        if code == AUTH_FAILED and is_icloud(self.host):
            code = ICLOUD_APP_PASSWORD
            fallback = icloud_fallback(self.host, self.credentials.username)
            if fallback is not None:
                self.data["username_fallback"] = fallback
        rejected = code in CREDENTIAL_REJECTIONS
        self.report(AuthOutcome.CREDENTIALS_REJECTED if rejected else AuthOutcome.FAILED_OTHERWISE)
        detail: dict[str, str | int] = {"mechanism": str(self.data.get("mechanism", ""))}
        if reply_code:
            detail["response_code"] = reply_code
        if challenge:
            detail["challenge"] = self.redact(challenge)
        self.timeline.add(STEP_AUTHENTICATE, False, started, self.redact(said) or None)
        self.add(code, STEP_AUTHENTICATE, said=said, detail=detail)
        return _Stop()

    async def after_login(self) -> None:
        assert self.client is not None
        client = self.client
        started = time.monotonic()
        try:
            raw = await self.call(client.capabilities)
        except Exception as error:
            raise self.fail(
                STEP_CAPABILITY, started, self.failure(error, STEP_CAPABILITY)
            ) from None
        capabilities = _decoded(raw)
        self.data["capabilities_after_login"] = capabilities
        self.timeline.add(STEP_CAPABILITY, True, started, f"{len(capabilities)} after sign-in")
        started = time.monotonic()
        try:
            folders = await self.call(client.list_folders)
        except imaplib.IMAP4.error as error:
            failure = self.command_failed(error, LIST_FAILED, STEP_LIST)
            raise self.fail(STEP_LIST, started, failure) from None
        except Exception as error:
            raise self.fail(STEP_LIST, started, self.failure(error, STEP_LIST)) from None
        self.data["folders"] = len(folders)
        self.timeline.add(STEP_LIST, True, started, f"{len(folders)} folders")
        started = time.monotonic()
        try:
            selected = await self.call(lambda: client.select_folder("INBOX", readonly=True))
        except imaplib.IMAP4.error as error:
            failure = self.command_failed(error, SELECT_FAILED, STEP_SELECT)
            raise self.fail(STEP_SELECT, started, failure) from None
        except Exception as error:
            raise self.fail(STEP_SELECT, started, self.failure(error, STEP_SELECT)) from None
        exists = selected.get(b"EXISTS", 0) if isinstance(selected, dict) else 0
        self.data["messages"] = int(exists)
        self.timeline.add(STEP_SELECT, True, started, f"INBOX: {int(exists)} messages")
        started = time.monotonic()
        try:
            await self.call(client.logout)
        except Exception as error:  # the check passed; a failed goodbye is only noted
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
    endpoint = target.endpoint
    if endpoint is None or endpoint.protocol is not Protocol.IMAP:
        raise ValueError("check_imap needs an IMAP endpoint")
    return await _ImapCheck(target, endpoint, context, oauth_mechanisms).run()
