"""The program's log file: always on, redacted, rotating, at one documented place per system.

Where (platformdirs' ``user_log_dir("MailSetup")``, ``docs/helpdesk-guide.md``):

- Linux: ``$XDG_STATE_HOME/MailSetup/log/mailsetup.log`` (``~/.local/state/MailSetup/log``);
- macOS: ``~/Library/Logs/MailSetup/mailsetup.log``;
- Windows: ``%LOCALAPPDATA%\\MailSetup\\Logs\\mailsetup.log``.

``MAILSETUP_LOG_DIR`` puts it elsewhere (a helpdesk collecting logs, the tests). The file rotates
at 1 MB and keeps three old files (``mailsetup.log.1`` ... ``.3``). Every record passes the
:class:`~app.core.diagnostics.redact.RedactingFilter` (installed for the whole program by
:func:`~app.core.diagnostics.redact.install_redaction`) before it is written, so no password or
token reaches the file. A log folder that cannot be created leaves the program without a log
file, never without a working program.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Final

from app.core.diagnostics.redact import install_redaction

__all__ = [
    "BACKUP_COUNT",
    "LOG_NAME",
    "MAX_BYTES",
    "current_log_file",
    "log_directory",
    "log_files",
    "setup_logging",
    "stop_logging",
]

LOG_NAME: Final = "mailsetup.log"
MAX_BYTES: Final = 1_000_000
BACKUP_COUNT: Final = 3
_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_ENVIRONMENT: Final = "MAILSETUP_LOG_DIR"

_handler: RotatingFileHandler | None = None


def log_directory() -> Path:
    """The folder of the log file (``MAILSETUP_LOG_DIR``, else the system's per-user log
    folder for "MailSetup")."""
    override = os.environ.get(_ENVIRONMENT)
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("MailSetup", appauthor=False))


def current_log_file() -> Path | None:
    """The file the program logs to now, None before :func:`setup_logging` (or when the log
    folder could not be made)."""
    return None if _handler is None else Path(_handler.baseFilename)


def log_files(directory: Path | None = None) -> list[Path]:
    """The log file and its rotated copies in ``directory`` (default: :func:`log_directory`),
    newest first."""
    folder = directory or log_directory()
    found = [folder / LOG_NAME, *(folder / f"{LOG_NAME}.{n}" for n in range(1, BACKUP_COUNT + 1))]
    return [path for path in found if path.is_file()]


def setup_logging(directory: Path | None = None, *, level: int = logging.INFO) -> Path | None:
    """Log the program's records (logger ``app`` and below, ``level`` and up) to the rotating,
    redacted file in ``directory`` (default :func:`log_directory`). Idempotent: a second call
    for another folder moves the log there. Returns the file, or None when the folder cannot
    be created or written (the program then runs without a log file)."""
    global _handler
    folder = directory or log_directory()
    path = folder / LOG_NAME
    logger = logging.getLogger("app")
    if _handler is not None:
        if Path(_handler.baseFilename) == path.absolute():
            return path
        logger.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    filter_ = install_redaction()
    handler.addFilter(filter_)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    _handler = handler
    return path


def stop_logging() -> None:
    """Close the log file (for tests and before a report copies it)."""
    global _handler
    if _handler is not None:
        logging.getLogger("app").removeHandler(_handler)
        _handler.close()
        _handler = None
