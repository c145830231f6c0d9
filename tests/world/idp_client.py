"""Drive MSAL's auth-code + PKCE flow against the test identity provider without a browser.

``sign_in_with_msal`` builds an ``msal.PublicClientApplication`` on ``idp.authority()`` (only
the local server is ever contacted), starts the flow, plays the user with a plain HTTP client
(sign-in form, then consent), reads the code from the redirect without following it, and
redeems it through MSAL. ``browse_sign_in`` is the browser leg alone, for tests that want to
look at the redirect or the pages themselves.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import parse_qsl, urljoin, urlsplit

import msal
import requests

if TYPE_CHECKING:
    from tests.world.idp import IdentityProvider

IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
LOOPBACK_REDIRECT = "http://localhost"
NATIVE_CLIENT_REDIRECT = "https://login.microsoftonline.com/common/oauth2/nativeclient"
_TIMEOUT = 10.0
_MAX_STEPS = 8


class SignInPageError(AssertionError):
    """The browser leg ended on a page instead of a redirect (an error page, or the sign-in
    page again after a wrong password). ``code`` is the AADSTS number when the page shows it."""

    def __init__(self, message: str, page: str, code: int | None = None) -> None:
        super().__init__(message)
        self.page = page
        self.code = code


@dataclass
class _Form:
    form_id: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, value)


class _Page(HTMLParser):
    """Forms (with their inputs and buttons) and texts by element id of one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: dict[str, _Form] = {}
        self.texts: dict[str, str] = {}
        self._form: _Form | None = None
        self._text_id: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = _Form(a.get("id", ""), a.get("action", ""))
            self.forms[self._form.form_id] = self._form
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self._form is not None:
            self._form.buttons[a.get("id", "")] = (a.get("name", ""), a.get("value", ""))
        if a.get("id") in ("error", "error-code"):
            self._text_id = a["id"]
            self.texts[self._text_id] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag in ("div", "p"):
            self._text_id = None

    def handle_data(self, data: str) -> None:
        if self._text_id is not None:
            self.texts[self._text_id] += data


@dataclass
class BrowserOutcome:
    """Where the browser leg ended: the redirect URL (not followed) and its parameters."""

    location: str
    auth_response: dict[str, str]
    pages: list[str]  # the pages met on the way: "signin", "consent", "form_post"


class MsalSignIn(NamedTuple):
    result: dict[str, Any]
    app: msal.PublicClientApplication
    flow: dict[str, Any]
    browser: BrowserOutcome


def http_session(idp: IdentityProvider) -> requests.Session:
    """A requests session that trusts the test CA and ignores proxy/CA environment variables
    (``REQUESTS_CA_BUNDLE`` would otherwise override ``verify``)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(idp.ca_path)
    return session


def msal_app(
    idp: IdentityProvider,
    *,
    client_id: str | None = None,
    tenant: str | None = None,
    token_cache: msal.TokenCache | None = None,
) -> msal.PublicClientApplication:
    """A public client application that talks only to ``idp``."""
    return msal.PublicClientApplication(
        client_id or idp.default_client_id,
        authority=idp.authority(tenant),
        instance_discovery=False,
        http_client=http_session(idp),
        token_cache=token_cache,
    )


def _aadsts(text: str) -> int | None:
    import re

    found = re.search(r"AADSTS(\d+)", text)
    return int(found.group(1)) if found else None


def browse_sign_in(
    idp: IdentityProvider,
    auth_uri: str,
    upn: str | None,
    password: str,
    *,
    consent: Literal["accept", "cancel"] = "accept",
    session: requests.Session | None = None,
) -> BrowserOutcome:
    """Play the user: open ``auth_uri``, fill in the sign-in form (``upn`` or the prefilled
    login hint) and answer the consent page; stop at the redirect back to the app."""
    browser = session or http_session(idp)
    response = browser.get(auth_uri, allow_redirects=False, timeout=_TIMEOUT)
    url = auth_uri
    pages: list[str] = []
    for _ in range(_MAX_STEPS):
        if response.is_redirect:  # the provider only ever redirects back to the app
            location = urljoin(url, response.headers["Location"])
            parts = urlsplit(location)
            params = dict(parse_qsl(parts.query or parts.fragment, keep_blank_values=True))
            return BrowserOutcome(location, params, pages)
        page = _Page(response.text)
        if "error" in page.texts and "signin" in page.forms and "signin" in pages:
            text = page.texts["error"].strip()
            raise SignInPageError(f"sign-in refused: {text}", response.text, _aadsts(text))
        if "signin" in page.forms:
            pages.append("signin")
            form = page.forms["signin"]
            data = dict(form.fields, passwd=password)
            if upn is not None:
                data["login"] = upn
        elif "consent" in page.forms:
            pages.append("consent")
            form = page.forms["consent"]
            name, value = form.buttons[consent]
            data = dict(form.fields, **{name: value})
        elif "response" in page.forms:
            pages.append("form_post")
            form = page.forms["response"]
            return BrowserOutcome(form.action, dict(form.fields), pages)
        else:
            text = page.texts.get("error-code", "").strip() or response.text[:500]
            raise SignInPageError(
                f"sign-in stopped on a page (HTTP {response.status_code}): {text}",
                response.text,
                _aadsts(text),
            )
        url = urljoin(url, form.action)
        response = browser.post(url, data=data, allow_redirects=False, timeout=_TIMEOUT)
    raise SignInPageError("sign-in did not end in a redirect", response.text)


def initiate_flow(
    app: msal.PublicClientApplication,
    scopes: tuple[str, ...] | list[str],
    *,
    redirect_uri: str = LOOPBACK_REDIRECT,
    login_hint: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """``app.initiate_auth_code_flow`` without MSAL's warning that recommends form_post
    (query mode is what an embedded browser needs)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="response_mode='form_post' is recommended", category=UserWarning
        )
        flow: dict[str, Any] = app.initiate_auth_code_flow(
            list(scopes), redirect_uri=redirect_uri, login_hint=login_hint, **kwargs
        )
    return flow


def sign_in_with_msal(
    idp: IdentityProvider,
    upn: str,
    password: str,
    *,
    scopes: tuple[str, ...] | list[str] = (IMAP_SCOPE,),
    client_id: str | None = None,
    redirect_uri: str = LOOPBACK_REDIRECT,
    tenant: str | None = None,
    consent: Literal["accept", "cancel"] = "accept",
    app: msal.PublicClientApplication | None = None,
    **flow_kwargs: Any,
) -> MsalSignIn:
    """The whole interactive sign-in through MSAL. ``result`` is MSAL's answer (tokens, or
    ``error``/``error_description``/``error_codes``); ``app`` holds the token cache for
    ``acquire_token_silent``. Raises ``SignInPageError`` when the browser leg ends on a page."""
    app = app or msal_app(idp, client_id=client_id, tenant=tenant)
    flow = initiate_flow(app, scopes, redirect_uri=redirect_uri, login_hint=upn, **flow_kwargs)
    browser = browse_sign_in(idp, flow["auth_uri"], upn, password, consent=consent)
    result: dict[str, Any] = app.acquire_token_by_auth_code_flow(flow, browser.auth_response)
    return MsalSignIn(result, app, flow, browser)
