"""``mailsetup gui`` (also what ``mailsetup`` with no arguments does): open the window."""

from __future__ import annotations

import argparse

from app.cli.exitcodes import ExitCode

NAME = "gui"
HELP = "open the setup window (the default when no subcommand is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no switches of its own yet


def run(args: argparse.Namespace) -> int:
    del args
    try:
        from app.ui.launch import launch
    except ImportError as exc:  # Qt missing or its system libraries absent
        from app.cli.output import print_error

        print_error("no-display", f"the window cannot open: {exc}", as_json=False)
        return ExitCode.ENVIRONMENT
    return launch()
