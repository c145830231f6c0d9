"""The Microsoft sign-in's logic without a network: the authority choice, scopes, the redirect
parsing, AADSTS errors mapped to knowledge findings (and which mean "sign in again" or
"cancelled"), the choice between the embedded window, the broker and the system browser, the
chunking of the keyring document and the store's bookkeeping on memory storage."""

from __future__ import annotations

import asyncio
import json
import pickle
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from keyring.backends import SecretService, chainer, fail, null

from app.core.auth import msal_http
from app.core.auth.brokers import (
    LOOPBACK_REDIRECT,
    MAC_BROKER_REDIRECT,
    BrokerSupport,
    SignInMethod,
    broker_redirect_uri,
    choose_methods,
    msal_broker_options,
    needs_device_compliance,
)
from app.core.auth.microsoft import (
    CONSUMER_TENANT_ID,
    IMAP_SCOPE,
    SMTP_SCOPE,
    MicrosoftSignIn,
    SignInCancelled,
    SignInError,
    SignInRequired,
    aadsts_code,
    choose_authority,
    error_for_response,
    parse_redirect,
    request_scopes,
    resource_of,
    scopes_by_resource,
)
from app.core.auth.token_cache import (
    CHUNK_LIMIT_BYTES,
    MailboxLink,
    MemoryStorage,
    StorageKind,
    TokenCacheError,
    TokenCacheStore,
    _decode,
    _encode,
    _trusted_keyring,
    split_chunks,
)
from app.core.config import MicrosoftSettings
from app.core.errors import ConfigError, Fixer
from app.core.model import Outcome
from app.core.net import Network
from app.core.texts import LANGUAGES, render

CLIENT = "6a1d3c2b-8e4f-4b7a-9c0d-5e6f7a8b9c0d"
TENANT = "4f3c9b1e-7d2a-4c5e-9b8f-1a2d3c4e5f60"
NATIVE = "https://login.microsoftonline.com/common/oauth2/nativeclient"


def _settings(**values: Any) -> MicrosoftSettings:
    return MicrosoftSettings(client_id=CLIENT, **values)


def _rendered(error: SignInError) -> None:
    """Every text of the error's finding renders in every language (a missing text or
    placeholder would warn, and warnings are errors here)."""
    finding = error.finding
    for language in LANGUAGES:
        for text in (finding.title, finding.cause, finding.fix, finding.checked):
            assert text is not None
            assert "{" not in render(text, language, strict=True)


# --- the authority ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "hint", "host", "expected"),
    [
        # a configured authority wins, as given, instance discovery off
        (
            _settings(authority="https://127.0.0.1:8443/t1/"),
            TENANT,
            None,
            "https://127.0.0.1:8443/t1",
        ),
        # single-tenant: the configured tenant, whatever detection found
        (
            _settings(account_types="single-tenant", tenant="contoso.test"),
            "other.test",
            None,
            "https://login.microsoftonline.com/contoso.test",
        ),
        # work or school: the tenant detection found
        (_settings(), TENANT, None, f"https://login.microsoftonline.com/{TENANT}"),
        (_settings(), None, None, "https://login.microsoftonline.com/organizations"),
        (
            _settings(account_types="common"),
            TENANT,
            None,
            f"https://login.microsoftonline.com/{TENANT}",
        ),
        (_settings(account_types="common"), None, None, "https://login.microsoftonline.com/common"),
        # personal accounts: consumers, when the registration accepts them
        (
            _settings(account_types="common"),
            "consumers",
            None,
            "https://login.microsoftonline.com/consumers",
        ),
        (
            _settings(account_types="consumers"),
            CONSUMER_TENANT_ID,
            None,
            "https://login.microsoftonline.com/consumers",
        ),
        (
            _settings(account_types="consumers"),
            None,
            None,
            "https://login.microsoftonline.com/consumers",
        ),
        # a national cloud: the host detection found
        (
            _settings(),
            TENANT,
            "Login.MicrosoftOnline.US.",
            f"https://login.microsoftonline.us/{TENANT}",
        ),
    ],
)
def test_the_authority(
    settings: MicrosoftSettings, hint: str | None, host: str | None, expected: str
) -> None:
    authority = choose_authority(settings, tenant_hint=hint, authority_host=host)
    assert authority.url == expected
    assert authority.instance_discovery is (False if settings.authority else None)


def test_the_authority_parts() -> None:
    authority = choose_authority(_settings(), tenant_hint=TENANT)
    assert (authority.host, authority.tenant) == ("login.microsoftonline.com", TENANT)


def test_a_personal_account_with_a_work_only_registration() -> None:
    with pytest.raises(SignInError) as caught:
        choose_authority(_settings(), tenant_hint="consumers", address="me@outlook.test")
    assert caught.value.finding.code == "signin.personal-not-accepted"
    assert "me@outlook.test" in render(caught.value.finding.cause)
    _rendered(caught.value)


def test_a_work_account_with_a_personal_only_registration() -> None:
    with pytest.raises(SignInError) as caught:
        choose_authority(_settings(account_types="consumers"), tenant_hint=TENANT)
    assert caught.value.finding.code == "signin.work-not-accepted"
    _rendered(caught.value)


@pytest.mark.parametrize(
    ("settings", "host"),
    [
        (_settings(account_types="single-tenant"), None),  # no tenant configured
        (_settings(), "https://login.microsoftonline.com/x"),  # not a host name
        (_settings(), "localhost"),  # not a sign-in host name
        (_settings(account_types="everyone"), None),
    ],
)
def test_unusable_settings_are_configuration_errors(
    settings: MicrosoftSettings, host: str | None
) -> None:
    with pytest.raises(ConfigError):
        choose_authority(settings, tenant_hint=TENANT, authority_host=host)


def test_no_client_id_is_refused_before_any_network() -> None:
    from app.core.auth.token_cache import TokenCacheStore

    signin = MicrosoftSignIn(MicrosoftSettings(), Network(), TokenCacheStore(MemoryStorage()))
    with pytest.raises(ConfigError) as caught:
        asyncio.run(signin.start("someone@example.test"))
    assert caught.value.where == "[microsoft] client_id"
    assert render(caught.value.message)


# --- scopes -----------------------------------------------------------------------------------


def test_scopes_never_carry_what_msal_adds_itself() -> None:
    assert request_scopes([IMAP_SCOPE, "offline_access", "OpenID", " profile ", IMAP_SCOPE]) == (
        IMAP_SCOPE,
    )
    with pytest.raises(ValueError):
        request_scopes(["offline_access", "openid"])


def test_scopes_are_grouped_by_resource() -> None:
    graph = "https://graph.microsoft.com/Mail.Send"
    assert scopes_by_resource([IMAP_SCOPE, graph, SMTP_SCOPE, "User.Read"]) == [
        (IMAP_SCOPE, SMTP_SCOPE),
        (graph, "User.Read"),
    ]
    assert resource_of("https://Outlook.Office.com/SMTP.Send") == "https://outlook.office.com"
    assert resource_of("Mail.Read") == "https://graph.microsoft.com"


def test_imap_and_smtp_need_separate_token_requests_only_per_resource() -> None:
    signin = MicrosoftSignIn(_settings(), Network(), TokenCacheStore(MemoryStorage()))
    with pytest.raises(ValueError, match="one resource"):
        asyncio.run(signin.access_token("a@example.test", [IMAP_SCOPE, "Mail.Send"]))


# --- the redirect -----------------------------------------------------------------------------


def test_the_redirect_parameters() -> None:
    assert parse_redirect(f"{NATIVE}?code=abc&state=s1", NATIVE) == {"code": "abc", "state": "s1"}
    # a loopback redirect comes back with a port and a slash; a fragment works too
    assert parse_redirect("http://localhost:51234/#code=c&state=s", "http://localhost") == {
        "code": "c",
        "state": "s",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://login.microsoftonline.com/common/oauth2/other?code=x",
        "https://evil.test/common/oauth2/nativeclient?code=x",
        "http://login.microsoftonline.com/common/oauth2/nativeclient?code=x",
    ],
)
def test_a_redirect_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(SignInError) as caught:
        parse_redirect(url, NATIVE)
    assert caught.value.finding.code == "signin.bad-redirect"
    _rendered(caught.value)


# --- errors -----------------------------------------------------------------------------------


def _answer(code: int, error: str = "invalid_grant", **extra: Any) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: Something happened.\r\nTrace ID: 1\r\n",
        "error_codes": [code],
        **extra,
    }


def test_aadsts_numbers_are_found() -> None:
    assert aadsts_code(_answer(50173)) == 50173
    assert aadsts_code({"error_description": "AADSTS700016: Application not found"}) == 700016
    assert aadsts_code("Error: AADSTS90002: Tenant not found") == 90002
    assert aadsts_code({"error": "access_denied"}) is None


@pytest.mark.parametrize(
    ("code", "kind", "fixer"),
    [
        (65001, SignInError, Fixer.ADMIN),  # consent needed
        (90094, SignInError, Fixer.ADMIN),  # admin approval needed
        (50076, SignInRequired, Fixer.USER),  # MFA required
        (50020, SignInError, Fixer.USER),  # user not in tenant
        (90002, SignInError, Fixer.USER),  # tenant unknown
        (700016, SignInError, Fixer.ADMIN),  # app not found
        (7000218, SignInError, Fixer.ADMIN),  # public client flows off
        (500113, SignInError, Fixer.ADMIN),  # registered as a Web app
        (50011, SignInError, Fixer.ADMIN),
        (53000, SignInError, Fixer.ADMIN),  # compliant device
        (530003, SignInError, Fixer.ADMIN),  # managed device
        (50173, SignInRequired, Fixer.USER),  # revoked: password changed
        (70043, SignInRequired, Fixer.USER),  # sign-in frequency
        (700082, SignInRequired, Fixer.USER),  # inactive too long
        (50055, SignInRequired, Fixer.USER),  # password expired
        (50053, SignInError, Fixer.USER),  # locked
    ],
)
def test_each_aadsts_code_becomes_its_finding(code: int, kind: type, fixer: Fixer) -> None:
    error = error_for_response(
        _answer(code), address="a@contoso.test", authority="https://x/t", consent_url="https://c"
    )
    assert type(error) is kind
    assert error.finding.code == f"aadsts.{code}" and error.aadsts == code
    assert error.finding.fixer is fixer and error.fixer is fixer
    assert error.finding.detail["aadsts"] == code
    assert "Something happened" in (error.finding.server_said or "")
    assert error.code == error.finding.code and error.to_finding() is error.finding
    assert ("admin_consent_url" in error.finding.detail) == (code in (65001, 90094))
    _rendered(error)


def test_cancel_and_declined_consent_are_cancellations() -> None:
    cancel = error_for_response(
        {"error": "access_denied", "error_subcode": "cancel"}, address="a@b.test", authority="x"
    )
    assert type(cancel) is SignInCancelled and cancel.finding.code == "signin.cancelled"
    assert cancel.outcome() is Outcome.INFO
    declined = error_for_response(
        _answer(65004, "access_denied"), address="a@b.test", authority="x"
    )
    assert type(declined) is SignInCancelled and declined.finding.code == "aadsts.65004"
    _rendered(cancel)
    _rendered(declined)


def test_an_unknown_code_keeps_microsofts_words() -> None:
    error = error_for_response(_answer(99999), address="a@b.test", authority="x")
    assert type(error) is SignInError and error.finding.code == "signin.failed"
    assert "AADSTS99999" in render(error.finding.cause)
    assert "AADSTS99999" in (error.finding.server_said or "")


def test_a_refused_refresh_means_sign_in_again() -> None:
    answer = {"error": "invalid_grant", "error_description": "refresh token is bad"}
    assert type(error_for_response(answer, address="a", authority="x")) is SignInError
    silent = error_for_response(answer, address="a", authority="x", silent=True)
    assert type(silent) is SignInRequired


def test_sign_in_errors_survive_pickling() -> None:
    error = error_for_response(_answer(50173), address="a@b.test", authority="x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SignInRequired and copy.finding == error.finding


# --- ways to sign in --------------------------------------------------------------------------


def _methods(support: BrokerSupport, **kwargs: Any) -> list[tuple[SignInMethod, str, bool]]:
    choices = choose_methods(
        client_id=CLIENT, embedded_redirect_uri=NATIVE, support=support, **kwargs
    )
    for choice in choices:
        assert render(choice.reason)
    return [(c.method, c.redirect_uri, c.proven) for c in choices]


def test_the_embedded_window_comes_first() -> None:
    assert _methods(BrokerSupport("linux", runtime=False)) == [
        (SignInMethod.EMBEDDED, NATIVE, True),
        (SignInMethod.SYSTEM_BROWSER, LOOPBACK_REDIRECT, False),
    ]
    wam = f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{CLIENT}"
    assert _methods(BrokerSupport("win32", runtime=True)) == [
        (SignInMethod.EMBEDDED, NATIVE, True),
        (SignInMethod.BROKER, wam, False),
        (SignInMethod.SYSTEM_BROWSER, LOOPBACK_REDIRECT, False),
    ]


def test_a_compliant_device_needs_the_broker_or_the_browser() -> None:
    assert _methods(BrokerSupport("darwin", runtime=True), device_compliance_required=True) == [
        (SignInMethod.BROKER, MAC_BROKER_REDIRECT, False),
        (SignInMethod.SYSTEM_BROWSER, LOOPBACK_REDIRECT, False),
    ]
    # no broker runtime (or Linux): the system browser is all that can pass
    for support in (BrokerSupport("win32", runtime=False), BrokerSupport("linux", runtime=True)):
        assert _methods(support, device_compliance_required=True) == [
            (SignInMethod.SYSTEM_BROWSER, LOOPBACK_REDIRECT, False)
        ]
    assert needs_device_compliance(53000) and needs_device_compliance(530003)
    assert not needs_device_compliance(50076) and not needs_device_compliance(None)


def test_asked_for_the_system_browser_or_no_embedded_window() -> None:
    support = BrokerSupport("win32", runtime=True)
    assert [m for m, _, _ in _methods(support, prefer_system_browser=True)] == [
        SignInMethod.SYSTEM_BROWSER
    ]
    assert [m for m, _, _ in _methods(support, embedded_available=False)] == [
        SignInMethod.BROKER,
        SignInMethod.SYSTEM_BROWSER,
    ]


def test_broker_details() -> None:
    assert BrokerSupport("win32", True).broker_name == "WAM"
    assert BrokerSupport("darwin", True).broker_name == "Company Portal"
    assert not BrokerSupport("linux", True).available
    assert broker_redirect_uri("linux", CLIENT) is None
    detected = BrokerSupport.detect()
    assert detected.platform.startswith("linux") and not detected.available  # this machine
    [broker] = [
        c
        for c in choose_methods(
            client_id=CLIENT, embedded_redirect_uri=NATIVE, support=BrokerSupport("win32", True)
        )
        if c.method is SignInMethod.BROKER
    ]
    assert msal_broker_options(broker, BrokerSupport("win32", True)) == {
        "enable_broker_on_windows": True
    }
    assert msal_broker_options(broker, BrokerSupport("darwin", True)) == {
        "enable_broker_on_mac": True
    }


# --- the keyring document ---------------------------------------------------------------------


@given(st.text(max_size=20000))
def test_the_document_round_trips_in_chunks_within_the_limit(text: str) -> None:
    blob = _encode(text)
    chunks = split_chunks(blob)
    assert all(len(c.encode("utf-16-le")) <= CHUNK_LIMIT_BYTES for c in chunks)
    assert _decode("".join(chunks)) == text


def test_only_keyrings_own_encrypted_backends_are_trusted() -> None:
    assert _trusted_keyring(SecretService.Keyring()) is None
    assert _trusted_keyring(fail.Keyring()) is not None
    assert _trusted_keyring(null.Keyring()) is not None

    def chain(*inner: object) -> chainer.ChainerBackend:
        class Chain(chainer.ChainerBackend):
            backends: ClassVar[list[object]] = list(inner)  # type: ignore[misc]

        Chain.__module__ = chainer.__name__
        return Chain()

    assert _trusted_keyring(chain(SecretService.Keyring())) is None
    assert _trusted_keyring(chain()) is not None
    assert _trusted_keyring(chain(SecretService.Keyring(), fail.Keyring())) is not None

    class ThirdParty:  # e.g. keyrings.alt's plain-text file
        pass

    ThirdParty.__module__ = "keyrings.alt.file"
    assert "not one of keyring's own" in (_trusted_keyring(ThirdParty()) or "")


# --- the store on memory ----------------------------------------------------------------------


def _link(address: str, account: str = "uid.utid") -> MailboxLink:
    return MailboxLink(address, account, "upn@contoso.test", "https://x/t", "utid")


def test_links_are_saved_and_loaded() -> None:
    store = TokenCacheStore(MemoryStorage())
    assert store.storage.kind is StorageKind.MEMORY and not store.persistent
    assert [n.code for n in store.notices()] == ["token-cache.memory-only"]
    assert store.save() is False  # nothing changed
    store.set_link(_link("Mail@Example.test"))
    assert store.link_for("mail@example.TEST") == _link("Mail@Example.test")
    assert store.save() is True
    store.mark_needs_sign_in("mail@example.test")
    assert store.save() is True
    store.set_link(_link("other@example.test"))
    store.load()  # back to what was saved: the unsaved link is gone
    saved = [(link.address, link.needs_sign_in) for link in store.links()]
    assert saved == [("Mail@Example.test", True)]
    assert store.remove_link("mail@example.test") is not None
    assert store.save() is True and store.storage.read() is None  # empty: deleted


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"format": "something-else"}),
        json.dumps({"format": "mailsetup-token-cache", "version": 99, "msal": {}}),
    ],
)
def test_an_unreadable_document_is_set_aside(document: str) -> None:
    storage = MemoryStorage()
    storage.write(document)
    store = TokenCacheStore(storage)
    store.load()
    assert store.links() == ()
    assert [n.code for n in store.notices()][-1] == "token-cache.damaged"


# --- MSAL's HTTP adapter ----------------------------------------------------------------------


def test_msal_http_request_shapes() -> None:
    assert msal_http._with_params("https://h/p?a=1", {"b": "2", "c": None}) == "https://h/p?a=1&b=2"
    assert msal_http._with_params("https://h/p", None) == "https://h/p"
    headers = msal_http._headers({"client-request-id": None, "X": 1})
    assert headers == {"X": "1"}
    body = msal_http._body({"grant_type": "refresh_token", "scope": "a b", "x": None}, headers)
    assert body == b"grant_type=refresh_token&scope=a+b"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert msal_http._body("raw=1", {}) == b"raw=1" and msal_http._body(None, {}) is None


class _BrokenStorage(MemoryStorage):
    """A storage that stops working, as a keyring does when its session locks."""

    kind = StorageKind.KEYRING
    description = "a keyring that went away"

    def write(self, text: str) -> None:
        raise OSError("the Secret Service is gone")


def test_a_storage_that_fails_falls_back_to_memory_and_says_so() -> None:
    store = TokenCacheStore(_BrokenStorage())
    assert store.persistent and store.notices() == ()
    store.set_link(_link("a@example.test"))
    with pytest.raises(TokenCacheError) as caught:
        store.save()
    assert "the Secret Service is gone" in render(caught.value.message)
    assert caught.value.code == "token-cache.unavailable"
    for language in LANGUAGES:
        assert render(caught.value.message, language, strict=True)
        assert caught.value.fix is not None and render(caught.value.fix, language, strict=True)
    assert not store.persistent
    assert [n.code for n in store.notices()] == ["token-cache.memory-only"]
    store.load()  # the sign-in is still there for this run
    assert store.link_for("a@example.test") is not None
    assert store.save() is False
