"""``mailsetup diagnose ADDRESS``: helpdesk mode on the command line.

Runs detection and every check (credential-free unless ``--password-stdin`` or a cached
Microsoft sign-in), looks at the keyring, the saved sign-in, the saved account (drift), the
Thunderbird profiles and the environment, and prints the verdict and every finding; with
``--report FILE.zip`` it also saves the report (HTML, JSON and the redacted log). It takes the
switches of ``verify``. Exit codes: 0 healthy (warnings allowed), 3 any finding is an error,
1 bad input (docs/cli.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.netargs import add_network_arguments
from app.cli.output import print_json
from app.cli.passwords import read_password
from app.cli.servers import add_server_arguments, config_from_switches, explicit_servers
from app.cli.verify import with_cached_microsoft_tokens
from app.core.checks.base import CheckTarget, Secret
from app.core.config import Config
from app.core.diagnostics import report
from app.core.diagnostics.diagnose import (
    DiagnoseOptions,
    Diagnosis,
    TargetsHook,
    Verdict,
    diagnose,
)
from app.core.diagnostics.redact import install_redaction
from app.core.diagnostics.symptoms import SymptomError, symptom, symptoms
from app.core.errors import InvalidSettingError
from app.core.model import AccountConfig, AuthKind, EmailAddress
from app.core.net import Network
from app.core.net.options import parse_timeout
from app.core.profiles.store import AccountStore
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", metavar="ADDRESS", help="the email address")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--report", metavar="FILE.zip", help="also save the report (HTML, JSON, redacted log)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing report file")
    parser.add_argument(
        "--mask-address",
        action="store_true",
        help="hide the address and user names in the output and the report (t*****@example.com)",
    )
    parser.add_argument(
        "--symptom",
        metavar="NAME",
        help="what is wrong: " + ", ".join(s.name for s in symptoms()),
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password or app password from standard input (one line)",
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="never sign in, not even with a cached sign-in"
    )
    parser.add_argument(
        "--auth",
        choices=("oauth2-microsoft", "password"),
        help="how to sign in (as for verify)",
    )
    add_server_arguments(parser, verb="check")
    parser.add_argument(
        "--deadline", metavar="SECONDS", help="the most all checks may take (default 45)"
    )
    parser.add_argument(
        "--language", choices=LANGUAGES, help="language of the report (default: the system's)"
    )
    add_network_arguments(parser)


def _report_path(args: argparse.Namespace) -> Path | None:
    if not args.report:
        return None
    path = Path(args.report)
    if path.suffix.lower() != ".zip" or (path.exists() and not args.force) or path.is_dir():
        raise InvalidSettingError("--report", Text("diagnose.cli.bad-report", {"path": str(path)}))
    return path


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    address = EmailAddress.parse(args.address)
    try:
        chosen = symptom(args.symptom)
    except SymptomError as exc:
        known = ", ".join(s.name for s in symptoms())
        raise InvalidSettingError(
            "--symptom",
            Text("diagnose.cli.bad-symptom", {"value": str(args.symptom), "known": known}),
        ) from exc
    report_path = _report_path(args)
    config = configuration.load(language)
    net = Network(configuration.network_options(args, config))
    deadline = 45.0 if args.deadline is None else parse_timeout(args.deadline)
    settings = None
    if explicit_servers(args):
        auth = AuthKind.OAUTH2_MICROSOFT if args.auth == "oauth2-microsoft" else AuthKind.PASSWORD
        settings = config_from_switches(args, auth)
    secret: Secret | None = None
    if args.password_stdin and not args.no_auth:
        secret = read_password(sys.stdin, Text("cli.verify.no-password"))
        install_redaction(secrets=[secret])
    options = DiagnoseOptions(
        symptom=chosen.name,
        settings=settings,
        secret=secret,
        username=args.username,
        dav_username=args.dav_username or args.username,
        deadline=deadline,
        targets_hook=None if args.no_auth else _hook(args, config, net, str(address)),
        accounts=_accounts(),
        token_store=_token_store,
    )
    diagnosis = asyncio.run(diagnose(address, net, options, language=language))
    secrets = [] if secret is None else [secret]
    if report_path is not None:
        report.write_report_zip(
            diagnosis, report_path, language, mask=args.mask_address, secrets=secrets
        )
    if args.json:
        data = report.report_json(diagnosis, language, mask=args.mask_address, secrets=secrets)
        data["report_file"] = None if report_path is None else str(report_path)
        print_json(data)
    else:
        sys.stdout.write(
            report.summary_text(diagnosis, language, mask=args.mask_address, secrets=secrets)
        )
        if report_path is not None:
            saved = Text("diagnose.cli.saved-report", {"path": str(report_path)})
            sys.stdout.write(render(saved, language) + "\n")
    return exit_code(diagnosis)


def exit_code(diagnosis: Diagnosis) -> int:
    """0 unless a finding is an error (3)."""
    return ExitCode.CHECKS_FAILED if diagnosis.verdict is Verdict.BROKEN else ExitCode.OK


def _hook(args: argparse.Namespace, settings: Config, net: Network, address: str) -> TargetsHook:
    async def with_tokens(config: AccountConfig, targets: list[CheckTarget]) -> list[CheckTarget]:
        wanted = args.auth == "oauth2-microsoft" or (
            args.auth is None and config.auth is AuthKind.OAUTH2_MICROSOFT
        )
        if not wanted:
            return targets
        return await with_cached_microsoft_tokens(
            targets, address, settings, net, required=args.auth == "oauth2-microsoft"
        )

    return with_tokens


def _accounts() -> AccountStore:
    return AccountStore()


def _token_store() -> object:
    from app.core.auth.token_cache import TokenCacheStore

    return TokenCacheStore.open()
