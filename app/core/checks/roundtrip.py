"""The SMTP round trip's second half: did the test message arrive?

With ``VerifyOptions(round_trip=True)`` (``mailsetup verify --round-trip``) the SMTP check
sends, after signing in, a test message from the account to itself
(:func:`~app.core.checks.smtp.check_smtp_round_trip`). The runner pairs each SMTP target that
has credentials with the incoming server of the same run (IMAP, else POP3; :func:`pairs`) and
starts :func:`confirm` beside the checks: it waits until both checks have finished (so the
confirmation never signs in before the incoming check's own, lockout-safe sign-in succeeded),
then looks for the message's token in the INBOX (:func:`app.core.checks.imap.find_test_message`,
:func:`app.core.checks.pop3.find_test_message`), polling for at most
``VerifyOptions.round_trip_wait`` seconds and never past the run's deadline.

The answer goes on the SMTP check's result (:func:`apply`):

- a step ``round-trip``: ok with how long the message took, or failed;
- ``smtp.round-trip.not-arrived`` (error) when it was not there in time;
- ``smtp.round-trip.not-checked`` (warning) when the inbox could not be looked at (the
  incoming check did not sign in, none was given, or looking failed);
- ``deadline.exceeded`` when the run's deadline stopped the looking;
- ``data["round_trip"]`` gains ``arrived`` (True, False, or None: not known), ``arrived_ms``,
  ``checked_over`` (``imap``/``pop3``) and ``searches``.

Nothing is added when no message was sent (no credentials, a refused sign-in, or a refused
message, which has its own ``send`` step and finding).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from app.core.checks.base import CheckContext, CheckResult, CheckTarget, Step
from app.core.checks.mailcheck import ROUND_TRIP_POLL, Arrival, main_first
from app.core.checks.smtp import round_trip_of
from app.core.diagnostics import knowledge
from app.core.errors import DeadlineError
from app.core.model import Finding, Protocol
from app.core.texts import ParamValue, Text

STEP_ROUND_TRIP: Final = "round-trip"
NOT_ARRIVED: Final = "smtp.round-trip.not-arrived"
NOT_CHECKED: Final = "smtp.round-trip.not-checked"
#: Seconds kept before the run's deadline, so that "did not arrive" is told before it passes.
MARGIN: Final = 0.25
INCOMING: Final = (Protocol.IMAP, Protocol.POP3)  # in order of preference

Finder = Callable[..., Awaitable[Arrival]]


def finder_for(protocol: Protocol) -> Finder:
    """How to look for the test message over ``protocol`` (IMAP or POP3)."""
    if protocol is Protocol.IMAP:
        from app.core.checks.imap import find_test_message as imap_finder

        return imap_finder
    if protocol is Protocol.POP3:
        from app.core.checks.pop3 import find_test_message as pop3_finder

        return pop3_finder
    raise ValueError(f"no round trip over {protocol.value}")


def pairs(targets: Sequence[CheckTarget]) -> list[tuple[int, int | None]]:
    """For each SMTP target with credentials (by index), the incoming target whose mailbox
    receives its test message: the first IMAP target with credentials, else the first POP3
    one, else None."""
    incoming: int | None = None
    for protocol in reversed(INCOMING):
        for index, target in enumerate(targets):
            if target.protocol is protocol and target.credentials is not None:
                incoming = index
                break
    return [
        (index, incoming)
        for index, target in enumerate(targets)
        if target.protocol is Protocol.SMTP and target.credentials is not None
    ]


@dataclass
class Confirmation:
    """One confirmation, filled in as it goes: ``started`` once it looks (``monotonic``),
    ``arrival`` once it knows; ``reason`` why it could not look at all."""

    smtp: int
    incoming: int | None
    protocol: Protocol | None = None
    started: float | None = None
    arrival: Arrival | None = None
    reason: str | None = None


async def confirm(
    plan: Confirmation,
    smtp_task: asyncio.Future[CheckResult],
    incoming_task: asyncio.Future[CheckResult] | None,
    incoming_target: CheckTarget | None,
    context: CheckContext,
    *,
    deadline_at: float,
    wait: float,
    poll: float = ROUND_TRIP_POLL,
) -> None:
    """Wait for the SMTP check and the incoming check, then look for the test message
    (see the module docstring). Fills in ``plan``; never cancels the checks it waits for."""
    await asyncio.wait([t for t in (smtp_task, incoming_task) if t is not None])
    smtp = _result(smtp_task)
    trip = None if smtp is None else round_trip_of(smtp)
    if trip is None or not trip.sent:
        return
    incoming = None if incoming_task is None else _result(incoming_task)
    if incoming_target is None or incoming is None:
        plan.reason = "no incoming server was checked"
        return
    if not incoming.authenticated:
        plan.reason = f"the {incoming_target.protocol.value} check did not sign in"
        return
    plan.protocol = incoming_target.protocol
    plan.started = time.monotonic()
    seconds = max(0.0, min(wait, deadline_at - plan.started - MARGIN))
    plan.arrival = await finder_for(incoming_target.protocol)(
        incoming_target, context, trip.token, wait=seconds, poll=poll
    )
    if context.on_step is not None:
        step = _step(plan, plan.started)
        if step is not None:
            context.on_step(Protocol.SMTP, step)


def _result(task: asyncio.Future[CheckResult]) -> CheckResult | None:
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def _step(plan: Confirmation, origin: float, *, stopped: bool = False) -> Step | None:
    """The ``round-trip`` step, its start relative to ``origin`` (when the check began)."""
    if plan.started is None:
        return None
    arrival = plan.arrival
    ms = round((time.monotonic() - plan.started) * 1000)
    where = f"{plan.protocol.value if plan.protocol else '?'} INBOX"
    if stopped or arrival is None:
        detail, ok = f"stopped by the deadline, not yet in the {where}", False
    elif arrival.found:
        detail, ok = f"arrived: in the {where} after {round(arrival.seconds * 1000)} ms", True
        ms = round(arrival.seconds * 1000)
    elif arrival.problem is not None:
        detail, ok = f"could not look into the {where}: {arrival.problem}", False
    else:
        detail = f"not in the {where} after {arrival.seconds:.1f} s ({arrival.searches} looks)"
        ok = False
    return Step(STEP_ROUND_TRIP, ok, ms, detail, round((plan.started - origin) * 1000))


def apply(
    result: CheckResult,
    plan: Confirmation,
    *,
    origin: float,
    stopped: bool,
    deadline: float,
) -> CheckResult:
    """The SMTP result with the confirmation's outcome (see the module docstring).
    ``stopped``: the run's deadline cancelled the confirmation; ``origin``: when the run
    began (``monotonic``)."""
    trip = round_trip_of(result)
    if trip is None or not trip.sent:
        return result
    host = _host(result)
    finding: Finding | None = None
    arrived: bool | None = None
    if plan.reason is not None:
        finding = _finding(NOT_CHECKED, host, detail={"reason": plan.reason})
    elif plan.started is None:
        if not stopped:
            return result
        reason = "the deadline passed before the incoming check had finished"
        finding = _finding(NOT_CHECKED, host, detail={"reason": reason})
    elif stopped or plan.arrival is None:
        finding = DeadlineError(host, deadline).to_finding()
    elif plan.arrival.found:
        arrived = True
    elif plan.arrival.problem is not None:
        finding = _finding(NOT_CHECKED, host, detail={"reason": plan.arrival.problem})
    else:
        arrived = False
        seconds = round(plan.arrival.seconds, 1)
        finding = _finding(NOT_ARRIVED, host, seconds=seconds, detail={"seconds": str(seconds)})
    step = _step(plan, origin, stopped=stopped)
    steps = result.steps if step is None else (*result.steps, step)
    arrival = plan.arrival
    data = dict(result.data)
    data["round_trip"] = {
        **trip.to_dict(),
        "arrived": arrived,
        "arrived_ms": round(arrival.seconds * 1000) if arrival and arrival.found else None,
        "checked_over": None if plan.protocol is None else plan.protocol.value,
        "searches": 0 if arrival is None else arrival.searches,
    }
    findings = list(result.findings) + ([finding] if finding is not None else [])
    ok = result.ok and (step is None or step.ok)
    main = result.finding if result.finding is not None or ok else finding
    return dataclasses.replace(
        result,
        ok=ok,
        steps=tuple(steps),
        finding=main,
        findings=main_first(findings, main),
        data=data,
    )


def _host(result: CheckResult) -> str:
    target = result.target
    return target.split("://", 1)[-1].rsplit(":", 1)[0] or target


def _finding(
    code: str, host: str, *, seconds: float | None = None, detail: dict[str, str]
) -> Finding:
    params: dict[str, ParamValue] = {"host": host}
    if seconds is not None:
        params["seconds"] = seconds
    return knowledge.finding(
        code,
        checked=Text("check.server", {"host": host}),
        params=params,
        detail={"step": STEP_ROUND_TRIP, **detail},
    )
