"""What the network seam may do, as one frozen value, and the parsers for its text forms.

``NetworkOptions`` gathers the curl-like overrides (``--dns-server``, ``--resolve``,
``--ca-bundle``), the per-operation timeout, offline mode, the ISPDB base URL and the proxy
choice. The ``parse_*`` functions turn what a person typed into those values and raise
``ConfigError`` with a message that says what was wrong and what form is expected.
"""

from __future__ import annotations

import ipaddress
import math
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import idna

from app.core.net._errors import ca_bundle_error, option_error
from app.core.texts import Text

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 3600.0
DEFAULT_DNS_PORT = 53
DEFAULT_ISPDB_URL = "https://live.thunderbird.net/autoconfig/v1.1/"
ANY_HOST = "*"
DIRECT = "direct"  # --proxy direct: never use a proxy, not even the system's

_PORT_RE = re.compile(r"[0-9]{1,5}")
_HOST_CHARS_RE = re.compile(r"[A-Za-z0-9_.-]+")


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalize_host(host: str) -> str:
    """The canonical form used for comparing host names: lower case, no trailing dot, IDNA
    (A-labels) for international names; IP addresses in their compressed form."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        pass
    text = text.rstrip(".").lower()
    if text.isascii():
        return text
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        return text  # not a valid name: the callers that validate reject it


def _parse_port(text: str, what: str) -> int:
    if not _PORT_RE.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise option_error(what, Text("net.option.port", {"value": text}))
    return int(text)


def _check_host_name(host: str, what: str) -> str:
    name = normalize_host(host)
    if is_ip_address(name):
        return name
    if not name or not _HOST_CHARS_RE.fullmatch(name) or ".." in name or name.startswith("."):
        raise option_error(what, Text("net.option.host", {"value": host}))
    return name


def _looks_ipv6(text: str) -> bool:
    """True for an IPv6 address written without brackets, with or without a port after it."""
    for candidate in (text, text.rsplit(":", 1)[0]):
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        return True
    return False


def _take_host(text: str, what: str, form: str) -> tuple[str, str]:
    """Split ``text`` into a host (brackets removed) and the rest, which starts at the first
    ``:`` after the host or is empty."""
    if text.startswith("["):
        end = text.find("]")
        inner = text[1:end] if end > 0 else text[1:]
        try:
            address = ipaddress.IPv6Address(inner)
        except ValueError as exc:
            raise option_error(what, Text("net.option.not-ip", {"value": inner})) from exc
        if end < 0:
            raise option_error(what, Text("net.option.form", {"value": text, "form": form}))
        return address.compressed, text[end + 1 :]
    colon = text.find(":")
    if colon < 0:
        return text, ""
    return text[:colon], text[colon:]


@dataclass(frozen=True)
class HostPort:
    """A host (name or IP address, without brackets) and a port."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_host_port(
    text: str, *, default_port: int | None = None, what: str = "address"
) -> HostPort:
    """``HOST:PORT``, ``HOST`` (when ``default_port`` is given) or ``[IPV6]:PORT``.

    An IPv6 address must be in brackets, as in a URL: ``::1:53`` would be ambiguous.
    """
    raw = text.strip()
    form = "HOST:PORT" if default_port is None else "HOST[:PORT]"
    if not raw:
        raise option_error(what, Text("net.option.form", {"value": text, "form": form}))
    host, rest = _take_host(raw, what, form)
    if not raw.startswith("[") and rest.count(":") > 1:
        if _looks_ipv6(raw):
            raise option_error(
                what, Text("net.option.brackets", {"value": raw, "example": "[::1]:53"})
            )
        raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
    if rest:
        if not rest.startswith(":"):
            raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
        port = _parse_port(rest[1:], what)
    elif default_port is not None:
        port = default_port
    else:
        raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
    return HostPort(_check_host_name(host, what), port)


def parse_dns_server(text: str, where: str = "--dns-server") -> HostPort:
    """``ADDRESS[:PORT]`` of a DNS server; the port defaults to 53, IPv6 in brackets."""
    server = parse_host_port(text, default_port=DEFAULT_DNS_PORT, what=where)
    if not is_ip_address(server.host):
        raise option_error(where, Text("net.option.not-ip", {"value": server.host}))
    return server


@dataclass(frozen=True)
class ResolveOverride:
    """One ``--resolve`` entry: connections to ``host:port`` go to ``address:target_port``.

    ``host`` is ``*`` for any host. The connection keeps the original host name for TLS (SNI
    and certificate check) and for HTTP (URL and Host header).
    """

    host: str
    port: int
    address: str
    target_port: int

    def matches(self, host: str, port: int) -> bool:
        return port == self.port and (self.host in (ANY_HOST, normalize_host(host)))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}:{address}:{self.target_port}"


def parse_resolve(text: str, where: str = "--resolve") -> ResolveOverride:
    """``HOST:PORT:ADDRESS`` (curl's form: same port) or ``HOST:PORT:ADDRESS:PORT``.

    ``HOST`` may be ``*`` (any host) or an IP address; IPv6 addresses go in brackets in both
    places, e.g. ``mail.example.test:993:[::1]:1993``. ``ADDRESS`` must be an IP address.
    """
    what = where
    form = "HOST:PORT:ADDRESS[:PORT]"
    raw = text.strip()
    host, rest = _take_host(raw, what, form)
    if not host or not rest.startswith(":"):
        raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
    port_text, _, rest = rest[1:].partition(":")
    port = _parse_port(port_text, what)
    if not rest:
        raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
    address, tail = _take_host(rest, what, form)
    if not rest.startswith("[") and tail.count(":") > 1:
        if _looks_ipv6(rest):
            raise option_error(
                what, Text("net.option.brackets", {"value": raw, "example": "host:443:[::1]:8443"})
            )
        raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
    if not is_ip_address(address):
        raise option_error(what, Text("net.option.not-ip", {"value": address}))
    if tail:
        if not tail.startswith(":"):
            raise option_error(what, Text("net.option.form", {"value": raw, "form": form}))
        target_port = _parse_port(tail[1:], what)
    else:
        target_port = port
    name = ANY_HOST if host == ANY_HOST else _check_host_name(host, what)
    return ResolveOverride(name, port, normalize_host(address), target_port)


def parse_timeout(text: str, where: str = "--timeout") -> float:
    """Seconds, a positive number (fractions allowed), at most one hour."""
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise option_error(
            where, Text("net.option.timeout", {"value": text, "max": int(MAX_TIMEOUT)})
        ) from exc
    return check_timeout(value, where)


def check_timeout(value: float, where: str = "timeout") -> float:
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise option_error(
            where, Text("net.option.timeout", {"value": f"{value:g}", "max": int(MAX_TIMEOUT)})
        )
    return float(value)


def parse_url(text: str, where: str) -> str:
    """An absolute ``http`` or ``https`` URL with a host."""
    raw = text.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise option_error(where, Text("net.option.url", {"value": raw})) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise option_error(where, Text("net.option.url", {"value": raw}))
    return raw


def parse_ispdb_url(text: str, where: str = "--ispdb-url") -> str:
    """The ISPDB base URL. Where it holds ``{{domain}}`` the domain goes there; otherwise the
    domain is appended, so the URL is made to end with ``/``."""
    url = parse_url(text, where)
    if "{{domain}}" in url or url.endswith("/"):
        return url
    return url + "/"


def parse_proxy(text: str, where: str = "--proxy") -> str | None:
    """A proxy URL (``http://HOST:PORT``, ``https://...``, or just ``HOST:PORT``), or
    ``direct`` (returned as ``None``): no proxy at all, whatever the system says."""
    raw = text.strip()
    if raw.lower() in (DIRECT, "none"):
        return None
    if "://" not in raw:
        raw = "http://" + raw
    scheme = raw.split("://", 1)[0].lower()
    if scheme.startswith("socks"):
        raise option_error(where, Text("net.option.socks", {"value": text}))
    return parse_url(raw, where)


def check_ca_bundle(path: Path, where: str = "--ca-bundle") -> Path:
    """A readable PEM file with at least one CA certificate in it."""
    if not path.is_file():
        raise ca_bundle_error(where, str(path), "not a file")
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ca_bundle_error(where, str(path), str(exc)) from exc
    return path


@dataclass(frozen=True)
class NetworkOptions:
    """How the program may reach the network. The default is the ordinary, honest way: the
    system's resolver, proxy and trust store, ten-second timeouts, the public ISPDB."""

    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT
    dns_server: HostPort | None = None
    resolve: tuple[ResolveOverride, ...] = ()
    ca_bundles: tuple[Path, ...] = ()
    ispdb_url: str | None = DEFAULT_ISPDB_URL  # None: the ISPDB is not asked (an IT setting)
    proxy: str | None = None  # an explicit proxy URL for HTTP and HTTPS
    system_proxy: bool = True  # honour the system's proxy settings when no explicit proxy

    def __post_init__(self) -> None:
        check_timeout(self.timeout)
        if self.proxy is not None:
            parse_url(self.proxy, "proxy")
        for override in self.resolve:
            if not isinstance(override, ResolveOverride):
                raise TypeError(f"resolve entries must be ResolveOverride, not {override!r}")

    def override_for(self, host: str, port: int) -> ResolveOverride | None:
        """The ``--resolve`` entry for ``host:port``: the first exact one, else the first ``*``."""
        if not self.resolve:
            return None
        name = normalize_host(host)
        for override in self.resolve:
            if override.host == name and override.port == port:
                return override
        for override in self.resolve:
            if override.host == ANY_HOST and override.port == port:
                return override
        return None

    def is_overridden(self, host: str) -> bool:
        """True when any ``--resolve`` entry names ``host`` (on any port), or ``*`` exists."""
        name = normalize_host(host)
        return any(o.host in (ANY_HOST, name) for o in self.resolve)
