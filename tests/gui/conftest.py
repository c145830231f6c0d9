"""GUI tests run on the test world's Xvfb display.

pytest-qt's session-wide ``qapp`` is built from ``qapp_args``; overriding ``qapp_args`` here to
depend on ``xvfb_display`` makes DISPLAY and QT_QPA_PLATFORM=xcb be set before the QApplication
exists. Every test in this folder is marked ``gui`` and checked to be on that display.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from tests.world.ca import TestCA
from tests.world.display import XvfbDisplay
from tests.world.fixtures_base import record_startup
from tests.world.idp import IdentityProvider
from tests.world.idp_http import MICROSOFT_HOSTS
from tests.world.web import WebServer

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


# Names the web views of this session reach at the ``https_server`` (port 443 of each name).
WEB_HOSTS = (
    "sts.corp.test",
    "www.example.test",
    "mfa.example.test",
    "untrusted.example.test",
    "expired.example.test",
    "wronghost.example.test",
)


@pytest.fixture(scope="session")
def webengine_env(
    qapp: QApplication,
    world_dir: Path,
    test_ca: TestCA,
    idp: IdentityProvider,
    https_server: WebServer,
) -> Iterator[str]:
    """Qt WebEngine started for the session; request it before the session's first web page
    (Chromium reads its switches and its NSS database once). It trusts the test CA (an NSS
    database under a HOME of its own, set only while WebEngine starts); reaches Microsoft's
    sign-in host names at ``idp`` and ``WEB_HOSTS`` at ``https_server``, and no other name.
    Yields the host resolver rules."""
    from app.core.net.options import ResolveOverride
    from app.ui import qt_env

    if qt_env.webengine_loaded():
        pytest.fail("Qt WebEngine was loaded before webengine_env could set its environment")
    home = world_dir / "webengine-home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    for args in (
        ["-N", "--empty-password"],
        ["-A", "-t", "C,,", "-n", "mailsetup-test-ca", "-i", str(test_ca.cert_path)],
    ):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *args], check=True, timeout=30)
    overrides = [ResolveOverride(h, 443, "127.0.0.1", idp.port) for h in MICROSOFT_HOSTS]
    overrides += [ResolveOverride(h, 443, "127.0.0.1", https_server.port) for h in WEB_HOSTS]
    rules = qt_env.host_resolver_rules(overrides, block_others=True)
    with pytest.MonkeyPatch.context() as patch:
        flags = qt_env.merge_flags(os.environ.get(qt_env.FLAGS_VARIABLE, ""), rules)
        patch.setenv(qt_env.FLAGS_VARIABLE, flags)
        with pytest.MonkeyPatch.context() as home_patch:  # other tests keep their HOME
            home_patch.setenv("HOME", str(home))
            started = time.monotonic()
            _start_webengine(qapp, https_server)
            record_startup("webengine", time.monotonic() - started)
        yield rules


def _start_webengine(qapp: QApplication, server: WebServer) -> None:
    """Load one page over HTTPS (trusted through the NSS database) so Chromium starts now."""
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

    from tests.world.web import Response

    server.route("/webengine-ready", Response.text("ready"), host=WEB_HOSTS[1])
    profile = QWebEngineProfile()
    page = QWebEnginePage(profile)
    loop = QEventLoop()
    loaded: list[bool] = []
    page.loadFinished.connect(lambda ok: (loaded.append(ok), loop.quit()))
    QTimer.singleShot(30_000, loop.quit)
    page.load(QUrl(f"https://{WEB_HOSTS[1]}/webengine-ready"))
    loop.exec()
    page.deleteLater()
    profile.deleteLater()
    QApplication.sendPostedEvents(None, 0)
    server.unroute("/webengine-ready", host=WEB_HOSTS[1])
    if loaded != [True]:
        pytest.fail(f"Qt WebEngine did not load a page over HTTPS at start-up: {loaded}")
