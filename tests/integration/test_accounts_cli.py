"""``mailsetup accounts list|show|verify|remove`` end to end: the JSON shapes and exit codes, a
saved account verified again against the test world's real Dovecot, SMTP server and Radicale
with its password from the real Secret Service (verified; failing with a wrong saved password),
a Microsoft account verified with its saved sign-in (XOAUTH2) and removed with its tokens, the
keyring entries gone after ``remove``, and no secret in anything printed or written."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import SecretService, fail

from app.cli.main import run
from app.core.auth.token_cache import SERVICE_NAME as TOKEN_SERVICE
from app.core.auth.token_cache import MailboxLink, TokenCacheStore
from app.core.checks.base import Secret
from app.core.model import AccountConfig, AuthKind, Endpoint, Protocol, Provenance, Security, Trust
from app.core.profiles.secrets import SERVICE_NAME, load_secret, store_secret
from app.core.profiles.store import AccountState, AccountStore, SavedAccount
from tests.world.ca import TestCA
from tests.world.fixtures_mail import MailWorld
from tests.world.idp import IMAP_SCOPE, SMTP_SCOPE, IdentityProvider
from tests.world.keyring_service import KeyringService
from tests.world.radicale import RadicaleServer

pytestmark = pytest.mark.world

PASSWORD = "sentinel-Saved-Pa55-9c1e"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AccountStore:
    """The program's own accounts file, in this test's configuration folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    accounts = AccountStore()
    assert accounts.path == tmp_path / "xdg" / "MailSetup" / "accounts.json"
    return accounts


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.core._keyring_backend
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.core._keyring_backend = previous


def cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str | None = None,
) -> tuple[int, Any, str]:
    """Run ``mailsetup accounts ... --json``: exit code, parsed JSON, standard error."""
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = run(["accounts", *args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def simple(address: str, secrets: tuple[str, ...] = ()) -> SavedAccount:
    return SavedAccount(
        address=address,
        config=AccountConfig(
            incoming=Endpoint(Protocol.IMAP, "imap.example.test", 993, Security.TLS, address),
            outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS),
            auth=AuthKind.PASSWORD,
            provider_id="example",
            provider_name="Example Mail",
            provenance=Provenance("catalog", Trust.HIGH, True),
        ),
        display_name="Taro",
        secrets=secrets,
    )


def world_account(
    address: str, mail_world: MailWorld, radicale: RadicaleServer, secrets: tuple[str, ...]
) -> SavedAccount:
    """An account whose servers are the test world's (Dovecot and SMTP on 127.0.0.2)."""
    return SavedAccount(
        address=address,
        config=AccountConfig(
            incoming=Endpoint(
                Protocol.IMAP, mail_world.host, mail_world.dovecot.imap_tls_port, Security.TLS
            ),
            outgoing=Endpoint(
                Protocol.SMTP,
                mail_world.smtp.host,
                mail_world.smtp.starttls_port,
                Security.STARTTLS,
            ),
            caldav=radicale.url,
            carddav=radicale.url,
            auth=AuthKind.PASSWORD,
            provenance=Provenance("manual", Trust.HIGH, False),
        ),
        client="thunderbird",
        secrets=secrets,
    )


def network(test_ca: TestCA) -> list[str]:
    return ["--ca-bundle", str(test_ca.cert_path), "--timeout", "5", "--proxy", "direct"]


# --- list and show ----------------------------------------------------------------------------


def test_list_and_show(
    store: AccountStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, data, _ = cli(capsys, monkeypatch, "list")
    assert code == 0
    assert data == {"file": str(store.path), "accounts": [], "notices": []}

    first = store.save(simple("taro@example.test"))
    store.save(simple("hanako@example.test"))
    code, data, _ = cli(capsys, monkeypatch, "list")
    assert code == 0
    assert [a["address"] for a in data["accounts"]] == ["taro@example.test", "hanako@example.test"]
    assert data["accounts"][0] == json.loads(json.dumps(first.to_dict()))

    code, data, _ = cli(capsys, monkeypatch, "show", "Taro@Example.test")
    assert code == 0
    account = data["account"]
    assert account == json.loads(json.dumps(first.to_dict()))
    assert set(account) == {
        "address", "display_name", "provider", "settings", "dav_username", "client", "secrets",
        "state", "checked_at", "findings", "created_at", "updated_at",
    }  # fmt: skip
    assert account["state"] == "unverified" and account["checked_at"] is None
    assert account["settings"]["incoming"] == {
        "protocol": "imap",
        "host": "imap.example.test",
        "port": 993,
        "security": "tls",
        "username": "taro@example.test",
    }

    assert run(["accounts", "show", "taro@example.test", "--language", "ja"]) == 0
    out = capsys.readouterr().out
    assert "taro@example.test" in out and "受信" in out and "未確認" in out
    assert run(["accounts", "list"]) == 0
    out = capsys.readouterr().out
    assert "hanako@example.test" in out and str(store.path) in out


def test_exit_codes_of_mistakes(
    store: AccountStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for action in ("show", "verify", "remove"):
        code, data, _ = cli(capsys, monkeypatch, action, "nobody@example.test")
        assert code == 4, action
        assert data["error"]["code"] == "accounts.not-found"
        assert "nobody@example.test" in data["error"]["message"] + str(data["error"]["detail"])
        code, data, _ = cli(capsys, monkeypatch, action, "not an address")
        assert code == 1, action
        assert data["error"]["code"].startswith("address.")
    with pytest.raises(SystemExit) as usage:
        run(["accounts"])  # no action: argparse's usage error
    assert usage.value.code == 2
    capsys.readouterr()


def test_an_unreadable_file_is_reported_and_kept(
    store: AccountStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{ not json", "utf-8")
    code, data, _ = cli(capsys, monkeypatch, "list")
    assert code == 0
    assert data["accounts"] == []
    (notice,) = data["notices"]
    assert notice["code"] == "accounts.file-unreadable"
    (kept,) = store.path.parent.glob("accounts.json.broken-*")
    assert kept.read_text("utf-8") == "{ not json"
    assert notice["detail"]["kept"] == str(kept)


def test_a_newer_file_is_an_environment_problem(
    store: AccountStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.path.parent.mkdir(parents=True)
    content = '{"format": "mailsetup-accounts", "schema": 99, "accounts": []}'
    store.path.write_text(content, "utf-8")
    code, data, _ = cli(capsys, monkeypatch, "list")
    assert code == 6
    assert data["error"]["code"] == "accounts.file-newer"
    assert data["error"]["fix"]
    assert store.path.read_text("utf-8") == content


# --- verify against the real servers ----------------------------------------------------------


@pytest.fixture
def mailbox(mail_world: MailWorld, radicale: RadicaleServer) -> str:
    user = f"saved{time.monotonic_ns()}@example.test"
    mail_world.mail_user(user, PASSWORD)
    radicale.add_user(user, PASSWORD)
    return user


def test_verify_with_the_saved_password_then_a_wrong_one(
    store: AccountStore,
    mailbox: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    secret_keyring: SecretService.Keyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store.save(world_account(mailbox, mail_world, radicale, ("account",)))
    store_secret(mailbox, Secret(PASSWORD))

    code, data, err = cli(capsys, monkeypatch, "verify", mailbox, *network(test_ca))
    assert code == 0, data
    checks = {c["protocol"]: c for c in data["verification"]["checks"]}
    assert set(checks) == {"imap", "smtp", "caldav", "carddav"}
    assert all(c["ok"] and c["authenticated"] for c in checks.values()), checks
    assert data["account"]["state"] == "verified"
    assert data["account"]["findings"] == []
    saved = AccountStore().get(mailbox)
    assert saved is not None and saved.state is AccountState.VERIFIED
    assert saved.checked_at is not None
    everything = json.dumps(data) + err + store.path.read_text("utf-8")
    for form in (PASSWORD, base64.b64encode(f"\0{mailbox}\0{PASSWORD}".encode()).decode()):
        assert form not in everything

    store_secret(mailbox, Secret("wrong-" + PASSWORD))

    def failures() -> int:  # failed sign-ins on both servers of the account
        return mail_world.dovecot.auth_failures(mailbox) + mail_world.smtp.auth_failures(mailbox)

    failures_before = failures()
    code, data, _ = cli(capsys, monkeypatch, "verify", mailbox, *network(test_ca))
    assert code == 3
    assert data["account"]["state"] == "failing"
    # Whichever server is asked first refuses the password; the other is not tried (lockout
    # safety), so exactly one failed sign-in is counted against the account.
    refused = {"imap.auth.failed", "smtp.auth.failed"} & set(data["account"]["findings"])
    assert len(refused) == 1, data["account"]["findings"]
    assert failures() - failures_before == 1
    saved = AccountStore().get(mailbox)
    assert saved is not None and saved.state is AccountState.FAILING
    assert refused <= set(saved.findings)

    # the password typed in wins over the keyring's, and the account is verified again
    code, data, _ = cli(
        capsys, monkeypatch, "verify", mailbox, "--password-stdin", *network(test_ca),
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, data
    assert data["account"]["state"] == "verified"
    assert load_secret(mailbox) == Secret("wrong-" + PASSWORD)  # typed passwords are not saved


def test_verify_without_a_saved_password_proves_only_the_servers(
    store: AccountStore,
    mailbox: str,
    mail_world: MailWorld,
    radicale: RadicaleServer,
    test_ca: TestCA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_keyring: None,
) -> None:
    store.save(world_account(mailbox, mail_world, radicale, ()))
    failures_before = mail_world.dovecot.auth_failures(mailbox)
    code, data, _ = cli(capsys, monkeypatch, "verify", mailbox, *network(test_ca))
    assert code == 0, data
    assert all(not c["authenticated"] for c in data["verification"]["checks"])
    assert data["account"]["state"] == "unverified"
    assert data["account"]["checked_at"] is not None
    assert [n["code"] for n in data["notices"]] == ["accounts.not-signed-in"]
    assert mail_world.dovecot.auth_failures(mailbox) == failures_before


def test_verify_when_the_saved_password_cannot_be_reached(
    store: AccountStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_keyring: None,
) -> None:
    saved = store.save(simple("taro@example.test", ("account",)))
    code, data, _ = cli(capsys, monkeypatch, "verify", "taro@example.test", "--offline")
    assert code == 6
    assert data["error"]["code"] == "keyring.unreachable"
    assert store.get("taro@example.test") == saved  # nothing was checked: state unchanged


def test_an_offline_verify_does_not_change_the_state(
    store: AccountStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = store.save(simple("taro@example.test"))
    code, data, _ = cli(capsys, monkeypatch, "verify", "taro@example.test", "--offline")
    assert code == 3
    codes = {c["finding"]["code"] for c in data["verification"]["checks"]}
    assert codes == {"network.offline"}
    assert data["account"]["state"] == "unverified"
    assert store.get("taro@example.test") == saved


# --- Microsoft accounts: the saved sign-in ----------------------------------------------------


@pytest.fixture
def microsoft_world(
    idp_state: IdentityProvider,
    secret_keyring: SecretService.Keyring,
    mail_world: MailWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str]:
    """A mailbox in Dovecot whose Entra user signed in earlier: the token cache (in the real
    Secret Service) holds its tokens and the link; the configuration names the provider."""
    tag = uuid.uuid4().hex[:8]
    box = mail_world.mail_user(f"ms{tag}@example.test", "unused " + PASSWORD)
    upn = f"ms{tag}@contoso.test"
    idp_state.add_user(upn, "Entra password", mailbox=box)
    config = tmp_path / "config.toml"
    config.write_text(
        "[microsoft]\n"
        f"client_id = {json.dumps(idp_state.default_client_id)}\n"
        f"authority = {json.dumps(idp_state.authority())}\n",
        "utf-8",
    )
    monkeypatch.setenv("MAILSETUP_CONFIG", str(config))
    cache = TokenCacheStore.open()
    cache.load()
    response = idp_state.issue_tokens(upn, [IMAP_SCOPE, SMTP_SCOPE])
    cache.cache.add(
        {
            "client_id": idp_state.default_client_id,
            "scope": [IMAP_SCOPE, SMTP_SCOPE],
            "token_endpoint": f"{idp_state.authority()}/oauth2/v2.0/token",
            "response": response,
        }
    )
    info = json.loads(base64.urlsafe_b64decode(response["client_info"] + "=="))
    cache.set_link(
        MailboxLink(
            address=box,
            home_account_id=f"{info['uid']}.{info['utid']}",
            username=upn,
            authority=idp_state.authority(),
        )
    )
    assert cache.save()
    return box, response["refresh_token"]


def microsoft_account(box: str, mail_world: MailWorld) -> SavedAccount:
    return SavedAccount(
        address=box,
        config=AccountConfig(
            incoming=Endpoint(
                Protocol.IMAP, mail_world.host, mail_world.dovecot.imap_tls_port, Security.TLS, box
            ),
            outgoing=Endpoint(
                Protocol.SMTP,
                mail_world.smtp.host,
                mail_world.smtp.starttls_port,
                Security.STARTTLS,
                box,
            ),
            auth=AuthKind.OAUTH2_MICROSOFT,
            provider_id="microsoft365",
            provider_name="Microsoft 365",
            provenance=Provenance("mx", Trust.HIGH, False),
        ),
    )


def test_a_microsoft_account_is_verified_with_its_saved_sign_in_and_removed_with_it(
    store: AccountStore,
    microsoft_world: tuple[str, str],
    mail_world: MailWorld,
    test_ca: TestCA,
    keyring_service: KeyringService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box, refresh_token = microsoft_world
    store.save(microsoft_account(box, mail_world))
    code, data, _ = cli(capsys, monkeypatch, "verify", box, *network(test_ca))
    assert code == 0, data
    assert {c["protocol"]: c["authenticated"] for c in data["verification"]["checks"]} == {
        "imap": True,
        "smtp": True,
    }
    assert data["account"]["state"] == "verified"

    def token_cache_text() -> str:
        found = keyring_service.secret_tool("search", "--all", "service", TOKEN_SERVICE)
        return found.stdout + found.stderr

    assert "chunk-" in token_cache_text()
    code, data, _ = cli(capsys, monkeypatch, "remove", box)
    assert code == 0, data
    assert data == {
        "address": box,
        "removed": True,
        "secrets_deleted": [],
        "signed_out": True,
        "keyring_skipped": False,
    }
    cache = TokenCacheStore.open()
    cache.load()
    assert cache.link_for(box) is None
    assert refresh_token not in json.dumps(cache.cache.serialize())
    assert store.get(box) is None


def test_a_microsoft_account_without_a_saved_sign_in_needs_sign_in_again(
    store: AccountStore,
    mail_world: MailWorld,
    secret_keyring: SecretService.Keyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = f"nobody{uuid.uuid4().hex[:8]}@example.test"
    store.save(microsoft_account(box, mail_world))
    code, data, _ = cli(capsys, monkeypatch, "verify", box, "--offline")
    assert code == 3
    assert data["verification"] is None
    assert data["account"]["state"] == "needs-sign-in"
    assert data["account"]["findings"] == [data["notices"][-1]["code"]]
    assert data["notices"][-1]["code"].startswith("signin.")


# --- remove -----------------------------------------------------------------------------------


def test_remove_deletes_the_keyring_entries(
    store: AccountStore,
    secret_keyring: SecretService.Keyring,
    keyring_service: KeyringService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = f"remove{uuid.uuid4().hex[:8]}@example.test"
    store.save(simple(address, ("account", "smtp")))
    store.save(simple("other@example.test"))
    store_secret(address, Secret("one " + PASSWORD))
    store_secret(address, Secret("two " + PASSWORD), "smtp")

    def entries() -> str:
        found = keyring_service.secret_tool("search", "--all", "service", SERVICE_NAME)
        return found.stdout + found.stderr

    assert f"{address}|account" in entries() and f"{address}|smtp" in entries()
    code, data, _ = cli(capsys, monkeypatch, "remove", address)
    assert code == 0, data
    assert data["removed"] is True
    assert data["secrets_deleted"] == ["account", "smtp"]
    assert address not in entries()
    assert [a.address for a in store.list()] == ["other@example.test"]
    assert run(["accounts", "remove", address]) == 4
    capsys.readouterr()


def test_remove_keeps_the_account_when_its_secret_cannot_be_reached(
    store: AccountStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_keyring: None,
) -> None:
    store.save(simple("kept@example.test", ("account",)))
    store.save(simple("gone@example.test"))
    code, data, _ = cli(capsys, monkeypatch, "remove", "kept@example.test")
    assert code == 6
    assert data["error"]["code"] == "keyring.unreachable"
    assert store.get("kept@example.test") is not None
    # without a saved secret nothing is lost: removed, the keyring skipped
    code, data, _ = cli(capsys, monkeypatch, "remove", "gone@example.test")
    assert code == 0
    assert data["keyring_skipped"] is True
    assert store.get("gone@example.test") is None


# --- remove --all (the uninstaller's purge) ---------------------------------------------------


def test_remove_all_deletes_every_account_and_its_keyring_entries(
    store: AccountStore,
    secret_keyring: SecretService.Keyring,
    keyring_service: KeyringService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tag = uuid.uuid4().hex[:8]
    first, second = f"purge1{tag}@example.test", f"purge2{tag}@example.test"
    store.save(simple(first, ("account",)))
    store.save(simple(second, ("account", "smtp")))
    store_secret(first, Secret("one " + PASSWORD))
    store_secret(second, Secret("two " + PASSWORD))
    store_secret(second, Secret("three " + PASSWORD), "smtp")

    def entries() -> str:
        found = keyring_service.secret_tool("search", "--all", "service", SERVICE_NAME)
        return found.stdout + found.stderr

    assert f"{first}|account" in entries() and f"{second}|smtp" in entries()
    code, data, _ = cli(capsys, monkeypatch, "remove", "--all")
    assert code == 0, data
    assert data["removed"] == [
        {
            "address": first,
            "secrets_deleted": ["account"],
            "signed_out": False,
            "keyring_skipped": False,
        },
        {
            "address": second,
            "secrets_deleted": ["account", "smtp"],
            "signed_out": False,
            "keyring_skipped": False,
        },
    ]
    assert data["kept"] == [] and "error" not in data
    assert store.list() == []
    assert tag not in entries()
    assert PASSWORD not in json.dumps(data)
    # nothing left: still done, in words too
    code, data, _ = cli(capsys, monkeypatch, "remove", "--all")
    assert (code, data["removed"], data["kept"]) == (0, [], [])
    assert run(["accounts", "remove", "--all"]) == 0
    assert capsys.readouterr().out == "No accounts are saved.\n"


def test_remove_all_keeps_an_account_whose_secret_cannot_be_reached(
    store: AccountStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_keyring: None,
) -> None:
    store.save(simple("kept@example.test", ("account",)))
    store.save(simple("gone@example.test"))
    code, data, _ = cli(capsys, monkeypatch, "remove", "--all")
    assert code == 6
    assert [a["address"] for a in data["removed"]] == ["gone@example.test"]
    (kept,) = data["kept"]
    assert kept["address"] == "kept@example.test"
    assert kept["error"]["code"] == data["error"]["code"] == "keyring.unreachable"
    assert [a.address for a in store.list()] == ["kept@example.test"]


def test_remove_all_and_an_address_together_or_neither_is_a_usage_error(
    store: AccountStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.save(simple("taro@example.test"))
    for argv in (["--all", "taro@example.test"], ["taro@example.test", "--all"], []):
        with pytest.raises(SystemExit) as usage:
            run(["accounts", "remove", *argv])
        assert usage.value.code == 2, argv
        assert "--all" in capsys.readouterr().err
    assert store.get("taro@example.test") is not None


def test_remove_all_signs_a_microsoft_account_out(
    store: AccountStore,
    microsoft_world: tuple[str, str],
    mail_world: MailWorld,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box, refresh_token = microsoft_world
    store.save(microsoft_account(box, mail_world))
    store.save(simple("plain@example.test"))
    code, data, _ = cli(capsys, monkeypatch, "remove", "--all")
    assert code == 0, data
    assert {a["address"]: a["signed_out"] for a in data["removed"]} == {
        box: True,
        "plain@example.test": False,
    }
    cache = TokenCacheStore.open()
    cache.load()
    assert cache.link_for(box) is None
    assert refresh_token not in json.dumps(cache.cache.serialize())
    assert store.list() == []
