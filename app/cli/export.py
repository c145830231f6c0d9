"""``mailsetup export ADDRESS --format F``: write an account's settings for a mail program.

Formats: ``mobileconfig`` (iPhone, iPad, Mac), ``thunderbird`` (added to a profile's prefs.js,
or with ``--output`` a preview of the new prefs.js), ``prf`` (classic Outlook, IMAP and POP),
``reg`` (classic Outlook and Microsoft 365 / Outlook.com), ``clientconfig`` (Thunderbird's
autoconfig XML), ``json`` and ``html`` (a printable settings sheet).

The settings come from the server switches (as ``verify``'s), else the saved account, else
detection (with ``--offline``: the built-in catalog). No password is written unless
``--include-password`` is given (from ``--password-stdin`` or the saved account's keyring
entry), and then a warning says so. Files are written atomically and an existing file is never
replaced without ``--force``.

Exit codes (docs/cli.md): 0 written (or Thunderbird had the account already), 1 bad input
(a malformed switch, a format this account cannot use, an existing file, no password to
include), 4 no settings or no Thunderbird profile found, 6 Thunderbird is running or the
keyring is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.netargs import add_network_arguments
from app.cli.output import print_error, print_json
from app.cli.passwords import read_password
from app.cli.servers import (
    add_server_arguments,
    config_from_switches,
    dav_username,
    explicit_servers,
    with_usernames,
)
from app.core.checks.base import Secret
from app.core.discovery.engine import detect
from app.core.errors import InvalidSettingError, SetupError
from app.core.model import AccountConfig, AuthKind, EmailAddress, Finding
from app.core.net import Network
from app.core.profiles import thunderbird
from app.core.profiles.common import Export, ExportAccount
from app.core.profiles.store import AccountStore, ProfilesError
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render

FORMATS = ("mobileconfig", "thunderbird", "prf", "reg", "clientconfig", "json", "html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", metavar="ADDRESS", help="the email address")
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="where to write ('-': standard output; default: a file named after the address "
        "in the current folder; thunderbird: a preview of the new prefs.js instead of "
        "changing the profile)",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        type=Path,
        help="thunderbird: the profile folder (or the folder holding profiles.ini); "
        "default: the default profile",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    parser.add_argument(
        "--include-password",
        action="store_true",
        help="write the password into the file (from --password-stdin or the keyring); "
        "anyone with the file can then read it",
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="with --include-password: read the password from standard input (one line)",
    )
    parser.add_argument("--name", metavar="NAME", help="the sender name shown to recipients")
    parser.add_argument(
        "--auth",
        choices=[kind.value for kind in AuthKind],
        help="how the account signs in (default: as detected or saved; with server "
        "switches: password)",
    )
    parser.add_argument("--sign-cert", metavar="FILE", type=Path, help="mobileconfig: sign")
    parser.add_argument("--sign-key", metavar="FILE", type=Path, help="mobileconfig: its key")
    parser.add_argument(
        "--sign-chain", metavar="FILE", type=Path, help="mobileconfig: intermediate certificates"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="language of the file's texts and the instructions (default: the system's)",
    )
    add_server_arguments(parser, verb="use")
    add_network_arguments(parser)


@dataclass
class _Settings:
    config: AccountConfig
    source: str  # "switches", "saved", "detected"
    display_name: str | None = None
    dav_username: str | None = None
    saved_secrets: tuple[str, ...] = ()


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    address = EmailAddress.parse(args.address)
    if args.json and args.output == "-":
        raise InvalidSettingError(
            "--output", Text("export.cli.json-stdout"), code="export.output-conflict"
        )
    if args.password_stdin and not args.include_password:
        raise InvalidSettingError(
            "--password-stdin",
            Text("export.cli.password-stdin-alone"),
            code="export.password-stdin-alone",
        )
    settings = _settings(args, address, language)
    if settings is None:
        print_error(
            "export.nothing-found",
            render(Text("export.cli.nothing-found", {"address": str(address)}), language),
            as_json=args.json,
        )
        return ExitCode.NOT_FOUND
    config = with_usernames(settings.config, args)
    if args.auth:
        config = _with_auth(config, AuthKind(args.auth))
    password = None
    if args.include_password:
        try:
            password = _password(args, address, settings)
        except ProfilesError as error:  # the keyring is missing or failed
            _print_setup_error(args, error, language)
            return ExitCode.ENVIRONMENT
    account = ExportAccount(
        address=address,
        config=config,
        display_name=args.name or settings.display_name,
        dav_username=dav_username(args) or settings.dav_username,
        password=password,
    )
    if args.format == "thunderbird" and args.output is None:
        return _into_thunderbird(args, account, settings, language)
    export = _build(args, account, language)
    target = _write(args, export)
    _report(args, export, target, settings, language)
    return ExitCode.OK


# --- where the settings come from -------------------------------------------------------------


def _settings(
    args: argparse.Namespace, address: EmailAddress, language: Language
) -> _Settings | None:
    if explicit_servers(args):
        auth = AuthKind(args.auth) if args.auth else AuthKind.PASSWORD
        return _Settings(config_from_switches(args, auth), "switches")
    saved = _saved(address, language)
    if saved is not None:
        return saved
    options = configuration.network_options(args, configuration.load(language))
    result = asyncio.run(detect(address, Network(options), language=language))
    if result.best is None:
        return None
    return _Settings(result.best, "detected")


def _saved(address: EmailAddress, language: Language) -> _Settings | None:
    try:
        store = AccountStore()
        account = store.get(str(address))
        notices = store.notices()
    except ProfilesError as error:
        sys.stderr.write(f"mailsetup: {error.render(language)}\n")
        return None
    for notice in notices:
        sys.stderr.write(f"mailsetup: {render(notice.cause, language)}\n")
    if account is None:
        return None
    return _Settings(
        account.config,
        "saved",
        display_name=account.display_name,
        dav_username=account.dav_username,
        saved_secrets=account.secrets,
    )


def _with_auth(config: AccountConfig, auth: AuthKind) -> AccountConfig:
    return replace(config, auth=auth)


def _password(args: argparse.Namespace, address: EmailAddress, settings: _Settings) -> Secret:
    if args.password_stdin:
        return _read_password(sys.stdin)
    if "account" in settings.saved_secrets:
        from app.core.profiles.secrets import load_secret

        secret = load_secret(str(address))
        if secret is not None:
            return secret
    raise InvalidSettingError(
        "--include-password", Text("export.cli.no-password"), code="export.no-password"
    )


def _read_password(stream: TextIO) -> Secret:
    return read_password(stream, Text("export.cli.no-password"), code="export.no-password")


# --- building ---------------------------------------------------------------------------------


def _build(args: argparse.Namespace, account: ExportAccount, language: Language) -> Export:
    builders: dict[str, Callable[[], Export]] = {
        "mobileconfig": lambda: _mobileconfig(args, account, language),
        "thunderbird": lambda: thunderbird.thunderbird_prefs(account, _preview_base(args)),
        "prf": lambda: _prf(account),
        "reg": lambda: _reg(account, language),
        "clientconfig": lambda: _clientconfig(account),
        "json": lambda: _json(account),
        "html": lambda: _html(account, language),
    }
    return builders[args.format]()


def _read_file(path: Path, switch: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidSettingError(
            switch,
            Text("export.cli.file-unreadable", {"path": str(path)}),
            code="export.file-unreadable",
        ) from exc


def _mobileconfig(args: argparse.Namespace, account: ExportAccount, language: Language) -> Export:
    from app.core.profiles.mobileconfig import load_signer, mobileconfig

    signer = None
    if args.sign_cert or args.sign_key or args.sign_chain:
        if not (args.sign_cert and args.sign_key):
            raise InvalidSettingError(
                "--sign-cert", Text("export.cli.sign-both"), code="export.signing"
            )
        signer = load_signer(
            _read_file(args.sign_cert, "--sign-cert"),
            _read_file(args.sign_key, "--sign-key"),
            _read_file(args.sign_chain, "--sign-chain") if args.sign_chain else None,
        )
    return mobileconfig(account, language=language, signer=signer)


def _prf(account: ExportAccount) -> Export:
    from app.core.profiles.outlook_prf import outlook_prf

    return outlook_prf(account)


def _reg(account: ExportAccount, language: Language) -> Export:
    from app.core.profiles.outlook_reg import outlook_reg

    return outlook_reg(account, language)


def _clientconfig(account: ExportAccount) -> Export:
    from app.core.profiles.clientconfig_export import clientconfig_export

    return clientconfig_export(account)


def _json(account: ExportAccount) -> Export:
    from app.core.profiles.json_export import json_export

    return json_export(account)


def _html(account: ExportAccount, language: Language) -> Export:
    from app.core.profiles.settings_sheet import settings_sheet

    return settings_sheet(account, language=language, printed=dt.date.today())


# --- Thunderbird ------------------------------------------------------------------------------


def _profile(args: argparse.Namespace) -> Path:
    """The profile folder: --profile (a profile, or a folder with profiles.ini), else the
    default profile of this computer's Thunderbird."""
    given: Path | None = args.profile
    if given is not None:
        if (given / "profiles.ini").is_file():
            chosen = thunderbird.default_profile(thunderbird.read_profiles_ini(given))
            if chosen is not None:
                return chosen.path
        return given
    found = thunderbird.default_profile(thunderbird.find_profiles())
    if found is None:
        raise _NoProfile()
    return found.path


class _NoProfile(Exception):
    pass


def _preview_base(args: argparse.Namespace) -> str:
    """The prefs.js a preview starts from: the profile's (when one is given), else none."""
    if args.profile is None:
        return ""
    prefs = _profile(args) / thunderbird.PREFS
    if not prefs.exists():
        return ""
    return _read_file(prefs, "--profile").decode("utf-8", "replace")


def _into_thunderbird(
    args: argparse.Namespace, account: ExportAccount, settings: _Settings, language: Language
) -> int:
    try:
        profile = _profile(args)
    except _NoProfile:
        print_error(
            "thunderbird.no-profile",
            render(Text("export.thunderbird.none-found"), language),
            as_json=args.json,
        )
        return ExitCode.NOT_FOUND
    try:
        change = thunderbird.add_account(account, profile)
    except thunderbird.AccountAlreadyThere:
        message = render(Text("export.thunderbird.unchanged", {"profile": str(profile)}), language)
        if args.json:
            print_json(
                {
                    "format": "thunderbird",
                    "changed": False,
                    "profile": str(profile),
                    "source": settings.source,
                }
            )
        else:
            sys.stdout.write(message + "\n")
        return ExitCode.OK
    except thunderbird.ThunderbirdRunning as error:
        _print_setup_error(args, error, language)
        return ExitCode.ENVIRONMENT
    except thunderbird.ThunderbirdError as error:
        _print_setup_error(args, error, language)
        return ExitCode.BAD_INPUT
    backup = "-" if change.backup is None else str(change.backup)
    headline = Text("export.thunderbird.written", {"profile": str(profile), "backup": backup})
    _report(args, change.export, None, settings, language, headline, change.to_dict())
    return ExitCode.OK


def _print_setup_error(args: argparse.Namespace, error: SetupError, language: Language) -> None:
    message = error.render(language)
    if error.fix is not None:
        message += " " + render(error.fix, language)
    print_error(error.code, message, as_json=args.json)


# --- writing and reporting --------------------------------------------------------------------


def _write(args: argparse.Namespace, export: Export) -> Path | None:
    """Write the export: to standard output for ``-``, else atomically to the file, refusing
    to replace one that exists unless --force. Returns the file (None for standard output)."""
    if args.output == "-":
        sys.stdout.buffer.write(export.content)
        sys.stdout.flush()
        return None
    target = Path(args.output) if args.output else Path.cwd() / export.file_name
    if target.is_dir():
        target = target / export.file_name
    if not target.parent.is_dir():
        raise InvalidSettingError(
            "--output",
            Text("export.cli.no-folder", {"path": str(target.parent)}),
            code="export.output-folder",
        )
    if target.exists() and not args.force:
        raise InvalidSettingError(
            "--output",
            Text("export.cli.output-exists", {"path": str(target)}),
            code="export.output-exists",
        )
    write_new_file(target, export.content, replace=args.force)
    return target


def write_new_file(target: Path, data: bytes, *, replace: bool) -> None:
    """``data`` into ``target`` through a temporary file in the same folder (flushed to disk,
    then renamed), so nobody ever sees half a file. Without ``replace`` an existing target is
    never touched: the rename is a hard link, which fails when the name is taken."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            temporary.replace(target)
        else:
            try:
                os.link(temporary, target)
            except FileExistsError as exc:
                raise InvalidSettingError(
                    "--output",
                    Text("export.cli.output-exists", {"path": str(target)}),
                    code="export.output-exists",
                ) from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _report(
    args: argparse.Namespace,
    export: Export,
    target: Path | None,
    settings: _Settings,
    language: Language,
    headline: Text | None = None,
    thunderbird_change: dict[str, object] | None = None,
) -> None:
    findings = [finding.to_dict(language) for finding in export.findings]
    steps = [render(step, language) for step in export.instructions]
    if args.json:
        document: dict[str, object] = {
            "format": export.format,
            "output": None if target is None else str(target),
            "bytes": len(export.content),
            "source": settings.source,
            "findings": findings,
            "instructions": steps,
        }
        if thunderbird_change is not None:
            document["thunderbird"] = thunderbird_change
        print_json(document)
        return
    out = sys.stderr if target is None and thunderbird_change is None else sys.stdout
    if headline is None and target is None:
        headline = Text("export.cli.wrote-stdout", {"format": export.format})
    elif headline is None:
        headline = Text("export.cli.wrote", {"path": str(target)})
    out.write(render(headline, language) + "\n")
    for finding in export.findings:
        _print_finding(finding, language, out)
    if steps:
        out.write(render(Text("export.cli.next-steps"), language) + "\n")
        for number, step in enumerate(steps, 1):
            out.write(f"  {number}. {step}\n")


def _print_finding(finding: Finding, language: Language, out: TextIO) -> None:
    mark = "!" if finding.outcome.is_problem else "-"
    out.write(f"{mark} {render(finding.cause, language)}\n")
    if finding.fix is not None:
        out.write(f"  → {render(finding.fix, language)}\n")
