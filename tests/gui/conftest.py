"""GUI tests run on the test world's Xvfb display.

pytest-qt's session-wide ``qapp`` is built from ``qapp_args``; overriding ``qapp_args`` here to
depend on ``xvfb_display`` makes DISPLAY and QT_QPA_PLATFORM=xcb be set before the QApplication
exists. Every test in this folder is marked ``gui`` and checked to be on that display.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from tests.world.display import XvfbDisplay

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="session")
def qapp_args(xvfb_display: XvfbDisplay) -> list[str]:
    return ["mailsetup-gui-tests"]


@pytest.fixture(scope="session", autouse=True)
def _qt_on_xvfb(xvfb_display: XvfbDisplay, qapp: QApplication) -> XvfbDisplay:
    """Fail loudly if the QApplication was made elsewhere, before the display was set up."""
    platform = qapp.platformName()
    if platform != "xcb":
        pytest.fail(
            f"the QApplication runs on the {platform!r} platform, not on Xvfb: something created "
            "it before tests/gui/conftest.py could set QT_QPA_PLATFORM=xcb and DISPLAY"
        )
    return xvfb_display
