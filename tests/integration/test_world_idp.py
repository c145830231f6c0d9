"""The test world's identity provider, driven through real MSAL and a plain HTTP client:
discovery, the auth-code flow with PKCE, consent, refresh-token rotation, AADSTS errors and
token introspection (what the mail servers use to check XOAUTH2/OAUTHBEARER tokens)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests

from tests.world.idp import IMAP_SCOPE, OUTLOOK_RESOURCE, SMTP_SCOPE, IdentityProvider
from tests.world.idp_client import (
    NATIVE_CLIENT_REDIRECT,
    SignInPageError,
    browse_sign_in,
    http_session,
    initiate_flow,
    msal_app,
    sign_in_with_msal,
)
from tests.world.idp_model import CONSUMERS_TENANT_ID, pkce_s256

pytestmark = pytest.mark.world

PASSWORD = "Correct-Horse-7"


@pytest.fixture
def user(idp_state: IdentityProvider) -> Iterator[str]:
    """A fresh user per test whose sign-in name differs from the mailbox (UPN != SMTP)."""
    upn = f"user{uuid.uuid4().hex[:8]}@contoso.test"
    idp_state.add_user(upn, PASSWORD, mailbox=upn.replace("@contoso.test", ".box@example.test"))
    yield upn


def _decode(part: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _introspect(idp: IdentityProvider, token: str, url: str | None = None) -> dict[str, object]:
    answer = http_session(idp).post(url or idp.introspection_url, data={"token": token}, timeout=5)
    assert answer.status_code == 200
    decoded: dict[str, object] = answer.json()
    return decoded


def _token_post(idp: IdentityProvider, data: dict[str, str]) -> requests.Response:
    return http_session(idp).post(f"{idp.authority()}/oauth2/v2.0/token", data=data, timeout=5)


# -- discovery ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["GUID", "contoso.test", "common", "organizations", "consumers"])
def test_discovery_answers_for_every_kind_of_tenant(idp: IdentityProvider, tenant: str) -> None:
    tenant = idp.tenant_id if tenant == "GUID" else tenant
    doc = (
        http_session(idp)
        .get(f"{idp.authority(tenant)}/v2.0/.well-known/openid-configuration", timeout=5)
        .json()
    )
    expected_path = idp.tenant_id if tenant == "contoso.test" else tenant
    assert doc["token_endpoint"] == f"{idp.base_url}/{expected_path}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"].startswith(f"{idp.base_url}/{expected_path}/")
    if tenant in ("common", "organizations"):
        assert doc["issuer"] == f"{idp.base_url}/{{tenantid}}/v2.0"
    elif tenant == "consumers":
        assert doc["issuer"] == f"{idp.base_url}/{CONSUMERS_TENANT_ID}/v2.0"
    else:
        assert doc["issuer"] == f"{idp.base_url}/{idp.tenant_id}/v2.0"
        assert doc["tenant_region_scope"] == "WW"
    assert doc["cloud_instance_name"] == "microsoftonline.com"


def test_unknown_tenant_is_aadsts90002_and_msal_refuses_it(idp: IdentityProvider) -> None:
    answer = http_session(idp).get(
        f"{idp.authority('nobody.test')}/v2.0/.well-known/openid-configuration", timeout=5
    )
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [90002]
    with pytest.raises(ValueError, match="tenant name or GUID") as caught:
        msal_app(idp, tenant="nobody.test")
    assert "AADSTS90002" in str(caught.value.__context__)


def test_certificate_and_urls_follow_microsoft_host_names(idp: IdentityProvider) -> None:
    """Reached as login.microsoftonline.com (as host overrides will do), the certificate
    verifies for that name and discovery hands out URLs on that name."""
    context = ssl.create_default_context(cafile=str(idp.ca_path))
    conn = http.client.HTTPSConnection("127.0.0.1", idp.port, context=context, timeout=5)
    raw = socket.create_connection(("127.0.0.1", idp.port), timeout=5)
    conn.sock = context.wrap_socket(raw, server_hostname="login.microsoftonline.com")
    try:
        conn.putrequest(
            "GET", "/organizations/v2.0/.well-known/openid-configuration", skip_host=True
        )
        conn.putheader("Host", "login.microsoftonline.com")
        conn.endheaders()
        doc = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert doc["token_endpoint"] == (
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
    )


# -- the interactive flow ----------------------------------------------------------------------


def test_msal_sign_in_gives_tokens_and_a_signed_id_token(
    idp_state: IdentityProvider, user: str
) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD, scopes=(IMAP_SCOPE, SMTP_SCOPE))
    result = signed.result
    assert "error" not in result, result
    assert result["token_type"] == "Bearer"
    assert result["access_token"].count(".") != 2  # opaque: never a JWT the app could parse
    assert result["refresh_token"]
    assert set(result["scope"].split()) == {IMAP_SCOPE, SMTP_SCOPE}
    assert signed.browser.pages == ["signin", "consent"]
    claims = result["id_token_claims"]
    record = idp_state.user(user)
    assert claims["preferred_username"] == user
    assert claims["oid"] == record.oid
    assert claims["tid"] == idp_state.tenant_id
    assert claims["aud"] == idp_state.default_client_id
    assert claims["iss"] == f"{idp_state.base_url}/{idp_state.tenant_id}/v2.0"
    # The ID token is RS256-signed by the key published in the JWKS.
    header = _decode(result["id_token"].split(".")[0])
    assert header["alg"] == "RS256"
    keys = (
        http_session(idp_state)
        .get(f"{idp_state.authority()}/discovery/v2.0/keys", timeout=5)
        .json()["keys"]
    )
    assert [k["kid"] for k in keys] == [header["kid"]]
    assert idp_state.key.verify(result["id_token"])["oid"] == record.oid
    # MSAL built the account from client_info.
    (account,) = signed.app.get_accounts(username=user)
    assert account["home_account_id"] == f"{record.oid}.{idp_state.tenant_id}"


def test_login_hint_is_prefilled_on_the_sign_in_page(
    idp_state: IdentityProvider, user: str
) -> None:
    app = msal_app(idp_state)
    flow = initiate_flow(app, [IMAP_SCOPE], login_hint=user)
    page = http_session(idp_state).get(flow["auth_uri"], timeout=5)
    assert page.status_code == 200
    for element in ('id="username"', 'id="password"', 'id="submit"', f'value="{user}"'):
        assert element in page.text
    # The browser leg works with the prefilled name alone (upn=None keeps the hint).
    outcome = browse_sign_in(idp_state, flow["auth_uri"], None, PASSWORD)
    assert "code" in outcome.auth_response


def test_state_round_trips_and_redirect_uri_keeps_loopback_form(
    idp_state: IdentityProvider, user: str
) -> None:
    app = msal_app(idp_state)
    state = "s-" + uuid.uuid4().hex
    flow = initiate_flow(
        app, [IMAP_SCOPE], login_hint=user, state=state, redirect_uri="http://localhost:8765"
    )
    outcome = browse_sign_in(idp_state, flow["auth_uri"], user, PASSWORD)
    assert outcome.location.startswith("http://localhost:8765/?")
    assert outcome.auth_response["state"] == state
    client_info = _decode(outcome.auth_response["client_info"])
    assert client_info == {"uid": idp_state.user(user).oid, "utid": idp_state.tenant_id}
    result = app.acquire_token_by_auth_code_flow(flow, outcome.auth_response)
    assert "access_token" in result, result


def test_nativeclient_redirect_and_form_post_mode(idp_state: IdentityProvider, user: str) -> None:
    app = msal_app(idp_state)
    flow = app.initiate_auth_code_flow(
        [IMAP_SCOPE],
        redirect_uri=NATIVE_CLIENT_REDIRECT,
        login_hint=user,
        response_mode="form_post",
    )
    outcome = browse_sign_in(idp_state, flow["auth_uri"], user, PASSWORD)
    assert outcome.pages[-1] == "form_post"
    assert outcome.location == NATIVE_CLIENT_REDIRECT
    result = app.acquire_token_by_auth_code_flow(flow, outcome.auth_response)
    assert "access_token" in result, result


def test_wrong_password_stays_on_the_sign_in_page(idp_state: IdentityProvider, user: str) -> None:
    with pytest.raises(SignInPageError, match="incorrect") as caught:
        sign_in_with_msal(idp_state, user, "wrong-password")
    assert 'id="error"' in caught.value.page
    assert [e.error_code for e in idp_state.log_for("signin")] == [50126]


def test_consent_is_asked_once_then_remembered(idp_state: IdentityProvider, user: str) -> None:
    first = sign_in_with_msal(idp_state, user, PASSWORD)
    second = sign_in_with_msal(idp_state, user, PASSWORD)
    assert first.browser.pages == ["signin", "consent"]
    assert second.browser.pages == ["signin"]
    assert "access_token" in second.result
    # A new scope asks again; prompt=consent asks even when granted.
    third = sign_in_with_msal(idp_state, user, PASSWORD, scopes=(SMTP_SCOPE,))
    assert third.browser.pages == ["signin", "consent"]
    fourth = sign_in_with_msal(idp_state, user, PASSWORD, prompt="consent")
    assert fourth.browser.pages == ["signin", "consent"]


def test_consent_can_be_switched_off(idp_state: IdentityProvider, user: str) -> None:
    idp_state.consent_required = False
    signed = sign_in_with_msal(idp_state, user, PASSWORD)
    assert signed.browser.pages == ["signin"]
    assert "access_token" in signed.result


def test_consent_declined_goes_back_as_access_denied(
    idp_state: IdentityProvider, user: str
) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD, consent="cancel")
    params = signed.browser.auth_response
    assert signed.browser.location.startswith("http://localhost/?")
    assert params["error"] == "access_denied"
    assert params["error_description"].startswith("AADSTS65004: ")
    assert params["state"] == signed.flow["state"]
    assert "code" not in params
    assert signed.result["error"] == "access_denied"
    assert "AADSTS65004" in signed.result["error_description"]


# -- PKCE and the authorize request's checks ---------------------------------------------------


def test_authorize_without_pkce_is_refused(idp_state: IdentityProvider, user: str) -> None:
    flow = initiate_flow(msal_app(idp_state), [IMAP_SCOPE], login_hint=user)
    parts = urlsplit(flow["auth_uri"])
    query = {k: v for k, v in parse_qsl(parts.query) if not k.startswith("code_challenge")}
    answer = http_session(idp_state).get(
        parts._replace(query="").geturl(), params=query, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    back = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert back["error"] == "invalid_request"
    assert back["error_description"].startswith("AADSTS9002325: ")
    assert back["state"] == flow["state"]


def test_wrong_code_verifier_is_aadsts50148(idp_state: IdentityProvider, user: str) -> None:
    app = msal_app(idp_state)
    flow = initiate_flow(app, [IMAP_SCOPE], login_hint=user)
    outcome = browse_sign_in(idp_state, flow["auth_uri"], user, PASSWORD)
    tampered = dict(flow, code_verifier="x" * 43)
    assert pkce_s256("x" * 43) != pkce_s256(flow["code_verifier"])
    result = app.acquire_token_by_auth_code_flow(tampered, outcome.auth_response)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50148]
    assert "Trace ID:" in result["error_description"]
    # The code is burnt: the right verifier afterwards is too late (single use).
    again = app.acquire_token_by_auth_code_flow(flow, outcome.auth_response)
    assert again["error_codes"] == [54005]


def test_code_is_single_use_and_short_lived(idp_state: IdentityProvider, user: str) -> None:
    app = msal_app(idp_state)
    flow = initiate_flow(app, [IMAP_SCOPE], login_hint=user)
    outcome = browse_sign_in(idp_state, flow["auth_uri"], user, PASSWORD)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, outcome.auth_response)
    assert app.acquire_token_by_auth_code_flow(flow, outcome.auth_response)["error_codes"] == [
        54005
    ]
    idp_state.code_lifetime = 0
    flow = initiate_flow(app, [IMAP_SCOPE], login_hint=user)
    outcome = browse_sign_in(idp_state, flow["auth_uri"], user, PASSWORD)
    assert app.acquire_token_by_auth_code_flow(flow, outcome.auth_response)["error_codes"] == [
        70008
    ]


def test_redirect_uri_must_match_between_authorize_and_token(
    idp_state: IdentityProvider, user: str
) -> None:
    app = msal_app(idp_state)
    flow = initiate_flow(app, [IMAP_SCOPE], login_hint=user)
    outcome = browse_sign_in(idp_state, flow["auth_uri"], user, PASSWORD)
    answer = _token_post(
        idp_state,
        {
            "grant_type": "authorization_code",
            "client_id": idp_state.default_client_id,
            "code": outcome.auth_response["code"],
            "redirect_uri": "http://localhost:1",
            "code_verifier": flow["code_verifier"],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [500112]


def test_untrusted_requests_get_an_error_page_not_a_redirect(
    idp_state: IdentityProvider, user: str
) -> None:
    flow = initiate_flow(msal_app(idp_state), [IMAP_SCOPE], login_hint=user)
    parts = urlsplit(flow["auth_uri"])
    base = parts._replace(query="").geturl()
    query = dict(parse_qsl(parts.query))
    cases = {
        50011: dict(query, redirect_uri="https://attacker.example.test/cb"),
        700016: dict(query, client_id=str(uuid.uuid4())),
    }
    for code, params in cases.items():
        answer = http_session(idp_state).get(base, params=params, allow_redirects=False, timeout=5)
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert f"AADSTS{code}:" in answer.text


def test_user_of_another_tenant_is_refused_on_the_page(idp_state: IdentityProvider) -> None:
    upn = f"consumer{uuid.uuid4().hex[:6]}@outlook.test"
    idp_state.add_user(upn, PASSWORD, tenant="consumers")
    with pytest.raises(SignInPageError) as caught:
        sign_in_with_msal(idp_state, upn, PASSWORD, tenant="organizations")
    assert [e.error_code for e in idp_state.log_for("signin")] == [50020]
    assert "does not belong" in caught.value.page
    # The same user signs in through /consumers and /common.
    signed = sign_in_with_msal(idp_state, upn, PASSWORD, tenant="common")
    assert signed.result["id_token_claims"]["tid"] == CONSUMERS_TENANT_ID


def test_confidential_client_without_secret_is_aadsts7000218(
    idp_state: IdentityProvider, user: str
) -> None:
    client_id = str(uuid.uuid4())
    idp_state.register_client(client_id, ["http://localhost"], public=False, secret="s3cret")
    signed = sign_in_with_msal(idp_state, user, PASSWORD, client_id=client_id)
    assert signed.result["error"] == "invalid_client"
    assert signed.result["error_codes"] == [7000218]


# -- refresh -----------------------------------------------------------------------------------


def _refresh_tokens(app: msal.PublicClientApplication) -> list[str]:
    kind = msal.TokenCache.CredentialType.REFRESH_TOKEN
    return [rt["secret"] for rt in app.token_cache.search(kind)]


def test_silent_refresh_rotates_the_refresh_token(idp_state: IdentityProvider, user: str) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD)
    app = signed.app
    (account,) = app.get_accounts()
    cached = app.acquire_token_silent([IMAP_SCOPE], account)
    assert cached is not None and cached["token_source"] == "cache"
    old_rt = signed.result["refresh_token"]
    fresh = app.acquire_token_silent([IMAP_SCOPE], account, force_refresh=True)
    assert fresh is not None and fresh["token_source"] == "identity_provider"
    assert fresh["access_token"] != signed.result["access_token"]
    assert _refresh_tokens(app) == [fresh["refresh_token"]] != [old_rt]
    # The rotated-away refresh token no longer works.
    answer = _token_post(
        idp_state,
        {
            "grant_type": "refresh_token",
            "refresh_token": old_rt,
            "client_id": idp_state.default_client_id,
            "scope": f"{IMAP_SCOPE} offline_access",
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    # Both access tokens were real; the new one is active.
    assert _introspect(idp_state, fresh["access_token"])["active"] is True


def test_refresh_for_another_consented_resource_works_but_not_unconsented(
    idp_state: IdentityProvider, user: str
) -> None:
    signed = sign_in_with_msal(
        idp_state, user, PASSWORD, scopes=(IMAP_SCOPE, "https://graph.microsoft.com/Mail.Read")
    )
    assert signed.result["error_codes"] == [28000]  # one resource per token request
    signed = sign_in_with_msal(idp_state, user, PASSWORD, scopes=(IMAP_SCOPE,))
    (account,) = signed.app.get_accounts()
    refused = signed.app.acquire_token_silent_with_error(["Calendars.ReadWrite"], account)
    assert refused is not None and refused["error_codes"] == [65001]
    assert refused["suberror"] == "consent_required"


def test_revoked_refresh_token_is_aadsts50173(idp_state: IdentityProvider, user: str) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD)
    idp_state.set_password(user, "New-Password-8")
    (account,) = signed.app.get_accounts()
    result = signed.app.acquire_token_silent_with_error([IMAP_SCOPE], account, force_refresh=True)
    assert result is not None
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50173]
    # The access token issued before the password change lives on until it expires.
    assert _introspect(idp_state, signed.result["access_token"])["active"] is True


def test_expired_refresh_token_is_aadsts700082(idp_state: IdentityProvider, user: str) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD)
    idp_state.expire_all(user)
    (account,) = signed.app.get_accounts()
    result = signed.app.acquire_token_silent_with_error([IMAP_SCOPE], account, force_refresh=True)
    assert result is not None and result["error_codes"] == [700082]
    assert _introspect(idp_state, signed.result["access_token"]) == {"active": False}


# -- injected failures -------------------------------------------------------------------------


@pytest.mark.parametrize("code", [50173, 70043, 700082, 50055, 65001, 53000])
def test_injected_token_error_reaches_msal(
    idp_state: IdentityProvider, user: str, code: int
) -> None:
    idp_state.fail_next("token", code)
    result = sign_in_with_msal(idp_state, user, PASSWORD).result
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}: ")
    assert "Correlation ID:" in result["error_description"]
    # Only the next request fails.
    assert "access_token" in sign_in_with_msal(idp_state, user, PASSWORD).result


def test_injected_error_for_refresh_only(idp_state: IdentityProvider, user: str) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD)
    idp_state.fail_next(
        "token", 700016, "Application not found.", "unauthorized_client", grant_type="refresh_token"
    )
    (account,) = signed.app.get_accounts()
    result = signed.app.acquire_token_silent_with_error([IMAP_SCOPE], account, force_refresh=True)
    assert result is not None
    assert result["error"] == "unauthorized_client"
    assert result["error_description"].startswith("AADSTS700016: Application not found.")


def test_injected_authorize_error_goes_to_the_redirect_uri(
    idp_state: IdentityProvider, user: str
) -> None:
    idp_state.fail_next("authorize", 53000, error="access_denied")
    signed = sign_in_with_msal(idp_state, user, PASSWORD)
    assert signed.browser.auth_response["error"] == "access_denied"
    assert signed.result["error_description"].startswith("AADSTS53000: ")


def test_fail_next_rejects_unknown_endpoints(idp_state: IdentityProvider) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        idp_state.fail_next("tokens", 50173)


# -- introspection -----------------------------------------------------------------------------


def test_introspection_reports_the_mailbox_not_the_upn(
    idp_state: IdentityProvider, user: str
) -> None:
    signed = sign_in_with_msal(idp_state, user, PASSWORD, scopes=(IMAP_SCOPE, SMTP_SCOPE))
    mailbox = idp_state.user(user).mailbox
    assert mailbox != user
    answer = _introspect(idp_state, signed.result["access_token"])
    assert answer["active"] is True
    assert answer["username"] == mailbox
    assert answer["upn"] == user
    assert set(str(answer["scope"]).split()) == {IMAP_SCOPE, SMTP_SCOPE}
    assert answer["client_id"] == idp_state.default_client_id
    assert answer["aud"] == OUTLOOK_RESOURCE
    assert int(str(answer["exp"])) > int(str(answer["iat"]))
    assert signed.result["id_token_claims"]["preferred_username"] == user


def test_introspection_is_inactive_for_forged_expired_and_revoked(
    idp_state: IdentityProvider, user: str
) -> None:
    token = idp_state.issue_access_token(user, [IMAP_SCOPE])
    assert _introspect(idp_state, token)["active"] is True
    assert _introspect(idp_state, token + "x") == {"active": False}
    assert _introspect(idp_state, "") == {"active": False}
    short = idp_state.issue_access_token(user, [IMAP_SCOPE], lifetime=-1)
    assert _introspect(idp_state, short) == {"active": False}
    idp_state.expire_access_tokens(user)
    assert _introspect(idp_state, token) == {"active": False}
    other = idp_state.issue_access_token(user, [SMTP_SCOPE])
    idp_state.revoke_access_tokens(user)
    assert _introspect(idp_state, other) == {"active": False}


def test_introspection_over_plain_http_bearer_header_and_audience(
    idp_state: IdentityProvider, user: str
) -> None:
    imap = idp_state.issue_access_token(user, [IMAP_SCOPE])
    graph = idp_state.issue_access_token(user, ["Mail.Read"])
    plain = requests.Session()
    plain.trust_env = False
    assert (
        plain.post(idp_state.introspection_url_http, data={"token": imap}, timeout=5).json()[
            "username"
        ]
        == idp_state.user(user).mailbox
    )
    by_header = http_session(idp_state).get(
        idp_state.introspection_url, timeout=5, headers={"Authorization": f"Bearer {imap}"}
    )
    assert by_header.json()["active"] is True
    outlook_only = idp_state.introspection_url_for(OUTLOOK_RESOURCE)
    assert _introspect(idp_state, imap, outlook_only)["active"] is True
    assert _introspect(idp_state, graph, outlook_only) == {"active": False}
    assert _introspect(idp_state, graph)["aud"] == "https://graph.microsoft.com"
    # The plain-HTTP port serves introspection only.
    assert (
        plain.get(
            f"http://127.0.0.1:{idp_state.http_port}/common/v2.0/.well-known/openid-configuration",
            timeout=5,
        ).status_code
        == 404
    )


def test_disabled_or_removed_user_makes_tokens_inactive(
    idp_state: IdentityProvider, user: str
) -> None:
    token = idp_state.issue_access_token(user, [IMAP_SCOPE])
    idp_state.set_disabled(user)
    assert _introspect(idp_state, token) == {"active": False}
    idp_state.set_disabled(user, False)
    assert _introspect(idp_state, token)["active"] is True
    idp_state.remove_user(user)
    assert _introspect(idp_state, token) == {"active": False}


def test_request_log_and_reset(idp_state: IdentityProvider) -> None:
    idp = idp_state
    upn = f"log{uuid.uuid4().hex[:6]}@contoso.test"
    idp.add_user(upn, PASSWORD)
    idp.fail_next("token", 50173)
    sign_in_with_msal(idp, upn, PASSWORD)
    endpoints = [e.endpoint for e in idp.request_log]
    assert endpoints[:1] == ["discovery"]
    assert endpoints[-1] == "token"
    assert {"authorize", "signin", "consent"} <= set(endpoints)
    signin = idp.log_for("signin")[0]
    assert signin.params["passwd"] == "***"
    assert idp.log_for("token")[0].error_code == 50173
    idp.fail_next("token", 50173)
    idp.consent_required = False
    idp.reset()
    assert idp.request_log == []
    assert upn.lower() not in idp.users
    assert idp.consent_required is True
    idp.add_user(upn, PASSWORD)
    again = sign_in_with_msal(idp, upn, PASSWORD)
    assert "access_token" in again.result  # the armed failure is gone
    assert again.browser.pages == ["signin", "consent"]  # and so is the consent


def test_minted_tokens_work_through_msal(idp_state: IdentityProvider, user: str) -> None:
    """``issue_tokens`` gives a refresh token MSAL can redeem, as if the user had signed in."""
    tokens = idp_state.issue_tokens(user, [IMAP_SCOPE, SMTP_SCOPE])
    assert _introspect(idp_state, tokens["access_token"])["username"] == (
        idp_state.user(user).mailbox
    )
    app = msal_app(idp_state)
    result = app.acquire_token_by_refresh_token(tokens["refresh_token"], [SMTP_SCOPE])
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == user
    assert SMTP_SCOPE in str(_introspect(idp_state, result["access_token"])["scope"])


def test_injected_discovery_error_stops_msal(idp_state: IdentityProvider) -> None:
    idp_state.fail_next("discovery", 90002)
    with pytest.raises(ValueError, match="authority configuration"):
        msal_app(idp_state)
    assert msal_app(idp_state) is not None  # only the next request failed


def test_user_realm_endpoints(idp_state: IdentityProvider, user: str) -> None:
    consumer = f"msa{uuid.uuid4().hex[:6]}@outlook.test"
    idp_state.add_user(consumer, PASSWORD, tenant="consumers")
    session = http_session(idp_state)

    def realm(login: str) -> str:
        url = f"{idp_state.base_url}/common/userrealm/{login}?api-version=1.0"
        kind: str = session.get(url, timeout=5).json()["account_type"]
        return kind

    assert realm(user) == "Managed"
    assert realm(consumer) == "MSA"
    assert realm("someone@elsewhere.test") == "Unknown"
    legacy = session.get(
        f"{idp_state.base_url}/getuserrealm.srf", params={"login": user, "json": "1"}, timeout=5
    ).json()
    assert legacy["NameSpaceType"] == "Managed"
    assert legacy["FederationBrandName"] == "Contoso"
