"""The ``mailsetup`` command: parses the command line and runs one subcommand.

Each subcommand is a module in this package with ``add_arguments(parser)`` and
``run(args) -> int``; list it with its one-line help in ``SUBCOMMANDS`` to register it.
Conventions shared by all (exit codes, JSON errors, network switches) live in ``exitcodes``,
``output`` and ``netargs``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from app import __version__
from app.cli.exitcodes import ExitCode
from app.cli.output import print_error
from app.core.errors import (
    CancelledByUser,
    ConfigError,
    InvalidAddressError,
    InvalidSettingError,
    SetupError,
)

# Each subcommand's one-line help, here so that ``--help`` and ``--version`` need not import the
# subcommands (and through them the network stack or Qt): only the one asked for is loaded.
SUBCOMMANDS: dict[str, str] = {
    "gui": "open the setup window (the default when no subcommand is given)",
    "detect": "find the mail, calendar and contacts settings for an email address",
    "verify": "check incoming, outgoing, calendar and contacts servers for real",
    "signin": "sign in to a Microsoft mailbox (the sign-in window, or --system-browser)",
    "signout": "forget a mailbox's Microsoft sign-in and its tokens",
    "admin": "administrator commands: consent-url (the admin-consent link for a tenant)",
    "export": "write an account's settings for a mail program (Apple, Thunderbird, Outlook...)",
    "accounts": "the saved accounts: list, show, verify again, remove (with their secrets)",
    "diagnose": "check everything for an address and write a report for the helpdesk",
    "explain": "explain an error text or code a mail app or server showed",
    "config": "show the configuration in effect: each value, its source, locks, warnings",
}


# Subcommands whose module is not named after them (``app.cli.config_cmd`` for ``config``).
_MODULES: dict[str, str] = {"config": "config_cmd"}


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"app.cli.{_MODULES.get(name, name)}")


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line: the first word that names one."""
    for word in argv:
        if word in SUBCOMMANDS:
            return word
        if not word.startswith("-"):
            return None  # an unknown command: argparse says so
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; the switches of the subcommand named in ``argv`` (all of them when None)."""
    parser = argparse.ArgumentParser(
        prog="mailsetup",
        description="Set up and check mail, calendar and contacts accounts.",
    )
    parser.add_argument("--version", action="version", version=f"mailsetup {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that this installation is complete and works here, then exit "
        "(0: all passed, 6: something is missing or broken)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else _chosen(argv)
    for name, help_text in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == chosen:
            module = _load(name)
            module.add_arguments(sub_parser)
            sub_parser.set_defaults(_module=module)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)  # --version and --help end here, before anything is set up
    _start_logging()
    if args.self_test:
        return int(_load("selftest").run(args))
    module: ModuleType = getattr(args, "_module", None) or _load("gui")
    as_json = bool(getattr(args, "json", False))
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        print_error("cancelled", "cancelled by the user", as_json=as_json)
        return ExitCode.CANCELLED
    except SetupError as exc:
        print_error(exc.code, str(exc), as_json=as_json)
        return exit_code_for(exc)


def _start_logging() -> None:
    """The always-on redacted log file (docs/helpdesk-guide.md). A log that cannot be opened
    (a read-only home, a full disk) never stops the command."""
    try:
        from app.core.diagnostics.logfile import setup_logging

        setup_logging()
    except (ImportError, OSError) as error:  # costs only the log file
        sys.stderr.write(f"mailsetup: no log file: {error}\n")


def exit_code_for(error: SetupError) -> ExitCode:
    """The exit code a subcommand returns when ``error`` ends it (docs/cli.md)."""
    if isinstance(error, CancelledByUser):
        return ExitCode.CANCELLED
    if isinstance(error, ConfigError):
        return ExitCode.ENVIRONMENT
    if isinstance(error, InvalidAddressError | InvalidSettingError):
        return ExitCode.BAD_INPUT
    return ExitCode.CHECKS_FAILED
