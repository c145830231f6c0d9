"""Classic Outlook for Windows and Microsoft 365 or Outlook.com: registry settings (``.reg``) a
helpdesk can read before importing, and the steps to add the mailbox as an Exchange account.

Classic Outlook cannot use IMAP with these mailboxes (it has no OAuth for IMAP, and basic
authentication is off), and Outlook 2016 and later set up Exchange accounts only through
Autodiscover. So there is no account in this file: only the Autodiscover settings under
``HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\16.0\\Outlook\\AutoDiscover`` that let Outlook
find the mailbox by its address, each with a comment saying what it does and how to undo it:

- ``ExcludeExplicitO365Endpoint`` = 0: Outlook asks Microsoft 365 directly first (a value of 1,
  often left behind by an on-premises Exchange setup, sends it on a long detour or nowhere);
- ``ZeroConfigExchange`` = 1 (Microsoft 365 only): on a computer signed in with the same work
  account, Outlook creates the profile by itself, with no questions (Microsoft's recommended way
  instead of ``.prf`` files for Exchange since Outlook 2016).

Other providers are refused (:class:`~app.core.profiles.common.ExportNotPossible`: use the
``.prf``). The file is UTF-16 with a byte order mark and CRLF line ends, as Registry Editor
writes it.
"""

from __future__ import annotations

from typing import Final

from app.core.model import Finding
from app.core.profiles.common import (
    Export,
    ExportAccount,
    ExportNotPossible,
    MicrosoftKind,
    finding,
    join_texts,
    safe_file_stem,
)
from app.core.profiles.new_outlook import new_outlook_instructions
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

__all__ = ["AUTODISCOVER_KEY", "FORMAT", "outlook_reg", "reg_text"]

FORMAT: Final = "reg"
MEDIA_TYPE: Final = "text/x-ms-regedit"
AUTODISCOVER_KEY: Final = r"HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover"


def _comment(text: str) -> list[str]:
    return [f"; {line}".rstrip() for line in text.splitlines()]


def reg_text(account: ExportAccount, language: Language = DEFAULT_LANGUAGE) -> str:
    """The ``.reg`` as text, comments in ``language``; ExportNotPossible unless Microsoft."""
    kind = account.microsoft
    if kind is None:
        raise ExportNotPossible(FORMAT, Text("export.reg.not-microsoft"))

    def say(key: str) -> list[str]:
        return _comment(render(Text(key, {"address": account.email}), language))

    lines = [
        "Windows Registry Editor Version 5.00",
        "",
        *say("export.reg.comment.header"),
        "",
        f"[{AUTODISCOVER_KEY}]",
        *say("export.reg.comment.o365-endpoint"),
        '"ExcludeExplicitO365Endpoint"=dword:00000000',
    ]
    if kind is MicrosoftKind.WORK:
        lines += [
            *say("export.reg.comment.zero-config"),
            '"ZeroConfigExchange"=dword:00000001',
        ]
    return "\r\n".join(lines) + "\r\n"


def outlook_reg(account: ExportAccount, language: Language = DEFAULT_LANGUAGE) -> Export:
    """The ``.reg`` for a Microsoft 365 or Outlook.com account, with the steps to add the
    mailbox in classic Outlook (and in the new Outlook)."""
    text = reg_text(account, language)
    findings: list[Finding] = [
        finding("export.reg.review", FORMAT, Text("export.reg.review")),
    ]
    if account.password is not None:
        findings.append(
            finding("export.password-not-written", FORMAT, Text("export.password-not-written"))
        )
    steps = (
        Text("export.reg.step.review"),
        Text("export.reg.step.import"),
        Text("export.reg.step.add-account", {"address": account.email}),
        Text("export.reg.step.sign-in"),
    )
    return Export(
        format=FORMAT,
        content=b"\xff\xfe" + text.encode("utf-16-le"),
        file_name=f"{safe_file_stem(account)}.reg",
        media_type=MEDIA_TYPE,
        findings=tuple(findings),
        instructions=join_texts(steps, new_outlook_instructions(account)),
    )
