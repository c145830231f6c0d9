"""``mailsetup signout ADDRESS``: forget a mailbox's Microsoft sign-in (its tokens included).

Implemented with ``signin`` in :mod:`app.cli.signin`; this module exists because each
subcommand is a module of its own name (``app.cli.main``).
"""

from __future__ import annotations

from app.cli.signin import add_signout_arguments as add_arguments
from app.cli.signin import run_signout as run

__all__ = ["add_arguments", "run"]
