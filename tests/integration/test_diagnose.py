"""Helpdesk mode against the test world: ``mailsetup diagnose`` and the core ``diagnose`` on a
healthy account and on one of each broken kind (wrong password, SMTP AUTH disabled, intercepted
TLS, a wrong clock, a DNS failure, drifted saved settings, a Thunderbird profile with the wrong
authentication method, an iCloud app-specific password revoked by an Apple Account password
change), with and without the password; and the report (.zip with HTML, JSON and
the log) holds no secret."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json
import logging
import os
import time
import zipfile
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from app.cli.main import run
from app.core.checks.base import Secret
from app.core.diagnostics import logfile
from app.core.diagnostics.diagnose import DiagnoseOptions, Diagnosis, diagnose
from app.core.diagnostics.environment import HostFacts, check_environment
from app.core.diagnostics.redact import install_redaction
from app.core.model import AccountConfig, AuthKind, Endpoint, Protocol, Provenance, Security, Trust
from app.core.net import Network, NetworkOptions, parse_dns_server, parse_resolve
from app.core.profiles.store import AccountStore, SavedAccount
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import MailWorld
from tests.world.radicale import RadicaleServer
from tests.world.web import WebServer

T = TypeVar("T")
PASSWORD = "sentinel-Pa55word-d1a9"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
ACCESS_TOKEN = "sentinel-access-token-4c1e9a77b2"
REFRESH_TOKEN = "sentinel-refresh-token-8e2f0d13c5"
FACTS = HostFacts("Linux", "6", "#1", "x86_64", "3.11", "0.1.0", "tester", privileged=False)
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def arun(awaitable: Awaitable[T], limit: float = 60.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await awaitable

    return asyncio.run(bounded())


@pytest.fixture
def account(mail_world: MailWorld, radicale: RadicaleServer) -> str:
    user = f"diag{time.monotonic_ns()}@example.test"
    mail_world.mail_user(user, PASSWORD)
    radicale.add_user(user, PASSWORD)
    return user


@pytest.fixture
def no_thunderbird(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home without Thunderbird and with its own saved-accounts folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return home


def switches(
    user: str, mail_world: MailWorld, radicale: RadicaleServer, test_ca: TestCA, dns: DNSServer
) -> list[str]:
    return [
        user,
        "--imap",
        f"{mail_world.host}:{mail_world.dovecot.imap_tls_port}:tls",
        "--smtp",
        f"{mail_world.smtp.host}:{mail_world.smtp.starttls_port}:starttls",
        "--caldav",
        radicale.url,
        "--carddav",
        radicale.url,
        "--ca-bundle",
        str(test_ca.cert_path),
        "--dns-server",
        dns.address,
        "--timeout",
        "5",
        "--proxy",
        "direct",
    ]


def diagnose_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    password: str | None = None,
) -> tuple[int, dict[str, Any]]:
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        args = [*args, "--password-stdin"]
    code = run(["diagnose", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def codes(data: dict[str, Any]) -> list[str]:
    return [f["code"] for f in data["findings"]]


def _world_net(
    test_ca: TestCA, dns: DNSServer, *resolve: str, extra: tuple[Path, ...] = ()
) -> Network:
    return Network(
        NetworkOptions(
            ca_bundles=(test_ca.cert_path, *extra),
            dns_server=parse_dns_server(dns.address),
            resolve=tuple(parse_resolve(r) for r in resolve),
            system_proxy=False,
            timeout=5.0,
        )
    )


def _settings(mail_world: MailWorld, radicale: RadicaleServer) -> AccountConfig:
    return AccountConfig(
        incoming=Endpoint(
            Protocol.IMAP, mail_world.host, mail_world.dovecot.imap_tls_port, Security.TLS
        ),
        outgoing=Endpoint(
            Protocol.SMTP, mail_world.smtp.host, mail_world.smtp.starttls_port, Security.STARTTLS
        ),
        caldav=radicale.url,
        carddav=radicale.url,
        provenance=Provenance("manual", Trust.HIGH, over_https=False),
    )


# --- healthy ----------------------------------------------------------------------------------


def test_a_healthy_account_is_healthy_with_and_without_the_password(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
    no_thunderbird: Path,
) -> None:
    args = switches(account, mail_world, radicale, test_ca, dns)
    for password in (None, PASSWORD):
        code, data = diagnose_json(capsys, monkeypatch, args, password)
        assert code == 0, codes(data)
        problems = [f["code"] for f in data["findings"] if f["outcome"] in ("warning", "error")]
        # Run as root, the one warning is that (the user's keyring is not visible).
        assert problems == (["env.privileged"] if ROOT else [])
        assert data["verdict"] == ("warnings" if ROOT else "healthy")
        assert {c["protocol"] for c in data["checks"]} == {"imap", "smtp", "caldav", "carddav"}
        assert all(c["ok"] for c in data["checks"])
        assert all(c["authenticated"] is (password is not None) for c in data["checks"])
        assert ("diagnose.credential-free" in codes(data)) is (password is None)
        env = data["environment"]
        assert env["app_version"] and env["system"]
        reach = {r["host"]: r for r in env["reachability"]}
        assert reach[mail_world.host]["ipv4_ok"] is True
        assert env["clock"] is not None and abs(env["clock"]["offset_seconds"]) < 120
        assert data["credentials"] == ("password" if password else "none")


def test_the_core_verdict_is_healthy_for_a_normal_user(
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
) -> None:
    net = _world_net(test_ca, dns)
    options = DiagnoseOptions(
        settings=_settings(mail_world, radicale), keyring=False, thunderbird=(), facts=FACTS
    )
    result = arun(diagnose(account, net, options))
    assert result.verdict.value == "healthy", [f.code for f in result.findings]
    assert result.settings_source == "switches"
    assert result.by_severity().keys() <= {"info", "ok"}


# --- broken kinds -----------------------------------------------------------------------------


def test_a_wrong_password_is_found_with_it_and_noted_without(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
    no_thunderbird: Path,
) -> None:
    args = switches(account, mail_world, radicale, test_ca, dns)
    code, data = diagnose_json(
        capsys, monkeypatch, [*args, "--symptom", "keeps-asking-password"], "wrong-" + PASSWORD
    )
    assert code == 3
    assert data["verdict"] == "broken"
    first = data["findings"][0]
    assert first["outcome"] == "error" and first["code"].startswith(("imap.auth.", "smtp.auth."))
    assert first["fix"] and first["fixer"] in ("user", "admin", "provider")
    assert data["symptom"]["name"] == "keeps-asking-password"
    # Without the password nothing can tell: the report says the password was not tested.
    code, data = diagnose_json(capsys, monkeypatch, args)
    assert code == 0 and "diagnose.credential-free" in codes(data)
    assert not [f for f in data["findings"] if f["outcome"] == "error"], codes(data)


def test_smtp_auth_disabled_for_the_tenant(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
    no_thunderbird: Path,
) -> None:
    args = [*switches(account, mail_world, radicale, test_ca, dns), "--symptom", "cannot-send"]
    sentence = (
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    with mail_world.smtp.refusing_auth(535, sentence):
        code, data = diagnose_json(capsys, monkeypatch, args, PASSWORD)
        assert code == 3
        assert data["findings"][0]["code"] == "smtp.auth.disabled-tenant"
        assert data["findings"][0]["fixer"] == "admin"
        assert data["checks"][0]["protocol"] == "smtp"  # the symptom orders the checks
        imap = next(c for c in data["checks"] if c["protocol"] == "imap")
        assert imap["authenticated"] is True  # all findings, not just the first
        code, data = diagnose_json(capsys, monkeypatch, args)
        assert code == 0 and "smtp.auth.disabled-tenant" not in codes(data)
        assert "diagnose.credential-free" in codes(data)


def test_intercepted_tls_on_a_provider_host_and_on_the_sign_in_host(
    make_web_server: Any,
    test_ca: TestCA,
    corporate_ca: TestCA,
    fault_proxy: FaultProxyFactory,
    mail_world: MailWorld,
    dns: DNSServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    no_thunderbird: Path,
) -> None:
    host = "outlook.office365.com"
    proxy = fault_proxy("127.0.0.2", mail_world.dovecot.imap_tls_port, intercept=corporate_ca)
    args = [
        account,
        "--imap",
        f"{host}:993:tls",
        "--resolve",
        f"{host}:993:127.0.0.1:{proxy.port}",
        "--ca-bundle",
        str(test_ca.cert_path),
        "--ca-bundle",
        str(corporate_ca.cert_path),
        "--dns-server",
        dns.address,
        "--timeout",
        "5",
        "--proxy",
        "direct",
    ]
    for password in (None, PASSWORD):
        _code, data = diagnose_json(capsys, monkeypatch, args, password)
        found = [f for f in data["findings"] if f["code"] == "tls.intercepted"]
        assert len(found) == 1, codes(data)  # once, though both the check and the probe saw it
        assert "Contoso Corporate Inspection CA" in found[0]["cause"]
        assert data["verdict"] in ("warnings", "broken")
    # The sign-in host through the same kind of proxy (core): it must be exempt.
    web: WebServer = make_web_server(
        cert=test_ca.issue(("login.microsoftonline.com",)), name="login"
    )
    login_proxy = fault_proxy("127.0.0.1", web.port, intercept=corporate_ca)
    net = _world_net(
        test_ca,
        dns,
        f"login.microsoftonline.com:443:127.0.0.1:{login_proxy.port}",
        extra=(corporate_ca.cert_path,),
    )
    env = arun(check_environment(net, sign_in_hosts=["login.microsoftonline.com"], facts=FACTS))
    assert [f.code for f in env.findings] == ["tls.intercepted"]
    assert env.tls[0].sign_in and env.tls[0].findings == ("tls.intercepted",)


def test_a_wrong_clock_is_clock_skew(
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
) -> None:
    net = _world_net(test_ca, dns)
    ahead = dt.timedelta(hours=3)
    options = DiagnoseOptions(
        settings=_settings(mail_world, radicale),
        keyring=False,
        thunderbird=(),
        facts=FACTS,
        now=lambda: dt.datetime.now(dt.UTC) + ahead,
    )
    result = arun(diagnose(account, net, options))
    skew = [f for f in result.findings if f.code == "clock.skew"]
    assert len(skew) == 1 and skew[0].detail["local_is"] == "ahead"
    assert result.environment.clock is not None
    assert abs((result.environment.clock.offset_seconds or 0) - 3 * 3600) < 300
    assert result.verdict.value == "warnings"
    # The honest clock: no finding.
    honest = arun(
        diagnose(
            account,
            net,
            DiagnoseOptions(
                settings=_settings(mail_world, radicale), keyring=False, thunderbird=(), facts=FACTS
            ),
        )
    )
    assert "clock.skew" not in [f.code for f in honest.findings]


def test_a_dns_failure(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    test_ca: TestCA,
    dns: DNSServer,
    no_thunderbird: Path,
) -> None:
    args = [
        account,
        "--imap",
        "imap.nowhere.example.test:993:tls",
        "--ca-bundle",
        str(test_ca.cert_path),
        "--dns-server",
        dns.address,
        "--timeout",
        "3",
        "--proxy",
        "direct",
    ]
    code, data = diagnose_json(capsys, monkeypatch, args)
    assert code == 3
    dns_findings = [f for f in data["findings"] if f["code"].startswith("dns.")]
    assert [f["code"] for f in dns_findings] == ["dns.not-found"]
    reach = data["environment"]["reachability"][0]
    assert reach["error"] == "dns.not-found" and reach["ipv4_ok"] is None


def test_drifted_saved_settings(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts.json")
    old = AccountConfig(
        incoming=Endpoint(Protocol.IMAP, "old-imap.fastmail.com", 993, Security.TLS),
        outgoing=Endpoint(Protocol.SMTP, "smtp.fastmail.com", 465, Security.TLS),
        provenance=Provenance("catalog", Trust.HIGH, over_https=True),
        auth=AuthKind.APP_PASSWORD,
    )
    store.save(SavedAccount(address="taro@fastmail.com", config=old))
    net = Network(NetworkOptions(offline=True, system_proxy=False))
    options = DiagnoseOptions(accounts=store, keyring=False, thunderbird=(), facts=FACTS)
    result = arun(diagnose("taro@fastmail.com", net, options))
    assert result.settings_source == "saved"
    drift = [f for f in result.findings if f.code == "drift.settings"]
    assert drift, [f.code for f in result.findings]
    assert drift[0].detail["saved"].startswith("old-imap.fastmail.com")
    assert drift[0].detail["found"].startswith("imap.fastmail.com")
    # The same account saved as detection finds it today: no drift.
    detected = result.detection.best if result.detection else None
    assert detected is not None
    store.save(SavedAccount(address="taro@fastmail.com", config=detected))
    again = arun(diagnose("taro@fastmail.com", net, options))
    assert "drift.settings" not in [f.code for f in again.findings]


def _thunderbird_home(home: Path, method: int) -> None:
    folder = home / ".thunderbird"
    profile = folder / "abcd.default"
    profile.mkdir(parents=True)
    (folder / "profiles.ini").write_text(
        "[Profile0]\nName=default\nIsRelative=1\nPath=abcd.default\nDefault=1\n", "utf-8"
    )
    (profile / "prefs.js").write_text(
        "\n".join(
            [
                'user_pref("mail.accountmanager.accounts", "account1");',
                'user_pref("mail.account.account1.identities", "id1");',
                'user_pref("mail.account.account1.server", "server1");',
                'user_pref("mail.identity.id1.useremail", "Taro@outlook.com");',
                'user_pref("mail.identity.id1.smtpServer", "smtp1");',
                f'user_pref("mail.server.server1.authMethod", {method});',
                'user_pref("mail.server.server1.hostname", "outlook.office365.com");',
                'user_pref("mail.server.server1.port", 993);',
                'user_pref("mail.server.server1.socketType", 3);',
                'user_pref("mail.server.server1.type", "imap");',
                'user_pref("mail.server.server1.userName", "taro@outlook.com");',
                f'user_pref("mail.smtpserver.smtp1.authMethod", {method});',
                'user_pref("mail.smtpserver.smtp1.hostname", "smtp-mail.outlook.com");',
                'user_pref("mail.smtpserver.smtp1.port", 587);',
                'user_pref("mail.smtpserver.smtp1.try_ssl", 2);',
                "",
            ]
        ),
        "utf-8",
    )


@pytest.mark.parametrize(("method", "expected"), [(3, 2), (10, 0)])
def test_a_thunderbird_profile_with_a_password_for_an_oauth_provider(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_thunderbird: Path,
    method: int,
    expected: int,
) -> None:
    _thunderbird_home(no_thunderbird, method)
    prefs = (no_thunderbird / ".thunderbird" / "abcd.default" / "prefs.js").read_bytes()
    code, data = diagnose_json(capsys, monkeypatch, ["taro@outlook.com", "--offline", "--no-auth"])
    assert code == 3  # offline: the servers cannot be reached
    found = [f for f in data["findings"] if f["code"] == "thunderbird.password-for-oauth"]
    assert len(found) == expected, codes(data)
    if expected:
        assert {f["detail"]["host"] for f in found} == {
            "outlook.office365.com",
            "smtp-mail.outlook.com",
        }
        assert "normal password" in found[0]["cause"]
    assert {t["host"] for t in data["thunderbird"]} == {
        "outlook.office365.com",
        "smtp-mail.outlook.com",
    }
    # Read only: the profile is untouched.
    assert (no_thunderbird / ".thunderbird" / "abcd.default" / "prefs.js").read_bytes() == prefs


# --- no secret in the report or the log --------------------------------------------------------


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    logfile.setup_logging(folder, level=logging.DEBUG)
    try:
        yield folder
    finally:
        logfile.stop_logging()


def _forms(secret: str, user: str) -> set[str]:
    return {
        secret,
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"\0{user}\0{secret}".encode()).decode(),
        base64.b64encode(f"{user}:{secret}".encode()).decode(),
    }


def test_the_report_and_the_log_hold_no_secret(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
    no_thunderbird: Path,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    # The program knows these secrets (as the sign-in would): they are logged on purpose.
    install_redaction(secrets=[Secret(APP_PASSWORD), Secret(ACCESS_TOKEN), Secret(REFRESH_TOKEN)])
    log = logging.getLogger("app.test")
    log.debug("token response access_token=%s refresh_token=%s", ACCESS_TOKEN, REFRESH_TOKEN)
    log.debug("app password %s", APP_PASSWORD)
    args = switches(account, mail_world, radicale, test_ca, dns)
    zips = []
    for number, password in enumerate((PASSWORD, "wrong-" + PASSWORD)):
        path = tmp_path / f"report{number}.zip"
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        code = run(["diagnose", *args, "--password-stdin", "--report", str(path)])
        assert code in (0, 3)
        out = capsys.readouterr()
        zips.append(path)
        for form in _forms(password, account):
            assert form not in out.out + out.err
    logfile.stop_logging()
    texts: dict[str, str] = {}
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            assert {"report.html", "report.json", "summary.txt"} <= set(archive.namelist())
            assert any(name.startswith("logs/") for name in archive.namelist())
            for name in archive.namelist():
                texts[f"{path.name}:{name}"] = archive.read(name).decode("utf-8")
    for file in log_dir.iterdir():
        texts[str(file)] = file.read_text("utf-8")
    logged = {name: text for name, text in texts.items() if "log" in name}
    assert any("[redacted]" in text for text in logged.values()), logged
    for secret in (PASSWORD, "wrong-" + PASSWORD, APP_PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN):
        for form in _forms(secret, account):
            leaks = [name for name, text in texts.items() if form in text]
            assert not leaks, (secret, leaks)
    html_text = texts["report0.zip:report.html"]
    assert "<script" not in html_text and "http://" not in html_text.split("<body>")[0]
    assert "src=" not in html_text and "<link" not in html_text
    assert json.loads(texts["report0.zip:report.json"])["verdict"] in ("healthy", "warnings")


def test_mask_address_hides_the_address_everywhere(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    account: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    dns: DNSServer,
    no_thunderbird: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "masked.zip"
    args = [
        *switches(account, mail_world, radicale, test_ca, dns),
        "--mask-address",
        "--report",
        str(path),
    ]
    code, data = diagnose_json(capsys, monkeypatch, args)
    assert code == 0
    local = account.split("@")[0]
    assert data["address"] == "d*****@example.test"
    assert local not in json.dumps(data)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            assert local not in archive.read(name).decode("utf-8"), name


def test_the_diagnosis_is_whole_in_japanese(
    account: str, mail_world: MailWorld, radicale: RadicaleServer, test_ca: TestCA, dns: DNSServer
) -> None:
    from app.core.diagnostics.report import render_html, summary_text

    net = _world_net(test_ca, dns)
    options = DiagnoseOptions(
        settings=_settings(mail_world, radicale), keyring=False, thunderbird=(), facts=FACTS
    )
    result: Diagnosis = arun(diagnose(account, net, options, language="ja"))
    page = render_html(result, "ja")
    assert 'lang="ja"' in page and "正常です" in page
    assert "This report in English" not in page and "このレポートの英語版" in page
    assert "Healthy: every check passed." in page  # English available for the helpdesk
    assert "正常です" in summary_text(result, "ja")


# -- an iCloud app-specific password revoked -------------------------------------------------


@pytest.fixture(scope="module")
def icloud_world(world_dir: Path, test_ca: TestCA, idp: Any) -> Iterator[tuple[Any, Any]]:
    """Dovecot and the SMTP server answering as iCloud's mail hosts (their certificate names
    imap.mail.me.com and smtp.mail.me.com), reached through --resolve entries."""
    from tests.world.dovecot import MAIL_HOST, DovecotServer
    from tests.world.fixtures_base import record_startup
    from tests.world.smtp import SubmissionServer

    cert = test_ca.issue(("imap.mail.me.com", "smtp.mail.me.com", MAIL_HOST), label="icloud")
    introspection = idp.introspection_url_for("https://outlook.office.com")
    dovecot = DovecotServer(world_dir / "dovecot-icloud", cert, test_ca.cert_path, introspection)
    record_startup("dovecot-icloud", dovecot.start())
    smtp = SubmissionServer(
        world_dir / "smtp-icloud", cert, test_ca.cert_path, introspection, mailstore=dovecot
    )
    try:
        record_startup("smtp-icloud", smtp.start())
        yield dovecot, smtp
    finally:
        smtp.stop()
        dovecot.stop()


def test_a_revoked_icloud_app_password_says_apple_revoked_it(
    icloud_world: tuple[Any, Any], test_ca: TestCA, dns: DNSServer
) -> None:
    from tests.world.dovecot import MAIL_HOST

    dovecot, smtp = icloud_world
    local = f"diag{time.monotonic_ns()}"
    address = f"{local}@icloud.com"
    # the app password in use was revoked (the Apple Account password was changed): the
    # servers now know only a new one
    for user in (local, address):
        dovecot.add_user(user, "wxyz-wxyz-wxyz-wxyz")
    net = _world_net(
        test_ca,
        dns,
        f"imap.mail.me.com:993:{MAIL_HOST}:{dovecot.imap_tls_port}",
        f"smtp.mail.me.com:587:{MAIL_HOST}:{smtp.starttls_port}",
    )
    icloud = AccountConfig(
        incoming=Endpoint(Protocol.IMAP, "imap.mail.me.com", 993, Security.TLS, username=local),
        outgoing=Endpoint(
            Protocol.SMTP, "smtp.mail.me.com", 587, Security.STARTTLS, username=address
        ),
        provenance=Provenance("catalog", Trust.HIGH, over_https=True),
        provider_id="icloud",
    )
    options = DiagnoseOptions(
        symptom="apple-password-changed",
        settings=icloud,
        secret=Secret(APP_PASSWORD),
        keyring=False,
        thunderbird=(),
        facts=FACTS,
    )
    diagnosis = arun(diagnose(address, net, options))
    found = [f.code for f in diagnosis.findings]
    assert "imap.icloud.app-password-needed" in found, found
    assert "apple.app-passwords-revoked" in found, found
    assert diagnosis.verdict.value == "broken"
    # the same refusal without the password given cannot say that a password was revoked
    unknown = arun(diagnose(address, net, replace_options(options, secret=None)))
    assert "apple.app-passwords-revoked" not in [f.code for f in unknown.findings]


def replace_options(options: DiagnoseOptions, **changes: Any) -> DiagnoseOptions:
    import dataclasses

    return dataclasses.replace(options, **changes)


def test_classic_outlook_set_up_with_imap_for_a_microsoft_365_mailbox() -> None:
    """Helpdesk mode reads classic Outlook's profiles (here a recorded Windows registry) and
    says that a Microsoft 365 mailbox set up as IMAP needs an Exchange account instead."""
    from app.core.clients import HiveRegistry

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "outlook"
    registry = HiveRegistry.from_json(
        json.loads((fixture / "windows_outlook_profiles.json").read_text(encoding="utf-8"))
    )
    options = DiagnoseOptions(keyring=False, thunderbird=(), outlook=registry, facts=FACTS)
    net = Network(NetworkOptions(offline=True))
    diagnosis = arun(diagnose("hanako@contoso.example", net, options))
    assert "outlook.needs-exchange-account" in [f.code for f in diagnosis.findings]
    shown = diagnosis.to_dict()["outlook"]
    assert isinstance(shown, list) and {a["kind"] for a in shown} >= {"imap", "exchange"}
    assert "SENTINEL" not in json.dumps(diagnosis.to_dict())
