"""The test world's Secret Service is a real, private gnome-keyring: secrets round-trip through the
``keyring`` library, libsecret's ``secret-tool`` sees the same items, deleted secrets are gone, and
nothing is written in clear on disk."""

from __future__ import annotations

import os
import uuid

import keyring
import pytest
from keyring.backends import SecretService

from tests.world.keyring_service import KeyringService

pytestmark = pytest.mark.world


def _service_name() -> str:
    return f"mailsetup-test-{uuid.uuid4().hex[:12]}"


def test_the_real_secret_service_backend_is_selected(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    assert isinstance(keyring.get_keyring(), SecretService.Keyring)
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == keyring_service.bus_address
    assert keyring_service.collection_path == "/org/freedesktop/secrets/collection/login"


def test_a_secret_round_trips_and_secret_tool_finds_it(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    service, user, secret = _service_name(), "alice@example.test", f"pw-{uuid.uuid4().hex}"
    keyring.set_password(service, user, secret)
    assert keyring.get_password(service, user) == secret

    found = keyring_service.secret_tool("lookup", "service", service, "username", user)
    assert found.returncode == 0, found.stderr
    assert found.stdout == secret
    listed = keyring_service.secret_tool("search", "--all", "service", service)
    assert listed.returncode == 0, listed.stderr
    assert f"secret = {secret}" in listed.stdout
    assert f"attribute.username = {user}" in listed.stdout + listed.stderr

    keyring.delete_password(service, user)
    assert keyring.get_password(service, user) is None
    gone = keyring_service.secret_tool("lookup", "service", service, "username", user)
    assert gone.returncode != 0 and gone.stdout == ""


def test_a_secret_stored_by_libsecret_is_read_by_keyring(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    service, user, secret = _service_name(), "bob@example.test", "パスワード-42"
    stored = keyring_service.secret_tool(
        "store", "--label", "from libsecret", "service", service, "username", user, input=secret
    )
    assert stored.returncode == 0, stored.stderr
    assert keyring.get_password(service, user) == secret
    keyring.delete_password(service, user)
    assert keyring_service.secret_tool("lookup", "service", service, "username", user).stdout == ""


def test_secrets_are_not_written_in_clear(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    service = _service_name()
    keyring_file = keyring_service.keyrings_dir / "login.keyring"
    before = keyring_file.read_bytes() if keyring_file.exists() else b""
    keyring.set_password(service, "carol@example.test", sentinel)
    try:
        # the item reached the disk (else the scan below would prove nothing) ...
        keyring_service.wait_for_keyring_file()
        assert keyring_file.read_bytes() != before
        # ... encrypted: no file under the keyring's HOME/XDG folders holds the secret in clear
        for encoded in (sentinel.encode("utf-8"), sentinel.encode("utf-16-le")):
            assert keyring_service.files_containing(encoded) == []
    finally:
        keyring.delete_password(service, "carol@example.test")
