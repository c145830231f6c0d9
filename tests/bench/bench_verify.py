"""Verification benchmark (``make bench``): figures, not pass/fail.

Every check of an account (IMAP, SMTP, CalDAV, CardDAV, signed in with a password) against the
test world's real servers, each connection delayed 100 ms by a fault proxy in front of Dovecot,
the SMTP server and Radicale: as the runner does them (at the same time, sign-in gated) versus
one after another (``verify`` once per target). Medians over five runs, after one warm-up run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence

from app.core.checks.base import CheckTarget, Credentials, Secret
from app.core.checks.runner import verify
from app.core.model import Endpoint, Protocol, Security
from app.core.net import Network, NetworkOptions, parse_resolve
from tests.bench.conftest import FIGURES
from tests.world.ca import TestCA
from tests.world.dovecot import MAIL_HOST
from tests.world.faultproxy import FaultProxy
from tests.world.fixtures_mail import MailWorld
from tests.world.radicale import RadicaleServer

LATENCY = 0.1  # seconds of silence at the start of every connection
RUNS = 5
SECRET = "bench password 1"


def _targets(user: str) -> list[CheckTarget]:
    credentials = Credentials(user, Secret(SECRET))
    mail = [
        (Protocol.IMAP, "imap.example.test", 993, Security.TLS),
        (Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS),
    ]
    targets = [
        CheckTarget(p, Endpoint(p, host, port, security), credentials=credentials, address=user)
        for p, host, port, security in mail
    ]
    for protocol in (Protocol.CALDAV, Protocol.CARDDAV):
        targets.append(
            CheckTarget(
                protocol, url="https://dav.example.test/", credentials=credentials, address=user
            )
        )
    return targets


def _all_passed(address: str, targets: Sequence[CheckTarget], net: Network) -> float:
    """One ``verify`` of every target at once; its time in milliseconds."""
    started = time.perf_counter()
    result = asyncio.run(verify(address, targets, net))
    elapsed = (time.perf_counter() - started) * 1000
    assert result.ok, [(c.protocol.value, c.finding) for c in result.checks]
    return elapsed


def _one_after_another(address: str, targets: Sequence[CheckTarget], net: Network) -> float:
    """``verify`` once per target, each waiting for the one before; the total time."""

    async def each() -> None:
        for target in targets:
            result = await verify(address, [target], net)
            assert result.ok, (target.protocol.value, result.checks[0].finding)

    started = time.perf_counter()
    asyncio.run(each())
    return (time.perf_counter() - started) * 1000


def bench_verify_concurrent_versus_one_after_another(
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    fault_proxy: object,
) -> None:
    user = mail_world.mail_user(f"bench-{uuid.uuid4().hex[:8]}@example.test", SECRET)
    radicale.add_user(user, SECRET)
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    upstream = {
        "imap.example.test:993": (MAIL_HOST, dovecot.imap_tls_port),
        "smtp.example.test:587": (MAIL_HOST, smtp.starttls_port),
        "dav.example.test:443": ("127.0.0.1", radicale.port),
    }
    resolve = []
    for name, (host, port) in upstream.items():
        proxy: FaultProxy = fault_proxy(host, port, latency=LATENCY)  # type: ignore[operator]
        resolve.append(parse_resolve(f"{name}:{proxy.host}:{proxy.port}"))
    net = Network(
        NetworkOptions(
            ca_bundles=(test_ca.cert_path,),
            resolve=tuple(resolve),
            system_proxy=False,
            timeout=10.0,
        )
    )
    targets = _targets(user)
    _all_passed(user, targets, net)  # warm-up: first TLS contexts, Dovecot's first login
    _one_after_another(user, targets, net)
    together: list[float] = []
    apart: list[float] = []
    for _ in range(RUNS):
        together.append(_all_passed(user, targets, net))
        apart.append(_one_after_another(user, targets, net))
    at_once, in_turn = statistics.median(together), statistics.median(apart)
    FIGURES.append(
        f"verify {len(targets)} checks (IMAP, SMTP, CalDAV, CardDAV), +{LATENCY * 1000:.0f} ms "
        f"per connection: concurrent (the runner) median {at_once:.0f} ms, one after another "
        f"median {in_turn:.0f} ms, {in_turn / at_once:.1f}x (runs: concurrent "
        f"{[round(t) for t in together]}, one after another {[round(t) for t in apart]})"
    )
