"""``mailsetup verify ADDRESS``: check incoming, outgoing, calendar and contacts servers for real.

Without explicit servers it runs detection first and verifies the best candidate. The password
(or app password) is read from standard input with ``--password-stdin``, never from the command
line; without it, or with ``--no-auth``, every check goes as far as it can without credentials.
Exit codes: 0 all passed, 3 any failed, 1 bad input, 4 nothing to verify (docs/cli.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.netargs import add_network_arguments
from app.cli.output import print_error, print_json
from app.cli.passwords import read_password
from app.cli.servers import add_server_arguments, parse_server
from app.cli.signin import no_client_id_error
from app.core.checks.base import CheckTarget, CredentialKind, Credentials, Secret
from app.core.checks.runner import VerifyOptions, VerifyResult, verify
from app.core.config import Config
from app.core.discovery.engine import detect
from app.core.model import AccountConfig, AuthKind, EmailAddress, Endpoint, Protocol
from app.core.net import Network
from app.core.net.options import parse_timeout
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", metavar="ADDRESS", help="the email address")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password or app password from standard input (one line)",
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="check without signing in (credential-free)"
    )
    parser.add_argument(
        "--auth",
        choices=("oauth2-microsoft", "password"),
        help="how to sign in: the cached Microsoft sign-in (see mailsetup signin) or a "
        "password from --password-stdin; default: the Microsoft sign-in for Microsoft 365 "
        "and Outlook.com accounts when one is cached, else the password",
    )
    add_server_arguments(parser, verb="check")
    parser.add_argument(
        "--deadline", metavar="SECONDS", help="the most all checks may take (default 45)"
    )
    parser.add_argument(
        "--round-trip",
        action="store_true",
        help="also send a test message to the account itself and confirm over IMAP or POP3 "
        "that it arrived (needs the password or sign-in)",
    )
    parser.add_argument(
        "--language", choices=LANGUAGES, help="language of findings (default: the system's)"
    )
    add_network_arguments(parser)


def _read_password(stream: TextIO) -> Secret:
    return read_password(stream, Text("cli.verify.no-password"))


def _explicit(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) for name in ("imap", "pop", "smtp", "caldav", "carddav"))


def targets_from(
    args: argparse.Namespace,
    address: EmailAddress,
    config: AccountConfig | None,
    secret: Secret | None,
) -> list[CheckTarget]:
    """The checks to run: the explicit servers, else the detected candidate's."""
    incoming: Endpoint | None
    outgoing: Endpoint | None
    if config is None:
        incoming = None
        if args.imap:
            incoming = parse_server(args.imap, Protocol.IMAP, "--imap")
        elif args.pop:
            incoming = parse_server(args.pop, Protocol.POP3, "--pop")
        outgoing = parse_server(args.smtp, Protocol.SMTP, "--smtp") if args.smtp else None
        caldav, carddav = args.caldav, args.carddav
    else:
        incoming, outgoing = config.incoming, config.outgoing
        caldav, carddav = args.caldav or config.caldav, args.carddav or config.carddav

    def credentials(specific: str | None, endpoint: Endpoint | None) -> Credentials | None:
        if secret is None:
            return None
        name = specific or args.username or (endpoint.username if endpoint else None)
        return Credentials(name or str(address), secret, CredentialKind.PASSWORD)

    targets: list[CheckTarget] = []
    if incoming is not None:
        targets.append(
            CheckTarget(
                incoming.protocol,
                endpoint=incoming,
                credentials=credentials(args.imap_username, incoming),
                address=str(address),
            )
        )
    if outgoing is not None:
        targets.append(
            CheckTarget(
                Protocol.SMTP,
                endpoint=outgoing,
                credentials=credentials(args.smtp_username, outgoing),
                address=str(address),
            )
        )
    for protocol, url in ((Protocol.CALDAV, caldav), (Protocol.CARDDAV, carddav)):
        if url:
            targets.append(
                CheckTarget(
                    protocol,
                    url=url,
                    credentials=credentials(args.dav_username, None),
                    address=str(address),
                )
            )
    return targets


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    address = EmailAddress.parse(args.address)
    config = configuration.load(language)
    net = Network(configuration.network_options(args, config))
    options = VerifyOptions(round_trip=args.round_trip)
    if args.deadline is not None:
        options = VerifyOptions(deadline=parse_timeout(args.deadline), round_trip=args.round_trip)
    secret = None
    if args.password_stdin and not args.no_auth:
        secret = _read_password(sys.stdin)
    result = asyncio.run(_verify(args, address, net, secret, options, language, config))
    if result is None:
        print_error(
            "verify.nothing-to-check",
            render(Text("cli.verify.nothing"), language),
            as_json=args.json,
        )
        return ExitCode.NOT_FOUND
    if args.json:
        print_json(result.to_dict(language))
    else:
        print_summary(result, language, sys.stdout)
    return ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED


async def _verify(
    args: argparse.Namespace,
    address: EmailAddress,
    net: Network,
    secret: Secret | None,
    options: VerifyOptions,
    language: Language,
    settings: Config,
) -> VerifyResult | None:
    config = None
    if not _explicit(args):
        detection = await detect(address, net, language=language)
        config = detection.best
        if config is None:
            return None
    targets = targets_from(args, address, config, secret)
    if not targets:
        return None
    if not args.no_auth and _wants_microsoft(args, config, secret):
        targets = await with_cached_microsoft_tokens(
            targets, str(address), settings, net, required=args.auth == "oauth2-microsoft"
        )
    return await verify(str(address), targets, net, options=options, language=language)


def _wants_microsoft(
    args: argparse.Namespace, config: AccountConfig | None, secret: Secret | None
) -> bool:
    if args.auth is not None:
        return bool(args.auth == "oauth2-microsoft")
    return secret is None and config is not None and config.auth is AuthKind.OAUTH2_MICROSOFT


async def with_cached_microsoft_tokens(
    targets: list[CheckTarget],
    address: str,
    settings: Config,
    net: Network,
    *,
    required: bool,
) -> list[CheckTarget]:
    """The mail targets with the cached Microsoft sign-in's tokens (refreshed silently). When
    none is cached: an error if it was asked for, else the targets as they were."""
    if not settings.microsoft.client_id:
        if required:
            raise no_client_id_error()
        return targets
    from app.core.auth.microsoft import MicrosoftSignIn
    from app.core.auth.token_cache import TokenCacheStore

    store = await asyncio.to_thread(TokenCacheStore.open)
    service = MicrosoftSignIn(settings.microsoft, net, store)
    if not required and not any(a.address == address for a in await service.accounts()):
        return targets
    from app.core.flow.services import with_microsoft_tokens

    return await with_microsoft_tokens(service, address, targets)


def print_summary(result: VerifyResult, language: Language, out: TextIO) -> None:
    """One line per check, then each problem's cause and fix."""
    for check in result.checks:
        mark = "ok " if check.ok else "FAIL"
        signed = render(
            Text("cli.verify.signed-in" if check.authenticated else "cli.verify.not-signed-in"),
            language,
        )
        out.write(f"{mark}  {check.protocol.value:<8} {check.target}  ({signed})\n")
        for step in check.steps:
            tick = "+" if step.ok else "x"
            detail = f" {step.detail}" if step.detail else ""
            out.write(f"      {tick} {step.name:<14} {step.ms:>6} ms{detail}\n")
        if check.finding is not None:
            title = check.finding.title if check.finding.title else check.finding.cause
            out.write(f"      ! {render(title, language)}\n")
            out.write(f"        {render(check.finding.cause, language)}\n")
            if check.finding.fix is not None:
                out.write(f"        → {render(check.finding.fix, language)}\n")
    key = "cli.verify.all-passed" if result.ok else "cli.verify.some-failed"
    out.write(render(Text(key, {"ms": result.elapsed_ms}), language) + "\n")
