"""Classic Outlook's mail accounts, read from the registry (read only, never a password).

Classic Outlook (Office 2013 and later) keeps each MAPI profile under
``HKCU\\Software\\Microsoft\\Office\\<ver>\\Outlook\\Profiles\\<profile>``; the profile's
account manager lists its accounts as numbered subkeys (eight hex digits, ``00000001``) of
``9375CFF0413111d3B88A00104B2A6676``. :func:`outlook_accounts` reads them through a
:class:`~app.core.clients.windows.HiveRegistry` (the real registry on Windows, recorded dumps
in tests) and returns one :class:`OutlookAccount` per mail account. Office 16.0 (2016, 2019,
2021, 2024, Microsoft 365 Apps) and 15.0 (2013) are read; Outlook 2010 and older kept their
profiles under ``Windows Messaging Subsystem\\Profiles`` and are not read.

What an account subkey holds, and where that is known from (the registry layout itself is not
documented by Microsoft; the names are those of the Account Management API's properties):

- ``clsid`` (REG_SZ, a braced GUID): the account's class, one of the Account Management API's
  class identifiers (Microsoft, "Constants (Account management API)", office-developer-client-docs
  ``docs/outlook/auxiliary/constants-account-management-api.md``): CLSID_OlkPOP3Account
  ``{ED475411-...}``, CLSID_OlkIMAP4Account ``{ED475412-...}``, CLSID_OlkMAPIAccount
  ``{ED475414-...}`` (a wrapper around a MAPI service: Exchange, but also data files and address
  books), CLSID_OlkHotmailAccount ``{4DB5CBF0-...}``. A MAPI wrapper is an Exchange account when
  its ``Service Name`` is ``MSEMS``; ``MSUPST MS``/``MSPST MS`` are data files, ``CONTAB``,
  ``EMABLT``, ``MSPST AB`` address books. That the class and the service name are stored under
  these value names is taken from public code that reads real profiles (code corpus: a C#
  ``ProfileAccountEntries`` class noting values measured on Outlook 16.0.17932, and a
  PowerShell collector's tests); not verified on a Windows machine here.
- ``Account Name``, ``Email``; ``IMAP Server``, ``IMAP Port``, ``IMAP User``, ``IMAP Use SSL``;
  ``POP3 Server``, ``POP3 Port``, ``POP3 User``, ``POP3 Use SSL``; ``SMTP Server``,
  ``SMTP Port``, ``SMTP User``, ``SMTP Use SSL``, ``SMTP Secure Connection``,
  ``SMTP Use Auth``: the value names public readers of these keys use
  (bertjohnson/OpaqueMail ``OpaqueMail.ProxySettings/Form1.cs`` reads the servers, ports and
  ``* Use SSL``; a PowerShell backup tool in the code corpus reads ``Email``, ``IMAP User``,
  ``SMTP Use Auth``, ``SMTP Secure Connection`` and notes it checked them against a real dump).
  ``IMAP Secure Connection``/``POP3 Secure Connection`` are read when present (seen only in that
  one tool: unverified).
- Text values are REG_BINARY holding UTF-16LE with a terminating NUL (OpaqueMail decodes them
  with ``Encoding.Unicode`` and drops the NULs); some writers and, by one public measurement,
  Outlook 16.0 itself for POP3 accounts, store REG_SZ instead: both are read.
- Numbers are REG_DWORD. ``* Secure Connection`` uses the constants of PROP_SMTP_SECURE_CONNECTION
  (Microsoft: ``prop_smtp_secure_connection.md`` and the constants page): 0 no encryption,
  1 SSL (implicit TLS, port 465/993/995), 2 TLS (STARTTLS), 3 automatic. That the registry value
  carries the property's constants is inferred (a public sample writes 1 together with port 465
  and implicit TLS); that IMAP/POP3 use the same constants is unverified. Without a
  ``* Secure Connection`` value, ``* Use SSL`` 1 means implicit TLS, 0 none.
- ``IMAP Password``, ``POP3 Password``, ``SMTP Password``, ``EAS Password``, ``HTTP Password``
  (and the ``...Password2`` forms): DPAPI-encrypted blobs. They are never decoded nor kept: only
  whether one is there (``password_saved``).
- Exchange ActiveSync accounts (Outlook.com in Outlook 2013/2016) carry ``EAS Server URL`` and
  ``EAS User`` (public code that creates such accounts, with ``clsid`` ``{ED475415-...}``:
  unverified against Outlook itself).

Absent values stay None: nothing here invents Outlook's defaults (which port an account without
``IMAP Port`` uses is not known here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Final, Literal
from urllib.parse import urlsplit

from app.core.clients.windows import HiveRegistry
from app.core.config.policy_windows import RegistryKey, RegistryValue

__all__ = [
    "ACCOUNT_MANAGER_KEY",
    "OFFICE_VERSIONS",
    "AccountKind",
    "OutlookAccount",
    "OutlookSecurity",
    "outlook_accounts",
    "profiles_key",
]

#: The Office versions whose profiles are read, newest first.
OFFICE_VERSIONS: Final = ("16.0", "15.0")
#: The subkey of a profile that lists its accounts.
ACCOUNT_MANAGER_KEY: Final = "9375CFF0413111d3B88A00104B2A6676"

AccountKind = Literal["imap", "pop3", "exchange", "eas"]
#: ``tls`` implicit TLS, ``starttls``, ``plain`` none, ``auto`` Outlook chooses (may be none).
OutlookSecurity = Literal["tls", "starttls", "plain", "auto"]

_ACCOUNT_SUBKEY_RE: Final = re.compile(r"^[0-9A-Fa-f]{8}$")
#: The encrypted password blobs; any other value named "...password..." is skipped too.
_PASSWORD_BLOB_RE: Final = re.compile(
    r"^(imap|pop3|smtp|eas|http|httpmail|nntp) password2?$", re.IGNORECASE
)

_CLSID_POP3: Final = "{ED475411-B0D6-11D2-8C3B-00104B2A6676}"
_CLSID_IMAP4: Final = "{ED475412-B0D6-11D2-8C3B-00104B2A6676}"
_CLSID_MAPI: Final = "{ED475414-B0D6-11D2-8C3B-00104B2A6676}"
#: CLSID_OlkHotmailAccount (Microsoft), and the class public code writes for EAS (unverified).
_CLSIDS_EAS: Final = frozenset(
    {"{4DB5CBF0-3B77-4852-BC8E-BB81908861F3}", "{ED475415-B0D6-11D2-8C3B-00104B2A6676}"}
)
_EXCHANGE_SERVICE: Final = "MSEMS"

#: PROP_SMTP_SECURE_CONNECTION's constants (ENCRYPT_CONN_NO_SECURITY, _SSL, _TLS, _AUTO).
_SECURE_CONNECTION: Final[Mapping[int, OutlookSecurity]] = {
    0: "plain",
    1: "tls",
    2: "starttls",
    3: "auto",
}


def profiles_key(version: str) -> str:
    """``HKCU\\Software\\Microsoft\\Office\\<version>\\Outlook\\Profiles``."""
    return f"HKCU\\Software\\Microsoft\\Office\\{version}\\Outlook\\Profiles"


@dataclass(frozen=True)
class OutlookAccount:
    """One mail account of a classic Outlook profile, as its registry key describes it.

    ``incoming_*`` are the IMAP or POP3 server (for ``eas`` the ActiveSync host; None for
    ``exchange``, whose servers come from Autodiscover), ``smtp_*`` the outgoing server. Every
    field the key does not hold is None. ``password_saved``: a password blob is stored (it is
    never read)."""

    profile: str
    account_name: str | None
    email: str | None
    kind: AccountKind
    incoming_host: str | None = None
    incoming_port: int | None = None
    incoming_security: OutlookSecurity | None = None
    incoming_user: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: OutlookSecurity | None = None
    smtp_auth: bool | None = None
    smtp_user: str | None = None
    password_saved: bool = False
    office_version: str = "16.0"
    key: str = ""

    def to_dict(self) -> dict[str, object]:
        """The JSON shape (a helpdesk report's ``outlook`` entries)."""
        return asdict(self)


# --- reading values ---------------------------------------------------------------------------


def _text(value: RegistryValue | None) -> str | None:
    """A REG_BINARY UTF-16LE string (up to its NUL) or a REG_SZ one; None when empty."""
    if value is None:
        return None
    data = value.data
    if isinstance(data, bytes):
        usable = data[: len(data) - len(data) % 2]
        text = usable.decode("utf-16-le", errors="replace")
    elif isinstance(data, str):
        text = data
    else:
        return None
    text = text.split("\x00", 1)[0].strip()
    return text or None


def _number(value: RegistryValue | None) -> int | None:
    """A REG_DWORD (or four little-endian bytes, or digits in a string)."""
    if value is None:
        return None
    data = value.data
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return data
    if isinstance(data, bytes) and len(data) == 4:
        return int.from_bytes(data, "little")
    if isinstance(data, str) and data.strip().isdigit():
        return int(data.strip())
    return None


def _security(values: Mapping[str, RegistryValue], prefix: str) -> OutlookSecurity | None:
    secure = _number(values.get(f"{prefix} secure connection"))
    if secure is not None and secure in _SECURE_CONNECTION:
        return _SECURE_CONNECTION[secure]
    use_ssl = _number(values.get(f"{prefix} use ssl"))
    if use_ssl is None:
        return None
    return "tls" if use_ssl else "plain"


def _address_shaped(text: str | None) -> bool:
    if text is None:
        return False
    local, at, domain = text.partition("@")
    return bool(local and at and domain) and " " not in text


def _kind(values: Mapping[str, RegistryValue]) -> AccountKind | None:
    """What the subkey is: a mail account of one of the kinds, or None (a data file, an
    address book, an LDAP directory, something unknown)."""
    clsid = (_text(values.get("clsid")) or "").upper()
    if clsid == _CLSID_MAPI:
        service = (_text(values.get("service name")) or "").upper()
        return "exchange" if service == _EXCHANGE_SERVICE else None
    if clsid == _CLSID_IMAP4:
        return "imap"
    if clsid == _CLSID_POP3:
        return "pop3"
    if clsid in _CLSIDS_EAS:
        return "eas"
    if clsid:
        return None  # LDAP (CLSID_OlkLDAPAccount) and classes not known here
    # No class recorded: judge by the servers it names.
    if "imap server" in values:
        return "imap"
    if "pop3 server" in values:
        return "pop3"
    if "eas server url" in values:
        return "eas"
    return None


def _account(profile: str, version: str, name: str, key: RegistryKey) -> OutlookAccount | None:
    values: dict[str, RegistryValue] = {}
    password_saved = False
    for value in key.values:
        if "password" in value.name.lower():
            # An encrypted blob: only whether it is there. The data is not looked at again.
            if _PASSWORD_BLOB_RE.match(value.name) and value.data:
                password_saved = True
            continue
        values[value.name.lower()] = value
    kind = _kind(values)
    if kind is None:
        return None

    def text(field: str) -> str | None:
        return _text(values.get(field))

    account_name = text("account name")
    email = text("email")
    if email is None and _address_shaped(account_name):
        # Exchange entries carry no Email value (measured in public code); their Account Name
        # is the mailbox address. Outlook also names IMAP/POP accounts after the address.
        email = account_name
    base = OutlookAccount(
        profile=profile,
        account_name=account_name,
        email=email,
        kind=kind,
        password_saved=password_saved,
        office_version=version,
        key=name,
    )
    if kind == "exchange":
        return base
    if kind == "eas":
        url = text("eas server url")
        parts = urlsplit(url if url and "//" in url else f"//{url or ''}")
        return replace(
            base,
            incoming_host=parts.hostname,
            incoming_security="tls" if parts.scheme.lower() == "https" else None,
            incoming_user=text("eas user"),
        )
    prefix = "imap" if kind == "imap" else "pop3"
    smtp_auth = _number(values.get("smtp use auth"))
    return replace(
        base,
        incoming_host=text(f"{prefix} server"),
        incoming_port=_number(values.get(f"{prefix} port")),
        incoming_security=_security(values, prefix),
        incoming_user=text(f"{prefix} user") or text(f"{prefix} user name"),
        smtp_host=text("smtp server"),
        smtp_port=_number(values.get("smtp port")),
        smtp_security=_security(values, "smtp"),
        smtp_auth=None if smtp_auth is None else bool(smtp_auth),
        smtp_user=text("smtp user") or text("smtp user name"),
    )


# --- walking the profiles ---------------------------------------------------------------------


def _read(registry: HiveRegistry, path: str) -> RegistryKey | None:
    try:
        return registry.read_key(path)
    except OSError:
        return None  # there, but not readable by this user: nothing to report from it


def _account_keys(registry: HiveRegistry, version: str) -> Iterator[tuple[str, str, RegistryKey]]:
    root = profiles_key(version)
    profiles = _read(registry, root)
    if profiles is None:
        return
    for profile in profiles.subkeys:
        manager_path = f"{root}\\{profile}\\{ACCOUNT_MANAGER_KEY}"
        manager = _read(registry, manager_path)
        if manager is None:
            continue
        for name in sorted(manager.subkeys, key=str.lower):
            if not _ACCOUNT_SUBKEY_RE.match(name):
                continue
            key = _read(registry, f"{manager_path}\\{name}")
            if key is not None:
                yield profile, name, key


def outlook_accounts(registry: HiveRegistry) -> list[OutlookAccount]:
    """Every mail account of every classic Outlook profile of the current user (Office 16.0,
    then 15.0), in the order of the profiles and of the account subkeys. Data files, address
    books and directories are left out; keys this user cannot read are skipped."""
    found: list[OutlookAccount] = []
    for version in OFFICE_VERSIONS:
        for profile, name, key in _account_keys(registry, version):
            account = _account(profile, version, name, key)
            if account is not None:
                found.append(account)
    return found
