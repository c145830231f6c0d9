"""What the mail checks (IMAP, POP3, SMTP) share: the step names, how server text is shown,
the SASL answers, the TLS step, findings from the knowledge catalog, the turn at the
authentication gate, and how the result is put together.

:class:`MailCheck` is the base of one run of a check (``_ImapCheck``, ``_Pop3Check``,
``_SmtpCheck``). The protocol's own module does the dialogue; this one records it:

- the steps, by the one rule for TLS: ``tls`` is the step that establishes TLS, whether right
  after connecting (implicit TLS) or after the protocol's STARTTLS command (``STARTTLS``,
  ``STLS``); its detail says which (:func:`tls_detail`);
- what a handshake showed (:meth:`MailCheck.note_tls`: interception, a configured CA, a
  certificate about to expire) and a date in the greeting (:meth:`MailCheck.note_date`: the
  clock), the same for every mail check;
- findings (:meth:`MailCheck.add`, :meth:`MailCheck.add_error` for the network seam's errors,
  :meth:`MailCheck.fail` for a step that ends the check), every server text redacted with the
  check's own secrets;
- sign-in: plain text is refused with credentials, the method is chosen by the protocol, the
  gate is asked (:meth:`MailCheck.sign_in_method`), and the outcome reported once
  (:meth:`MailCheck.report`; :meth:`MailCheck.release` when the check stops before it could).

The DAV check uses the TLS and network-error helpers too (:func:`tls_detail`,
:func:`tls_findings`, :func:`seam_finding`), so that every check names and explains TLS the
same way. The round trip's confirmation reports with :class:`Arrival`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, TypeVar
from typing import Protocol as TypingProtocol

from app.core.checks import tlsreport
from app.core.checks.base import (
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
    Timeline,
)
from app.core.checks.runner import describe
from app.core.diagnostics import knowledge
from app.core.diagnostics.redact import redact
from app.core.errors import SetupError
from app.core.model import Endpoint, Finding, Outcome, Protocol, Security
from app.core.net import Address, TLSInfo, format_address
from app.core.texts import ParamValue, Text

STEP_CONNECT: Final = "connect"
STEP_TLS: Final = "tls"  # implicit TLS, or the upgrade after STARTTLS/STLS: the detail says which
STEP_GREETING: Final = "greeting"
STEP_CAPABILITY: Final = "capability"
STEP_AUTHENTICATE: Final = "authenticate"

MAX_SHOWN: Final = 300  # characters of server text kept for reports
#: The token mechanisms in the order they are tried (Microsoft offers only XOAUTH2).
OAUTH_MECHANISMS: Final = ("XOAUTH2", "OAUTHBEARER")
#: The round trip: how long to look for the test message, and how often.
ROUND_TRIP_WAIT: Final = 20.0
ROUND_TRIP_POLL: Final = 0.5
IMPLICIT_TLS: Final = "implicit TLS"
STARTTLS: Final = "STARTTLS"

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

S = TypeVar("S", bound="Connected")


def shown(data: bytes | str | None, limit: int = MAX_SHOWN) -> str:
    """Server text made safe to show: decoded leniently, control characters replaced,
    trimmed to ``limit`` characters; "" for None."""
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = _UNPRINTABLE.sub("?", text.rstrip("\r\n"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sasl_answers(mechanism: str, credentials: Credentials) -> tuple[list[bytes], bytes]:
    """The client's answers for ``mechanism`` (XOAUTH2, OAUTHBEARER, PLAIN, LOGIN), and what
    to answer an error challenge with (RFC 7628: ``\\x01`` for OAUTHBEARER, empty for the
    others), which ends the exchange rather than sending the secret again."""
    user = credentials.username
    secret = credentials.secret.reveal()
    if mechanism == "XOAUTH2":
        return [f"user={user}\x01auth=Bearer {secret}\x01\x01".encode()], b""
    if mechanism == "OAUTHBEARER":
        authzid = user.replace("=", "=3D").replace(",", "=2C")
        return [f"n,a={authzid},\x01auth=Bearer {secret}\x01\x01".encode()], b"\x01"
    if mechanism == "PLAIN":
        return [f"\x00{user}\x00{secret}".encode()], b""
    if mechanism == "LOGIN":
        return [user.encode(), secret.encode()], b""
    raise ValueError(f"no SASL answers for {mechanism}")


def tls_detail(tls: TLSInfo, *, starttls: bool) -> str:
    """The ``tls`` step's detail: how TLS was reached, the version, the cipher and whom the
    certificate names (``STARTTLS: TLSv1.3 TLS_AES_256_GCM_SHA384; CN=mail.example.com``)."""
    how = STARTTLS if starttls else IMPLICIT_TLS
    subject = tls.certificate.subject if tls.certificate is not None else "no certificate"
    return f"{how}: {tls.version} {tls.cipher}; {subject}"


def tls_findings(tls: TLSInfo, host: str, context: CheckContext) -> tuple[Finding, ...]:
    """What a successful handshake with ``host`` tells beyond "it worked": interception, a CA
    the user configured, a certificate about to expire (:func:`tlsreport.analyse_tls`)."""
    return tlsreport.analyse_tls(
        tls,
        host,
        extra_ca_bundles=context.net.options.ca_bundles,
        known_provider=tlsreport.is_known_provider_host(host),
    )


def seam_finding(
    error: SetupError, checked: Text, scrub: Callable[[str], str], **extra: str | int
) -> Finding:
    """A failure of the network seam (DNS, TCP, TLS, a timeout) by its own code, with the
    knowledge catalog's texts (:func:`tlsreport.error_finding`); what the server said and the
    detail redacted once more by ``scrub``, ``extra`` added to the detail."""
    found = tlsreport.error_finding(error, checked)
    detail = {k: scrub(v) if isinstance(v, str) else v for k, v in found.detail.items()}
    said = None if found.server_said is None else scrub(found.server_said)
    return dataclasses.replace(found, server_said=said, detail={**detail, **extra})


def main_first(findings: Sequence[Finding], main: Finding | None) -> tuple[Finding, ...]:
    """``findings`` with ``main`` (if any) moved to the front."""
    if main is None:
        return tuple(findings)
    return (main, *(f for f in findings if f is not main))


def endpoint_of(target: CheckTarget, protocol: Protocol, caller: str) -> Endpoint:
    """``target``'s endpoint, which must be a ``protocol`` server (a caller's mistake, else)."""
    endpoint = target.endpoint
    if endpoint is None or endpoint.protocol is not protocol:
        raise ValueError(f"{caller} needs an endpoint of protocol {protocol.value}")
    return endpoint


class Stop(Exception):
    """Ends a check's dialogue early; its finding is recorded already. ``polite``: the
    connection still speaks the protocol, so a goodbye (QUIT) is worth sending."""

    def __init__(self, polite: bool = False) -> None:
        super().__init__()
        self.polite = polite


class Connected(TypingProtocol):
    """A connection of the network seam (async ``Connection`` or ``BlockingSocket``)."""

    @property
    def peer(self) -> Address: ...


@dataclass(frozen=True)
class AuthCodes:
    """A protocol's finding codes for the sign-in rules every mail check shares."""

    not_tried: str  # no credentials: what the server offers is reported
    skipped: str  # the gate said the same credentials were just rejected
    no_oauth: str  # a token, and no token mechanism offered
    login_disabled: str  # a password, and no password mechanism offered
    plaintext: str  # settings without TLS (no credentials: a warning)
    plaintext_refused: str  # settings without TLS and credentials: never sent
    auth_failed: str  # a plain "no" to the sign-in
    token_rejected: str  # the same for a token
    rejections: frozenset[str]  # codes that mean "these credentials were rejected"

    @classmethod
    def of(cls, prefix: str, rejections: frozenset[str]) -> AuthCodes:
        """The codes of the protocol whose catalog entries start with ``prefix``
        (``imap.auth.failed``, ``imap.plaintext.refused`` ...)."""
        return cls(
            not_tried=f"{prefix}.auth.not-tried",
            skipped=f"{prefix}.auth.skipped",
            no_oauth=f"{prefix}.auth.no-oauth",
            login_disabled=f"{prefix}.auth.login-disabled",
            plaintext=f"{prefix}.plaintext",
            plaintext_refused=f"{prefix}.plaintext.refused",
            auth_failed=f"{prefix}.auth.failed",
            token_rejected=f"{prefix}.auth.token-rejected",
            rejections=rejections,
        )


@dataclass(frozen=True)
class Arrival:
    """How looking for the round trip's test message went: ``found`` in the INBOX after
    ``seconds`` (``searches`` looks); ``problem`` (a finding code) when the mailbox could not
    be looked at."""

    found: bool
    seconds: float
    searches: int = 0
    problem: str | None = None


class MailCheck:
    """One run of a mail check: the shared bookkeeping (see the module docstring)."""

    protocol: ClassVar[Protocol]
    codes: ClassVar[AuthCodes]

    def __init__(
        self,
        target: CheckTarget,
        endpoint: Endpoint,
        context: CheckContext,
        oauth_mechanisms: Sequence[str] = OAUTH_MECHANISMS,
    ) -> None:
        self.target = target
        self.endpoint = endpoint
        self.context = context
        self.oauth_mechanisms = tuple(m.upper() for m in oauth_mechanisms)
        self.credentials: Credentials | None = target.credentials
        self.timeline: Timeline = context.timeline(self.protocol)
        self.findings: list[Finding] = []
        self.data: dict[str, object] = {"security": endpoint.security.value}
        self.tls: TLSInfo | None = None
        self.authenticated = False
        self.auth_tried = False
        self.stopped = False  # a step failed and ended the check (its finding is the last)
        self._turn = False  # this check holds a turn at the gate it has not reported yet
        self._secrets: tuple[str, ...] = ()
        if self.credentials is not None:
            self._secrets = (self.credentials.secret.reveal(),)

    # -- what is checked -----------------------------------------------------------------------

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

    def mechanisms_shown(self) -> str:
        """The sign-in methods offered, for the catalog's ``{mechanisms}``."""
        mechanisms = self.data.get("auth_mechanisms")
        return ", ".join(mechanisms) if isinstance(mechanisms, list) and mechanisms else "-"

    def params(self) -> dict[str, ParamValue]:
        """The values every finding's texts may use."""
        return {
            "host": self.host,
            "port": self.port,
            "username": self.credentials.username if self.credentials is not None else "",
            "mechanisms": self.mechanisms_shown(),
            "seconds": round(self.context.net.options.timeout, 1),
        }

    def checked(self, step: str) -> Text:
        if step == STEP_CONNECT:
            return Text("check.connect", {"host": self.host, "port": self.port})
        if step == STEP_TLS:
            return Text("check.tls", {"host": self.host})
        return Text("check.server", {"host": self.host})

    # -- findings ------------------------------------------------------------------------------

    def add(
        self,
        code: str,
        step: str,
        *,
        said: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
        detail: Mapping[str, str | int] | None = None,
    ) -> Finding:
        """Record the catalog's finding ``code`` for ``step``; ``said`` is redacted."""
        found = knowledge.finding(
            code,
            checked=self.checked(step),
            server_said=None if said is None else self.redact(said),
            params={**self.params(), **(params or {})},
            detail={"host": self.host, "port": self.port, "step": step, **(detail or {})},
        )
        self.findings.append(found)
        return found

    def add_error(self, step: str, error: SetupError) -> Finding:
        """Record a failure of the network seam in ``step`` by its own code."""
        found = seam_finding(error, self.checked(step), self.redact, step=step)
        self.findings.append(found)
        return found

    def fail(
        self,
        step: str,
        started: float,
        code: str,
        *,
        said: str | None = None,
        problem: str | None = None,
    ) -> Stop:
        """Record a failed step and its finding; returns the exception that ends the run."""
        if problem is None:
            self.timeline.add(step, False, started)
            self.add(code, step, said=said)
            return Stop()
        shown_problem = self.redact(problem)
        self.timeline.add(step, False, started, shown_problem)
        self.add(code, step, said=said, detail={"problem": shown_problem})
        return Stop()

    def fail_error(self, step: str, started: float, error: SetupError) -> Stop:
        """A step the network seam failed (connect, the TLS handshake): its own finding."""
        self.timeline.add(step, False, started, error.code)
        self.add_error(step, error)
        return Stop()

    # -- connecting ----------------------------------------------------------------------------

    async def connect_with(self, opener: Callable[[], Awaitable[S]]) -> S:
        """The ``connect`` step: ``opener`` makes the connection (its peer is the detail)."""
        started = time.monotonic()
        try:
            stream = await opener()
        except SetupError as error:
            raise self.fail_error(STEP_CONNECT, started, error) from None
        peer = format_address(stream.peer)
        self.data["peer"] = peer
        self.timeline.add(STEP_CONNECT, True, started, peer)
        return stream

    async def secure(
        self, handshake: Callable[[], Awaitable[TLSInfo]], *, starttls: bool, started: float
    ) -> TLSInfo:
        """The ``tls`` step: the ``handshake`` of the seam's connection (the certificate
        checked by the seam), right after connecting or after the server agreed to STARTTLS."""
        try:
            tls = await handshake()
        except SetupError as error:
            raise self.fail_error(STEP_TLS, started, error) from None
        self.tls = tls
        self.note_tls(tls)
        self.timeline.add(STEP_TLS, True, started, tls_detail(tls, starttls=starttls))
        return tls

    def note_tls(self, tls: TLSInfo) -> None:
        """Note what a successful handshake showed beyond "it worked": interception, a CA the
        user configured, a certificate about to expire (:func:`tls_findings`). Every mail
        check calls it once per handshake, whichever way TLS was reached."""
        self.findings.extend(tls_findings(tls, self.host, self.context))

    def note_date(self, said: str) -> None:
        """A ``clock.skew`` finding when the server's text (a greeting) carries a date far from
        this computer's time (:func:`tlsreport.clock_skew`); nothing when it has no date."""
        skew = tlsreport.clock_skew(said, host=self.host)
        if skew is not None:
            self.findings.append(skew)

    # -- signing in ----------------------------------------------------------------------------

    async def sign_in_method(
        self, choose: Callable[[CredentialKind], str | None]
    ) -> tuple[Credentials, str, float] | None:
        """Everything before the sign-in itself: never credentials without TLS; without
        credentials, a note of what is offered (None); the method ``choose`` picks for the
        credentials' kind (``data["mechanism"]``); then the turn at the gate. Returns the
        credentials, the method and when the sign-in starts."""
        credentials = self.credentials
        started = time.monotonic()
        if self.endpoint.security is Security.PLAIN:
            if credentials is not None:  # never a password or token in the clear
                code = self.codes.plaintext_refused
                raise self.fail(STEP_AUTHENTICATE, started, code, problem="no TLS")
            self.add(self.codes.plaintext, STEP_AUTHENTICATE)
        if credentials is None:
            self.add(self.codes.not_tried, STEP_AUTHENTICATE)
            return None
        method = choose(credentials.kind)
        if method is None:
            oauth = credentials.kind is CredentialKind.OAUTH2
            code = self.codes.no_oauth if oauth else self.codes.login_disabled
            raise self.fail(STEP_AUTHENTICATE, started, code, problem="no mechanism")
        self.data["mechanism"] = self.method_name(method)
        await self.take_turn(credentials, started, self.codes.skipped)
        return credentials, method, time.monotonic()

    def method_name(self, method: str) -> str:
        """How the chosen sign-in method is shown (``data["mechanism"]``)."""
        return method

    async def take_turn(self, credentials: Credentials, started: float, skipped: str) -> None:
        """Wait for this check's turn at the gate; when the same credentials were just
        rejected elsewhere, the check stops without trying (finding ``skipped``)."""
        if not await self.context.gate.turn(credentials):
            self.timeline.add(
                STEP_AUTHENTICATE,
                False,
                started,
                "not tried: the same credentials were just rejected by another server",
            )
            self.add(skipped, STEP_AUTHENTICATE)
            raise Stop(polite=True)
        self._turn = True
        self.auth_tried = True

    def report(self, outcome: AuthOutcome) -> None:
        """Tell the gate how the sign-in went (once)."""
        if self._turn and self.credentials is not None:
            self.context.gate.done(self.credentials, outcome)
            self._turn = False

    def release(self) -> None:
        """Stopped between the gate's "go" and a report (cancelled, a bug): let the others go
        on. A check that did not get its turn never answers for the one that did."""
        if self._turn and self.credentials is not None:
            self.context.gate.release(self.credentials)
            self._turn = False

    def refusal_code(
        self, said: str, challenge: str, reply_code: str | None, fallback: str | None = None
    ) -> str:
        """What a refused sign-in means: the catalog's entry for the whole sentence (a
        provider's own words too), else ``fallback`` or a plain "not accepted" (for a token:
        the token was not)."""
        text = f"{said} {challenge}".strip()
        code = knowledge.match(text, protocol=self.protocol.value, code=reply_code)
        if code is None:
            code = fallback or self.codes.auth_failed
        credentials = self.credentials
        token = credentials is not None and credentials.kind is CredentialKind.OAUTH2
        return self.codes.token_rejected if code == self.codes.auth_failed and token else code

    def refused(
        self, code: str, said: str, challenge: str, reply_code: str | None, started: float
    ) -> Stop:
        """Record a refused sign-in as ``code`` and tell the gate whether it was the
        credentials; returns the exception that ends the run."""
        rejected = code in self.codes.rejections
        self.report(AuthOutcome.CREDENTIALS_REJECTED if rejected else AuthOutcome.FAILED_OTHERWISE)
        detail: dict[str, str | int] = {"mechanism": str(self.data.get("mechanism", ""))}
        if reply_code:
            detail["response_code"] = reply_code
        if challenge:
            detail["challenge"] = self.redact(challenge)
        self.timeline.add(STEP_AUTHENTICATE, False, started, self.redact(said) or None)
        self.add(code, STEP_AUTHENTICATE, said=said, detail=detail)
        return Stop()

    def signed_in(self, method: str, started: float) -> None:
        """Record a successful sign-in with ``method`` and tell the gate."""
        self.report(AuthOutcome.SUCCEEDED)
        self.authenticated = True
        self.timeline.add(STEP_AUTHENTICATE, True, started, self.method_name(method))

    # -- the result ----------------------------------------------------------------------------

    def main_finding(self) -> Finding | None:
        """The finding that stopped the check (the last one recorded), else the first
        error; None when the check passed."""
        if self.stopped and self.findings:
            return self.findings[-1]
        return next((f for f in self.findings if f.outcome is Outcome.ERROR), None)

    def result(self) -> CheckResult:
        main = self.main_finding()
        return CheckResult(
            protocol=self.protocol,
            target=describe(self.target),
            ok=main is None,
            authenticated=self.authenticated,
            steps=tuple(self.timeline.steps),
            tls=self.tls,
            finding=main,
            findings=main_first(self.findings, main),
            data=dict(self.data),
            auth_tried=self.auth_tried,
        )
