"""``mailsetup`` with no arguments, end to end: the real console script opens its window on the
test world's X display (seen by a real X client, screenshot kept in tests/artifacts), closes on
Ctrl+Q and on Ctrl+C in the terminal, and without a usable display or Qt it exits 6 with one
clear line instead of Qt's abort and core dump.

The time from starting the process to its window being on the screen is recorded as
"mailsetup window" in the run's summary.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from tests.e2e.conftest import Program, StartMailsetup, XClient
from tests.world.display import XvfbDisplay
from tests.world.fixtures_base import record_startup

TITLE = "Mail Setup Wizard"
WINDOW_DEADLINE = 20.0  # seconds from the start of the process to its window on the screen
PAINT_DEADLINE = 5.0  # from the window on the screen to its content drawn
EXIT_DEADLINE = 5.0  # from a request to close to the process gone
ENVIRONMENT = 6  # ExitCode.ENVIRONMENT, written out: the number is the interface
CANCELLED = 5  # ExitCode.CANCELLED


def _wait_for_window(program: Program, x_client: XClient) -> tuple[int, float]:
    """The id of the program's window once it is on the screen, and the seconds it took."""
    while True:
        windows = x_client.visible_windows(TITLE, program.pid)
        if windows:
            return windows[0], time.monotonic() - program.started
        if not program.running():
            pytest.fail(
                f"mailsetup exited ({program.process.returncode}) without showing its window\n"
                f"{program.output()}"
            )
        if time.monotonic() - program.started > WINDOW_DEADLINE:
            pytest.fail(f"no window {TITLE!r} within {WINDOW_DEADLINE}s\n{program.output()}")
        time.sleep(0.05)


def _distinct_colours(image: QImage, area: QRect) -> int:
    part = image.copy(area).convertToFormat(QImage.Format.Format_RGB32)
    return len(set(memoryview(bytes(part.constBits())).cast("I")))


def _screenshot_when_painted(display: XvfbDisplay, path: Path, area: QRect) -> QImage:
    """Screenshots of the whole screen until the window's area shows drawn content (anti-aliased
    text gives many shades; an unpainted window gives one or two)."""
    deadline = time.monotonic() + PAINT_DEADLINE
    while True:
        path.unlink(missing_ok=True)
        display.screenshot(path)
        image = QImage(str(path))
        assert not image.isNull(), f"{path} is not a readable PNG"
        if _distinct_colours(image, area) > 8:
            return image
        if time.monotonic() > deadline:
            pytest.fail(f"the window stayed blank for {PAINT_DEADLINE}s: see {path}")
        time.sleep(0.1)


def _no_core_dump(program: Program) -> None:
    code = program.process.returncode
    assert code is not None and code >= 0, f"killed by signal {-code}\n{program.output()}"
    cores = sorted(p.name for p in program.stdout_path.parent.glob("core*"))
    assert cores == [], f"core files: {cores}"


def test_mailsetup_opens_its_window_and_ctrl_q_closes_it(
    start_mailsetup: StartMailsetup,
    display_environ: dict[str, str],
    x_client: XClient,
    xvfb_display: XvfbDisplay,
    artifacts_dir: Path,
) -> None:
    program = start_mailsetup([], display_environ)
    window, seconds = _wait_for_window(program, x_client)
    record_startup("mailsetup window", seconds)

    x, y, width, height = x_client.geometry(window)
    assert width >= 320 and height >= 200, (x, y, width, height)  # a real window, not a stub
    area = QRect(x, y, width, height).intersected(
        QRect(0, 0, xvfb_display.width, xvfb_display.height)
    )
    assert not area.isEmpty(), f"the window is off the screen: {(x, y, width, height)}"
    shot = _screenshot_when_painted(xvfb_display, artifacts_dir / "e2e_launch.png", area)
    assert (shot.width(), shot.height()) == (xvfb_display.width, xvfb_display.height)

    x_client.press(window, "ctrl+q")
    assert program.wait(EXIT_DEADLINE) == 0, program.output()
    assert x_client.visible_windows(TITLE) == []
    assert "Traceback" not in program.stderr(), program.output()


def test_ctrl_c_in_the_terminal_closes_the_window(
    start_mailsetup: StartMailsetup, display_environ: dict[str, str], x_client: XClient
) -> None:
    program = start_mailsetup(["gui"], display_environ)
    _wait_for_window(program, x_client)
    # what the terminal does on Ctrl+C: SIGINT to the program's (foreground) process group
    program.process.send_signal(signal.SIGINT)
    assert program.wait(EXIT_DEADLINE) == CANCELLED, program.output()
    assert x_client.visible_windows(TITLE) == []
    assert "Traceback" not in program.stderr(), program.output()


@pytest.mark.parametrize(
    ("args", "extra_env", "unset"),
    [
        ([], {}, "DISPLAY and WAYLAND_DISPLAY are not set"),
        (["gui"], {}, "DISPLAY and WAYLAND_DISPLAY are not set"),
        ([], {"QT_QPA_PLATFORM": "xcb"}, "DISPLAY is not set"),
    ],
)
def test_without_a_display_it_exits_6_with_one_line(
    start_mailsetup: StartMailsetup,
    clean_environ: dict[str, str],
    args: list[str],
    extra_env: dict[str, str],
    unset: str,
) -> None:
    assert "DISPLAY" not in clean_environ and "WAYLAND_DISPLAY" not in clean_environ
    program = start_mailsetup(args, {**clean_environ, **extra_env}, allow_core=True)
    code = program.wait(10.0)
    seconds = time.monotonic() - program.started
    _no_core_dump(program)
    assert code == ENVIRONMENT, program.output()
    lines = program.stderr().splitlines()
    assert len(lines) == 1, program.output()
    assert lines[0].startswith("mailsetup: no graphical display"), lines[0]
    assert unset in lines[0]
    assert "desktop session" in lines[0] and "mailsetup --help" in lines[0]
    assert program.stdout() == ""
    assert seconds < 5.0, f"took {seconds:.1f}s to say there is no display"


def _unused_display_number() -> int:
    for number in range(150, 400):
        if (
            not Path(f"/tmp/.X{number}-lock").exists()
            and not Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise AssertionError("no unused X display number between 150 and 400")


def test_an_unreachable_display_exits_6_instead_of_aborting(
    start_mailsetup: StartMailsetup, clean_environ: dict[str, str]
) -> None:
    """DISPLAY is set but no X server answers there: Qt itself gives up, and would abort."""
    display = f":{_unused_display_number()}"
    env = {**clean_environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    program = start_mailsetup([], env, allow_core=True)
    code = program.wait(20.0)
    _no_core_dump(program)
    assert code == ENVIRONMENT, program.output()
    first, *details = program.stderr().splitlines()
    assert first.startswith("mailsetup: the window cannot open: Qt could not start"), first
    assert display in first and "mailsetup --help" in first
    # Qt's own reasons follow, marked as Qt's
    assert details and all(line.startswith("  Qt: ") for line in details), details
    assert any(f"could not connect to display {display}" in line for line in details), details


def test_a_qt_that_cannot_load_exits_6(
    start_mailsetup: StartMailsetup, display_environ: dict[str, str], tmp_path: Path
) -> None:
    """A PySide6 whose system libraries are missing fails at import; the stand-in package first
    on the path fails the same way, in the real program."""
    broken = tmp_path / "broken-qt" / "PySide6"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        'raise ImportError("libEGL.so.1: cannot open shared object file: No such file")\n'
    )
    env = {**display_environ, "PYTHONPATH": str(broken.parent)}
    program = start_mailsetup([], env, allow_core=True)
    code = program.wait(10.0)
    _no_core_dump(program)
    assert code == ENVIRONMENT, program.output()
    lines = program.stderr().splitlines()
    assert len(lines) == 1, program.output()
    assert lines[0].startswith("mailsetup: the window cannot open: Qt (PySide6)"), lines[0]
    assert "libEGL.so.1" in lines[0]
