"""Secrets of saved accounts (app/core/profiles/secrets.py) in the test world's REAL Secret
Service: written under the documented service and user names (seen by libsecret's
``secret-tool``), read back, removed; a keyring that is missing, a null one or a third-party
plain-text one is refused and nothing is written anywhere; a keyring that stops answering is a
clear failure; no secret ever reaches the saved-accounts file."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail, null

from app.core.checks.base import Secret
from app.core.model import AccountConfig, AuthKind, Endpoint, Protocol, Provenance, Security, Trust
from app.core.profiles.secrets import (
    SERVICE_NAME,
    KeyringFailed,
    KeyringUnavailable,
    SecretPurpose,
    delete_secret,
    delete_secrets,
    entry_name,
    forget,
    keyring_status,
    load_secret,
    store_secret,
)
from app.core.profiles.store import AccountState, AccountStore, SavedAccount
from tests.world.keyring_service import KeyringService

pytestmark = pytest.mark.world


def _address() -> str:
    return f"Secret-{uuid.uuid4().hex[:8]}@Example.TEST"


def _lookup(service: KeyringService, user: str) -> str | None:
    found = service.secret_tool("lookup", "service", SERVICE_NAME, "username", user)
    return found.stdout if found.returncode == 0 else None


def _account(address: str, secrets: tuple[str, ...] = ()) -> SavedAccount:
    return SavedAccount(
        address=address,
        config=AccountConfig(
            incoming=Endpoint(Protocol.IMAP, "imap.example.test", 993, Security.TLS, address),
            auth=AuthKind.PASSWORD,
            provenance=Provenance("manual", Trust.HIGH, False),
        ),
        secrets=secrets,
    )


class PlaintextFileKeyring(KeyringBackend):
    """What a third-party "keyring" such as keyrings.alt's PlaintextKeyring does: secrets in
    a plain file. It must never be used."""

    priority = 1  # type: ignore[assignment]
    file: Path

    def set_password(self, service: str, username: str, password: str) -> None:
        data = json.loads(self.file.read_text()) if self.file.exists() else {}
        data[f"{service}/{username}"] = password
        self.file.write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        data = json.loads(self.file.read_text()) if self.file.exists() else {}
        return data.get(f"{service}/{username}")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


@pytest.fixture
def plaintext(tmp_path: Path) -> PlaintextFileKeyring:
    backend = PlaintextFileKeyring()
    backend.file = tmp_path / "plaintext-keyring.json"
    return backend


@pytest.fixture
def no_keyring() -> Iterator[fail.Keyring]:
    """keyring as on a computer without any: its ``fail`` backend."""
    previous = keyring.core._keyring_backend
    backend = fail.Keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.core._keyring_backend = previous


# --- the real Secret Service ------------------------------------------------------------------


def test_a_password_round_trips_under_the_documented_names(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    address = _address()
    user = f"{address.lower()}|account"
    assert entry_name(address) == user
    password = f"アプリ-pw-{uuid.uuid4().hex}"
    assert keyring_status().usable is True
    assert keyring_status().backend == "keyring.backends.SecretService.Keyring"

    store_secret(address, Secret(password))
    assert _lookup(keyring_service, user) == password  # libsecret sees the same entry
    assert load_secret(address.upper().replace("@EXAMPLE", "@example")) == Secret(password)
    assert load_secret(address, SecretPurpose.SMTP) is None  # other purposes are other entries

    store_secret(address, Secret(password + "-new"))  # replaced, not added
    listed = keyring_service.secret_tool(
        "search", "--all", "service", SERVICE_NAME, "username", user
    )
    assert listed.stdout.count("secret = ") == 1, listed.stdout
    assert load_secret(address) == Secret(password + "-new")

    assert delete_secret(address) is True
    assert _lookup(keyring_service, user) is None
    assert load_secret(address) is None
    assert delete_secret(address) is False


def test_an_international_address_and_per_server_passwords(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    address = f"太郎{uuid.uuid4().hex[:6]}@例え.テスト"
    store_secret(address, Secret("imap-and-all"))
    store_secret(address, Secret("smtp-only"), "smtp")
    assert _lookup(keyring_service, f"{address}|account") == "imap-and-all"
    assert _lookup(keyring_service, f"{address}|smtp") == "smtp-only"
    assert delete_secrets(address) == (SecretPurpose.ACCOUNT, SecretPurpose.SMTP)
    assert _lookup(keyring_service, f"{address}|account") is None
    assert _lookup(keyring_service, f"{address}|smtp") is None


def test_forget_removes_every_entry_and_signs_out(
    secret_keyring: SecretService.Keyring, keyring_service: KeyringService
) -> None:
    address = _address()
    store_secret(address, Secret("one"))
    store_secret(address, Secret("two"), SecretPurpose.CALDAV)
    signed_out: list[str] = []

    async def sign_out(mailbox: str) -> bool:
        signed_out.append(mailbox)
        return True

    # only "account" was recorded: the caldav entry goes too
    forgotten = asyncio.run(forget(_account(address, ("account",)), sign_out=sign_out))
    assert forgotten.secrets == (SecretPurpose.ACCOUNT, SecretPurpose.CALDAV)
    assert forgotten.signed_out is True and forgotten.keyring_skipped is False
    assert signed_out == [str(_account(address).address)]
    for purpose in ("account", "caldav"):
        assert _lookup(keyring_service, f"{address.lower()}|{purpose}") is None


def test_no_secret_reaches_the_accounts_file(
    secret_keyring: SecretService.Keyring, tmp_path: Path
) -> None:
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    address = _address()
    store_secret(address, Secret(sentinel))
    store = AccountStore(tmp_path / "config" / "accounts.json")
    store.save(_account(address, ("account",)))
    store.update_state(address, AccountState.VERIFIED, [])
    assert load_secret(address) == Secret(sentinel)  # it is in the keyring ...
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files  # ... and not in any file the store wrote
    for path in files:
        for encoded in (sentinel.encode(), sentinel.encode("utf-16-le")):
            assert encoded not in path.read_bytes(), path
    delete_secret(address)


# --- refused and failing keyrings -------------------------------------------------------------


def _refused(backend: Any, tmp_path: Path, expected: str) -> None:
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    status = keyring_status(backend)
    assert status.usable is False
    assert expected in (status.reason or "")
    finding = status.finding()
    assert finding is not None and finding.code == "keyring.unavailable"
    assert "plain file" in finding.cause.render("en")
    with pytest.raises(KeyringUnavailable) as raised:
        store_secret("taro@example.test", Secret(sentinel), backend=backend)
    assert raised.value.code == "keyring.unavailable"
    assert raised.value.fix is not None
    for operation in (load_secret, delete_secret):
        with pytest.raises(KeyringUnavailable) as raised:
            operation("taro@example.test", backend=backend)
        assert raised.value.code == "keyring.unreachable"  # a saved one cannot be reached
    for path in tmp_path.rglob("*"):  # nothing was written anywhere instead
        assert not path.is_file() or sentinel.encode() not in path.read_bytes()


def test_a_plaintext_third_party_backend_is_refused(
    plaintext: PlaintextFileKeyring, tmp_path: Path
) -> None:
    _refused(plaintext, tmp_path, "is not one of keyring's own encrypted stores")
    assert not plaintext.file.exists()


def test_a_chain_holding_a_plaintext_backend_is_refused(
    plaintext: PlaintextFileKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = chainer.ChainerBackend()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [SecretService.Keyring(), plaintext])
    _refused(chain, tmp_path, "PlaintextFileKeyring")
    assert not plaintext.file.exists()


def test_the_fail_and_null_backends_are_refused(tmp_path: Path) -> None:
    _refused(fail.Keyring(), tmp_path, "keyring.backends.fail.Keyring")
    _refused(null.Keyring(), tmp_path, "keyring.backends.null.Keyring")


def test_with_no_keyring_on_the_computer_saving_says_so(
    no_keyring: fail.Keyring, tmp_path: Path
) -> None:
    assert keyring_status().usable is False
    with pytest.raises(KeyringUnavailable) as raised:
        store_secret("taro@example.test", Secret("pw"))
    assert "no keyring backend is available" in raised.value.reason


def test_forget_without_a_keyring(no_keyring: fail.Keyring) -> None:
    # nothing was recorded as saved: nothing to lose, the keyring is skipped
    forgotten = asyncio.run(forget(_account("taro@example.test")))
    assert forgotten.keyring_skipped is True and forgotten.secrets == ()
    # a saved secret would be left behind: refused
    with pytest.raises(KeyringUnavailable):
        asyncio.run(forget(_account("taro@example.test", ("account",))))


def test_a_secret_service_that_stops_answering_fails_clearly(
    secret_keyring: SecretService.Keyring,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'gone'}")
    backend = SecretService.Keyring()
    status = keyring_status(backend)
    assert status.usable is False and "does not answer" in (status.reason or "")
    with pytest.raises(KeyringFailed) as raised:
        store_secret("taro@example.test", Secret("pw"), backend=backend)
    assert raised.value.code == "keyring.failed"
    assert "SecretService" in raised.value.finding.cause.render("en")
