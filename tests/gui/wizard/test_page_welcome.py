"""The welcome page: the address is checked as it is typed, never while an input method is
composing; full-width input is accepted; a likely typo offers "Did you mean …?"."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from app.core.flow import AddressEntered, Flow, Step, WizardState
from app.ui.wizard.page import WizardPage
from app.ui.wizard.pages.welcome import CHECK_DELAY_MS, WelcomePage

ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]


def _compose(field: QLineEdit, preedit: str, commit: str = "") -> None:
    """What an input method sends: text being composed (``preedit``), or text committed."""
    event = QInputMethodEvent(preedit, [])
    if commit:
        event.setCommitString(commit)
    QCoreApplication.sendEvent(field, event)


def _parts(page: WizardPage) -> tuple[QLineEdit, QLabel, QPushButton]:
    field = page.findChild(QLineEdit, "address")
    problem = page.findChild(QLabel, "addressProblem")
    suggestion = page.findChild(QPushButton, "suggestion")
    assert field is not None and problem is not None and suggestion is not None
    return field, problem, suggestion


def test_nothing_is_checked_while_an_input_method_is_composing(
    show_page: ShowPage, qtbot: QtBot
) -> None:
    page = show_page(WelcomePage, WizardState(language="ja"))
    field, problem, _suggestion = _parts(page)
    field.setFocus()
    field.setText("taro@")
    _compose(field, "やまだ")  # being composed: not yet part of the address
    qtbot.wait(CHECK_DELAY_MS + 200)
    assert problem.isHidden()
    assert page.answer() is None  # Continue waits for the composition to end
    _compose(field, "", commit="example")  # committed as typed (Latin letters)
    field.insert(".jp")
    field.textEdited.emit(field.text())
    qtbot.wait(CHECK_DELAY_MS + 200)
    assert problem.isHidden()
    assert page.answer() == AddressEntered("taro@example.jp", "")


def test_a_malformed_address_is_explained_after_a_pause(show_page: ShowPage, qtbot: QtBot) -> None:
    page = show_page(WelcomePage, WizardState())
    field, problem, _suggestion = _parts(page)
    field.setText("taro@@example.jp")
    field.textEdited.emit(field.text())
    assert problem.isHidden()  # not while typing
    qtbot.waitUntil(problem.isVisible, timeout=CHECK_DELAY_MS * 4)
    assert problem.text()


def test_full_width_input_is_accepted_as_the_address_it_means(show_page: ShowPage) -> None:
    page = show_page(WelcomePage, WizardState())
    field, _problem, _suggestion = _parts(page)
    field.setText("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ")
    answer = page.answer()
    assert answer is not None
    flow = Flow.start().advance(answer)
    assert flow.step is Step.FINDING
    assert flow.state.address is not None and str(flow.state.address) == "taro@example.jp"


def test_a_likely_typo_offers_the_address_meant(show_page: ShowPage, qtbot: QtBot) -> None:
    page = show_page(WelcomePage, WizardState())
    field, _problem, suggestion = _parts(page)
    field.setText("taro@gmial.com")
    field.textEdited.emit(field.text())
    qtbot.waitUntil(suggestion.isVisible, timeout=CHECK_DELAY_MS * 4)
    assert "taro@gmail.com" in suggestion.text()
    suggestion.click()
    assert field.text() == "taro@gmail.com" and suggestion.isHidden()
