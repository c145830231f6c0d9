"""Signing in to Microsoft (Entra ID, Outlook.com) with MSAL, without Qt.

``MicrosoftSignIn`` runs MSAL's auth code flow with PKCE for a public client: ``start`` builds
the sign-in page's address for the program's window, ``finish`` takes the redirect that window
caught and redeems the code; ``access_token`` gives a fresh token for IMAP or SMTP (silently
refreshed, no lifetime assumed); ``sign_out`` forgets a mailbox's sign-in; ``accounts`` lists
the saved ones. MSAL's network traffic goes through the network seam
(:mod:`app.core.auth.msal_http`), its token cache into the encrypted store
(:mod:`app.core.auth.token_cache`). Blocking MSAL calls run in a worker thread; the API is
``async``.

The authority (see :func:`choose_authority`): ``settings.authority`` as given, with MSAL's
instance discovery off (also how tests aim MSAL at a local identity provider); otherwise the
configured tenant for a single-tenant registration, else the tenant detection found for a work
or school account, ``consumers`` for a personal account (only when the registration accepts
personal accounts), on the sign-in host detection found (national clouds).

Scopes: from the settings (IMAP and SMTP on ``https://outlook.office.com`` by default), never
``openid``/``profile``/``offline_access`` (MSAL adds and refuses them). A token request names
one resource; IMAP and SMTP tokens are separate requests.

The sign-in name may differ from the mailbox (UPN != SMTP address): the store links each
mailbox address to its MSAL account (``home_account_id``), and XOAUTH2's ``user=`` is the
mailbox address (:meth:`MicrosoftSignIn.oauth_credentials`).

Failures are :class:`SignInError` carrying a Finding of the knowledge catalog (``aadsts.<n>``
and ``signin.*``); :class:`SignInRequired` when only a new interactive sign-in helps (the saved
account then shows "sign in again"); :class:`SignInCancelled` when the person cancelled.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl, urlsplit

import msal

from app.core.auth.brokers import BrokerSupport, MethodChoice, SignInMethod, msal_broker_options
from app.core.auth.msal_http import SeamHttpClient
from app.core.auth.token_cache import MailboxLink, TokenCacheError, TokenCacheStore
from app.core.checks.base import CredentialKind, Credentials, Secret
from app.core.diagnostics import knowledge
from app.core.errors import ConfigError, ErrorOptions, Fault, SetupError
from app.core.model import Finding, Outcome
from app.core.net import Network
from app.core.texts import ParamValue, Text

__all__ = [
    "CONSUMER_TENANT_ID",
    "DEFAULT_LOGIN_HOST",
    "IMAP_SCOPE",
    "POP_SCOPE",
    "REAUTH_CODES",
    "RESERVED_SCOPES",
    "SMTP_SCOPE",
    "Authority",
    "MicrosoftSettingsLike",
    "MicrosoftSignIn",
    "SavedAccount",
    "SignInCancelled",
    "SignInError",
    "SignInFlow",
    "SignInRequired",
    "SignInResult",
    "aadsts_code",
    "choose_authority",
    "error_for_response",
    "parse_redirect",
    "request_scopes",
    "resource_of",
    "scopes_by_resource",
]

DEFAULT_LOGIN_HOST: Final = "login.microsoftonline.com"
#: The tenant of personal Microsoft accounts (Outlook.com, Hotmail, Live).
CONSUMER_TENANT_ID: Final = "9188040d-6c67-4c5b-b112-36a304b66dad"
OUTLOOK_RESOURCE: Final = "https://outlook.office.com"
IMAP_SCOPE: Final = f"{OUTLOOK_RESOURCE}/IMAP.AccessAsUser.All"
POP_SCOPE: Final = f"{OUTLOOK_RESOURCE}/POP.AccessAsUser.All"
SMTP_SCOPE: Final = f"{OUTLOOK_RESOURCE}/SMTP.Send"
#: Scopes MSAL adds to every request itself and refuses when passed.
RESERVED_SCOPES: Final = frozenset({"openid", "profile", "offline_access"})
#: AADSTS codes after which only a new interactive sign-in helps.
REAUTH_CODES: Final = frozenset({50173, 70043, 700082, 50055, 70008, 50058, 50076, 50079})
#: OAuth errors of a silent refresh that mean "ask the person again".
_INTERACTION_ERRORS: Final = frozenset(
    {"invalid_grant", "interaction_required", "login_required", "consent_required"}
)
#: AADSTS codes whose fix is an administrator's consent: the finding carries the link.
_CONSENT_CODES: Final = frozenset({65001, 90094, 90095})
_ACCOUNT_TYPES: Final = frozenset({"organizations", "consumers", "common", "single-tenant"})
_MULTI_TENANT: Final = frozenset({"common", "organizations", "consumers"})
_HOST_NAME: Final = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_AADSTS: Final = re.compile(r"AADSTS(\d+)")
_FORM_POST_WARNING: Final = r"response_mode='form_post' is recommended"


class MicrosoftSettingsLike(Protocol):
    """What the sign-in reads of ``app.core.config.MicrosoftSettings``."""

    @property
    def client_id(self) -> str | None: ...
    @property
    def authority(self) -> str | None: ...
    @property
    def account_types(self) -> str: ...
    @property
    def redirect_uri(self) -> str: ...
    @property
    def scopes(self) -> tuple[str, ...]: ...
    @property
    def tenant(self) -> str | None: ...


# --- errors -----------------------------------------------------------------------------------


class SignInError(SetupError):
    """A Microsoft sign-in failed. ``finding`` explains it (knowledge catalog); ``aadsts`` is
    Microsoft's error number when there was one."""

    default_code = "signin.failed"
    default_help_topic = "microsoft-sign-in"
    default_fault = Fault.REMOTE_PROVIDER

    def __init__(
        self, finding: Finding, *, aadsts: int | None = None, fault: Fault | None = None
    ) -> None:
        options: ErrorOptions = {
            "code": finding.code,
            "help_topic": finding.help_topic or self.default_help_topic,
            "fault": fault or self.default_fault or Fault.REMOTE_PROVIDER,
            "fixer": finding.fixer,
            "cause": finding.cause,
            "checked": finding.checked,
            "detail": finding.detail,
        }
        if finding.fix is not None:
            options["fix"] = finding.fix
        if finding.server_said is not None:
            options["server_said"] = finding.server_said
        super().__init__(finding.title or finding.cause, **options)
        self.finding = finding
        self.aadsts = aadsts

    def outcome(self) -> Outcome:
        return self.finding.outcome

    def to_finding(self, checked: Text | None = None) -> Finding:
        if checked is None:
            return self.finding
        return dataclasses.replace(self.finding, checked=checked)


class SignInRequired(SignInError):
    """Only a new interactive sign-in helps (no saved sign-in, or it was revoked or expired)."""


class SignInCancelled(SignInError):
    """The person cancelled the sign-in or declined the permission request."""

    default_fault = Fault.LOCAL_INPUT


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """An authority URL for MSAL and whether MSAL's instance discovery is off for it."""

    url: str
    instance_discovery: bool | None = None  # None: MSAL's default; False: off

    @property
    def tenant(self) -> str:
        """The first path segment: a tenant GUID or domain, or common/organizations/consumers."""
        path = urlsplit(self.url).path.strip("/")
        return path.split("/", 1)[0] if path else ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


@dataclass(frozen=True)
class SignInFlow:
    """A sign-in in progress: load ``auth_uri`` in the sign-in window, catch the navigation to
    ``redirect_uri``, and pass that URL to :meth:`MicrosoftSignIn.finish`. ``state`` is checked
    there. ``msal_flow`` holds MSAL's secrets of the flow (the PKCE verifier): never shown."""

    address: str
    auth_uri: str
    redirect_uri: str
    state: str
    authority: Authority
    scopes: tuple[str, ...]
    msal_flow: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SignInResult:
    """A finished sign-in. ``username`` is the sign-in name (may differ from ``address``, the
    mailbox); ``expires_on`` when ``access_token`` expires (seconds since the epoch);
    ``persistent`` False when the sign-in is kept in memory only."""

    address: str
    username: str
    home_account_id: str
    tenant_id: str | None
    authority: str
    scopes: tuple[str, ...]
    expires_on: float
    access_token: Secret = field(repr=False, compare=False)
    persistent: bool = True

    def to_dict(self) -> dict[str, object]:
        """For ``--json`` output: everything but the token."""
        return {
            "address": self.address,
            "username": self.username,
            "home_account_id": self.home_account_id,
            "tenant_id": self.tenant_id,
            "authority": self.authority,
            "scopes": list(self.scopes),
            "expires_on": int(self.expires_on),
            "persistent": self.persistent,
        }


@dataclass(frozen=True)
class SavedAccount:
    """A mailbox with a saved Microsoft sign-in. ``needs_sign_in`` says "sign in again"."""

    address: str
    username: str
    home_account_id: str
    tenant_id: str | None
    authority: str
    needs_sign_in: bool

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


# --- pure helpers -----------------------------------------------------------------------------


def resource_of(scope: str) -> str:
    """The resource a scope belongs to (``https://outlook.office.com`` for its IMAP scope);
    Microsoft Graph for a bare name such as ``Mail.Send``."""
    if "://" in scope:
        scheme, rest = scope.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}".lower()
    return "https://graph.microsoft.com"


def request_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """``scopes`` without the ones MSAL adds itself (openid, profile, offline_access), without
    blanks and duplicates, in order. ValueError if nothing is left."""
    seen: list[str] = []
    for scope in scopes:
        cleaned = scope.strip()
        if cleaned and cleaned.lower() not in RESERVED_SCOPES and cleaned not in seen:
            seen.append(cleaned)
    if not seen:
        raise ValueError("no scopes to ask for (openid, profile, offline_access do not count)")
    return tuple(seen)


def scopes_by_resource(scopes: Iterable[str]) -> list[tuple[str, ...]]:
    """``scopes`` grouped by resource, in order of first appearance (one token each)."""
    groups: dict[str, list[str]] = {}
    for scope in request_scopes(scopes):
        groups.setdefault(resource_of(scope), []).append(scope)
    return [tuple(group) for group in groups.values()]


def _is_personal(tenant_hint: str | None) -> bool:
    return tenant_hint is not None and tenant_hint.strip().lower() in (
        "consumers",
        CONSUMER_TENANT_ID,
    )


def choose_authority(
    settings: MicrosoftSettingsLike,
    *,
    tenant_hint: str | None = None,
    authority_host: str | None = None,
    address: str = "",
) -> Authority:
    """The authority to sign ``address`` in with (see the module docstring).

    ``tenant_hint``: the tenant detection found (GUID or domain); ``consumers`` or the consumer
    tenant's GUID for a personal account. ``authority_host``: the sign-in host detection found
    (``login.microsoftonline.us`` for a US government tenant). Raises ConfigError for unusable
    settings, SignInError when the registration does not accept this kind of account."""
    if settings.authority:
        return Authority(settings.authority.rstrip("/"), instance_discovery=False)
    host = (authority_host or DEFAULT_LOGIN_HOST).strip().rstrip(".").lower()
    if not _HOST_NAME.match(host) or "." not in host:
        raise ConfigError("authority host", f"{authority_host!r} is not a host name")
    kind = settings.account_types
    if kind not in _ACCOUNT_TYPES:
        raise ConfigError("[microsoft] account_types", f"unknown account type {kind!r}")
    hint = (tenant_hint or "").strip() or None
    if kind == "single-tenant":
        if not settings.tenant:
            raise ConfigError("[microsoft] tenant", "a single-tenant registration needs the tenant")
        tenant = settings.tenant.strip()
    elif _is_personal(hint):
        if kind == "organizations":
            raise SignInError(
                _finding(
                    "signin.personal-not-accepted",
                    checked=Text("auth.check.signin", {"address": address or "-"}),
                    params={"address": address or "-"},
                ),
                fault=Fault.LOCAL_ENVIRONMENT,
            )
        tenant = "consumers"
    elif hint is not None:
        if kind == "consumers":
            raise SignInError(
                _finding(
                    "signin.work-not-accepted",
                    checked=Text("auth.check.signin", {"address": address or "-"}),
                    params={"address": address or "-"},
                ),
                fault=Fault.LOCAL_ENVIRONMENT,
            )
        tenant = hint
    else:
        tenant = kind
    return Authority(f"https://{host}/{tenant}")


def parse_redirect(redirect_url: str, redirect_uri: str) -> dict[str, str]:
    """The parameters of the redirect the sign-in window caught (query, else fragment).
    Raises SignInError (``signin.bad-redirect``) when it does not go to ``redirect_uri``."""
    caught, expected = urlsplit(redirect_url), urlsplit(redirect_uri)
    same_place = (
        caught.scheme.lower() == expected.scheme.lower()
        and (caught.hostname or "") == (expected.hostname or "")
        and (caught.path or "/").rstrip("/") == (expected.path or "/").rstrip("/")
    )
    if not same_place:
        raise SignInError(
            _finding(
                "signin.bad-redirect",
                checked=Text("auth.check.redirect"),
                params={"expected": redirect_uri},
                detail={"expected": redirect_uri},
            ),
            fault=Fault.LOCAL_INPUT,
        )
    return dict(parse_qsl(caught.query or caught.fragment, keep_blank_values=True))


def aadsts_code(response: Mapping[str, Any] | str) -> int | None:
    """Microsoft's error number in a token or redirect answer (``error_codes`` or the
    ``AADSTS<n>`` in its description) or in a text."""
    if isinstance(response, str):
        found = _AADSTS.search(response)
        return int(found.group(1)) if found else None
    codes = response.get("error_codes")
    if isinstance(codes, list) and codes and str(codes[0]).isdigit():
        return int(codes[0])
    return aadsts_code(str(response.get("error_description") or ""))


def _finding(
    code: str,
    *,
    checked: Text,
    params: Mapping[str, ParamValue] | None = None,
    server_said: str | None = None,
    detail: Mapping[str, str | int] | None = None,
) -> Finding:
    """The knowledge catalog's finding ``code``, given only the placeholders it uses (the ones
    not known shown as "-")."""
    entry = knowledge.default_knowledge().by_code.get(code)
    values: dict[str, ParamValue] = {}
    if entry is not None:
        given = dict(params or {})
        values = {name: given.get(name, "-") for name in entry.placeholders}
    return knowledge.finding(
        code, checked=checked, server_said=server_said, params=values, detail=detail
    )


def _knows(code: str) -> bool:
    return code in knowledge.default_knowledge().by_code


def error_for_response(
    response: Mapping[str, Any],
    *,
    address: str,
    authority: str,
    silent: bool = False,
    consent_url: str | None = None,
    checked: Text | None = None,
) -> SignInError:
    """The error for an error answer of MSAL or of the redirect (``error``,
    ``error_description``, ``error_codes``): SignInCancelled for a cancel or declined consent,
    SignInRequired when only a new sign-in helps (and, when ``silent``, for any refusal of a
    refresh), else SignInError."""
    error = str(response.get("error") or "")
    description = str(response.get("error_description") or "")
    number = aadsts_code(response)
    cancelled = error == "access_denied" and (
        number in (None, 65004) or response.get("error_subcode") == "cancel"
    )
    code = f"aadsts.{number}" if number is not None and _knows(f"aadsts.{number}") else None
    if code is None and description:
        matched = knowledge.match(description)
        code = matched if matched and matched.startswith("aadsts.") else None
    if code is None:
        code = "signin.cancelled" if cancelled else "signin.failed"
    shown = f"AADSTS{number}" if number is not None else (error or "-")
    detail: dict[str, str | int] = {"address": address, "authority": authority}
    if error:
        detail["error"] = error
    if number is not None:
        detail["aadsts"] = number
    if consent_url and number in _CONSENT_CODES:
        detail["admin_consent_url"] = consent_url
    finding = _finding(
        code,
        checked=checked or Text("auth.check.signin", {"address": address}),
        params={
            "address": address,
            "code": shown,
            "error": error or "-",
            "authority": authority,
            "consent_url": consent_url or "-",
        },
        server_said=description or error or None,
        detail=detail,
    )
    if cancelled:
        return SignInCancelled(finding, aadsts=number)
    if number in REAUTH_CODES or (silent and error in _INTERACTION_ERRORS):
        return SignInRequired(finding, aadsts=number)
    return SignInError(finding, aadsts=number)


def _client_info(value: object) -> tuple[str, str] | None:
    """(uid, utid) of a base64url ``client_info``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, binascii.Error):
        return None
    if isinstance(data, dict) and data.get("uid") and data.get("utid"):
        return str(data["uid"]), str(data["utid"])
    return None


def _mailbox_key(address: str) -> str:
    return address.strip().lower()


# --- the sign-in ------------------------------------------------------------------------------


class MicrosoftSignIn:
    """Microsoft sign-in for the program (see the module docstring). One per settings, network
    and token store; safe to share between tasks (MSAL work is serialised by a lock)."""

    def __init__(
        self, settings: MicrosoftSettingsLike, net: Network, cache: TokenCacheStore
    ) -> None:
        self.settings = settings
        self.net = net
        self.cache = cache
        self._http = SeamHttpClient(net)
        self._apps: dict[tuple[str, bool | None, tuple[tuple[str, bool], ...]], Any] = {}
        self._lock = threading.RLock()

    # -- the public API ------------------------------------------------------------------------

    async def start(
        self,
        address: str,
        *,
        tenant_hint: str | None = None,
        authority_host: str | None = None,
        redirect_uri: str | None = None,
        prompt: str | None = None,
    ) -> SignInFlow:
        """Begin signing ``address`` in: the sign-in page's URL (``flow.auth_uri``), with the
        address as login hint. ``redirect_uri`` defaults to the settings' (register any other
        in the app registration); ``prompt`` is MSAL's (``select_account``, ``consent``...)."""
        self._client_id()  # ConfigError when none is configured
        address = address.strip()
        authority = choose_authority(
            self.settings, tenant_hint=tenant_hint, authority_host=authority_host, address=address
        )
        scopes = request_scopes(self.settings.scopes)
        target = redirect_uri or self.settings.redirect_uri
        app = await asyncio.to_thread(self._guarded_app, authority, address, {})
        with warnings.catch_warnings():
            # query response mode is what an embedded window can catch; MSAL recommends
            # form_post for web apps and warns on every other mode
            warnings.filterwarnings("ignore", message=_FORM_POST_WARNING, category=UserWarning)
            flow: dict[str, Any] = app.initiate_auth_code_flow(
                list(scopes), redirect_uri=target, login_hint=address, prompt=prompt
            )
        return SignInFlow(
            address=address,
            auth_uri=str(flow["auth_uri"]),
            redirect_uri=target,
            state=str(flow["state"]),
            authority=authority,
            scopes=scopes,
            msal_flow=flow,
        )

    async def finish(self, flow: SignInFlow, redirect_url: str) -> SignInResult:
        """Complete the sign-in with the redirect the window caught: the state is checked
        (a mismatch is refused before anything is sent), an error answer becomes a
        SignInError (SignInCancelled for Cancel), and the code is redeemed. The tokens are
        stored; the mailbox is linked to the account that signed in."""
        response = parse_redirect(redirect_url, flow.redirect_uri)
        if response.get("state") != flow.state:
            raise SignInError(
                _finding(
                    "signin.state-mismatch",
                    checked=Text("auth.check.redirect"),
                    params={"address": flow.address},
                    detail={"address": flow.address},
                ),
                fault=Fault.LOCAL_INPUT,
            )
        if "error" in response:
            raise self._error(response, flow.address, flow.authority)
        if not response.get("code"):
            raise SignInError(
                _finding(
                    "signin.bad-redirect",
                    checked=Text("auth.check.redirect"),
                    params={"expected": flow.redirect_uri},
                    detail={"expected": flow.redirect_uri},
                ),
                fault=Fault.LOCAL_INPUT,
            )
        return await asyncio.to_thread(self._redeem, flow, response)

    async def access_token(self, address: str, scopes: Sequence[str]) -> Secret:
        """A valid access token for ``address`` and ``scopes`` (one resource), refreshed
        silently when needed. Raises SignInRequired when a new sign-in is needed (the account
        is then marked "sign in again"), SignInError for other failures."""
        wanted = request_scopes(scopes)
        if len({resource_of(s) for s in wanted}) > 1:
            raise ValueError(f"one resource per token request, not {wanted}")
        return await asyncio.to_thread(self._silent, address, wanted)

    async def oauth_credentials(self, address: str, scopes: Sequence[str]) -> Credentials:
        """Credentials for XOAUTH2/OAUTHBEARER: user name = the MAILBOX address (not the
        sign-in name), secret = a fresh access token."""
        token = await self.access_token(address, scopes)
        return Credentials(address.strip(), token, CredentialKind.OAUTH2)

    async def sign_out(self, address: str) -> bool:
        """Forget the sign-in of ``address``: its link, and the account with its tokens unless
        another mailbox still uses the same account. True if there was one. Works offline."""
        return await asyncio.to_thread(self._sign_out, address)

    async def accounts(self) -> list[SavedAccount]:
        """The mailboxes with a saved sign-in; ``needs_sign_in`` where it must be renewed."""
        return await asyncio.to_thread(self._accounts)

    async def sign_in_interactive(
        self,
        address: str,
        choice: MethodChoice,
        *,
        tenant_hint: str | None = None,
        authority_host: str | None = None,
        support: BrokerSupport | None = None,
        parent_window_handle: int | None = None,
        show_link: Callable[[str], None] | None = None,
        wait_seconds: float = 600.0,
    ) -> SignInResult:
        """Sign in with MSAL's broker or the system browser (``choice`` from
        :func:`app.core.auth.brokers.choose_methods`). UNPROVEN: the broker (WAM, Company
        Portal) cannot run here; the system browser way uses MSAL's loopback listener.
        ``show_link`` gets the sign-in URL when no browser could be opened (MSAL's
        ``auth_uri_callback``: show it to the person);
        ``wait_seconds`` bounds the wait for the person to finish."""
        if choice.method is SignInMethod.EMBEDDED:
            raise ValueError("the embedded window signs in with start() and finish()")
        authority = choose_authority(
            self.settings, tenant_hint=tenant_hint, authority_host=authority_host, address=address
        )
        options = msal_broker_options(choice, support or BrokerSupport.detect())
        return await asyncio.to_thread(
            self._interactive,
            address.strip(),
            authority,
            options,
            choice,
            parent_window_handle,
            show_link,
            wait_seconds,
        )

    # -- MSAL, in worker threads ---------------------------------------------------------------

    def _client_id(self) -> str:
        client_id = (self.settings.client_id or "").strip()
        if not client_id:
            raise ConfigError("[microsoft] client_id", Text("auth.no-client-id"))
        return client_id

    def _instance_discovery(self) -> bool | None:
        return False if self.settings.authority else None

    def _app(self, authority: Authority, options: Mapping[str, bool]) -> Any:
        key = (authority.url, authority.instance_discovery, tuple(sorted(options.items())))
        with self._lock:
            app = self._apps.get(key)
            if app is None:
                app = msal.PublicClientApplication(
                    self._client_id(),
                    authority=authority.url,
                    instance_discovery=authority.instance_discovery,
                    http_client=self._http,
                    token_cache=self.cache.cache,
                    **options,
                )
                self._apps[key] = app
            return app

    def _guarded_app(self, authority: Authority, address: str, options: Mapping[str, bool]) -> Any:
        """``_app`` with MSAL's and the seam's failures as SignInErrors (tenant discovery
        happens when the application is built)."""
        try:
            return self._app(authority, options)
        except SetupError as exc:
            if isinstance(exc, (SignInError, ConfigError)):
                raise
            raise _wrapped(exc) from exc
        except ValueError as exc:
            text = _chain_text(exc)  # MSAL re-raises discovery failures with a generic text
            number = aadsts_code(text) or (90002 if "HTTP status: 400" in text else None)
            response: dict[str, Any] = {"error": "invalid_tenant", "error_description": text}
            if number is not None:
                response["error_codes"] = [number]
            raise self._error(response, address, authority) from exc

    def _error(
        self, response: Mapping[str, Any], address: str, authority: Authority, silent: bool = False
    ) -> SignInError:
        return error_for_response(
            response,
            address=address,
            authority=authority.url,
            silent=silent,
            consent_url=self._consent_url(address, authority),
        )

    def _consent_url(self, address: str, authority: Authority) -> str | None:
        """The admin-consent link for the tenant signed in to: the authority's tenant, else
        the address's domain (a tenant is also named by its domains)."""
        tenant = authority.tenant
        if not tenant or tenant.lower() in _MULTI_TENANT:
            tenant = address.rsplit("@", 1)[-1] if "@" in address else "organizations"
        return _admin_consent_url(self.settings, tenant, authority.host)

    def _load(self) -> None:
        try:
            self.cache.load()
        except TokenCacheError as exc:
            raise _wrapped(exc) from exc

    def _save(self) -> bool:
        """Save the cache; False when the storage failed (the store then keeps the sign-in in
        memory and lists a notice)."""
        try:
            self.cache.save()
        except TokenCacheError:
            return False
        return self.cache.persistent

    def _redeem(self, flow: SignInFlow, response: Mapping[str, str]) -> SignInResult:
        with self._lock:
            self._load()
            app = self._guarded_app(flow.authority, flow.address, {})
            groups = scopes_by_resource(flow.scopes)
            try:
                result = app.acquire_token_by_auth_code_flow(
                    dict(flow.msal_flow),
                    dict(response),
                    scopes=list(groups[0]) if len(groups) > 1 else None,
                )
            except SetupError as exc:
                raise _wrapped(exc) from exc
            except ValueError as exc:  # MSAL: state mismatch, or neither code nor error
                raise SignInError(
                    _finding(
                        "signin.state-mismatch",
                        checked=Text("auth.check.redirect"),
                        params={"address": flow.address},
                        detail={"address": flow.address, "reason": str(exc)[:200]},
                    ),
                    fault=Fault.LOCAL_INPUT,
                ) from exc
            return self._store_result(app, flow.address, flow.authority, result)

    def _store_result(
        self, app: Any, address: str, authority: Authority, result: Mapping[str, Any]
    ) -> SignInResult:
        if "error" in result or "access_token" not in result:
            self._save()
            raise self._error(result, address, authority)
        claims = result.get("id_token_claims") or {}
        info = _client_info(result.get("client_info"))
        username = str(claims.get("preferred_username") or claims.get("upn") or "")
        tenant_id: str | None
        if info is not None:
            home_account_id, tenant_id = f"{info[0]}.{info[1]}", info[1]
        else:
            accounts = app.get_accounts(username=username) if username else []
            if not accounts:
                raise SignInError(
                    _finding(
                        "signin.no-account",
                        checked=Text("auth.check.signin", {"address": address}),
                        params={"address": address},
                    )
                )
            home_account_id = str(accounts[0]["home_account_id"])
            tenant_id = str(claims["tid"]) if claims.get("tid") else None
        username = username or address
        self.cache.set_link(
            MailboxLink(
                address=address,
                home_account_id=home_account_id,
                username=username,
                authority=authority.url,
                tenant_id=tenant_id,
            )
        )
        persistent = self._save()
        granted = tuple(str(result.get("scope") or "").split())
        return SignInResult(
            address=address,
            username=username,
            home_account_id=home_account_id,
            tenant_id=tenant_id,
            authority=authority.url,
            scopes=granted,
            expires_on=time.time() + float(result.get("expires_in") or 0),
            access_token=Secret(str(result["access_token"])),
            persistent=persistent,
        )

    def _account_for(self, app: Any, link: MailboxLink) -> Mapping[str, Any] | None:
        for account in app.get_accounts():
            if account.get("home_account_id") == link.home_account_id:
                found: Mapping[str, Any] = account
                return found
        return None

    def _required(self, address: str, link: MailboxLink | None) -> SignInRequired:
        if link is not None:
            self.cache.mark_needs_sign_in(address)
            self._save()
        return SignInRequired(
            _finding(
                "signin.required",
                checked=Text("auth.check.token", {"address": address}),
                params={"address": address},
                detail={"address": address},
            )
        )

    def _silent(self, address: str, scopes: tuple[str, ...]) -> Secret:
        with self._lock:
            self._load()
            link = self.cache.link_for(address)
            if link is None:
                raise self._required(address, None)
            authority = Authority(link.authority, self._instance_discovery())
            app = self._guarded_app(authority, address, {})
            account = self._account_for(app, link)
            if account is None:
                raise self._required(address, link)
            try:
                result = app.acquire_token_silent_with_error(list(scopes), account=account)
            except SetupError as exc:
                raise _wrapped(exc) from exc
            if not result:
                raise self._required(address, link)
            if "error" in result or "access_token" not in result:
                error = self._error(result, address, authority, silent=True)
                if isinstance(error, SignInRequired):
                    self.cache.mark_needs_sign_in(address)
                self._save()
                raise error
            self.cache.mark_needs_sign_in(address, False)
            self._save()
            return Secret(str(result["access_token"]))

    def _sign_out(self, address: str) -> bool:
        with self._lock:
            self._load()
            link = self.cache.remove_link(address)
            if link is None:
                return False
            still_used = any(
                other.home_account_id == link.home_account_id for other in self.cache.links()
            )
            if not still_used:
                _forget_account(self.cache.cache, link.home_account_id)
            try:
                self.cache.save()
            except TokenCacheError as exc:
                raise _wrapped(exc) from exc
            return True

    def _accounts(self) -> list[SavedAccount]:
        with self._lock:
            self._load()
            with_refresh = {
                str(item.get("home_account_id"))
                for item in self.cache.cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
            }
            return [
                SavedAccount(
                    address=link.address,
                    username=link.username,
                    home_account_id=link.home_account_id,
                    tenant_id=link.tenant_id,
                    authority=link.authority,
                    needs_sign_in=link.needs_sign_in or link.home_account_id not in with_refresh,
                )
                for link in self.cache.links()
            ]

    def _interactive(
        self,
        address: str,
        authority: Authority,
        options: Mapping[str, bool],
        choice: MethodChoice,
        parent_window_handle: int | None,
        show_link: Callable[[str], None] | None,
        timeout: float,
    ) -> SignInResult:
        with self._lock:
            self._load()
            app = self._guarded_app(authority, address, options)
        extra: dict[str, Any] = {}
        if choice.method is SignInMethod.BROKER:
            extra["parent_window_handle"] = (
                parent_window_handle
                if parent_window_handle is not None
                else msal.PublicClientApplication.CONSOLE_WINDOW_HANDLE
            )
        if show_link is not None:
            extra["auth_uri_callback"] = show_link
        groups = scopes_by_resource(self.settings.scopes)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_FORM_POST_WARNING, category=UserWarning)
                result = app.acquire_token_interactive(
                    list(groups[0]),
                    login_hint=address,
                    timeout=timeout,
                    extra_scopes_to_consent=[s for g in groups[1:] for s in g] or None,
                    **extra,
                )
        except SetupError as exc:
            raise _wrapped(exc) from exc
        with self._lock:
            return self._store_result(app, address, authority, result or {})


def _chain_text(exc: BaseException) -> str:
    """The messages of ``exc`` and the exceptions it was raised from or during."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.append(str(current))
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


def _wrapped(exc: SetupError) -> SignInError:
    """A failure of the network seam or the token store during sign-in, as a SignInError
    whose finding is the error's own."""
    return SignInError(exc.to_finding(), fault=exc.fault)


def _forget_account(cache: msal.SerializableTokenCache, home_account_id: str) -> None:
    """Remove an account and every token of it from MSAL's cache (no network needed)."""
    kinds = msal.TokenCache.CredentialType
    query = {"home_account_id": home_account_id}
    removers: tuple[tuple[str, Callable[[Any], None]], ...] = (
        (kinds.ACCESS_TOKEN, cache.remove_at),
        (kinds.REFRESH_TOKEN, cache.remove_rt),
        (kinds.ID_TOKEN, cache.remove_idt),
        (kinds.ACCOUNT, cache.remove_account),
    )
    for kind, remove in removers:
        for item in list(cache.search(kind, query=query)):
            remove(item)


def _admin_consent_url(
    settings: MicrosoftSettingsLike, tenant: str, authority_host: str
) -> str | None:
    """The admin-consent link of the registration for ``tenant`` on ``authority_host`` (the
    sign-in host of the tenant's cloud); None when the settings cannot make one."""
    from app.core.config import DEFAULT_AUTHORITY_HOST, admin_consent_url

    client_id = (settings.client_id or "").strip()
    if not client_id:
        return None
    for host in dict.fromkeys((authority_host, DEFAULT_AUTHORITY_HOST)):
        try:
            return admin_consent_url(tenant, client_id, settings.redirect_uri, authority_host=host)
        except ValueError:
            continue
    return None
