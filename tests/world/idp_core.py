"""The logic of the test world's Microsoft-style identity provider, without HTTP.

``ProviderCore`` holds tenants, users, app registrations, consents, codes and tokens, and
implements the authorization-code flow with PKCE (authorize -> sign-in -> consent -> code), the
token endpoint (``authorization_code`` and rotating ``refresh_token`` grants), token
introspection, and the controls tests use (mint, expire, revoke, inject AADSTS failures). The
HTTP server in ``idp_http`` turns requests into calls here and answers into responses.
"""

from __future__ import annotations

import copy
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.world.idp_model import (
    CONSUMERS_TENANT_ID,
    AadError,
    AccessToken,
    AuthCode,
    AuthRequest,
    Client,
    Clock,
    Injected,
    LogEntry,
    RefreshToken,
    SigningKey,
    Tenant,
    User,
    b64url,
    b64url_json,
    full_scope,
    new_token,
    pkce_s256,
    resource_of,
    resource_scopes,
    stable_guid,
)

DEFAULT_TENANT_ID = "4f3c9b1e-7d2a-4c5e-9b8f-1a2d3c4e5f60"
DEFAULT_TENANT_DOMAIN = "contoso.test"
DEFAULT_CLIENT_ID = "6a1d3c2b-8e4f-4b7a-9c0d-5e6f7a8b9c0d"
NATIVE_CLIENT_REDIRECT = "https://login.microsoftonline.com/common/oauth2/nativeclient"
MULTI_TENANT_PATHS = ("common", "organizations", "consumers")
ENDPOINTS = ("discovery", "authorize", "token", "introspect")
_SIGN_IN_TIMEOUT = 30 * 60.0


@dataclass
class _Snapshot:
    tenants: dict[str, Tenant]
    users: dict[str, User]
    clients: dict[str, Client]
    consents: dict[tuple[str, str], dict[str, str]]


@dataclass
class Outcome:
    """What the browser leg shows next: a page, or a redirect back to the app."""

    kind: Literal["signin", "consent", "redirect", "error"]
    request: AuthRequest | None = None
    params: dict[str, str] = field(default_factory=dict)
    error: AadError | None = None
    message: str | None = None


def _norm(scope: str) -> str:
    return full_scope(scope).lower()


def _display_name(upn: str) -> str:
    local = upn.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part) or upn


class ProviderCore:
    """State and rules of the identity provider; every public method is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.clock = Clock()
        self.key = SigningKey()
        self.tenants: dict[str, Tenant] = {}
        self.users: dict[str, User] = {}
        self.clients: dict[str, Client] = {}
        self._requests: dict[str, AuthRequest] = {}
        self._codes: dict[str, AuthCode] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        # (user oid, client id) -> {normalized scope: scope as first consented}
        self._consents: dict[tuple[str, str], dict[str, str]] = {}
        self._injected: list[Injected] = []
        self.request_log: list[LogEntry] = []
        self.consent_required = True
        self.access_token_lifetime = 3600
        self.refresh_token_lifetime = 90 * 24 * 3600
        self.code_lifetime = 600
        self._baseline = _Snapshot({}, {}, {}, {})
        self.add_tenant(DEFAULT_TENANT_ID, [DEFAULT_TENANT_DOMAIN], name="Contoso")
        self.add_tenant(CONSUMERS_TENANT_ID, [], name="Microsoft Accounts", region_scope=None)
        self.register_client(
            DEFAULT_CLIENT_ID,
            ["http://localhost", NATIVE_CLIENT_REDIRECT],
            name="Mail Setup Wizard",
        )

    # -- directory -----------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        return DEFAULT_TENANT_ID

    @property
    def tenant_domain(self) -> str:
        return DEFAULT_TENANT_DOMAIN

    @property
    def default_client_id(self) -> str:
        return DEFAULT_CLIENT_ID

    def now(self) -> float:
        return self.clock.now()

    def add_tenant(
        self,
        tenant_id: str,
        domains: list[str] | tuple[str, ...],
        *,
        name: str,
        region_scope: str | None = "WW",
        region_sub_scope: str | None = None,
        cloud_instance_name: str = "microsoftonline.com",
    ) -> Tenant:
        """A directory (Entra tenant) with its verified domains."""
        tenant = Tenant(
            tenant_id.lower(),
            [d.lower() for d in domains],
            name,
            region_scope,
            region_sub_scope,
            cloud_instance_name,
        )
        with self._lock:
            self.tenants[tenant.tenant_id] = tenant
        return tenant

    def find_tenant(self, ref: str) -> Tenant | None:
        """The tenant a GUID or one of its domains names (``consumers`` too)."""
        ref = ref.lower()
        if ref == "consumers":
            ref = CONSUMERS_TENANT_ID
        with self._lock:
            if ref in self.tenants:
                return self.tenants[ref]
            for tenant in self.tenants.values():
                if ref in tenant.domains:
                    return tenant
        return None

    def _scope_tenant(self, tenant_path: str) -> Tenant | None:
        """The tenant of an authority path; None for ``common``/``organizations``. Raises
        AADSTS90002 for an unknown tenant."""
        lowered = tenant_path.lower()
        if lowered in ("common", "organizations"):
            return None
        tenant = self.find_tenant(lowered)
        if tenant is None:
            raise AadError(90002, tenant=tenant_path)
        return tenant

    def add_user(
        self,
        upn: str,
        password: str,
        *,
        mailbox: str | None = None,
        tenant: str | None = None,
        name: str | None = None,
    ) -> User:
        """A user who signs in as ``upn``; ``mailbox`` (default: the UPN) is the address the
        mail servers know, and what introspection reports as ``username``."""
        upn = upn.strip()
        if tenant is not None:
            home = self.find_tenant(tenant)
            if home is None:
                raise ValueError(f"unknown tenant {tenant!r}")
        else:
            home = self.find_tenant(upn.rsplit("@", 1)[-1]) or self.tenants[DEFAULT_TENANT_ID]
        user = User(
            upn=upn,
            password=password,
            mailbox=mailbox or upn,
            tenant_id=home.tenant_id,
            name=name or _display_name(upn),
            oid=stable_guid("user", upn),
        )
        with self._lock:
            self.users[upn.lower()] = user
        return user

    def user(self, upn: str) -> User:
        with self._lock:
            try:
                return self.users[upn.lower()]
            except KeyError:
                raise KeyError(f"no user {upn!r} in the identity provider") from None

    def remove_user(self, upn: str) -> None:
        with self._lock:
            self.users.pop(upn.lower(), None)

    def set_password(self, upn: str, password: str, *, revoke: bool = True) -> None:
        """Change a password; like Entra, this revokes the user's refresh tokens (AADSTS50173)
        unless ``revoke`` is False."""
        with self._lock:
            self.user(upn).password = password
        if revoke:
            self.revoke_refresh_tokens(upn)

    def set_disabled(self, upn: str, disabled: bool = True) -> None:
        with self._lock:
            self.user(upn).disabled = disabled

    def register_client(
        self,
        client_id: str,
        redirect_uris: list[str] | tuple[str, ...],
        *,
        public: bool = True,
        secret: str | None = None,
        name: str = "Mail Setup Wizard",
    ) -> Client:
        """An app registration. A public client redeems codes without a secret ("Allow public
        client flows"); a confidential one without its secret gets AADSTS7000218."""
        client = Client(client_id, list(redirect_uris), public, secret, name)
        with self._lock:
            self.clients[client_id.lower()] = client
        return client

    def _client(self, client_id: str) -> Client | None:
        with self._lock:
            return self.clients.get(client_id.lower())

    # -- controls for tests --------------------------------------------------------------------

    def fail_next(
        self,
        endpoint: str,
        aadsts_code: int,
        description: str | None = None,
        error: str | None = None,
        *,
        status: int | None = None,
        suberror: str | None = None,
        claims: str | None = None,
        grant_type: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` fail with ``AADSTS<code>``.

        ``endpoint``: ``token`` (optionally only for ``grant_type``), ``authorize`` (the
        error is sent to the redirect URI when the code would have been issued, i.e. after
        sign-in and consent), ``discovery`` (HTTP 400 like an unknown tenant) or
        ``introspect`` (HTTP 500). ``description`` defaults to Microsoft's message for
        known codes, ``error`` to the code's OAuth error (``invalid_grant`` otherwise)."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}, not {endpoint!r}")
        failure = AadError(
            aadsts_code, description, error, status=status, suberror=suberror, claims=claims
        )
        with self._lock:
            self._injected.append(Injected(endpoint, failure, grant_type, times))

    def take_injected(self, endpoint: str, grant_type: str | None = None) -> AadError | None:
        with self._lock:
            for injected in self._injected:
                if injected.endpoint != endpoint:
                    continue
                if injected.grant_type and injected.grant_type != grant_type:
                    continue
                injected.remaining -= 1
                if injected.remaining <= 0:
                    self._injected.remove(injected)
                return injected.error
        return None

    def grant_consent(self, upn: str, client_id: str, scopes: list[str] | tuple[str, ...]) -> None:
        """Record that ``upn`` consented to ``scopes`` for ``client_id``."""
        oid = self.user(upn).oid
        with self._lock:
            granted = self._consents.setdefault((oid, client_id.lower()), {})
            for scope in resource_scopes(scopes):
                granted.setdefault(_norm(scope), full_scope(scope))

    def revoke_consent(self, upn: str, client_id: str | None = None) -> None:
        oid = self.user(upn).oid
        with self._lock:
            for key in list(self._consents):
                if key[0] == oid and (client_id is None or key[1] == client_id.lower()):
                    del self._consents[key]

    def consented(self, upn: str, client_id: str) -> set[str]:
        """The scopes ``upn`` consented to for ``client_id`` (full names, e.g.
        ``https://outlook.office.com/IMAP.AccessAsUser.All``)."""
        oid = self.user(upn).oid
        with self._lock:
            return set(self._consents.get((oid, client_id.lower()), {}).values())

    def _tokens_of(self, upn: str | None, table: dict[str, Any]) -> list[Any]:
        with self._lock:
            return [t for t in table.values() if upn is None or t.upn.lower() == upn.lower()]

    def expire_access_tokens(self, upn: str | None = None) -> None:
        for token in self._tokens_of(upn, self._access):
            token.expires = min(token.expires, self.now() - 1)

    def expire_refresh_tokens(self, upn: str | None = None) -> None:
        for token in self._tokens_of(upn, self._refresh):
            token.expires = min(token.expires, self.now() - 1)

    def expire_all(self, upn: str | None = None) -> None:
        """Expire access and refresh tokens (of ``upn``, or everyone's): introspection says
        inactive; a refresh gets AADSTS700082."""
        self.expire_access_tokens(upn)
        self.expire_refresh_tokens(upn)

    def revoke_refresh_tokens(self, upn: str) -> None:
        """Revoke every refresh token of ``upn`` (what a password change does): a refresh gets
        AADSTS50173. Access tokens stay valid until they expire, as with Entra."""
        with self._lock:
            self.user(upn).tokens_valid_from = self.now()
        for token in self._tokens_of(upn, self._refresh):
            token.revoked = True

    def revoke_access_tokens(self, upn: str) -> None:
        """Revoke the access tokens of ``upn``: introspection says inactive from now on."""
        for token in self._tokens_of(upn, self._access):
            token.revoked = True

    def issue_access_token(
        self,
        upn: str,
        scopes: list[str] | tuple[str, ...],
        lifetime: int = 3600,
        client_id: str | None = None,
    ) -> str:
        """Mint an access token directly (no sign-in); returns the opaque token."""
        user = self.user(upn)
        scopes = resource_scopes(tuple(scopes))
        return self._mint_access(user, client_id or DEFAULT_CLIENT_ID, scopes, lifetime).token

    def issue_tokens(
        self,
        upn: str,
        scopes: list[str] | tuple[str, ...],
        *,
        client_id: str | None = None,
        origin: str,
    ) -> dict[str, Any]:
        """A whole token response (access, refresh and ID token) as if the user signed in."""
        user = self.user(upn)
        client = client_id or DEFAULT_CLIENT_ID
        wanted = (*resource_scopes(tuple(scopes)), "openid", "profile", "offline_access")
        self.grant_consent(upn, client, wanted)
        return self._token_response(user, client, wanted, None, True, origin)

    def tokens(self, upn: str | None = None) -> dict[str, list[Any]]:
        """The access and refresh token records (of ``upn``), for assertions."""
        return {
            "access": self._tokens_of(upn, self._access),
            "refresh": self._tokens_of(upn, self._refresh),
        }

    def log(self, entry: LogEntry) -> None:
        with self._lock:
            self.request_log.append(entry)

    def log_for(self, endpoint: str) -> list[LogEntry]:
        with self._lock:
            return [e for e in self.request_log if e.endpoint == endpoint]

    def clear_log(self) -> None:
        with self._lock:
            self.request_log.clear()

    def mark_baseline(self) -> None:
        """Remember the directory (tenants, users, clients, consents) as it is now; ``reset``
        returns to it. The ``idp_state`` fixture marks it before each test."""
        with self._lock:
            self._baseline = _Snapshot(
                tenants={k: copy.deepcopy(v) for k, v in self.tenants.items()},
                users={k: copy.deepcopy(v) for k, v in self.users.items()},
                clients={k: copy.deepcopy(v) for k, v in self.clients.items()},
                consents={k: dict(v) for k, v in self._consents.items()},
            )

    def reset(self) -> None:
        """Back to the baseline: users, clients, tenants and consents as they were (passwords
        and disabled flags too); no injected failures, pending sign-ins, clock offset or
        changed lifetimes; the request log emptied. Tokens already issued stay as they are."""
        with self._lock:
            base = self._baseline
            self.tenants = {k: copy.deepcopy(v) for k, v in base.tenants.items()}
            self.users = {k: copy.deepcopy(v) for k, v in base.users.items()}
            self.clients = {k: copy.deepcopy(v) for k, v in base.clients.items()}
            self._consents = {k: dict(v) for k, v in base.consents.items()}
            self._injected.clear()
            self._requests.clear()
            self.request_log.clear()
            self.consent_required = True
            self.access_token_lifetime = 3600
            self.refresh_token_lifetime = 90 * 24 * 3600
            self.code_lifetime = 600
            self.clock.offset = 0.0

    # -- discovery -----------------------------------------------------------------------------

    def openid_configuration(self, tenant_path: str, origin: str) -> dict[str, Any]:
        """The OpenID Connect discovery document, shaped like Entra's v2.0 one. A tenant
        domain resolves to the tenant's GUID in every endpoint; raises AADSTS90002."""
        tenant = self._scope_tenant(tenant_path)
        lowered = tenant_path.lower()
        if tenant is None or lowered == "consumers":
            path = lowered
            issuer_tenant = CONSUMERS_TENANT_ID if lowered == "consumers" else "{tenantid}"
        else:
            path = issuer_tenant = tenant.tenant_id
        base = f"{origin}/{path}"
        document: dict[str, Any] = {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{origin}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{base}/kerberos",
            "introspection_endpoint": f"{origin}/introspect",
            "code_challenge_methods_supported": ["S256"],
            "tenant_region_scope": tenant.region_scope if tenant else None,
            "cloud_instance_name": tenant.cloud_instance_name if tenant else "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        if tenant is not None and tenant.region_sub_scope:
            document["tenant_region_sub_scope"] = tenant.region_sub_scope
        return document

    def user_realm(self, login: str) -> dict[str, Any]:
        """``/common/userrealm/{user}``: Managed for a tenant's domain, MSA for a consumer
        user, Unknown otherwise."""
        domain = login.rsplit("@", 1)[-1].lower()
        tenant = self.find_tenant(domain)
        with self._lock:
            user = self.users.get(login.lower())
        if user is not None and user.tenant_id == CONSUMERS_TENANT_ID:
            kind = "MSA"
        elif tenant is not None and not tenant.is_consumers:
            kind = "Managed"
        else:
            kind = "Unknown"
        return {
            "ver": "1.0",
            "account_type": kind,
            "domain_name": domain,
            "cloud_instance_name": tenant.cloud_instance_name if tenant else "microsoftonline.com",
            "cloud_audience_urn": "urn:federation:MicrosoftOnline",
        }

    def get_user_realm(self, login: str) -> dict[str, Any]:
        """``/getuserrealm.srf?login=...&json=1`` (NameSpaceType Managed or Unknown)."""
        realm = self.user_realm(login)
        tenant = self.find_tenant(realm["domain_name"])
        managed = realm["account_type"] == "Managed"
        answer: dict[str, Any] = {
            "State": 4 if managed else 1,
            "UserState": 1 if managed else 2,
            "Login": login,
            "NameSpaceType": "Managed" if managed else "Unknown",
            "DomainName": realm["domain_name"],
            "CloudInstanceName": realm["cloud_instance_name"],
        }
        if managed and tenant is not None:
            answer["FederationBrandName"] = tenant.name
        return answer

    # -- introspection -------------------------------------------------------------------------

    def introspect(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """RFC 7662 answer for ``token``; ``username`` is the user's MAILBOX address.
        With ``audience`` (e.g. ``https://outlook.office.com``) a token for another resource
        is inactive."""
        with self._lock:
            record = self._access.get(token)
            user = self.users.get(record.upn.lower()) if record else None
        if record is None or user is None or user.disabled or record.revoked:
            return {"active": False}
        if record.expires <= self.now():
            return {"active": False}
        if audience and record.audience.rstrip("/").lower() != audience.rstrip("/").lower():
            return {"active": False}
        return {
            "active": True,
            "username": user.mailbox,
            "scope": " ".join(full_scope(s) for s in record.scopes),
            "client_id": record.client_id,
            "token_type": "Bearer",
            "exp": int(record.expires),
            "iat": int(record.issued),
            "sub": user.oid,
            "aud": record.audience,
            "upn": user.upn,
            "email": user.mailbox,
            "tid": user.tenant_id,
        }

    # -- authorize (the browser leg) -----------------------------------------------------------

    def authorize(self, tenant_path: str, params: dict[str, str]) -> Outcome:
        """Check an authorize request. Untrusted problems (tenant, client, redirect URI) give
        an error page; the rest go back to the redirect URI."""
        try:
            self._scope_tenant(tenant_path)
        except AadError as exc:
            return Outcome("error", error=exc)
        client_id = params.get("client_id", "")
        if not client_id:
            return Outcome("error", error=AadError(900144, parameter="client_id"))
        client = self._client(client_id)
        if client is None:
            return Outcome("error", error=AadError(700016, client=client_id, tenant=tenant_path))
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            return Outcome("error", error=AadError(900144, parameter="redirect_uri"))
        if not redirect_uri_allowed(redirect_uri, client.redirect_uris):
            return Outcome(
                "error", error=AadError(50011, redirect_uri=redirect_uri, client=client_id)
            )
        request = AuthRequest(
            ctx=secrets.token_urlsafe(24),
            tenant_path=tenant_path,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            response_mode=params.get("response_mode", "query"),
            scopes=tuple(params.get("scope", "").split()),
            state=params.get("state"),
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge", ""),
            login_hint=params.get("login_hint", ""),
            prompt=params.get("prompt"),
            client_info=params.get("client_info") == "1",
            created=self.now(),
        )
        if request.response_mode not in ("query", "fragment", "form_post"):
            request.response_mode = "query"
        problem: AadError | None = None
        if params.get("response_type") != "code":
            problem = AadError(70005, response_type=params.get("response_type", ""))
        elif not request.scopes:
            problem = AadError(900144, parameter="scope")
        elif not request.code_challenge or params.get("code_challenge_method") != "S256":
            problem = AadError(9002325)
        elif request.prompt == "none":
            problem = AadError(50058)
        if problem is not None:
            return self._redirect_error(request, problem)
        with self._lock:
            self._requests[request.ctx] = request
        return Outcome("signin", request)

    def _pending(self, ctx: str) -> AuthRequest:
        with self._lock:
            request = self._requests.get(ctx)
        if request is None or self.now() - request.created > _SIGN_IN_TIMEOUT:
            raise AadError(
                50132,
                "The sign-in session has expired or is unknown. Go back to "
                "the application and sign in again.",
                "invalid_request",
            )
        return request

    def sign_in(self, ctx: str, login: str, password: str) -> Outcome:
        """The sign-in form was posted."""
        try:
            request = self._pending(ctx)
        except AadError as exc:
            return Outcome("error", error=exc)
        request.login_hint = login
        with self._lock:
            user = self.users.get(login.strip().lower())
        if user is None:
            return Outcome(
                "signin",
                request,
                message="We couldn't find an account with that "
                "username. Try another, or get a new account.",
                error=AadError(50034, upn=login, tenant=request.tenant_path),
            )
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return Outcome(
                "signin",
                request,
                message="Your account or password is incorrect. "
                "If you don't remember your password, reset it now.",
                error=AadError(50126),
            )
        if user.disabled:
            return Outcome(
                "signin",
                request,
                message="Your account has been locked. Contact "
                "your support person to unlock it, then try again.",
                error=AadError(50057),
            )
        if not self._user_fits(user, request.tenant_path):
            return Outcome(
                "signin",
                request,
                message="This account does not belong to the "
                "organization this app signs in to. Use another account.",
                error=AadError(
                    50020, upn=user.upn, tenant=request.tenant_path, client=request.client_id
                ),
            )
        request.user_upn = user.upn
        if self._needs_consent(user, request):
            return Outcome("consent", request)
        return self._complete(request)

    def _user_fits(self, user: User, tenant_path: str) -> bool:
        lowered = tenant_path.lower()
        consumer = user.tenant_id == CONSUMERS_TENANT_ID
        if lowered == "common":
            return True
        if lowered == "organizations":
            return not consumer
        tenant = self.find_tenant(lowered)
        return tenant is not None and tenant.tenant_id == user.tenant_id

    def _needs_consent(self, user: User, request: AuthRequest) -> bool:
        if not self.consent_required:
            return False
        if request.prompt == "consent":
            return True
        wanted = {_norm(s) for s in resource_scopes(request.scopes)}
        have = {_norm(s) for s in self.consented(user.upn, request.client_id)}
        return not wanted <= have

    def consent(self, ctx: str, accept: bool) -> Outcome:
        """The consent form was posted (Accept or Cancel)."""
        try:
            request = self._pending(ctx)
        except AadError as exc:
            return Outcome("error", error=exc)
        if request.user_upn is None:
            return Outcome("error", error=AadError(50058))
        if not accept:
            return self._redirect_error(request, AadError(65004))
        self.grant_consent(request.user_upn, request.client_id, request.scopes)
        return self._complete(request)

    def _complete(self, request: AuthRequest) -> Outcome:
        assert request.user_upn is not None
        with self._lock:
            self._requests.pop(request.ctx, None)
        injected = self.take_injected("authorize")
        if injected is not None:
            return self._redirect_error(request, injected)
        user = self.user(request.user_upn)
        now = self.now()
        code = AuthCode(
            code=new_token("M.C5_", 60),
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scopes=request.scopes,
            nonce=request.nonce,
            upn=user.upn,
            issued=now,
            expires=now + self.code_lifetime,
        )
        with self._lock:
            self._codes[code.code] = code
        params = {"code": code.code}
        if request.client_info:
            params["client_info"] = b64url_json({"uid": user.oid, "utid": user.tenant_id})
        if request.state is not None:
            params["state"] = request.state
        params["session_state"] = stable_guid("session", f"{user.upn}:{now}")
        return Outcome("redirect", request, params=params)

    def _redirect_error(self, request: AuthRequest, error: AadError) -> Outcome:
        with self._lock:
            self._requests.pop(request.ctx, None)
        stamped = error.stamped()
        params = {"error": error.error, "error_description": stamped["error_description"]}
        if error.error == "access_denied" and error.code == 65004:
            params["error_subcode"] = "cancel"
        if request.state is not None:
            params["state"] = request.state
        return Outcome("redirect", request, params=params, error=error)

    # -- token endpoint ------------------------------------------------------------------------

    def token(self, tenant_path: str, form: dict[str, str], origin: str) -> dict[str, Any]:
        """The token endpoint: a token response, or raises ``AadError``."""
        self._scope_tenant(tenant_path)
        grant_type = form.get("grant_type", "")
        injected = self.take_injected("token", grant_type)
        if injected is not None:
            raise injected
        client_id = form.get("client_id", "")
        if not client_id:
            raise AadError(900144, parameter="client_id")
        client = self._client(client_id)
        if client is None:
            raise AadError(700016, client=client_id, tenant=tenant_path)
        if not client.public:
            secret = form.get("client_secret")
            if not secret and not form.get("client_assertion"):
                raise AadError(7000218)
            if secret != client.secret:
                raise AadError(7000215, "Invalid client secret provided.", "invalid_client")
        if grant_type == "authorization_code":
            return self._redeem_code(client, form, origin)
        if grant_type == "refresh_token":
            return self._redeem_refresh(client, form, origin)
        if not grant_type:
            raise AadError(900144, parameter="grant_type")
        raise AadError(
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
            "unsupported_grant_type",
        )

    def _redeem_code(self, client: Client, form: dict[str, str], origin: str) -> dict[str, Any]:
        raw = form.get("code", "")
        if not raw:
            raise AadError(900144, parameter="code")
        with self._lock:
            code = self._codes.get(raw)
            if code is None:
                raise AadError(70000, "The provided value for the 'code' parameter is not valid.")
            already = code.redeemed
            code.redeemed = True  # single use, even when this attempt fails
        if already:
            raise AadError(54005)
        if code.expires <= self.now():
            raise AadError(70008)
        if code.client_id.lower() != client.client_id.lower():
            raise AadError(
                70000,
                "The provided value for the 'code' parameter is not valid. "
                "The code was issued to another application.",
            )
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise AadError(500112, redirect_uri=form.get("redirect_uri", ""))
        verifier = form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(pkce_s256(verifier), code.code_challenge):
            raise AadError(50148)
        user = self._live_user(code.upn)
        wanted = tuple(form.get("scope", "").split()) or code.scopes
        self._check_scopes(user, client, wanted, code.scopes)
        return self._token_response(
            user, client.client_id, wanted, code.nonce, form.get("client_info") == "1", origin
        )

    def _redeem_refresh(self, client: Client, form: dict[str, str], origin: str) -> dict[str, Any]:
        raw = form.get("refresh_token", "")
        if not raw:
            raise AadError(900144, parameter="refresh_token")
        with self._lock:
            record = self._refresh.get(raw)
        if record is None:
            raise AadError(
                9002313, "Invalid request. Request is malformed or invalid.", "invalid_grant"
            )
        if record.client_id.lower() != client.client_id.lower():
            raise AadError(70000, "The refresh token was issued to another application.")
        user = self._live_user(record.upn)
        if record.revoked or record.issued < user.tokens_valid_from:
            raise AadError(50173)
        if record.expires <= self.now():
            issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.issued))
            raise AadError(700082, issued=issued)
        with self._lock:
            if record.redeemed:
                raise AadError(
                    70000,
                    "The provided refresh token was already used; this "
                    "provider rotates refresh tokens, use the newest one.",
                )
            record.redeemed = True
        wanted = tuple(form.get("scope", "").split()) or record.scopes
        self._check_scopes(user, client, wanted, record.scopes)
        return self._token_response(
            user, client.client_id, wanted, None, form.get("client_info") == "1", origin
        )

    def _live_user(self, upn: str) -> User:
        with self._lock:
            user = self.users.get(upn.lower())
        if user is None:
            raise AadError(50034, upn=upn, tenant="the")
        if user.disabled:
            raise AadError(50057)
        return user

    def _check_scopes(
        self, user: User, client: Client, wanted: tuple[str, ...], granted: tuple[str, ...]
    ) -> None:
        resources = {resource_of(s).lower() for s in resource_scopes(wanted)}
        if len(resources) > 1:
            raise AadError(28000)
        if not self.consent_required:
            return
        allowed = {_norm(s) for s in (*granted, *self.consented(user.upn, client.client_id))}
        if not {_norm(s) for s in resource_scopes(wanted)} <= allowed:
            raise AadError(65001, client=client.client_id, client_name=client.name)

    # -- minting -------------------------------------------------------------------------------

    def _mint_access(
        self, user: User, client_id: str, scopes: tuple[str, ...], lifetime: int
    ) -> AccessToken:
        now = self.now()
        audience = resource_of(scopes[0]) if scopes else resource_of("User.Read")
        record = AccessToken(
            token=new_token("EwB", 96),
            upn=user.upn,
            client_id=client_id,
            scopes=scopes,
            audience=audience,
            issued=now,
            expires=now + lifetime,
        )
        with self._lock:
            self._access[record.token] = record
        return record

    def _token_response(
        self,
        user: User,
        client_id: str,
        wanted: tuple[str, ...],
        nonce: str | None,
        client_info: bool,
        origin: str,
    ) -> dict[str, Any]:
        resource_wanted = resource_scopes(wanted)
        scopes = self._same_resource_grants(user, client_id, resource_wanted)
        lifetime = self.access_token_lifetime
        access = self._mint_access(user, client_id, scopes, lifetime)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(full_scope(s) for s in scopes),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access.token,
        }
        lowered = {s.lower() for s in wanted}
        if "offline_access" in lowered:
            now = self.now()
            consented = {full_scope(s) for s in resource_wanted}
            consented |= self.consented(user.upn, client_id)
            refresh = RefreshToken(
                token=new_token("M.C5_BAY.", 200),
                upn=user.upn,
                client_id=client_id,
                scopes=tuple(sorted(consented)),
                issued=now,
                expires=now + self.refresh_token_lifetime,
            )
            with self._lock:
                self._refresh[refresh.token] = refresh
            body["refresh_token"] = refresh.token
        if "openid" in lowered:
            body["id_token"] = self._id_token(user, client_id, nonce, origin)
        if client_info:
            body["client_info"] = b64url_json({"uid": user.oid, "utid": user.tenant_id})
        return body

    def _same_resource_grants(
        self, user: User, client_id: str, wanted: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Like Entra: the token carries every consented scope of the requested resource."""
        if not wanted:
            return ("User.Read",)
        resource = resource_of(wanted[0]).lower()
        asked = {_norm(w) for w in wanted}
        extra = sorted(
            s
            for s in self.consented(user.upn, client_id)
            if resource_of(s).lower() == resource and _norm(s) not in asked
        )
        return (*wanted, *extra)

    def _id_token(self, user: User, client_id: str, nonce: str | None, origin: str) -> str:
        now = int(self.now())
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": f"{origin}/{user.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.upn,
            "rh": b64url(secrets.token_bytes(16)),
            "sub": b64url(pkce_s256(f"{user.oid}:{client_id}").encode())[:43],
            "tid": user.tenant_id,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return self.key.sign(claims)


def redirect_uri_allowed(uri: str, registered: list[str]) -> bool:
    """Entra's reply-URL rule: exact match, except that the port of an ``http://localhost``
    (or 127.0.0.1) redirect URI is ignored; a missing path equals ``/``."""
    from urllib.parse import urlsplit

    asked = urlsplit(uri)
    for candidate in registered:
        if uri == candidate:
            return True
        reg = urlsplit(candidate)
        loopback = reg.scheme == "http" and reg.hostname in ("localhost", "127.0.0.1")
        if (
            loopback
            and asked.scheme == reg.scheme
            and asked.hostname == reg.hostname
            and (asked.path or "/") == (reg.path or "/")
            and not asked.query
        ):
            return True
    return False
