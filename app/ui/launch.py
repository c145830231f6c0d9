"""Starts the Qt application, shows the main window and runs until it closes.

- The application carries the program's identity: name, display name, organisation, version
  and desktop file name (what settings folders, window titles and desktop shells use).
- If Qt cannot start (a display that is set but unreachable, a platform plugin or system
  library missing), Qt would abort the process; ``launch`` turns that into one line on stderr
  and exit code 6 (``ExitCode.ENVIRONMENT``) instead.
- Ctrl+C in the terminal closes the program with exit code 5 (``ExitCode.CANCELLED``): Python
  runs its signal handlers only between its own bytecodes, so a socket that the C-level
  handler writes to (``signal.set_wakeup_fd``) wakes the Qt event loop for it.

Importing this module imports PySide6: ``ImportError`` here means Qt cannot be used at all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import (
    QMessageLogContext,
    QSocketNotifier,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from app import __version__
from app.cli.exitcodes import ExitCode
from app.cli.gui import ADVICE
from app.cli.output import print_error
from app.ui.main_window import MainWindow

APPLICATION_NAME = "mailsetup"  # settings and data folders; the X11 window class
DISPLAY_NAME = "Mail Setup Wizard"  # what people see (window titles end with it)
ORGANIZATION_NAME = "mailsetup"
DESKTOP_FILE_NAME = "mailsetup"  # mailsetup.desktop: lets Wayland shells match icon and name


class _StartupMessages:
    """Qt's messages while the QApplication is created: kept, and shown if Qt gives up."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        category = context.category or "default"
        text = message.strip()
        line = text if category == "default" else f"{category}: {text}"
        if kind != QtMsgType.QtFatalMsg:
            self.lines.append(line)
            return
        # Qt aborts as soon as this returns: report and leave first, without a core dump.
        platform = os.environ.get("QT_QPA_PLATFORM") or "default"
        display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or "none"
        print_error(
            "no-display",
            f"the window cannot open: Qt could not start its display platform "
            f"(QT_QPA_PLATFORM={platform}, display {display}). {ADVICE}",
            as_json=False,
        )
        details = [*self.lines, text.splitlines()[0] if text else ""]
        sys.stderr.write("".join(f"  Qt: {detail}\n" for detail in details if detail))
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(ExitCode.ENVIRONMENT)

    def replay(self) -> None:
        """Show the kept messages, as Qt would have, once the start succeeded."""
        for line in self.lines:
            sys.stderr.write(f"{line}\n")
        sys.stderr.flush()


def create_application(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    messages = _StartupMessages()
    qInstallMessageHandler(messages)
    try:
        app = QApplication(argv)
    finally:
        qInstallMessageHandler(None)  # back to Qt's own handler
    messages.replay()
    return app


def identify(app: QApplication) -> None:
    app.setApplicationName(APPLICATION_NAME)
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_FILE_NAME)


def _exit_on_interrupt(app: QApplication) -> Callable[[], None]:
    """Make Ctrl+C (SIGINT) end the event loop with ``CANCELLED``; returns the undo."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def wake() -> None:  # running any Python lets the interpreter call the pending handler
        with contextlib.suppress(BlockingIOError):
            reader.recv(64)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        app.exit(ExitCode.CANCELLED)

    notifier.activated.connect(wake)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous_handler = signal.signal(signal.SIGINT, interrupted)

    def undo() -> None:
        signal.signal(signal.SIGINT, previous_handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()

    return undo


def launch(argv: list[str] | None = None) -> int:
    """Run the window until it closes; returns the exit code."""
    # "mailsetup" also under ``python -m app``: Qt names the X11 window class after argv[0]
    app = create_application(["mailsetup"] if argv is None else argv)
    identify(app)
    window = MainWindow()
    undo = _exit_on_interrupt(app)
    try:
        window.show()
        return int(app.exec())
    finally:
        undo()
