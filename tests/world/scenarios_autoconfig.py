"""Reusable test-world scenarios for ISP autoconfig and the ISPDB.

Realistic clientConfig v1.1 documents (written for the test world, with hosts under the
world's test domains) and helpers that publish them on the world's web servers (the ``web``
/ ``plain_web`` fixtures) together with the ``--resolve`` overrides that make the program find
them by their real names::

    world = DiscoveryWorld(web, test_ca, dns=dns, plain_web=plain_web)
    world.serve_isp_autoconfig("example.test", isp_config("example.test"))
    world.serve_ispdb("hostingco.test", hosting_config("hostingco.test"))
    world.add_mx("shop.test", "mx3.hostingco.test")
    net = world.network(timeout=2)

Module-level functions do the same one piece at a time (``serve_isp_autoconfig`` returns the
overrides it needs, ``serve_ispdb`` the ISPDB base URL to pass as ``ispdb_url``).

Names that are not under the world certificate's domains (``hostingco.test``,
``live.thunderbird.net``) get a certificate of their own from the test CA
(:func:`trust_host`). Names without a route or override are not in the world's DNS, so the
program sees "no such host" for them, as on the internet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.discovery.autoconfig import AUTOCONFIG_PATH, WELL_KNOWN_PATH
from app.core.discovery.base import DiscoveryContext
from app.core.model import EmailAddress
from app.core.net import (
    Network,
    NetworkOptions,
    ResolveOverride,
    parse_dns_server,
    parse_resolve,
)
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.web import Handler, Response, WebServer

ISPDB_HOST = "ispdb.example.test"  # under the world certificate's *.example.test
ISPDB_PATH = "/autoconfig/v1.1/"
PUBLIC_ISPDB_HOST = "live.thunderbird.net"  # the default ISPDB, mapped into the world

__all__ = [
    "AUTOCONFIG_PATH",
    "ISPDB_HOST",
    "ISPDB_PATH",
    "PUBLIC_ISPDB_HOST",
    "WELL_KNOWN_PATH",
    "DiscoveryWorld",
    "autoconfig_host",
    "dav_config",
    "exchange_only_config",
    "hosting_config",
    "isp_config",
    "jp_pop_isp_config",
    "oauth2_config",
    "plain_requests_with",
    "public_port",
    "resolve_to",
    "serve_isp_autoconfig",
    "serve_ispdb",
    "trust_host",
    "world_ispdb_url",
]


# --- documents ---------------------------------------------------------------------------------


def isp_config(domain: str = "example.test", name: str = "Example Net") -> str:
    """A typical ISP: IMAP (993 TLS, 143 STARTTLS), POP3 (995 TLS), SMTP (465 TLS, 587
    STARTTLS), the full address as user name, a help page."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>{name} Mail</displayName>
    <displayShortName>{name}</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.{domain}</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.{domain}</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.{domain}</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <pop3>
        <leaveMessagesOnServer>true</leaveMessagesOnServer>
        <daysToLeaveMessagesOnServer>14</daysToLeaveMessagesOnServer>
      </pop3>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.{domain}</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.{domain}</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <documentation url="https://www.{domain}/help/mail-settings">
      <descr lang="en">Mail program settings</descr>
    </documentation>
  </emailProvider>
</clientConfig>
"""


def jp_pop_isp_config(domain: str = "example.jp.test") -> str:
    """A Japanese ISP that offers POP first (user name: the part before @), IMAP second, and
    blocks port 25 (OP25B): submission on 587 with STARTTLS, 465 as the alternative.
    Descriptions in Japanese and English."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>テストネット光 メール</displayName>
    <displayShortName>テストネット</displayShortName>
    <incomingServer type="pop3">
      <hostname>pop.{domain}</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.{domain}</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.{domain}</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.{domain}</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <documentation url="https://support.{domain}/mail/op25b.html">
      <descr lang="ja">迷惑メール対策（OP25B）のため、送信にはポート 587 をご利用ください。</descr>
      <descr lang="en">Port 25 is blocked (OP25B): send mail on port 587.</descr>
    </documentation>
  </emailProvider>
</clientConfig>
"""


def oauth2_config(domain: str = "corp.test") -> str:
    """An organisation on Microsoft sign-in: IMAP and SMTP with OAuth2 first (the password
    second), an ``<oAuth2>`` block naming login.microsoftonline.com, and a page to switch
    IMAP on first."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>Corp Mail (Microsoft sign-in)</displayName>
    <displayShortName>Corp</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.{domain}</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.{domain}</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <enable visiturl="https://portal.{domain}/mail/enable-imap">
      <instruction lang="en">Switch on IMAP access in the mail portal first.</instruction>
    </enable>
  </emailProvider>
  <oAuth2>
    <issuer>login.microsoftonline.com</issuer>
    <scope>https://outlook.office.com/IMAP.AccessAsUser.All
      https://outlook.office.com/SMTP.Send offline_access</scope>
    <authURL>https://login.microsoftonline.com/common/oauth2/v2.0/authorize</authURL>
    <tokenURL>https://login.microsoftonline.com/common/oauth2/v2.0/token</tokenURL>
  </oAuth2>
</clientConfig>
"""


def dav_config(domain: str = "example.test") -> str:
    """A provider with mail, calendars and contacts: IMAP, SMTP, ``<calendar type="caldav">``
    and ``<addressBook type="carddav">`` with the address in the URL."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>Example Groupware</displayName>
    <incomingServer type="imap">
      <hostname>mail.{domain}</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>mail.{domain}</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
  <addressBook type="carddav">
    <username>%EMAILADDRESS%</username>
    <authentication>http-basic</authentication>
    <serverURL>https://dav.{domain}/carddav/%EMAILADDRESS%/</serverURL>
  </addressBook>
  <calendar type="caldav">
    <username>%EMAILADDRESS%</username>
    <authentication>http-basic</authentication>
    <serverURL>https://dav.{domain}/caldav/%EMAILADDRESS%/</serverURL>
  </calendar>
</clientConfig>
"""


def hosting_config(domain: str = "hostingco.test") -> str:
    """A mail-hosting company whose customers' domains point their MX at it: one IMAP and one
    SMTP server under its own name, the customer's full address as user name."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>HostingCo Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.{domain}</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.{domain}</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


def exchange_only_config(domain: str = "corp.test") -> str:
    """A file that offers only Exchange (EWS): nothing for IMAP or POP."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>Corp Exchange</displayName>
    <incomingServer type="ews">
      <url>https://exchange.{domain}/EWS/Exchange.asmx</url>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
    </incomingServer>
  </emailProvider>
</clientConfig>
"""


# --- publishing --------------------------------------------------------------------------------


def public_port(server: WebServer) -> int:
    """The port the program uses for ``server``'s scheme: 443 for HTTPS, 80 for HTTP."""
    return 443 if server.scheme == "https" else 80


def resolve_to(server: WebServer, *hosts: str) -> tuple[ResolveOverride, ...]:
    """Overrides sending ``host:443`` (``:80`` for a plain server) to ``server``."""
    port = public_port(server)
    return tuple(parse_resolve(f"{host}:{port}:127.0.0.1:{server.port}") for host in hosts)


def autoconfig_host(domain: str, *, well_known: bool = False) -> str:
    return domain if well_known else f"autoconfig.{domain}"


def serve_isp_autoconfig(
    web: WebServer,
    domain: str,
    xml: str | Handler,
    *,
    well_known: bool = False,
) -> tuple[ResolveOverride, ...]:
    """Publish ``xml`` (or any response or handler) as ``domain``'s ISP autoconfig file on
    ``web``: at ``autoconfig.<domain>/mail/config-v1.1.xml``, or with ``well_known`` at
    ``<domain>/.well-known/autoconfig/mail/config-v1.1.xml``. Works for ``plain_web`` too
    (then reached over plain HTTP). Returns the override for that host."""
    host = autoconfig_host(domain, well_known=well_known)
    path = WELL_KNOWN_PATH if well_known else AUTOCONFIG_PATH
    web.route(path, Response.xml(xml) if isinstance(xml, str) else xml, host=host)
    return resolve_to(web, host)


def world_ispdb_url(web: WebServer, host: str = ISPDB_HOST, path: str = ISPDB_PATH) -> str:
    """The base URL of the ISPDB played by ``web`` (pass it as ``ispdb_url``)."""
    return f"{web.scheme}://{host}{path}"


def serve_ispdb(
    web: WebServer,
    domain: str,
    xml: str | Handler,
    *,
    host: str = ISPDB_HOST,
    path: str = ISPDB_PATH,
) -> str:
    """Publish ``xml`` as the ISPDB entry for ``domain`` (a user domain or an MX-derived
    key) on ``web``; returns the ISPDB base URL. The caller adds ``resolve_to(web, host)``."""
    web.route(path + domain, Response.xml(xml) if isinstance(xml, str) else xml, host=host)
    return world_ispdb_url(web, host, path)


def trust_host(web: WebServer, ca: TestCA, *hosts: str) -> None:
    """Make ``web`` present a certificate from ``ca`` for ``hosts`` (names outside the world
    certificate, e.g. ``autoconfig.hostingco.test`` or ``live.thunderbird.net``)."""
    cert = ca.issue(tuple(hosts))
    for host in hosts:
        web.set_certificate(cert, host=host)


@dataclass
class DiscoveryWorld:
    """The pieces of one discovery scenario: which server plays which host, the DNS records,
    and the ``NetworkOptions`` that make the program see exactly that world.

    ``ispdb_url`` starts as the world's ISPDB (``https://ispdb.example.test/autoconfig/
    v1.1/`` on ``web``, 404 for every domain until ``serve_ispdb`` adds one), so a scenario
    never asks the real one.
    """

    web: WebServer
    ca: TestCA
    dns: DNSServer | None = None
    plain_web: WebServer | None = None
    resolve: list[ResolveOverride] = field(default_factory=list)
    ispdb_url: str = ""

    def __post_init__(self) -> None:
        if not self.ispdb_url:
            self.ispdb_url = world_ispdb_url(self.web)
            self.add(resolve_to(self.web, ISPDB_HOST))

    def add(self, overrides: Iterable[ResolveOverride]) -> None:
        """Add overrides; one for a ``host:port`` already mapped replaces the old one."""
        for override in overrides:
            self.resolve = [
                o for o in self.resolve if (o.host, o.port) != (override.host, override.port)
            ]
            self.resolve.append(override)

    def route(self, host: str, server: WebServer | None = None) -> None:
        """Send ``host`` to ``server`` (default: ``web``) without publishing anything."""
        self.add(resolve_to(server or self.web, host))

    def serve_isp_autoconfig(
        self,
        domain: str,
        xml: str | Handler,
        *,
        well_known: bool = False,
        plain: bool = False,
    ) -> None:
        """Publish an ISP autoconfig file over HTTPS (``web``) or plain HTTP (``plain_web``)."""
        server = self._server(plain)
        self.add(serve_isp_autoconfig(server, domain, xml, well_known=well_known))

    def serve_ispdb(self, domain: str, xml: str | Handler) -> str:
        """Publish an ISPDB entry on the world's ISPDB (``web``)."""
        return serve_ispdb(self.web, domain, xml)

    def use_public_ispdb(self) -> str:
        """Play the default ISPDB (``https://live.thunderbird.net/autoconfig/v1.1/``) on
        ``web`` with a certificate from the test CA; entries then go through ``serve_ispdb(
        ..., host=PUBLIC_ISPDB_HOST)``. Returns the default URL."""
        trust_host(self.web, self.ca, PUBLIC_ISPDB_HOST)
        self.add(resolve_to(self.web, PUBLIC_ISPDB_HOST))
        self.ispdb_url = f"https://{PUBLIC_ISPDB_HOST}{ISPDB_PATH}"
        return self.ispdb_url

    def add_mx(self, domain: str, *hosts: str, preference: int = 10) -> None:
        """MX records for ``domain`` in the world's DNS, in the given order of preference."""
        if self.dns is None:
            raise ValueError("this world has no DNS server")
        for step, host in enumerate(hosts):
            self.dns.add(domain, "MX", f"{preference + 10 * step} {host}")

    def options(self, **overrides: Any) -> NetworkOptions:
        """NetworkOptions for this world: its DNS server, overrides and CA, the world's
        ISPDB, no system proxy; keyword arguments override any field."""
        values: dict[str, Any] = {
            "resolve": tuple(self.resolve),
            "ca_bundles": (self.ca.cert_path,),
            "ispdb_url": self.ispdb_url,
            "system_proxy": False,
            "timeout": 5.0,
        }
        if self.dns is not None:
            values["dns_server"] = parse_dns_server(self.dns.address)
        values.update(overrides)
        return NetworkOptions(**values)

    def network(self, **overrides: Any) -> Network:
        return Network(self.options(**overrides))

    def context(self, address: str, **overrides: Any) -> DiscoveryContext:
        """A DiscoveryContext for ``address`` on this world's network."""
        return DiscoveryContext(EmailAddress.parse(address), self.network(**overrides))

    def _server(self, plain: bool) -> WebServer:
        if not plain:
            return self.web
        if self.plain_web is None:
            raise ValueError("this world has no plain HTTP server")
        return self.plain_web


def plain_requests_with(server: WebServer, needles: Sequence[str]) -> list[str]:
    """Every request ``server`` saw whose target, headers or body contains one of
    ``needles`` (e.g. the address, raw and percent-encoded): for "never over plain HTTP"."""
    hits: list[str] = []
    for request in list(server.requests):
        blob = " ".join(
            [request.target, request.text(), *(f"{k}: {v}" for k, v in request.headers.items())]
        ).lower()
        if any(needle.lower() in blob for needle in needles):
            hits.append(request.url)
    return hits
