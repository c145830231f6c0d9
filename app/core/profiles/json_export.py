"""The account's settings as JSON, for scripts and other programs.

The document (``format`` and ``version`` let a reader check what it got)::

    {
      "format": "mailsetup-account-export", "version": 1,
      "address": "taro@example.jp", "display_name": "山田 太郎",
      "provider": {"id": "icloud", "name": "iCloud Mail"} | null,
      "auth": "password" | "app-password" | "oauth2-microsoft" | ...,
      "incoming": {"protocol", "host", "port", "security", "username"},
      "outgoing": {...} | null,
      "caldav": {"url", "username"} | null, "carddav": {"url", "username"} | null,
      "password_included": false
    }

``password`` is present only when the person asked for it (and then a warning says so).
Non-ASCII text is written as is (UTF-8).
"""

from __future__ import annotations

import json
from typing import Final

from app.core.model import Finding
from app.core.profiles.common import (
    Export,
    ExportAccount,
    password_included,
    safe_file_stem,
)
from app.core.texts import Text

__all__ = ["DOCUMENT_FORMAT", "DOCUMENT_VERSION", "FORMAT", "account_document", "json_export"]

FORMAT: Final = "json"
DOCUMENT_FORMAT: Final = "mailsetup-account-export"
DOCUMENT_VERSION: Final = 1


def account_document(account: ExportAccount) -> dict[str, object]:
    """The JSON-ready document (see the module docstring)."""
    config = account.config
    provider = None
    if config.provider_id is not None or config.provider_name is not None:
        provider = {"id": config.provider_id, "name": config.provider_name}

    def dav(url: str | None) -> dict[str, object] | None:
        return None if url is None else {"url": url, "username": account.dav_login}

    document: dict[str, object] = {
        "format": DOCUMENT_FORMAT,
        "version": DOCUMENT_VERSION,
        "address": account.email,
        "display_name": account.display_name,
        "provider": provider,
        "auth": config.auth.value,
        "incoming": config.incoming.to_dict(),
        "outgoing": None if config.outgoing is None else config.outgoing.to_dict(),
        "caldav": dav(config.caldav),
        "carddav": dav(config.carddav),
        "password_included": account.password is not None,
    }
    if account.password is not None:
        document["password"] = account.password.reveal()
    return document


def json_export(account: ExportAccount) -> Export:
    findings: list[Finding] = []
    if account.password is not None:
        findings.append(password_included(FORMAT))
    text = json.dumps(account_document(account), ensure_ascii=False, indent=2) + "\n"
    return Export(
        format=FORMAT,
        content=text.encode("utf-8"),
        file_name=f"{safe_file_stem(account)}.json",
        media_type="application/json",
        findings=tuple(findings),
        instructions=(Text("export.json.step.use"),),
    )
