"""The verification runner's own logic (the authentication gate, the deadline, failures), with
scripted checks. The real checks against the real servers are in
tests/integration/test_check_*.py and test_verify_cli.py."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from app.core.checks import roundtrip
from app.core.checks.base import (
    AuthGate,
    AuthOutcome,
    CheckContext,
    CheckResult,
    CheckTarget,
    Credentials,
    Secret,
    Step,
)
from app.core.checks.mailcheck import Arrival
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.model import Endpoint, Protocol, Security
from app.core.net import Network, NetworkOptions

CREDS = Credentials("taro@example.test", Secret("sentinel-password-1"))


def target(protocol: Protocol, credentials: Credentials | None = CREDS) -> CheckTarget:
    port = {Protocol.IMAP: 993, Protocol.SMTP: 465, Protocol.POP3: 995}.get(protocol, 443)
    if protocol in (Protocol.CALDAV, Protocol.CARDDAV):
        return CheckTarget(protocol, url="https://dav.example.test/", credentials=credentials)
    endpoint = Endpoint(protocol, "mail.example.test", port, Security.TLS)
    return CheckTarget(protocol, endpoint=endpoint, credentials=credentials)


@dataclass
class Scripted:
    """A check that connects (``connect`` seconds), then asks the gate and authenticates with
    ``outcome`` after ``auth`` seconds; it records whether it was allowed to try."""

    outcome: AuthOutcome = AuthOutcome.SUCCEEDED
    connect: float = 0.0
    auth: float = 0.0
    raises: Exception | None = None
    tried: list[Protocol] = field(default_factory=list)
    cancelled: list[Protocol] = field(default_factory=list)

    async def __call__(self, target: CheckTarget, context: CheckContext) -> CheckResult:
        timeline = context.timeline(target.protocol)
        try:
            started = time.monotonic()
            await asyncio.sleep(self.connect)
            timeline.add("connect", True, started)
            if self.raises is not None:
                raise self.raises
            authenticated = False
            tried = False
            if target.credentials is not None and await context.gate.turn(target.credentials):
                tried = True
                self.tried.append(target.protocol)
                await asyncio.sleep(self.auth)
                context.gate.done(target.credentials, self.outcome)
                authenticated = self.outcome is AuthOutcome.SUCCEEDED
        except asyncio.CancelledError:
            self.cancelled.append(target.protocol)
            raise
        return CheckResult(
            protocol=target.protocol,
            target=target.protocol.value,
            ok=authenticated or target.credentials is None,
            authenticated=authenticated,
            steps=tuple(timeline.steps),
            auth_tried=tried,
        )


def run_verify(
    check: Scripted,
    targets: list[CheckTarget],
    *,
    deadline: float = 5.0,
    steps: list[tuple[Protocol, Step]] | None = None,
) -> VerifyResult:
    net = Network(NetworkOptions(system_proxy=False))
    functions = dict.fromkeys(Protocol, check)
    return asyncio.run(
        verify(
            "taro@example.test",
            targets,
            net,
            options=VerifyOptions(deadline=deadline),
            checks=functions,
            on_step=None if steps is None else (lambda p, s: steps.append((p, s))),
        )
    )


def test_a_rejected_password_is_tried_once_not_four_times() -> None:
    check = Scripted(outcome=AuthOutcome.CREDENTIALS_REJECTED, auth=0.05)
    targets = [target(p) for p in (Protocol.IMAP, Protocol.SMTP, Protocol.CALDAV, Protocol.CARDDAV)]
    result = run_verify(check, targets)
    assert len(check.tried) == 1
    assert not result.ok
    assert sum(c.auth_tried for c in result.checks) == 1


def test_after_a_success_the_others_sign_in_too() -> None:
    check = Scripted(outcome=AuthOutcome.SUCCEEDED, auth=0.05)
    result = run_verify(check, [target(Protocol.IMAP), target(Protocol.SMTP)])
    assert sorted(check.tried) == sorted([Protocol.IMAP, Protocol.SMTP])
    assert result.ok
    assert all(c.authenticated for c in result.checks)


def test_a_failure_that_is_not_the_password_lets_the_others_try() -> None:
    # e.g. SMTP AUTH disabled for the tenant: IMAP must still be tried ("receive but not send")
    check = Scripted(outcome=AuthOutcome.FAILED_OTHERWISE, auth=0.05)
    run_verify(check, [target(Protocol.SMTP), target(Protocol.IMAP)])
    assert len(check.tried) == 2


def test_different_credentials_do_not_wait_for_each_other() -> None:
    other = Credentials("apple-account@example.test", Secret("sentinel-password-2"))
    check = Scripted(outcome=AuthOutcome.CREDENTIALS_REJECTED, auth=0.05)
    run_verify(check, [target(Protocol.IMAP), target(Protocol.CALDAV, other)])
    assert len(check.tried) == 2


def test_connections_run_concurrently() -> None:
    check = Scripted(connect=0.3)
    started = time.monotonic()
    run_verify(check, [target(p, None) for p in (Protocol.IMAP, Protocol.SMTP, Protocol.CALDAV)])
    assert time.monotonic() - started < 0.8  # three 0.3 s connects, not 0.9 s in a row


def test_the_deadline_stops_every_check_with_a_finding() -> None:
    check = Scripted(connect=30)
    started = time.monotonic()
    result = run_verify(check, [target(Protocol.IMAP), target(Protocol.SMTP)], deadline=0.3)
    assert time.monotonic() - started < 2
    assert sorted(check.cancelled) == sorted([Protocol.IMAP, Protocol.SMTP])
    for checked in result.checks:
        assert not checked.ok
        assert checked.finding is not None and checked.finding.code == "deadline.exceeded"


def test_a_bug_in_a_check_becomes_a_finding_not_a_crash() -> None:
    check = Scripted(raises=RuntimeError("bug"))
    result = run_verify(check, [target(Protocol.IMAP)])
    assert result.checks[0].finding is not None
    assert result.checks[0].finding.code == "check.internal-error"


def test_steps_are_reported_live() -> None:
    steps: list[tuple[Protocol, Step]] = []
    run_verify(Scripted(), [target(Protocol.IMAP, None)], steps=steps)
    assert [(p, s.name) for p, s in steps] == [(Protocol.IMAP, "connect")]


def test_the_gate_releases_waiters_when_the_first_gives_up() -> None:
    async def scenario() -> bool:
        gate = AuthGate()
        assert await gate.turn(CREDS)
        waiter = asyncio.ensure_future(gate.turn(CREDS))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        gate.release(CREDS)
        return await asyncio.wait_for(waiter, 1)

    assert asyncio.run(scenario()) is True


def test_secrets_never_print() -> None:
    secret = Secret("sentinel-password-3")
    assert "sentinel" not in repr(secret) + str(secret) + repr(CREDS) + f"{secret}"
    assert secret.reveal() == "sentinel-password-3"


# --- the round trip's bookkeeping (roundtrip.py; the real exchange: test_check_smtp.py) --------


def _sent(ok: bool = True) -> CheckResult:
    trip = {
        "token": "msw-0123456789abcdef0123",
        "address": "taro@example.test",
        "message_id": "<msw-0123456789abcdef0123@example.test>",
        "subject": "Mail Setup Wizard test message msw-0123456789abcdef0123",
        "sent": True,
    }
    return CheckResult(
        protocol=Protocol.SMTP,
        target="smtp://smtp.example.test:587",
        ok=ok,
        authenticated=True,
        steps=(Step("send", True, 5),),
        data={"round_trip": trip},
    )


def test_the_round_trip_is_confirmed_over_imap_before_pop3() -> None:
    targets = [
        target(Protocol.POP3),
        target(Protocol.SMTP),
        target(Protocol.IMAP, None),  # no credentials: it cannot look into the mailbox
        target(Protocol.IMAP),
        target(Protocol.CALDAV),
    ]
    assert roundtrip.pairs(targets) == [(1, 3)]
    assert roundtrip.pairs(targets[:2]) == [(1, 0)]
    assert roundtrip.pairs(targets[1:3]) == [(0, None)]
    assert roundtrip.pairs([target(Protocol.SMTP, None), target(Protocol.IMAP)]) == []


def test_a_round_trip_stopped_by_the_deadline_while_looking() -> None:
    now = time.monotonic()
    plan = roundtrip.Confirmation(smtp=1, incoming=0, protocol=Protocol.IMAP, started=now)
    result = roundtrip.apply(_sent(), plan, origin=now - 1, stopped=True, deadline=3.0)
    assert not result.ok
    assert result.finding is not None and result.finding.code == "deadline.exceeded"
    assert [(s.name, s.ok) for s in result.steps] == [("send", True), ("round-trip", False)]
    assert result.steps[-1].started_ms == 1000
    trip = result.data["round_trip"]
    assert isinstance(trip, dict) and trip["arrived"] is None and trip["checked_over"] == "imap"


def test_a_round_trip_that_could_not_look_is_a_warning_without_a_step() -> None:
    plan = roundtrip.Confirmation(smtp=1, incoming=0, reason="the imap check did not sign in")
    result = roundtrip.apply(_sent(), plan, origin=time.monotonic(), stopped=False, deadline=3)
    assert result.ok and result.finding is None
    assert [f.code for f in result.findings] == ["smtp.round-trip.not-checked"]
    assert result.findings[0].detail["reason"] == "the imap check did not sign in"
    assert [s.name for s in result.steps] == ["send"]


def test_nothing_to_confirm_when_nothing_was_sent() -> None:
    unsent = _sent()
    trip = dict(unsent.data["round_trip"])  # type: ignore[call-overload]
    trip["sent"] = False
    unsent = CheckResult(
        protocol=Protocol.SMTP,
        target=unsent.target,
        ok=False,
        authenticated=True,
        steps=unsent.steps,
        data={"round_trip": trip},
    )
    plan = roundtrip.Confirmation(smtp=0, incoming=None, reason="no incoming server was checked")
    assert roundtrip.apply(unsent, plan, origin=0.0, stopped=True, deadline=3.0) is unsent


def test_a_round_trip_that_arrived() -> None:
    now = time.monotonic()
    plan = roundtrip.Confirmation(
        smtp=1,
        incoming=0,
        protocol=Protocol.POP3,
        started=now,
        arrival=Arrival(True, 0.25, 1),
    )
    result = roundtrip.apply(_sent(), plan, origin=now, stopped=False, deadline=3.0)
    assert result.ok and result.finding is None and result.findings == ()
    assert (result.steps[-1].name, result.steps[-1].ok, result.steps[-1].ms) == (
        "round-trip",
        True,
        250,
    )
    trip = result.data["round_trip"]
    assert isinstance(trip, dict)
    assert (trip["arrived"], trip["arrived_ms"], trip["checked_over"]) == (True, 250, "pop3")
