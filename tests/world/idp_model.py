"""Records and helpers of the test world's Microsoft-style identity provider.

Tenants, users, app registrations, pending sign-ins, codes and tokens; ``AadError``, an error in
the shape Microsoft's identity platform gives (``AADSTS`` code, trace and correlation IDs); the
catalog of AADSTS messages the provider knows; the RSA key that signs ID tokens (JWT, RS256).
Nothing here speaks HTTP: see ``idp_core`` (the logic) and ``idp_http`` (the server).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
# Scopes MSAL adds itself; they say who the user is, not which resource the token is for.
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
GRAPH_RESOURCE = "https://graph.microsoft.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def stable_guid(kind: str, name: str) -> str:
    """A GUID that stays the same for the same name across runs (readable screenshots)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailsetup-test-idp:{kind}:{name.lower()}"))


def pkce_s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def resource_of(scope: str) -> str:
    """The resource (token audience) a scope belongs to: ``https://outlook.office.com`` for
    ``https://outlook.office.com/IMAP.AccessAsUser.All``; Microsoft Graph for a bare name."""
    if "://" in scope:
        scheme, rest = scope.split("://", 1)
        host = rest.split("/", 1)[0]
        return f"{scheme}://{host}"
    if scope.startswith("api://"):
        return scope.rsplit("/", 1)[0]
    return GRAPH_RESOURCE


def resource_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The scopes that name a resource permission (without openid, profile, offline_access)."""
    return tuple(s for s in scopes if s.lower() not in OIDC_SCOPES)


def full_scope(scope: str) -> str:
    """``Mail.Read`` -> ``https://graph.microsoft.com/Mail.Read`` (how Microsoft reports it)."""
    return scope if "://" in scope else f"{GRAPH_RESOURCE}/{scope}"


@dataclass
class Tenant:
    tenant_id: str
    domains: list[str]
    name: str
    region_scope: str | None = "WW"
    region_sub_scope: str | None = None
    cloud_instance_name: str = "microsoftonline.com"

    @property
    def is_consumers(self) -> bool:
        return self.tenant_id == CONSUMERS_TENANT_ID


@dataclass
class User:
    upn: str
    password: str
    mailbox: str
    tenant_id: str
    name: str
    oid: str
    # Refresh tokens issued before this moment are revoked ("password changed").
    tokens_valid_from: float = 0.0
    disabled: bool = False


@dataclass
class Client:
    client_id: str
    redirect_uris: list[str]
    public: bool = True
    secret: str | None = None
    name: str = "Mail Setup Wizard"


@dataclass
class AuthRequest:
    """A sign-in in progress: the checked parameters of one authorize request."""

    ctx: str
    tenant_path: str
    client_id: str
    redirect_uri: str
    response_mode: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    login_hint: str
    prompt: str | None
    client_info: bool
    created: float
    user_upn: str | None = None


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    scopes: tuple[str, ...]
    nonce: str | None
    upn: str
    issued: float
    expires: float
    redeemed: bool = False


@dataclass
class AccessToken:
    token: str
    upn: str
    client_id: str
    scopes: tuple[str, ...]
    audience: str
    issued: float
    expires: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    upn: str
    client_id: str
    scopes: tuple[str, ...]
    issued: float
    expires: float
    redeemed: bool = False
    revoked: bool = False


@dataclass
class Injected:
    """A failure ``fail_next`` armed for an endpoint."""

    endpoint: str
    error: AadError
    grant_type: str | None
    remaining: int


@dataclass
class LogEntry:
    """One request the provider served (the request log tests can look at)."""

    time: float
    method: str
    host: str
    path: str
    endpoint: str
    params: dict[str, str]
    status: int
    error_code: int | None = None


def new_token(prefix: str, size: int = 48) -> str:
    return prefix + secrets.token_urlsafe(size)


# -- errors ------------------------------------------------------------------------------------

# code -> (OAuth error, message, suberror). Messages follow Microsoft's wording in spirit;
# ``{client}``, ``{tenant}``, ``{upn}``, ``{resource}`` are filled in when known.
KNOWN_ERRORS: dict[int, tuple[str, str, str | None]] = {
    50011: (
        "invalid_request",
        "The redirect URI '{redirect_uri}' specified in the request does "
        "not match the redirect URIs configured for the application '{client}'.",
        None,
    ),
    50020: (
        "invalid_grant",
        "User account '{upn}' from identity provider does not exist in "
        "tenant '{tenant}' and cannot access the application '{client}' in that tenant.",
        None,
    ),
    50034: (
        "invalid_grant",
        "The user account {upn} does not exist in the {tenant} directory.",
        None,
    ),
    50053: (
        "invalid_grant",
        "Your account is locked because you've tried to sign in too many "
        "times with an incorrect user ID or password.",
        None,
    ),
    50055: ("invalid_grant", "The password is expired.", "user_password_expired"),
    50057: ("invalid_grant", "The user account is disabled.", None),
    50058: ("login_required", "A silent sign-in request was sent but no user is signed in.", None),
    50076: (
        "interaction_required",
        "Due to a configuration change made by your administrator, "
        "or because you moved to a new location, you must use multi-factor authentication "
        "to access '{resource}'.",
        "basic_action",
    ),
    50126: (
        "invalid_grant",
        "Error validating credentials due to invalid username or password.",
        None,
    ),
    50148: (
        "invalid_grant",
        "The code_verifier does not match the code_challenge supplied in "
        "the authorization request for PKCE.",
        None,
    ),
    50173: (
        "invalid_grant",
        "The provided grant has expired due to it being revoked, a fresh "
        "auth token is needed. The user might have changed or reset their password.",
        "bad_token",
    ),
    53000: (
        "invalid_grant",
        "Device is not in required device state: compliant. Conditional "
        "Access policy requires a compliant device, and the device is not compliant. The "
        "user must enroll their device with an approved MDM provider like Intune.",
        None,
    ),
    53003: (
        "invalid_grant",
        "Access has been blocked by Conditional Access policies. The access "
        "policy does not allow token issuance.",
        None,
    ),
    54005: (
        "invalid_grant",
        "OAuth2 Authorization code was already redeemed, please retry with "
        "a new valid code or use an existing refresh token.",
        None,
    ),
    65001: (
        "invalid_grant",
        "The user or administrator has not consented to use the "
        "application with ID '{client}' named '{client_name}'. Send an interactive "
        "authorization request for this user and resource.",
        "consent_required",
    ),
    65004: ("access_denied", "User declined to consent to access the app.", None),
    70000: ("invalid_grant", "The provided value for the input parameter is not valid.", None),
    70005: (
        "unsupported_response_type",
        "response_type '{response_type}' is not enabled for the application.",
        None,
    ),
    70008: (
        "invalid_grant",
        "The provided authorization code or refresh token has expired due "
        "to inactivity. Send a new interactive authorization request for this user and "
        "resource.",
        None,
    ),
    70011: ("invalid_scope", "The provided request must include a 'scope' input parameter.", None),
    70043: (
        "invalid_grant",
        "The refresh token has expired or is invalid due to sign-in "
        "frequency checks by conditional access.",
        None,
    ),
    90002: (
        "invalid_tenant",
        "Tenant '{tenant}' not found. Check to make sure you have the "
        "correct tenant ID and are signing into the correct cloud.",
        None,
    ),
    500112: (
        "invalid_grant",
        "The reply address '{redirect_uri}' does not match the reply "
        "address provided when requesting Authorization code.",
        None,
    ),
    530003: (
        "invalid_grant",
        "Your device is required to be managed to access this resource.",
        None,
    ),
    700016: (
        "unauthorized_client",
        "Application with identifier '{client}' was not found in "
        "the directory '{tenant}'. This can happen if the application has not been "
        "installed by the administrator of the tenant or consented to by any user in the "
        "tenant. You may have sent your authentication request to the wrong tenant.",
        None,
    ),
    700082: (
        "invalid_grant",
        "The refresh token has expired due to inactivity. The token was "
        "issued on {issued} and was inactive for 90.00:00:00.",
        "bad_token",
    ),
    900144: (
        "invalid_request",
        "The request body must contain the following parameter: '{parameter}'.",
        None,
    ),
    9002325: (
        "invalid_request",
        "Proof Key for Code Exchange is required for this application "
        "(code_challenge with code_challenge_method=S256).",
        None,
    ),
    7000112: ("unauthorized_client", "Application '{client}'({client_name}) is disabled.", None),
    7000218: (
        "invalid_client",
        "The request body must contain the following parameter: "
        "'client_assertion' or 'client_secret'.",
        None,
    ),
    28000: (
        "invalid_scope",
        "Provided value for the input parameter scope is not valid because "
        "it contains more than one resource.",
        None,
    ),
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"{{{key}}}"


class AadError(Exception):
    """An error as Microsoft's identity platform reports it (``AADSTS<code>: <message>``)."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        error: str | None = None,
        *,
        status: int | None = None,
        suberror: str | None = None,
        claims: str | None = None,
        **values: str,
    ) -> None:
        known = KNOWN_ERRORS.get(code)
        self.code = code
        self.error = error or (known[0] if known else "invalid_grant")
        template = message or (known[1] if known else "An error occurred.")
        self.message = template.format_map(_Blank(values))
        self.suberror = suberror or (known[2] if known else None)
        self.claims = claims
        default_status = 401 if self.error == "invalid_client" else 400
        self.status = status or default_status
        self.trace_id = str(uuid.uuid4())
        super().__init__(f"AADSTS{code}: {self.message}")

    def stamped(self, correlation_id: str | None = None) -> dict[str, Any]:
        """The JSON body of the token endpoint's error answer."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        correlation = correlation_id or str(uuid.uuid4())
        trace = str(uuid.uuid4())
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace}\r\n"
                f"Correlation ID: {correlation}\r\nTimestamp: {now}"
            ),
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
        }
        if self.suberror:
            body["suberror"] = self.suberror
        if self.claims:
            body["claims"] = self.claims
        return body


# -- ID token signing --------------------------------------------------------------------------


class SigningKey:
    """The RSA key that signs ID tokens (RS256), published as a JWKS."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._key.public_key().public_numbers()
        self.kid = b64url(hashlib.sha256(str(numbers.n).encode()).digest()[:15])
        self.public_jwk = {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes(3, "big")),
        }
        self.public_key = self._key.public_key()

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = f"{b64url_json(header)}.{b64url_json(claims)}".encode("ascii")
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"

    def verify(self, jwt: str) -> dict[str, Any]:
        """The claims of a JWT this key signed; raises ``InvalidSignature`` otherwise."""
        head, body, sig = jwt.split(".")
        padded = sig + "=" * (-len(sig) % 4)
        self.public_key.verify(
            base64.urlsafe_b64decode(padded),
            f"{head}.{body}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return claims


@dataclass
class Clock:
    """The provider's notion of now; ``offset`` lets a test move it forward."""

    offset: float = 0.0

    def now(self) -> float:
        return time.time() + self.offset
