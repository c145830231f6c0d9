"""The "Which app will you use?" page: the preselection (installed app, the organisation's
default, the answer given before), the advice that follows the choice as it changes, Apple Mail
on macOS only, the keyboard, and an answer the real flow takes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.core.config.orgsettings import OrganisationSettings
from app.core.flow import (
    AppChosen,
    FlowContext,
    MailApp,
    Platform,
    Problem,
    SignInKind,
    Step,
    WizardState,
    sign_in_kind,
)
from app.core.texts import Text, render
from app.ui.wizard.page import WizardPage
from app.ui.wizard.pages.choose_app import ChooseAppPage
from tests.unit.test_flow import catalog_result, until_app

ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "wizard"
ICLOUD = "taro@icloud.com"
MAILBOX = "taro@mailbox.org"


def at_choose_app(
    address: str = ICLOUD, provider: str = "icloud", context: FlowContext | None = None
) -> WizardState:
    """The state the flow gives the page, after the address and the finding."""
    state = until_app(address, catalog_result(address, provider), context).flow.state
    assert state.step is Step.CHOOSE_APP
    return state


def show(show_page: ShowPage, state: WizardState) -> ChooseAppPage:
    page = show_page(ChooseAppPage, state)
    assert isinstance(page, ChooseAppPage)
    return page


def shown_apps(page: ChooseAppPage) -> list[MailApp]:
    return [app for app, button in page.buttons.items() if not button.isHidden()]


def save(page: QWidget, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()  # the layout as it will be painted
    assert page.grab().save(str(ARTIFACTS / f"choose-app-{name}.png"))


def advice(key: str) -> str:
    return render(Text(key))


# -- preselection -------------------------------------------------------------------------------


def test_the_installed_app_is_preselected_and_marked_installed(show_page: ShowPage) -> None:
    context = FlowContext(installed=frozenset({MailApp.THUNDERBIRD}))
    page = show(show_page, at_choose_app(MAILBOX, "mailboxorg", context))
    assert page.chosen() is MailApp.THUNDERBIRD
    assert page.answer() == AppChosen(MailApp.THUNDERBIRD)
    marked = [app for app, label in page.installed.items() if not label.isHidden()]
    assert marked == [MailApp.THUNDERBIRD]
    assert page.installed[MailApp.THUNDERBIRD].text() == "Installed on this computer."
    assert (
        "Installed on this computer." in page.buttons[MailApp.THUNDERBIRD].accessibleDescription()
    )
    assert "Installed" not in page.buttons[MailApp.NEW_OUTLOOK].accessibleDescription()
    save(page, "installed")


def test_the_organisation_default_wins_over_the_installed_app(show_page: ShowPage) -> None:
    context = FlowContext(
        installed=frozenset({MailApp.THUNDERBIRD}),
        organisation=OrganisationSettings(default_app="classic-outlook"),
    )
    page = show(show_page, at_choose_app(MAILBOX, "mailboxorg", context))
    assert page.chosen() is MailApp.CLASSIC_OUTLOOK
    assert page.focusProxy() is page.buttons[MailApp.CLASSIC_OUTLOOK]


def test_nothing_installed_and_no_default_preselects_another_app(show_page: ShowPage) -> None:
    page = show(show_page, at_choose_app(MAILBOX, "mailboxorg"))
    assert page.chosen() is MailApp.OTHER
    assert all(label.isHidden() for label in page.installed.values())


def test_back_shows_the_app_chosen_before(show_page: ShowPage) -> None:
    context = FlowContext(installed=frozenset({MailApp.NEW_OUTLOOK}))
    walk = until_app(MAILBOX, catalog_result(MAILBOX, "mailboxorg"), context)
    walk.answer(AppChosen(MailApp.THUNDERBIRD))
    back = walk.flow.back()
    assert back.state.answer == AppChosen(MailApp.THUNDERBIRD)
    page = show(show_page, back.state)
    assert page.chosen() is MailApp.THUNDERBIRD


# -- the advice ---------------------------------------------------------------------------------


def test_the_advice_follows_the_choice_as_it_changes(qtbot: QtBot, show_page: ShowPage) -> None:
    context = FlowContext(installed=frozenset({MailApp.NEW_OUTLOOK}))
    page = show(show_page, at_choose_app(ICLOUD, "icloud", context))
    assert page.chosen() is MailApp.NEW_OUTLOOK
    assert page.advice_texts() == [
        advice("flow.advice.new-outlook-icloud"),
        advice("flow.advice.revoke-app-passwords"),
    ]
    assert "no" in page.advice_texts()[0] and "app-specific password" in page.advice_texts()[0]
    assert not page.advice.isHidden()
    save(page, "icloud-new-outlook")

    with qtbot.waitSignal(page.ready_changed):
        QTest.mouseClick(page.buttons[MailApp.CLASSIC_OUTLOOK], Qt.MouseButton.LeftButton)
    assert page.answer() == AppChosen(MailApp.CLASSIC_OUTLOOK)
    assert page.advice_texts() == [
        advice("flow.advice.icloud-app-password"),
        advice("flow.advice.icloud-for-windows"),
    ]
    save(page, "icloud-classic-outlook")

    QTest.mouseClick(page.buttons[MailApp.THUNDERBIRD], Qt.MouseButton.LeftButton)
    assert page.answer() == AppChosen(MailApp.THUNDERBIRD)
    assert page.advice_texts() == []
    assert page.advice.isHidden()


def test_the_advice_is_in_the_state_language(show_page: ShowPage) -> None:
    context = FlowContext(installed=frozenset({MailApp.NEW_OUTLOOK}))
    state = dataclasses.replace(at_choose_app(ICLOUD, "icloud", context), language="ja")
    page = show(show_page, state)
    assert page.advice_texts()[0] == render(Text("flow.advice.new-outlook-icloud"), "ja")


def test_the_keyboard_moves_the_choice(qtbot: QtBot, show_page: ShowPage) -> None:
    context = FlowContext(installed=frozenset({MailApp.NEW_OUTLOOK}))
    page = show(show_page, at_choose_app(ICLOUD, "icloud", context))
    page.activateWindow()
    page.setFocus()
    qtbot.waitUntil(lambda: page.buttons[MailApp.NEW_OUTLOOK].hasFocus())
    QTest.keyClick(page.buttons[MailApp.NEW_OUTLOOK], Qt.Key.Key_Down)
    assert page.chosen() is MailApp.CLASSIC_OUTLOOK
    assert page.advice_texts()[0] == advice("flow.advice.icloud-app-password")


# -- what is offered ----------------------------------------------------------------------------


@pytest.mark.parametrize("platform", list(Platform))
def test_apple_mail_is_offered_on_macos_only(show_page: ShowPage, platform: Platform) -> None:
    context = FlowContext(platform=platform, installed=frozenset({MailApp.APPLE_MAIL}))
    page = show(show_page, at_choose_app(ICLOUD, "icloud", context))
    expected = [
        MailApp.NEW_OUTLOOK,
        MailApp.CLASSIC_OUTLOOK,
        MailApp.THUNDERBIRD,
        *([MailApp.APPLE_MAIL] if platform is Platform.MACOS else []),
        MailApp.OTHER,
    ]
    assert shown_apps(page) == expected
    for app in expected:
        assert page.descriptions[app].text() and not page.descriptions[app].isHidden()
    if platform is Platform.MACOS:
        assert page.chosen() is MailApp.APPLE_MAIL
        assert not page.installed[MailApp.APPLE_MAIL].isHidden()
        save(page, "macos")
    else:
        assert page.chosen() is MailApp.OTHER
        assert page.descriptions[MailApp.APPLE_MAIL].isHidden()


def test_the_answer_moves_the_real_flow_on(show_page: ShowPage) -> None:
    context = FlowContext(installed=frozenset({MailApp.THUNDERBIRD}))
    walk = until_app(ICLOUD, catalog_result(ICLOUD, "icloud"), context)
    page = show(show_page, walk.flow.state)
    answer = page.answer()
    assert answer == AppChosen(MailApp.THUNDERBIRD)
    after = walk.flow.advance(answer)
    assert after.step is Step.SIGN_IN
    assert sign_in_kind(after.state) is SignInKind.ICLOUD_APP_PASSWORD


def test_a_refused_answer_is_shown(show_page: ShowPage) -> None:
    page = show(show_page, at_choose_app())
    page.show_problems([Problem("app", Text("flow.problem.app-not-offered"))])
    assert not page.app_problem.isHidden()
    assert page.app_problem.text() == advice("flow.problem.app-not-offered")


def test_every_focusable_widget_has_an_accessible_name(show_page: ShowPage) -> None:
    page = show(show_page, at_choose_app(context=FlowContext(platform=Platform.MACOS)))
    focusable = [
        w
        for w in page.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and not w.isHidden()
    ]
    assert len(focusable) >= 5
    assert [w.objectName() for w in focusable if not w.accessibleName()] == []
