"""The ``mailsetup`` command's basics, run as the real console script (and ``python -m app``)
with no display: ``--version``, ``--help``, argparse's exit code 2 for an unknown switch; and the
pure display check (``app.cli.gui.display_problem``) that decides, before Qt starts, whether the
window can open at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.cli.gui import ADVICE, display_problem

COMMAND = Path(sys.executable).parent / "mailsetup"


def _run(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home)}  # and no display
    return subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(
    "argv",
    [[str(COMMAND), "--version"], [sys.executable, "-m", "app", "--version"]],
    ids=["console-script", "python-m-app"],
)
def test_version(argv: list[str], tmp_path: Path) -> None:
    result = _run(argv, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"mailsetup {__version__}\n"
    assert result.stderr == ""


def test_help(tmp_path: Path) -> None:
    result = _run([str(COMMAND), "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mailsetup")
    assert "gui" in result.stdout  # the subcommands are listed
    assert "--version" in result.stdout
    assert result.stderr == ""


def test_gui_help_does_not_open_a_window(tmp_path: Path) -> None:
    result = _run([str(COMMAND), "gui", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mailsetup gui")


@pytest.mark.parametrize("args", [["--no-such-switch"], ["gui", "--no-such-switch"], ["nope"]])
def test_unknown_arguments_exit_2(args: list[str], tmp_path: Path) -> None:
    result = _run([str(COMMAND), *args], tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("usage: mailsetup")
    assert "mailsetup" in result.stderr.splitlines()[-1]
    assert result.stdout == ""


# --- the display check, a pure function -------------------------------------------------------


@pytest.mark.parametrize(
    "environ",
    [
        {"DISPLAY": ":0"},
        {"WAYLAND_DISPLAY": "wayland-0"},
        {"WAYLAND_SOCKET": "3"},
        {"XDG_SESSION_TYPE": "wayland"},
        {"DISPLAY": "localhost:10.0", "QT_QPA_PLATFORM": "xcb"},
        {"WAYLAND_DISPLAY": "wayland-1", "QT_QPA_PLATFORM": "wayland"},
        {"WAYLAND_DISPLAY": "wayland-1", "QT_QPA_PLATFORM": "wayland-egl"},
        {"DISPLAY": ":1", "QT_QPA_PLATFORM": "wayland;xcb"},
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "minimal"},
        {"QT_QPA_PLATFORM": "vnc:size=800x600"},
        {"QT_QPA_PLATFORM": "eglfs"},
        {"QT_QPA_PLATFORM": "linuxfb:fb=/dev/fb0"},
        {"QT_QPA_PLATFORM": "xcb;OFFSCREEN"},
        {"QT_QPA_PLATFORM": "someone-elses-plugin"},  # unknown here: Qt judges
    ],
)
def test_a_usable_display_is_no_problem(environ: dict[str, str]) -> None:
    assert display_problem(environ, "linux") is None


@pytest.mark.parametrize(
    ("environ", "unset"),
    [
        ({}, "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({"DISPLAY": "", "WAYLAND_DISPLAY": "  "}, "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({"QT_QPA_PLATFORM": " ; "}, "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({"XDG_SESSION_TYPE": "tty"}, "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({"QT_QPA_PLATFORM": "xcb"}, "QT_QPA_PLATFORM=xcb (DISPLAY is not set)"),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, "(DISPLAY is not set)"),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "(WAYLAND_DISPLAY is not set)"),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "(DISPLAY or WAYLAND_DISPLAY is not set)"),
    ],
)
def test_no_display_is_a_problem_on_linux_and_bsd(environ: dict[str, str], unset: str) -> None:
    for system in ("linux", "freebsd14", "openbsd7", "netbsd10"):
        problem = display_problem(environ, system)
        assert problem is not None
        assert problem.startswith("no graphical display")
        assert unset in problem
        assert problem.endswith(ADVICE)
        assert "\n" not in problem


@pytest.mark.parametrize("system", ["win32", "darwin"])
def test_windows_and_macos_always_have_a_display(system: str) -> None:
    assert display_problem({}, system) is None
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}, system) is None


def test_the_advice_names_what_to_do() -> None:
    assert "desktop session" in ADVICE
    assert "mailsetup --help" in ADVICE
