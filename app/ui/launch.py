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
    QCoreApplication,
    QMessageLogContext,
    QSocketNotifier,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from app import __version__
from app.cli.exitcodes import ExitCode
from app.cli.gui import ADVICE
from app.cli.output import print_error
from app.core.flow.services import WizardServices

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
    # Qt WebEngine is loaded only when a page needs it, after the application exists: it asks
    # for OpenGL contexts shared with the application's, which must be set up front.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
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


def launch(services: WizardServices | None = None, argv: list[str] | None = None) -> int:
    """Run the wizard's window until it closes; returns the exit code.

    The asyncio event loop is qasync's, driven by Qt's: the core's async work (detection,
    checks, sign-in) runs on it while the window stays responsive."""
    import asyncio

    import qasync

    from app.ui.wizard.window import WizardWindow

    # "mailsetup" also under ``python -m app``: Qt names the X11 window class after argv[0]
    app = create_application(["mailsetup"] if argv is None else argv)
    identify(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = WizardWindow(services or WizardServices())
    undo = _exit_on_interrupt(app)
    try:
        window.show()
        _startup_mark()
        code = int(loop.run_forever() or 0)  # app.exec(), with the asyncio loop running
    finally:
        undo()
        window.deleteLater()
        loop.close()
        asyncio.set_event_loop(None)
    return code


def _startup_mark() -> None:
    """With ``MAILSETUP_STARTUP_MARK`` set, print when the first page is on screen: the time
    since the process started and the memory then (what the start-up figures are read from)."""
    if not os.environ.get("MAILSETUP_STARTUP_MARK"):
        return
    import resource
    import time

    from PySide6.QtCore import QTimer

    def mark() -> None:
        since = time.time() - _process_start()
        rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sys.stderr.write(
            f"mailsetup: first page shown after {since:.3f} s, max RSS {rss_kib} KiB\n"
        )
        sys.stderr.flush()

    QTimer.singleShot(0, mark)


def _process_start() -> float:
    """When this process started (seconds since the epoch), from /proc on Linux."""
    import time

    try:
        from pathlib import Path

        ticks = int(Path("/proc/self/stat").read_text("ascii").rsplit(")", 1)[1].split()[19])
        up = float(Path("/proc/uptime").read_text("ascii").split()[0])
        return time.time() - up + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time()
