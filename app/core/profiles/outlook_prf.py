"""Classic Outlook for Windows: a profile file (``.prf``) that ``outlook.exe /importprf`` reads
to add an IMAP or POP account.

The file adds to the default profile and never replaces one: ``OverwriteProfile=Append`` with
``ModifyDefaultProfileIfPresent=TRUE`` (``ProfileName`` only names a profile created when none
exists). It holds no password: Outlook asks on the first connection. Its sections are those of
Office's own PRF template: ``[General]``, ``[Service List]`` (empty: the account brings no
other service), ``[Internet Account List]``, the account (``[Account1]``) and the property maps
``[I_Mail]`` (POP) and ``[IMAP_I_Mail]`` (IMAP), which Office says not to change.

Microsoft 365 and Outlook.com are refused (:class:`~app.core.profiles.common.ExportNotPossible`):
classic Outlook cannot sign in to them over IMAP (it has no OAuth for IMAP and basic
authentication is off), and Outlook 2016 and later set up Exchange accounts only through
Autodiscover (see ``outlook_reg``). The file is UTF-16 with a byte order mark and CRLF line
ends, so names in Japanese survive.
"""

from __future__ import annotations

from typing import Final

from app.core.model import Endpoint, Finding, Outcome, Protocol, Security
from app.core.profiles.common import (
    Export,
    ExportAccount,
    ExportNotPossible,
    assumed_login_findings,
    finding,
    join_texts,
    one_line,
    safe_file_stem,
)
from app.core.profiles.new_outlook import new_outlook_instructions
from app.core.texts import Text

__all__ = ["FORMAT", "outlook_prf", "prf_text"]

FORMAT: Final = "prf"
MEDIA_TYPE: Final = "application/octet-stream"

# Outlook's encryption choices: 0 none, 1 SSL/TLS from the first byte, 2 STARTTLS ("TLS").
_ENCRYPTION: Final = {Security.PLAIN: 0, Security.TLS: 1, Security.STARTTLS: 2}

# Section 7 of Office's PRF template: which MAPI property each account key sets.
_POP_MAP: Final = """\
[I_Mail]
AccountType=POP3
AccountName=PT_UNICODE,0x0002
DisplayName=PT_UNICODE,0x000B
EmailAddress=PT_UNICODE,0x000C
POP3Server=PT_UNICODE,0x0100
POP3UserName=PT_UNICODE,0x0101
POP3UseSPA=PT_LONG,0x0108
Organization=PT_UNICODE,0x0107
ReplyEmailAddress=PT_UNICODE,0x0103
POP3Port=PT_LONG,0x0104
POP3UseSSL=PT_LONG,0x0105
SMTPServer=PT_UNICODE,0x0200
SMTPUseAuth=PT_LONG,0x0203
SMTPAuthMethod=PT_LONG,0x0208
SMTPUserName=PT_UNICODE,0x0204
SMTPUseSPA=PT_LONG,0x0207
ConnectionType=PT_LONG,0x000F
ConnectionOID=PT_UNICODE,0x0010
SMTPPort=PT_LONG,0x0201
SMTPSecureConnection=PT_LONG,0x020A
ServerTimeOut=PT_LONG,0x0209
LeaveOnServer=PT_LONG,0x1000
"""
_IMAP_MAP: Final = """\
[IMAP_I_Mail]
AccountType=IMAP
AccountName=PT_UNICODE,0x0002
DisplayName=PT_UNICODE,0x000B
EmailAddress=PT_UNICODE,0x000C
IMAPServer=PT_UNICODE,0x0100
IMAPUserName=PT_UNICODE,0x0101
IMAPUseSPA=PT_LONG,0x0108
Organization=PT_UNICODE,0x0107
ReplyEmailAddress=PT_UNICODE,0x0103
IMAPPort=PT_LONG,0x0104
IMAPUseSSL=PT_LONG,0x0105
SMTPServer=PT_UNICODE,0x0200
SMTPUseAuth=PT_LONG,0x0203
SMTPAuthMethod=PT_LONG,0x0208
SMTPUserName=PT_UNICODE,0x0204
SMTPUseSPA=PT_LONG,0x0207
ConnectionType=PT_LONG,0x000F
ConnectionOID=PT_UNICODE,0x0010
SMTPPort=PT_LONG,0x0201
SMTPSecureConnection=PT_LONG,0x020A
ServerTimeOut=PT_LONG,0x0209
CheckNewImap=PT_LONG,0x1100
RootFolder=PT_UNICODE,0x1101
"""


def _account_section(account: ExportAccount) -> list[str]:
    config = account.config
    incoming = config.incoming
    prefix = "IMAP" if incoming.protocol is Protocol.IMAP else "POP3"
    email = one_line(account.email)
    lines = [
        "[Account1]",
        f'UniqueName="{email}"',
        f"AccountName={email}",
        f"DisplayName={one_line(account.name_or_address)}",
        f"EmailAddress={email}",
        f"{prefix}Server={incoming.host}",
        f"{prefix}UserName={one_line(account.login_or_address(incoming))}",
        f"{prefix}UseSPA=0",
        f"{prefix}Port={incoming.port}",
        f"{prefix}UseSSL={_ENCRYPTION[incoming.security]}",
    ]
    outgoing = config.outgoing
    if outgoing is not None:
        smtp_user = account.login_or_address(outgoing)
        same = smtp_user == account.login_or_address(incoming)
        lines += [
            f"SMTPServer={outgoing.host}",
            f"SMTPPort={outgoing.port}",
            f"SMTPSecureConnection={_ENCRYPTION[outgoing.security]}",
            "SMTPUseAuth=1",
            # 0: sign in with the incoming server's name and password; 1: with SMTPUserName.
            f"SMTPAuthMethod={0 if same else 1}",
        ]
        if not same:
            lines.append(f"SMTPUserName={one_line(smtp_user)}")
        lines.append("SMTPUseSPA=0")
    if incoming.protocol is Protocol.POP3:
        lines.append("LeaveOnServer=1")
    return lines


def prf_text(account: ExportAccount) -> str:
    """The ``.prf`` as text (see the module docstring); ExportNotPossible for Microsoft."""
    if account.microsoft is not None:
        raise ExportNotPossible(FORMAT, Text("export.prf.microsoft"))
    kind = "IMAP_I_Mail" if account.config.incoming.protocol is Protocol.IMAP else "I_Mail"
    lines = [
        "; Outlook profile file made by Mail Setup Wizard for "
        + one_line(account.address.ascii if account.address.ascii.isascii() else account.email),
        "; Import with: outlook.exe /importprf <this file>. It adds one account to the default",
        "; profile and replaces nothing. No password is stored: Outlook asks for it.",
        "",
        "[General]",
        "Custom=1",
        "ProfileName=Outlook",
        "DefaultProfile=Yes",
        "OverwriteProfile=Append",
        "ModifyDefaultProfileIfPresent=TRUE",
        "",
        "[Service List]",
        "",
        "[Internet Account List]",
        f"Account1={kind}",
        "",
        *_account_section(account),
        "",
        "; Mapping for internet account properties. DO NOT MODIFY.",
        *_POP_MAP.splitlines(),
        "",
        *_IMAP_MAP.splitlines(),
    ]
    return "\r\n".join(lines) + "\r\n"


def _starttls_incoming(incoming: Endpoint) -> bool:
    return incoming.security is Security.STARTTLS


def outlook_prf(account: ExportAccount) -> Export:
    """The ``.prf`` for ``account`` with its findings and instructions."""
    text = prf_text(account)
    findings: list[Finding] = list(assumed_login_findings(account, FORMAT))
    if account.password is not None:
        findings.append(
            finding(
                "export.prf.password-not-written", FORMAT, Text("export.prf.password-not-written")
            )
        )
    if _starttls_incoming(account.config.incoming):
        findings.append(
            finding(
                "export.prf.check-encryption",
                FORMAT,
                Text("export.prf.check-encryption", {"host": account.config.incoming.host}),
                outcome=Outcome.WARNING,
            )
        )
    if account.is_icloud and account.has_dav:
        findings.append(
            finding("export.outlook.icloud-dav", FORMAT, Text("export.outlook.icloud-dav"))
        )
    steps = (
        Text("export.prf.step.close"),
        Text("export.prf.step.import"),
        Text("export.prf.step.password"),
        Text(
            "export.prf.step.manual",
            {
                "incoming": _describe(account.config.incoming),
                "outgoing": _describe(account.config.outgoing),
            },
        ),
    )
    return Export(
        format=FORMAT,
        content=b"\xff\xfe" + text.encode("utf-16-le"),
        file_name=f"{safe_file_stem(account)}.prf",
        media_type=MEDIA_TYPE,
        findings=tuple(findings),
        instructions=join_texts(steps, new_outlook_instructions(account)),
    )


def _describe(endpoint: Endpoint | None) -> str:
    if endpoint is None:
        return "-"
    return f"{endpoint.host}:{endpoint.port} ({_SECURITY_NAMES[endpoint.security]})"


_SECURITY_NAMES: Final = {
    Security.TLS: "SSL/TLS",
    Security.STARTTLS: "STARTTLS",
    Security.PLAIN: "-",
}
