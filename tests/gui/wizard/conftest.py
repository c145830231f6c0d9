"""Fixtures for the wizard's page and window tests: the qasync event loop (running inside
pytest-qt's waits, as in the program), core services aimed at the test world, and a page
context that records the links a page opens instead of opening a browser."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.flow import FlowContext, WizardState
from app.core.flow.services import WizardServices, defaults_config
from app.core.net import NetworkOptions
from app.core.profiles.store import AccountStore
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.tasks import TaskRunner
from app.ui.wizard.vault import SecretVault
from tests.world.ca import TestCA


@pytest.fixture(autouse=True)
def _english_to_begin_with(qapp: QApplication) -> Iterator[None]:
    """Translators are the application's: a test that showed Japanese must not leave them
    installed for the next one."""
    from app.ui.wizard import i18n

    i18n.install("en")
    yield
    i18n.install("en")


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """qasync's event loop, running while Qt's runs (qtbot.wait, waitUntil, waitSignal); put
    back afterwards so that other tests can use asyncio.run."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        for _ in range(5):
            qapp.processEvents()
        asyncio.events._set_running_loop(None)
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        asyncio.set_event_loop(None)
        loop.close()
        # Collected now, in the GUI thread: freed later by a worker thread's garbage collection,
        # the loop's Qt timer would be destroyed outside its thread and fire on freed memory.
        del loop
        gc.collect()


@pytest.fixture
def qsettings(tmp_path: Path) -> Iterator[QSettings]:
    """A settings file of the test's own (window size, language choice)."""
    settings = QSettings(str(tmp_path / "mailsetup.ini"), QSettings.Format.IniFormat)
    yield settings
    settings.sync()


@pytest.fixture
def wizard_services(tmp_path: Path, test_ca: TestCA) -> WizardServices:
    """Services trusting the test CA, saving accounts under the test's folder; no ``--resolve``
    entries (tests add theirs with dataclasses.replace on ``net_options``)."""
    return WizardServices(
        net_options=NetworkOptions(ca_bundles=(test_ca.cert_path,), ispdb_url=None, timeout=5.0),
        config=defaults_config(),
        store=AccountStore(tmp_path / "accounts.json"),
    )


class RecordingContext(PageContext):
    """A page context whose links are only recorded."""

    def open_url(self, url: str) -> None:
        self.opened.append(url)


@pytest.fixture
def page_context(
    qt_loop: qasync.QEventLoop, wizard_services: WizardServices
) -> Iterator[PageContext]:
    tasks = TaskRunner()
    context = RecordingContext(
        services=wizard_services,
        vault=SecretVault(),
        tasks=tasks,
        flow_context=FlowContext(),
    )
    yield context
    tasks.cancel_all()


@pytest.fixture
def show_page(
    qtbot: QtBot, page_context: PageContext
) -> Callable[[type[WizardPage], WizardState], WizardPage]:
    """Make a page of the given class, show it with ``state`` as the window would (show_state,
    then enter) and return it."""

    def make(page_class: type[WizardPage], state: WizardState) -> WizardPage:
        page = page_class(page_context)
        qtbot.addWidget(page)
        page.resize(760, 560)
        page.show()
        page.show_state(state)
        page.enter()
        return page

    return make
