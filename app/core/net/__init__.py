"""The network seam: the one way the program reaches the network.

DNS (dnspython), HTTP (httpx) and TCP with TLS (asyncio) all go through here, shaped by
``NetworkOptions``: offline mode, a per-operation timeout, a DNS server to ask, curl-style host
overrides (``--resolve``), extra CA bundles, the ISPDB base URL and the proxy. No other module
opens a socket. Certificates are always verified (the operating system's trust store plus the
extra bundles), host names always checked, against the name asked for even when an override
sends the connection elsewhere; TLS 1.2 at least, and never a fallback to plain text.

Import from here::

    from app.core.net import Network, NetworkOptions, parse_dns_server

    net = Network(NetworkOptions(dns_server=parse_dns_server("127.0.0.1:5353")))
    records = await net.mx("example.test")
    async with await net.connect("imap.example.test", 993, tls=True) as conn:
        greeting = await conn.readline()
    result = await net.fetch("https://autoconfig.example.test/mail/config-v1.1.xml")

Modules: ``options`` (the options and their parsers), ``dnslookup`` (DNS), ``tcp`` (addresses,
connections, STARTTLS), ``tls`` (context, certificate summary, failure classification),
``httpclient`` (the httpx transport, size cap, plain-HTTP flag), ``proxy`` (proxy choice),
``network`` (the ``Network`` front door), ``_errors`` (how failures are raised).
"""

from app.core.net._errors import (
    DNS_BAD_NAME,
    DNS_NO_RESOLVER,
    DNS_OTHER,
    DNS_REFUSED,
    DNS_SERVFAIL,
    DNS_TIMEOUT,
    DNS_UNREACHABLE,
    Address,
    format_address,
)
from app.core.net.dnslookup import DnsClient, MXRecord, SRVRecord
from app.core.net.httpclient import (
    DEFAULT_MAX_BYTES,
    USER_AGENT,
    HttpResult,
    is_plain_http,
    read_capped,
)
from app.core.net.network import Network
from app.core.net.options import (
    ANY_HOST,
    DEFAULT_DNS_PORT,
    DEFAULT_ISPDB_URL,
    DEFAULT_TIMEOUT,
    HostPort,
    NetworkOptions,
    ResolveOverride,
    check_ca_bundle,
    normalize_host,
    parse_dns_server,
    parse_host_port,
    parse_ispdb_url,
    parse_proxy,
    parse_resolve,
    parse_timeout,
)
from app.core.net.tcp import Connection, Target
from app.core.net.tls import CertificateInfo, TLSInfo, make_context

__all__ = [
    "ANY_HOST",
    "DEFAULT_DNS_PORT",
    "DEFAULT_ISPDB_URL",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "DNS_BAD_NAME",
    "DNS_NO_RESOLVER",
    "DNS_OTHER",
    "DNS_REFUSED",
    "DNS_SERVFAIL",
    "DNS_TIMEOUT",
    "DNS_UNREACHABLE",
    "USER_AGENT",
    "Address",
    "CertificateInfo",
    "Connection",
    "DnsClient",
    "HostPort",
    "HttpResult",
    "MXRecord",
    "Network",
    "NetworkOptions",
    "ResolveOverride",
    "SRVRecord",
    "TLSInfo",
    "Target",
    "check_ca_bundle",
    "format_address",
    "is_plain_http",
    "make_context",
    "normalize_host",
    "parse_dns_server",
    "parse_host_port",
    "parse_ispdb_url",
    "parse_proxy",
    "parse_resolve",
    "parse_timeout",
    "read_capped",
]
