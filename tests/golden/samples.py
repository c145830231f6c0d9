"""The sample accounts every export test uses, and how golden files are compared.

- ``icloud()``: taro@icloud.com from the built-in catalog, calendars and contacts signed in with
  an Apple Account address that differs from the mail address;
- ``imap_password()``: an IMAP provider with a normal password, its own calendar and contacts
  server and a Japanese display name;
- ``microsoft365()``: a Microsoft 365 mailbox (OAuth) from the catalog; ``outlook_com()``:
  Outlook.com; ``pop_starttls()``: a POP provider with STARTTLS.

Golden files live next to this module. ``MAILSETUP_UPDATE_GOLDEN=1`` rewrites them from the
current output instead of comparing (then review the diff before committing).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.core.checks.base import Secret
from app.core.discovery.catalog import default_catalog
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.profiles.common import ExportAccount

GOLDEN = Path(__file__).resolve().parent
SENTINEL = "sentinel-S3cret-Pa55-7f3a"
APPLE_ACCOUNT = "taro.apple@example.jp"
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def _catalog_account(provider: str, address: str) -> AccountConfig:
    entry = default_catalog().get(provider)
    assert entry is not None, provider
    parsed = EmailAddress.parse(address)
    return entry.account_configs(parsed, Provenance("catalog", Trust.HIGH, over_https=False))[0]


def icloud(password: str | None = None) -> ExportAccount:
    return ExportAccount(
        address=EmailAddress.parse("taro@icloud.com"),
        config=_catalog_account("icloud", "taro@icloud.com"),
        display_name="山田 太郎",
        dav_username=APPLE_ACCOUNT,
        password=Secret(password) if password else None,
    )


def imap_password(password: str | None = None) -> ExportAccount:
    config = AccountConfig(
        incoming=Endpoint(Protocol.IMAP, "mail.example.jp", 993, Security.TLS, "hanako@example.jp"),
        outgoing=Endpoint(Protocol.SMTP, "mail.example.jp", 465, Security.TLS, "hanako@example.jp"),
        caldav="https://dav.example.jp/caldav/",
        carddav="https://dav.example.jp/carddav/",
        auth=AuthKind.PASSWORD,
        provenance=Provenance("manual", Trust.HIGH, over_https=False),
    )
    return ExportAccount(
        address=EmailAddress.parse("hanako@example.jp"),
        config=config,
        display_name="佐藤 花子",
        password=Secret(password) if password else None,
    )


def microsoft365(password: str | None = None) -> ExportAccount:
    address = "taro@contoso.onmicrosoft.com"
    return ExportAccount(
        address=EmailAddress.parse(address),
        config=_catalog_account("microsoft365", address),
        display_name="Taro Yamada",
        password=Secret(password) if password else None,
    )


def outlook_com(password: str | None = None) -> ExportAccount:
    address = "jiro@outlook.jp"
    return ExportAccount(
        address=EmailAddress.parse(address),
        config=_catalog_account("outlook", address),
        password=Secret(password) if password else None,
    )


def pop_starttls(password: str | None = None) -> ExportAccount:
    config = AccountConfig(
        incoming=Endpoint(Protocol.POP3, "pop.example.test", 110, Security.STARTTLS, "ichiro"),
        outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS, "ichiro"),
        auth=AuthKind.PASSWORD,
        provenance=Provenance("manual", Trust.HIGH, over_https=False),
    )
    return ExportAccount(
        address=EmailAddress.parse("ichiro@example.test"),
        config=config,
        password=Secret(password) if password else None,
    )


SAMPLES = {
    "icloud": icloud,
    "imap-password": imap_password,
    "microsoft365": microsoft365,
}
ALL_SAMPLES = {**SAMPLES, "outlook-com": outlook_com, "pop-starttls": pop_starttls}


def normalise(text: str) -> str:
    """The volatile parts of an export made comparable: every UUID. Line ends become LF (the
    CRLF of .prf and .reg files is checked by the tests of those formats)."""
    return _UUID.sub("00000000-0000-0000-0000-000000000000", text).replace("\r\n", "\n")


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` (normalised) with the golden file ``name``; with
    MAILSETUP_UPDATE_GOLDEN=1 write it instead."""
    path = GOLDEN / name
    actual = normalise(text)
    if os.environ.get("MAILSETUP_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run with MAILSETUP_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file (see the diff above)"
