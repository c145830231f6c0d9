"""The exporters of app/core/profiles: golden files for every format and sample account, no secret
in any file unless asked, the .prf read back as INI, Thunderbird's prefs.js merged without
harm, its profiles found on every system's layout and its lock recognised, the .mobileconfig
signed with a real certificate and checked by OpenSSL."""

from __future__ import annotations

import configparser
import datetime as dt
import json
import os
import plistlib
import subprocess
import sys
import textwrap
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from app.core.discovery.clientconfig import AuthMethod, parse_clientconfig
from app.core.errors import InvalidSettingError
from app.core.model import AuthKind, EmailAddress, Outcome, Protocol, Security
from app.core.profiles import (
    clientconfig_export,
    json_export,
    mobileconfig,
    new_outlook,
    outlook_prf,
    outlook_reg,
    settings_sheet,
    thunderbird,
)
from app.core.profiles.common import Export, ExportAccount, ExportNotPossible
from app.core.texts import render
from tests.golden import samples
from tests.golden.samples import APPLE_ACCOUNT, GOLDEN, SENTINEL
from tests.world.ca import TestCA

PRINTED = dt.date(2026, 4, 1)
EXISTING_PREFS = (GOLDEN / "thunderbird-existing-prefs.js").read_text(encoding="utf-8")

Builder = Callable[[ExportAccount], Export]
BUILDERS: dict[str, Builder] = {
    "mobileconfig": lambda account: mobileconfig.mobileconfig(account),
    "prefs.js": lambda account: thunderbird.thunderbird_prefs(account, EXISTING_PREFS),
    "prf": outlook_prf.outlook_prf,
    "reg": lambda account: outlook_reg.outlook_reg(account),
    "config-v1.1.xml": clientconfig_export.clientconfig_export,
    "json": json_export.json_export,
    "html": lambda account: settings_sheet.settings_sheet(account, printed=PRINTED),
}


def text_of(export: Export) -> str:
    """The file's text: UTF-16 (with its byte order mark) for .prf and .reg, else UTF-8."""
    if export.content.startswith(b"\xff\xfe"):
        return export.content[2:].decode("utf-16-le")
    return export.content.decode("utf-8")


def golden_cases() -> list[tuple[str, str]]:
    cases = []
    for sample in samples.SAMPLES:
        for extension in BUILDERS:
            microsoft = sample == "microsoft365"
            if (extension == "prf" and microsoft) or (extension == "reg" and not microsoft):
                continue  # refused: tested below
            cases.append((sample, extension))
    return cases


# --- golden files -----------------------------------------------------------------------------


@pytest.mark.parametrize(("sample", "extension"), golden_cases())
def test_every_format_matches_its_golden_file(sample: str, extension: str) -> None:
    export = BUILDERS[extension](samples.SAMPLES[sample]())
    samples.check_golden(f"{sample}.{extension}", text_of(export))


def test_the_japanese_settings_sheet_matches_its_golden_file() -> None:
    export = settings_sheet.settings_sheet(samples.imap_password(), language="ja", printed=PRINTED)
    samples.check_golden("imap-password.ja.html", text_of(export))


def test_the_normalisation_hides_only_uuids() -> None:
    once = mobileconfig.mobileconfig(samples.icloud()).content.decode()
    again = mobileconfig.mobileconfig(samples.icloud()).content.decode()
    assert once != again  # fresh UUIDs every time
    assert samples.normalise(once) == samples.normalise(again)
    assert "com.mailsetup." in samples.normalise(once)


def test_formats_a_client_cannot_take_are_refused() -> None:
    with pytest.raises(ExportNotPossible) as prf:
        outlook_prf.outlook_prf(samples.microsoft365())
    assert prf.value.code == "export.not-possible"
    assert isinstance(prf.value, InvalidSettingError)  # bad input: exit code 1 in the CLI
    assert "--format reg" in render(prf.value.message, "en")
    with pytest.raises(ExportNotPossible):
        outlook_prf.outlook_prf(samples.outlook_com())
    with pytest.raises(ExportNotPossible) as reg:
        outlook_reg.outlook_reg(samples.icloud())
    assert "--format prf" in render(reg.value.message, "en")


# --- secrets ----------------------------------------------------------------------------------


def all_exports(account: ExportAccount) -> dict[str, Export]:
    exports = {}
    for name, build in BUILDERS.items():
        try:
            exports[name] = build(account)
        except ExportNotPossible:
            continue
    return exports


@pytest.mark.parametrize("sample", sorted(samples.ALL_SAMPLES))
def test_no_secret_in_any_file_unless_asked(sample: str) -> None:
    exports = all_exports(samples.ALL_SAMPLES[sample]())
    assert len(exports) >= 6
    for name, export in exports.items():
        assert SENTINEL not in text_of(export), name
        assert SENTINEL.encode() not in export.content, name
        assert "export.password-included" not in {f.code for f in export.findings}, name


@pytest.mark.parametrize("sample", sorted(samples.ALL_SAMPLES))
def test_a_password_asked_for_goes_only_where_it_belongs_with_a_warning(sample: str) -> None:
    account = samples.ALL_SAMPLES[sample](SENTINEL)
    microsoft = account.microsoft is not None
    # Formats meant to be shared or read by a program that asks itself never hold it;
    # a Microsoft account's profile signs in with OAuth and never holds it either.
    holders = {"json", "html"} | (set() if microsoft else {"mobileconfig"})
    for name, export in all_exports(account).items():
        codes = {f.code for f in export.findings}
        if name in holders:
            assert SENTINEL in text_of(export), name
            assert "export.password-included" in codes, name
            warning = next(f for f in export.findings if f.code == "export.password-included")
            assert warning.outcome is Outcome.WARNING
        else:
            assert SENTINEL not in text_of(export), name
            assert "export.password-included" not in codes, name


# --- Apple configuration profiles -------------------------------------------------------------


def payloads(export: Export) -> dict[str, dict[str, object]]:
    profile = plistlib.loads(export.content)
    return {p["PayloadType"]: p for p in profile["PayloadContent"]}


def test_icloud_profile_signs_in_to_calendars_and_contacts_with_the_apple_account() -> None:
    found = payloads(mobileconfig.mobileconfig(samples.icloud()))
    assert set(found) == {
        "com.apple.mail.managed",
        "com.apple.caldav.account",
        "com.apple.carddav.account",
    }
    mail = found["com.apple.mail.managed"]
    assert mail["IncomingMailServerUsername"] == "taro"
    assert mail["OutgoingMailServerUsername"] == "taro@icloud.com"
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True
    assert "IncomingPassword" not in mail
    assert found["com.apple.caldav.account"]["CalDAVUsername"] == APPLE_ACCOUNT
    assert found["com.apple.caldav.account"]["CalDAVHostName"] == "caldav.icloud.com"
    assert found["com.apple.carddav.account"]["CardDAVUsername"] == APPLE_ACCOUNT
    assert "CardDAVPrincipalURL" not in found["com.apple.carddav.account"]


def test_without_an_apple_account_icloud_dav_uses_the_full_icloud_address() -> None:
    account = samples.icloud()
    account = ExportAccount(address=account.address, config=account.config)
    found = payloads(mobileconfig.mobileconfig(account))
    assert found["com.apple.caldav.account"]["CalDAVUsername"] == "taro@icloud.com"


def test_a_dav_path_becomes_the_principal_url() -> None:
    found = payloads(mobileconfig.mobileconfig(samples.imap_password()))
    caldav = found["com.apple.caldav.account"]
    assert caldav["CalDAVPrincipalURL"] == "https://dav.example.jp/caldav/"
    assert caldav["CalDAVUsername"] == "hanako@example.jp"
    assert caldav["CalDAVPort"] == 443 and caldav["CalDAVUseSSL"] is True


def test_microsoft_gets_exchange_with_oauth_for_iphone_and_never_imap() -> None:
    for account in (samples.microsoft365(SENTINEL), samples.outlook_com(SENTINEL)):
        export = mobileconfig.mobileconfig(account)
        profile = plistlib.loads(export.content)
        assert profile["TargetDeviceType"] == 1  # iPhone and iPad only
        found = payloads(export)
        assert set(found) == {"com.apple.eas.account"}
        eas = found["com.apple.eas.account"]
        assert eas["OAuth"] is True and eas["SSL"] is True
        assert eas["Host"] == "outlook.office365.com"
        assert eas["UserName"] == account.email
        assert "Password" not in eas
        codes = {f.code for f in export.findings}
        assert {"export.mac-use-outlook", "export.password-not-written"} <= codes
        mac = next(f for f in export.findings if f.code == "export.mac-use-outlook")
        assert "EWS" in render(mac.cause, "en") and "Outlook for Mac" in render(mac.fix, "en")


def test_identifiers_are_stable_per_address_and_uuids_fresh() -> None:
    first = plistlib.loads(mobileconfig.mobileconfig(samples.icloud()).content)
    second = plistlib.loads(mobileconfig.mobileconfig(samples.icloud()).content)
    assert first["PayloadIdentifier"] == second["PayloadIdentifier"]
    assert first["PayloadIdentifier"].startswith("com.mailsetup.")
    assert "taro" not in first["PayloadIdentifier"]
    assert [p["PayloadIdentifier"] for p in first["PayloadContent"]] == [
        p["PayloadIdentifier"] for p in second["PayloadContent"]
    ]
    uuids = [first["PayloadUUID"], *(p["PayloadUUID"] for p in first["PayloadContent"])]
    again = [second["PayloadUUID"], *(p["PayloadUUID"] for p in second["PayloadContent"])]
    assert len(set(uuids)) == len(uuids) and not set(uuids) & set(again)
    upper = EmailAddress.parse("TARO@iCloud.com")
    assert mobileconfig.profile_identifier(upper) == first["PayloadIdentifier"]
    other = EmailAddress.parse("jiro@icloud.com")
    assert mobileconfig.profile_identifier(other) != first["PayloadIdentifier"]


def test_japanese_profile_texts() -> None:
    profile = plistlib.loads(mobileconfig.mobileconfig(samples.icloud(), language="ja").content)
    assert profile["PayloadDisplayName"] == "メール: taro@icloud.com"


@pytest.fixture
def test_ca(tmp_path: Path) -> TestCA:
    """A CA of this test's own (the world's CA is shared by servers)."""
    return TestCA(tmp_path / "ca", common_name="Profile Signing Test CA")


def make_signer(test_ca: TestCA, tmp_path: Path) -> tuple[bytes, bytes]:
    issued = test_ca.issue(("profiles.example.test",))
    return issued.cert.read_bytes(), issued.key.read_bytes()


def test_signed_profile_is_cms_that_openssl_verifies_back_to_the_xml(
    test_ca: TestCA, tmp_path: Path
) -> None:
    cert, key = make_signer(test_ca, tmp_path)
    signer = mobileconfig.load_signer(cert, key, test_ca.cert_path.read_bytes())
    export = mobileconfig.mobileconfig(samples.imap_password(), signer=signer)
    assert export.content[:2] == b"\x30\x82"  # DER SEQUENCE
    assert b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in export.content[:40]  # signedData
    assert "export.mobileconfig.unsigned" not in {f.code for f in export.findings}
    signed = tmp_path / "signed.mobileconfig"
    signed.write_bytes(export.content)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(signed),
         "-CAfile", str(test_ca.cert_path), "-purpose", "any"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    profile = plistlib.loads(result.stdout)
    assert profile["PayloadContent"][0]["IncomingMailServerHostName"] == "mail.example.jp"
    # A different CA does not vouch for it: the signature is really checked.
    other = TestCA(tmp_path / "other-ca")
    wrong = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(signed),
         "-CAfile", str(other.cert_path), "-purpose", "any"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert wrong.returncode != 0


def test_signing_input_problems_are_bad_input(test_ca: TestCA, tmp_path: Path) -> None:
    cert, key = make_signer(test_ca, tmp_path)
    other_cert, _other_key = make_signer(test_ca, tmp_path)
    with pytest.raises(InvalidSettingError) as no_cert:
        mobileconfig.load_signer(b"not a certificate", key)
    assert no_cert.value.code == "export.signing"
    with pytest.raises(InvalidSettingError):
        mobileconfig.load_signer(
            cert, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
        )
    with pytest.raises(InvalidSettingError) as mismatch:
        mobileconfig.load_signer(other_cert, key)
    assert "does not belong" in str(mismatch.value)
    private = serialization.load_pem_private_key(key, password=None)
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    with pytest.raises(InvalidSettingError) as locked:
        mobileconfig.load_signer(cert, encrypted)
    assert "encrypted" in str(locked.value)
    assert mobileconfig.load_signer(cert, encrypted, key_password=b"pass").certificate


# --- classic Outlook --------------------------------------------------------------------------


def read_prf(export: Export) -> configparser.ConfigParser:
    assert export.content.startswith(b"\xff\xfe"), "a .prf is UTF-16 with a byte order mark"
    text = text_of(export)
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF only
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(text)
    return parser


@pytest.mark.parametrize("sample", ["icloud", "imap-password", "pop-starttls"])
def test_the_prf_reads_back_as_ini_and_appends_to_the_default_profile(sample: str) -> None:
    account = samples.ALL_SAMPLES[sample]()
    prf = read_prf(outlook_prf.outlook_prf(account))
    assert {"General", "Service List", "Internet Account List", "Account1", "I_Mail",
            "IMAP_I_Mail"} <= set(prf.sections())  # fmt: skip
    general = prf["General"]
    assert general["OverwriteProfile"] == "Append"  # never an overwrite
    assert general["ModifyDefaultProfileIfPresent"] == "TRUE"
    assert general["Custom"] == "1"
    account_section = prf["Account1"]
    incoming = account.config.incoming
    prefix = "IMAP" if incoming.protocol is Protocol.IMAP else "POP3"
    kind = prf["Internet Account List"]["Account1"]
    assert kind == ("IMAP_I_Mail" if prefix == "IMAP" else "I_Mail")
    assert account_section[f"{prefix}Server"] == incoming.host
    assert account_section[f"{prefix}Port"] == str(incoming.port)
    assert account_section["EmailAddress"] == account.email
    assert account_section["SMTPServer"] == account.config.outgoing.host
    assert account_section["SMTPUseAuth"] == "1"
    assert not any("password" in key.lower() for key in account_section)


def test_prf_encryption_and_smtp_names() -> None:
    icloud = read_prf(outlook_prf.outlook_prf(samples.icloud()))["Account1"]
    assert icloud["IMAPUseSSL"] == "1"  # SSL/TLS from the first byte
    assert icloud["SMTPSecureConnection"] == "2"  # STARTTLS on 587
    assert icloud["IMAPUserName"] == "taro"
    assert icloud["SMTPAuthMethod"] == "1" and icloud["SMTPUserName"] == "taro@icloud.com"
    assert icloud["DisplayName"] == "山田 太郎"
    same = read_prf(outlook_prf.outlook_prf(samples.imap_password()))["Account1"]
    assert same["SMTPSecureConnection"] == "1" and same["SMTPAuthMethod"] == "0"
    pop = outlook_prf.outlook_prf(samples.pop_starttls())
    assert read_prf(pop)["Account1"]["POP3UseSSL"] == "2"
    assert "export.prf.check-encryption" in {f.code for f in pop.findings}


def test_icloud_in_classic_outlook_explains_icloud_for_windows() -> None:
    export = outlook_prf.outlook_prf(samples.icloud())
    note = next(f for f in export.findings if f.code == "export.outlook.icloud-dav")
    text = render(note.cause, "en")
    assert "iCloud for Windows" in text and "new Outlook cannot use that add-in" in text
    steps = " ".join(render(step, "en") for step in export.instructions)
    assert "outlook.exe /importprf" in steps and "Add Account" in steps
    assert "do not need" not in steps and "does not need an app-specific password" in steps


def test_the_reg_file_holds_autodiscover_settings_only() -> None:
    export = outlook_reg.outlook_reg(samples.microsoft365())
    text = text_of(export)
    assert export.content.startswith(b"\xff\xfe")
    assert text.startswith("Windows Registry Editor Version 5.00\r\n")
    assert f"[{outlook_reg.AUTODISCOVER_KEY}]" in text
    assert '"ZeroConfigExchange"=dword:00000001' in text
    assert '"ExcludeExplicitO365Endpoint"=dword:00000000' in text
    values = [line for line in text.splitlines() if line.startswith('"')]
    assert len(values) == 2  # nothing else: no account, no password, no server
    personal = text_of(outlook_reg.outlook_reg(samples.outlook_com()))
    assert "ZeroConfigExchange" not in personal.replace("; ", "")
    steps = " ".join(render(s, "en") for s in export.instructions)
    assert "do not choose IMAP or POP" in steps
    japanese = text_of(outlook_reg.outlook_reg(samples.microsoft365(), language="ja"))
    assert "自動検出" in japanese


def test_new_outlook_instructions_per_provider() -> None:
    def steps(account: ExportAccount) -> str:
        return " ".join(render(s, "en") for s in new_outlook.new_outlook_instructions(account))

    assert "sign in on Microsoft's page" in steps(samples.microsoft365())
    icloud = steps(samples.icloud())
    assert "Apple Account" in icloud and "does not need an app-specific password" in icloud
    imap = steps(samples.imap_password())
    assert "mail.example.jp, 993, SSL/TLS" in imap and "mail.example.jp, 465, SSL/TLS" in imap
    assert "hanako@example.jp" in imap


# --- clientConfig, JSON, settings sheet -------------------------------------------------------


@pytest.mark.parametrize("sample", sorted(samples.ALL_SAMPLES))
def test_clientconfig_reads_back_with_the_projects_own_parser(sample: str) -> None:
    account = samples.ALL_SAMPLES[sample]()
    parsed = parse_clientconfig(
        clientconfig_export.clientconfig_xml(account), account.address, source="test"
    )
    assert parsed.version == "1.1" and parsed.notes == ()
    incoming = parsed.incoming[0]
    assert incoming.endpoint() == account.config.incoming
    assert parsed.outgoing[0].endpoint() == account.config.outgoing
    expected = AuthMethod.OAUTH2 if account.uses_oauth else AuthMethod.PASSWORD_CLEARTEXT
    assert incoming.auth == (expected,)
    if account.config.caldav:
        assert parsed.calendars[0].url == account.config.caldav
        assert parsed.calendars[0].username == account.dav_login
        assert parsed.address_books[0].url == account.config.carddav


def test_json_document_shape() -> None:
    document = json.loads(json_export.json_export(samples.icloud()).content)
    assert document["format"] == "mailsetup-account-export" and document["version"] == 1
    assert document["caldav"] == {"url": "https://caldav.icloud.com/", "username": APPLE_ACCOUNT}
    assert document["incoming"]["username"] == "taro"
    assert document["password_included"] is False and "password" not in document


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_settings_sheet_is_self_contained_escaped_and_japanese_font_safe() -> None:
    hostile = ExportAccount(
        address=EmailAddress.parse("hanako@example.jp"),
        config=samples.imap_password().config,
        display_name='<script>alert("x")</script> & 花子',
    )
    html = settings_sheet.settings_html(hostile, language="ja")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; 花子" in html
    collector = _Collector()
    collector.feed(html)
    assert "script" not in collector.tags and "img" not in collector.tags
    assert "link" not in collector.tags and "iframe" not in collector.tags
    assert all(name not in ("src", "href") for name, _value in collector.attributes)
    assert "url(" not in html and "@import" not in html
    assert '<html lang="ja">' in html and '<meta charset="utf-8">' in html
    for font in ("Yu Gothic", "Meiryo", "Hiragino", "Noto Sans CJK JP", "IPAGothic"):
        assert font in html
    shown = "".join(collector.text)
    for value in ("mail.example.jp", "993", "465", "hanako@example.jp", "https://dav.example.jp/"):
        assert value in shown
    assert "SSL/TLS" in shown and "受信メール（IMAP）" in shown


def test_settings_sheet_shows_unicode_hosts_and_unknown_names() -> None:
    icloud = samples.icloud()
    config = icloud.config
    custom = ExportAccount(
        address=EmailAddress.parse("me@bücher.example"),
        config=type(config)(
            incoming=type(config.incoming)(Protocol.IMAP, "mail.bücher.example", 993, Security.TLS),
            provenance=config.provenance,
            auth=AuthKind.APP_PASSWORD,
        ),
    )
    html = settings_sheet.settings_html(custom)
    assert "mail.bücher.example" in html and "xn--bcher-kva" in html
    assert "ask your provider" in html and "app-specific password" in html


# --- Thunderbird: prefs.js --------------------------------------------------------------------


def test_prefs_parse_round_trips_every_kind_of_value() -> None:
    text = textwrap.dedent(
        """\
        // comment
        user_pref("a.string", "quote \\" backslash \\\\ newline \\n 日本");
        user_pref("a.number", -12);
        user_pref("a.bool", false);
        user_pref("escaped.\\"name", true);
        """
    )
    prefs = thunderbird.parse_prefs(text)
    assert prefs == {
        "a.string": 'quote " backslash \\ newline \n 日本',
        "a.number": -12,
        "a.bool": False,
        'escaped."name': True,
    }
    again = "\n".join(thunderbird.pref_line(name, value) for name, value in prefs.items())
    assert thunderbird.parse_prefs(again) == prefs
    with pytest.raises(ValueError):
        thunderbird.parse_prefs('user_pref("broken", );\n')


def test_adding_keeps_every_existing_line_and_picks_unused_keys() -> None:
    added = thunderbird.add_account_to_prefs(samples.imap_password(), EXISTING_PREFS)
    assert (added.account_key, added.identity_key, added.server_key, added.smtp_key) == (
        "account4",
        "id3",
        "server4",
        "smtp3",
    )
    before = EXISTING_PREFS.splitlines()
    after = added.text.splitlines()
    changed = {"mail.accountmanager.accounts", "mail.smtpservers"}
    kept = [line for line in before if not any(f'"{name}"' in line for name in changed)]
    for line in kept:
        assert line in after, line
    positions = [after.index(line) for line in kept if line.startswith("user_pref")]
    assert positions == sorted(positions)  # in their order
    prefs = thunderbird.parse_prefs(added.text)
    assert prefs["mail.accountmanager.accounts"] == "account1,account3,account2,account4"
    assert prefs["mail.smtpservers"] == "smtp1,smtp2,smtp3"
    assert prefs["mail.accountmanager.defaultaccount"] == "account1"  # unchanged
    assert prefs["mail.smtp.defaultserver"] == "smtp1"
    assert prefs["mail.server.server4.hostname"] == "mail.example.jp"
    assert prefs["mail.server.server4.socketType"] == 3
    assert prefs["mail.server.server4.authMethod"] == 3
    assert prefs["mail.identity.id3.smtpServer"] == "smtp3"
    assert prefs["mail.identity.id3.fullName"] == "佐藤 花子"
    assert prefs["mail.identity.id1.fullName"] == 'Alice "Al" O\'Neil'
    assert sum(1 for line in after if '"mail.accountmanager.accounts"' in line) == 1


def test_oauth_and_pop_accounts() -> None:
    oauth = thunderbird.parse_prefs(
        thunderbird.add_account_to_prefs(samples.microsoft365(), "").text
    )
    assert oauth["mail.server.server1.authMethod"] == 10
    assert oauth["mail.smtpserver.smtp1.authMethod"] == 10
    assert oauth["mail.server.server1.hostname"] == "outlook.office365.com"
    assert oauth["mail.accountmanager.defaultaccount"] == "account1"
    pop = thunderbird.parse_prefs(thunderbird.add_account_to_prefs(samples.pop_starttls(), "").text)
    assert pop["mail.server.server1.type"] == "pop3"
    assert pop["mail.server.server1.socketType"] == 2
    assert pop["mail.server.server1.leave_on_server"] is True
    assert pop["mail.smtpserver.smtp1.try_ssl"] == 2


def test_an_account_already_in_the_profile_is_not_added_twice() -> None:
    once = thunderbird.add_account_to_prefs(samples.imap_password(), EXISTING_PREFS).text
    with pytest.raises(thunderbird.AccountAlreadyThere):
        thunderbird.add_account_to_prefs(samples.imap_password(), once)
    # Keys of orphaned preferences are not reused either.
    orphan = EXISTING_PREFS + 'user_pref("mail.server.server9.hostname", "gone.test");\n'
    assert thunderbird.add_account_to_prefs(samples.icloud(), orphan).server_key == "server10"


def test_add_account_backs_up_and_refuses_while_thunderbird_runs(tmp_path: Path) -> None:
    profile = tmp_path / "abcd.default"
    profile.mkdir()
    (profile / "prefs.js").write_text(EXISTING_PREFS, encoding="utf-8")
    (profile / "lock").symlink_to(f"127.0.0.1:+{os.getpid()}")  # a live process holds it
    with pytest.raises(thunderbird.ThunderbirdRunning) as running:
        thunderbird.add_account(samples.icloud(), profile)
    assert running.value.code == "thunderbird.running"
    assert (profile / "prefs.js").read_text(encoding="utf-8") == EXISTING_PREFS
    assert not list(profile.glob("*.bak"))
    (profile / "lock").unlink()
    change = thunderbird.add_account(
        samples.icloud(), profile, now=dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    )
    assert change.backup == profile / "prefs.js.mailsetup-20260401T090000Z.bak"
    assert change.backup.read_text(encoding="utf-8") == EXISTING_PREFS
    assert "imap.mail.me.com" in (profile / "prefs.js").read_text(encoding="utf-8")
    assert not list(profile.glob(".prefs.js.*.tmp"))
    assert not (profile / "user.js").exists()  # never user.js
    with pytest.raises(thunderbird.AccountAlreadyThere):
        thunderbird.add_account(samples.icloud(), profile)


# --- Thunderbird: finding profiles and its lock -----------------------------------------------


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_profiles_are_found_in_the_linux_layout_with_the_install_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(
        home / ".thunderbird" / "profiles.ini",
        """\
        [Profile1]
        Name=work
        IsRelative=1
        Path=w0rk.work
        Default=1

        [Profile0]
        Name=default-release
        IsRelative=1
        Path=x1y2.default-release

        [Install4F96D1932A9F858E]
        Default=x1y2.default-release
        Locked=1

        [General]
        StartWithLastProfile=1
        Version=2
        """,
    )
    write(
        home / "snap" / "thunderbird" / "common" / ".thunderbird" / "profiles.ini",
        "[Profile0]\nName=snap\nIsRelative=0\nPath=/srv/tb/snap-profile\n",
    )
    found = thunderbird.find_profiles("linux", home=home, environ={"HOME": str(home)})
    assert [(p.name, p.is_default) for p in found] == [
        ("work", False),
        ("default-release", True),
        ("snap", True),
    ]
    assert found[1].path == home / ".thunderbird" / "x1y2.default-release"
    assert found[2].path == Path("/srv/tb/snap-profile")
    assert thunderbird.default_profile(found) == found[1]


def test_profiles_are_found_in_the_macos_layout(tmp_path: Path) -> None:
    home = tmp_path / "Users" / "taro"
    write(
        home / "Library" / "Thunderbird" / "profiles.ini",
        "[Profile0]\nName=default\nIsRelative=1\nPath=Profiles/abcd.default\nDefault=1\n",
    )
    found = thunderbird.find_profiles("darwin", home=home, environ={})
    assert found == (
        thunderbird.ThunderbirdProfile(
            "default", home / "Library" / "Thunderbird" / "Profiles" / "abcd.default", True
        ),
    )
    assert thunderbird.find_profiles("linux", home=home, environ={}) == ()


def test_profiles_are_found_in_the_windows_layouts(tmp_path: Path) -> None:
    home = tmp_path / "Users" / "taro"
    appdata = home / "AppData" / "Roaming"
    local = home / "AppData" / "Local"
    write(
        appdata / "Thunderbird" / "profiles.ini",
        "\ufeff[Profile0]\r\nName=default\r\nIsRelative=1\r\nPath=Profiles\\q1w2.default\r\n",
    )
    store = local / "Packages" / "MozillaThunderbird.MZLA_h5892qc0xkpca"
    write(
        store / "LocalCache" / "Roaming" / "Thunderbird" / "profiles.ini",
        "[Profile0]\nName=store\nIsRelative=1\nPath=Profiles/s7.default-esr\n",
    )
    environ = {"APPDATA": str(appdata), "LOCALAPPDATA": str(local), "USERPROFILE": str(home)}
    found = thunderbird.find_profiles("win32", home=home, environ=environ)
    assert [p.path for p in found] == [
        appdata / "Thunderbird" / "Profiles" / "q1w2.default",
        store / "LocalCache" / "Roaming" / "Thunderbird" / "Profiles" / "s7.default-esr",
    ]
    assert all(p.is_default for p in found)  # the only profile of each folder


def test_the_lock_symlink_of_a_live_or_dead_process(tmp_path: Path) -> None:
    profile = tmp_path / "p"
    profile.mkdir()
    assert thunderbird.profile_lock(profile) == thunderbird.ProfileLock(thunderbird.LockState.FREE)
    (profile / "lock").symlink_to(f"192.0.2.1:+{os.getpid()}")
    live = thunderbird.profile_lock(profile)
    assert live.in_use and live.evidence == "lock" and live.pid == os.getpid()
    (profile / "lock").unlink()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=20)
    (profile / "lock").symlink_to(f"192.0.2.1:+{dead.pid}")
    stale = thunderbird.profile_lock(profile)
    assert not stale.in_use and stale.stale and stale.pid == dead.pid


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks are POSIX")
def test_a_parentlock_held_by_another_process(tmp_path: Path) -> None:
    profile = tmp_path / "p"
    profile.mkdir()
    parentlock = profile / ".parentlock"
    parentlock.touch()
    assert not thunderbird.profile_lock(profile).in_use  # a file alone (clean exit) is free
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(parentlock)!r}, os.O_RDWR)\n"
         "fcntl.lockf(fd, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        held = thunderbird.profile_lock(profile)
        assert held.in_use and held.evidence == ".parentlock"
    finally:
        holder.kill()
        holder.wait(timeout=20)
        if holder.stdout is not None:
            holder.stdout.close()
    assert not thunderbird.profile_lock(profile).in_use


def test_a_profile_without_a_known_outgoing_server_says_what_it_assumed() -> None:
    account = samples.imap_password()
    config = account.config
    bare = ExportAccount(
        address=account.address,
        config=type(config)(incoming=config.incoming, provenance=config.provenance),
    )
    export = mobileconfig.mobileconfig(bare)
    mail = payloads(export)["com.apple.mail.managed"]
    assert mail["OutgoingMailServerHostName"] == "mail.example.jp"
    assert mail["OutgoingMailServerPortNumber"] == 587
    warning = next(f for f in export.findings if f.code == "export.mobileconfig.outgoing-guessed")
    assert warning.outcome is Outcome.WARNING
    assert "export.mobileconfig.outgoing-guessed" not in {
        f.code for f in mobileconfig.mobileconfig(account).findings
    }
