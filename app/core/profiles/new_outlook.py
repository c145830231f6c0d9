"""The new Outlook for Windows (and Outlook for Mac): instructions only.

The new Outlook has no profile file, registry settings or other way to be given an account:
accounts are added in its own window. It signs in to Microsoft 365, Outlook.com and iCloud
itself (OAuth; for iCloud it asks the Apple Account to allow access, so no app-specific password
is needed there), and takes other providers as IMAP or POP accounts with the settings typed in.
It cannot load COM add-ins, so the iCloud for Windows add-in that brings iCloud calendars and
contacts into classic Outlook does not work in it.
"""

from __future__ import annotations

from typing import Final

from app.core.model import Endpoint, Security
from app.core.profiles.common import ExportAccount
from app.core.texts import Text

__all__ = ["LAUNCH_COMMAND", "new_outlook_instructions"]

#: What starts the new Outlook for Windows from a command line or the Run dialog.
LAUNCH_COMMAND: Final = "olk.exe"

_SECURITY: Final = {Security.TLS: "SSL/TLS", Security.STARTTLS: "STARTTLS", Security.PLAIN: "None"}


def _server(endpoint: Endpoint | None) -> str:
    if endpoint is None:
        return "-"
    return f"{endpoint.host}, {endpoint.port}, {_SECURITY[endpoint.security]}"


def new_outlook_instructions(account: ExportAccount) -> tuple[Text, ...]:
    """The steps to add ``account`` in the new Outlook, exact for its provider."""
    email = account.email
    start = Text("export.new-outlook.step.open", {"address": email})
    if account.microsoft is not None:
        return (start, Text("export.new-outlook.step.microsoft"))
    if account.is_icloud:
        return (
            start,
            Text("export.new-outlook.step.icloud"),
            Text("export.new-outlook.icloud-no-app-password"),
        )
    config = account.config
    return (
        start,
        Text(
            "export.new-outlook.step.imap",
            {
                "kind": "IMAP" if config.incoming.protocol.value == "imap" else "POP",
                "incoming": _server(config.incoming),
                "incoming_user": account.login_or_address(config.incoming),
                "outgoing": _server(config.outgoing),
                "outgoing_user": account.login_or_address(config.outgoing),
            },
        ),
        Text("export.new-outlook.step.password"),
    )
