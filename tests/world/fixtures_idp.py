"""Fixtures of the test world's Microsoft-style identity provider (see ``tests/world/idp.py``).

- ``idp`` (session): the running ``IdentityProvider``; its directory holds the default tenant
  (``idp.tenant_id``, domain ``idp.tenant_domain``), the consumers tenant, and the registered
  public client ``idp.default_client_id``.
- ``idp_state`` (function): the same provider; what the test changes is undone afterwards
  (users/clients/tenants/consents back to how they were when the test started, injected
  failures dropped, clock offset and lifetimes restored, the request log emptied).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.world.ca import TestCA
from tests.world.fixtures_base import record_startup
from tests.world.idp import IdentityProvider


@pytest.fixture(scope="session")
def idp(test_ca: TestCA, world_dir: Path) -> Iterator[IdentityProvider]:
    directory = world_dir / "idp"
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    provider = IdentityProvider(test_ca, directory).start()
    record_startup("idp", time.monotonic() - started)
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def idp_state(idp: IdentityProvider) -> Iterator[IdentityProvider]:
    idp.mark_baseline()
    idp.clear_log()
    try:
        yield idp
    finally:
        idp.reset()
