"""The main window on a real X display: product name and version, accessible labels, and
screenshots of the window and of the whole screen, kept in tests/artifacts for a person to see."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app import __version__
from app.ui.main_window import MainWindow
from tests.world.display import XvfbDisplay


def _distinct_colours(image: QImage, area: QRect | None = None) -> int:
    if area is not None:
        image = image.copy(area)
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = bytes(image.constBits())
    return len(set(memoryview(data).cast("I")))


def _shown_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.move(40, 40)
    window.show()
    qtbot.waitExposed(window, timeout=5000)
    return window


def test_main_window_shows_the_product_and_its_version(qtbot: QtBot) -> None:
    window = _shown_window(qtbot)
    name = window.findChild(QLabel, "productName")
    version = window.findChild(QLabel, "productVersion")
    assert name is not None and version is not None
    assert name.text() == "Mail Setup Wizard"
    assert version.text() == f"Version {__version__}"
    assert name.isVisible() and version.isVisible()
    assert window.windowTitle() == "Mail Setup Wizard"


def test_every_label_has_an_accessible_name(qtbot: QtBot) -> None:
    window = _shown_window(qtbot)
    labels = window.findChildren(QLabel)
    assert labels
    unnamed = [label.objectName() or label.text() for label in labels if not label.accessibleName()]
    assert unnamed == []


def test_screenshots_of_the_window_and_the_screen(
    qtbot: QtBot, xvfb_display: XvfbDisplay, artifacts_dir: Path
) -> None:
    window = _shown_window(qtbot)
    qtbot.wait(100)  # let the window paint before the X server is read

    window_png = artifacts_dir / "main_window.png"
    window_png.unlink(missing_ok=True)
    assert window.grab().save(str(window_png), "PNG")
    screen_png = xvfb_display.screenshot(artifacts_dir / "main_window_screen.png")

    window_image = QImage(str(window_png))
    screen_image = QImage(str(screen_png))
    assert (window_image.width(), window_image.height()) == (window.width(), window.height())
    assert (screen_image.width(), screen_image.height()) == (
        xvfb_display.width,
        xvfb_display.height,
    )
    # anti-aliased text gives many shades; an empty or black window gives one or two
    assert _distinct_colours(window_image) > 8
    on_screen = QRect(window.mapToGlobal(window.rect().topLeft()), window.size())
    assert _distinct_colours(screen_image, on_screen) > 8
