"""Which proxy, if any, an HTTP request goes through.

In order: loopback hosts and hosts with a ``--resolve`` override go direct (a test server or a
server the helpdesk named must be reached as named); then an explicit ``--proxy``; then, unless
``--proxy direct``, the system's settings as ``urllib.request`` reads them (environment
variables everywhere, the registry on Windows, System Configuration on macOS) with their
exceptions (``no_proxy``, the bypass list). PAC files (proxy auto-config scripts) are not
evaluated.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from app.core.net._errors import option_error
from app.core.net.options import NetworkOptions, normalize_host, parse_url
from app.core.texts import Text


def is_loopback(host: str) -> bool:
    name = normalize_host(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def without_credentials(url: str) -> str:
    """``url`` without a user name and password, for messages, reports and results."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _normalize_proxy_url(url: str, where: str) -> str:
    if "://" not in url:
        url = "http://" + url
    if url.split("://", 1)[0].lower().startswith("socks"):
        raise option_error(where, Text("net.option.socks", {"value": url}))
    return parse_url(url, where)


class ProxyChooser:
    """Picks the proxy for each request; the system's settings are read once, at creation."""

    def __init__(self, options: NetworkOptions) -> None:
        self._options = options
        self._from_environment = False
        self._system: Mapping[str, str] = {}
        if options.proxy is None and options.system_proxy:
            environment = urllib.request.getproxies_environment()
            self._from_environment = bool(environment)
            self._system = environment or urllib.request.getproxies()

    async def choose(self, scheme: str, host: str, port: int) -> str | None:
        """The proxy URL for a request to ``scheme://host:port``, or None to go direct."""
        if is_loopback(host) or self._options.override_for(host, port) is not None:
            return None
        if self._options.proxy is not None:
            return self._options.proxy
        url = self._system.get(scheme) or self._system.get("all")
        if not url:
            return None
        if await self._bypassed(host):
            return None
        return _normalize_proxy_url(url, "system proxy settings")

    async def _bypassed(self, host: str) -> bool:
        if self._from_environment or sys.platform not in ("win32", "darwin"):
            # not in typeshed, yet public and documented in urllib.request's source
            bypass_environment = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009
            return bool(bypass_environment(host, dict(self._system)))
        # The platform's exception list; on Windows this may look the name up, so not on the loop.
        return bool(await asyncio.to_thread(urllib.request.proxy_bypass, host))
