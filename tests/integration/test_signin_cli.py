"""``mailsetup signin``, ``signout`` and ``admin consent-url``: exit codes, messages and JSON.

Run as the real console script (no display, HOME in a temporary folder, configuration named by
MAILSETUP_CONFIG), except the ``--system-browser`` sign-ins, which run in this process with a
scripted browser in place of the person (no browser can run here): MSAL's loopback listener,
the test identity provider and the real keyring are all real. The sign-in window itself is
driven under Xvfb in tests/gui/test_signin_window.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import requests

from app.cli import main, signin
from app.core.auth.token_cache import SERVICE_NAME as TOKEN_SERVICE
from tests.world.idp import IdentityProvider
from tests.world.idp_client import browse_sign_in
from tests.world.keyring_service import KeyringService

pytestmark = pytest.mark.world

COMMAND = Path(sys.executable).parent / "mailsetup"
CLIENT_ID = "0a1b2c3d-1111-2222-3333-444455556666"
NATIVE_CLIENT = "https%3A%2F%2Flogin.microsoftonline.com%2Fcommon%2Foauth2%2Fnativeclient"
PASSWORD = "Cli-Password-5"


def _write_config(path: Path, **microsoft: object) -> Path:
    lines = ["[microsoft]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in microsoft.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(
    args: list[str],
    tmp_path: Path,
    *,
    config: Path | None = None,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home)}  # and no display
    if config is not None:
        env["MAILSETUP_CONFIG"] = str(config)
    env.update(extra or {})
    return subprocess.run(
        [str(COMMAND), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


# -- signin: what stops it before any sign-in ---------------------------------------------------


def test_signin_without_a_client_id_exits_6_and_points_to_the_admin_guide(
    tmp_path: Path,
) -> None:
    result = _run(["signin", "anne@example.test"], tmp_path)
    assert result.returncode == 6, result.stderr
    assert result.stdout == ""
    assert "No application (client) ID is configured" in result.stderr
    assert "docs/admin-guide.md" in result.stderr


def test_signin_without_a_client_id_json(tmp_path: Path) -> None:
    result = _run(["signin", "anne@example.test", "--json"], tmp_path)
    assert result.returncode == 6
    error = _json(result)["error"]
    assert error["code"] == "signin.no-client-id"
    assert error["fixer"] == "admin" and error["fault"] == "local-environment"
    assert "docs/admin-guide.md" in error["fix"]
    assert result.stderr == ""


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_signin_without_a_display_exits_6(
    tmp_path: Path, idp_state: IdentityProvider, as_json: bool
) -> None:
    config = _write_config(
        tmp_path / "config.toml",
        client_id=idp_state.default_client_id,
        authority=idp_state.authority(),
    )
    result = _run(
        ["signin", "anne@example.test", *(["--json"] if as_json else [])], tmp_path, config=config
    )
    assert result.returncode == 6, (result.stdout, result.stderr)
    if as_json:
        error = _json(result)["error"]
        assert error["code"] == "no-display"
        assert "--system-browser" in error["fix"]
    else:
        assert "no graphical display" in result.stderr
        assert "--system-browser" in result.stderr
    assert idp_state.log_for("authorize") == []  # nothing was started


def test_signin_with_a_client_secret_in_the_configuration_exits_6(tmp_path: Path) -> None:
    config = _write_config(tmp_path / "config.toml", client_id=CLIENT_ID, client_secret="s3cret")
    result = _run(["signin", "anne@example.test", "--json"], tmp_path, config=config)
    assert result.returncode == 6
    error = _json(result)["error"]
    assert error["code"].startswith("config.")
    assert "s3cret" not in result.stdout + result.stderr


def test_signin_with_a_malformed_address_exits_1(tmp_path: Path) -> None:
    config = _write_config(tmp_path / "config.toml", client_id=CLIENT_ID)
    result = _run(["signin", "not-an-address", "--json"], tmp_path, config=config)
    assert result.returncode == 1
    assert _json(result)["error"]["code"] == "address.no-at"


# -- admin consent-url -------------------------------------------------------------------------


def test_consent_url_prints_the_link(tmp_path: Path) -> None:
    config = _write_config(tmp_path / "config.toml", client_id=CLIENT_ID)
    result = _run(
        ["admin", "consent-url", "--tenant", "contoso.onmicrosoft.com"], tmp_path, config=config
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent"
        f"?client_id={CLIENT_ID}&redirect_uri={NATIVE_CLIENT}\n"
    )


def test_consent_url_json_in_a_national_cloud(tmp_path: Path) -> None:
    tenant = "5f7a1c2e-0000-4000-8000-000000000001"
    config = _write_config(
        tmp_path / "config.toml",
        client_id=CLIENT_ID,
        authority=f"https://login.microsoftonline.us/{tenant}",
    )
    result = _run(["admin", "consent-url", "--tenant", tenant, "--json"], tmp_path, config=config)
    assert result.returncode == 0, result.stderr
    assert _json(result) == {
        "tenant": tenant,
        "client_id": CLIENT_ID,
        "redirect_uri": "https://login.microsoftonline.com/common/oauth2/nativeclient",
        "consent_url": f"https://login.microsoftonline.us/{tenant}/adminconsent"
        f"?client_id={CLIENT_ID}&redirect_uri={NATIVE_CLIENT}",
    }


def test_consent_url_with_a_bad_tenant_exits_1(tmp_path: Path) -> None:
    config = _write_config(tmp_path / "config.toml", client_id=CLIENT_ID)
    result = _run(
        ["admin", "consent-url", "--tenant", "not a/tenant", "--json"], tmp_path, config=config
    )
    assert result.returncode == 1
    assert set(_json(result)["error"]) >= {"code", "message"}


def test_consent_url_without_a_client_id_exits_6(tmp_path: Path) -> None:
    result = _run(["admin", "consent-url", "--tenant", "contoso.onmicrosoft.com"], tmp_path)
    assert result.returncode == 6
    assert result.stdout == ""
    assert "docs/admin-guide.md" in result.stderr


def test_consent_url_needs_a_tenant(tmp_path: Path) -> None:
    result = _run(["admin", "consent-url"], tmp_path)
    assert result.returncode == 2
    assert "--tenant" in result.stderr


# -- signout -----------------------------------------------------------------------------------


def test_signout_of_an_unknown_account_exits_4(
    tmp_path: Path, keyring_service: KeyringService, secret_keyring: Any
) -> None:
    result = _run(
        ["signout", "nobody@example.test", "--json"], tmp_path, extra=_keyring_env(keyring_service)
    )
    assert result.returncode == 4, result.stderr
    assert _json(result) == {"address": "nobody@example.test", "signed_out": False}
    text = _run(["signout", "nobody@example.test"], tmp_path, extra=_keyring_env(keyring_service))
    assert text.returncode == 4
    assert text.stdout == "There is no saved sign-in for nobody@example.test.\n"


def test_signout_all_with_no_saved_sign_in_exits_0(
    tmp_path: Path, keyring_service: KeyringService, secret_keyring: Any
) -> None:
    env = _keyring_env(keyring_service)
    # the keyring is the session's: sign-ins of earlier tests may still be in it
    assert _run(["signout", "--all"], tmp_path, extra=env).returncode == 0
    result = _run(["signout", "--all", "--json"], tmp_path, extra=env)
    assert result.returncode == 0, result.stderr
    assert _json(result) == {"signed_out": []}
    text = _run(["signout", "--all"], tmp_path, extra={**env, "LANG": "C.UTF-8"})
    assert text.returncode == 0
    assert "no saved Microsoft sign-ins" in text.stdout


@pytest.mark.parametrize(
    "argv", [["signout"], ["signout", "--all", "anne@example.test"]], ids=["neither", "both"]
)
def test_signout_needs_an_address_or_all_but_not_both(tmp_path: Path, argv: list[str]) -> None:
    result = _run(argv, tmp_path)
    assert result.returncode == 2
    assert "ADDRESS" in result.stderr and "--all" in result.stderr


def _keyring_env(service: KeyringService) -> dict[str, str]:
    return {
        **service.environ(),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
    }


# -- signin --system-browser, in this process ---------------------------------------------------


class ScriptedBrowser:
    """Plays the person in a web browser: gets the sign-in link (MSAL could open no browser:
    BROWSER=false), signs in on the provider's pages and sends the answer to MSAL's loopback
    listener, in a thread of its own."""

    def __init__(
        self, idp: IdentityProvider, upn: str, consent: Literal["accept", "cancel"] = "accept"
    ) -> None:
        self.idp = idp
        self.upn = upn
        self.consent = consent
        self.links: list[str] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.links.append(url)
        thread = threading.Thread(target=self._play, args=(url,), daemon=True)
        self.threads.append(thread)
        thread.start()

    def _play(self, url: str) -> None:
        try:
            outcome = browse_sign_in(self.idp, url, self.upn, PASSWORD, consent=self.consent)
            assert outcome.location.startswith("http://localhost:"), outcome.location
            session = requests.Session()
            session.trust_env = False
            session.post(outcome.location, data=outcome.auth_response, timeout=10)
        except BaseException as exc:  # shown by the test
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=15)


@pytest.fixture
def browser_world(
    tmp_path: Path,
    idp_state: IdentityProvider,
    secret_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., ScriptedBrowser]]:
    config = _write_config(
        tmp_path / "config.toml",
        client_id=idp_state.default_client_id,
        authority=idp_state.authority(),
    )
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f"\n[network]\nca_bundle = [{json.dumps(str(idp_state.ca_path))}]\n")
    monkeypatch.setenv("MAILSETUP_CONFIG", str(config))
    monkeypatch.setenv("BROWSER", "false")  # no browser opens: MSAL hands us the link
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setattr(signin, "SYSTEM_BROWSER_WAIT", 30.0)
    made: list[ScriptedBrowser] = []

    def make(upn: str, consent: Literal["accept", "cancel"] = "accept") -> ScriptedBrowser:
        browser = ScriptedBrowser(idp_state, upn, consent)
        monkeypatch.setattr(signin, "show_link", browser)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.join()


def _user(idp: IdentityProvider) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    upn, mailbox = f"cli{tag}@contoso.test", f"cli{tag}.box@example.test"
    idp.add_user(upn, PASSWORD, mailbox=mailbox)
    return upn, mailbox


def test_system_browser_sign_in_then_sign_out(
    browser_world: Callable[..., ScriptedBrowser],
    idp_state: IdentityProvider,
    keyring_service: KeyringService,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    upn, mailbox = _user(idp_state)
    browser = browser_world(upn)
    code = main.run(["signin", mailbox, "--system-browser", "--json"])
    browser.join()
    out, err = capsys.readouterr()
    assert browser.errors == []
    assert code == 0, (out, err)
    answer = json.loads(out)
    assert answer["address"] == mailbox and answer["username"] == upn
    assert answer["tenant_id"] == idp_state.tenant_id
    assert answer["method"] == "system-browser" and answer["persistent"] is True
    assert answer["expires_on"] > 0 and answer["expires"]
    assert len(browser.links) == 1 and "response_mode=form_post" in browser.links[0]
    issued = idp_state.tokens(upn)
    secrets = [t.token for t in issued["access"] + issued["refresh"]]
    assert secrets  # the sign-in got tokens...
    assert not [s for s in secrets if s in out + err]  # ...and never shows one
    env = {**_keyring_env(keyring_service), "MAILSETUP_CONFIG": os.environ["MAILSETUP_CONFIG"]}
    first = _run(["signout", mailbox, "--json"], tmp_path, extra=env)  # another process
    assert first.returncode == 0, first.stderr
    assert _json(first) == {"address": mailbox, "signed_out": True}
    second = _run(["signout", mailbox, "--json"], tmp_path, extra=env)
    assert second.returncode == 4


def test_signout_all_forgets_every_sign_in_without_a_client_id(
    browser_world: Callable[..., ScriptedBrowser],
    idp_state: IdentityProvider,
    keyring_service: KeyringService,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    mailboxes: list[str] = []
    for _ in range(2):
        upn, mailbox = _user(idp_state)
        browser = browser_world(upn)
        code = main.run(["signin", mailbox, "--system-browser", "--json"])
        browser.join()
        out, err = capsys.readouterr()
        assert browser.errors == [] and code == 0, (out, err)
        mailboxes.append(mailbox)

    def token_cache() -> str:
        found = keyring_service.secret_tool("search", "--all", "service", TOKEN_SERVICE)
        return found.stdout + found.stderr

    assert "chunk-" in token_cache() and TOKEN_SERVICE in token_cache()
    # the uninstaller's purge: another process, and no configuration (no client ID) at all
    result = _run(["signout", "--all", "--json"], tmp_path, extra=_keyring_env(keyring_service))
    assert result.returncode == 0, result.stderr
    assert sorted(_json(result)["signed_out"]) == sorted(mailboxes)
    assert TOKEN_SERVICE not in token_cache()  # no entry of the token cache is left
    for mailbox in mailboxes:
        again = _run(["signout", mailbox], tmp_path, extra=_keyring_env(keyring_service))
        assert again.returncode == 4, again.stdout


def test_system_browser_sign_in_declined_exits_5(
    browser_world: Callable[..., ScriptedBrowser],
    idp_state: IdentityProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    upn, mailbox = _user(idp_state)
    browser = browser_world(upn, consent="cancel")
    code = main.run(["signin", mailbox, "--system-browser", "--json"])
    browser.join()
    out, _ = capsys.readouterr()
    assert browser.errors == []
    assert code == 5, out
    assert json.loads(out)["error"]["code"] == "aadsts.65004"


def test_system_browser_sign_in_refused_exits_3(
    browser_world: Callable[..., ScriptedBrowser],
    idp_state: IdentityProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    upn, mailbox = _user(idp_state)
    idp_state.fail_next("authorize", 53003)  # Conditional Access blocked the sign-in
    browser = browser_world(upn)
    code = main.run(["signin", mailbox, "--system-browser"])
    browser.join()
    out, err = capsys.readouterr()
    assert browser.errors == []
    assert code == 3, (out, err)
    assert out == ""
    assert err.startswith("mailsetup: ")
