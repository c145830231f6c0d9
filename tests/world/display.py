"""An X display for GUI tests: Xvfb on a display number it picks itself.

``XvfbDisplay`` starts ``Xvfb -displayfd`` (Xvfb writes the number of a free display once it
accepts clients), a 1280x800x24 screen, no TCP. ``environ()`` gives what Qt needs to use it
(``DISPLAY``, ``QT_QPA_PLATFORM=xcb``, the Qt WebEngine switches from FACTS.md, and a session
bus address that leads nowhere, so no D-Bus session is autolaunched or borrowed), and
``screenshot(path)`` grabs the whole X screen with imagemagick's ``import``, which shows what a
person would see, web views included.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.world.proc import ServerProcess, WorldError


class XvfbDisplay:
    """One Xvfb server; ``start()`` returns once it accepts clients."""

    def __init__(
        self, directory: Path, width: int = 1280, height: int = 800, depth: int = 24
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.width = width
        self.height = height
        self.depth = depth
        self.log = directory / "xvfb.log"
        self.number: int | None = None
        self._displayfd_file = directory / "display-number"
        self._displayfd_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY")}
        self._process = ServerProcess(
            "xvfb",
            [
                "sh",
                "-c",
                'exec Xvfb -displayfd 3 -screen 0 "$1" -nolisten tcp -noreset 3>"$0"',
                str(self._displayfd_file),
                f"{width}x{height}x{depth}",
            ],
            self.log,
            env=env,
            cwd=directory,
        )

    @property
    def display(self) -> str:
        """The DISPLAY value, e.g. ``:3``."""
        if self.number is None:
            raise WorldError("Xvfb is not running")
        return f":{self.number}"

    def _ready(self) -> bool:
        text = self._displayfd_file.read_text("ascii") if self._displayfd_file.exists() else ""
        if not text.endswith("\n") or not text.strip().isdigit():
            return False
        self.number = int(text.strip())
        return True

    def start(self, timeout: float = 20.0) -> float:
        """Start Xvfb; returns the start-up time in seconds."""
        self._process.start(self._ready, timeout=timeout)
        assert self._process.startup_seconds is not None
        return self._process.startup_seconds

    def stop(self) -> None:
        self._process.stop()
        self.number = None

    def alive(self) -> bool:
        return self._process.alive()

    def environ(self) -> dict[str, str]:
        """Variables that send Qt (and Qt WebEngine, and any X client) to this display."""
        return {
            "DISPLAY": self.display,
            "QT_QPA_PLATFORM": "xcb",
            # root cannot use Chromium's sandbox; under Xvfb there is no GPU
            "QTWEBENGINE_DISABLE_SANDBOX": "1",
            "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-gpu",
            # No session bus: without this, libdbus in Qt "autolaunches" one for the X display
            # (dbus-launch, left running after the tests), or Qt joins the real user's bus.
            # A test that needs a bus (the keyring) sets its own private one.
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.directory / 'no-session-bus'}",
        }

    def screenshot(self, path: Path, timeout: float = 20.0) -> Path:
        """Save the whole X screen as a PNG at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "XAUTHORITY"}
        env["DISPLAY"] = self.display
        try:
            result = subprocess.run(
                ["import", "-window", "root", f"png:{path}"],
                env=env,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise WorldError(f"import -window root hung for {timeout}s") from exc
        if result.returncode != 0 or not path.is_file():
            raise WorldError(
                f"screenshot of {self.display} failed ({result.returncode}): "
                f"{result.stderr.decode('utf-8', 'replace')}"
            )
        return path
