"""The network switches every subcommand that touches the network shares.

``add_network_arguments(parser)`` adds them; ``network_options_from_args(args)`` turns what was
typed into ``NetworkOptions``, raising a ``SetupError`` (``InvalidSettingError``) for a bad
value, which ``app.cli.main`` reports as exit code 1 (``ExitCode.BAD_INPUT``), as JSON under
``--json``.
Values are checked here, not by argparse, so that a bad value is bad input (1) rather than a
usage error (2). A single-valued switch given twice keeps the last value; ``--resolve`` and
``--ca-bundle`` may be repeated and keep all. See docs/cli.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.core.errors import ConfigError, Fault, Fixer, InvalidSettingError
from app.core.net import (
    DEFAULT_ISPDB_URL,
    DEFAULT_TIMEOUT,
    NetworkOptions,
    check_ca_bundle,
    parse_dns_server,
    parse_ispdb_url,
    parse_proxy,
    parse_resolve,
    parse_timeout,
)
from app.core.texts import Text

GROUP_TITLE = "network"


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--offline``, ``--timeout``, ``--dns-server``, ``--resolve``, ``--ca-bundle``,
    ``--ispdb-url`` and ``--proxy`` to ``parser``, in a group of their own."""
    group = parser.add_argument_group(
        GROUP_TITLE, "where and how the program may reach the network (see docs/cli.md)"
    )
    group.add_argument(
        "--offline",
        action="store_true",
        help="never use the network: whatever would need it is skipped or fails at once",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"limit for each connect, TLS handshake, DNS query, HTTP request "
        f"(default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--dns-server",
        metavar="HOST:PORT",
        help="ask this DNS server (IP address, port 53 by default; IPv6 as [::1]:53) "
        "instead of the system's",
    )
    group.add_argument(
        "--resolve",
        metavar="HOST:PORT:ADDRESS[:PORT]",
        action="append",
        help="connect to ADDRESS (and PORT) whenever HOST:PORT is asked for, keeping HOST for "
        "TLS and HTTP, as curl --resolve; HOST may be *; repeatable",
    )
    group.add_argument(
        "--ca-bundle",
        metavar="FILE",
        action="append",
        type=Path,
        help="also trust the CA certificates in this PEM file (e.g. a TLS-inspecting proxy's); "
        "repeatable",
    )
    group.add_argument(
        "--ispdb-url",
        metavar="URL",
        help=f"base URL of the ISP database (default {DEFAULT_ISPDB_URL})",
    )
    group.add_argument(
        "--proxy",
        metavar="URL",
        help="send HTTP and HTTPS through this proxy (http://HOST:PORT); 'direct' for no proxy "
        "at all; default: the system's proxy settings",
    )


def network_options_from_args(args: argparse.Namespace) -> NetworkOptions:
    """The ``NetworkOptions`` the switches ask for. A bad value raises ``InvalidSettingError``
    (bad input, exit code 1) carrying the parser's message and code (``config.network-option``,
    ``config.ca-bundle``): the same parsers raise ``ConfigError`` for organisation settings,
    where a bad value is the environment's fault (exit code 6), not the person's."""
    try:
        return _options_from_args(args)
    except ConfigError as error:
        raise InvalidSettingError(
            error.where,
            error.message,
            code=error.code,
            fault=Fault.LOCAL_INPUT,
            fixer=Fixer.USER,
            fix=Text("error.config.fix"),
            checked=Text("check.config"),
            detail=error.detail,
        ) from error


def _options_from_args(args: argparse.Namespace) -> NetworkOptions:
    timeout = getattr(args, "timeout", None)
    dns_server = getattr(args, "dns_server", None)
    ispdb_url = getattr(args, "ispdb_url", None)
    proxy = getattr(args, "proxy", None)
    bundles: list[Path] = list(getattr(args, "ca_bundle", None) or [])
    return NetworkOptions(
        offline=bool(getattr(args, "offline", False)),
        timeout=DEFAULT_TIMEOUT if timeout is None else parse_timeout(timeout),
        dns_server=None if dns_server is None else parse_dns_server(dns_server),
        resolve=tuple(parse_resolve(text) for text in getattr(args, "resolve", None) or []),
        ca_bundles=tuple(check_ca_bundle(path) for path in dict.fromkeys(bundles)),
        ispdb_url=DEFAULT_ISPDB_URL if ispdb_url is None else parse_ispdb_url(ispdb_url),
        proxy=None if proxy is None else parse_proxy(proxy),
        system_proxy=proxy is None,
    )
