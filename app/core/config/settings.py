"""The typed settings other parts of the program read, and how a configuration reports where its
values came from and what it warned about."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.core.config.values import AccountTypes
from app.core.net.options import DEFAULT_ISPDB_URL
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

DEFAULT_REDIRECT_URI = "https://login.microsoftonline.com/common/oauth2/nativeclient"
DEFAULT_SCOPES: tuple[str, ...] = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
)
DEFAULT_ACCOUNT_TYPES: AccountTypes = "organizations"


@dataclass(frozen=True)
class MicrosoftSettings:
    """The application registration the Microsoft sign-in uses (``[microsoft]``).

    ``client_id`` None: no registration is configured (the sign-in is not available).
    ``authority`` set: MSAL uses it as given, with instance discovery off; otherwise the
    authority follows from ``account_types``, ``tenant`` and detection. ``allowed_hosts``: extra
    host names the sign-in window may show (``*.example.com`` stands for names under it).
    The defaults equal ``resources/config/defaults.toml`` (a test checks it).
    """

    client_id: str | None = None
    authority: str | None = None
    account_types: AccountTypes = DEFAULT_ACCOUNT_TYPES
    redirect_uri: str = DEFAULT_REDIRECT_URI
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    allowed_hosts: tuple[str, ...] = ()
    tenant: str | None = None

    @property
    def accepts_personal_accounts(self) -> bool:
        """True when the registration accepts personal Microsoft accounts (Outlook.com)."""
        return self.account_types in ("common", "consumers")

    @property
    def accepts_work_accounts(self) -> bool:
        """True when the registration accepts work or school accounts."""
        return self.account_types != "consumers"


@dataclass(frozen=True)
class NetworkSettings:
    """``[network]``: extra trusted CA certificates (PEM files, absolute paths); the ISPDB's
    base URL (None: the ISPDB is not asked, ``ispdb_url = "none"``); the proxy (None: the
    system's settings; ``"direct"``: none at all; else a proxy URL)."""

    ca_bundle: tuple[Path, ...] = ()
    ispdb_url: str | None = DEFAULT_ISPDB_URL
    proxy: str | None = None

    @property
    def ispdb_enabled(self) -> bool:
        """False when the organisation turned the ISPDB source off."""
        return self.ispdb_url is not None


class LayerKind(StrEnum):
    """Where a layer of configuration comes from, lowest first."""

    DEFAULTS = "defaults"  # resources/config/defaults.toml
    PUBLISHER = "publisher"  # resources/config/publisher.toml, written by the build
    USER = "user"  # the user's config.toml
    ENVIRONMENT = "environment"  # the file named by MAILSETUP_CONFIG
    MACHINE = "machine"  # the organisation's machine-wide file
    POLICY = "policy"  # Windows policy registry values, macOS managed preferences
    OVERRIDE = "override"  # Config.override(): a switch or a setting saved by the user

    @property
    def is_administrative(self) -> bool:
        """True for layers only the publisher or an administrator can write: their values
        stand even for locked keys."""
        return self in (
            LayerKind.DEFAULTS,
            LayerKind.PUBLISHER,
            LayerKind.MACHINE,
            LayerKind.POLICY,
        )

    @property
    def may_lock(self) -> bool:
        """True for the machine-wide layers, whose ``locked`` list counts."""
        return self in (LayerKind.MACHINE, LayerKind.POLICY)


@dataclass(frozen=True)
class ConfigSource:
    """One layer that was read: its kind and its location (a file path, or a name such as
    ``--client-id`` for an override). ``path`` is the file, when it is one."""

    kind: LayerKind
    location: str
    path: Path | None = None

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.location}"


@dataclass(frozen=True)
class ConfigWarning:
    """Something in a configuration that was ignored, not fatal.

    ``code``: ``config.unknown-key``, ``config.locked-ignored``, ``config.newer-schema``,
    ``config.locked-misplaced``, ``config.locked-unknown``, ``config.provider-unknown`` or
    ``config.locked-option-ignored`` (a command-line value of a locked key). ``key`` is the
    dotted key (None when the warning is about the whole file), ``source`` the file,
    ``suggestion`` the known key (or provider id) an unknown one was probably meant to be.
    ``str()`` is the English message.
    """

    code: str
    source: str
    message: Text
    key: str | None = None
    suggestion: str | None = None

    def render(self, language: Language = DEFAULT_LANGUAGE) -> str:
        return render(self.message, language)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)
