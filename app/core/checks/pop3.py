"""The POP3 check (RFC 1939, 2449, 2595, 5034), for providers that offer POP only.

It speaks POP3 itself over the network seam's async ``Connection`` (no ``poplib``, which would
open its own socket and block). Steps (stable names, in order): ``connect`` (the peer address),
``tls`` (implicit TLS, port 995), ``greeting``, ``capability`` (CAPA); on a STARTTLS port
``tls`` comes after them (the upgrade by STLS: the step's detail says which) with a second
``capability``; then ``authenticate`` (SASL XOAUTH2 or OAUTHBEARER with a token; SASL PLAIN,
USER/PASS or SASL LOGIN with a password), ``stat`` (message count) and ``quit``.

Security: STLS must be offered when the settings say STARTTLS, or the check stops before
anything is sent in the clear (``tls.starttls-missing``); credentials never go over a
connection without TLS. Authentication goes through the runner's
:class:`~app.core.checks.base.AuthGate`; only a genuine rejection of the credentials is
reported to it as such. Without credentials the check stops after the capabilities and
reports the sign-in methods offered (``data["auth_mechanisms"]``, ``data["user_command"]``).

Findings come from the knowledge catalog (``resources/knowledge/pop3.toml``), codes
``pop3.*``; failures of the network seam (DNS, connect, TLS) keep the seam's codes. What every
mail check shares is in :mod:`app.core.checks.mailcheck`.

The round trip's confirmation over POP3: :func:`find_test_message` looks at the headers of the
newest messages, in a new session each time (POP3 shows new mail only to a new session).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from app.core.checks.base import (
    AuthGate,
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    CredentialKind,
    Credentials,
)
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
)
from app.core.diagnostics import knowledge
from app.core.errors import ConnectError, ConnectFailure, DeadlineError, SetupError
from app.core.model import Protocol, Security
from app.core.net import Connection

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
CODES: Final = AuthCodes.of("pop3", CREDENTIAL_REJECTIONS)
MAX_LINES: Final = 1000  # lines of one multi-line answer (CAPA) before it counts as garbage
SEARCHED: Final = 50  # the round trip looks at the headers of this many of the newest messages

_RESPONSE_CODE = re.compile(r"^\s*\[([A-Za-z0-9/.-]+)\]")
_STAT = re.compile(r"^\+OK\s+(\d+)\s+(\d+)")


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


class _Pop3Check(MailCheck):
    """One run of the POP3 check; see the module docstring."""

    protocol = Protocol.POP3
    codes = CODES
    capabilities: Sequence[str] = ()  # CAPA's lines (after STLS: over TLS)
    capa_supported = False
    conn: Connection | None = None

    # -- helpers -------------------------------------------------------------------------------

    def mechanisms_shown(self) -> str:
        methods = list(sasl_mechanisms(self.capabilities))
        if any(line.split()[:1] == ["USER"] for line in self.capabilities):
            methods.append("USER/PASS")
        return ", ".join(methods) if methods else "-"

    def failed(self, step: str, started: float, error: BaseException) -> Stop:
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
            await self.session()
            if await self.authenticate():
                await self.stat()
                await self.quit()
        except Stop:
            self.stopped = True
        finally:
            await self.close()
        return self.result()

    async def close(self) -> None:
        self.release()
        if self.conn is not None:
            await self.conn.close()

    async def session(self) -> None:
        """Connect, TLS, greeting and capabilities: everything before signing in."""
        net, host, port = self.context.net, self.host, self.port
        self.conn = await self.connect_with(lambda: net.connect(host, port, tls=False))
        if self.implicit_tls:
            await self.secure(self.conn.start_tls, starttls=False, started=time.monotonic())
        await self.greet()
        await self.capa()
        if self.endpoint.security is Security.STARTTLS:
            await self.stls()

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
        self.note_date(said)
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
        """The ``tls`` step by STLS, then the capabilities again (over TLS)."""
        assert self.conn is not None
        started = time.monotonic()
        offered = any(line.split()[:1] == ["STLS"] for line in self.capabilities)
        self.data["starttls_offered"] = offered
        if not offered:
            raise self.fail(STEP_TLS, started, STARTTLS_MISSING, problem="STLS not offered")
        try:
            await self.send("STLS")
            reply = await self.status()
        except (SetupError, _Garbage) as error:
            raise self.failed(STEP_TLS, started, error) from None
        if not reply.ok:
            said = shown(reply.text)
            raise self.fail(STEP_TLS, started, STARTTLS_REFUSED, said=said, problem=said)
        await self.secure(self.conn.start_tls, starttls=True, started=started)
        self.data["capabilities_before_tls"] = list(self.capabilities)
        await self.capa()

    async def authenticate(self) -> bool:
        """Sign in if there are credentials; True when signed in."""
        capabilities, capa, mechanisms = (
            self.capabilities,
            self.capa_supported,
            self.oauth_mechanisms,
        )
        chosen = await self.sign_in_method(
            lambda kind: choose_method(kind, capabilities, capa, mechanisms)
        )
        if chosen is None:
            return False
        credentials, method, started = chosen
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
            said = shown(reply.text)
            challenge = shown(challenges[-1]) if challenges else ""
            # the catalog knows providers' sentences too (microsoft.not-connected ...)
            code = self.refusal_code(said, challenge, reply.code)
            raise self.refused(code, said, challenge, reply.code, started)
        self.signed_in(method, started)
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

    async def stat(self) -> int:
        """STAT (the ``stat`` step): the number of messages."""
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
        return int(found.group(1))

    async def quit(self) -> None:
        started = time.monotonic()
        try:
            await self.send("QUIT")
            reply = await self.status()
        except (SetupError, _Garbage) as error:  # the check passed; a failed goodbye is noted
            self.timeline.add(STEP_QUIT, False, started, type(error).__name__)
            return
        self.timeline.add(STEP_QUIT, reply.ok, started)

    # -- the round trip ------------------------------------------------------------------------

    async def look_once(self, token: str) -> Arrival:
        """One look for ``token``: sign in, then the headers (TOP n 0) of the newest
        :data:`SEARCHED` messages; POP3 shows a mailbox as it was at sign-in, so a later look
        is a new session."""
        started = time.monotonic()
        try:
            await self.session()
            if not await self.authenticate():
                return Arrival(False, time.monotonic() - started, problem=AUTH_NOT_TRIED)
            count = await self.stat()
            found = False
            for number in range(count, max(0, count - SEARCHED), -1):
                await self.send(f"TOP {number} 0")
                if (await self.status()).ok and token in "\n".join(await self.multiline()):
                    found = True
                    break
            await self.quit()
            return Arrival(found, time.monotonic() - started, 1)
        except Stop:
            problem = self.findings[-1].code if self.findings else PROTOCOL_ERROR
            return Arrival(False, time.monotonic() - started, 1, problem)
        except SetupError as error:
            return Arrival(False, time.monotonic() - started, 1, error.code)
        except _Garbage:
            return Arrival(False, time.monotonic() - started, 1, PROTOCOL_ERROR)
        finally:
            await self.close()


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
    endpoint = endpoint_of(target, Protocol.POP3, "check_pop3")
    return await _Pop3Check(target, endpoint, context, oauth_mechanisms).run()


async def find_test_message(
    target: CheckTarget,
    context: CheckContext,
    token: str,
    *,
    wait: float = ROUND_TRIP_WAIT,
    poll: float = ROUND_TRIP_POLL,
) -> Arrival:
    """Whether the round trip's test message (``token`` in its headers) arrives in the
    mailbox of ``target`` (a POP3 server and credentials) within ``wait`` seconds: a session
    every ``poll`` seconds or so (POP3 shows new mail only to a new session), each looking at
    the headers of the newest messages. As for IMAP's: nothing is recorded in ``context``'s
    timeline and the gate is not asked, so call it only after the POP3 check signed in with
    the same credentials. Never raises for a failure of the server or the network."""
    endpoint = endpoint_of(target, Protocol.POP3, "find_test_message")
    started = time.monotonic()
    searches = 0
    while True:
        quiet = CheckContext(net=context.net, gate=AuthGate(), language=context.language)
        look = await _Pop3Check(target, endpoint, quiet).look_once(token)
        searches += 1
        elapsed = time.monotonic() - started
        if look.found or look.problem is not None:
            return Arrival(look.found, elapsed, searches, look.problem)
        left = wait - elapsed
        if left <= 0:
            return Arrival(False, elapsed, searches)
        await asyncio.sleep(min(max(poll, look.seconds), left))
