"""The runner stopped at any moment closes every socket within a second.

``verify()`` runs IMAP, POP3, SMTP and CalDAV against the test world's real servers, each
through its own fault proxy (some accept and never answer, some answer after a delay); the
proxies count the connections the program holds open. Cancelled at several moments (while
connecting, during TLS and sign-in, while the round trip looks for its message) or stopped by
its own deadline, the program must leave no connection open a second later."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from app.core.checks.base import CheckResult, CheckTarget, Step
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.model import Endpoint, Protocol, Security
from app.core.net import Network, NetworkOptions, parse_resolve
from tests.integration.checks_support import code, password, run
from tests.world.ca import TestCA
from tests.world.dovecot import MAIL_HOST
from tests.world.faultproxy import FaultProxy
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import MailWorld
from tests.world.radicale import RadicaleServer

pytestmark = pytest.mark.world

SECRET = "cancel me 7"
SEAM_TIMEOUT = 10.0  # longer than any test here: only the cancel or the deadline ends a wait
HOSTS = {
    Protocol.IMAP: ("imap.example.test", 993, Security.TLS),
    Protocol.POP3: ("pop.example.test", 995, Security.TLS),
    Protocol.SMTP: ("smtp.example.test", 587, Security.STARTTLS),
    Protocol.CALDAV: ("dav.example.test", 443, Security.TLS),
}
HANG: dict[str, Any] = {"accept_and_hang": True}


@dataclass
class Proxied:
    """The four targets, each behind its own proxy, and the seam aimed at the proxies."""

    proxies: dict[Protocol, FaultProxy]
    targets: list[CheckTarget]
    net: Network

    def open_connections(self) -> int:
        return sum(p.open_connections for p in self.proxies.values())

    def all_idle_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        return all(
            p.wait_idle(max(0.0, deadline - time.monotonic())) for p in self.proxies.values()
        )


def proxied(
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
    behaviours: Mapping[Protocol, Mapping[str, Any]],
    *,
    smtp_user: str | None = None,
) -> Proxied:
    """An account on every server; each protocol of ``behaviours`` through a proxy that
    behaves so. ``smtp_user``: SMTP signs in (and sends) as another user."""
    user = mail_world.mail_user(f"cancel-{uuid.uuid4().hex[:8]}@example.test", SECRET)
    radicale.add_user(user, SECRET)
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    upstream = {
        Protocol.IMAP: (MAIL_HOST, dovecot.imap_tls_port),
        Protocol.POP3: (MAIL_HOST, dovecot.pop3_tls_port),
        Protocol.SMTP: (MAIL_HOST, smtp.starttls_port),
        Protocol.CALDAV: ("127.0.0.1", radicale.port),
    }
    proxies = {p: fault_proxy(*upstream[p], **dict(b)) for p, b in behaviours.items()}
    resolve = tuple(
        parse_resolve(f"{HOSTS[p][0]}:{HOSTS[p][1]}:{proxy.host}:{proxy.port}")
        for p, proxy in proxies.items()
    )
    net = Network(
        NetworkOptions(
            ca_bundles=(test_ca.cert_path,),
            resolve=resolve,
            system_proxy=False,
            timeout=SEAM_TIMEOUT,
        )
    )
    targets: list[CheckTarget] = []
    for protocol in behaviours:
        host, port, security = HOSTS[protocol]
        name = smtp_user if protocol is Protocol.SMTP and smtp_user else user
        credentials = password(name, SECRET)
        if protocol is Protocol.CALDAV:
            targets.append(
                CheckTarget(protocol, url=f"https://{host}/", credentials=credentials, address=user)
            )
        else:
            endpoint = Endpoint(protocol, host, port, security)
            targets.append(
                CheckTarget(protocol, endpoint=endpoint, credentials=credentials, address=name)
            )
    return Proxied(proxies, targets, net)


def cancel_when(
    world: Proxied,
    ready: Callable[[list[tuple[Protocol, Step]]], bool],
    *,
    options: VerifyOptions | None = None,
    pause: float = 0.0,
    something_open: bool = True,
) -> float:
    """Run ``verify`` until ``ready(steps seen so far)`` (then ``pause`` seconds more), cancel
    it, and return how long after the cancel every proxy was idle (at most a second).
    ``something_open``: the proxies must hold a connection when the cancel comes."""

    async def scenario() -> float:
        seen: list[tuple[Protocol, Step]] = []
        task = asyncio.ensure_future(
            verify(
                "cancel@example.test",
                world.targets,
                world.net,
                options=options,
                on_step=lambda protocol, step: seen.append((protocol, step)),
            )
        )
        async with asyncio.timeout(10):
            while not ready(seen):  # noqa: ASYNC110 - it polls the proxies too
                await asyncio.sleep(0.01)
        await asyncio.sleep(pause)
        assert not task.done(), "the run ended before the cancel"
        if something_open:
            assert world.open_connections() > 0, "nothing was open to close"
        cancelled = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(world.all_idle_within, 1.0), {
            p.value: proxy.open_connections for p, proxy in world.proxies.items()
        }
        return time.monotonic() - cancelled

    closed_after = run(scenario())
    deadline = time.monotonic() + 1.0  # IMAP's worker threads end with their sockets
    while any(t.name.startswith("seam-blocking") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a worker thread outlived the cancel"
        time.sleep(0.01)
    return closed_after


MIXED: dict[Protocol, dict[str, Any]] = {
    Protocol.IMAP: {"latency": 0.3},
    Protocol.POP3: HANG,
    Protocol.SMTP: {"latency": 0.2},
    Protocol.CALDAV: HANG,
}


def steps_named(*names: str) -> Callable[[list[tuple[Protocol, Step]]], bool]:
    return lambda seen: all(any(s.name == n for _, s in seen) for n in names)


@pytest.mark.parametrize(
    ("moment", "ready", "pause"),
    [
        pytest.param("at once", lambda seen: True, 0.0, id="at-once"),
        # the proxies' latency still runs: connected, nothing relayed yet
        pytest.param("while connecting", lambda seen: True, 0.1, id="connecting"),
        pytest.param("during TLS", steps_named("connect"), 0.05, id="tls"),
        pytest.param("after a sign-in", steps_named("authenticate"), 0.0, id="signed-in"),
        pytest.param("late", steps_named("authenticate"), 0.4, id="late"),
    ],
)
def test_cancel_closes_every_socket_within_a_second(
    moment: str,
    ready: Callable[[list[tuple[Protocol, Step]]], bool],
    pause: float,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    world = proxied(mail_world, radicale, test_ca, fault_proxy, MIXED)
    closed_after = cancel_when(world, ready, pause=pause, something_open=moment != "at once")
    assert closed_after < 1.0, moment


def test_cancel_while_the_round_trip_looks_for_its_message(
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    """The message goes to an address Dovecot does not host, so the confirmation keeps
    searching the INBOX over its own IMAP connection until it is cancelled."""
    outside = mail_world.smtp.add_user(f"away-{uuid.uuid4().hex[:8]}@example.test", SECRET)
    behaviours = {Protocol.IMAP: {"latency": 0.1}, Protocol.SMTP: {"latency": 0.1}}
    world = proxied(mail_world, radicale, test_ca, fault_proxy, behaviours, smtp_user=outside)
    imap = world.proxies[Protocol.IMAP]

    def confirming(seen: list[tuple[Protocol, Step]]) -> bool:
        # the SMTP check has finished and the confirmation has its own IMAP connection
        return any(s.name == "quit" for p, s in seen if p is Protocol.SMTP) and (
            imap.total_connections >= 2
        )

    options = VerifyOptions(round_trip=True, round_trip_wait=30.0, deadline=30.0)
    assert cancel_when(world, confirming, options=options, pause=0.6) < 1.0
    assert imap.total_connections == 2  # the check's, then the confirmation's


def test_the_deadline_stops_hanging_servers_and_closes_their_sockets(
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    fault_proxy: FaultProxyFactory,
) -> None:
    behaviours = {protocol: HANG for protocol in HOSTS}
    world = proxied(mail_world, radicale, test_ca, fault_proxy, behaviours)
    started = time.monotonic()
    result: VerifyResult = run(
        verify("cancel@example.test", world.targets, world.net, options=VerifyOptions(deadline=0.5))
    )
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 1.5
    assert world.all_idle_within(1.0)
    assert not result.ok
    by_protocol: dict[Protocol, CheckResult] = {c.protocol: c for c in result.checks}
    assert set(by_protocol) == set(HOSTS)
    for check in result.checks:
        assert code(check) == "deadline.exceeded", check.protocol
        assert not check.authenticated and not check.auth_tried
    for protocol in (Protocol.IMAP, Protocol.POP3, Protocol.SMTP):  # DAV's waits in its fetch
        assert [s.name for s in by_protocol[protocol].steps] == ["connect"], protocol
    assert all(p.total_connections == 1 for p in world.proxies.values())
