"""Fixtures of the test world's X display (Xvfb); see ``tests/world/display.py``.

Qt reads ``QT_QPA_PLATFORM`` and ``DISPLAY`` once, when the QApplication is created, and there is
one QApplication per session: anything that creates it must depend on ``xvfb_display`` first
(``tests/gui/conftest.py`` makes pytest-qt's ``qapp`` do so).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.world.display import XvfbDisplay
from tests.world.fixtures_base import record_startup


@pytest.fixture(scope="session")
def xvfb_display(world_dir: Path) -> Iterator[XvfbDisplay]:
    """Xvfb (1280x800x24); for the rest of the session os.environ points DISPLAY and
    QT_QPA_PLATFORM=xcb at it, sets the Qt WebEngine switches, and points
    DBUS_SESSION_BUS_ADDRESS nowhere (all restored at the session's end)."""
    display = XvfbDisplay(world_dir / "xvfb")
    record_startup("xvfb", display.start())
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("XAUTHORITY", raising=False)
            patch.delenv("WAYLAND_DISPLAY", raising=False)
            patch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
            for name, value in display.environ().items():
                patch.setenv(name, value)
            yield display
    finally:
        display.stop()
