"""The real Thunderbird takes the accounts the program writes into prefs.js, and keeps the ones
that were there.

A fixture profile with two accounts (IMAP and POP, plus Local Folders) gets ours added by
``thunderbird.add_account`` (a password IMAP account, and a Microsoft 365 one with OAuth2).
Debian's Thunderbird then runs headless on that profile, offline and, where the system allows
it, in a network namespace of its own (no network at all). Once it has loaded every account (it
writes each server's mail folder into prefs.js), the program must see the profile as in use and
refuse to change it; then Thunderbird is stopped and prefs.js, as Thunderbird rewrote it, must
still hold every account with the right servers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.profiles import thunderbird
from app.core.profiles.common import ExportAccount
from tests.golden import samples
from tests.world import proc
from tests.world.fixtures_base import record_startup

LOAD_DEADLINE = 45.0  # seconds for Thunderbird to start and load the accounts
STOP_DEADLINE = 10.0

# Prefs of the test's own (user.js): nothing leaves the machine, nothing pops up.
SANDBOX_PREFS = """\
user_pref("app.update.auto", false);
user_pref("app.update.disabledForTesting", true);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("extensions.update.enabled", false);
user_pref("mail.shell.checkDefaultClient", false);
user_pref("mailnews.start_page.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.dns.disabled", true);
user_pref("network.proxy.http", "127.0.0.1");
user_pref("network.proxy.http_port", 9);
user_pref("network.proxy.no_proxies_on", "");
user_pref("network.proxy.share_proxy_settings", true);
user_pref("network.proxy.ssl", "127.0.0.1");
user_pref("network.proxy.ssl_port", 9);
user_pref("network.proxy.type", 1);
user_pref("toolkit.telemetry.enabled", false);
"""


def ours() -> ExportAccount:
    config = AccountConfig(
        incoming=Endpoint(
            Protocol.IMAP, "imap.example.test", 993, Security.TLS, "taro@example.test"
        ),
        outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS, "taro"),
        auth=AuthKind.PASSWORD,
        provenance=Provenance("manual", Trust.HIGH, over_https=False),
    )
    return ExportAccount(
        address=EmailAddress.parse("taro@example.test"), config=config, display_name="山田 太郎"
    )


def _isolated() -> list[str]:
    """``unshare -n`` when this system lets us drop the network for Thunderbird entirely."""
    tool = shutil.which("unshare")
    if tool is None:
        return []
    try:
        subprocess.run([tool, "-n", "true"], capture_output=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [tool, "-n"]


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    log: Path
    started: float


@contextlib.contextmanager
def run_thunderbird(profile: Path, home: Path) -> Iterator[Running]:
    program = shutil.which("thunderbird")
    assert program, (
        "Thunderbird is not installed: apt-get install thunderbird "
        "(scripts/install-system-deps.sh lists it)"
    )
    home.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XAUTHORITY")
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        MOZ_HEADLESS="1",
        MOZ_CRASHREPORTER_DISABLE="1",
    )
    log = home / "thunderbird.log"
    argv = [*_isolated(), program, "--headless", "-no-remote", "-offline", "-profile", str(profile)]
    proc.register_log("thunderbird", log)
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    running = Running(process, log, time.monotonic())
    try:
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_DEADLINE)
        proc.unregister_log("thunderbird")


def wait_until_loaded(running: Running, profile: Path, servers: list[str]) -> float:
    """Until Thunderbird has written the mail folder of every server into prefs.js and holds
    the profile's lock; returns the seconds it took."""
    wanted = [f'"mail.server.{key}.directory-rel"' for key in servers]

    def loaded() -> bool:
        try:
            text = (profile / "prefs.js").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return all(name in text for name in wanted) and thunderbird.profile_lock(profile).in_use

    return proc.wait_until(
        loaded,
        timeout=LOAD_DEADLINE,
        what="Thunderbird loading the accounts",
        log=running.log,
        alive=lambda: running.process.poll() is None,
    )


def test_thunderbird_loads_our_account_and_keeps_the_others(tmp_path: Path) -> None:
    begin = time.monotonic()
    profile = tmp_path / "x1y2.default-release"
    profile.mkdir()
    existing = (samples.GOLDEN / "thunderbird-existing-prefs.js").read_text(encoding="utf-8")
    (profile / "prefs.js").write_text(existing, encoding="utf-8")
    (profile / "user.js").write_text(SANDBOX_PREFS, encoding="utf-8")

    first = thunderbird.add_account(ours(), profile)
    second = thunderbird.add_account(samples.microsoft365(), profile)
    assert first.backup is not None
    assert first.backup.read_text(encoding="utf-8") == existing
    assert (first.added.account_key, second.added.account_key) == ("account4", "account5")

    with run_thunderbird(profile, tmp_path / "home") as running:
        seconds = wait_until_loaded(
            running,
            profile,
            ["server1", "server3", first.added.server_key, second.added.server_key],
        )
        record_startup("thunderbird", seconds)
        # While it runs, the program sees the lock and refuses to touch prefs.js.
        lock = thunderbird.profile_lock(profile)
        assert lock.in_use and lock.evidence in ("lock", ".parentlock")
        with pytest.raises(thunderbird.ThunderbirdRunning):
            thunderbird.add_account(samples.icloud(), profile)
    assert running.process.returncode is not None
    assert not thunderbird.profile_lock(profile).in_use

    prefs = thunderbird.parse_prefs((profile / "prefs.js").read_text(encoding="utf-8"))
    accounts = prefs["mail.accountmanager.accounts"].split(",")
    assert accounts == ["account1", "account3", "account2", "account4", "account5"]
    assert prefs["mail.accountmanager.defaultaccount"] == "account1"

    def server(account: str) -> dict[str, object]:
        key = prefs[f"mail.account.{account}.server"]
        names = ("type", "hostname", "port", "socketType", "authMethod", "userName")
        return {name: prefs.get(f"mail.server.{key}.{name}") for name in names}

    assert server("account1") == {
        "type": "imap", "hostname": "imap.one.test", "port": 993, "socketType": 3,
        "authMethod": 3, "userName": "alice@one.test",
    }  # fmt: skip
    assert server("account3") == {
        "type": "pop3", "hostname": "pop.two.test", "port": 995, "socketType": 3,
        "authMethod": 3, "userName": "bob",
    }  # fmt: skip
    assert server("account4") == {
        "type": "imap", "hostname": "imap.example.test", "port": 993, "socketType": 3,
        "authMethod": 3, "userName": "taro@example.test",
    }  # fmt: skip
    assert server("account5") == {
        "type": "imap", "hostname": "outlook.office365.com", "port": 993, "socketType": 3,
        "authMethod": 10, "userName": "taro@contoso.onmicrosoft.com",
    }  # fmt: skip
    assert prefs["mail.server.server2.type"] == "none"  # Local Folders

    def identity(account: str) -> tuple[object, object]:
        key = prefs[f"mail.account.{account}.identities"]
        smtp = prefs[f"mail.identity.{key}.smtpServer"]
        return prefs[f"mail.identity.{key}.useremail"], prefs[f"mail.smtpserver.{smtp}.hostname"]

    assert identity("account1") == ("alice@one.test", "smtp.one.test")
    assert identity("account3") == ("bob@two.test", "smtp.two.test")
    assert identity("account4") == ("taro@example.test", "smtp.example.test")
    assert identity("account5") == ("taro@contoso.onmicrosoft.com", "smtp.office365.com")
    assert prefs["mail.identity.id3.fullName"] == "山田 太郎"
    assert prefs["mail.smtpserver.smtp3.try_ssl"] == 2
    assert prefs["mail.smtpserver.smtp3.username"] == "taro"
    assert prefs["mail.smtpserver.smtp4.authMethod"] == 10
    assert prefs["mail.smtpservers"] == "smtp1,smtp2,smtp3,smtp4"
    # Thunderbird made the mail folders of the new accounts: it really took them in.
    assert (profile / "ImapMail" / "imap.example.test").is_dir()
    assert (profile / "ImapMail" / "outlook.office365.com").is_dir()
    assert (profile / "user.js").read_text(encoding="utf-8") == SANDBOX_PREFS
    elapsed = time.monotonic() - begin
    print(f"Thunderbird round trip: loaded in {seconds:.1f} s, whole test {elapsed:.1f} s")
    assert elapsed < 60
