"""The test world's identity provider: a local HTTPS server that speaks the Microsoft identity
platform's endpoints to MSAL (discovery, authorize with PKCE, sign-in and consent pages, token,
introspection), run in-process on 127.0.0.1.

``IdentityProvider`` is what the ``idp`` fixture gives tests::

    idp.base_url            "https://127.0.0.1:PORT" (TLS by the test CA)
    idp.authority(tenant)   "https://127.0.0.1:PORT/<tenant GUID|domain|common|...>" for MSAL
    idp.introspection_url   "https://127.0.0.1:PORT/introspect" (POST token=...)
    idp.introspection_url_http  the same on plain HTTP (for servers that cannot do TLS to it)
    idp.add_user(upn, password, mailbox=..., tenant=..., name=...)
    idp.issue_access_token(upn, scopes), idp.fail_next("token", 50173), idp.expire_all() ...

The certificate covers localhost, 127.0.0.1, ::1 and Microsoft's sign-in host names
(``MICROSOFT_HOSTS``), so host overrides can send ``login.microsoftonline.com`` here. Endpoint
URLs in discovery follow the request's Host header for those names.
The logic lives in ``idp_core``, the HTTP side in ``idp_http``, pages in ``idp_pages``.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any

from tests.world.ca import TestCA
from tests.world.idp_core import ProviderCore
from tests.world.idp_http import MICROSOFT_HOSTS, ServerLog, _Server, make_servers
from tests.world.proc import WorldError, register_log, tail, unregister_log, wait_until

IDP_NAMES = ("localhost", "127.0.0.1", "::1", *MICROSOFT_HOSTS)
IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
POP_SCOPE = "https://outlook.office.com/POP.AccessAsUser.All"
SMTP_SCOPE = "https://outlook.office.com/SMTP.Send"
OUTLOOK_RESOURCE = "https://outlook.office.com"


class IdentityProvider(ProviderCore):
    """The provider's state (see ``ProviderCore``) plus its two listening servers."""

    def __init__(self, test_ca: TestCA, directory: Path) -> None:
        super().__init__()
        self.ca_path: Path = test_ca.cert_path
        self.cert = test_ca.issue(IDP_NAMES, label="idp")
        self.log_path = directory / "idp.log"
        self._log = ServerLog(self.log_path)
        self._servers: tuple[_Server, _Server] | None = None
        self._threads: list[threading.Thread] = []
        self.startup_seconds = 0.0

    # -- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._running()[0].server_address[1])

    @property
    def http_port(self) -> int:
        """The plain-HTTP port that serves only ``/introspect``."""
        return int(self._running()[1].server_address[1])

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def introspection_url(self) -> str:
        return f"{self.base_url}/introspect"

    @property
    def introspection_url_http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/introspect"

    def introspection_url_for(
        self, audience: str = OUTLOOK_RESOURCE, *, plain: bool = False
    ) -> str:
        """An introspection URL that calls tokens for other resources inactive (what a
        resource server such as Exchange does): ``...?aud=https://outlook.office.com``."""
        from urllib.parse import quote

        base = self.introspection_url_http if plain else self.introspection_url
        return f"{base}?aud={quote(audience, safe='')}"

    def issue_tokens(
        self,
        upn: str,
        scopes: list[str] | tuple[str, ...],
        *,
        client_id: str | None = None,
        origin: str | None = None,
    ) -> dict[str, Any]:
        """A whole token response (access, refresh, ID token, client_info) without a sign-in;
        records the consent. ``origin`` (default ``base_url``) goes into the ID token's iss."""
        return super().issue_tokens(
            upn, scopes, client_id=client_id, origin=origin or self.base_url
        )

    def authority(self, tenant: str | None = None) -> str:
        """The authority URL for MSAL (``instance_discovery=False``); default: the tenant GUID."""
        return f"{self.base_url}/{tenant or self.tenant_id}"

    # -- life cycle ----------------------------------------------------------------------------

    def _running(self) -> tuple[_Server, _Server]:
        if self._servers is None:
            raise WorldError("the identity provider is not running")
        return self._servers

    def start(self, timeout: float = 10.0) -> IdentityProvider:
        started = time.monotonic()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert.chain, self.cert.key)
        self._servers = make_servers(self, self._log, tls)
        register_log("idp", self.log_path)
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"idp-{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        try:
            wait_until(self._answers, timeout=timeout, what="identity provider", log=self.log_path)
        except BaseException:
            self.stop()
            raise
        self._log.write(f"listening on {self.base_url} and {self.introspection_url_http}")
        self.mark_baseline()
        self.startup_seconds = time.monotonic() - started
        return self

    def _answers(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=2)
        try:
            conn.request("GET", f"/{self.tenant_id}/v2.0/.well-known/openid-configuration")
            response = conn.getresponse()
            return response.status == 200 and "token_endpoint" in json.loads(response.read())
        except (OSError, ValueError):
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        if self._servers is not None:
            for server in self._servers:
                server.shutdown()
                server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._servers = None
        unregister_log("idp")

    def log_text(self) -> str:
        return tail(self.log_path)
