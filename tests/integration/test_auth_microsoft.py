"""Microsoft sign-in (app/core/auth/microsoft.py) against the test world's identity provider,
the real Secret Service and Dovecot: the whole auth code flow with PKCE driven through the
provider's HTML forms, tokens kept only in the encrypted keyring, a second process refreshing
silently, XOAUTH2 with the mailbox address when the sign-in name differs, sign-out, and each
error path (cancel, declined consent, wrong tenant, expired or revoked refresh tokens, a
registration that is not a public client, a state mismatch). MSAL's HTTP goes through the
network seam (msal_http.py), also under Microsoft's real host names mapped to the provider."""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import ssl
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import imapclient
import pytest
from keyring.backends import SecretService

from app.core.auth.microsoft import (
    IMAP_SCOPE,
    SMTP_SCOPE,
    MicrosoftSignIn,
    SignInCancelled,
    SignInError,
    SignInFlow,
    SignInRequired,
)
from app.core.auth.msal_http import SeamHttpClient
from app.core.auth.token_cache import (
    MANIFEST_ENTRY,
    StorageKind,
    TokenCacheStore,
    keyring_storage,
)
from app.core.config import MicrosoftSettings
from app.core.errors import ConfigError, ServerError
from app.core.net import Network, NetworkOptions, parse_resolve
from tests.world.ca import TestCA
from tests.world.fixtures_mail import MailWorld
from tests.world.idp import IdentityProvider
from tests.world.idp_client import browse_sign_in
from tests.world.keyring_service import KeyringService

pytestmark = pytest.mark.world

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Entra password 1"
SUBPROCESS_TIMEOUT = 60


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@dataclass
class World:
    """One test's sign-in setup: settings aimed at the provider, a store in the keyring under
    a service name of its own, and the HOME/XDG folders the processes use."""

    idp: IdentityProvider
    keyring: KeyringService
    settings: MicrosoftSettings
    net: Network
    service: str
    home: Path
    config_file: Path

    def store(self) -> TokenCacheStore:
        return TokenCacheStore.open(service=self.service)

    def signin(self, store: TokenCacheStore | None = None) -> MicrosoftSignIn:
        return MicrosoftSignIn(self.settings, self.net, store or self.store())

    def user(self, *, mailbox: str | None = None) -> tuple[str, str]:
        """A new user: (sign-in name, mailbox address)."""
        tag = uuid.uuid4().hex[:8]
        upn = f"user-{tag}@{self.idp.tenant_domain}"
        address = mailbox or upn
        self.idp.add_user(upn, PASSWORD, mailbox=address)
        return upn, address

    def keyring_items(self) -> list[tuple[str, bytes]]:
        """(entry name, secret) of every item under this test's service name."""
        collection = SecretService.Keyring().get_preferred_collection()
        with closing(collection.connection):
            return [
                (item.get_attributes()["username"], item.get_secret())
                for item in collection.search_items({"service": self.service})
            ]


@pytest.fixture
def world(
    idp_state: IdentityProvider,
    secret_keyring: SecretService.Keyring,
    keyring_service: KeyringService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    home = tmp_path / "home"
    for name, sub in (
        ("HOME", ""),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        folder = home / sub
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    config_file = tmp_path / "mailsetup.toml"
    config_file.write_text(
        textwrap.dedent(
            f"""\
            [microsoft]
            client_id = "{idp_state.default_client_id}"
            authority = "{idp_state.authority()}"

            [network]
            ca_bundle = ["{idp_state.ca_path}"]
            """
        ),
        encoding="utf-8",
    )
    settings = MicrosoftSettings(
        client_id=idp_state.default_client_id, authority=idp_state.authority()
    )
    net = Network(NetworkOptions(ca_bundles=(idp_state.ca_path,)))
    yield World(
        idp_state,
        keyring_service,
        settings,
        net,
        f"mailsetup-test-{uuid.uuid4().hex[:10]}",
        home,
        config_file,
    )


def _browse(world: World, flow: SignInFlow, upn: str, **kwargs: Any) -> str:
    """Play the person in the sign-in window; the redirect URL the window would catch."""
    outcome = browse_sign_in(world.idp, _to_idp(world, flow.auth_uri), upn, PASSWORD, **kwargs)
    return outcome.location


def _to_idp(world: World, url: str) -> str:
    """A URL on one of Microsoft's host names, sent to the provider (the test's own HTTP
    client has no --resolve; the provider serves every host name it covers)."""
    parts = urlsplit(url)
    if parts.hostname in ("127.0.0.1", "localhost"):
        return url
    base = urlsplit(world.idp.base_url)
    return urlunsplit((parts.scheme, base.netloc, parts.path, parts.query, parts.fragment))


def _sign_in(world: World, signin: MicrosoftSignIn, address: str, upn: str) -> Any:
    flow = _run(signin.start(address))
    return _run(signin.finish(flow, _browse(world, flow, upn)))


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def _tls(test_ca: TestCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.cert_path))


# --- the happy path ---------------------------------------------------------------------------


def test_sign_in_stores_tokens_in_the_keyring_only(world: World) -> None:
    upn, address = world.user()
    store = world.store()
    assert store.storage.kind is StorageKind.KEYRING  # msal-extensions has no PyGObject here
    assert any("gi" in reason or "libsecret" in reason.lower() for reason in store.tried)
    signin = world.signin(store)
    flow = _run(signin.start(address))
    query = dict(parse_qsl(urlsplit(flow.auth_uri).query))
    assert query["login_hint"] == address
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["redirect_uri"] == world.settings.redirect_uri
    assert set(query["scope"].split()) == {
        IMAP_SCOPE,
        SMTP_SCOPE,
        "openid",
        "profile",
        "offline_access",
    }
    result = _run(signin.finish(flow, _browse(world, flow, upn)))

    assert result.address == address and result.username == upn
    assert result.persistent
    assert world.idp.introspect(result.access_token.reveal())["active"]
    assert "EwB" not in repr(result) and result.access_token.reveal() not in repr(result)
    token_request = world.idp.log_for("token")[-1]
    assert token_request.params["grant_type"] == "authorization_code"
    assert token_request.params.get("code_verifier"), "PKCE verifier must be sent"

    entries = dict(world.keyring_items())
    assert MANIFEST_ENTRY in entries and len(entries) >= 2
    refresh = world.idp.tokens(upn)["refresh"][0].token
    for secret in entries.values():
        assert (
            refresh.encode() not in secret and result.access_token.reveal().encode() not in secret
        )
    accounts = _run(signin.accounts())
    assert [(a.address, a.username, a.needs_sign_in) for a in accounts] == [(address, upn, False)]


def test_a_second_process_refreshes_silently_and_nothing_is_left_in_files(
    world: World, test_ca: TestCA
) -> None:
    world.idp.access_token_lifetime = 120  # under MSAL's five minutes: every use refreshes
    upn, address = world.user()
    first = _sign_in(world, world.signin(), address, upn)
    world.idp.expire_access_tokens(upn)
    assert not world.idp.introspect(first.access_token.reveal())["active"]
    world.idp.clear_log()

    script = textwrap.dedent(
        """\
        import asyncio, json, sys
        from app.core.auth.microsoft import IMAP_SCOPE, MicrosoftSignIn
        from app.core.auth.token_cache import TokenCacheStore
        from app.core.config import load_config
        from app.core.net import Network, NetworkOptions

        config = load_config()
        store = TokenCacheStore.open(service=sys.argv[1])
        net = Network(config.network_options(NetworkOptions()))
        signin = MicrosoftSignIn(config.microsoft, net, store)

        async def main():
            accounts = await signin.accounts()
            token = await signin.access_token(sys.argv[2], [IMAP_SCOPE])
            return {
                "storage": store.storage.kind.value,
                "accounts": [a.to_dict() for a in accounts],
                "token": token.reveal(),
            }

        print(json.dumps(asyncio.run(main())))
        """
    )
    env = dict(os.environ, MAILSETUP_CONFIG=str(world.config_file))
    done = subprocess.run(
        [sys.executable, "-c", script, world.service, address],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["storage"] == "keyring"
    assert [(a["address"], a["username"]) for a in answer["accounts"]] == [(address, upn)]
    token = answer["token"]
    assert token != first.access_token.reveal()
    assert world.idp.introspect(token)["active"]
    grants = [e.params.get("grant_type") for e in world.idp.log_for("token")]
    assert grants == ["refresh_token"]

    # nothing under the processes' HOME and XDG folders, nor in the keyring's own files,
    # holds a token in clear
    secrets_seen = [token, first.access_token.reveal()]
    secrets_seen += [t.token for t in world.idp.tokens(upn)["refresh"]]
    files = [p for p in world.home.rglob("*") if p.is_file()]
    for secret in secrets_seen:
        needle = secret.encode()
        assert [p for p in files if needle in p.read_bytes()] == []
        assert world.keyring.files_containing(needle) == []


def test_xoauth2_uses_the_mailbox_when_the_sign_in_name_differs(
    world: World, mail_world: MailWorld, test_ca: TestCA
) -> None:
    dovecot = mail_world.dovecot
    tag = uuid.uuid4().hex[:8]
    mailbox = mail_world.mail_user(f"mail-{tag}@example.test", "unused password")
    upn, _ = world.user(mailbox=mailbox)  # signs in as user-...@contoso.test
    assert upn != mailbox
    signin = world.signin()
    result = _sign_in(world, signin, mailbox, upn)
    assert result.username == upn and result.address == mailbox

    credentials = _run(signin.oauth_credentials(mailbox, [IMAP_SCOPE]))
    assert credentials.username == mailbox and credentials.kind.value == "oauth2"
    with imapclient.IMAPClient(
        dovecot.host, port=dovecot.imap_tls_port, ssl=True, ssl_context=_tls(test_ca), timeout=10
    ) as client:
        client.oauth2_login(credentials.username, credentials.secret.reveal())
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    assert dovecot.auth_successes(mailbox) == 1
    # the sign-in name is not the mailbox: Dovecot refuses it with the same token
    with (
        imapclient.IMAPClient(
            dovecot.host,
            port=dovecot.imap_tls_port,
            ssl=True,
            ssl_context=_tls(test_ca),
            timeout=10,
        ) as client,
        pytest.raises(imapclient.exceptions.LoginError),
    ):
        client.oauth2_login(upn, credentials.secret.reveal())

    # SMTP asks for its own scope (here the cached token covers it: same resource); user= is
    # the mailbox too
    smtp = _run(signin.oauth_credentials(mailbox, [SMTP_SCOPE]))
    blob = f"user={smtp.username}\x01auth=Bearer {smtp.secret.reveal()}\x01\x01"
    with smtplib.SMTP_SSL(
        mail_world.smtp.host, mail_world.smtp.tls_port, context=_tls(test_ca), timeout=10
    ) as client:
        client.ehlo("client.example.test")
        code, _ = client.auth("XOAUTH2", lambda challenge=None: blob, initial_response_ok=True)
        assert code == 235
    assert mail_world.smtp.auth_successes(mailbox) == 1


def test_imap_and_smtp_tokens_are_separate_requests(world: World) -> None:
    world.idp.access_token_lifetime = 120
    upn, address = world.user()
    signin = world.signin()
    _sign_in(world, signin, address, upn)
    world.idp.clear_log()
    imap = _run(signin.access_token(address, [IMAP_SCOPE]))
    smtp = _run(signin.access_token(address, [SMTP_SCOPE]))
    assert imap != smtp
    scopes = [set(e.params["scope"].split()) for e in world.idp.log_for("token")]
    assert [s - {"openid", "profile", "offline_access"} for s in scopes] == [
        {IMAP_SCOPE},
        {SMTP_SCOPE},
    ]
    with pytest.raises(ValueError, match="one resource"):
        _run(signin.access_token(address, [IMAP_SCOPE, "https://graph.microsoft.com/Mail.Send"]))


def test_scopes_of_two_resources_are_consented_once_and_redeemed_one_resource_each(
    world: World,
) -> None:
    graph = "https://graph.microsoft.com/Mail.Send"
    upn, address = world.user()
    settings = MicrosoftSettings(
        client_id=world.idp.default_client_id,
        authority=world.idp.authority(),
        scopes=(IMAP_SCOPE, graph, "offline_access"),
    )
    signin = MicrosoftSignIn(settings, world.net, world.store())
    flow = _run(signin.start(address))
    assert "offline_access" not in flow.scopes
    result = _run(signin.finish(flow, _browse(world, flow, upn)))
    assert world.idp.introspect(result.access_token.reveal())["aud"] == "https://outlook.office.com"
    assert world.idp.consented(upn, world.idp.default_client_id) >= {IMAP_SCOPE, graph}
    token = _run(signin.access_token(address, [graph]))  # from the refresh token, no prompt
    assert world.idp.introspect(token.reveal())["aud"] == "https://graph.microsoft.com"
    asked = [set(e.params["scope"].split()) for e in world.idp.log_for("token")]
    resources = [{s.split("/")[2] for s in a if "://" in s} for a in asked]
    assert resources == [{"outlook.office.com"}, {"graph.microsoft.com"}]


def test_sign_out_removes_everything_from_the_keyring(world: World) -> None:
    upn, address = world.user()
    signin = world.signin()
    _sign_in(world, signin, address, upn)
    assert world.keyring_items()
    listed = world.keyring.secret_tool("search", "--all", "service", world.service)
    assert "attribute.username = manifest" in listed.stdout + listed.stderr

    assert _run(signin.sign_out(address)) is True
    assert world.keyring_items() == []
    listed = world.keyring.secret_tool("search", "--all", "service", world.service)
    assert "manifest" not in listed.stdout + listed.stderr
    assert _run(signin.accounts()) == []
    assert _run(signin.sign_out(address)) is False
    fresh = world.signin()  # a new process would find nothing either
    with pytest.raises(SignInRequired) as caught:
        _run(fresh.access_token(address, [IMAP_SCOPE]))
    assert caught.value.finding.code == "signin.required"


def test_sign_out_keeps_an_account_another_mailbox_still_uses(world: World) -> None:
    upn, address = world.user()
    shared = f"shared-{uuid.uuid4().hex[:6]}@{world.idp.tenant_domain}"
    signin = world.signin()
    _sign_in(world, signin, address, upn)
    flow = _run(signin.start(shared))
    _run(signin.finish(flow, _browse(world, flow, upn)))  # the same person, a shared mailbox
    assert _run(signin.sign_out(address))
    assert [a.address for a in _run(signin.accounts())] == [shared]
    assert _run(signin.access_token(shared, [IMAP_SCOPE]))


# --- Microsoft's host names, the tenant from detection ----------------------------------------


@pytest.mark.parametrize("host", ["login.microsoftonline.com", "login.microsoftonline.us"])
def test_tenant_from_detection_on_microsofts_host_names(world: World, host: str) -> None:
    upn, address = world.user()
    net = Network(
        NetworkOptions(
            ca_bundles=(world.idp.ca_path,),
            resolve=(parse_resolve(f"{host}:443:127.0.0.1:{world.idp.port}"),),
        )
    )
    settings = MicrosoftSettings(client_id=world.idp.default_client_id)  # no authority
    signin = MicrosoftSignIn(settings, net, world.store())
    flow = _run(signin.start(address, tenant_hint=world.idp.tenant_id, authority_host=host))
    assert flow.authority.url == f"https://{host}/{world.idp.tenant_id}"
    assert urlsplit(flow.auth_uri).hostname == host
    result = _run(signin.finish(flow, _browse(world, flow, upn)))
    assert result.authority == flow.authority.url
    assert result.tenant_id == world.idp.tenant_id
    discovery = world.idp.log_for("discovery")
    assert discovery and all(e.host.split(":")[0] == host for e in discovery)


def test_msal_http_goes_through_the_seam_and_refuses_redirects(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-ca.pem"
    bogus.write_text("not a certificate", encoding="utf-8")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bogus))  # the requests trap does not apply
    net = Network(
        NetworkOptions(
            ca_bundles=(world.idp.ca_path,),
            resolve=(parse_resolve(f"login.microsoftonline.com:443:127.0.0.1:{world.idp.port}"),),
        )
    )
    client = SeamHttpClient(net)
    base = f"https://login.microsoftonline.com/{world.idp.tenant_id}"
    answer = client.get(f"{base}/v2.0/.well-known/openid-configuration", params={"x": "1"})
    assert answer.status_code == 200
    assert json.loads(answer.text)["token_endpoint"].startswith("https://login.microsoftonline")
    assert "content-type" in answer.headers
    answer.raise_for_status()

    refused = client.post(
        f"{base}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": world.idp.default_client_id,
            "refresh_token": "not-a-token",
        },
        headers={"client-request-id": None},
    )
    assert refused.status_code == 400
    assert json.loads(refused.text)["error"] == "invalid_grant"
    with pytest.raises(Exception, match="400"):
        refused.raise_for_status()

    async def from_a_running_loop() -> int:  # MSAL called on an event loop's thread
        return client.get(f"{base}/v2.0/.well-known/openid-configuration").status_code

    assert _run(from_a_running_loop()) == 200

    authorize = f"{base}/oauth2/v2.0/authorize"
    params = {
        "client_id": world.idp.default_client_id,
        "redirect_uri": "http://localhost",
        "response_type": "code",
        "scope": IMAP_SCOPE,
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "prompt": "none",  # the provider answers with a redirect carrying the error
    }
    with pytest.raises(ServerError) as caught:
        client.get(authorize, params=params)
    assert caught.value.code == "signin.redirected"
    assert caught.value.detail["location"].startswith("http://localhost")


# --- error paths ------------------------------------------------------------------------------


def test_cancel_on_the_consent_page(world: World) -> None:
    upn, address = world.user()
    signin = world.signin()
    flow = _run(signin.start(address))
    location = _browse(world, flow, upn, consent="cancel")
    with pytest.raises(SignInCancelled) as caught:
        _run(signin.finish(flow, location))
    assert caught.value.finding.code == "aadsts.65004"
    assert caught.value.finding.outcome.value == "info"
    assert world.idp.log_for("token") == []
    assert _run(signin.accounts()) == []


def test_cancelled_in_the_window(world: World) -> None:
    _, address = world.user()
    signin = world.signin()
    flow = _run(signin.start(address))
    cancelled = f"{flow.redirect_uri}?error=access_denied&error_subcode=cancel&state={flow.state}"
    with pytest.raises(SignInCancelled) as caught:
        _run(signin.finish(flow, cancelled))
    assert caught.value.finding.code == "signin.cancelled"


@pytest.mark.parametrize("code", [65001, 90094])
def test_consent_needed_carries_the_admin_consent_link(world: World, code: int) -> None:
    upn, address = world.user()
    world.idp.fail_next("authorize", code)
    signin = world.signin()
    flow = _run(signin.start(address))
    with pytest.raises(SignInError) as caught:
        _run(signin.finish(flow, _browse(world, flow, upn)))
    finding = caught.value.finding
    assert finding.code == f"aadsts.{code}" and finding.fixer.value == "admin"
    link = str(finding.detail["admin_consent_url"])
    assert f"/{world.idp.tenant_id}/adminconsent?" in link
    assert f"client_id={world.idp.default_client_id}" in link


def test_wrong_tenant_unknown_to_microsoft(world: World) -> None:
    _, address = world.user()
    settings = MicrosoftSettings(
        client_id=world.idp.default_client_id, authority=world.idp.authority("nowhere.test")
    )
    signin = MicrosoftSignIn(settings, world.net, world.store())
    with pytest.raises(SignInError) as caught:
        _run(signin.start(address))
    assert caught.value.finding.code == "aadsts.90002"
    assert caught.value.aadsts == 90002


def test_user_not_in_the_tenant(world: World) -> None:
    upn, address = world.user()
    world.idp.fail_next("authorize", 50020)
    signin = world.signin()
    flow = _run(signin.start(address))
    with pytest.raises(SignInError) as caught:
        _run(signin.finish(flow, _browse(world, flow, upn)))
    assert caught.value.finding.code == "aadsts.50020"
    assert not isinstance(caught.value, SignInRequired)


def test_registration_without_public_client_flows(world: World) -> None:
    upn, address = world.user()
    world.idp.fail_next("token", 7000218)
    signin = world.signin()
    flow = _run(signin.start(address))
    with pytest.raises(SignInError) as caught:
        _run(signin.finish(flow, _browse(world, flow, upn)))
    finding = caught.value.finding
    assert finding.code == "aadsts.7000218" and finding.fixer.value == "admin"
    assert "AADSTS7000218" in (finding.server_said or "")


def test_a_confidential_registration_is_refused_for_real(world: World) -> None:
    upn, address = world.user()
    client_id = str(uuid.uuid4())
    world.idp.register_client(
        client_id, [world.settings.redirect_uri], public=False, secret="web-app-secret"
    )
    settings = MicrosoftSettings(client_id=client_id, authority=world.idp.authority())
    signin = MicrosoftSignIn(settings, world.net, world.store())
    flow = _run(signin.start(address))
    with pytest.raises(SignInError) as caught:
        _run(signin.finish(flow, _browse(world, flow, upn)))
    assert caught.value.finding.code == "aadsts.7000218"


def test_expired_refresh_token_asks_to_sign_in_again(world: World) -> None:
    world.idp.access_token_lifetime = 120
    upn, address = world.user()
    signin = world.signin()
    _sign_in(world, signin, address, upn)
    world.idp.expire_all(upn)
    with pytest.raises(SignInRequired) as caught:
        _run(signin.access_token(address, [IMAP_SCOPE]))
    assert caught.value.finding.code == "aadsts.700082"
    # the saved account shows "sign in again", also in a new process
    assert [a.needs_sign_in for a in _run(world.signin().accounts())] == [True]
    # signing in again clears it
    _sign_in(world, signin, address, upn)
    assert [a.needs_sign_in for a in _run(signin.accounts())] == [False]
    assert _run(signin.access_token(address, [IMAP_SCOPE]))


def test_revoked_after_a_password_change(world: World) -> None:
    world.idp.access_token_lifetime = 120
    upn, address = world.user()
    signin = world.signin()
    _sign_in(world, signin, address, upn)
    world.idp.set_password(upn, "a new password")  # revokes the refresh tokens
    with pytest.raises(SignInRequired) as caught:
        _run(signin.access_token(address, [IMAP_SCOPE]))
    assert caught.value.finding.code == "aadsts.50173"
    assert caught.value.finding.fix is not None
    assert [a.needs_sign_in for a in _run(signin.accounts())] == [True]


def test_state_mismatch_is_refused_before_anything_is_sent(world: World) -> None:
    upn, address = world.user()
    signin = world.signin()
    flow = _run(signin.start(address))
    location = _browse(world, flow, upn)
    world.idp.clear_log()
    with pytest.raises(SignInError) as caught:
        _run(signin.finish(flow, _with_param(location, "state", "forged-state")))
    assert caught.value.finding.code == "signin.state-mismatch"
    assert world.idp.log_for("token") == []
    # the genuine answer still works: the code was not spent by the forged one
    result = _run(signin.finish(flow, location))
    assert result.username == upn


def test_a_redirect_elsewhere_is_refused(world: World) -> None:
    upn, address = world.user()
    signin = world.signin()
    flow = _run(signin.start(address))
    location = _browse(world, flow, upn)
    elsewhere = "https://attacker.test/oauth2/nativeclient?" + urlsplit(location).query
    with pytest.raises(SignInError) as caught:
        _run(signin.finish(flow, elsewhere))
    assert caught.value.finding.code == "signin.bad-redirect"


def test_no_client_id_is_a_configuration_error(world: World) -> None:
    signin = MicrosoftSignIn(MicrosoftSettings(), world.net, world.store())
    with pytest.raises(ConfigError):
        _run(signin.start("someone@contoso.test"))


def test_keyring_storage_is_what_the_default_open_picks(world: World) -> None:
    chosen = keyring_storage(world.service)
    assert chosen.kind is StorageKind.KEYRING
    assert "SecretService" in chosen.description
