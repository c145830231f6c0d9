"""Classic Outlook's accounts read from recorded registry dumps (app.core.clients.outlook_accounts)
and what helpdesk mode finds in them (app.core.diagnostics.outlook_check): a right iCloud IMAP
account, a Microsoft 365 mailbox set up as IMAP, a POP account on the wrong ports without
encryption, an Exchange account, two profiles and an Office 15.0 one, and a password that is
stored but never shown."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from app.core.clients import HiveRegistry
from app.core.clients.outlook_accounts import OutlookAccount, outlook_accounts
from app.core.config.policy_windows import RegistryKey
from app.core.diagnostics.knowledge import entry
from app.core.diagnostics.outlook_check import inspect_outlook
from app.core.model import (
    AccountConfig,
    AuthKind,
    Endpoint,
    Finding,
    Outcome,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.texts import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "outlook"
PROFILES = "windows_outlook_profiles.json"
SENTINEL = "PASSWORD-SENTINEL-7f3a"
M365 = "hanako@contoso.example"


def registry(name: str = PROFILES) -> HiveRegistry:
    return HiveRegistry.from_json(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def accounts() -> list[OutlookAccount]:
    return outlook_accounts(registry())


def by_address(address: str) -> list[OutlookAccount]:
    return [a for a in accounts() if a.email == address]


def config(
    incoming: Endpoint,
    outgoing: Endpoint,
    auth: AuthKind = AuthKind.PASSWORD,
    provider: str | None = None,
) -> AccountConfig:
    return AccountConfig(
        incoming=incoming,
        outgoing=outgoing,
        provenance=Provenance("catalog", Trust.HIGH, over_https=True),
        auth=auth,
        provider_id=provider,
    )


ICLOUD = config(
    Endpoint(Protocol.IMAP, "imap.mail.me.com", 993, Security.TLS),
    Endpoint(Protocol.SMTP, "smtp.mail.me.com", 587, Security.STARTTLS),
    AuthKind.APP_PASSWORD,
    "icloud",
)
MICROSOFT_365 = config(
    Endpoint(Protocol.IMAP, "outlook.office365.com", 993, Security.TLS),
    Endpoint(Protocol.SMTP, "smtp.office365.com", 587, Security.STARTTLS),
    AuthKind.OAUTH2_MICROSOFT,
    "microsoft365",
)
ISP = config(
    Endpoint(Protocol.POP3, "pop.example-isp.test", 995, Security.TLS),
    Endpoint(Protocol.SMTP, "smtp.example-isp.test", 465, Security.TLS),
)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# --- reading the registry ---------------------------------------------------------------------


def test_every_mail_account_of_every_profile_and_nothing_else() -> None:
    found = accounts()
    # The dump reader lower-cases key names (winreg keeps Windows' spelling).
    assert [(a.office_version, a.profile.casefold(), a.key, a.kind) for a in found] == [
        ("16.0", "outlook", "00000001", "imap"),
        ("16.0", "outlook", "00000002", "imap"),
        ("16.0", "outlook", "00000003", "pop3"),
        ("16.0", "work", "00000002", "exchange"),
        ("15.0", "old", "00000001", "imap"),
    ]
    # The iCloud account's data file (00000004) is named after the address, and the address
    # book (Work\00000005) is a MAPI service too: neither is a mail account.
    assert [a.email for a in found].count("taro@icloud.com") == 1


def test_icloud_imap_account_is_decoded_from_utf16_binary_values() -> None:
    (icloud,) = by_address("taro@icloud.com")
    assert icloud == OutlookAccount(
        profile=icloud.profile,
        account_name="taro@icloud.com",
        email="taro@icloud.com",
        kind="imap",
        incoming_host="imap.mail.me.com",
        incoming_port=993,
        incoming_security="tls",
        incoming_user="taro@icloud.com",
        smtp_host="smtp.mail.me.com",
        smtp_port=587,
        smtp_security="starttls",  # SMTP Secure Connection 2 = ENCRYPT_CONN_TLS (STARTTLS)
        smtp_auth=True,
        smtp_user=None,
        password_saved=True,
        office_version="16.0",
        key="00000001",
    )


def test_exchange_account_takes_its_address_from_the_account_name() -> None:
    exchange = next(a for a in accounts() if a.kind == "exchange")
    assert exchange.email == M365 and exchange.profile.casefold() == "work"
    assert exchange.incoming_host is None and exchange.smtp_host is None
    assert exchange.password_saved is False


def test_office_15_profile_with_reg_sz_strings() -> None:
    (old,) = by_address("saburo@example.org")
    assert (old.office_version, old.incoming_host, old.incoming_user) == (
        "15.0",
        "mail.example.org",
        "saburo",
    )
    # No SMTP Secure Connection value: SMTP Use SSL 1 is implicit TLS.
    assert (old.smtp_port, old.smtp_security, old.smtp_auth) == (465, "tls", True)
    assert old.password_saved is False


def test_pop3_account_without_encryption_or_smtp_authentication() -> None:
    (pop,) = by_address("jiro@example-isp.test")
    assert (pop.kind, pop.account_name) == ("pop3", "Jiro at the ISP")
    assert (pop.incoming_host, pop.incoming_port, pop.incoming_security) == (
        "pop.example-isp.test",
        110,
        "plain",
    )
    assert (pop.smtp_port, pop.smtp_security, pop.smtp_auth) == (25, "plain", None)


def test_exchange_activesync_account_read_from_reg_query_output() -> None:
    text_hex = "".join(f"{b:02X}" for b in "joe@outlook.example".encode("utf-16-le") + b"\0\0")
    url_hex = "".join(
        f"{b:02X}"
        for b in "https://eas.outlook.com/Microsoft-Server-ActiveSync".encode("utf-16-le")
    )
    dump = (
        "\r\nHKEY_CURRENT_USER\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles\\Outlook"
        "\\9375CFF0413111d3B88A00104B2A6676\\00000007\r\n"
        "    clsid    REG_SZ    {ED475415-B0D6-11D2-8C3B-00104B2A6676}\r\n"
        f"    Email    REG_BINARY    {text_hex}\r\n"
        f"    EAS Server URL    REG_BINARY    {url_hex}\r\n"
        f"    EAS User    REG_BINARY    {text_hex}\r\n"
        "    EAS Password    REG_BINARY    02AABBCC\r\n"
    )
    (eas,) = outlook_accounts(HiveRegistry.from_reg_query(dump))
    assert (eas.kind, eas.email, eas.incoming_host, eas.incoming_security) == (
        "eas",
        "joe@outlook.example",
        "eas.outlook.com",
        "tls",
    )
    assert eas.password_saved is True
    # An ActiveSync account signs in by itself: nothing to find, whatever the provider.
    assert inspect_outlook([eas], "joe@outlook.example", MICROSOFT_365)[1] == []


def test_unreadable_registry_gives_no_accounts() -> None:
    class Denied:
        def read_key(self, path: str) -> RegistryKey | None:
            raise PermissionError(13, "Access is denied", path)

    assert outlook_accounts(HiveRegistry({"HKCU": Denied(), "HKLM": Denied()})) == []
    assert outlook_accounts(HiveRegistry.from_json({})) == []


def test_an_account_is_a_frozen_value() -> None:
    account = accounts()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.email = "other@example.test"  # type: ignore[misc]


# --- what helpdesk mode finds ---------------------------------------------------------------------


def test_a_right_icloud_account_has_no_findings() -> None:
    seen, found = inspect_outlook(accounts(), "Taro@iCloud.com", ICLOUD)
    assert found == []
    assert [(s["kind"], s["incoming_host"], s["password_saved"]) for s in seen] == [
        ("imap", "imap.mail.me.com", True)
    ]


def test_microsoft_365_mailbox_set_up_as_imap_needs_an_exchange_account() -> None:
    seen, found = inspect_outlook(accounts(), M365, MICROSOFT_365)
    assert sorted(str(s["kind"]) for s in seen) == ["exchange", "imap"]
    assert codes(found) == ["outlook.needs-exchange-account"]
    (finding,) = found
    assert finding.outcome is Outcome.ERROR
    assert finding.detail["key"] == "00000002" and finding.detail["kind"] == "imap"
    assert str(finding.detail["profile"]).casefold() == "outlook"
    assert "IMAP" in render(finding.cause) and M365 in render(finding.cause)
    # Without detection's answer the Microsoft host alone is enough.
    assert codes(inspect_outlook(accounts(), M365, None)[1]) == ["outlook.needs-exchange-account"]


def test_the_exchange_account_alone_is_fine() -> None:
    exchange = [a for a in accounts() if a.kind == "exchange"]
    seen, found = inspect_outlook(exchange, M365, MICROSOFT_365)
    assert len(seen) == 1 and found == []


def test_wrong_ports_no_encryption_and_no_smtp_authentication() -> None:
    _seen, found = inspect_outlook(accounts(), "jiro@example-isp.test", ISP)
    assert codes(found) == [
        "outlook.no-encryption",
        "outlook.server-differs",
        "outlook.no-encryption",
        "outlook.server-differs",
        "outlook.smtp-no-auth",
    ]
    differs = [f for f in found if f.code == "outlook.server-differs"]
    assert [(f.detail["role"], f.detail["saved"], f.detail["found"]) for f in differs] == [
        (
            "incoming",
            "pop3 pop.example-isp.test:110 (plain)",
            "pop3 pop.example-isp.test:995 (tls)",
        ),
        (
            "outgoing",
            "smtp smtp.example-isp.test:25 (plain)",
            "smtp smtp.example-isp.test:465 (tls)",
        ),
    ]
    assert found[-1].detail["smtp_use_auth"] == "absent"
    fix = differs[0].fix
    assert fix is not None and "pop3 pop.example-isp.test:995 (tls)" in render(fix)


def test_right_servers_on_another_port_differ_but_another_protocol_does_not() -> None:
    (icloud,) = by_address("taro@icloud.com")
    wrong_port = dataclasses.replace(icloud, incoming_port=143, incoming_security="starttls")
    assert codes(inspect_outlook([wrong_port], "taro@icloud.com", ICLOUD)[1]) == [
        "outlook.server-differs"
    ]
    # POP where detection gives IMAP is the user's choice: only the outgoing side is compared.
    as_pop = dataclasses.replace(icloud, kind="pop3", incoming_host="pop.mail.me.com")
    assert inspect_outlook([as_pop], "taro@icloud.com", ICLOUD)[1] == []
    # "auto" encryption and an unrecorded port are not evidence of a difference.
    vague = dataclasses.replace(icloud, smtp_port=None, smtp_security="auto")
    assert inspect_outlook([vague], "taro@icloud.com", ICLOUD)[1] == []


def test_local_bridges_without_encryption_are_not_flagged() -> None:
    bridge = OutlookAccount(
        profile="Outlook",
        account_name="me@proton.example",
        email="me@proton.example",
        kind="imap",
        incoming_host="127.0.0.1",
        incoming_port=1143,
        incoming_security="plain",
        smtp_host="127.0.0.1",
        smtp_port=1025,
        smtp_security="plain",
        smtp_auth=False,
    )
    assert inspect_outlook([bridge], "me@proton.example", None)[1] == []
    remote = dataclasses.replace(bridge, incoming_host="imap.proton.example")
    assert codes(inspect_outlook([remote], "me@proton.example", None)[1]) == [
        "outlook.no-encryption"
    ]


def test_no_account_for_the_address_is_information() -> None:
    seen, found = inspect_outlook(accounts(), "nobody@example.test", ISP)
    assert seen == []
    assert codes(found) == ["outlook.no-account"]
    assert found[0].outcome is Outcome.INFO
    assert "(16.0)" in str(found[0].detail["profiles"]) and found[0].detail["accounts"] == 5
    # no mail profile at all (classic Outlook unused or not installed): nothing to say
    assert inspect_outlook([], "nobody@example.test", None) == ([], [])


# --- secrets and the catalog --------------------------------------------------------------------


def _every_finding() -> list[Finding]:
    everything = accounts()
    found: list[Finding] = []
    for address, expected in (
        ("taro@icloud.com", ICLOUD),
        (M365, MICROSOFT_365),
        ("jiro@example-isp.test", ISP),
        ("nobody@example.test", None),
    ):
        found.extend(inspect_outlook(everything, address, expected)[1])
    return found


def test_the_stored_password_never_appears_in_any_output() -> None:
    raw = (FIXTURES / PROFILES).read_text(encoding="utf-8")
    assert SENTINEL.encode("utf-16-le").hex() in raw  # the fixture really holds it
    everything = accounts()
    assert [a.password_saved for a in everything] == [True, True, True, False, False]
    outputs = [repr(everything), json.dumps([a.to_dict() for a in everything])]
    for address in ("taro@icloud.com", M365, "jiro@example-isp.test"):
        seen, _ = inspect_outlook(everything, address, None)
        outputs.append(json.dumps(seen))
    for finding in _every_finding():
        outputs.append(repr(finding))
        for language in ("en", "ja"):
            outputs.append(json.dumps(finding.to_dict(language), ensure_ascii=False))
    blob = "\n".join(outputs)
    for form in (SENTINEL, SENTINEL.encode("utf-16-le").hex(), SENTINEL.encode().hex()):
        assert form.casefold() not in blob.casefold()
    assert "password" not in json.dumps([a.to_dict() for a in everything]).replace(
        "password_saved", ""
    )


def test_every_finding_has_a_catalog_entry_and_renders_in_both_languages() -> None:
    found = _every_finding()
    assert {f.code for f in found} == {
        "outlook.needs-exchange-account",
        "outlook.server-differs",
        "outlook.no-encryption",
        "outlook.smtp-no-auth",
        "outlook.no-account",
    }
    for finding in found:
        assert entry(finding.code).code == finding.code  # not the generic "unknown" entry
        english = finding.to_dict("en")
        japanese = finding.to_dict("ja")
        for text in (english["title"], english["cause"], english["fix"]):
            assert isinstance(text, str) and "{" not in text
        assert isinstance(japanese["cause"], str) and "{" not in japanese["cause"]
        assert japanese["cause"] != english["cause"]
