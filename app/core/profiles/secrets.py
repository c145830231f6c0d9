"""An account's secrets: passwords and app-specific passwords in the operating system's keyring,
never in a file; and forgetting all of them (OAuth tokens included) when an account is removed.

The keyring is the ``keyring`` library's backend: Windows Credential Manager, the macOS
Keychain, the Secret Service (GNOME Keyring, KWallet) on Linux. Each secret is one entry:

- service name :data:`SERVICE_NAME` (``MailSetup``);
- user name ``<address>|<purpose>`` (:func:`entry_name`), the address in its lookup form
  (:func:`app.core.profiles.store.account_key`: lower case, Unicode domain), the purpose
  ``account`` for the password every server of the account signs in with, or a protocol
  (``imap``, ``pop3``, ``smtp``, ``caldav``, ``carddav``) for a server whose password differs.

OAuth tokens are not here: they stay in the Microsoft sign-in's token cache
(:mod:`app.core.auth.token_cache`); :func:`forget` signs the account out there too.

Only keyring's own backends count as a keyring. Its ``fail`` and ``null`` backends (no keyring
on this computer), and any third-party backend (``keyrings.alt``'s ``PlaintextKeyring`` writes
a plain file), are refused: :func:`keyring_status` says why, and :func:`store_secret` raises
:class:`KeyringUnavailable`, so the UI can offer to go on without saving the secret. There is
no fallback to a file, ever. Reading or removing a secret without a usable keyring raises the
same class with the code ``keyring.unreachable``. :class:`KeyringFailed` is a keyring that
exists but failed during the operation (locked, the unlock prompt dismissed, the Secret Service
gone).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from app.core.checks.base import Secret
from app.core.diagnostics import knowledge
from app.core.errors import SetupError
from app.core.model import Finding
from app.core.profiles.store import AccountStore, ProfilesError, SavedAccount, account_key
from app.core.texts import Text

__all__ = [
    "SERVICE_NAME",
    "Forgotten",
    "KeyringFailed",
    "KeyringStatus",
    "KeyringUnavailable",
    "Removal",
    "SecretPurpose",
    "delete_secret",
    "delete_secrets",
    "entry_name",
    "forget",
    "keyring_status",
    "load_secret",
    "remove_accounts",
    "store_secret",
]

#: The keyring service name of every secret the program saves (documented for admins).
SERVICE_NAME: Final = "MailSetup"
_PROBE_ENTRY: Final = "probe|keyring"
#: The longest secret saved, in characters (Windows Credential Manager keeps 2,560 bytes of
#: UTF-16; passwords and app passwords are far shorter).
MAX_SECRET_CHARS: Final = 1024


class SecretPurpose(StrEnum):
    """What a keyring entry of an account is for. The values are part of the entries' names;
    never change them."""

    ACCOUNT = "account"  # the password or app password of the whole account
    IMAP = "imap"  # a server whose password differs from the account's
    POP3 = "pop3"
    SMTP = "smtp"
    CALDAV = "caldav"
    CARDDAV = "carddav"


def entry_name(address: str, purpose: SecretPurpose | str = SecretPurpose.ACCOUNT) -> str:
    """The keyring user name of a secret: ``taro@example.com|account``."""
    return f"{account_key(address)}|{SecretPurpose(purpose).value}"


# --- errors -----------------------------------------------------------------------------------


class KeyringUnavailable(ProfilesError):
    """No usable keyring on this computer; ``reason`` says why (technical, English)."""

    def __init__(self, finding: Finding, reason: str) -> None:
        super().__init__(finding)
        self.reason = reason


class KeyringFailed(ProfilesError):
    """The keyring exists but failed during the operation; ``reason`` says how."""

    def __init__(self, finding: Finding, reason: str) -> None:
        super().__init__(finding)
        self.reason = reason


def _check() -> Text:
    return Text("profiles.check.keyring")


def _unavailable(reason: str, *, saving: bool = True) -> KeyringUnavailable:
    """``keyring.unavailable`` when saving (offer to go on without), ``keyring.unreachable``
    when a saved secret must be read or removed."""
    code = "keyring.unavailable" if saving else "keyring.unreachable"
    finding = knowledge.finding(
        code, checked=_check(), params={"reason": reason}, detail={"reason": reason}
    )
    return KeyringUnavailable(finding, reason)


def _failed(backend: str, exc: BaseException) -> KeyringFailed:
    reason = _reason(exc)
    finding = knowledge.finding(
        "keyring.failed",
        checked=_check(),
        params={"backend": backend, "reason": reason},
        detail={"backend": backend, "reason": reason},
    )
    return KeyringFailed(finding, reason)


def _reason(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- which keyring ----------------------------------------------------------------------------


def _name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _refusal(backend: Any) -> str | None:
    """Why ``backend`` may not hold secrets, or None: only keyring's own encrypted stores."""
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return f"no keyring backend is available ({_name(backend)})"
    if module == "keyring.backends.chainer":
        inner = list(getattr(backend, "backends", []))
        if not inner:
            return "no keyring backend is available (the chainer has none)"
        for each in inner:
            reason = _refusal(each)
            if reason is not None:
                return reason
        return None
    if not module.startswith("keyring.backends."):
        return f"{_name(backend)} is not one of keyring's own encrypted stores"
    return None


@dataclass(frozen=True)
class KeyringStatus:
    """Whether secrets can be saved on this computer. ``backend``: the keyring backend's class;
    ``reason``: why not (technical, English), None when usable."""

    usable: bool
    backend: str
    reason: str | None = None

    def finding(self) -> Finding | None:
        """The ``keyring.unavailable`` finding to show, None when the keyring is usable."""
        return None if self.reason is None else _unavailable(self.reason).finding

    def to_dict(self) -> dict[str, object]:
        return {"usable": self.usable, "backend": self.backend, "reason": self.reason}


def _backend(backend: Any = None, *, saving: bool = False) -> Any:
    """The usable backend (``backend`` or keyring's current one); KeyringUnavailable if none."""
    import keyring

    chosen = backend if backend is not None else keyring.get_keyring()
    reason = _refusal(chosen)
    if reason is not None:
        raise _unavailable(reason, saving=saving)
    return chosen


def keyring_status(backend: Any = None) -> KeyringStatus:
    """Whether the keyring (``backend``, default keyring's current one) can hold secrets: it
    must be trusted and answer a lookup (which may ask the person to unlock it)."""
    try:
        chosen = _backend(backend)
    except KeyringUnavailable as exc:
        import keyring

        shown = backend if backend is not None else keyring.get_keyring()
        return KeyringStatus(False, _name(shown), exc.reason)
    try:
        chosen.get_password(SERVICE_NAME, _PROBE_ENTRY)
    except Exception as exc:  # keyring's errors, OSError, the D-Bus libraries' own types
        reason = f"{_name(chosen)} does not answer: {_reason(exc)}"
        return KeyringStatus(False, _name(chosen), reason)
    return KeyringStatus(True, _name(chosen))


# --- secrets ----------------------------------------------------------------------------------


def store_secret(
    address: str,
    secret: Secret,
    purpose: SecretPurpose | str = SecretPurpose.ACCOUNT,
    *,
    backend: Any = None,
) -> None:
    """Save ``secret`` for ``address`` in the keyring, replacing any saved before.

    KeyringUnavailable when there is no usable keyring (nothing is written anywhere; offer to
    go on without saving), KeyringFailed when the keyring refused."""
    if not isinstance(secret, Secret):
        raise TypeError("store_secret takes a Secret")
    if len(secret.reveal()) > MAX_SECRET_CHARS:
        raise ValueError(f"a secret of more than {MAX_SECRET_CHARS} characters is not saved")
    name = entry_name(address, purpose)
    chosen = _backend(backend, saving=True)
    try:
        chosen.set_password(SERVICE_NAME, name, secret.reveal())
    except Exception as exc:  # keyring's errors, OSError, D-Bus errors
        raise _failed(_name(chosen), exc) from exc


def load_secret(
    address: str, purpose: SecretPurpose | str = SecretPurpose.ACCOUNT, *, backend: Any = None
) -> Secret | None:
    """The secret saved for ``address``, or None when there is none. KeyringUnavailable (code
    ``keyring.unreachable``) when there is no usable keyring, KeyringFailed when it failed."""
    name = entry_name(address, purpose)
    chosen = _backend(backend)
    try:
        value = chosen.get_password(SERVICE_NAME, name)
    except Exception as exc:
        raise _failed(_name(chosen), exc) from exc
    return Secret(value) if value else None


def delete_secret(
    address: str, purpose: SecretPurpose | str = SecretPurpose.ACCOUNT, *, backend: Any = None
) -> bool:
    """Remove the secret saved for ``address``; False if there was none. Raises as
    :func:`load_secret`."""
    from keyring.errors import PasswordDeleteError

    name = entry_name(address, purpose)
    chosen = _backend(backend)
    try:
        if chosen.get_password(SERVICE_NAME, name) is None:
            return False
        chosen.delete_password(SERVICE_NAME, name)
    except PasswordDeleteError:
        return False
    except Exception as exc:
        raise _failed(_name(chosen), exc) from exc
    return True


def delete_secrets(
    address: str,
    purposes: Iterable[SecretPurpose | str] = tuple(SecretPurpose),
    *,
    backend: Any = None,
) -> tuple[SecretPurpose, ...]:
    """Remove every secret of ``address`` (all purposes by default); the ones that were there."""
    chosen = _backend(backend)
    deleted: list[SecretPurpose] = []
    for purpose in dict.fromkeys(SecretPurpose(p) for p in purposes):
        if delete_secret(address, purpose, backend=chosen):
            deleted.append(purpose)
    return tuple(deleted)


# --- forgetting an account --------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    """What :func:`forget` removed: the keyring entries (purposes) and whether an OAuth sign-in
    was forgotten. ``keyring_skipped``: no keyring is usable and the account recorded no
    secret, so there was nothing to remove there."""

    secrets: tuple[SecretPurpose, ...]
    signed_out: bool
    keyring_skipped: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "secrets_deleted": [p.value for p in self.secrets],
            "signed_out": self.signed_out,
            "keyring_skipped": self.keyring_skipped,
        }


@dataclass(frozen=True)
class Removal:
    """What removing every saved account did: the accounts removed (with what was forgotten)
    and those kept, with the reason."""

    removed: tuple[tuple[str, Forgotten], ...]
    kept: tuple[tuple[str, SetupError], ...]


async def remove_accounts(
    store: AccountStore,
    accounts: Sequence[SavedAccount],
    forget_one: Callable[[SavedAccount], Awaitable[Forgotten]],
) -> Removal:
    """Remove ``accounts`` from ``store``, each only after ``forget_one`` (normally
    :func:`forget`) removed its secrets: an account whose secrets cannot be removed is kept and
    the next one is tried; a problem with the accounts file itself stops at once (no other
    removal could work either)."""
    removed: list[tuple[str, Forgotten]] = []
    kept: list[tuple[str, SetupError]] = []
    for account in accounts:
        try:
            forgotten = await forget_one(account)
        except SetupError as error:  # the keyring or the token cache: this one is kept
            kept.append((account.address, error))
            continue
        try:
            await asyncio.to_thread(store.remove, account.address)
        except ProfilesError as error:
            kept.append((account.address, error))
            break
        removed.append((account.address, forgotten))
    return Removal(tuple(removed), tuple(kept))


async def forget(
    account: SavedAccount,
    *,
    sign_out: Callable[[str], Awaitable[bool]] | None = None,
    backend: Any = None,
) -> Forgotten:
    """Remove every secret of ``account`` before the account itself is removed: all its keyring
    entries (every purpose, not only the recorded ones) and, through ``sign_out`` (normally
    :meth:`app.core.auth.microsoft.MicrosoftSignIn.sign_out`), its OAuth tokens.

    Raises KeyringUnavailable when the account recorded a saved secret but no keyring is usable
    (removing the account then would leave the secret behind, unreachable), KeyringFailed when
    the keyring failed; the sign-out's own errors pass through. Call it first and remove the
    saved account only when it succeeded."""
    skipped = False
    try:  # (the keyring's calls block: off the caller's event loop)
        deleted = await asyncio.to_thread(delete_secrets, account.address, backend=backend)
    except KeyringUnavailable:
        if account.secrets:
            raise
        deleted, skipped = (), True
    signed_out = False
    if sign_out is not None:
        signed_out = await sign_out(account.address)
    return Forgotten(secrets=deleted, signed_out=signed_out, keyring_skipped=skipped)
