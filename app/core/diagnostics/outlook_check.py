"""Helpdesk mode: classic Outlook's accounts of one address, and what in them cannot work.

:func:`inspect_outlook` takes the accounts :func:`~app.core.clients.outlook_accounts.
outlook_accounts` read from the registry (read only; passwords are never read, only whether one
is stored) and, like :func:`~app.core.diagnostics.diagnose.inspect_thunderbird`, returns what
it saw for the address and the findings (codes ``outlook.*``, resources/knowledge/outlook.toml):

- ``outlook.needs-exchange-account``: a Microsoft 365 or Outlook.com mailbox set up as an IMAP
  or POP account. Microsoft turned basic authentication off, and classic Outlook signs in to
  these mailboxes with Microsoft's sign-in only as an Exchange account;
- ``outlook.server-differs``: the incoming or outgoing server, port or encryption is not what
  ``expected`` (the settings detection or the saved account give) says;
- ``outlook.no-encryption``: a server reached without encryption;
- ``outlook.smtp-no-auth``: the outgoing server is not set to require authentication (the
  value ``SMTP Use Auth`` is 0 or absent);
- ``outlook.no-account``: no profile has an account for the address (info).

Exchange and ActiveSync accounts take their servers from Autodiscover: nothing is compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from app.core.clients.outlook_accounts import OutlookAccount, OutlookSecurity
from app.core.diagnostics import knowledge
from app.core.model import AccountConfig, AuthKind, Endpoint, Finding, Protocol
from app.core.texts import Text

__all__ = ["MICROSOFT_HOSTS", "inspect_outlook"]

#: The IMAP, POP and SMTP hosts of Microsoft 365 and Outlook.com (current and older names).
MICROSOFT_HOSTS: Final = frozenset(
    {
        "outlook.office365.com",
        "outlook.office.com",
        "smtp.office365.com",
        "imap-mail.outlook.com",
        "pop-mail.outlook.com",
        "smtp-mail.outlook.com",
        "smtp.live.com",
    }
)
_MICROSOFT_PROVIDERS: Final = frozenset({"microsoft365", "outlook"})
_KIND_NAMES: Final = {"imap": "IMAP", "pop3": "POP"}


def _checked() -> Text:
    # No text of its own yet ("classic Outlook's profile ..."): the generic one.
    return Text("diagnose.check.settings")


def _host(name: str | None) -> str:
    return (name or "").strip().rstrip(".").casefold()


def _local(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _describe(
    protocol: str, host: str | None, port: int | None, security: OutlookSecurity | None
) -> str:
    where = host or "?"
    if port is not None:
        where = f"{where}:{port}"
    return f"{protocol} {where} ({security or '?'})"


def _is_microsoft(account: OutlookAccount, expected: AccountConfig | None) -> bool:
    if expected is not None and (
        expected.auth is AuthKind.OAUTH2_MICROSOFT or expected.provider_id in _MICROSOFT_PROVIDERS
    ):
        return True
    return _host(account.incoming_host) in MICROSOFT_HOSTS


def _differs(
    endpoint: Endpoint, host: str | None, port: int | None, security: OutlookSecurity | None
) -> bool:
    if _host(host) != _host(endpoint.host):
        return True
    if port is not None and port != endpoint.port:
        return True
    # "auto" and an unrecorded encryption say nothing to compare.
    return security in ("tls", "starttls", "plain") and security != endpoint.security.value


def _account_findings(
    account: OutlookAccount, address: str, expected: AccountConfig | None
) -> list[Finding]:
    checked = _checked()
    profile = account.profile
    base: dict[str, str | int] = {
        "profile": profile,
        "office_version": account.office_version,
        "key": account.key,
        "kind": account.kind,
    }
    found: list[Finding] = []
    if account.kind not in ("imap", "pop3"):
        return found  # Exchange and ActiveSync: servers from Autodiscover, a Microsoft sign-in

    if _is_microsoft(account, expected):
        kind = _KIND_NAMES[account.kind]
        found.append(
            knowledge.finding(
                "outlook.needs-exchange-account",
                checked=checked,
                params={"profile": profile, "address": address, "kind": kind},
                detail={**base, "password_saved": int(account.password_saved)},
            )
        )

    roles = (
        (
            "incoming",
            Protocol(account.kind),
            account.incoming_host,
            account.incoming_port,
            account.incoming_security,
            None if expected is None else expected.incoming,
        ),
        (
            "outgoing",
            Protocol.SMTP,
            account.smtp_host,
            account.smtp_port,
            account.smtp_security,
            None if expected is None else expected.outgoing,
        ),
    )
    for role, protocol, host, port, security, endpoint in roles:
        if host is None:
            continue
        detail: dict[str, str | int] = {**base, "role": role, "host": host}
        if security == "plain" and not _local(_host(host)):
            found.append(
                knowledge.finding(
                    "outlook.no-encryption",
                    checked=checked,
                    params={"profile": profile, "host": host, "address": address},
                    detail=detail,
                )
            )
        # Another incoming protocol than detection's (POP where IMAP is found) is the user's
        # choice, not a mistake: only the same protocol is compared.
        if (
            endpoint is not None
            and endpoint.protocol is protocol
            and _differs(endpoint, host, port, security)
        ):
            saved = _describe(protocol.value, host, port, security)
            wanted = _describe(
                endpoint.protocol.value, endpoint.host, endpoint.port, endpoint.security.value
            )
            found.append(
                knowledge.finding(
                    "outlook.server-differs",
                    checked=checked,
                    params={
                        "profile": profile,
                        "address": address,
                        "saved": saved,
                        "found": wanted,
                    },
                    detail={**detail, "saved": saved, "found": wanted},
                )
            )

    smtp_host = account.smtp_host
    needs_auth = expected is None or expected.auth is not AuthKind.NONE
    if smtp_host and needs_auth and account.smtp_auth is not True and not _local(_host(smtp_host)):
        recorded = "absent" if account.smtp_auth is None else "0"
        found.append(
            knowledge.finding(
                "outlook.smtp-no-auth",
                checked=checked,
                params={"profile": profile, "host": smtp_host, "address": address},
                detail={**base, "role": "outgoing", "host": smtp_host, "smtp_use_auth": recorded},
            )
        )
    return found


def inspect_outlook(
    accounts: Iterable[OutlookAccount], address: str, expected: AccountConfig | None
) -> tuple[list[dict[str, object]], list[Finding]]:
    """The accounts of ``address`` among ``accounts`` (matched on their email address, without
    case) as JSON-ready dicts, and the findings about them; ``outlook.no-account`` (info) when
    no profile has one. ``expected`` is what detection or the saved account gives (None: only
    what needs no comparison is checked)."""
    every = list(accounts)
    wanted = address.strip().casefold()
    mine = [a for a in every if a.email is not None and a.email.strip().casefold() == wanted]
    seen = [account.to_dict() for account in mine]
    if not every:  # classic Outlook has no mail profile here (or is not installed): nothing to say
        return seen, []
    if not mine:
        profiles = sorted({f"{a.profile} ({a.office_version})" for a in every})
        return seen, [
            knowledge.finding(
                "outlook.no-account",
                checked=_checked(),
                params={"address": address},
                detail={"profiles": ", ".join(profiles) or "none", "accounts": len(every)},
            )
        ]
    findings: list[Finding] = []
    for account in mine:
        findings.extend(_account_findings(account, address, expected))
    return seen, findings
