"""The server switches ``verify`` and ``export`` share: ``--imap``, ``--pop``, ``--smtp``
(``HOST:PORT:SECURITY``), ``--caldav``, ``--carddav`` (URLs) and the sign-in names
``--username``, ``--imap-username``, ``--smtp-username``, ``--dav-username``.

``parse_server`` turns ``HOST:PORT:SECURITY`` into an Endpoint (SECURITY ``tls`` or
``starttls``: plain text is never accepted from the command line); a bad value raises
``InvalidSettingError`` (bad input, exit code 1). ``config_from_switches`` builds the account
settings the switches describe, ``with_usernames`` applies the sign-in name switches to settings
that came from elsewhere (a saved account, detection).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from app.core.errors import InvalidSettingError
from app.core.model import (
    AccountConfig,
    AuthKind,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.texts import Text

SERVER_SWITCHES = ("imap", "pop", "smtp", "caldav", "carddav")


def add_server_arguments(parser: argparse.ArgumentParser, *, verb: str = "check") -> None:
    """Add the server and sign-in name switches; ``verb`` starts their help ("check this IMAP
    server", "use this IMAP server")."""
    for name, help_text in (
        ("--imap", f"{verb} this IMAP server"),
        ("--pop", f"{verb} this POP3 server"),
        ("--smtp", f"{verb} this SMTP submission server"),
    ):
        parser.add_argument(
            name, metavar="HOST:PORT:SECURITY", help=f"{help_text} (SECURITY: tls, starttls)"
        )
    parser.add_argument("--caldav", metavar="URL", help=f"{verb} this CalDAV URL")
    parser.add_argument("--carddav", metavar="URL", help=f"{verb} this CardDAV URL")
    parser.add_argument("--username", metavar="NAME", help="sign-in name for every server")
    parser.add_argument("--imap-username", metavar="NAME", help="sign-in name for IMAP/POP3")
    parser.add_argument("--smtp-username", metavar="NAME", help="sign-in name for SMTP")
    parser.add_argument(
        "--dav-username",
        metavar="NAME",
        help="sign-in name for CalDAV/CardDAV (iCloud: the Apple Account address)",
    )


def parse_server(text: str, protocol: Protocol, switch: str) -> Endpoint:
    """``HOST:PORT:SECURITY`` (IPv6 hosts in brackets) into an Endpoint; never plain text."""
    host_part, sep, rest = text.rpartition(":")
    if not sep:
        raise InvalidSettingError(switch, Text("cli.verify.server-form", {"value": text}))
    host_port, security_text = host_part, rest.strip().lower()
    host, sep, port_text = host_port.rpartition(":")
    if not sep or not port_text.isdigit():
        raise InvalidSettingError(switch, Text("cli.verify.server-form", {"value": text}))
    if security_text not in (Security.TLS.value, Security.STARTTLS.value):
        raise InvalidSettingError(switch, Text("cli.verify.security", {"value": security_text}))
    return Endpoint(protocol, host.strip("[]"), int(port_text), Security(security_text))


def explicit_servers(args: argparse.Namespace) -> bool:
    """Whether any server switch was given."""
    return any(getattr(args, name, None) for name in SERVER_SWITCHES)


def config_from_switches(args: argparse.Namespace, auth: AuthKind) -> AccountConfig:
    """The settings the server switches describe (sign-in names applied). InvalidSettingError
    when there is no incoming server (``--imap`` or ``--pop``) or a value is malformed."""
    if args.imap:
        incoming = parse_server(args.imap, Protocol.IMAP, "--imap")
    elif args.pop:
        incoming = parse_server(args.pop, Protocol.POP3, "--pop")
    else:
        raise InvalidSettingError(
            "--imap", Text("export.cli.no-incoming"), code="cli.no-incoming-server"
        )
    outgoing = parse_server(args.smtp, Protocol.SMTP, "--smtp") if args.smtp else None
    config = AccountConfig(
        incoming=incoming,
        outgoing=outgoing,
        caldav=args.caldav or None,
        carddav=args.carddav or None,
        auth=auth,
        provenance=Provenance("manual", Trust.HIGH, over_https=False, detail="command line"),
    )
    return with_usernames(config, args)


def with_usernames(config: AccountConfig, args: argparse.Namespace) -> AccountConfig:
    """``config`` with the sign-in name switches applied (``--imap-username`` and
    ``--smtp-username`` before ``--username``), and the calendar and contacts URLs of
    ``--caldav`` and ``--carddav`` in place of its own."""
    incoming_name = args.imap_username or args.username
    outgoing_name = args.smtp_username or args.username
    incoming = config.incoming
    if incoming_name:
        incoming = replace(incoming, username=incoming_name)
    outgoing = config.outgoing
    if outgoing is not None and outgoing_name:
        outgoing = replace(outgoing, username=outgoing_name)
    return replace(
        config,
        incoming=incoming,
        outgoing=outgoing,
        caldav=args.caldav or config.caldav,
        carddav=args.carddav or config.carddav,
    )


def dav_username(args: argparse.Namespace) -> str | None:
    """The calendar and contacts sign-in name the switches give (``--dav-username``, else
    ``--username``), or None."""
    name: str | None = args.dav_username or args.username
    return name
