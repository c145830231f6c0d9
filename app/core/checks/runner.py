"""The verification runner: every check at once, one deadline, lockout-safe sign-in, cancel.

Connections, TLS and capabilities of all protocols run concurrently. Authentication goes
through one :class:`~app.core.checks.base.AuthGate`: for each set of credentials the first check
signs in alone, and the others follow only if that did not end in "wrong password", so a wrong
password costs one failed login, never four. When the deadline passes, or the caller cancels,
every check still running is cancelled (closing its sockets) and reported as stopped; a late
answer after that is never read. No check is retried silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from app.core.checks.base import CheckContext, CheckResult, CheckTarget, Step
from app.core.errors import DeadlineError
from app.core.model import Finding, Fixer, Outcome, Protocol
from app.core.net import Network
from app.core.texts import DEFAULT_LANGUAGE, Language, Text

log = logging.getLogger(__name__)

CheckFunction = Callable[[CheckTarget, CheckContext], Awaitable[CheckResult]]


@dataclass(frozen=True)
class VerifyOptions:
    """``deadline`` bounds the whole run (each network operation is also bounded by the
    seam's own timeout)."""

    deadline: float = 45.0


@dataclass(frozen=True)
class VerifyResult:
    """All checks of one account, in the order the targets were given."""

    address: str
    checks: tuple[CheckResult, ...]
    elapsed_ms: int
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def to_dict(self, language: Language = DEFAULT_LANGUAGE) -> dict[str, object]:
        """The JSON shape ``mailsetup verify --json`` prints (docs/cli.md)."""
        return {
            "address": self.address,
            "ok": self.ok,
            "checks": [check.to_dict(language) for check in self.checks],
            "findings": [finding.to_dict(language) for finding in self.findings],
            "elapsed_ms": self.elapsed_ms,
        }


def default_checks() -> Mapping[Protocol, CheckFunction]:
    """The check for each protocol."""
    from app.core.checks.dav import check_dav
    from app.core.checks.imap import check_imap
    from app.core.checks.pop3 import check_pop3
    from app.core.checks.smtp import check_smtp

    return {
        Protocol.IMAP: check_imap,
        Protocol.POP3: check_pop3,
        Protocol.SMTP: check_smtp,
        Protocol.CALDAV: check_dav,
        Protocol.CARDDAV: check_dav,
    }


def describe(target: CheckTarget) -> str:
    """How a target is named in results: ``imaps://host:993``, or the DAV URL."""
    if target.url is not None:
        return target.url
    if target.endpoint is None:
        return target.protocol.value
    endpoint = target.endpoint
    return f"{endpoint.protocol.value}://{endpoint.host}:{endpoint.port}"


def _internal_failure(
    target: CheckTarget, error: BaseException, timeline_steps: Sequence[Step]
) -> CheckResult:
    finding = Finding(
        code="check.internal-error",
        checked=Text("checks.runner.checked", {"target": describe(target)}),
        outcome=Outcome.ERROR,
        cause=Text("checks.runner.internal-error", {"target": describe(target)}),
        fix=Text("checks.runner.internal-error.fix"),
        fixer=Fixer.NOBODY,
        help_topic="report-a-problem",
        detail={"error": type(error).__name__},
    )
    return CheckResult(
        protocol=target.protocol,
        target=describe(target),
        ok=False,
        authenticated=False,
        steps=tuple(timeline_steps),
        finding=finding,
        findings=(finding,),
    )


def _stopped(target: CheckTarget, seconds: float, timeline_steps: Sequence[Step]) -> CheckResult:
    """The result of a check the deadline stopped."""
    host = target.endpoint.host if target.endpoint is not None else describe(target)
    finding = DeadlineError(host, seconds).to_finding()
    return CheckResult(
        protocol=target.protocol,
        target=describe(target),
        ok=False,
        authenticated=False,
        steps=tuple(timeline_steps),
        finding=finding,
        findings=(finding,),
    )


async def verify(
    address: str,
    targets: Sequence[CheckTarget],
    net: Network,
    *,
    options: VerifyOptions | None = None,
    language: Language = DEFAULT_LANGUAGE,
    on_step: Callable[[Protocol, Step], None] | None = None,
    checks: Mapping[Protocol, CheckFunction] | None = None,
) -> VerifyResult:
    """Run every target's check concurrently under one deadline. Cancelling the caller
    cancels every check (their connections close at once)."""
    options = options or VerifyOptions()
    functions = checks if checks is not None else default_checks()
    started = time.monotonic()
    steps_seen: dict[int, list[Step]] = {index: [] for index in range(len(targets))}
    context = CheckContext(net=net, language=language, on_step=on_step)

    def for_target(index: int) -> CheckContext:
        def record(protocol: Protocol, step: Step) -> None:
            steps_seen[index].append(step)
            if on_step is not None:
                on_step(protocol, step)

        return CheckContext(net=net, gate=context.gate, language=language, on_step=record)

    tasks = [
        asyncio.ensure_future(functions[target.protocol](target, for_target(index)))
        for index, target in enumerate(targets)
    ]
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=options.deadline)
    finally:
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    results: list[CheckResult] = []
    for index, (target, task) in enumerate(zip(targets, tasks, strict=True)):
        if task.cancelled():
            results.append(_stopped(target, options.deadline, steps_seen[index]))
            continue
        error = task.exception()
        if error is not None:  # a bug in a check (they report server and network failures)
            log.error("the %s check failed", target.protocol.value, exc_info=error)
            results.append(_internal_failure(target, error, steps_seen[index]))
            continue
        results.append(task.result())
    return VerifyResult(
        address=address,
        checks=tuple(results),
        elapsed_ms=round((time.monotonic() - started) * 1000),
    )
