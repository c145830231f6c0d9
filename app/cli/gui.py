"""``mailsetup gui`` (also what ``mailsetup`` with no arguments does): open the window.

Before Qt is touched, ``display_problem`` checks the environment: on Linux and the BSDs, Qt
aborts the whole process (a core dump) when it finds no display, so a missing one is reported
here as one line on stderr and exit code 6 (``ExitCode.ENVIRONMENT``). Failures the environment
cannot show (a display that is set but unreachable, a missing system library) are caught when
the application starts, in ``app.ui.launch``, with the same exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from app.cli.exitcodes import ExitCode
from app.cli.output import print_error

# What to do when the window cannot open; ends every such message.
ADVICE = (
    "Run mailsetup inside a desktop session, "
    "or use its command-line subcommands (see mailsetup --help)."
)

# Systems where Qt needs an X11 or Wayland display (Windows and macOS always have one).
_DISPLAY_SYSTEMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly")

# Qt platforms that draw without a display server (framebuffer, DRM, VNC, memory).
_HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
)


def _platforms(value: str) -> list[str]:
    """Platform names in a ``QT_QPA_PLATFORM`` value: ``"wayland;xcb"``, ``"vnc:size=800x600"``."""
    names = (entry.split(":", 1)[0].strip().lower() for entry in value.split(";"))
    return [name for name in names if name]


def display_problem(environ: Mapping[str, str], system: str) -> str | None:
    """Why Qt would find no display here, or None if it may (or if Qt should judge itself).

    ``environ`` is the environment, ``system`` is ``sys.platform``. Only certain failures are
    reported: a platform name this function does not know is left to Qt.
    """
    if not system.startswith(_DISPLAY_SYSTEMS):
        return None
    x11 = bool(environ.get("DISPLAY", "").strip())
    # libwayland connects to WAYLAND_SOCKET, WAYLAND_DISPLAY, or "wayland-0" in a Wayland session
    wayland = (
        bool(environ.get("WAYLAND_DISPLAY", "").strip())
        or bool(environ.get("WAYLAND_SOCKET", "").strip())
        or environ.get("XDG_SESSION_TYPE", "").strip().lower() == "wayland"
    )
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    names = _platforms(requested)
    if not names:  # Qt's own choice: Wayland in a Wayland session, else X11
        if x11 or wayland:
            return None
        return f"no graphical display (DISPLAY and WAYLAND_DISPLAY are not set). {ADVICE}"
    missing: set[str] = set()
    for name in names:
        if name in _HEADLESS_PLATFORMS:
            return None
        if name == "xcb":
            if x11:
                return None
            missing.add("DISPLAY")
        elif name.startswith("wayland"):
            if wayland:
                return None
            missing.add("WAYLAND_DISPLAY")
        else:
            return None  # unknown to us: Qt decides, and app.ui.launch catches its failure
    unset = " or ".join(sorted(missing))
    return f"no graphical display for QT_QPA_PLATFORM={requested} ({unset} is not set). {ADVICE}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from app.cli.netargs import add_network_arguments

    add_network_arguments(parser)


def run(args: argparse.Namespace) -> int:
    problem = display_problem(os.environ, sys.platform)
    if problem is not None:
        print_error("no-display", problem, as_json=False)
        return ExitCode.ENVIRONMENT
    try:
        from app.ui.launch import launch
    except ImportError as exc:  # PySide6 missing, or a system library Qt loads (libEGL, libGL)
        print_error(
            "no-qt",
            f"the window cannot open: Qt (PySide6) or a system library it needs is missing "
            f"({exc}). Reinstall mailsetup, or use its command-line subcommands "
            f"(see mailsetup --help).",
            as_json=False,
        )
        return ExitCode.ENVIRONMENT
    from app.cli import configuration
    from app.core.flow.services import WizardServices
    from app.core.texts import language_from_environment

    switches = argparse.ArgumentParser()  # ``mailsetup`` alone: the switches' defaults
    add_arguments(switches)
    args = argparse.Namespace(**{**vars(switches.parse_args([])), **vars(args)})
    language = language_from_environment()
    config = configuration.load(language)
    services = WizardServices(
        net_options=configuration.network_options(args, config, language), config=config
    )
    return launch(services)
