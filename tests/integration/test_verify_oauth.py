"""``mailsetup verify --auth oauth2-microsoft``: the cached Microsoft sign-in's tokens sign in to
IMAP and SMTP with XOAUTH2, refreshed silently; without a sign-in it says so."""

from __future__ import annotations

import asyncio
import io
import json
import textwrap
import uuid
from pathlib import Path

import pytest
from keyring.backends import SecretService

from app.cli.main import run
from app.core.auth.microsoft import MicrosoftSignIn
from app.core.auth.token_cache import TokenCacheStore
from app.core.config import MicrosoftSettings
from app.core.net import Network, NetworkOptions
from tests.world.ca import TestCA
from tests.world.fixtures_mail import MailWorld
from tests.world.idp import IdentityProvider
from tests.world.idp_client import browse_sign_in

PASSWORD = "sentinel-idp-Pa55"


@pytest.fixture
def microsoft_config(
    idp_state: IdentityProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> MicrosoftSettings:
    config = tmp_path / "mailsetup.toml"
    config.write_text(
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
    monkeypatch.setenv("MAILSETUP_CONFIG", str(config))
    return MicrosoftSettings(client_id=idp_state.default_client_id, authority=idp_state.authority())


def sign_in(idp: IdentityProvider, settings: MicrosoftSettings, address: str, upn: str) -> None:
    """Sign in the way the window does, storing the tokens in the (test) keyring."""
    service = MicrosoftSignIn(
        settings, Network(NetworkOptions(ca_bundles=(idp.ca_path,))), TokenCacheStore.open()
    )
    flow = asyncio.run(service.start(address))
    outcome = browse_sign_in(idp, flow.auth_uri, upn, PASSWORD)
    asyncio.run(service.finish(flow, outcome.location))


def verify(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, object]]:
    code = run(["verify", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def servers(mail_world: MailWorld, test_ca: TestCA) -> list[str]:
    dovecot, smtp = mail_world.dovecot, mail_world.smtp
    return [
        "--imap",
        f"{dovecot.host}:{dovecot.imap_tls_port}:tls",
        "--smtp",
        f"{smtp.host}:{smtp.starttls_port}:starttls",
        "--ca-bundle",
        str(test_ca.cert_path),
        "--timeout",
        "5",
        "--proxy",
        "direct",
    ]


def test_the_cached_sign_in_signs_in_to_imap_and_smtp(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    idp_state: IdentityProvider,
    secret_keyring: SecretService.Keyring,
    microsoft_config: MicrosoftSettings,
    mail_world: MailWorld,
    test_ca: TestCA,
) -> None:
    tag = uuid.uuid4().hex[:8]
    upn, mailbox = f"signin-{tag}@{idp_state.tenant_domain}", f"mailbox-{tag}@example.test"
    idp_state.add_user(upn, PASSWORD, mailbox=mailbox)
    mail_world.mail_user(mailbox, "unused-" + PASSWORD)
    # a token that is about to expire: MSAL refreshes it silently (within 5 minutes of expiry)
    idp_state.access_token_lifetime = 60
    sign_in(idp_state, microsoft_config, mailbox, upn)
    refreshes_before = len(idp_state.log_for("token"))

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, data = verify(
        capsys, [mailbox, "--auth", "oauth2-microsoft", *servers(mail_world, test_ca)]
    )
    assert code == 0, data
    checks = {c["protocol"]: c for c in data["checks"]}  # type: ignore[union-attr, index]
    assert checks["imap"]["authenticated"] is True
    assert checks["smtp"]["authenticated"] is True
    assert checks["imap"]["data"]["mechanism"] in ("XOAUTH2", "OAUTHBEARER")  # type: ignore[index]
    assert mail_world.dovecot.auth_successes(mailbox) >= 1
    assert len(idp_state.log_for("token")) > refreshes_before, "no silent refresh happened"
    output = json.dumps(data)
    records = idp_state.tokens(upn)
    assert records["access"] and records["refresh"]
    for record in [*records["access"], *records["refresh"]]:
        assert record.token not in output


def test_without_a_cached_sign_in_it_asks_to_sign_in(
    capsys: pytest.CaptureFixture[str],
    secret_keyring: SecretService.Keyring,
    microsoft_config: MicrosoftSettings,
    mail_world: MailWorld,
    test_ca: TestCA,
) -> None:
    code, data = verify(
        capsys,
        [
            f"nobody-{uuid.uuid4().hex[:6]}@example.test",
            "--auth",
            "oauth2-microsoft",
            *servers(mail_world, test_ca),
        ],
    )
    assert code == 3
    assert data["error"]["code"].startswith("signin.")  # type: ignore[index, union-attr]
