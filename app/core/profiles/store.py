"""The saved accounts: one JSON file in the user's configuration folder, never holding a secret.

Where: ``accounts.json`` next to the user's ``config.toml`` (platformdirs, app name
``MailSetup``): ``%APPDATA%\\MailSetup`` on Windows, ``~/Library/Application Support/MailSetup``
on macOS, ``$XDG_CONFIG_HOME/MailSetup`` (``~/.config/MailSetup``) elsewhere. Passwords live in
the keyring (:mod:`app.core.profiles.secrets`), OAuth tokens in the token cache
(:mod:`app.core.auth.token_cache`); an account only records *which* keyring entries it has.

The document::

    {"format": "mailsetup-accounts", "schema": 1, "accounts": [SavedAccount.to_dict(), ...]}

Safety:

- **Atomic writes.** A new version is written to a temporary file in the same folder, flushed
  to disk (``fsync``), renamed over the old one (``os.replace``), and the folder itself is
  flushed where the system allows it. A crash or a kill at any moment leaves the old file or the
  new one, never a mixture; the temporary file a killed writer left behind is removed by the
  next writer.
- **One writer at a time.** Every change reads, changes and writes the file while holding a lock
  on ``accounts.json.lock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), waiting
  at most ``lock_timeout`` seconds (:class:`AccountsBusy` after that), so two processes saving
  different accounts at the same moment both end up in the file. Readers need no lock.
- **Nothing overwritten silently.** A file that cannot be read (not JSON, wrong types, not this
  program's) is renamed to ``accounts.json.broken-<UTC time>`` and reported as an
  ``accounts.file-unreadable`` finding (:meth:`AccountStore.notices`); the store then starts
  empty. A file written by a newer version of the program (a higher schema) is left exactly as
  it is and neither read nor changed (:class:`AccountsFileNewer`): renaming it would make that
  newer version lose every account.
- **Older schemas** are brought up to date on reading by the functions in :data:`MIGRATIONS`
  (version ``n`` to ``n + 1``); the file is rewritten in the current schema at the next change.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from app.core.diagnostics import knowledge
from app.core.errors import ErrorOptions, Fault, SetupError
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Finding,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.texts import ParamValue, Text

if TYPE_CHECKING:
    from app.core.checks.runner import VerifyResult

__all__ = [
    "FILE_NAME",
    "FORMAT",
    "LOCK_TIMEOUT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AccountDataError",
    "AccountState",
    "AccountStore",
    "AccountsBusy",
    "AccountsFileNewer",
    "AccountsWriteFailed",
    "ProfilesError",
    "SavedAccount",
    "account_key",
    "default_accounts_path",
    "state_after",
    "upgrade",
    "write_atomically",
]

FORMAT: Final = "mailsetup-accounts"
#: The schema this program writes. Raise it (and add a migration) when the shape changes.
SCHEMA_VERSION: Final = 1
FILE_NAME: Final = "accounts.json"
#: The longest a change waits for another process to finish its own, in seconds.
LOCK_TIMEOUT: Final = 10.0
#: A larger file is not this program's (a few hundred accounts take a few hundred kilobytes).
MAX_FILE_BYTES: Final = 16 * 1024 * 1024

_PURPOSE: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TEMP_SUFFIX: Final = ".tmp"


class AccountState(StrEnum):
    """How the account fared at its last check. The values appear in JSON; never change them."""

    VERIFIED = "verified"  # every server answered and the sign-in worked
    NEEDS_SIGN_IN = "needs-sign-in"  # the saved sign-in expired or was revoked: sign in again
    FAILING = "failing"  # a check failed (wrong password, server down, ...): see the findings
    UNVERIFIED = "unverified"  # never checked, or checked without signing in


def account_key(address: str) -> str:
    """The form an address is looked up by: parsed (InvalidAddressError if malformed), Unicode
    domain, all in lower case, so ``Taro@Example.COM`` and ``taro@example.com`` are one
    account."""
    parsed = EmailAddress.parse(address)
    return f"{parsed.local}@{parsed.domain}".lower()


def default_accounts_path() -> Path:
    """``accounts.json`` in the user's configuration folder (next to ``config.toml``)."""
    from app.core.config.paths import user_config_path

    return user_config_path().parent / FILE_NAME


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


# --- errors -----------------------------------------------------------------------------------


class ProfilesError(SetupError):
    """A failure of saving accounts or secrets, explained by a knowledge-catalog ``finding``.
    Every one is this computer's problem (exit code 6 in the CLI)."""

    default_code = "accounts.failed"
    default_help_topic = "saved-accounts"
    default_fault = Fault.LOCAL_ENVIRONMENT

    def __init__(self, finding: Finding) -> None:
        options: ErrorOptions = {
            "code": finding.code,
            "help_topic": finding.help_topic or self.default_help_topic,
            "fixer": finding.fixer,
            "cause": finding.cause,
            "checked": finding.checked,
            "detail": finding.detail,
        }
        if finding.fix is not None:
            options["fix"] = finding.fix
        super().__init__(finding.title or finding.cause, **options)
        self.finding = finding

    def to_finding(self, checked: Text | None = None) -> Finding:
        return self.finding if checked is None else replace(self.finding, checked=checked)


class AccountsBusy(ProfilesError):
    """Another process held the accounts file's lock for longer than the wait allows."""


class AccountsFileNewer(ProfilesError):
    """The accounts file was written by a newer version of the program; it is left alone."""


class AccountsWriteFailed(ProfilesError):
    """The accounts file could not be written (no space, no permission, ...); the old file
    is unchanged."""


class AccountDataError(ValueError):
    """A saved account (or the document) does not have the expected shape; says what."""


def _finding(
    code: str, params: Mapping[str, ParamValue], detail: Mapping[str, str | int]
) -> Finding:
    return knowledge.finding(
        code, checked=Text("profiles.check.accounts-file"), params=params, detail=detail
    )


# --- one saved account ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SavedAccount:
    """An account as saved: its settings and what is known about it, never a secret.

    ``config``: the servers with their user names, calendar and contacts URLs and the kind of
    sign-in (its ``hints`` are not kept: they are advice for setting up). ``dav_username``: the
    calendar and contacts sign-in name when it differs from the mail one (iCloud: the Apple
    Account). ``client``: the mail app the settings were written into (``thunderbird``,
    ``outlook``...). ``secrets``: the keyring entries saved for it (purposes of
    :mod:`app.core.profiles.secrets`: ``account``, or a protocol whose password differs).
    ``state``, ``checked_at`` and ``findings`` (finding codes): the last check.
    ``created_at`` and ``updated_at`` are kept by the store.
    """

    address: str
    config: AccountConfig
    display_name: str | None = None
    dav_username: str | None = None
    client: str | None = None
    secrets: tuple[str, ...] = ()
    state: AccountState = AccountState.UNVERIFIED
    checked_at: dt.datetime | None = None
    findings: tuple[str, ...] = ()
    created_at: dt.datetime = field(default_factory=_now)
    updated_at: dt.datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", str(EmailAddress.parse(self.address)))
        if self.config.hints:
            object.__setattr__(self, "config", replace(self.config, hints=()))
        object.__setattr__(self, "state", AccountState(self.state))
        for name in ("display_name", "dav_username", "client"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise AccountDataError(f"{name} must be a non-empty string or null")
        secrets = tuple(dict.fromkeys(self.secrets))
        for purpose in secrets:
            if not isinstance(purpose, str) or not _PURPOSE.match(purpose):
                raise AccountDataError(f"{purpose!r} is not a keyring entry's purpose")
        object.__setattr__(self, "secrets", secrets)
        findings = tuple(dict.fromkeys(self.findings))
        for code in findings:
            if not isinstance(code, str) or not code:
                raise AccountDataError(f"{code!r} is not a finding code")
        object.__setattr__(self, "findings", findings)
        for name in ("checked_at", "created_at", "updated_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _utc(value))

    @property
    def key(self) -> str:
        """The lookup form of the address (:func:`account_key`)."""
        return account_key(self.address)

    @property
    def provider_id(self) -> str | None:
        return self.config.provider_id

    @property
    def provider_name(self) -> str | None:
        return self.config.provider_name

    @property
    def auth(self) -> AuthKind:
        return self.config.auth

    def to_dict(self) -> dict[str, object]:
        """The JSON shape, in the file and in ``mailsetup accounts ... --json``."""
        config = self.config
        provider = None
        if config.provider_id is not None or config.provider_name is not None:
            provider = {"id": config.provider_id, "name": config.provider_name}
        return {
            "address": self.address,
            "display_name": self.display_name,
            "provider": provider,
            "settings": {
                "incoming": config.incoming.to_dict(),
                "outgoing": None if config.outgoing is None else config.outgoing.to_dict(),
                "caldav": config.caldav,
                "carddav": config.carddav,
                "auth": config.auth.value,
                "provenance": config.provenance.to_dict(),
            },
            "dav_username": self.dav_username,
            "client": self.client,
            "secrets": list(self.secrets),
            "state": self.state.value,
            "checked_at": _iso(self.checked_at),
            "findings": list(self.findings),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SavedAccount:
        """The account of :meth:`to_dict`'s shape; AccountDataError (a ValueError) saying what
        is wrong otherwise. Unknown keys are ignored."""
        if not isinstance(data, Mapping):
            raise AccountDataError("an account must be an object")
        try:
            settings = _mapping(data, "settings")
            provider = data.get("provider")
            if provider is not None and not isinstance(provider, Mapping):
                raise AccountDataError("provider must be an object or null")
            outgoing = settings.get("outgoing")
            config = AccountConfig(
                incoming=_endpoint(_mapping(settings, "incoming")),
                outgoing=None if outgoing is None else _endpoint(_as_mapping(outgoing, "outgoing")),
                caldav=_opt_str(settings, "caldav"),
                carddav=_opt_str(settings, "carddav"),
                auth=AuthKind(_str(settings, "auth")),
                provenance=_provenance(_mapping(settings, "provenance")),
                provider_id=None if provider is None else _opt_str(provider, "id"),
                provider_name=None if provider is None else _opt_str(provider, "name"),
            )
            return cls(
                address=_str(data, "address"),
                config=config,
                display_name=_opt_str(data, "display_name"),
                dav_username=_opt_str(data, "dav_username"),
                client=_opt_str(data, "client"),
                secrets=_str_tuple(data, "secrets"),
                state=AccountState(_str(data, "state")),
                checked_at=_opt_time(data, "checked_at"),
                findings=_str_tuple(data, "findings"),
                created_at=_time(data, "created_at"),
                updated_at=_time(data, "updated_at"),
            )
        except AccountDataError:
            raise
        except (ValueError, TypeError, KeyError) as exc:  # enums, Endpoint, AccountConfig, dates
            raise AccountDataError(f"account {data.get('address')!r}: {exc}") from exc


def _utc(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise AccountDataError(f"{moment!r} is not a date and time")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _as_mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AccountDataError(f"{name} must be an object")
    return value


def _mapping(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    if name not in data:
        raise AccountDataError(f"{name} is missing")
    return _as_mapping(data[name], name)


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise AccountDataError(f"{name} must be a non-empty string")
    return value


def _opt_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AccountDataError(f"{name} must be a string or null")
    return value


def _str_tuple(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AccountDataError(f"{name} must be a list of strings")
    return tuple(value)


def _time(data: Mapping[str, Any], name: str) -> dt.datetime:
    moment = _opt_time(data, name)
    if moment is None:
        raise AccountDataError(f"{name} is missing")
    return moment


def _opt_time(data: Mapping[str, Any], name: str) -> dt.datetime | None:
    value = _opt_str(data, name)
    if value is None:
        return None
    try:
        return _utc(dt.datetime.fromisoformat(value))
    except ValueError as exc:
        raise AccountDataError(f"{name} {value!r} is not an ISO 8601 time") from exc


def _endpoint(data: Mapping[str, Any]) -> Endpoint:
    port = data.get("port")
    if isinstance(port, bool) or not isinstance(port, int):
        raise AccountDataError("a server's port must be a number")
    return Endpoint(
        protocol=Protocol(_str(data, "protocol")),
        host=_str(data, "host"),
        port=port,
        security=Security(_str(data, "security")),
        username=_opt_str(data, "username"),
    )


def _provenance(data: Mapping[str, Any]) -> Provenance:
    over_https = data.get("over_https")
    if not isinstance(over_https, bool):
        raise AccountDataError("provenance.over_https must be true or false")
    return Provenance(
        source=_str(data, "source"),
        trust=Trust(_str(data, "trust")),
        over_https=over_https,
        url=_opt_str(data, "url"),
        detail=_opt_str(data, "detail"),
    )


# --- the state after a check ------------------------------------------------------------------


def state_after(
    result: VerifyResult, *, sign_in_expected: bool = True
) -> tuple[AccountState, tuple[str, ...]]:
    """The state a verification leaves an account in, and the codes of its problems.

    Every check passed and signed in: VERIFIED. Every check passed but some did not sign in
    (no password was at hand; ``sign_in_expected`` False for an account without sign-in):
    UNVERIFIED, as nothing proved the credentials. Any check failed: FAILING. ("Needs sign-in
    again" comes from the Microsoft sign-in itself, before any check runs.)"""
    codes: list[str] = []
    for check in result.checks:
        for found in (check.finding, *check.findings):
            if found is not None and found.outcome.is_problem:
                codes.append(found.code)
    codes.extend(f.code for f in result.findings if f.outcome.is_problem)
    unique = tuple(dict.fromkeys(codes))
    if not result.checks:
        return AccountState.UNVERIFIED, unique
    if not result.ok:
        return AccountState.FAILING, unique
    if sign_in_expected and not all(check.authenticated for check in result.checks):
        return AccountState.UNVERIFIED, unique
    return AccountState.VERIFIED, unique


# --- the document -----------------------------------------------------------------------------

#: Upgrades of the document, by the version they upgrade FROM: ``MIGRATIONS[n]`` turns a schema
#: ``n`` document into a schema ``n + 1`` one (a new dict; the ``schema`` key set to n + 1).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upgrade(
    document: dict[str, Any],
    *,
    migrations: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
    current: int | None = None,
) -> dict[str, Any]:
    """``document`` brought to schema ``current`` (default :data:`SCHEMA_VERSION`) by
    ``migrations`` (default :data:`MIGRATIONS`), one version at a time. AccountDataError when
    a step is missing or does not advance the version; a newer document is returned unchanged
    (the caller refuses it)."""
    steps = MIGRATIONS if migrations is None else migrations
    target = SCHEMA_VERSION if current is None else current
    version = document.get("schema")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise AccountDataError(f"the schema version {version!r} is not a positive number")
    while version < target:
        step = steps.get(version)
        if step is None:
            raise AccountDataError(f"no migration from schema {version}")
        document = step(dict(document))
        if document.get("schema") != version + 1:
            raise AccountDataError(
                f"the migration from schema {version} did not reach {version + 1}"
            )
        version += 1
    return document


@dataclass(frozen=True)
class _Loaded:
    """What reading the file found: the accounts (by key, in file order), or why not."""

    accounts: dict[str, SavedAccount]
    broken: str | None = None  # why the file cannot be read
    newer: int | None = None  # the schema of a file from a newer program
    exists: bool = True


def _parse(raw: bytes) -> _Loaded:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _Loaded({}, broken=f"not JSON: {exc}")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return _Loaded({}, broken="not a Mail Setup accounts file")
    version = document.get("schema")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        return _Loaded({}, newer=version)
    try:
        document = upgrade(document)
        items = document.get("accounts")
        if not isinstance(items, list):
            raise AccountDataError("accounts must be a list")
        accounts: dict[str, SavedAccount] = {}
        for item in items:
            account = SavedAccount.from_dict(item)
            if account.key in accounts:
                raise AccountDataError(f"{account.address} is saved twice")
            accounts[account.key] = account
    except (AccountDataError, ValueError) as exc:  # InvalidAddressError is a ValueError
        return _Loaded({}, broken=str(exc))
    return _Loaded(accounts)


def _document(accounts: Iterable[SavedAccount]) -> bytes:
    document = {
        "format": FORMAT,
        "schema": SCHEMA_VERSION,
        "accounts": [account.to_dict() for account in accounts],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- writing ----------------------------------------------------------------------------------


def _write_bytes(fd: int, data: bytes) -> None:
    """All of ``data`` to the file descriptor (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Windows cannot open a folder for this: skipped."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace(source: str, target: Path) -> None:
    """``os.replace``; on Windows a reader holding the file open makes it fail for a moment,
    so it is retried for up to a second."""
    for attempt in range(20):
        try:
            Path(source).replace(target)
            return
        except PermissionError:
            if sys.platform != "win32" or attempt == 19:
                raise
            time.sleep(0.05)


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` as the new content of ``path``: temporary file in the same folder, fsync,
    rename over ``path``, fsync of the folder. The temporary file is private (0600)."""
    folder = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=folder)
    try:
        try:
            _write_bytes(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        _replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    _fsync_folder(folder)


# --- the lock ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(lock_path: Path, timeout: float) -> Iterator[None]:
    """Hold the exclusive lock on ``lock_path``, waiting at most ``timeout`` seconds
    (AccountsBusy after that). The lock file itself is never deleted: deleting it would let
    two writers lock two different files."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        pause = 0.005
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise AccountsBusy(
                    _finding(
                        "accounts.busy",
                        {"path": str(lock_path), "seconds": round(timeout, 1)},
                        {"lock": str(lock_path)},
                    )
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# --- the store --------------------------------------------------------------------------------


class AccountStore:
    """The saved accounts in ``path`` (default :func:`default_accounts_path`), read fresh on
    every call, so several windows and processes see each other's changes.

    Problems met on the way (a file kept aside) are collected in :meth:`notices`. Raises
    AccountsFileNewer when the file belongs to a newer program, AccountsBusy when another
    process keeps the lock too long, AccountsWriteFailed when the file cannot be written."""

    def __init__(
        self, path: Path | str | None = None, *, lock_timeout: float = LOCK_TIMEOUT
    ) -> None:
        self.path = Path(path) if path is not None else default_accounts_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout
        self._notices: builtins.list[Finding] = []
        self._guard = threading.Lock()

    # -- reading -------------------------------------------------------------------------------

    def list(self) -> builtins.list[SavedAccount]:
        """Every saved account, in the order they were first saved."""
        return builtins.list(self._accounts().values())

    def get(self, address: str) -> SavedAccount | None:
        """The account saved for ``address`` (any case), or None."""
        return self._accounts().get(account_key(address))

    def notices(self) -> tuple[Finding, ...]:
        """Findings about the file itself (``accounts.file-unreadable``), oldest first."""
        with self._guard:
            return tuple(self._notices)

    # -- changing ------------------------------------------------------------------------------

    def save(self, account: SavedAccount) -> SavedAccount:
        """Add ``account`` or replace the one saved for its address. ``created_at`` stays that
        of the first save, ``updated_at`` becomes now. Returns what was saved."""
        with self._changing() as accounts:
            previous = accounts.get(account.key)
            created = previous.created_at if previous is not None else account.created_at
            saved = replace(account, created_at=created, updated_at=_now())
            accounts[account.key] = saved
            return saved

    def remove(self, address: str) -> bool:
        """Forget the account of ``address``; False if there was none (nothing is written)."""
        key = account_key(address)
        with self._changing() as accounts:
            return accounts.pop(key, None) is not None

    def update_state(
        self,
        address: str,
        state: AccountState,
        findings: Iterable[str | Finding] = (),
        *,
        checked_at: dt.datetime | None = None,
    ) -> SavedAccount | None:
        """Record a check: ``state``, the codes of ``findings`` and the time (now by default).
        Returns the updated account, or None when no account is saved for ``address``."""
        key = account_key(address)
        codes = tuple(f.code if isinstance(f, Finding) else f for f in findings)
        with self._changing() as accounts:
            current = accounts.get(key)
            if current is None:
                return None
            now = _now()
            updated = replace(
                current,
                state=AccountState(state),
                findings=codes,
                checked_at=checked_at or now,
                updated_at=now,
            )
            accounts[key] = updated
            return updated

    # -- the machinery -------------------------------------------------------------------------

    def _read(self) -> _Loaded:
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return _Loaded({}, exists=False)
        except IsADirectoryError:
            return _Loaded({}, broken="it is a folder")
        if len(raw) > MAX_FILE_BYTES:
            return _Loaded({}, broken=f"larger than {MAX_FILE_BYTES} bytes")
        return _parse(raw)

    def _usable(self, loaded: _Loaded) -> dict[str, SavedAccount]:
        """The accounts of a readable file; refuses a newer one."""
        if loaded.newer is not None:
            raise AccountsFileNewer(
                _finding(
                    "accounts.file-newer",
                    {"path": str(self.path), "version": loaded.newer},
                    {"path": str(self.path), "schema": loaded.newer},
                )
            )
        return loaded.accounts

    def _accounts(self) -> dict[str, SavedAccount]:
        loaded = self._read()
        if loaded.broken is None:
            return self._usable(loaded)
        # Set it aside under the lock, after reading again: another process may have just
        # replaced it with a good file, or set it aside already.
        with self._lock():
            loaded = self._read()
            if loaded.broken is not None:
                self._keep_aside(loaded.broken)
                return {}
            return self._usable(loaded)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self._make_folder()
        with _locked(self.lock_path, self.lock_timeout):
            yield

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, SavedAccount]]:
        """Under the lock: the current accounts to change in place; written back when the
        block ends without an exception (and only if something changed)."""
        with self._lock():
            loaded = self._read()
            if loaded.broken is not None:
                self._keep_aside(loaded.broken)
                loaded = _Loaded({}, exists=False)
            accounts = self._usable(loaded)
            before = dict(accounts)
            yield accounts
            if accounts != before:
                self._clean_temporaries()
                try:
                    write_atomically(self.path, _document(accounts.values()))
                except OSError as exc:
                    raise AccountsWriteFailed(
                        _finding(
                            "accounts.write-failed",
                            {"path": str(self.path), "reason": _reason(exc)},
                            {"path": str(self.path)},
                        )
                    ) from exc

    def _make_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise AccountsWriteFailed(
                _finding(
                    "accounts.write-failed",
                    {"path": str(self.path), "reason": _reason(exc)},
                    {"path": str(self.path)},
                )
            ) from exc

    def _clean_temporaries(self) -> None:
        """Remove what killed writers left (only the lock holder writes temporary files)."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*{_TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _keep_aside(self, reason: str) -> None:
        stamp = _now().strftime("%Y%m%dT%H%M%SZ")
        kept = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        number = 1
        while kept.exists():
            kept = self.path.with_name(f"{self.path.name}.broken-{stamp}-{number}")
            number += 1
        try:
            self.path.replace(kept)
        except OSError as exc:
            raise AccountsWriteFailed(
                _finding(
                    "accounts.write-failed",
                    {"path": str(self.path), "reason": _reason(exc)},
                    {"path": str(self.path)},
                )
            ) from exc
        _fsync_folder(self.path.parent)
        finding = _finding(
            "accounts.file-unreadable",
            {"path": str(self.path), "kept": str(kept), "reason": reason},
            {"path": str(self.path), "kept": str(kept), "reason": reason},
        )
        with self._guard:
            self._notices.append(finding)


def _reason(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
