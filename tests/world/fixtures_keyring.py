"""Fixtures of the test world's Secret Service: a private gnome-keyring on a private D-Bus
session bus (see ``tests/world/keyring_service.py``), and the ``keyring`` library pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import SecretService

from tests.world.fixtures_base import record_startup
from tests.world.keyring_service import KeyringService

# Variables that could lead a client to the real user's keyring or agent.
_FOREIGN_KEYRING_ENV = (
    "GNOME_KEYRING_CONTROL",
    "GNOME_KEYRING_PID",
    "SSH_AUTH_SOCK",
    "KEYRING_PROPERTY_PREFERRED_COLLECTION",
)


@pytest.fixture(scope="session")
def keyring_service(world_dir: Path) -> Iterator[KeyringService]:
    """gnome-keyring's Secret Service on a private bus, its ``login`` collection unlocked."""
    service = KeyringService(world_dir / "keyring")
    record_startup("keyring", service.start())
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def secret_keyring(
    keyring_service: KeyringService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService.Keyring]:
    """For one test: ``keyring`` uses the real SecretService backend on the private bus
    (os.environ's DBUS_SESSION_BUS_ADDRESS and PYTHON_KEYRING_BACKEND point there, so
    subprocesses and a re-initialised ``keyring`` do too). Restores everything afterwards."""
    for name in _FOREIGN_KEYRING_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in keyring_service.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    # keyring has no public "is a backend chosen yet?": keep its exact state to put it back
    previous = keyring.core._keyring_backend
    backend = SecretService.Keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.core._keyring_backend = previous
