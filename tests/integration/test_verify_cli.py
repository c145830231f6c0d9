"""``mailsetup verify`` end to end against the test world's Dovecot, SMTP server and Radicale:
every protocol at once, one failed login for a wrong password, the reason sending fails, and no
secret in anything the program printed or logged."""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from pathlib import Path

import pytest

from app.cli.main import run
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.dovecot import DovecotServer
from tests.world.fixtures_mail import MailWorld
from tests.world.radicale import RadicaleServer
from tests.world.smtp import SubmissionServer

PASSWORD = "sentinel-Pa55word-7f3a"


def verify_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    password: str | None = None,
) -> tuple[int, dict[str, object], str]:
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        args = [*args, "--password-stdin"]
    code = run(["verify", "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def servers(
    user: str,
    dovecot: DovecotServer,
    smtp: SubmissionServer,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> list[str]:
    host = dovecot.host
    return [
        user,
        "--imap",
        f"{host}:{dovecot.imap_tls_port}:tls",
        "--smtp",
        f"{smtp.host}:{smtp.starttls_port}:starttls",
        "--caldav",
        radicale.url,
        "--carddav",
        radicale.url,
        "--ca-bundle",
        str(test_ca.cert_path),
        "--timeout",
        "5",
        "--proxy",
        "direct",
    ]


@pytest.fixture
def account(mail_world: MailWorld, radicale: RadicaleServer) -> str:
    user = f"verify{time.monotonic_ns()}@example.test"
    mail_world.mail_user(user, PASSWORD)
    radicale.add_user(user, PASSWORD)
    return user


def outcome(data: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["protocol"]: c for c in data["checks"]}  # type: ignore[union-attr, index]


def test_every_protocol_passes_with_the_right_password(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> None:
    args = servers(account, mail_world.dovecot, mail_world.smtp, radicale, test_ca)
    code, data, _ = verify_json(capsys, monkeypatch, args, PASSWORD)
    assert code == 0, data
    checks = outcome(data)
    assert set(checks) == {"imap", "smtp", "caldav", "carddav"}
    for check in checks.values():
        assert check["ok"] is True
        assert check["authenticated"] is True
        assert check["steps"]
    assert checks["imap"]["tls"]["version"].startswith("TLSv1.")  # type: ignore[index]
    smtp_steps = [s["name"] for s in checks["smtp"]["steps"]]  # type: ignore[union-attr]
    assert "send" not in smtp_steps and "round-trip" not in smtp_steps  # off by default
    assert mail_world.dovecot.messages(account) == []


def test_a_wrong_password_costs_one_failed_login(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> None:
    args = servers(account, mail_world.dovecot, mail_world.smtp, radicale, test_ca)

    def dav_failures() -> int:
        return radicale.log.read_text().count("Failed login attempt")

    dav_before = dav_failures()
    code, data, _ = verify_json(capsys, monkeypatch, args, "wrong-" + PASSWORD)
    assert code == 3
    mail_failures = mail_world.dovecot.auth_failures(account) + mail_world.smtp.auth_failures(
        account
    )
    assert mail_failures + dav_failures() - dav_before == 1
    checks = outcome(data)
    assert not any(c["authenticated"] for c in checks.values())
    assert sum(1 for c in checks.values() if c["finding"] is not None) == 4


def test_smtp_auth_disabled_does_not_hide_that_imap_works(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> None:
    args = servers(account, mail_world.dovecot, mail_world.smtp, radicale, test_ca)
    sentence = (
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    with mail_world.smtp.refusing_auth(535, sentence):
        code, data, _ = verify_json(capsys, monkeypatch, args, PASSWORD)
    assert code == 3
    checks = outcome(data)
    assert checks["imap"]["authenticated"] is True
    assert checks["smtp"]["ok"] is False
    assert checks["smtp"]["finding"]["code"] == "smtp.auth.disabled-tenant"  # type: ignore[index]
    assert checks["smtp"]["finding"]["fix"]  # type: ignore[index]


def test_without_a_password_every_check_goes_as_far_as_it_can(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> None:
    args = servers(account, mail_world.dovecot, mail_world.smtp, radicale, test_ca)
    before = mail_world.dovecot.auth_failures(account)
    code, data, _ = verify_json(capsys, monkeypatch, [*args, "--no-auth"])
    assert code == 0, data
    checks = outcome(data)
    assert all(c["authenticated"] is False for c in checks.values())
    assert "XOAUTH2" in json.dumps(checks["imap"]["data"])
    assert mail_world.dovecot.auth_failures(account) == before


def test_no_secret_in_output_or_logs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    args = servers(account, mail_world.dovecot, mail_world.smtp, radicale, test_ca)
    for password in (PASSWORD, "wrong-" + PASSWORD):
        code, data, err = verify_json(capsys, monkeypatch, args, password)
        everything = json.dumps(data) + err + caplog.text
        forms = {
            PASSWORD,
            base64.b64encode(PASSWORD.encode()).decode(),
            base64.b64encode(f"\0{account}\0{password}".encode()).decode(),
            base64.b64encode(f"{account}:{password}".encode()).decode(),
        }
        for form in forms:
            assert form not in everything
        assert code in (0, 3)


def test_a_server_in_the_wrong_form_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, data, _ = verify_json(
        capsys, monkeypatch, ["taro@example.test", "--imap", "imap.example.test:993:plain"]
    )
    assert code == 1
    assert data["error"]["code"]  # type: ignore[index]


def test_without_servers_it_detects_first(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    dns: DNSServer,
    test_ca: TestCA,
    tmp_path: Path,
) -> None:
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    dns.add("mail.example.test", "A", dovecot.host)
    dns.add("_imaps._tcp.example.test", "SRV", f"0 1 {dovecot.imap_tls_port} mail.example.test.")
    dns.add("_submission._tcp.example.test", "SRV", f"0 1 {smtp.starttls_port} mail.example.test.")
    args = [
        account,
        "--dns-server",
        dns.address,
        "--ca-bundle",
        str(test_ca.cert_path),
        "--timeout",
        "3",
        "--proxy",
        "direct",
        "--ispdb-url",
        "https://ispdb.example.test/v1.1/",
    ]
    code, data, _ = verify_json(capsys, monkeypatch, args, PASSWORD)
    assert code == 0, data
    checks = outcome(data)
    assert checks["imap"]["target"] == f"imap://mail.example.test:{dovecot.imap_tls_port}"
    assert checks["smtp"]["authenticated"] is True


def test_round_trip_confirms_over_imap_that_the_message_arrived(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
) -> None:
    args = servers(account, mail_world.dovecot, mail_world.smtp, radicale, test_ca)
    code, data, _ = verify_json(capsys, monkeypatch, [*args, "--round-trip"], PASSWORD)
    assert code == 0, data
    smtp = outcome(data)["smtp"]
    steps = {s["name"]: s for s in smtp["steps"]}  # type: ignore[union-attr]
    assert steps["send"]["ok"] is True and steps["round-trip"]["ok"] is True
    trip = smtp["data"]["round_trip"]  # type: ignore[index]
    assert trip["arrived"] is True and trip["checked_over"] == "imap"
    subjects = [str(m["Subject"]) for m in mail_world.dovecot.messages(account)]
    assert subjects == [trip["subject"]]
