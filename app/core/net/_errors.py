"""How the network seam reports failures: builders for the ``app.core.errors`` classes.

The seam raises only ``SetupError`` subclasses (``ConfigError``, ``NetworkError``, ``DNSError``,
``ConnectError``, ``TLSError``, ``DeadlineError``, ``ServerError``). Technical facts go into
``detail`` (always ``host``/``port`` where known, the ``peer`` address actually used, and a
``problem`` word that is finer than the error's ``failure``: ``servfail``, ``timeout``,
``old-protocol`` ...), so a report can say more than the user message does.
"""

from __future__ import annotations

from app.core.errors import (
    ConfigError,
    ConnectError,
    ConnectFailure,
    DeadlineError,
    DNSError,
    DNSFailure,
    Fault,
    Fixer,
    NetworkError,
    ServerError,
    TLSError,
    TLSFailure,
)
from app.core.texts import Text

Address = tuple[str, int]

# ``detail["problem"]`` values for DNS failures (DNSFailure.FAILED is several things)
DNS_SERVFAIL = "servfail"
DNS_REFUSED = "refused"
DNS_TIMEOUT = "timeout"
DNS_UNREACHABLE = "unreachable"
DNS_NO_RESOLVER = "no-resolver"
DNS_BAD_NAME = "bad-name"
DNS_OTHER = "other"


def format_address(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _detail(
    host: str, port: int | None, peer: Address | None, **extra: str | int | None
) -> dict[str, str | int]:
    detail: dict[str, str | int] = {"host": host}
    if port is not None:
        detail["port"] = port
    if peer is not None:
        detail["peer"] = format_address(peer)
    for key, value in extra.items():
        if value is not None:
            detail[key] = value
    return detail


def option_error(where: str, reason: Text) -> ConfigError:
    """A bad value typed for a network switch (``where`` is the switch, e.g. ``--resolve``)."""
    return ConfigError(
        where,
        reason,
        fault=Fault.LOCAL_INPUT,
        fixer=Fixer.USER,
        code="config.network-option",
    )


def ca_bundle_error(where: str, path: str, problem: str) -> ConfigError:
    """A CA bundle that cannot be used (``where``: the switch or setting that named it)."""
    return ConfigError(
        where,
        Text("net.option.ca-bundle", {"path": path}),
        fault=Fault.LOCAL_INPUT,
        fixer=Fixer.USER,
        code="config.ca-bundle",
        detail={"where": where, "path": path, "problem": problem},
    )


def offline_error(host: str, port: int | None = None) -> NetworkError:
    return NetworkError(
        host,
        Text("net.offline", {"host": host}),
        code="network.offline",
        fault=Fault.LOCAL_INPUT,
        fixer=Fixer.USER,
        fix=Text("net.offline.fix"),
        detail=_detail(host, port, None),
    )


def dns_error(
    name: str, failure: DNSFailure, problem: str | None = None, server: str | None = None
) -> DNSError:
    return DNSError(
        name, failure, detail=_detail(name, None, None, problem=problem, dns_server=server)
    )


def connect_error(
    host: str, port: int, failure: ConnectFailure, peer: Address | None, problem: str
) -> ConnectError:
    return ConnectError(host, port, failure, detail=_detail(host, port, peer, problem=problem))


def tls_error(
    failure: TLSFailure,
    *,
    host: str,
    port: int | None,
    peer: Address | None,
    problem: str,
    detail: str,
) -> TLSError:
    return TLSError(
        host,
        failure,
        detail=_detail(host, port, peer, problem=problem, verify_message=detail),
    )


def deadline_error(
    host: str, seconds: float, stage: str, port: int | None = None, peer: Address | None = None
) -> DeadlineError:
    return DeadlineError(host, seconds, detail=_detail(host, port, peer, stage=stage))


def network_error(
    host: str, problem: str, port: int | None = None, peer: Address | None = None
) -> NetworkError:
    return NetworkError(host, detail=_detail(host, port, peer, problem=problem))


def too_large_error(host: str, limit: int) -> ServerError:
    return ServerError(
        host,
        message=Text("net.too-large", {"host": host, "limit": limit}),
        code="http.too-large",
        detail=_detail(host, None, None, limit=limit),
    )


def proxy_error(proxy: str, target: str, problem: str) -> NetworkError:
    return NetworkError(
        proxy,
        Text("net.proxy", {"proxy": proxy, "host": target}),
        code="network.proxy",
        fix=Text("net.proxy.fix"),
        detail=_detail(proxy, None, None, target=target, problem=problem),
    )
