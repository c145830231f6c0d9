"""The wizard's window over the flow: the pages shown follow the flow's walks (the same walks
tests/unit/test_flow.py checks without Qt), Back keeps what was typed, Enter and Esc work, Cancel
asks once something was entered, work still running when a page is left is cancelled, the window
size is remembered, the language switch rebuilds the pages, and every focusable control of every
page has an accessible name."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.core.checks.base import Secret
from app.core.checks.base import Step as CheckStep
from app.core.checks.runner import VerifyResult
from app.core.discovery.engine import DetectionResult, SourceEvent
from app.core.flow import Flow, FlowContext, Step, WizardState
from app.core.flow.services import WizardServices
from app.core.model import EmailAddress, Protocol
from app.core.texts import Language
from app.ui.wizard.page import is_dark, problem_colour
from app.ui.wizard.window import WizardWindow
from tests.unit.test_flow import EXPECTED_STEPS, WALKS


class WaitingServices(WizardServices):
    """Services whose work never ends by itself: the walk moves on while it runs, so leaving a
    page must cancel it (counted in ``cancelled``)."""

    def __init__(self, base: WizardServices) -> None:
        super().__init__(net_options=base.net_options, config=base.config, store=base.store)
        self.started: list[str] = []
        self.cancelled: list[str] = []

    async def _wait(self, name: str) -> Any:
        self.started.append(name)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise

    async def find(
        self,
        address: EmailAddress,
        language: Language,
        on_event: Callable[[SourceEvent], None] | None = None,
    ) -> DetectionResult:
        result: DetectionResult = await self._wait("find")
        return result

    async def check(
        self,
        state: WizardState,
        secret: Secret | None,
        language: Language,
        on_step: Callable[[Protocol, CheckStep], None] | None = None,
    ) -> VerifyResult:
        result: VerifyResult = await self._wait("check")
        return result

    async def save(self, state: WizardState, secret: Secret | None) -> str:
        result: str = await self._wait("save")
        return result


@pytest.fixture
def make_window(
    qtbot: QtBot, qt_loop: object, wizard_services: WizardServices, qsettings: QSettings
) -> Iterator[Callable[..., WizardWindow]]:
    made: list[WizardWindow] = []

    def make(
        services: WizardServices | None = None,
        context: FlowContext | None = None,
        language: Language = "en",
    ) -> WizardWindow:
        window = WizardWindow(
            services or wizard_services,
            context=context or FlowContext(),
            language=language,
            settings=qsettings,
        )
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()  # (keyboard shortcuts act in the active window)
        qtbot.waitActive(window)
        made.append(window)
        return window

    yield make
    for window in made:  # (not qtbot.addWidget: its closing would ask "Stop setting up?")
        window._closing_confirmed = True
        window.close()
        window.deleteLater()


def _shown_step(window: WizardWindow) -> Step:
    current = window.stack.currentWidget()
    assert current is window.page
    assert current.isVisible()
    return window.page.step


@pytest.mark.parametrize("name", sorted(WALKS))
def test_the_pages_shown_follow_the_flows_walk(
    name: str,
    make_window: Callable[..., WizardWindow],
    wizard_services: WizardServices,
    qtbot: QtBot,
) -> None:
    walk = WALKS[name]()
    services = WaitingServices(wizard_services)
    window = make_window(services, context=walk.flows[0].state.context)
    shown = [_shown_step(window)]
    for answer in walk.answers:
        assert window.submit(answer), f"the flow refused {answer!r}"
        qtbot.wait(1)
        shown.append(_shown_step(window))
    assert shown == EXPECTED_STEPS[name]
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=2000)
    # every piece of work a page started was cancelled when the walk left that page
    assert sorted(services.cancelled) == sorted(services.started)


def test_back_keeps_what_was_typed_and_enter_continues(
    make_window: Callable[..., WizardWindow], wizard_services: WizardServices, qtbot: QtBot
) -> None:
    window = make_window(WaitingServices(wizard_services))
    page = window.page
    assert not window.next_button.isEnabled()  # nothing typed yet
    address = page.findChild(QWidget, "address")
    name = page.findChild(QWidget, "displayName")
    assert address is not None and name is not None
    QTest.keyClicks(address, "taro@example.com")
    name.insert("山田 太郎")  # type: ignore[attr-defined]  # (QTest types Latin keys only)
    assert window.next_button.isEnabled()
    QTest.keyClick(name, Qt.Key.Key_Return)
    assert window.flow.step is Step.FINDING
    assert window.back_button.isVisible() and window.back_button.isEnabled()
    window.back_button.click()
    assert _shown_step(window) is Step.WELCOME
    fields = {field.objectName(): field.text() for field in window.page.findChildren(QLineEdit)}
    assert fields["address"] == "taro@example.com"
    assert fields["displayName"] == "山田 太郎"


def test_a_refused_answer_stays_on_the_page_and_says_why(
    make_window: Callable[..., WizardWindow], qtbot: QtBot
) -> None:
    window = make_window()
    address = window.page.findChild(QWidget, "address")
    QTest.keyClicks(address, "taro@@example")  # type: ignore[arg-type]
    window.next_button.click()
    assert window.flow.step is Step.WELCOME
    problem = window.page.findChild(QWidget, "addressProblem")
    assert problem is not None and problem.isVisible()
    assert problem.text()  # type: ignore[attr-defined]


def test_cancel_closes_at_once_before_anything_was_entered(
    make_window: Callable[..., WizardWindow], qtbot: QtBot
) -> None:
    window = make_window()
    window.cancel_button.click()  # (Esc, typed for real, is in tests/e2e/test_wizard.py)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def _answer_box(button_text: str) -> list[str]:
    """Click ``button_text`` on the confirmation box as soon as it shows; what it said."""
    said: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        said.append(box.text())
        for button in box.buttons():
            if button.text() == button_text:
                button.click()
                return

    QTimer.singleShot(20, click)
    return said


def test_cancel_asks_once_something_was_entered_and_stop_cancels_running_work(
    make_window: Callable[..., WizardWindow], wizard_services: WizardServices, qtbot: QtBot
) -> None:
    services = WaitingServices(wizard_services)
    window = make_window(services)
    QTest.keyClicks(window.page.findChild(QLineEdit, "address"), "taro@example.com")  # type: ignore[arg-type]
    window.next_button.click()
    qtbot.waitUntil(lambda: services.started == ["find"], timeout=2000)
    assert window.tasks.busy and window.cancel_button.text() == "Stop"
    window.cancel_button.click()  # stops the work, the window stays
    qtbot.waitUntil(lambda: services.cancelled == ["find"], timeout=2000)
    assert window.isVisible() and window.flow.step is Step.FINDING
    said = _answer_box("Keep going")
    window.cancel_button.click()
    assert said and window.isVisible()
    said = _answer_box("Stop")
    window.cancel_button.click()
    assert said == ["Stop setting up this account?"]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_the_window_size_is_remembered(
    make_window: Callable[..., WizardWindow], qsettings: QSettings, qtbot: QtBot
) -> None:
    window = make_window()
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: window.width() == 1000, timeout=2000)
    window.close()
    again = make_window()
    assert (again.width(), again.height()) == (1000, 700)


def _focusable(page: QWidget) -> list[QWidget]:
    return [
        widget
        for widget in page.findChildren(QWidget)
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisibleTo(page)
    ]


def _states_for_every_step() -> dict[Step, Flow]:
    found: dict[Step, Flow] = {}
    for name in sorted(WALKS):
        for flow in WALKS[name]().flows:
            found.setdefault(flow.step, flow)
    return found


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_control_of_every_page_has_an_accessible_name(
    language: Language,
    make_window: Callable[..., WizardWindow],
    wizard_services: WizardServices,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    flows = _states_for_every_step()
    assert set(flows) == set(Step)
    window = make_window(WaitingServices(wizard_services), language=language)
    unnamed: list[str] = []
    for step, flow in flows.items():
        from dataclasses import replace

        state = replace(flow.state, language=language)
        window.show_flow(Flow(state, flow.history))
        qtbot.wait(5)
        for widget in [*_focusable(window.page), window.next_button, window.cancel_button]:
            if not widget.isVisible():
                continue
            name = widget.accessibleName()
            if not name and isinstance(widget, QAbstractButton | QLabel):
                name = widget.text().replace("&", "")  # what screen readers read for these
            if not name.strip():
                unnamed.append(f"{step.value}: {type(widget).__name__} {widget.objectName()!r}")
        if language == "ja":  # the window's own words are Japanese on every page
            for widget in (window.next_button, window.cancel_button, window.back_button):
                if widget.isVisible():
                    assert not widget.text().isascii(), f"{step.value}: {widget.text()!r}"
    assert unnamed == []


def _dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#202124"),
        (roles.WindowText, "#e8eaed"),
        (roles.Base, "#2b2c2f"),
        (roles.AlternateBase, "#26272a"),
        (roles.Text, "#e8eaed"),
        (roles.Button, "#303134"),
        (roles.ButtonText, "#e8eaed"),
        (roles.Highlight, "#8ab4f8"),
        (roles.HighlightedText, "#202124"),
        (roles.Link, "#8ab4f8"),
        (roles.PlaceholderText, "#9aa0a6"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


def test_every_page_in_a_dark_palette(
    make_window: Callable[..., WizardWindow],
    wizard_services: WizardServices,
    qapp: QApplication,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    """Screenshots of every page in a dark palette (to look at), and the window's own colours
    follow it: problems are drawn in a red that reads on dark, never the light theme's."""
    style, palette = qapp.style().name(), qapp.palette()
    folder = artifacts_dir / "wizard-dark"
    folder.mkdir(parents=True, exist_ok=True)
    qapp.setStyle("Fusion")
    qapp.setPalette(_dark_palette())
    try:
        window = make_window(WaitingServices(wizard_services))
        QTest.keyClicks(window.page.findChild(QLineEdit, "address"), "taro@@example")  # type: ignore[arg-type]
        window.next_button.click()
        problem = window.page.findChild(QLabel, "addressProblem")
        assert problem is not None and problem.isVisible()
        assert problem_colour(problem) == problem_colour(problem, warning=False)
        assert is_dark(problem) and "#ff8a80" in problem.styleSheet()
        window.grab().save(str(folder / "00-welcome-problem.png"))
        for index, (step, flow) in enumerate(sorted(_states_for_every_step().items()), 1):
            window.show_flow(flow)
            qtbot.wait(20)
            assert window.title.palette().color(QPalette.ColorRole.WindowText).lightness() > 128
            assert window.grab().save(str(folder / f"{index:02d}-{step.value}.png"))
    finally:
        qapp.setPalette(palette)
        qapp.setStyle(style)


def test_the_organisations_product_name_and_logo(
    make_window: Callable[..., WizardWindow], wizard_services: WizardServices, tmp_path: Path
) -> None:
    """What IT sets in [branding] is what the window shows: its title and the logo above the
    steps; without it, the program's own name and no logo."""
    from dataclasses import replace

    from PySide6.QtGui import QImage

    plain = make_window(wizard_services)
    assert plain.windowTitle() == "Mail Setup Wizard" and plain.logo.isHidden()
    image = QImage(200, 100, QImage.Format.Format_RGB32)
    image.fill(QColor("#0b5cad"))
    logo = tmp_path / "contoso.png"
    assert image.save(str(logo))
    config = wizard_services.config.override("branding.product_name", "Contoso Mail Setup")
    config = config.override("branding.logo", str(logo))
    branded = make_window(replace(wizard_services, config=config))
    assert branded.windowTitle() == "Contoso Mail Setup"
    assert branded.logo.isVisible()
    shown = branded.logo.pixmap()
    assert shown.width() / shown.devicePixelRatio() == 120  # scaled to fit, shape kept
