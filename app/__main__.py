"""Entry point for ``python -m app`` and the ``mailsetup`` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from app.cli.main import run
    from app.core.diagnostics.logfile import setup_logging

    setup_logging()

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
