"""Where Microsoft sign-ins are kept between runs: MSAL's token cache, encrypted by the operating
system, never in a plain-text file.

``TokenCacheStore.open()`` picks the first storage that works on this computer:

1. **msal-extensions** (``ExtensionsStorage``): DPAPI-encrypted file on Windows, the Keychain on
   macOS, libsecret on Linux (needs PyGObject; where it is missing, this step fails and the next
   is used). Not exercised by the test suite on Windows and macOS.
2. **the keyring** (``KeyringStorage``): the ``keyring`` library's backend (the Secret Service on
   Linux), under the service name ``MailSetup/msal-token-cache`` (:data:`SERVICE_NAME`). The
   document is compressed and split into entries of at most :data:`CHUNK_LIMIT_BYTES` bytes
   (counted as UTF-16, how Windows Credential Manager stores them: its limit of 2,560 bytes per
   entry rules out one big entry), plus a ``manifest`` entry naming the current generation of
   chunks and their checksum. Only backends shipped with ``keyring`` itself count (a third-party
   backend may be a plain-text file).
3. **memory only** (``MemoryStorage``): nothing is written; the store says so
   (``persistent`` is False, ``notices()`` holds a ``token-cache.memory-only`` finding for the
   UI), and the next run asks the person to sign in again.

The stored document is JSON: MSAL's serialized cache plus the links from mailbox addresses to
MSAL accounts (a person's sign-in name may differ from the mailbox address, see
:class:`MailboxLink`). Call :meth:`TokenCacheStore.load` before each use of MSAL and
:meth:`TokenCacheStore.save` after it: it writes only when MSAL changed the cache
(``has_state_changed``) or a link changed. Two processes that refresh at the same moment may
overwrite each other's newest refresh token; the loser is asked to sign in again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import sys
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

import msal

from app.core.diagnostics import knowledge
from app.core.errors import Fault, Fixer, SetupError
from app.core.model import Finding
from app.core.texts import Text

__all__ = [
    "CHUNK_LIMIT_BYTES",
    "SERVICE_NAME",
    "CacheStorage",
    "ExtensionsStorage",
    "KeyringStorage",
    "MailboxLink",
    "MemoryStorage",
    "StorageKind",
    "StorageUnavailable",
    "TokenCacheError",
    "TokenCacheStore",
    "default_cache_location",
    "extensions_storage",
    "keyring_storage",
]

#: The keyring service name every entry of the cache is stored under (documented for admins).
SERVICE_NAME: Final = "MailSetup/msal-token-cache"
#: The largest entry written to the keyring, in bytes of UTF-16 (Windows stores it so; the
#: Credential Manager limit is 2,560 bytes).
CHUNK_LIMIT_BYTES: Final = 2000
_CHUNK_CHARS: Final = CHUNK_LIMIT_BYTES // 2  # the chunks are ASCII: 2 bytes per char in UTF-16
MANIFEST_ENTRY: Final = "manifest"
_FORMAT: Final = "mailsetup-token-cache"
_VERSION: Final = 1
_PROBE_ENTRY: Final = "probe"


class StorageKind(StrEnum):
    EXTENSIONS = "msal-extensions"
    KEYRING = "keyring"
    MEMORY = "memory"


class StorageUnavailable(Exception):
    """A storage cannot be used on this computer; the message says why (for the report)."""


class TokenCacheError(SetupError):
    """The storage of the token cache failed while the program was running (the keyring was
    locked, the Secret Service went away, a file could not be written)."""

    default_code = "token-cache.unavailable"
    default_help_topic = "microsoft-sign-in"
    default_fault = Fault.LOCAL_ENVIRONMENT
    default_fixer = Fixer.USER

    def __init__(self, storage: str, reason: str) -> None:
        super().__init__(
            Text("auth.token-cache.failed", {"storage": storage, "reason": reason}),
            checked=Text("auth.check.token-cache"),
            fix=Text("auth.token-cache.failed.fix"),
            detail={"storage": storage},
        )
        self.reason = reason


class CacheStorage(Protocol):
    """Somewhere the cache document (a string) is kept."""

    kind: StorageKind
    description: str  # for reports: "Secret Service (keyring.backends.SecretService.Keyring)"

    def read(self) -> str | None: ...

    def write(self, text: str) -> None: ...

    def delete(self) -> None: ...


# --- memory -----------------------------------------------------------------------------------


class MemoryStorage:
    """Nothing leaves the process: the cache lives as long as the program runs."""

    kind = StorageKind.MEMORY
    description = "memory only"

    def __init__(self) -> None:
        self._text: str | None = None

    def read(self) -> str | None:
        return self._text

    def write(self, text: str) -> None:
        self._text = text

    def delete(self) -> None:
        self._text = None


# --- the keyring, chunked ---------------------------------------------------------------------


def _encode(text: str) -> str:
    """The document as compact ASCII: zlib, then base64."""
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def _decode(blob: str) -> str:
    return zlib.decompress(base64.b64decode(blob.encode("ascii"), validate=True)).decode("utf-8")


def split_chunks(blob: str, limit_chars: int = _CHUNK_CHARS) -> list[str]:
    """``blob`` (ASCII) in pieces of at most ``limit_chars`` characters; at least one piece."""
    return [blob[i : i + limit_chars] for i in range(0, len(blob), limit_chars)] or [""]


class KeyringStorage:
    """The document in the keyring, split into chunks with a manifest (see the module doc).

    Writing puts the chunks of a new generation first, then the manifest that names them, then
    removes the previous generation, so a reader never sees half a document."""

    kind = StorageKind.KEYRING

    def __init__(self, backend: Any, service: str = SERVICE_NAME) -> None:
        self._backend = backend
        self.service = service
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        self.description = f"keyring ({name}), service {service!r}"

    def _chunk_entry(self, generation: str, index: int) -> str:
        return f"chunk-{generation}-{index}"

    def _manifest(self) -> dict[str, Any] | None:
        raw = self._backend.get_password(self.service, MANIFEST_ENTRY)
        if raw is None:
            return None
        try:
            manifest = json.loads(raw)
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
            int(manifest["chunks"])
            str(manifest["generation"])
        except (ValueError, KeyError, TypeError) as exc:
            raise _Damaged(f"the manifest entry is unreadable: {exc}") from exc
        return manifest

    def read(self) -> str | None:
        manifest = self._manifest()
        if manifest is None:
            return None
        generation, count = str(manifest["generation"]), int(manifest["chunks"])
        parts: list[str] = []
        for index in range(count):
            part = self._backend.get_password(self.service, self._chunk_entry(generation, index))
            if part is None:
                raise _Damaged(f"chunk {index + 1} of {count} is missing")
            parts.append(part)
        blob = "".join(parts)
        if hashlib.sha256(blob.encode("ascii", "replace")).hexdigest() != manifest.get("sha256"):
            raise _Damaged("the chunks do not match the manifest's checksum")
        try:
            return _decode(blob)
        except (ValueError, zlib.error, UnicodeDecodeError) as exc:
            raise _Damaged(f"the chunks do not decode: {exc}") from exc

    def write(self, text: str) -> None:
        try:
            previous = self._manifest()
        except _Damaged:
            previous = None
        blob = _encode(text)
        chunks = split_chunks(blob)
        generation = secrets.token_hex(4)
        for index, chunk in enumerate(chunks):
            self._backend.set_password(self.service, self._chunk_entry(generation, index), chunk)
        manifest = {
            "format": _FORMAT,
            "version": _VERSION,
            "generation": generation,
            "chunks": len(chunks),
            "sha256": hashlib.sha256(blob.encode("ascii")).hexdigest(),
        }
        self._backend.set_password(self.service, MANIFEST_ENTRY, json.dumps(manifest))
        if previous is not None:
            self._delete_chunks(str(previous["generation"]), int(previous["chunks"]))

    def _delete_chunks(self, generation: str, count: int) -> None:
        for index in range(count):
            self._forget(self._chunk_entry(generation, index))

    def _forget(self, entry: str) -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):
            self._backend.delete_password(self.service, entry)

    def delete(self) -> None:
        try:
            manifest = self._manifest()
        except _Damaged:
            manifest = None
        if manifest is not None:
            self._delete_chunks(str(manifest["generation"]), int(manifest["chunks"]))
        self._forget(MANIFEST_ENTRY)


class _Damaged(Exception):
    """What is stored cannot be read back (a chunk missing, a checksum wrong)."""


def _trusted_keyring(backend: Any) -> str | None:
    """Why ``backend`` must not hold tokens, or None when it may: only keyring's own
    encrypted backends count (not ``fail``/``null``, not a third-party plain-text file)."""
    module = type(backend).__module__
    name = f"{module}.{type(backend).__name__}"
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return f"no usable keyring backend ({name})"
    if module == "keyring.backends.chainer":
        inner = list(getattr(backend, "backends", []))
        if not inner:
            return "no usable keyring backend (the chainer has none)"
        for each in inner:
            reason = _trusted_keyring(each)
            if reason is not None:
                return reason
        return None
    if not module.startswith("keyring.backends."):
        return f"the keyring backend {name} is not one of keyring's own encrypted stores"
    return None


def keyring_storage(service: str = SERVICE_NAME, backend: Any = None) -> KeyringStorage:
    """The keyring storage over ``backend`` (default: keyring's current one), after checking
    that it is trusted and answers; raises StorageUnavailable otherwise."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:  # pragma: no cover - a dependency of the program
        raise StorageUnavailable(f"the keyring library is missing: {exc}") from exc
    chosen = backend if backend is not None else keyring.get_keyring()
    reason = _trusted_keyring(chosen)
    if reason is not None:
        raise StorageUnavailable(reason)
    storage = KeyringStorage(chosen, service)
    try:
        chosen.get_password(service, _PROBE_ENTRY)
    except (KeyringError, OSError, RuntimeError) as exc:
        raise StorageUnavailable(f"{storage.description} does not answer: {exc}") from exc
    except Exception as exc:  # D-Bus libraries raise their own error types
        raise StorageUnavailable(f"{storage.description} does not answer: {exc!r}") from exc
    return storage


# --- msal-extensions --------------------------------------------------------------------------


class ExtensionsStorage:
    """An msal-extensions persistence (DPAPI, Keychain, libsecret) used as a document store."""

    kind = StorageKind.EXTENSIONS

    def __init__(self, persistence: Any, description: str) -> None:
        self._persistence = persistence
        self.description = description

    def read(self) -> str | None:
        from msal_extensions.persistence import PersistenceNotFound

        try:
            text = self._persistence.load()
        except PersistenceNotFound:
            return None
        return str(text) if text else None

    def write(self, text: str) -> None:
        self._persistence.save(text)

    def delete(self) -> None:
        # msal-extensions cannot delete; an empty document holds nothing
        self._persistence.save("")


def default_cache_location() -> Path:
    """Where msal-extensions keeps its file: the encrypted cache (Windows, DPAPI) or only a
    signal file whose time says when the cache changed (macOS, Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("MailSetup", appauthor=False)) / "msal_token_cache.bin"


def extensions_storage(
    location: Path | None = None, platform: str = sys.platform
) -> ExtensionsStorage:
    """The msal-extensions storage for ``platform``; raises StorageUnavailable where its
    backend does not work (Linux without PyGObject or without a Secret Service)."""
    path = location or default_cache_location()
    try:
        from msal_extensions import persistence as ext
    except ImportError as exc:
        raise StorageUnavailable(f"msal-extensions is missing: {exc}") from exc
    try:
        if platform.startswith("win"):
            storage = ExtensionsStorage(
                ext.FilePersistenceWithDataProtection(str(path)), f"DPAPI-encrypted file {path}"
            )
        elif platform.startswith("darwin"):
            keychain = ext.KeychainPersistence(
                str(path), service_name="MailSetup", account_name="msal-token-cache"
            )
            storage = ExtensionsStorage(keychain, "macOS Keychain (service MailSetup)")
        elif platform.startswith("linux"):
            libsecret = ext.LibsecretPersistence(
                str(path),
                schema_name="MailSetup.msal-token-cache",
                attributes={"application": "MailSetup", "purpose": "msal-token-cache"},
            )
            storage = ExtensionsStorage(libsecret, "Secret Service through libsecret")
        else:
            raise StorageUnavailable(f"msal-extensions has no encrypted storage for {platform}")
        path.parent.mkdir(parents=True, exist_ok=True)
    except StorageUnavailable:
        raise
    except Exception as exc:  # ImportError (no PyGObject), RuntimeError (no Secret Service),
        # OSError or AttributeError (another platform's system library), ...
        raise StorageUnavailable(f"msal-extensions cannot be used: {_reason(exc)}") from exc
    return storage


# --- the store --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxLink:
    """Which MSAL account signs in for a mailbox. ``username`` is the sign-in name (UPN, MSAL's
    ``preferred_username``), which may differ from ``address``; ``authority`` the authority the
    sign-in used (silent refreshes use it again); ``needs_sign_in`` is set when a refresh was
    refused (password changed, token expired): the account shows "sign in again"."""

    address: str
    home_account_id: str
    username: str
    authority: str
    tenant_id: str | None = None
    needs_sign_in: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MailboxLink:
        return cls(
            address=str(data["address"]),
            home_account_id=str(data["home_account_id"]),
            username=str(data["username"]),
            authority=str(data["authority"]),
            tenant_id=None if data.get("tenant_id") is None else str(data["tenant_id"]),
            needs_sign_in=bool(data.get("needs_sign_in", False)),
        )


StorageFactory = Callable[[], CacheStorage]


def _mailbox_key(address: str) -> str:
    return address.strip().lower()


class TokenCacheStore:
    """MSAL's token cache and the mailbox links, loaded from and saved to one storage.

    ``cache`` is the ``msal.SerializableTokenCache`` to give MSAL. Thread-safe: one lock
    guards load, save and the links."""

    def __init__(self, storage: CacheStorage, *, tried: Sequence[str] = ()) -> None:
        self.storage: CacheStorage = storage
        self.cache = msal.SerializableTokenCache()
        #: why each storage tried before this one could not be used
        self.tried: tuple[str, ...] = tuple(tried)
        self._links: dict[str, MailboxLink] = {}
        self._links_changed = False
        self._notices: list[Finding] = []
        self._lock = threading.RLock()
        if storage.kind is StorageKind.MEMORY:
            self._notices.append(_memory_only_finding(self.tried))

    @classmethod
    def open(
        cls,
        *,
        candidates: Sequence[StorageFactory] | None = None,
        location: Path | None = None,
        service: str = SERVICE_NAME,
    ) -> TokenCacheStore:
        """The store on the first storage that works: msal-extensions, then the keyring, then
        memory only (``candidates`` replaces the first two, for tests and special setups)."""
        factories: Sequence[StorageFactory] = (
            candidates
            if candidates is not None
            else (lambda: extensions_storage(location), lambda: keyring_storage(service))
        )
        tried: list[str] = []
        for factory in factories:
            try:
                storage = factory()
            except StorageUnavailable as exc:
                tried.append(str(exc))
                continue
            return cls(storage, tried=tried)
        return cls(MemoryStorage(), tried=tried)

    # -- what the UI shows ---------------------------------------------------------------------

    @property
    def persistent(self) -> bool:
        """False when sign-ins are kept in memory only (lost when the program ends)."""
        return self.storage.kind is not StorageKind.MEMORY

    def notices(self) -> tuple[Finding, ...]:
        """Findings about the storage itself: memory only, a damaged cache that was reset, a
        storage that failed and was replaced by memory."""
        with self._lock:
            return tuple(self._notices)

    # -- load and save -------------------------------------------------------------------------

    def load(self) -> None:
        """Replace the in-memory cache and links with what the storage holds. A damaged
        document counts as empty (a ``token-cache.damaged`` notice). Raises TokenCacheError
        when the storage fails."""
        with self._lock:
            try:
                text = self.storage.read()
            except _Damaged as exc:
                self._notices.append(_damaged_finding(self.storage.description, str(exc)))
                text = None
            except Exception as exc:
                raise TokenCacheError(self.storage.description, _reason(exc)) from exc
            msal_state: str | None = None
            links: dict[str, MailboxLink] = {}
            if text:
                try:
                    msal_state, links = _parse_document(text)
                except (ValueError, KeyError, TypeError) as exc:
                    self._notices.append(_damaged_finding(self.storage.description, str(exc)))
            self.cache.deserialize(msal_state)
            self._links = links
            self._links_changed = False

    def save(self) -> bool:
        """Write the cache if MSAL changed it or a link changed; True if written. When the
        storage fails, the store keeps working in memory (a notice says so) and raises
        TokenCacheError once."""
        with self._lock:
            if not (self.cache.has_state_changed or self._links_changed):
                return False
            text = self._document()
            empty = not self._links and not _has_credentials(self.cache)
            try:
                if empty:
                    self.storage.delete()
                else:
                    self.storage.write(text)
            except Exception as exc:
                failed = self.storage.description
                self.storage = MemoryStorage()
                self.storage.write(text)
                self._notices.append(_memory_only_finding((f"{failed}: {_reason(exc)}",)))
                raise TokenCacheError(failed, _reason(exc)) from exc
            self.cache.has_state_changed = False
            self._links_changed = False
            return True

    def clear(self) -> None:
        """Forget every sign-in: the storage's entries are deleted."""
        with self._lock:
            self.cache.deserialize(None)
            self._links = {}
            try:
                self.storage.delete()
            except Exception as exc:
                raise TokenCacheError(self.storage.description, _reason(exc)) from exc
            self.cache.has_state_changed = False
            self._links_changed = False

    def _document(self) -> str:
        document = {
            "format": _FORMAT,
            "version": _VERSION,
            "msal": json.loads(self.cache.serialize() or "{}"),
            "mailboxes": {key: asdict(link) for key, link in sorted(self._links.items())},
        }
        return json.dumps(document, separators=(",", ":"), sort_keys=True)

    # -- mailbox links -------------------------------------------------------------------------

    def links(self) -> tuple[MailboxLink, ...]:
        with self._lock:
            return tuple(self._links[key] for key in sorted(self._links))

    def link_for(self, address: str) -> MailboxLink | None:
        with self._lock:
            return self._links.get(_mailbox_key(address))

    def set_link(self, link: MailboxLink) -> None:
        with self._lock:
            key = _mailbox_key(link.address)
            if self._links.get(key) != link:
                self._links[key] = link
                self._links_changed = True

    def mark_needs_sign_in(self, address: str, needs: bool = True) -> None:
        with self._lock:
            link = self._links.get(_mailbox_key(address))
            if link is not None and link.needs_sign_in != needs:
                self._links[_mailbox_key(address)] = replace(link, needs_sign_in=needs)
                self._links_changed = True

    def remove_link(self, address: str) -> MailboxLink | None:
        with self._lock:
            link = self._links.pop(_mailbox_key(address), None)
            if link is not None:
                self._links_changed = True
            return link


def _parse_document(text: str) -> tuple[str | None, dict[str, MailboxLink]]:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError("not a Mail Setup token cache")
    if int(data.get("version", 0)) > _VERSION:
        raise ValueError(f"written by a newer version (format {data.get('version')})")
    state = data.get("msal") or {}
    links = {
        _mailbox_key(key): MailboxLink.from_dict(value)
        for key, value in dict(data.get("mailboxes") or {}).items()
    }
    return (json.dumps(state) if state else None), links


def _has_credentials(cache: msal.SerializableTokenCache) -> bool:
    """Whether MSAL's cache still holds an account or a token (AppMetadata alone is not)."""
    state = json.loads(cache.serialize() or "{}")
    kinds = ("AccessToken", "RefreshToken", "IdToken", "Account")
    return any(state.get(kind) for kind in kinds)


def _reason(exc: BaseException) -> str:
    """The exception's kind and the first line of its message."""
    text = (str(exc).strip().splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _memory_only_finding(tried: Sequence[str]) -> Finding:
    reasons = "; ".join(tried) or "no storage was tried"
    return knowledge.finding(
        "token-cache.memory-only",
        checked=Text("auth.check.token-cache"),
        params={"reasons": reasons},
        detail={"tried": reasons},
    )


def _damaged_finding(storage: str, reason: str) -> Finding:
    return knowledge.finding(
        "token-cache.damaged",
        checked=Text("auth.check.token-cache"),
        params={"storage": storage},
        detail={"storage": storage, "reason": reason},
    )
