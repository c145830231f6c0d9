"""What every verification check shares: secrets that never print, credentials, the timeline of
steps, the authentication gate that keeps a wrong password from costing four failed logins, and
the result a check hands back.

A check (``imap.py``, ``pop3.py``, ``smtp.py``, ``dav.py``) is an async function::

    async def check_imap(target: CheckTarget, context: CheckContext) -> CheckResult

It connects, negotiates TLS and reads capabilities right away (all checks do this at the same
time), then asks ``await context.gate.turn(credentials)`` before it authenticates, and tells the
gate how authentication went (``context.gate.done(credentials, AuthOutcome...)``). With no
credentials (``target.credentials is None``) it goes as far as it can without them and says
what was proven. It never raises for a failure of the server or the network: every failure is a
finding in the result. Cancelling the task closes its connections at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from app.core.model import Endpoint, Finding, Protocol
from app.core.net import Network, TLSInfo
from app.core.texts import DEFAULT_LANGUAGE, Language

MASK: Final = "********"


class Secret:
    """A password, app password or token. ``repr``/``str`` never show it; ``reveal()`` does,
    and only code that sends it to a server calls that."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a secret must be a non-empty string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("secrets are not pickled")


class CredentialKind(StrEnum):
    PASSWORD = "password"  # noqa: S105 - a kind; a password or app password: LOGIN, PLAIN, Basic
    OAUTH2 = "oauth2"  # an OAuth access token: XOAUTH2, OAUTHBEARER, Bearer


@dataclass(frozen=True)
class Credentials:
    """What one server signs in with. ``username`` is the sign-in name for this server (it may
    differ per protocol: iCloud mail vs calendars); ``secret`` the password or access token.
    Two targets with equal credentials share one turn at the authentication gate."""

    username: str
    secret: Secret
    kind: CredentialKind = CredentialKind.PASSWORD

    def __repr__(self) -> str:
        return f"Credentials({self.username!r}, {MASK}, {self.kind.value})"


@dataclass(frozen=True)
class CheckTarget:
    """One thing to check: a mail server (``endpoint``) or a DAV service (``url`` with
    ``endpoint.protocol`` CALDAV or CARDDAV), with the credentials for it, if any."""

    protocol: Protocol
    endpoint: Endpoint | None = None
    url: str | None = None
    credentials: Credentials | None = None
    address: str | None = None  # the account's address (SMTP round trip, display)


class AuthOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    CREDENTIALS_REJECTED = "credentials-rejected"  # wrong password, revoked app password
    FAILED_OTHERWISE = "failed-otherwise"  # not the credentials: disabled, network, server


class AuthGate:
    """Lockout safety: for each set of credentials, the first check to ask authenticates
    alone; the others wait for its outcome and then either go ahead (it succeeded, or failed
    for a reason that is not the credentials) or are told not to try (the credentials were
    rejected: trying again would only count more failures against the account)."""

    def __init__(self) -> None:
        self._first: dict[Credentials, asyncio.Future[AuthOutcome]] = {}

    async def turn(self, credentials: Credentials) -> bool:
        """Wait for this check's turn. True: authenticate now (and call ``done`` after);
        False: do not, the same credentials were just rejected."""
        future = self._first.get(credentials)
        if future is None:
            self._first[credentials] = asyncio.get_running_loop().create_future()
            return True
        outcome = await asyncio.shield(future)
        return outcome is not AuthOutcome.CREDENTIALS_REJECTED

    def done(self, credentials: Credentials, outcome: AuthOutcome) -> None:
        """Report how authentication went; only the first check's report counts."""
        future = self._first.get(credentials)
        if future is not None and not future.done():
            future.set_result(outcome)

    def release(self, credentials: Credentials) -> None:
        """The first check stopped before authenticating (it failed to connect): let the
        others go ahead rather than wait for it."""
        self.done(credentials, AuthOutcome.FAILED_OTHERWISE)


@dataclass(frozen=True)
class Step:
    """One step of a check's timeline: ``name`` is stable (``connect``, ``tls``,
    ``capability``, ``authenticate``, ``select``...), ``detail`` short and secret-free."""

    name: str
    ok: bool
    ms: int
    detail: str | None = None
    started_ms: int = 0  # since the check began

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "ms": self.ms,
            "detail": self.detail,
            "started_ms": self.started_ms,
        }


class Timeline:
    """The steps of one check as they happen; ``on_step`` lets a window show them live."""

    def __init__(
        self, protocol: Protocol, on_step: Callable[[Protocol, Step], None] | None
    ) -> None:
        self.protocol = protocol
        self.steps: list[Step] = []
        self._start = time.monotonic()
        self._on_step = on_step

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self._start) * 1000)

    def add(self, name: str, ok: bool, started: float, detail: str | None = None) -> Step:
        """Record a step that began at ``started`` (a ``time.monotonic()`` value)."""
        now = time.monotonic()
        step = Step(
            name=name,
            ok=ok,
            ms=round((now - started) * 1000),
            detail=detail,
            started_ms=round((started - self._start) * 1000),
        )
        self.steps.append(step)
        if self._on_step is not None:
            self._on_step(self.protocol, step)
        return step


@dataclass
class CheckContext:
    """What the runner gives every check: the network seam, the shared authentication gate, the
    language for texts, and a progress callback."""

    net: Network
    gate: AuthGate = field(default_factory=AuthGate)
    language: Language = DEFAULT_LANGUAGE
    on_step: Callable[[Protocol, Step], None] | None = None

    def timeline(self, protocol: Protocol) -> Timeline:
        return Timeline(protocol, self.on_step)


@dataclass(frozen=True)
class CheckResult:
    """How one check went. ``ok``: everything that could be checked passed; ``authenticated``:
    sign-in was tried and succeeded; ``finding``: the main problem (None when ok); ``findings``:
    everything worth telling, the main problem first; ``data``: what was learned (capabilities,
    message count, collections), JSON-ready and secret-free."""

    protocol: Protocol
    target: str  # "imaps://imap.example.com:993" or the DAV URL
    ok: bool
    authenticated: bool
    steps: tuple[Step, ...]
    tls: TLSInfo | None = None
    finding: Finding | None = None
    findings: tuple[Finding, ...] = ()
    data: Mapping[str, object] = field(default_factory=dict)
    auth_tried: bool = False

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, object]:
        from app.core.checks.tlsreport import tls_to_dict

        return {
            "protocol": self.protocol.value,
            "target": self.target,
            "ok": self.ok,
            "authenticated": self.authenticated,
            "steps": [s.to_dict() for s in self.steps],
            "tls": None if self.tls is None else tls_to_dict(self.tls),
            "finding": None if self.finding is None else self.finding.to_dict(language),
            "findings": [f.to_dict(language) for f in self.findings],
            "data": dict(self.data),
        }
