"""The local environment, as helpdesk mode reports it: this computer (system and version, the
program's version, who runs it and whether that is root or SYSTEM), the system proxy (never with
its credentials), the DNS servers in use, the clock against a server's ``Date`` header, IPv4 and
IPv6 reachability of the provider's hosts, and TLS interception on the provider's hosts and on
the sign-in hosts.

Everything on the network goes through the seam (:class:`~app.core.net.Network`): addresses
from its resolver (the ``--dns-server``, a ``--resolve`` override or the system's), connections
through :func:`app.core.net.tcp.connect`, the clock through ``Network.fetch``.

Limits (also in ``docs/helpdesk-guide.md``): the DNS servers are read from ``/etc/resolv.conf``
on Linux and macOS (macOS may route some domains to other servers, see ``scutil --dns``); on
Windows they are not read (``ipconfig /all`` lists them). Proxy auto-configuration (PAC, WPAD)
is not evaluated: only the proxies the system states. Reachability is a TCP connection to the
service's port, not a full protocol check (the verification checks are that).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import os
import platform
import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from app import __version__
from app.core.checks import tlsreport
from app.core.diagnostics import knowledge
from app.core.errors import SetupError
from app.core.model import Finding
from app.core.net import Network, Target
from app.core.net.tcp import connect
from app.core.texts import Text

__all__ = [
    "ClockReading",
    "EnvironmentReport",
    "HostFacts",
    "Reachability",
    "TLSProbe",
    "check_environment",
    "dns_servers",
    "local_facts",
    "proxy_settings",
    "strip_credentials",
]

RESOLV_CONF: Final = Path("/etc/resolv.conf")


# --- this computer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HostFacts:
    """This computer and who runs the program. ``privileged``: root (POSIX) or SYSTEM
    (Windows), where the mail user's keyring is not visible."""

    system: str
    release: str
    version: str
    machine: str
    python: str
    app_version: str
    user: str
    privileged: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "release": self.release,
            "version": self.version,
            "machine": self.machine,
            "python": self.python,
            "app_version": self.app_version,
            "user": self.user,
            "privileged": self.privileged,
        }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _privileged(user: str) -> bool:
    if sys.platform == "win32":
        return user.upper() == "SYSTEM" or user.endswith("$")
    return hasattr(os, "geteuid") and os.geteuid() == 0


def local_facts() -> HostFacts:
    """The facts of this computer and this process."""
    system = platform.system() or sys.platform
    release, version = platform.release(), platform.version()
    if sys.platform == "darwin":
        release = platform.mac_ver()[0] or release
    elif sys.platform == "win32":
        win_release, win_version, _csd, _type = platform.win32_ver()
        release, version = win_release or release, win_version or version
    user = _user()
    return HostFacts(
        system=system,
        release=release,
        version=version,
        machine=platform.machine(),
        python=platform.python_version(),
        app_version=__version__,
        user=user,
        privileged=_privileged(user),
    )


# --- proxy and DNS ----------------------------------------------------------------------------


def strip_credentials(url: str) -> str:
    """``url`` without a user name or password (``http://u:p@proxy:8080`` -> ``http://proxy:8080``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[unreadable]"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def proxy_settings(explicit: str | None = None) -> dict[str, str]:
    """The proxies in use for web requests, by scheme, without credentials: ``explicit`` (the
    ``--proxy`` switch or the organisation's proxy) for every scheme, else the system's
    (``urllib.request.getproxies``: the variables everywhere, the system settings on Windows and
    macOS). ``no`` is the exception list as written."""
    if explicit is not None:
        return {"all": "direct" if explicit == "direct" else strip_credentials(explicit)}
    found = urllib.request.getproxies()
    return {
        scheme: value if scheme == "no" else strip_credentials(value)
        for scheme, value in sorted(found.items())
    }


def dns_servers(path: Path = RESOLV_CONF) -> tuple[tuple[str, ...], str | None]:
    """The system's DNS servers and where they were read; ``((), None)`` where they cannot be
    read (Windows, no resolv.conf)."""
    if sys.platform == "win32":
        return (), None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return (), None
    servers = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1])
    return tuple(servers), str(path)


# --- network observations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reachability:
    """TCP reachability of ``host:port`` per address family; ``None``: no address of it."""

    host: str
    port: int
    via: str | None
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    ipv4_ok: bool | None = None
    ipv6_ok: bool | None = None
    error: str | None = None  # a finding code when the host could not be resolved

    def to_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "via": self.via,
            "ipv4": list(self.ipv4),
            "ipv6": list(self.ipv6),
            "ipv4_ok": self.ipv4_ok,
            "ipv6_ok": self.ipv6_ok,
            "error": self.error,
        }


@dataclass(frozen=True)
class TLSProbe:
    """A TLS handshake with ``host:port``: what it showed, or the finding code of its failure."""

    host: str
    port: int
    sign_in: bool
    tls: dict[str, object] | None = None
    error: str | None = None
    findings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "sign_in": self.sign_in,
            "tls": self.tls,
            "error": self.error,
            "findings": list(self.findings),
        }


@dataclass(frozen=True)
class ClockReading:
    """This computer's clock against the ``Date`` header of ``url``."""

    url: str
    server_date: str | None
    local_date: str
    offset_seconds: int | None  # local minus server; positive: this computer is ahead

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "server_date": self.server_date,
            "local_date": self.local_date,
            "offset_seconds": self.offset_seconds,
        }


@dataclass(frozen=True)
class EnvironmentReport:
    """Everything :func:`check_environment` found, and its findings."""

    facts: HostFacts
    proxy: dict[str, str]
    dns_program: str
    dns_system: tuple[str, ...]
    dns_source: str | None
    clock: ClockReading | None
    reachability: tuple[Reachability, ...]
    tls: tuple[TLSProbe, ...]
    findings: tuple[Finding, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            **self.facts.to_dict(),
            "proxy": dict(self.proxy),
            "dns": {
                "program": self.dns_program,
                "system_servers": list(self.dns_system),
                "source": self.dns_source,
            },
            "clock": None if self.clock is None else self.clock.to_dict(),
            "reachability": [item.to_dict() for item in self.reachability],
            "tls": [item.to_dict() for item in self.tls],
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _reach(net: Network, host: str, port: int) -> tuple[Reachability, list[Finding]]:
    try:
        target = await net.resolve(host, port)
    except SetupError as error:
        return Reachability(host, port, None, error=error.code), [tlsreport.error_finding(error)]
    v4 = tuple(a for a in target.addresses if ":" not in a[0])
    v6 = tuple(a for a in target.addresses if ":" in a[0])

    async def attempt(addresses: tuple[tuple[str, int], ...]) -> bool | None:
        if not addresses:
            return None
        try:
            connection = await connect(
                Target(host, port, addresses, target.via),
                tls=False,
                seconds=net.options.timeout,
                context=None,
            )
        except SetupError:
            return False
        connection.abort()
        return True

    ok4, ok6 = await asyncio.gather(attempt(v4), attempt(v6))
    found = Reachability(
        host,
        port,
        target.via,
        tuple(a[0] for a in v4),
        tuple(a[0] for a in v6),
        ok4,
        ok6,
    )
    findings: list[Finding] = []
    checked = Text("check.server", {"host": host})
    if ok4 is not True and ok6 is not True and (ok4, ok6) != (None, None):
        findings.append(
            knowledge.finding(
                "env.unreachable",
                checked=checked,
                params={"host": host, "port": port},
                detail={"host": host, "port": port},
            )
        )
    else:
        for family, ok in (("IPv4", ok4), ("IPv6", ok6)):
            if ok is False:
                findings.append(
                    knowledge.finding(
                        "env.family-unreachable",
                        checked=checked,
                        params={"host": host, "port": port, "family": family},
                        detail={"host": host, "port": port, "family": family},
                    )
                )
    return found, findings


async def _probe_tls(
    net: Network, host: str, port: int, *, sign_in: bool
) -> tuple[TLSProbe, list[Finding]]:
    checked = Text("check.tls", {"host": host})
    try:
        connection = await net.connect(host, port, tls=True)
    except SetupError as error:
        finding = tlsreport.error_finding(error, checked)
        return TLSProbe(host, port, sign_in, error=finding.code), [finding]
    try:
        info = connection.tls
    finally:
        connection.abort()
    if info is None:
        return TLSProbe(host, port, sign_in), []
    known = sign_in or tlsreport.is_known_provider_host(host)
    findings = list(
        tlsreport.analyse_tls(
            info, host, extra_ca_bundles=net.options.ca_bundles, known_provider=known
        )
    )
    probe = TLSProbe(
        host,
        port,
        sign_in,
        tls=tlsreport.tls_to_dict(info),
        findings=tuple(f.code for f in findings),
    )
    return probe, findings


async def _clock(
    net: Network, urls: Sequence[str], now: Callable[[], dt.datetime]
) -> tuple[ClockReading | None, list[Finding]]:
    for url in urls:
        try:
            result = await net.fetch(url, method="GET", max_bytes=65536)
        except SetupError:
            continue
        dates = result.headers.get_list("date")
        local = now()
        if not dates:
            continue
        server = tlsreport.parse_server_date(dates[0])
        if server is None:
            continue
        offset = round((local - server).total_seconds())
        reading = ClockReading(url, server.isoformat(), local.isoformat(), offset)
        host = urlsplit(url).hostname
        skew = tlsreport.clock_skew(server, local, host=host)
        return reading, [] if skew is None else [skew]
    return None, []


async def check_environment(
    net: Network,
    *,
    hosts: Sequence[tuple[str, int, bool]] = (),
    sign_in_hosts: Sequence[str] = (),
    clock_urls: Sequence[str] = (),
    facts: HostFacts | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> EnvironmentReport:
    """Look at the environment: ``hosts`` are the provider's servers as ``(host, port,
    implicit_tls)`` (reachability for each; a TLS probe for the implicit-TLS ones),
    ``sign_in_hosts`` the sign-in services the account uses (TLS on port 443, where any
    inspection is reported), ``clock_urls`` the web addresses whose ``Date`` is compared with
    this computer's clock (the first that answers). ``facts`` and ``now`` replace this
    computer's own (tests)."""
    facts = facts or local_facts()
    clock_now = now or _now
    findings: list[Finding] = []
    if facts.privileged:
        findings.append(
            knowledge.finding(
                "env.privileged",
                checked=Text("diagnose.check.environment"),
                params={"user": facts.user},
                detail={"user": facts.user},
            )
        )
    proxy = (
        proxy_settings(net.options.proxy) if net.options.system_proxy or net.options.proxy else {}
    )
    web_proxy = proxy.get("https") or proxy.get("all")
    if web_proxy and web_proxy != "direct":
        findings.append(
            knowledge.finding(
                "env.proxy",
                checked=Text("diagnose.check.environment"),
                params={"proxy": web_proxy},
                detail={"proxy": web_proxy},
            )
        )
    servers, source = dns_servers()
    program_dns = "system"
    if net.options.dns_server is not None:
        program_dns = str(net.options.dns_server)
    if net.options.offline:
        return EnvironmentReport(
            facts, proxy, program_dns, servers, source, None, (), (), tuple(findings)
        )
    unique_hosts = list(dict.fromkeys(hosts))
    reach_jobs = [_reach(net, host, port) for host, port, _tls in unique_hosts]
    tls_jobs = [
        _probe_tls(net, host, port, sign_in=False) for host, port, tls in unique_hosts if tls
    ]
    tls_jobs += [_probe_tls(net, host, 443, sign_in=True) for host in dict.fromkeys(sign_in_hosts)]
    reached, probed, (clock, clock_findings) = await asyncio.gather(
        asyncio.gather(*reach_jobs),
        asyncio.gather(*tls_jobs),
        _clock(net, clock_urls, clock_now),
    )
    for _item, item_findings in [*reached, *probed]:
        findings.extend(item_findings)
    findings.extend(clock_findings)
    return EnvironmentReport(
        facts=facts,
        proxy=proxy,
        dns_program=program_dns,
        dns_system=servers,
        dns_source=source,
        clock=clock,
        reachability=tuple(item for item, _f in reached),
        tls=tuple(item for item, _f in probed),
        findings=tuple(findings),
    )
