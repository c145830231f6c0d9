"""The ``mailsetup`` command: parses the command line and runs one subcommand.

Each subcommand is a module in this package with ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``; list it in ``SUBCOMMANDS`` to register it. Conventions shared by all
(exit codes, JSON errors, network switches) live in ``exitcodes``, ``output`` and ``netargs``.
"""

from __future__ import annotations

import argparse
import importlib
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

SUBCOMMANDS: tuple[str, ...] = ("gui", "detect")


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"app.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailsetup",
        description="Set up and check mail, calendar and contacts accounts.",
    )
    parser.add_argument("--version", action="version", version=f"mailsetup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = _load(name)
        sub_parser = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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


def exit_code_for(error: SetupError) -> ExitCode:
    """The exit code a subcommand returns when ``error`` ends it (docs/cli.md)."""
    if isinstance(error, CancelledByUser):
        return ExitCode.CANCELLED
    if isinstance(error, ConfigError):
        return ExitCode.ENVIRONMENT
    if isinstance(error, InvalidAddressError | InvalidSettingError):
        return ExitCode.BAD_INPUT
    return ExitCode.CHECKS_FAILED
