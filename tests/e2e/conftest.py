"""End-to-end tests run the REAL program: the ``mailsetup`` console script of this venv, as a
subprocess, with a clean environment (HOME and the XDG folders in a temporary folder, no session
bus), on the test world's Xvfb display when a test asks for one.

Fixtures:
- ``mailsetup_command`` (session): the console script's path;
- ``clean_environ`` (function): an environment without any display;
- ``display_environ`` (function): ``clean_environ`` plus the Xvfb display (``QT_QPA_PLATFORM=xcb``);
- ``start_mailsetup`` (function): ``start_mailsetup(args, env) -> Program``; every program
  started is stopped (its whole process group) when the test ends;
- ``x_client`` (session): ``XClient``, a real X client (``xdotool``) on the Xvfb display that
  finds windows and types keys the way a person would.

Tests that use the display are marked ``gui``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.world.display import XvfbDisplay

_HERE = Path(__file__).resolve().parent
_REGEX_SPECIAL = frozenset(".[]()*+?{}|^$\\")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.resolve().parents and "xvfb_display" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.gui)


@dataclass
class Program:
    """One started ``mailsetup``, its output in files."""

    process: subprocess.Popen[bytes]
    started: float  # time.monotonic() just before the process was created
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float) -> int:
        """The exit code; fails the test if the program has not exited within ``timeout``."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"mailsetup did not exit within {timeout}s\n{self.output()}")

    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", "replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", "replace")

    def output(self) -> str:
        return f"--- stdout\n{self.stdout()}--- stderr\n{self.stderr()}"

    def stop(self) -> None:
        """Terminate the program's whole process group, politely then not."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


class StartMailsetup:
    """Starts ``mailsetup`` in its own session (so its process group can be stopped whole)."""

    def __init__(self, command: Path, directory: Path) -> None:
        self.command = command
        self.directory = directory
        self.programs: list[Program] = []

    def __call__(
        self, args: Sequence[str], env: dict[str, str], *, allow_core: bool = False
    ) -> Program:
        """``allow_core`` lifts the core-size limit, so that a crash would leave a core file in
        ``self.directory`` (the working directory) for the test to find."""
        number = len(self.programs)
        stdout_path = self.directory / f"mailsetup-{number}.stdout"
        stderr_path = self.directory / f"mailsetup-{number}.stderr"
        argv = [str(self.command), *args]
        if allow_core:
            argv = ["sh", "-c", 'ulimit -S -c "$(ulimit -H -c)"; exec "$@"', "sh", *argv]
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            started = time.monotonic()
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=self.directory,
                start_new_session=True,
            )
        program = Program(process, started, stdout_path, stderr_path)
        self.programs.append(program)
        return program

    def stop_all(self) -> None:
        for program in self.programs:
            program.stop()


class XClient:
    """A real X client on the test display (``xdotool``), bounded in time."""

    def __init__(self, display: XvfbDisplay, xdotool: str) -> None:
        self.display = display
        self.xdotool = xdotool

    def _run(self, *args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DISPLAY": self.display.display}
        try:
            return subprocess.run(
                [self.xdotool, *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"xdotool {' '.join(args)} hung for {timeout}s")

    def visible_windows(self, title: str, pid: int | None = None) -> list[int]:
        """Ids of the mapped windows whose title is exactly ``title`` (and, with ``pid``, that
        belong to that process, by the ``_NET_WM_PID`` Qt sets)."""
        pattern = "".join(f"\\{c}" if c in _REGEX_SPECIAL else c for c in title)
        result = self._run("search", "--onlyvisible", "--name", f"^{pattern}$")
        # xdotool exits 1 when nothing matches; its match ignores case, the check below does not
        found = [int(line) for line in result.stdout.split() if line.isdigit()]
        return [
            window
            for window in found
            if self.title(window) == title and (pid is None or self.pid(window) == pid)
        ]

    def pid(self, window: int) -> int | None:
        result = self._run("getwindowpid", str(window))
        text = result.stdout.strip()
        return int(text) if result.returncode == 0 and text.isdigit() else None

    def title(self, window: int) -> str:
        result = self._run("getwindowname", str(window))
        return result.stdout.rstrip("\n") if result.returncode == 0 else ""

    def geometry(self, window: int) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` of a window on the screen."""
        result = self._run("getwindowgeometry", "--shell", str(window))
        values = dict(
            line.split("=", 1) for line in result.stdout.splitlines() if "=" in line.strip()
        )
        if result.returncode != 0 or not {"X", "Y", "WIDTH", "HEIGHT"} <= values.keys():
            pytest.fail(f"no geometry for window {window}: {result.stdout}{result.stderr}")
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def press(self, window: int, keys: str) -> None:
        """Give ``window`` the keyboard focus, then type ``keys`` (``"ctrl+q"``) through XTEST,
        as a keyboard would: the events are real, not synthetic ones Qt could tell apart."""
        focus = self._run("windowfocus", "--sync", str(window))
        assert focus.returncode == 0, focus.stderr
        typed = self._run("key", "--clearmodifiers", keys)
        assert typed.returncode == 0, typed.stderr

    def type_text(self, window: int, text: str) -> None:
        """Type ``text`` into ``window`` key by key, as a person at the keyboard would."""
        focus = self._run("windowfocus", "--sync", str(window))
        assert focus.returncode == 0, focus.stderr
        typed = self._run("type", "--delay", "12", text)
        assert typed.returncode == 0, typed.stderr


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


@pytest.fixture(scope="session")
def mailsetup_command() -> Path:
    """The ``mailsetup`` console script installed in this venv (``pip install -e``)."""
    command = Path(sys.executable).parent / "mailsetup"
    if not command.is_file():
        pytest.fail(f"{command} is missing: install the project into the venv (make)")
    return command


@pytest.fixture
def clean_environ(tmp_path: Path) -> dict[str, str]:
    """A user's environment with nothing of ours in it, and no display at all."""
    home = _private_dir(tmp_path / "home")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(_private_dir(home / ".config")),
        "XDG_DATA_HOME": str(_private_dir(home / ".local" / "share")),
        "XDG_STATE_HOME": str(_private_dir(home / ".local" / "state")),
        "XDG_CACHE_HOME": str(_private_dir(home / ".cache")),
        "XDG_RUNTIME_DIR": str(_private_dir(tmp_path / "runtime")),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-session-bus'}",
    }


@pytest.fixture
def display_environ(clean_environ: dict[str, str], xvfb_display: XvfbDisplay) -> dict[str, str]:
    """``clean_environ`` on the Xvfb display (``DISPLAY``, ``QT_QPA_PLATFORM=xcb``, no bus)."""
    return {**clean_environ, **xvfb_display.environ()}


@pytest.fixture
def start_mailsetup(mailsetup_command: Path, tmp_path: Path) -> Iterator[StartMailsetup]:
    workdir = _private_dir(tmp_path / "work")
    starter = StartMailsetup(mailsetup_command, workdir)
    try:
        yield starter
    finally:
        starter.stop_all()


@pytest.fixture(scope="session")
def x_client(xvfb_display: XvfbDisplay) -> XClient:
    xdotool = shutil.which("xdotool")
    if xdotool is None:
        pytest.fail("xdotool is missing: install it (scripts/install-system-deps.sh)")
    return XClient(xvfb_display, xdotool)
