"""Fixtures of the test world's CalDAV/CardDAV server, Radicale (``tests/world/radicale.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.world.ca import CertPair, TestCA
from tests.world.fixtures_base import record_startup
from tests.world.radicale import RadicaleServer


@pytest.fixture(scope="session")
def radicale(world_dir: Path, world_cert: CertPair, test_ca: TestCA) -> Iterator[RadicaleServer]:
    """Radicale over TLS on 127.0.0.1; ``add_user(address, password)`` gives a user with one
    calendar and one address book (``calendar_url(user)``, ``addressbook_url(user)``)."""
    server = RadicaleServer(world_dir / "radicale", world_cert, test_ca.cert_path)
    record_startup("radicale", server.start())
    try:
        yield server
    finally:
        server.stop()
