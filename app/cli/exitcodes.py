"""The exit codes every subcommand uses. Documented in docs/cli.md; never renumber them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success (found, all checks passed, healthy)
    BAD_INPUT = 1  # the user's input was wrong (a malformed address, a missing file)
    USAGE = 2  # argparse's own: unknown switch, missing argument
    CHECKS_FAILED = 3  # checks ran and something failed
    NOT_FOUND = 4  # nothing found (detection found no settings)
    CANCELLED = 5  # cancelled by the user (Ctrl+C, Cancel in a window)
    ENVIRONMENT = 6  # no keyring, no display, invalid configuration
