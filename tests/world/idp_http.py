"""The HTTP side of the test world's identity provider: routes Microsoft identity platform
requests to ``ProviderCore`` and renders its answers (JSON, HTML pages, redirects).

Routes (``{t}`` = a tenant GUID, a tenant domain, ``common``, ``organizations``, ``consumers``):
``GET /{t}/v2.0/.well-known/openid-configuration``, ``GET /{t}/discovery/v2.0/keys``,
``GET|POST /{t}/oauth2/v2.0/authorize``, ``POST /{t}/login`` (sign-in form),
``POST /{t}/consent`` (consent form), ``POST /{t}/oauth2/v2.0/token``,
``GET /{t}/oauth2/v2.0/logout``, ``GET /{t}/oauth2/nativeclient`` (a blank page),
``POST|GET /introspect`` (RFC 7662; ``?aud=`` limits it to one resource),
``GET /error?code=N``, ``GET /common/userrealm/{user}``, ``GET /getuserrealm.srf``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.world import idp_pages
from tests.world.idp_core import Outcome
from tests.world.idp_model import AadError, LogEntry

if TYPE_CHECKING:
    from tests.world.idp import IdentityProvider

# Microsoft sign-in host names a later issue maps to this server with host overrides.
MICROSOFT_HOSTS = (
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.live.com",
    "login.windows.net",
    "login.microsoft.com",
)
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_MAX_BODY = 1 << 20
_SECRET_FIELDS = ("passwd", "client_secret")


class ServerLog:
    """The provider's log file (attached to failing tests' reports)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def write(self, line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line}\n")


class _Server(ThreadingHTTPServer):
    """A threaded HTTP server; with ``tls`` the handshake runs in the request's thread, so a
    stuck client never blocks ``accept``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        provider: IdentityProvider,
        log: ServerLog,
        tls: ssl.SSLContext | None,
        introspection_only: bool,
    ) -> None:
        self.provider = provider
        self.log = log
        self.tls = tls
        self.introspection_only = introspection_only
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.log.write(f"TLS handshake from {client_address[0]} failed: {exc}")
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with contextlib.suppress(OSError):
                wrapped.shutdown(socket.SHUT_RDWR)
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        import traceback

        self.log.write(f"error while serving {client_address}:\n{traceback.format_exc()}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 15
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server_version = "TestIdP/1.0"
    _reply: tuple[int, bytes, str, dict[str, str]]

    # -- plumbing ------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log.write(f"{self.client_address[0]} {format % args}")

    @property
    def provider(self) -> IdentityProvider:
        return self.server.provider

    def _origin(self) -> str:
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name in MICROSOFT_HOSTS or name in _LOCAL_HOSTS:
            return f"https://{host}"
        return self.provider.base_url

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        return dict(parse_qsl(raw, keep_blank_values=True))

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        """Keep the reply; ``_flush`` writes it once the request log has the entry (a client
        that got its answer must find its request in the log)."""
        self._reply = (status, body, content_type, headers or {})

    def _flush(self) -> None:
        status, body, content_type, headers = self._reply
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store, no-cache")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json; charset=utf-8")

    def _html(self, status: int, body: bytes) -> None:
        self._send(status, body, "text/html; charset=utf-8")

    def _record(self, endpoint: str, params: dict[str, str], error: AadError | None) -> None:
        shown = {k: ("***" if k in _SECRET_FIELDS else v) for k, v in params.items()}
        entry = LogEntry(
            time=time.time(),
            method=self.command,
            host=self.headers.get("Host", ""),
            path=urlsplit(self.path).path,
            endpoint=endpoint,
            params=shown,
            status=self._reply[0],
            error_code=error.code if error else None,
        )
        self.provider.log(entry)
        if error is not None:
            self.server.log.write(f"  -> {endpoint}: AADSTS{error.code} {error.message}")

    # -- dispatch ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)))

    def do_POST(self) -> None:
        try:
            form = self._form()
        except ValueError as exc:
            self._json(413, {"error": "invalid_request", "error_description": str(exc)})
            self._flush()
            return
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        self._dispatch({**query, **form})

    def _dispatch(self, params: dict[str, str]) -> None:
        path = urlsplit(self.path).path
        parts = [p for p in path.split("/") if p]
        endpoint = "unknown"
        error: AadError | None = None
        try:
            endpoint, error = self._route(parts, params)
        except Exception as exc:  # a bug here must show in the log, not hang the client
            self.server.handle_error(self.request, self.client_address)
            self._json(500, {"error": "server_error", "error_description": repr(exc)})
        self._record(endpoint, params, error)
        self._flush()

    def _route(self, parts: list[str], params: dict[str, str]) -> tuple[str, AadError | None]:
        post = self.command == "POST"
        if parts == ["introspect"]:
            return "introspect", self._introspect(params)
        if self.server.introspection_only:
            self._json(404, {"error": "not_found"})
            return "unknown", None
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return "discovery", self._discovery(parts[0])
        if len(parts) >= 3 and parts[1] == "discovery" and parts[-1] == "keys":
            self._json(200, {"keys": [self.provider.key.public_jwk]})
            return "keys", None
        if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"]:
            tenant, action = parts[0], parts[3]
            if action == "authorize":
                return "authorize", self._render(tenant, self.provider.authorize(tenant, params))
            if action == "token" and post:
                return "token", self._token(tenant, params)
            if action == "logout":
                self._logout(params)
                return "logout", None
        if len(parts) == 3 and parts[1:] == ["oauth2", "nativeclient"]:
            self._html(
                200, b"<!DOCTYPE html><html><head><title></title></head><body></body></html>"
            )
            return "nativeclient", None
        if len(parts) == 2 and parts[1] == "login" and post:
            outcome = self.provider.sign_in(
                params.get("ctx", ""), params.get("login", ""), params.get("passwd", "")
            )
            return "signin", self._render(parts[0], outcome)
        if len(parts) == 2 and parts[1] == "consent" and post:
            outcome = self.provider.consent(params.get("ctx", ""), params.get("action") == "accept")
            return "consent", self._render(parts[0], outcome)
        if parts == ["error"]:
            code = int(params.get("code", "0") or 0) if params.get("code", "").isdigit() else 0
            self._html(200, idp_pages.error_page(AadError(code)))
            return "error", None
        if len(parts) == 3 and parts[0] == "common" and parts[1] == "userrealm":
            self._json(200, self.provider.user_realm(parts[2]))
            return "userrealm", None
        if parts == ["getuserrealm.srf"]:
            self._json(200, self.provider.get_user_realm(params.get("login", "")))
            return "userrealm", None
        self._json(404, {"error": "not_found", "error_description": f"no route {self.path}"})
        return "unknown", None

    # -- endpoints -----------------------------------------------------------------------------

    def _discovery(self, tenant: str) -> AadError | None:
        failure = self.provider.take_injected("discovery")
        try:
            if failure is not None:
                raise failure
            document = self.provider.openid_configuration(tenant, self._origin())
        except AadError as exc:
            body = exc.stamped(self.headers.get("client-request-id"))
            body["error_uri"] = f"{self._origin()}/error?code={exc.code}"
            self._json(exc.status, body)
            return exc
        self._json(200, document)
        return None

    def _token(self, tenant: str, form: dict[str, str]) -> AadError | None:
        try:
            body = self.provider.token(tenant, form, self._origin())
        except AadError as exc:
            answer = exc.stamped(self.headers.get("client-request-id"))
            answer["error_uri"] = f"{self._origin()}/error?code={exc.code}"
            self._json(exc.status, answer)
            return exc
        self._send(
            200,
            json.dumps(body).encode(),
            "application/json; charset=utf-8",
            {"Pragma": "no-cache"},
        )
        return None

    def _introspect(self, params: dict[str, str]) -> AadError | None:
        failure = self.provider.take_injected("introspect")
        if failure is not None:
            self._json(failure.status if failure.status != 400 else 500, failure.stamped())
            return failure
        token = params.get("token", "")
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        self._json(200, self.provider.introspect(token, params.get("aud") or None))
        return None

    def _logout(self, params: dict[str, str]) -> None:
        target = params.get("post_logout_redirect_uri")
        if target:
            self._send(302, b"", "text/plain", {"Location": target})
        else:
            self._html(
                200,
                idp_pages.message_page(
                    "You signed out of your account",
                    "It's a good idea to close all browser windows.",
                ),
            )

    def _render(self, tenant: str, outcome: Outcome) -> AadError | None:
        provider = self.provider
        request = outcome.request
        if outcome.kind == "error" or request is None:
            error = outcome.error or AadError(90014, "The request is not valid.", "invalid_request")
            self._html(400, idp_pages.error_page(error))
            return error
        client = provider.clients.get(request.client_id.lower())
        client_name = client.name if client else request.client_id
        if outcome.kind == "signin":
            page = idp_pages.sign_in_page(request, f"/{tenant}/login", client_name, outcome.message)
            self._html(200, page)
            return outcome.error
        if outcome.kind == "consent":
            page = idp_pages.consent_page(
                request, f"/{tenant}/consent", client_name, request.user_upn or ""
            )
            self._html(200, page)
            return None
        target = request.redirect_uri
        if not urlsplit(target).path:
            target += "/"
        if request.response_mode == "form_post":
            self._html(200, idp_pages.form_post_page(target, outcome.params))
        elif request.response_mode == "fragment":
            self._send(
                302, b"", "text/plain", {"Location": f"{target}#{urlencode(outcome.params)}"}
            )
        else:
            sep = "&" if "?" in target else "?"
            self._send(
                302, b"", "text/plain", {"Location": f"{target}{sep}{urlencode(outcome.params)}"}
            )
        return outcome.error


def make_servers(
    provider: IdentityProvider, log: ServerLog, tls: ssl.SSLContext
) -> tuple[_Server, _Server]:
    """The HTTPS server (everything) and a plain HTTP one (introspection only)."""
    return (
        _Server(provider, log, tls, introspection_only=False),
        _Server(provider, log, None, introspection_only=True),
    )
