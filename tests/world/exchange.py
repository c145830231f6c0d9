"""An HTTPS emulation of Microsoft's public discovery endpoints and of on-premises Exchange.

Installed on the world's web server (``web`` fixture) by Host header, with a certificate from the
test CA for Microsoft's host names (``MICROSOFT_NAMES``, chosen by SNI); the on-premises hosts
use ``*.corp.test`` / ``*.example.test`` names, which the world certificate covers. The program
reaches every name through ``--resolve``-style overrides (:meth:`ExchangeWorld.resolve`).

What it answers (shapes as documented in /work/shared/research/microsoft.md, sections 3.2-3.4):

- ``GET https://login.microsoftonline.com/<domain|tenant id>/v2.0/.well-known/openid-configuration``
  (also on the other sign-in hosts): the tenant's OpenID configuration (issuer with the tenant
  id, ``tenant_region_scope``, ``tenant_region_sub_scope``, ``cloud_instance_name``); for a domain
  marked with :meth:`ExchangeWorld.not_a_tenant`, HTTP 400 ``invalid_tenant`` / AADSTS90002;
- ``GET https://<login host>/common/userrealm/<address>?api-version=2.1``: the user realm
  (``NameSpaceType`` Managed or Federated with ``AuthURL``, ``IsConsumerDomain`` for personal
  accounts);
- ``GET https://outlook.office365.com/autodiscover/autodiscover.json?Email=...&Protocol=...``
  (and ``autodiscover-s.outlook.com``, ``outlook.office365.us``): ``{"Protocol", "Url"}`` on the
  cloud's host for an Exchange Online mailbox, a 302 to the organisation's
  ``https://autodiscover.<domain>/autodiscover/autodiscover.json?...&RedirectCount=3`` for an
  on-premises one;
- the on-premises ``autodiscover.json``: ``{"Protocol": "ActiveSync", "Url":
  "https://mail.corp.test/Microsoft-Server-ActiveSync"}`` (EWS: ``/EWS/Exchange.asmx``);
- the on-premises ActiveSync and EWS URLs: 401 with ``WWW-Authenticate`` lines (one header line
  per challenge, as IIS sends them): a Bearer challenge with ``authorization_uri`` and
  ``trusted_issuers=...@<tenant>`` when hybrid modern authentication is on, Exchange's
  server-to-server Bearer challenge (no ``authorization_uri``) or none when it is off, then
  Basic, NTLM and Negotiate.

Tests change single answers with ``web.route(path, handler, host=...)`` after installing (a later
route replaces an earlier one); the ``web`` fixture undoes everything after the test.

Fixtures ``microsoft_cert`` (session) and ``exchange`` (function: an installed
:class:`ExchangeWorld`), defined by ``microsoft_cert_fixture`` and ``exchange_fixture``; this
module is registered in tests/conftest.py's plugin list, so every test can use them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from app.core.net import Network, NetworkOptions, ResolveOverride, parse_dns_server, parse_resolve
from tests.world.ca import CertPair, TestCA
from tests.world.fixtures_base import Stopwatch, record_startup
from tests.world.web import Request, Response, WebServer, redirect

# Microsoft's host names the emulation answers for (its certificate covers exactly these).
LOGIN_HOSTS = ("login.microsoftonline.com", "login.windows.net", "login.microsoftonline.us")
EXO_HOSTS = {
    "microsoftonline.com": ("outlook.office365.com", "autodiscover-s.outlook.com"),
    "microsoftonline.us": ("outlook.office365.us", "autodiscover-s.office365.us"),
}
MICROSOFT_NAMES = (*LOGIN_HOSTS, *(h for hosts in EXO_HOSTS.values() for h in hosts))

CONSUMER_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
ISSUER_APP_ID = "00000001-0000-0000-c000-000000000000"
AUTODISCOVER_PATH = "/autodiscover/autodiscover.json"
ACTIVESYNC_PATH = "/Microsoft-Server-ActiveSync"
EWS_PATH = "/EWS/Exchange.asmx"
OPENID_SUFFIX = "/v2.0/.well-known/openid-configuration"


def login_host_of(cloud: str) -> str:
    return "login.microsoftonline.us" if cloud == "microsoftonline.us" else LOGIN_HOSTS[0]


def exo_host_of(cloud: str) -> str:
    return EXO_HOSTS.get(cloud, EXO_HOSTS["microsoftonline.com"])[0]


def userrealm_path(address: str) -> str:
    """The path the program asks for (the address percent-encoded, ``@`` kept)."""
    return f"/common/userrealm/{quote(address, safe='@')}"


@dataclass
class Tenant:
    """One Entra tenant. ``namespace`` is ``Managed`` or ``Federated`` (then ``federation_host``
    is its sign-in server); ``cloud`` is the ``cloud_instance_name``."""

    tenant_id: str
    domains: tuple[str, ...]
    name: str
    cloud: str = "microsoftonline.com"
    region_scope: str | None = "WW"
    region_sub_scope: str | None = None
    namespace: str = "Managed"
    federation_host: str | None = None
    consumer: bool = False

    @property
    def login_host(self) -> str:
        return login_host_of(self.cloud)

    @property
    def exchange_host(self) -> str:
        return exo_host_of(self.cloud)

    def openid_configuration(self) -> dict[str, object]:
        host = self.login_host
        base = f"https://{host}/{self.tenant_id}"
        graph = (
            "graph.microsoft.us" if self.cloud == "microsoftonline.us" else "graph.microsoft.com"
        )
        document: dict[str, object] = {
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
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"https://{graph}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "aud", "tid", "ver"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": self.region_scope,
            "cloud_instance_name": self.cloud,
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": graph,
            "rbac_url": "https://pas.windows.net",
        }
        if self.region_sub_scope:
            document["tenant_region_sub_scope"] = self.region_sub_scope
        return document

    def user_realm(self, address: str) -> dict[str, object]:
        domain = address.rsplit("@", 1)[-1].lower()
        answer: dict[str, object] = {
            "NameSpaceType": self.namespace,
            "Login": address,
            "DomainName": domain,
            "FederationBrandName": self.name,
            "TenantBrandingInfo": None,
            "cloud_instance_name": self.cloud,
        }
        if self.consumer:
            answer["IsConsumerDomain"] = True
        if self.namespace == "Federated" and self.federation_host:
            answer["federation_protocol"] = "WSTrust"
            answer["AuthURL"] = (
                f"https://{self.federation_host}/adfs/ls/?username={quote(address)}"
                "&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx="
            )
        return answer


@dataclass
class OnPremExchange:
    """An organisation's own Exchange server. ``modern_auth``: hybrid modern authentication
    (a Bearer challenge with ``authorization_uri``); otherwise ``server_to_server`` decides
    whether Exchange's own Bearer challenge (no ``authorization_uri``) is still sent."""

    autodiscover_host: str
    mail_host: str
    tenant_id: str | None = None
    modern_auth: bool = True
    server_to_server: bool = False
    authorization_uri: str = "https://login.microsoftonline.com/common/oauth2/authorize"
    redirect_count: int = 3  # the RedirectCount Exchange Online puts into its redirect

    def autodiscover_url(self, address: str, protocol: str, count: int | None = None) -> str:
        query = {"Email": address, "Protocol": protocol}
        if count is not None:
            query["RedirectCount"] = str(count)
        return f"https://{self.autodiscover_host}{AUTODISCOVER_PATH}?{urlencode(query)}"

    def service_url(self, protocol: str) -> str:
        path = EWS_PATH if protocol.lower() == "ews" else ACTIVESYNC_PATH
        return f"https://{self.mail_host}{path}"

    def challenges(self) -> dict[str, str]:
        """The WWW-Authenticate lines of a 401, as a header dict (one key per line: the keys
        differ only in case, so the web server sends each as its own line)."""
        lines: list[str] = []
        if self.modern_auth:
            issuer = f"{ISSUER_APP_ID}@{self.tenant_id or '*'}"
            lines.append(
                f'Bearer client_id="{EXCHANGE_APP_ID}", trusted_issuers="{issuer}", '
                'token_types="app_asserted_user_v1 service_asserted_app_v1", '
                f'authorization_uri="{self.authorization_uri}"'
            )
        elif self.server_to_server:
            lines.append(
                f'Bearer client_id="{EXCHANGE_APP_ID}", trusted_issuers="{ISSUER_APP_ID}@*"'
            )
        lines += [f'Basic realm="{self.mail_host}"', "NTLM", "Negotiate"]
        names = ("WWW-Authenticate", "Www-Authenticate", "www-authenticate", "WWW-AUTHENTICATE")
        return dict(zip(names, lines, strict=False))


@dataclass
class Mailbox:
    address: str
    tenant: Tenant
    on_premises: OnPremExchange | None = None


@dataclass
class ExchangeWorld:
    """Microsoft's endpoints and on-premises Exchange servers on one web server."""

    web: WebServer
    cert: CertPair
    ca_path: Path
    tenants: list[Tenant] = field(default_factory=list)
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    on_premises: list[OnPremExchange] = field(default_factory=list)

    # ------------------------------------------------------------------ setting up

    def install(self) -> ExchangeWorld:
        """Present the Microsoft certificate for Microsoft's names and answer Autodiscover on
        every Exchange Online host."""
        for name in MICROSOFT_NAMES:
            self.web.set_certificate(self.cert, host=name)
        for hosts in EXO_HOSTS.values():
            for host in hosts:
                self.web.route(AUTODISCOVER_PATH, self._exchange_online, host=host)
        return self

    def add_tenant(
        self,
        domain: str,
        *,
        tenant_id: str | None = None,
        name: str | None = None,
        cloud: str = "microsoftonline.com",
        region_scope: str | None = "WW",
        region_sub_scope: str | None = None,
        namespace: str = "Managed",
        federation_host: str | None = None,
        consumer: bool = False,
        domains: Sequence[str] = (),
    ) -> Tenant:
        """A tenant owning ``domain`` (and ``domains``), answering tenant discovery on every
        sign-in host, by domain and by tenant id."""
        tenant = Tenant(
            tenant_id=tenant_id or (CONSUMER_TENANT_ID if consumer else str(uuid.uuid4())),
            domains=(domain.lower(), *(d.lower() for d in domains)),
            name=name or domain.split(".", 1)[0].title(),
            cloud=cloud,
            region_scope=region_scope,
            region_sub_scope=region_sub_scope,
            namespace=namespace,
            federation_host=federation_host,
            consumer=consumer,
        )
        self.tenants.append(tenant)
        document = Response.json(tenant.openid_configuration())
        for key in (*tenant.domains, tenant.tenant_id):
            for host in LOGIN_HOSTS:
                self.web.route(f"/{key}{OPENID_SUFFIX}", document, host=host)
        return tenant

    def not_a_tenant(self, domain: str) -> None:
        """Tenant discovery for ``domain`` answers 400 AADSTS90002, as for any domain no
        tenant owns."""
        body = {
            "error": "invalid_tenant",
            "error_description": f"AADSTS90002: Tenant '{domain}' not found. (emulated)",
            "error_codes": [90002],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
            "error_uri": "https://login.microsoftonline.com/error?code=90002",
        }
        for host in LOGIN_HOSTS:
            self.web.route(f"/{domain.lower()}{OPENID_SUFFIX}", Response.json(body, 400), host=host)

    def add_on_premises(
        self,
        autodiscover_host: str = "autodiscover.corp.test",
        mail_host: str = "mail.corp.test",
        *,
        tenant: Tenant | None = None,
        modern_auth: bool = True,
        server_to_server: bool = False,
        authorization_uri: str | None = None,
        redirect_count: int = 3,
    ) -> OnPremExchange:
        """An organisation's Exchange server: Autodiscover at ``autodiscover_host``, ActiveSync
        and EWS (401 challenges) at ``mail_host``."""
        server = OnPremExchange(
            autodiscover_host=autodiscover_host,
            mail_host=mail_host,
            tenant_id=tenant.tenant_id if tenant else None,
            modern_auth=modern_auth,
            server_to_server=server_to_server,
            redirect_count=redirect_count,
        )
        if authorization_uri is not None:
            server.authorization_uri = authorization_uri
        elif tenant is not None:
            server.authorization_uri = f"https://{tenant.login_host}/common/oauth2/authorize"
        self.on_premises.append(server)

        def autodiscover(request: Request) -> Response:
            protocol = _query(request, "protocol") or "ActiveSync"
            return Response.json({"Protocol": protocol, "Url": server.service_url(protocol)})

        def challenge(request: Request) -> Response:
            return Response.text("401 - Unauthorized\n", 401, headers=server.challenges())

        self.web.route(AUTODISCOVER_PATH, autodiscover, host=autodiscover_host)
        for path in (ACTIVESYNC_PATH, EWS_PATH):
            self.web.route(path, challenge, host=mail_host, method="*")
        return server

    def add_mailbox(
        self, address: str, tenant: Tenant, *, on_premises: OnPremExchange | None = None
    ) -> Mailbox:
        """A mailbox in Exchange Online, or on ``on_premises``; its user realm answers."""
        mailbox = Mailbox(address, tenant, on_premises)
        self.mailboxes[address.lower()] = mailbox
        self.web.route(
            userrealm_path(address),
            Response.json(tenant.user_realm(address)),
            host=tenant.login_host,
        )
        return mailbox

    # ------------------------------------------------------------------ answers

    def _exchange_online(self, request: Request) -> Response:
        address = _query(request, "email") or ""
        protocol = _query(request, "protocol") or "ActiveSync"
        mailbox = self.mailboxes.get(address.lower())
        if mailbox is not None and mailbox.on_premises is not None:
            server = mailbox.on_premises
            return redirect(server.autodiscover_url(address, protocol, server.redirect_count))
        cloud = mailbox.tenant.cloud if mailbox else "microsoftonline.com"
        host = exo_host_of(cloud)
        path = EWS_PATH if protocol.lower() == "ews" else ACTIVESYNC_PATH
        return Response.json({"Protocol": protocol, "Url": f"https://{host}{path}"})

    # ------------------------------------------------------------------ reaching it

    def hosts(self) -> list[str]:
        names = list(MICROSOFT_NAMES)
        for server in self.on_premises:
            names += [server.autodiscover_host, server.mail_host]
        return list(dict.fromkeys(names))

    def resolve(self, *extra_hosts: str) -> tuple[ResolveOverride, ...]:
        """``--resolve`` entries sending every host of the emulation (and ``extra_hosts``),
        port 443, to the web server."""
        names = [*self.hosts(), *extra_hosts]
        return tuple(parse_resolve(f"{n}:443:127.0.0.1:{self.web.port}") for n in names)

    def network(
        self,
        *,
        dns: str | None = None,
        timeout: float = 5.0,
        extra: Sequence[ResolveOverride] = (),
    ) -> Network:
        """A Network that reaches the emulation by name, trusts the test CA and asks the
        world's DNS server at ``dns`` (``127.0.0.1:PORT``) for everything else."""
        return Network(
            NetworkOptions(
                timeout=timeout,
                dns_server=parse_dns_server(dns) if dns else None,
                resolve=(*self.resolve(), *extra),
                ca_bundles=(self.ca_path,),
                system_proxy=False,
            )
        )

    def requests(self, host: str | None = None, path: str | None = None) -> list[Request]:
        return self.web.requests_to(path, host)


def _query(request: Request, name: str) -> str | None:
    """A query parameter, its name matched case-insensitively (Autodiscover is lenient)."""
    return next((v for k, v in request.query.items() if k.lower() == name), None)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session", name="microsoft_cert")
def microsoft_cert_fixture(test_ca: TestCA) -> CertPair:
    """A test-CA certificate for Microsoft's host names (``MICROSOFT_NAMES``)."""
    watch = Stopwatch()
    cert = test_ca.issue(MICROSOFT_NAMES, label="microsoft")
    record_startup("exchange-emulation", watch.seconds())
    return cert


@pytest.fixture(name="exchange")
def exchange_fixture(
    web: WebServer, microsoft_cert: CertPair, test_ca: TestCA
) -> Iterator[ExchangeWorld]:
    """The emulation installed on ``web`` for one test (``web`` undoes it afterwards)."""
    yield ExchangeWorld(web, microsoft_cert, test_ca.cert_path).install()
