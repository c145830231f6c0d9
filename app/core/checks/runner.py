"""The verification runner: every check at once, one deadline, lockout-safe sign-in, cancel.

Connections, TLS and capabilities of all protocols run concurrently. Authentication goes
through one :class:`~app.core.checks.base.AuthGate`: for each set of credentials the first check
signs in alone, and the others follow only if that did not end in "wrong password", so a wrong
password costs one failed login, never four. When the deadline passes, or the caller cancels,
every check still running is cancelled (closing its sockets) and reported as stopped; a late
answer after that is never read. No check is retried silently.

With ``VerifyOptions(round_trip=True)`` the SMTP check also sends a test message to the account
itself, and once both the SMTP check and the incoming check (IMAP, else POP3) have finished, the
runner looks for it in the INBOX (:mod:`app.core.checks.roundtrip`): the answer is the SMTP
check's ``round-trip`` step, under the same deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.checks.base import CheckContext, CheckResult, CheckTarget, Step
from app.core.errors import DeadlineError
from app.core.model import Finding, Fixer, Outcome, Protocol
from app.core.net import Network
from app.core.texts import DEFAULT_LANGUAGE, Language, Text

if TYPE_CHECKING:
    from app.core.checks.roundtrip import Confirmation

log = logging.getLogger(__name__)

CheckFunction = Callable[[CheckTarget, CheckContext], Awaitable[CheckResult]]


@dataclass(frozen=True)
class VerifyOptions:
    """``deadline`` bounds the whole run (each network operation is also bounded by the
    seam's own timeout). ``round_trip``: send a test message through SMTP and confirm over
    IMAP or POP3 that it arrived, waiting at most ``round_trip_wait`` seconds for it."""

    deadline: float = 45.0
    round_trip: bool = False
    round_trip_wait: float = 20.0


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


def default_checks(*, round_trip: bool = False) -> Mapping[Protocol, CheckFunction]:
    """The check for each protocol (SMTP with the round trip's test message, if asked)."""
    from app.core.checks.dav import check_dav
    from app.core.checks.imap import check_imap
    from app.core.checks.pop3 import check_pop3
    from app.core.checks.smtp import check_smtp, check_smtp_round_trip

    return {
        Protocol.IMAP: check_imap,
        Protocol.POP3: check_pop3,
        Protocol.SMTP: check_smtp_round_trip if round_trip else check_smtp,
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
    return _failed(target, finding, timeline_steps)


def _failed(target: CheckTarget, finding: Finding, timeline_steps: Sequence[Step]) -> CheckResult:
    """The result of a check that ended with ``finding`` and nothing else."""
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
    return _failed(target, finding, timeline_steps)


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
    """Run every target's check concurrently under one deadline (and the round trip's
    confirmation, if asked). Cancelling the caller cancels every check (their connections
    close at once)."""
    options = options or VerifyOptions()
    functions = checks if checks is not None else default_checks(round_trip=options.round_trip)
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
    confirmations = _confirmations(targets, tasks, options, started, for_target)
    every: list[asyncio.Future[Any]] = [*tasks, *(task for _, task in confirmations)]
    try:
        if every:
            await asyncio.wait(every, timeout=options.deadline)
    finally:
        pending = [future for future in every if not future.done()]
        for future in pending:
            future.cancel()
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
    for plan, confirming in confirmations:
        results[plan.smtp] = _confirmed(results[plan.smtp], plan, confirming, started, options)
    return VerifyResult(
        address=address,
        checks=tuple(results),
        elapsed_ms=round((time.monotonic() - started) * 1000),
    )


def _confirmations(
    targets: Sequence[CheckTarget],
    tasks: Sequence[asyncio.Future[CheckResult]],
    options: VerifyOptions,
    started: float,
    context_for: Callable[[int], CheckContext],
) -> list[tuple[Confirmation, asyncio.Future[None]]]:
    """The round trip's confirmations, started beside the checks (each waits for its two)."""
    if not options.round_trip:
        return []
    from app.core.checks import roundtrip

    made: list[tuple[Confirmation, asyncio.Future[None]]] = []
    for smtp, incoming in roundtrip.pairs(targets):
        plan = roundtrip.Confirmation(smtp, incoming)
        task = asyncio.ensure_future(
            roundtrip.confirm(
                plan,
                tasks[smtp],
                None if incoming is None else tasks[incoming],
                None if incoming is None else targets[incoming],
                context_for(smtp),
                deadline_at=started + options.deadline,
                wait=options.round_trip_wait,
            )
        )
        made.append((plan, task))
    return made


def _confirmed(
    result: CheckResult,
    plan: Confirmation,
    task: asyncio.Future[None],
    started: float,
    options: VerifyOptions,
) -> CheckResult:
    """The SMTP result with its round trip's confirmation."""
    from app.core.checks import roundtrip

    if not task.cancelled() and task.exception() is not None:
        log.error("the round trip's confirmation failed", exc_info=task.exception())
        return result
    return roundtrip.apply(
        result, plan, origin=started, stopped=task.cancelled(), deadline=options.deadline
    )
