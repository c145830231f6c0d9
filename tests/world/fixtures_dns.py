"""Fixtures for the test world's DNS server (``tests/world/dns.py``).

- ``dns_server`` (session): the running server; records added through it stay for the session.
- ``dns`` (function): the same server; what a test adds, removes or fails is undone afterwards,
  and ``queries`` starts empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.world import proc
from tests.world.dns import DNSServer, query_ready
from tests.world.fixtures_base import Stopwatch, record_startup


@pytest.fixture(scope="session")
def dns_server(world_dir: Path) -> Iterator[DNSServer]:
    """The world's DNS server on 127.0.0.1 (UDP and TCP); ``.address`` is ``127.0.0.1:PORT``."""
    log = world_dir / "dns.log"
    watch = Stopwatch()
    server = DNSServer(log=log)
    try:
        server.start()
    except OSError as exc:
        raise proc.WorldError(f"DNS server could not start: {exc}\n{proc.tail(log)}") from exc
    proc.register_log("dns", log)
    try:
        proc.wait_until(lambda: query_ready(server, 0.5), timeout=10, what="dns", log=log)
        record_startup("dns", watch.seconds())
        server.queries.clear()
        yield server
    finally:
        server.stop()
        proc.unregister_log("dns")


@pytest.fixture
def dns(dns_server: DNSServer) -> Iterator[DNSServer]:
    """The DNS server for one test: its zone changes are rolled back when the test ends."""
    state = dns_server.snapshot()
    dns_server.queries.clear()
    try:
        yield dns_server
    finally:
        dns_server.restore(state)
