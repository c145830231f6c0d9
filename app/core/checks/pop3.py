"""The POP3 check (RFC 1939, 2449, 2595, 5034), for providers that offer POP only.

It speaks POP3 itself over the network seam's async ``Connection`` (no ``poplib``, which would
open its own socket and block). Steps (stable names, in order): ``connect`` (the peer address),
``tls`` (implicit TLS, port 995), ``greeting``, ``capability`` (CAPA), on a STARTTLS port
``starttls`` (STLS) and a second ``capability``, then ``authenticate`` (SASL XOAUTH2 or
OAUTHBEARER with a token; SASL PLAIN, USER/PASS or SASL LOGIN with a password), ``stat``
(message count) and ``quit``.

Security: STLS must be offered when the settings say STARTTLS, or the check stops before
anything is sent in the clear (``tls.starttls-missing``); credentials never go over a
connection without TLS. Authentication goes through the runner's
:class:`~app.core.checks.base.AuthGate`; only a genuine rejection of the credentials is
reported to it as such. Without credentials the check stops after the capabilities and
reports the sign-in methods offered (``data["auth_mechanisms"]``, ``data["user_command"]``).

Findings come from the knowledge catalog (``resources/knowledge/pop3.toml``), codes
``pop3.*``; failures of the network seam (DNS, connect, TLS) keep the seam's codes.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

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
from app.core.errors import ConnectError, ConnectFailure, DeadlineError, SetupError
from app.core.model import Endpoint, Finding, Outcome, Protocol, Security
from app.core.net import Connection, TLSInfo, format_address
from app.core.texts import ParamValue, Text

STEP_CONNECT: Final = "connect"
STEP_TLS: Final = "tls"
STEP_GREETING: Final = "greeting"
STEP_CAPABILITY: Final = "capability"
STEP_STARTTLS: Final = "starttls"
STEP_AUTHENTICATE: Final = "authenticate"
STEP_STAT: Final = "stat"
STEP_QUIT: Final = "quit"

# Finding codes (resources/knowledge/pop3.toml). Stable: never rename one.
AUTH_FAILED: Final = "pop3.auth.failed"
TOKEN_REJECTED: Final = "pop3.auth.token-rejected"  # noqa: S105 - a finding code
APP_PASSWORD_REQUIRED: Final = "pop3.auth.app-password-required"  # noqa: S105 - a finding code
LOGIN_DISABLED: Final = "pop3.auth.login-disabled"
NO_OAUTH: Final = "pop3.auth.no-oauth"
AUTH_ERROR: Final = "pop3.auth.error"
AUTH_SKIPPED: Final = "pop3.auth.skipped"
AUTH_NOT_TRIED: Final = "pop3.auth.not-tried"
IN_USE: Final = "pop3.in-use"
LOGIN_DELAY: Final = "pop3.login-delay"
SYS_TEMP: Final = "pop3.sys-temp"
SYS_PERM: Final = "pop3.sys-perm"
STARTTLS_MISSING: Final = "tls.starttls-missing"  # the general catalog's
STARTTLS_REFUSED: Final = "pop3.starttls.refused"
PLAINTEXT_REFUSED: Final = "pop3.plaintext.refused"
PLAINTEXT: Final = "pop3.plaintext"
NO_GREETING: Final = "pop3.no-greeting"
GREETING_GARBAGE: Final = "pop3.greeting.garbage"
GREETING_REFUSED: Final = "pop3.greeting.refused"
STALLED: Final = "pop3.stalled"
CONNECTION_LOST: Final = "pop3.connection-lost"
PROTOCOL_ERROR: Final = "pop3.protocol-error"
STAT_FAILED: Final = "pop3.stat.failed"

#: Codes that mean "these credentials were rejected": the gate stops the other checks. Any
#: other answer (Microsoft's "not connected", a server problem) lets them try.
CREDENTIAL_REJECTIONS: Final = frozenset({AUTH_FAILED, TOKEN_REJECTED, APP_PASSWORD_REQUIRED})
MAX_SHOWN: Final = 300
#: The token mechanisms in the order they are tried (Microsoft offers only XOAUTH2).
OAUTH_MECHANISMS: Final = ("XOAUTH2", "OAUTHBEARER")
MAX_LINES: Final = 1000  # lines of one multi-line answer (CAPA) before it counts as garbage

_RESPONSE_CODE = re.compile(r"^\s*\[([A-Za-z0-9/.-]+)\]")
_STAT = re.compile(r"^\+OK\s+(\d+)\s+(\d+)")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class _Stop(Exception):
    """Ends the dialogue early; the finding is recorded already."""


class _Garbage(Exception):
    """The peer's bytes are not POP3 at this point."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


@dataclass(frozen=True)
class Reply:
    """One POP3 status line: ``ok`` for ``+OK``; ``text`` what follows the status."""

    ok: bool
    text: str

    @property
    def code(self) -> str | None:
        """The RFC 2449 response code (``AUTH``, ``IN-USE``, ``SYS/TEMP``), if any."""
        found = _RESPONSE_CODE.match(self.text)
        return found.group(1).upper() if found else None


def shown(data: bytes | str) -> str:
    """Server text made safe to show: decoded leniently, control characters replaced,
    trimmed."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = _UNPRINTABLE.sub("?", text.rstrip("\r\n"))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def parse_status(line: str) -> Reply:
    """A ``+OK``/``-ERR`` line as a Reply; ``_Garbage`` for anything else."""
    if line.startswith("+OK") and (len(line) == 3 or line[3] == " "):
        return Reply(True, line[4:])
    if line.startswith("-ERR") and (len(line) == 4 or line[4] == " "):
        return Reply(False, line[5:])
    raise _Garbage(line)


def sasl_mechanisms(capabilities: Sequence[str]) -> list[str]:
    """The mechanisms of the CAPA ``SASL`` line."""
    for line in capabilities:
        words = line.split()
        if words and words[0].upper() == "SASL":
            return [w.upper() for w in words[1:]]
    return []


def choose_method(
    kind: CredentialKind,
    capabilities: Sequence[str],
    capa_supported: bool,
    oauth_mechanisms: Sequence[str] = OAUTH_MECHANISMS,
) -> str | None:
    """How to sign in: the first of ``oauth_mechanisms`` offered for a token; SASL ``PLAIN``,
    ``USER`` (USER and PASS) or SASL ``LOGIN`` for a password; None when the server offers no
    way for these credentials. A server without CAPA is assumed to take USER/PASS."""
    mechanisms = set(sasl_mechanisms(capabilities))
    if kind is CredentialKind.OAUTH2:
        for mechanism in oauth_mechanisms:
            if mechanism in mechanisms:
                return mechanism
        return None
    if "PLAIN" in mechanisms:
        return "PLAIN"
    words = {line.split()[0].upper() for line in capabilities if line.split()}
    if "USER" in words or not capa_supported:
        return "USER"
    if "LOGIN" in mechanisms:
        return "LOGIN"
    return None


def sasl_answers(mechanism: str, credentials: Credentials) -> tuple[list[bytes], bytes]:
    """The client's answers for ``mechanism``, and what to answer an error challenge with
    (RFC 7628: ``\\x01`` for OAUTHBEARER, empty for XOAUTH2)."""
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


class _Pop3Check:
    """One run of the POP3 check; see the module docstring."""

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
        self.timeline: Timeline = context.timeline(Protocol.POP3)
        self.findings: list[Finding] = []
        self.data: dict[str, object] = {"security": endpoint.security.value}
        self.capabilities: list[str] = []
        self.capa_supported = False
        self.tls: TLSInfo | None = None
        self.conn: Connection | None = None
        self.authenticated = False
        self.auth_tried = False
        self.stopped = False  # a step failed and ended the check (its finding is the last)
        self._turn = False
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

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def params(self) -> dict[str, ParamValue]:
        username = self.credentials.username if self.credentials is not None else ""
        methods = list(sasl_mechanisms(self.capabilities))
        if any(line.split()[:1] == ["USER"] for line in self.capabilities):
            methods.append("USER/PASS")
        return {
            "host": self.host,
            "port": self.port,
            "username": username,
            "mechanisms": ", ".join(methods) if methods else "-",
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
            found = knowledge.finding(
                error.code,
                checked=self.checked(step),
                server_said=said,
                params={**self.params(), **detail},
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

    def fail(
        self,
        step: str,
        started: float,
        code: str,
        *,
        said: str | None = None,
        problem: str | None = None,
    ) -> _Stop:
        """Record a failed step and its finding; returns the exception that ends the run."""
        if problem is None:
            self.timeline.add(step, False, started)
            self.add(code, step, said=said)
            return _Stop()
        shown_problem = self.redact(problem)
        self.timeline.add(step, False, started, shown_problem)
        self.add(code, step, said=said, detail={"problem": shown_problem})
        return _Stop()

    def failed(self, step: str, started: float, error: BaseException) -> _Stop:
        """The finding for a failure while talking (a seam error or garbage) in ``step``."""
        if isinstance(error, _Garbage):
            code = GREETING_GARBAGE if step == STEP_GREETING else PROTOCOL_ERROR
            return self.fail(step, started, code, said=shown(error.line), problem="not POP3")
        assert isinstance(error, SetupError)
        if isinstance(error, DeadlineError):
            code = NO_GREETING if step == STEP_GREETING else STALLED
            return self.fail(step, started, code, problem="timeout")
        if isinstance(error, ConnectError):
            return self.fail(step, started, CONNECTION_LOST, problem=error.code)
        problem = str(error.detail.get("problem", error.code))
        code = GREETING_GARBAGE if step == STEP_GREETING else PROTOCOL_ERROR
        return self.fail(step, started, code, problem=problem)

    def report(self, outcome: AuthOutcome) -> None:
        if self._turn and self.credentials is not None:
            self.context.gate.done(self.credentials, outcome)
            self._turn = False

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
            protocol=Protocol.POP3,
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

    # -- the wire ------------------------------------------------------------------------------

    async def read_line(self) -> str:
        assert self.conn is not None
        raw = await self.conn.readline()
        if not raw:
            raise ConnectError(
                self.host,
                self.port,
                ConnectFailure.CLOSED,
                detail={"host": self.host, "port": self.port, "problem": "closed by the server"},
            )
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def send(self, line: str) -> None:
        """One command line. A line break inside (a user name pasted with one) would smuggle
        in a second command: that is refused, never sent."""
        assert self.conn is not None
        if "\r" in line or "\n" in line or "\x00" in line:
            raise ValueError("a POP3 command cannot contain a line break or NUL")
        await self.conn.write(line.encode("utf-8") + b"\r\n")

    async def status(self) -> Reply:
        return parse_status(await self.read_line())

    async def multiline(self) -> list[str]:
        lines: list[str] = []
        while len(lines) < MAX_LINES:
            line = await self.read_line()
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)
        raise _Garbage(f"more than {MAX_LINES} lines")

    # -- the dialogue --------------------------------------------------------------------------

    async def run(self) -> CheckResult:
        try:
            await self.connect()
            await self.greet()
            await self.capa()
            if self.endpoint.security is Security.STARTTLS:
                await self.stls()
            if await self.authenticate():
                await self.stat()
                await self.quit()
        except _Stop:
            self.stopped = True
        finally:
            if self._turn and self.credentials is not None:
                self.context.gate.release(self.credentials)
                self._turn = False
            if self.conn is not None:
                await self.conn.close()
        return self.result()

    async def connect(self) -> None:
        started = time.monotonic()
        try:
            self.conn = await self.context.net.connect(self.host, self.port, tls=False)
        except SetupError as error:
            self.timeline.add(STEP_CONNECT, False, started, error.code)
            self.add_error(STEP_CONNECT, error)
            raise _Stop() from None
        peer = format_address(self.conn.peer)
        self.data["peer"] = peer
        self.timeline.add(STEP_CONNECT, True, started, peer)
        if self.endpoint.security is not Security.TLS:
            return
        started = time.monotonic()
        try:
            self.tls = await self.conn.start_tls()
        except SetupError as error:
            self.timeline.add(STEP_TLS, False, started, error.code)
            self.add_error(STEP_TLS, error)
            raise _Stop() from None
        self.timeline.add(STEP_TLS, True, started, f"{self.tls.version} {self.tls.cipher}")

    async def greet(self) -> None:
        started = time.monotonic()
        try:
            line = await self.read_line()
        except SetupError as error:
            raise self.failed(STEP_GREETING, started, error) from None
        said = shown(line)
        self.data["greeting"] = self.redact(said)
        try:
            reply = parse_status(line)
        except _Garbage as error:
            raise self.failed(STEP_GREETING, started, error) from None
        if not reply.ok:
            raise self.fail(STEP_GREETING, started, GREETING_REFUSED, said=said, problem=said)
        self.timeline.add(STEP_GREETING, True, started, self.redact(said))

    async def capa(self) -> None:
        started = time.monotonic()
        try:
            await self.send("CAPA")
            reply = await self.status()
            lines = await self.multiline() if reply.ok else []
        except (SetupError, _Garbage) as error:
            raise self.failed(STEP_CAPABILITY, started, error) from None
        self.capa_supported = reply.ok
        self.capabilities = [shown(line) for line in lines]
        mechanisms = sasl_mechanisms(self.capabilities)
        user_command = any(line.split()[:1] == ["USER"] for line in self.capabilities)
        self.data["capabilities"] = list(self.capabilities)
        self.data["auth_mechanisms"] = mechanisms
        self.data["user_command"] = user_command
        if not reply.ok:
            detail = "CAPA not supported"
        else:
            methods = [*mechanisms, *(["USER"] if user_command else [])]
            detail = ("sign-in: " + " ".join(methods)) if methods else "no sign-in offered"
        self.timeline.add(STEP_CAPABILITY, True, started, detail)

    async def stls(self) -> None:
        assert self.conn is not None
        started = time.monotonic()
        offered = any(line.split()[:1] == ["STLS"] for line in self.capabilities)
        self.data["starttls_offered"] = offered
        if not offered:
            raise self.fail(STEP_STARTTLS, started, STARTTLS_MISSING, problem="not offered")
        try:
            await self.send("STLS")
            reply = await self.status()
        except (SetupError, _Garbage) as error:
            raise self.failed(STEP_STARTTLS, started, error) from None
        if not reply.ok:
            said = shown(reply.text)
            raise self.fail(STEP_STARTTLS, started, STARTTLS_REFUSED, said=said, problem=said)
        try:
            self.tls = await self.conn.start_tls()
        except SetupError as error:
            self.timeline.add(STEP_STARTTLS, False, started, error.code)
            self.add_error(STEP_STARTTLS, error)
            raise _Stop() from None
        self.timeline.add(STEP_STARTTLS, True, started, f"{self.tls.version} {self.tls.cipher}")
        self.data["capabilities_before_tls"] = list(self.capabilities)
        await self.capa()

    async def authenticate(self) -> bool:
        """Sign in if there are credentials; True when signed in."""
        credentials = self.credentials
        started = time.monotonic()
        if self.endpoint.security is Security.PLAIN:
            if credentials is not None:  # never a password or token in the clear
                raise self.fail(STEP_AUTHENTICATE, started, PLAINTEXT_REFUSED, problem="no TLS")
            self.add(PLAINTEXT, STEP_AUTHENTICATE)
        if credentials is None:
            self.add(AUTH_NOT_TRIED, STEP_AUTHENTICATE)
            return False
        method = choose_method(
            credentials.kind, self.capabilities, self.capa_supported, self.oauth_mechanisms
        )
        if method is None:
            code = NO_OAUTH if credentials.kind is CredentialKind.OAUTH2 else LOGIN_DISABLED
            raise self.fail(STEP_AUTHENTICATE, started, code, problem="no mechanism")
        self.data["mechanism"] = method
        if not await self.context.gate.turn(credentials):
            self.timeline.add(STEP_AUTHENTICATE, False, started, "not tried")
            self.add(AUTH_SKIPPED, STEP_AUTHENTICATE)
            raise _Stop()
        self._turn = True
        started = time.monotonic()
        self.auth_tried = True
        challenges: list[str] = []
        try:
            if method == "USER":
                reply = await self.user_pass(credentials)
            else:
                reply = await self.sasl(method, credentials, challenges)
        except (SetupError, _Garbage) as error:
            self.report(AuthOutcome.FAILED_OTHERWISE)
            if isinstance(error, _Garbage):
                raise self.fail(
                    STEP_AUTHENTICATE,
                    started,
                    AUTH_ERROR,
                    said=shown(error.line),
                    problem="unexpected answer",
                ) from None
            raise self.failed(STEP_AUTHENTICATE, started, error) from None
        if not reply.ok:
            raise self.rejected(reply, challenges, started)
        self.report(AuthOutcome.SUCCEEDED)
        self.authenticated = True
        self.timeline.add(STEP_AUTHENTICATE, True, started, method)
        return True

    async def user_pass(self, credentials: Credentials) -> Reply:
        await self.send(f"USER {credentials.username}")
        reply = await self.status()
        if not reply.ok:
            return reply
        await self.send(f"PASS {credentials.secret.reveal()}")
        return await self.status()

    async def sasl(self, mechanism: str, credentials: Credentials, challenges: list[str]) -> Reply:
        """AUTH ``mechanism`` (RFC 5034), the answers sent one per ``+`` continuation; an
        error challenge after them is kept and answered so the server ends the exchange."""
        answers, final = sasl_answers(mechanism, credentials)
        await self.send(f"AUTH {mechanism}")
        sent = 0
        for _ in range(len(answers) + 2):
            line = await self.read_line()
            if not line.startswith("+ ") and line != "+":
                return parse_status(line)
            if sent < len(answers):
                answer = answers[sent]
                sent += 1
            else:
                challenges.append(_decode_challenge(line[2:]))
                answer = final
            await self.send(base64.b64encode(answer).decode("ascii"))
        raise _Garbage("the server kept asking")

    def rejected(self, reply: Reply, challenges: list[str], started: float) -> _Stop:
        """The server said -ERR to the sign-in: which problem it is, and the gate told whether
        it was the credentials."""
        assert self.credentials is not None
        said = shown(reply.text)
        challenge = shown(challenges[-1]) if challenges else ""
        text = f"{said} {challenge}".strip()
        # the catalog knows providers' sentences too (microsoft.not-connected ...)
        code = knowledge.match(text, protocol=Protocol.POP3.value, code=reply.code)
        if code is None:
            code = AUTH_FAILED  # a plain -ERR to a sign-in: not accepted
        if code == AUTH_FAILED and self.credentials.kind is CredentialKind.OAUTH2:
            code = TOKEN_REJECTED
        rejected = code in CREDENTIAL_REJECTIONS
        self.report(AuthOutcome.CREDENTIALS_REJECTED if rejected else AuthOutcome.FAILED_OTHERWISE)
        detail: dict[str, str | int] = {"mechanism": str(self.data.get("mechanism", ""))}
        if reply.code:
            detail["response_code"] = reply.code
        if challenge:
            detail["challenge"] = self.redact(challenge)
        self.timeline.add(STEP_AUTHENTICATE, False, started, self.redact(said) or None)
        self.add(code, STEP_AUTHENTICATE, said=said, detail=detail)
        return _Stop()

    async def stat(self) -> None:
        started = time.monotonic()
        try:
            await self.send("STAT")
            line = await self.read_line()
            reply = parse_status(line)
        except (SetupError, _Garbage) as error:
            raise self.failed(STEP_STAT, started, error) from None
        found = _STAT.match(line)
        if not reply.ok or found is None:
            said = shown(line)
            code = knowledge.match(said, protocol=Protocol.POP3.value, code=reply.code)
            if code is None or not code.startswith("pop3.") or code in CREDENTIAL_REJECTIONS:
                code = STAT_FAILED
            raise self.fail(STEP_STAT, started, code, said=said, problem=said)
        self.data["messages"] = int(found.group(1))
        self.data["octets"] = int(found.group(2))
        self.timeline.add(STEP_STAT, True, started, f"{found.group(1)} messages")

    async def quit(self) -> None:
        started = time.monotonic()
        try:
            await self.send("QUIT")
            reply = await self.status()
        except (SetupError, _Garbage) as error:  # the check passed; a failed goodbye is noted
            self.timeline.add(STEP_QUIT, False, started, type(error).__name__)
            return
        self.timeline.add(STEP_QUIT, reply.ok, started)


def _decode_challenge(text: str) -> str:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return text


async def check_pop3(
    target: CheckTarget,
    context: CheckContext,
    *,
    oauth_mechanisms: Sequence[str] = OAUTH_MECHANISMS,
) -> CheckResult:
    """Check a POP3 server (``target.endpoint``), signing in with ``target.credentials`` if
    given (a token with the first of ``oauth_mechanisms`` the server offers). Never raises
    for a failure of the server or the network; cancellable at any moment (the connection
    closes at once)."""
    endpoint = target.endpoint
    if endpoint is None or endpoint.protocol is not Protocol.POP3:
        raise ValueError("check_pop3 needs a POP3 endpoint")
    return await _Pop3Check(target, endpoint, context, oauth_mechanisms).run()
