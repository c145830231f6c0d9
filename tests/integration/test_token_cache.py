"""The token store (app/core/auth/token_cache.py) on the test world's real Secret Service: a
large MSAL cache round-trips through keyring entries no bigger than Windows Credential
Manager allows, with a manifest; rewrites leave no stale chunks; damage is detected and reported;
the storage choice falls back from msal-extensions (no PyGObject here) to the keyring, and to
memory only (saying so) when no trusted keyring exists, never to a plain file."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import keyring
import msal
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, fail

from app.core.auth.token_cache import (
    CHUNK_LIMIT_BYTES,
    MANIFEST_ENTRY,
    SERVICE_NAME,
    KeyringStorage,
    MailboxLink,
    MemoryStorage,
    StorageKind,
    StorageUnavailable,
    TokenCacheStore,
    extensions_storage,
    keyring_storage,
)
from tests.world.idp import IMAP_SCOPE, IdentityProvider
from tests.world.keyring_service import KeyringService

pytestmark = pytest.mark.world


@pytest.fixture
def service() -> str:
    return f"mailsetup-cache-test-{uuid.uuid4().hex[:10]}"


def _items(service: str) -> dict[str, bytes]:
    """Every keyring item under ``service``, read directly from the Secret Service."""
    collection = SecretService.Keyring().get_preferred_collection()
    with closing(collection.connection):
        return {
            item.get_attributes()["username"]: item.get_secret()
            for item in collection.search_items({"service": service})
        }


def _fill(store: TokenCacheStore, idp: IdentityProvider, users: int) -> list[str]:
    """Real token responses of the provider for ``users`` new users, added to MSAL's cache as
    MSAL adds them after a sign-in; returns the refresh tokens."""
    refresh: list[str] = []
    for _ in range(users):
        upn = f"cache-{uuid.uuid4().hex[:8]}@{idp.tenant_domain}"
        idp.add_user(upn, "pw")
        response = idp.issue_tokens(upn, [IMAP_SCOPE])
        store.cache.add(
            {
                "client_id": idp.default_client_id,
                "scope": [IMAP_SCOPE],
                "token_endpoint": f"{idp.authority()}/oauth2/v2.0/token",
                "response": response,
            }
        )
        uid_utid = json.loads(base64.urlsafe_b64decode(response["client_info"] + "=="))
        store.set_link(
            MailboxLink(
                address=upn,
                home_account_id=f"{uid_utid['uid']}.{uid_utid['utid']}",
                username=upn,
                authority=idp.authority(),
            )
        )
        refresh.append(response["refresh_token"])
    return refresh


@pytest.fixture
def make_store(
    idp_state: IdentityProvider, secret_keyring: SecretService.Keyring, service: str
) -> Iterator[Callable[[int], tuple[TokenCacheStore, list[str]]]]:
    """A factory: a keyring-backed store under this test's service name, its MSAL cache
    holding ``users`` sign-ins; everything is removed from the keyring afterwards."""
    stores: list[TokenCacheStore] = []

    def make(users: int) -> tuple[TokenCacheStore, list[str]]:
        store = TokenCacheStore.open(candidates=[lambda: keyring_storage(service)])
        stores.append(store)
        return store, _fill(store, idp_state, users)

    yield make
    for store in stores:
        store.clear()


def test_a_large_cache_round_trips_in_small_chunks(
    make_store: Callable[[int], tuple[TokenCacheStore, list[str]]],
    service: str,
    keyring_service: KeyringService,
) -> None:
    store, refresh = make_store(10)
    document = store.cache.serialize()
    assert len(document) > 15 * CHUNK_LIMIT_BYTES  # far too big for one Credential Manager entry
    assert store.save() is True

    items = _items(service)
    manifest = json.loads(items.pop(MANIFEST_ENTRY))
    assert manifest["chunks"] == len(items) > 5
    assert set(items) == {f"chunk-{manifest['generation']}-{i}" for i in range(len(items))}
    for name, secret in items.items():
        # what Windows stores: the text as UTF-16
        assert len(secret.decode("utf-8").encode("utf-16-le")) <= CHUNK_LIMIT_BYTES, name
    for token in refresh:  # compressed: no token in clear in any entry
        assert all(token.encode() not in secret for secret in items.values())

    again = TokenCacheStore.open(candidates=[lambda: keyring_storage(service)])
    again.load()
    assert json.loads(again.cache.serialize()) == json.loads(document)
    assert again.links() == store.links()
    assert again.notices() == ()
    found = again.cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
    assert sorted(item["secret"] for item in found) == sorted(refresh)
    for token in refresh[:3]:
        assert keyring_service.files_containing(token.encode()) == []


def test_saving_writes_only_changes_and_leaves_no_stale_chunks(
    make_store: Callable[[int], tuple[TokenCacheStore, list[str]]],
    service: str,
    idp_state: IdentityProvider,
) -> None:
    store, _ = make_store(3)
    store.save()
    first = json.loads(_items(service)[MANIFEST_ENTRY])
    assert store.save() is False  # nothing changed: nothing written
    assert json.loads(_items(service)[MANIFEST_ENTRY]) == first

    _fill(store, idp_state, 1)
    assert store.save() is True
    items = _items(service)
    second = json.loads(items.pop(MANIFEST_ENTRY))
    assert second["generation"] != first["generation"]
    assert all(name.startswith(f"chunk-{second['generation']}-") for name in items)
    assert len(items) == second["chunks"]

    store.clear()
    assert _items(service) == {}


def test_a_missing_chunk_is_detected_and_reported(
    make_store: Callable[[int], tuple[TokenCacheStore, list[str]]], service: str
) -> None:
    store, _ = make_store(3)
    store.save()
    manifest = json.loads(_items(service)[MANIFEST_ENTRY])
    keyring.delete_password(service, f"chunk-{manifest['generation']}-1")

    again = TokenCacheStore.open(candidates=[lambda: keyring_storage(service)])
    again.load()
    assert json.loads(again.cache.serialize() or "{}") == {}
    assert again.links() == ()
    assert [n.code for n in again.notices()] == ["token-cache.damaged"]
    assert "chunk 2" in str(again.notices()[0].detail["reason"])


def test_a_changed_chunk_fails_the_checksum(
    make_store: Callable[[int], tuple[TokenCacheStore, list[str]]], service: str
) -> None:
    store, _ = make_store(2)
    store.save()
    manifest = json.loads(_items(service)[MANIFEST_ENTRY])
    name = f"chunk-{manifest['generation']}-0"
    original = keyring.get_password(service, name)
    assert original
    keyring.set_password(service, name, ("A" if original[0] != "A" else "B") + original[1:])

    again = TokenCacheStore.open(candidates=[lambda: keyring_storage(service)])
    again.load()
    assert [n.code for n in again.notices()] == ["token-cache.damaged"]
    assert "checksum" in str(again.notices()[0].detail["reason"])


def test_the_default_choice_here_is_the_keyring(
    secret_keyring: SecretService.Keyring, tmp_path: Path
) -> None:
    store = TokenCacheStore.open(location=tmp_path / "cache.bin")
    assert store.storage.kind is StorageKind.KEYRING
    assert store.persistent and store.notices() == ()
    assert isinstance(store.storage, KeyringStorage)
    assert store.storage.service == SERVICE_NAME
    assert len(store.tried) == 1 and "msal-extensions" in store.tried[0]
    assert list(tmp_path.iterdir()) == []  # the failed msal-extensions step wrote nothing


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin", "sunos5"])
def test_msal_extensions_is_refused_where_its_backend_cannot_work(
    platform: str, tmp_path: Path
) -> None:
    # Linux: no PyGObject here; Windows and macOS: their system libraries are not on Linux.
    with pytest.raises(StorageUnavailable, match="msal-extensions"):
        extensions_storage(tmp_path / "cache.bin", platform)
    assert list(tmp_path.iterdir()) == []


class _PlainFileKeyring(KeyringBackend):
    """A third-party-style backend that keeps secrets in a plain file."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def get_password(self, service: str, username: str) -> str | None:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        value = data.get(f"{service}/{username}")
        return None if value is None else str(value)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


@pytest.mark.parametrize("kind", ["fail", "plain-file"])
def test_no_trusted_keyring_means_memory_only_and_says_so(
    kind: str, tmp_path: Path, idp_state: IdentityProvider
) -> None:
    backend = fail.Keyring() if kind == "fail" else _PlainFileKeyring(tmp_path / "secrets.json")
    store = TokenCacheStore.open(
        candidates=[
            lambda: extensions_storage(tmp_path / "cache.bin"),
            lambda: keyring_storage(backend=backend),
        ]
    )
    assert store.storage.kind is StorageKind.MEMORY and not store.persistent
    assert len(store.tried) == 2
    [notice] = store.notices()
    assert notice.code == "token-cache.memory-only" and notice.outcome.value == "warning"
    assert "msal-extensions" in str(notice.detail["tried"])

    refresh = _fill(store, idp_state, 1)
    assert store.save() is True
    store.load()  # memory keeps it for this run
    assert store.links()
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing written anywhere
    assert refresh


def test_memory_storage_round_trip() -> None:
    storage = MemoryStorage()
    assert storage.read() is None
    storage.write("x")
    assert storage.read() == "x"
    storage.delete()
    assert storage.read() is None
