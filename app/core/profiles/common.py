"""What every client exporter shares: the account to export, the exported file, and the rules
for sign-in names and Microsoft accounts.

The exporters (``mobileconfig``, ``thunderbird``, ``outlook_prf``, ``outlook_reg``,
``clientconfig_export``, ``json_export``, ``settings_sheet``, ``new_outlook``) are pure: each
takes an :class:`ExportAccount` and returns an :class:`Export` (bytes, a suggested file name,
findings and step-by-step instructions as :class:`~app.core.texts.Text`), or raises
:class:`ExportNotPossible` when the format cannot hold this account (a ``.prf`` for Microsoft
365, whose mailboxes classic Outlook must open as Exchange accounts). Writing files is the
caller's business (``app/cli/export.py``).

A password goes into an export only when the person asked for it: :attr:`ExportAccount.password`
is None otherwise, and every exporter that writes one adds the ``export.password-included``
warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from app.core.checks.base import Secret
from app.core.errors import Fixer, InvalidSettingError
from app.core.model import AccountConfig, AuthKind, EmailAddress, Endpoint, Finding, Outcome
from app.core.texts import Text

__all__ = [
    "MICROSOFT_PROVIDERS",
    "Export",
    "ExportAccount",
    "ExportNotPossible",
    "MicrosoftKind",
    "finding",
    "password_included",
]

#: Provider ids (the built-in catalog's) whose mailboxes live in Exchange Online.
MICROSOFT_PROVIDERS: Final = frozenset({"microsoft365", "outlook"})
ICLOUD: Final = "icloud"


class MicrosoftKind(StrEnum):
    """Which Microsoft service an account belongs to, if any."""

    WORK = "microsoft365"  # Microsoft 365: work or school
    PERSONAL = "outlook"  # Outlook.com, Hotmail, Live


@dataclass(frozen=True, kw_only=True)
class ExportAccount:
    """One account to write into a client.

    ``config`` holds the servers with the sign-in names verification proved (an endpoint's
    ``username`` None means "not known": formats that can ask, ask). ``dav_username`` is the
    calendar and contacts sign-in name when it differs from the mail one (iCloud: the Apple
    Account address). ``password`` is set only when the person asked for it to be written
    into the file.
    """

    address: EmailAddress
    config: AccountConfig
    display_name: str | None = None
    dav_username: str | None = None
    password: Secret | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("display_name", "dav_username"):
            value = getattr(self, name)
            if value is not None:
                value = " ".join(str(value).split())
                object.__setattr__(self, name, value or None)

    @property
    def email(self) -> str:
        """The address as people write it (Unicode domain)."""
        return str(self.address)

    @property
    def microsoft(self) -> MicrosoftKind | None:
        """Microsoft 365 or Outlook.com (by provider id, else by Microsoft sign-in), or None."""
        provider = self.config.provider_id
        if provider in MICROSOFT_PROVIDERS:
            return MicrosoftKind(provider)
        if self.config.auth in (AuthKind.OAUTH2_MICROSOFT, AuthKind.EXCHANGE_HYBRID):
            return MicrosoftKind.WORK
        return None

    @property
    def is_icloud(self) -> bool:
        return self.config.provider_id == ICLOUD

    @property
    def uses_oauth(self) -> bool:
        return self.config.auth.is_oauth

    @property
    def name_or_address(self) -> str:
        """What to show as the sender's name: the display name, else the address."""
        return self.display_name or self.email

    @property
    def account_label(self) -> str:
        """A short label for the account in a client's account list."""
        if self.config.provider_name:
            return f"{self.config.provider_name} ({self.email})"
        return self.email

    def login(self, endpoint: Endpoint | None) -> str | None:
        """The sign-in name for ``endpoint`` as proven, or None when it is not known."""
        return None if endpoint is None else endpoint.username

    def login_or_address(self, endpoint: Endpoint | None) -> str:
        """The sign-in name for ``endpoint``, or the address when it is not known (formats
        that need a value; :meth:`assumed_logins` says where that happened)."""
        return self.login(endpoint) or self.email

    def assumed_logins(self) -> tuple[Endpoint, ...]:
        """The mail servers whose sign-in name is not known."""
        return tuple(
            endpoint
            for endpoint in (self.config.incoming, self.config.outgoing)
            if endpoint is not None and endpoint.username is None
        )

    @property
    def dav_login(self) -> str | None:
        """The calendar and contacts sign-in name: the one given; for iCloud the full iCloud
        address the mail server uses (the Apple Account, unless told otherwise), None when
        that is not known either; else the mail sign-in name, else the address."""
        if self.dav_username:
            return self.dav_username
        if self.is_icloud:
            for endpoint in (self.config.outgoing, self.config.incoming):
                if endpoint is not None and endpoint.username and "@" in endpoint.username:
                    return endpoint.username
            return None
        return self.config.incoming.username or self.email

    @property
    def has_dav(self) -> bool:
        return bool(self.config.caldav or self.config.carddav)


@dataclass(frozen=True)
class Export:
    """One exported file: ``content`` to write, a ``file_name`` to suggest, its
    ``media_type``, the ``findings`` the person should see (a password in the file, a
    sign-in name assumed) and ``instructions``: the steps to finish in the client."""

    format: str
    content: bytes
    file_name: str
    media_type: str
    findings: tuple[Finding, ...] = ()
    instructions: tuple[Text, ...] = ()


class ExportNotPossible(InvalidSettingError):
    """This format cannot hold this account (a ``.prf`` for Microsoft 365, a ``.reg`` for an
    IMAP provider); ``message`` says why and which format to use instead."""

    default_code = "export.not-possible"
    default_help_topic = "export"

    def __init__(self, export_format: str, message: Text) -> None:
        super().__init__(
            "--format",
            message,
            fix=Text("export.not-possible.fix"),
            checked=Text("export.check", {"format": export_format}),
            detail={"format": export_format},
        )


def finding(
    code: str,
    export_format: str,
    cause: Text,
    *,
    outcome: Outcome = Outcome.INFO,
    fix: Text | None = None,
    fixer: Fixer = Fixer.NOBODY,
    detail: dict[str, str | int] | None = None,
) -> Finding:
    """A finding about an export (``export.<what>``)."""
    return Finding(
        code=code,
        checked=Text("export.check", {"format": export_format}),
        outcome=outcome,
        cause=cause,
        fix=fix,
        fixer=fixer,
        help_topic="export",
        detail=detail or {"format": export_format},
    )


def password_included(export_format: str) -> Finding:
    """The warning every export that holds a password carries."""
    return finding(
        "export.password-included",
        export_format,
        Text("export.password-included.cause"),
        outcome=Outcome.WARNING,
        fix=Text("export.password-included.fix"),
        fixer=Fixer.USER,
    )


def assumed_login_findings(account: ExportAccount, export_format: str) -> tuple[Finding, ...]:
    """Warnings for each mail server whose sign-in name the export had to assume."""
    return tuple(
        finding(
            "export.username-assumed",
            export_format,
            Text(
                "export.username-assumed.cause",
                {"server": endpoint.host, "value": account.email},
            ),
            outcome=Outcome.WARNING,
            fix=Text("export.username-assumed.fix"),
            fixer=Fixer.USER,
            detail={"format": export_format, "host": endpoint.host},
        )
        for endpoint in account.assumed_logins()
    )


def safe_file_stem(account: ExportAccount) -> str:
    """A file name stem from the address that every system accepts."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-+")
    text = account.address.ascii if account.address.ascii.isascii() else account.email
    stem = "".join(ch if ch in allowed or not ch.isascii() else "_" for ch in text)
    return stem.strip(".") or "account"


def one_line(value: str) -> str:
    """``value`` without line breaks or control characters (for line-based formats)."""
    return "".join(ch if ch.isprintable() else " " for ch in value).strip()


def join_texts(*groups: Sequence[Text]) -> tuple[Text, ...]:
    """Several lists of instructions as one."""
    return tuple(text for group in groups for text in group)
