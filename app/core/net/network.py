"""``Network``: the seam's front door, one object built from ``NetworkOptions``.

Everything that leaves the computer goes through one of its methods: DNS queries, TCP
connections (plain, implicit TLS, STARTTLS) and HTTP requests. Build one per run (or per set of
options) and pass it to whoever needs the network; it holds no connections itself, so it needs
no closing. ``http_client()`` returns a client the caller closes (``async with``).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from functools import cached_property

import httpx

from app.core.net import httpclient
from app.core.net.dnslookup import DnsClient, MXRecord, SRVRecord
from app.core.net.httpclient import DEFAULT_MAX_BYTES, HttpResult, SeamTransport
from app.core.net.options import NetworkOptions
from app.core.net.proxy import ProxyChooser
from app.core.net.tcp import AddressResolver, Connection, Target, connect
from app.core.net.tls import make_context


class Network:
    """The one way out to the network, as ``options`` allow."""

    def __init__(self, options: NetworkOptions | None = None) -> None:
        self.options = options or NetworkOptions()
        self.dns = DnsClient(self.options)
        self.resolver = AddressResolver(self.options, self.dns)

    # ------------------------------------------------------------------ TLS

    @cached_property
    def tls_context(self) -> ssl.SSLContext:
        """The client context for mail protocols (IMAP, POP, SMTP): system trust store plus
        the extra CA bundles, host names checked, TLS 1.2 or newer."""
        return make_context(self.options.ca_bundles)

    @cached_property
    def http_tls_context(self) -> ssl.SSLContext:
        """The same trust for HTTP; a context of its own because httpcore sets ALPN on it."""
        return make_context(self.options.ca_bundles, for_http=True)

    # ------------------------------------------------------------------ DNS

    async def mx(self, domain: str) -> list[MXRecord]:
        return await self.dns.mx(domain)

    async def srv(self, name: str) -> list[SRVRecord]:
        return await self.dns.srv(name)

    async def txt(self, name: str) -> list[str]:
        return await self.dns.txt(name)

    async def a(self, name: str) -> list[str]:
        return await self.dns.a(name)

    async def aaaa(self, name: str) -> list[str]:
        return await self.dns.aaaa(name)

    # ------------------------------------------------------------------ TCP

    async def resolve(self, host: str, port: int) -> Target:
        """Where a connection to ``host:port`` would go, and how that was decided."""
        return await self.resolver.resolve(host, port)

    async def connect(self, host: str, port: int, *, tls: bool = False) -> Connection:
        """A TCP connection to ``host:port``; with ``tls``, implicit TLS (ports 993, 995,
        465); without, call ``Connection.start_tls()`` after the protocol's STARTTLS."""
        target = await self.resolver.resolve(host, port)
        return await connect(
            target, tls=tls, seconds=self.options.timeout, context=self.tls_context
        )

    # ------------------------------------------------------------------ HTTP

    def http_client(self, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that reaches the network only through the seam. It does
        not follow redirects; close it with ``async with`` or ``aclose()``."""
        transport = SeamTransport(
            self.resolver,
            self.http_tls_context,
            ProxyChooser(self.options),
            timeout=self.options.timeout,
            offline=self.options.offline,
        )
        return httpclient.make_client(transport, self.options.timeout, headers)

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        client: httpx.AsyncClient | None = None,
    ) -> HttpResult:
        """One HTTP request, its body read whole within ``max_bytes``. Each phase (connect,
        TLS, each read) is bounded by the timeout, the whole exchange by twice it. Redirects
        come back as results (``location``), never followed. Pass ``client`` (from
        ``http_client()``) to reuse connections across requests."""
        deadline = 2 * self.options.timeout
        if client is not None:
            return await httpclient.fetch(
                client,
                url,
                method=method,
                headers=headers,
                content=content,
                max_bytes=max_bytes,
                deadline=deadline,
            )
        async with self.http_client() as own:
            return await httpclient.fetch(
                own,
                url,
                method=method,
                headers=headers,
                content=content,
                max_bytes=max_bytes,
                deadline=deadline,
            )
