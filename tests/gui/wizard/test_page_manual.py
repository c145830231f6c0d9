"""The "edit manually" page: prefilled from the flow (the detected settings, or what was typed
before), checked as the person types with the flow's own rules (problems beside their fields,
blocking ones disable Continue, warnings do not), usual ports following the protocol and the
encryption unless a port was typed, and an answer the real flow accepts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.core.flow import (
    AddressEntered,
    DetectionDone,
    FindingAction,
    Flow,
    ManualEntered,
    ServerFields,
    Step,
    WizardState,
)
from app.core.model import AuthKind, Protocol, Security
from app.ui.wizard.page import WizardPage
from app.ui.wizard.pages.manual import ManualPage
from tests.unit.test_flow import catalog_result, empty_result, hybrid_result

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "wizard"
ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]


def snap(page: QWidget, case: str) -> Path:
    layout = page.layout()
    assert layout is not None
    height = layout.totalHeightForWidth(760) if layout.hasHeightForWidth() else 0
    page.resize(760, max(560, height))
    QApplication.processEvents()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"manual-{case}.png"
    assert page.grab().save(str(path))
    return path


def at_manual(address: str, answer_for: Callable[[str], DetectionDone]) -> Flow:
    """The real flow at the manual step, reached through the finding page's answer."""
    flow = Flow.start().advance(AddressEntered(address)).advance(answer_for(address))
    assert flow.step is Step.MANUAL
    return flow


def manual_page(show_page: ShowPage, state: WizardState) -> ManualPage:
    page = show_page(ManualPage, state)
    assert isinstance(page, ManualPage)
    return page


def problem(page: ManualPage, field: str) -> QLabel:
    return page.labels[field]


def shown(label: QLabel) -> str:
    return label.text() if label.isVisibleTo(label.window()) else ""


def edit_mailbox_org(address: str) -> DetectionDone:
    return DetectionDone(catalog_result(address, "mailboxorg"), FindingAction.EDIT)


def nothing_found(address: str) -> DetectionDone:
    return DetectionDone(empty_result(address))


# --- prefill -----------------------------------------------------------------------------------


def test_prefilled_from_the_detected_settings(show_page: ShowPage) -> None:
    flow = at_manual("taro@mailbox.org", edit_mailbox_org)
    page = manual_page(show_page, flow.state)
    config = flow.state.config
    assert config is not None and config.outgoing is not None
    assert page.incoming_protocol.currentData() == config.incoming.protocol.value
    assert page.incoming_host.text() == config.incoming.host
    assert page.incoming_port.text() == str(config.incoming.port)
    assert page.incoming_security.currentData() == config.incoming.security.value
    assert page.incoming_username.text() == "taro@mailbox.org"
    assert page.outgoing_host.text() == config.outgoing.host
    assert page.outgoing_port.text() == str(config.outgoing.port)
    assert page.auth.currentData() == config.auth.value
    assert flow.state.manual is not None
    assert page.fields() == flow.state.manual
    assert page.answer() == ManualEntered(flow.state.manual)
    assert not any(label.isVisibleTo(page) for label in page.labels.values())
    snap(page, "prefilled")


def test_prefilled_with_what_was_typed_before(show_page: ShowPage) -> None:
    flow = at_manual("taro@mailbox.org", edit_mailbox_org)
    assert flow.state.manual is not None
    typed = replace(flow.state.manual, incoming_host="imap.typed.test", incoming_port="10993")
    page = manual_page(show_page, replace(flow.state, answer=ManualEntered(typed)))
    assert page.fields() == typed


def test_a_setting_the_person_cannot_pick_is_kept(show_page: ShowPage) -> None:
    address = "taro@corp.test"
    flow = at_manual(address, lambda a: DetectionDone(hybrid_result(a), FindingAction.EDIT))
    page = manual_page(show_page, flow.state)
    assert page.auth.currentData() == AuthKind.EXCHANGE_HYBRID.value
    kinds = [page.auth.itemData(i) for i in range(page.auth.count())]
    assert AuthKind.OAUTH2_GOOGLE.value not in kinds
    assert AuthKind.PASSWORD.value in kinds
    answer = page.answer()
    assert isinstance(answer, ManualEntered)
    assert answer.fields.auth == AuthKind.EXCHANGE_HYBRID.value


# --- checking as the person types --------------------------------------------------------------


def test_an_invalid_port_is_shown_and_disables_continue(qtbot: QtBot, show_page: ShowPage) -> None:
    flow = at_manual("taro@mailbox.org", edit_mailbox_org)
    page = manual_page(show_page, flow.state)
    page.incoming_port.clear()
    with qtbot.waitSignal(page.ready_changed):
        QTest.keyClicks(page.incoming_port, "99x")
    assert '"99x"' in shown(problem(page, "incoming.port"))
    assert page.answer() is None
    snap(page, "invalid-port")

    page.incoming_port.clear()
    QTest.keyClicks(page.incoming_port, "70000")
    assert "65535" in shown(problem(page, "incoming.port"))
    assert page.answer() is None

    page.incoming_port.clear()
    QTest.keyClicks(page.incoming_port, "993")
    assert shown(problem(page, "incoming.port")) == ""
    answer = page.answer()
    assert isinstance(answer, ManualEntered)
    assert flow.advance(answer).step is Step.CHOOSE_APP


def test_a_bad_host_and_a_bad_calendar_address_are_shown_beside_their_fields(
    qtbot: QtBot, show_page: ShowPage
) -> None:
    page = manual_page(show_page, at_manual("taro@mailbox.org", edit_mailbox_org).state)
    page.incoming_host.clear()
    QTest.keyClicks(page.incoming_host, "imap..bad")
    assert "imap..bad" in shown(problem(page, "incoming.host"))
    page.incoming_host.setText("imap.mailbox.org")
    assert shown(problem(page, "incoming.host")) == ""
    QTest.keyClicks(page.caldav, "dav.example.test/cal")
    assert "https://" in shown(problem(page, "caldav"))
    assert page.answer() is None
    page.caldav.setText("https://dav.example.test/cal/")
    assert shown(problem(page, "caldav")) == ""
    assert page.answer() is not None


def test_warnings_are_shown_but_do_not_block(qtbot: QtBot, show_page: ShowPage) -> None:
    flow = at_manual("taro@mailbox.org", edit_mailbox_org)
    page = manual_page(show_page, flow.state)
    page.outgoing_host.clear()
    assert "not be able to send" in shown(problem(page, "outgoing.host"))
    assert problem(page, "outgoing.host").property("role") == "warning"
    page.incoming_security.setCurrentIndex(page.incoming_security.findData("plain"))
    assert "unprotected" in shown(problem(page, "incoming.security"))
    assert problem(page, "incoming.security").property("role") == "warning"
    snap(page, "warnings")
    answer = page.answer()
    assert isinstance(answer, ManualEntered)
    assert answer.fields.outgoing_host == ""
    assert answer.fields.incoming_security == "plain"
    moved = flow.advance(answer)  # the flow takes it: warnings are not refusals
    assert moved.state.config is not None
    assert moved.state.config.outgoing is None
    assert moved.state.config.incoming.security is Security.PLAIN


def test_nothing_found_starts_empty_and_says_what_is_missing(
    qtbot: QtBot, show_page: ShowPage
) -> None:
    flow = at_manual("taro@nowhere.test", nothing_found)
    page = manual_page(show_page, flow.state)
    assert page.incoming_host.text() == ""
    assert shown(problem(page, "incoming.host")) != ""
    assert page.answer() is None
    snap(page, "empty")
    QTest.keyClicks(page.incoming_host, "mail.nowhere.test")
    QTest.keyClicks(page.outgoing_host, "mail.nowhere.test")
    assert page.answer() is not None


# --- usual ports -------------------------------------------------------------------------------


def test_the_usual_port_follows_protocol_and_encryption(qtbot: QtBot, show_page: ShowPage) -> None:
    page = manual_page(show_page, at_manual("taro@mailbox.org", edit_mailbox_org).state)
    page.incoming_protocol.setCurrentIndex(page.incoming_protocol.findData("imap"))
    page.incoming_security.setCurrentIndex(page.incoming_security.findData("tls"))
    assert page.incoming_port.text() == "993"
    page.incoming_security.setCurrentIndex(page.incoming_security.findData("starttls"))
    assert page.incoming_port.text() == "143"
    page.incoming_protocol.setCurrentIndex(page.incoming_protocol.findData("pop3"))
    assert page.incoming_port.text() == str(Protocol.POP3.default_port(Security.STARTTLS))
    page.outgoing_security.setCurrentIndex(page.outgoing_security.findData("starttls"))
    assert page.outgoing_port.text() == "587"
    page.outgoing_security.setCurrentIndex(page.outgoing_security.findData("tls"))
    assert page.outgoing_port.text() == "465"

    # a port the person typed stays
    page.incoming_port.clear()
    QTest.keyClicks(page.incoming_port, "1995")
    page.incoming_security.setCurrentIndex(page.incoming_security.findData("tls"))
    assert page.incoming_port.text() == "1995"


def test_the_answer_holds_what_was_typed(qtbot: QtBot, show_page: ShowPage) -> None:
    flow = at_manual("taro@mailbox.org", edit_mailbox_org)
    page = manual_page(show_page, flow.state)
    for edit, text in (
        (page.incoming_host, "imap.typed.test"),
        (page.incoming_username, "taro"),
        (page.outgoing_host, "smtp.typed.test"),
        (page.outgoing_username, "taro-send"),
        (page.caldav, "https://dav.typed.test/cal/"),
        (page.carddav, "https://dav.typed.test/card/"),
    ):
        edit.clear()
        QTest.keyClicks(edit, text)
    page.incoming_protocol.setCurrentIndex(page.incoming_protocol.findData("pop3"))
    page.outgoing_security.setCurrentIndex(page.outgoing_security.findData("starttls"))
    page.auth.setCurrentIndex(page.auth.findData(AuthKind.APP_PASSWORD.value))
    answer = page.answer()
    assert answer == ManualEntered(
        ServerFields(
            incoming_protocol="pop3",
            incoming_host="imap.typed.test",
            incoming_port="995",
            incoming_security="tls",
            incoming_username="taro",
            outgoing_host="smtp.typed.test",
            outgoing_port="587",
            outgoing_security="starttls",
            outgoing_username="taro-send",
            caldav="https://dav.typed.test/cal/",
            carddav="https://dav.typed.test/card/",
            auth="app-password",
        )
    )
    assert isinstance(answer, ManualEntered)
    moved = flow.advance(answer)
    config = moved.state.config
    assert config is not None and config.outgoing is not None
    assert (config.incoming.protocol, config.incoming.host, config.incoming.port) == (
        Protocol.POP3,
        "imap.typed.test",
        995,
    )
    assert config.outgoing.username == "taro-send"
    assert config.auth is AuthKind.APP_PASSWORD
    assert config.provider_id == "mailboxorg"  # the provider being edited is kept
    # Back to this page later shows it all again
    again = manual_page(show_page, replace(flow.state, answer=answer))
    assert again.answer() == answer


# --- keyboard and accessibility ----------------------------------------------------------------


def test_fields_are_named_reachable_by_mnemonic_and_focus_starts_at_the_server(
    show_page: ShowPage,
) -> None:
    page = manual_page(show_page, at_manual("taro@mailbox.org", edit_mailbox_org).state)
    assert page.focusProxy() is page.incoming_host
    for widget in page.findChildren(QWidget):
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus and not isinstance(widget, QLabel):
            assert widget.accessibleName(), widget.objectName() or type(widget).__name__
    mnemonics: list[str] = []
    for label in page.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is None:
            continue
        text = label.text()
        assert "&" in text, text
        mnemonics.append(text[text.index("&") + 1].lower())
        assert isinstance(buddy, QWidget)
    assert len(mnemonics) == 12
    assert len(set(mnemonics)) == len(mnemonics), mnemonics
    combos = page.findChildren(QComboBox)
    assert {c.objectName() for c in combos} == {
        "incomingProtocol",
        "incomingSecurity",
        "outgoingSecurity",
        "auth",
    }
