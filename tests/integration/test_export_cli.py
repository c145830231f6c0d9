"""``mailsetup export`` end to end: every format from detection (``--offline``: the built-in
catalog), from the server switches and from a saved account; files written atomically and never
replaced without ``--force``; the exit codes of docs/cli.md; a Thunderbird profile changed with a
backup, left alone while Thunderbird holds it; the password only when asked."""

from __future__ import annotations

import configparser
import io
import json
import os
import plistlib
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import run
from app.core.model import AuthKind, Endpoint, Protocol, Security
from app.core.profiles.store import AccountStore, SavedAccount
from tests.golden import samples
from tests.golden.samples import APPLE_ACCOUNT, SENTINEL
from tests.world.ca import TestCA

EXISTING_PREFS = (samples.GOLDEN / "thunderbird-existing-prefs.js").read_text(encoding="utf-8")
EXPLICIT = [
    "--imap", "mail.example.jp:993:tls",
    "--smtp", "mail.example.jp:465:tls",
    "--caldav", "https://dav.example.jp/caldav/",
    "--username", "hanako@example.jp",
]  # fmt: skip


def export(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any]]:
    code = run(["export", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved accounts and settings of this test only; files land in tmp_path."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)


def test_mobileconfig_from_the_catalog_offline(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = export(
        capsys,
        ["taro@icloud.com", "--format", "mobileconfig", "--offline",
         "--dav-username", APPLE_ACCOUNT],
    )  # fmt: skip
    assert code == 0, result
    target = tmp_path / "taro@icloud.com.mobileconfig"
    assert result["output"] == str(target) and result["source"] == "detected"
    assert result["bytes"] == target.stat().st_size
    assert {f["code"] for f in result["findings"]} >= {"export.mobileconfig.unsigned"}
    assert any("Device Management" in step for step in result["instructions"])
    profile = plistlib.loads(target.read_bytes())
    kinds = {p["PayloadType"]: p for p in profile["PayloadContent"]}
    assert kinds["com.apple.caldav.account"]["CalDAVUsername"] == APPLE_ACCOUNT
    assert kinds["com.apple.mail.managed"]["IncomingMailServerHostName"] == "imap.mail.me.com"
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_existing_file_is_never_replaced_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "profile.mobileconfig"
    target.write_bytes(b"the person's own file")
    args = ["taro@icloud.com", "--format", "mobileconfig", "--offline", "--output", str(target)]
    code, result = export(capsys, args)
    assert code == 1 and result["error"]["code"] == "export.output-exists"
    assert target.read_bytes() == b"the person's own file"
    code, result = export(capsys, [*args, "--force"])
    assert code == 0 and plistlib.loads(target.read_bytes())["PayloadType"] == "Configuration"
    assert not list(tmp_path.glob(".*.tmp"))


def test_prf_from_explicit_servers_reads_back_as_ini(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = export(capsys, ["hanako@example.jp", "--format", "prf", *EXPLICIT])
    assert code == 0 and result["source"] == "switches"
    data = (tmp_path / "hanako@example.jp.prf").read_bytes()
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(data[2:].decode("utf-16-le"))
    assert parser["General"]["OverwriteProfile"] == "Append"
    assert parser["Account1"]["IMAPServer"] == "mail.example.jp"
    assert parser["Account1"]["IMAPUserName"] == "hanako@example.jp"
    assert parser["Account1"]["SMTPPort"] == "465"


def test_a_format_the_account_cannot_use_is_bad_input_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = export(capsys, ["taro@contoso.onmicrosoft.com", "--format", "prf", "--offline"])
    assert code == 1 and result["error"]["code"] == "export.not-possible"
    assert list(tmp_path.iterdir()) == []
    code, result = export(capsys, ["taro@contoso.onmicrosoft.com", "--format", "reg", "--offline"])
    assert code == 0
    reg = Path(result["output"]).read_bytes()
    assert reg.startswith(b"\xff\xfe") and "ZeroConfigExchange" in reg[2:].decode("utf-16-le")


def test_nothing_found_offline_is_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = export(capsys, ["someone@unknown-domain.test", "--format", "json", "--offline"])
    assert code == 4 and result["error"]["code"] == "export.nothing-found"


def test_bad_switches_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = export(
        capsys, ["a@example.jp", "--format", "json", "--imap", "mail.example.jp:993:plain"]
    )
    assert code == 1
    code, result = export(capsys, ["a@example.jp", "--format", "json", "--smtp", "m.jp:587:tls"])
    assert code == 1 and result["error"]["code"] == "cli.no-incoming-server"
    code, result = export(capsys, ["a@example.jp", "--format", "json", "--password-stdin"])
    assert code == 1 and result["error"]["code"] == "export.password-stdin-alone"
    code, result = export(
        capsys, ["a@example.jp", "--format", "json", *EXPLICIT, "--include-password"]
    )
    assert code == 1 and result["error"]["code"] == "export.no-password"
    with pytest.raises(SystemExit) as usage:
        run(["export", "a@example.jp", "--format", "eml"])
    assert usage.value.code == 2
    capsys.readouterr()


def test_the_password_goes_in_only_when_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, result = export(capsys, ["hanako@example.jp", "--format", "json", *EXPLICIT])
    assert code == 0
    plain = Path(result["output"])
    assert SENTINEL not in plain.read_text(encoding="utf-8")
    plain.unlink()
    monkeypatch.setattr("sys.stdin", io.StringIO(SENTINEL + "\n"))
    code, result = export(
        capsys,
        ["hanako@example.jp", "--format", "json", *EXPLICIT,
         "--include-password", "--password-stdin"],
    )  # fmt: skip
    assert code == 0
    assert json.loads(Path(result["output"]).read_text(encoding="utf-8"))["password"] == SENTINEL
    warning = next(f for f in result["findings"] if f["code"] == "export.password-included")
    assert warning["outcome"] == "warning"
    assert SENTINEL not in json.dumps(result)  # never in what is printed


def test_the_saved_account_is_used_when_there_is_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = samples.imap_password().config
    config = type(config)(
        incoming=Endpoint(Protocol.IMAP, "imap.corp.test", 993, Security.TLS, "saved-user"),
        outgoing=Endpoint(Protocol.SMTP, "smtp.corp.test", 587, Security.STARTTLS, "saved-user"),
        carddav="https://dav.corp.test/",
        auth=AuthKind.PASSWORD,
        provenance=config.provenance,
    )
    AccountStore().save(
        SavedAccount(
            address="saved@corp.test",
            config=config,
            display_name="Saved Person",
            dav_username="dav-user",
        )
    )
    code, result = export(capsys, ["saved@corp.test", "--format", "json", "--offline"])
    assert code == 0 and result["source"] == "saved"
    document = json.loads(Path(result["output"]).read_text(encoding="utf-8"))
    assert document["incoming"]["host"] == "imap.corp.test"
    assert document["display_name"] == "Saved Person"
    assert document["carddav"] == {"url": "https://dav.corp.test/", "username": "dav-user"}
    # The switches still win over the saved sign-in names.
    code, result = export(
        capsys,
        ["saved@corp.test", "--format", "json", "--offline", "--username", "other",
         "--output", "again.json"],
    )  # fmt: skip
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert again["incoming"]["username"] == "other" and again["carddav"]["username"] == "other"


def test_standard_output_and_japanese(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code = run(
        ["export", "hanako@example.jp", "--format", "html", *EXPLICIT, "--output", "-",
         "--language", "ja"]
    )  # fmt: skip
    captured = capsysbinary.readouterr()
    assert code == 0
    html = captured.out.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "受信メール（IMAP）" in html
    assert "標準出力" in captured.err.decode("utf-8")  # the messages go to standard error


def test_clientconfig_and_signed_mobileconfig(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = export(capsys, ["hanako@example.jp", "--format", "clientconfig", *EXPLICIT])
    assert code == 0
    assert b'<clientConfig version="1.1">' in Path(result["output"]).read_bytes()
    ca = TestCA(tmp_path / "ca", common_name="Profile Signing Test CA")
    issued = ca.issue(("profiles.example.test",))
    code, result = export(
        capsys,
        ["hanako@example.jp", "--format", "mobileconfig", *EXPLICIT,
         "--sign-cert", str(issued.cert), "--sign-key", str(issued.key)],
    )  # fmt: skip
    assert code == 0 and Path(result["output"]).read_bytes()[:2] == b"\x30\x82"
    code, result = export(
        capsys,
        ["hanako@example.jp", "--format", "mobileconfig", *EXPLICIT, "--force",
         "--sign-cert", str(issued.cert)],
    )  # fmt: skip
    assert code == 1 and result["error"]["code"] == "export.signing"


# --- Thunderbird ------------------------------------------------------------------------------


def make_profile(root: Path) -> Path:
    profile = root / "Profiles" / "ab12.default-release"
    profile.mkdir(parents=True)
    (profile / "prefs.js").write_text(EXISTING_PREFS, encoding="utf-8")
    (root / "profiles.ini").write_text(
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=Profiles/ab12.default-release\n"
        "Default=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n",
        encoding="utf-8",
    )
    return profile


def test_thunderbird_profile_gets_the_account_with_a_backup(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "thunderbird"
    profile = make_profile(root)
    args = ["hanako@example.jp", "--format", "thunderbird", *EXPLICIT, "--profile", str(root)]
    code, result = export(capsys, args)
    assert code == 0, result
    change = result["thunderbird"]
    assert change["profile"] == str(profile) and change["account"] == "account4"
    assert Path(change["backup"]).read_text(encoding="utf-8") == EXISTING_PREFS
    prefs = (profile / "prefs.js").read_text(encoding="utf-8")
    assert '"mail.server.server4.hostname", "mail.example.jp"' in prefs
    code, result = export(capsys, args)  # again: already there, nothing changed
    assert code == 0 and result["changed"] is False
    assert (profile / "prefs.js").read_text(encoding="utf-8") == prefs


def test_thunderbird_running_is_exit_6_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "thunderbird"
    profile = make_profile(root)
    (profile / "lock").symlink_to(f"127.0.0.1:+{os.getpid()}")
    code, result = export(
        capsys,
        ["hanako@example.jp", "--format", "thunderbird", *EXPLICIT, "--profile", str(profile)],
    )
    assert code == 6 and result["error"]["code"] == "thunderbird.running"
    assert "Quit Thunderbird" in result["error"]["message"]
    assert (profile / "prefs.js").read_text(encoding="utf-8") == EXISTING_PREFS
    assert not list(profile.glob("*.bak"))


def test_thunderbird_preview_and_no_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "thunderbird"
    profile = make_profile(root)
    code, result = export(
        capsys,
        ["hanako@example.jp", "--format", "thunderbird", *EXPLICIT, "--profile", str(root),
         "--output", "preview.js"],
    )  # fmt: skip
    assert code == 0
    preview = (tmp_path / "preview.js").read_text(encoding="utf-8")
    assert preview.startswith(EXISTING_PREFS.split("user_pref")[0]) and "server4" in preview
    assert (profile / "prefs.js").read_text(encoding="utf-8") == EXISTING_PREFS
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    code, result = export(capsys, ["hanako@example.jp", "--format", "thunderbird", *EXPLICIT])
    assert code == 4 and result["error"]["code"] == "thunderbird.no-profile"
