"""The save and done pages. Save writes for real: the secret into the test world's Secret Service
(gnome-keyring on a private bus), the account into a store under the test's folder, and the
accounts file never holds the secret; without a keyring nothing is saved and the page says so;
a store that cannot be written leaves no keyring entry behind. Done shows the Outlook app's QR
code for Microsoft accounts (the modules read back from the pixmap are the link's), copies an
app password and clears the clipboard again, and lists the settings to type for other phones."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.core.checks.base import Secret
from app.core.config.orgsettings import SupportSettings
from app.core.flow import (
    FlowContext,
    MailApp,
    Platform,
    SaveDone,
    SignInAnswer,
    SignInKind,
    Step,
    WizardState,
)
from app.core.profiles.secrets import SecretPurpose, load_secret, store_secret
from app.core.profiles.store import AccountStore
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.pages.done import OUTLOOK_MOBILE_URL, DonePage
from app.ui.wizard.pages.save import SavePage
from app.ui.wizard.qrcode import QUIET_ZONE, qr_matrix
from tests.unit.test_flow import verified, walk_icloud_classic, walk_m365, walk_password_provider

pytestmark = pytest.mark.world

ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]
PASSWORD = "Save-Page-Secret-71xq"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


#: Every event loop the tests here used, kept alive: see ``_keep_loop``.
_LOOPS: list[object] = []


@pytest.fixture(autouse=True)
def _keep_loop(qt_loop: object) -> object:
    """Keep each test's qasync loop referenced after it closed: saving runs in worker threads,
    and Python's garbage collector may run in one of them; collecting the closed loop there would
    destroy its timer QObject outside the GUI thread, and the timer then fires on freed memory."""
    _LOOPS.append(qt_loop)
    return qt_loop


def _at(step: Step, state: WizardState) -> WizardState:
    return replace(state, step=step, answer=None)


def _with_secret(context: PageContext, state: WizardState, secret: str) -> WizardState:
    """``state`` signed in with ``secret`` kept in the page context's vault."""
    assert state.sign_in is not None
    ref = context.vault.keep(Secret(secret))
    return replace(state, sign_in=replace(state.sign_in, secret=ref))


def _password_state(context: PageContext) -> WizardState:
    """A mailbox.org account for Thunderbird, signed in with a password, ready to save."""
    base = walk_password_provider().flow.state
    address = f"save-{uuid.uuid4().hex[:8]}@mailbox.org"
    from app.core.model import EmailAddress

    state = replace(
        base,
        address=EmailAddress.parse(address),
        verify=verified(address),
        saved_as=None,
    )
    return _with_secret(context, _at(Step.SAVE, state), PASSWORD)


def _answers(page: WizardPage) -> list[object]:
    got: list[object] = []
    page.answered.connect(got.append)
    return got


def _label(page: QWidget, name: str) -> QLabel:
    found = page.findChild(QLabel, name)
    assert found is not None, name
    return found


# -- save ----------------------------------------------------------------------------------------


def test_save_puts_the_secret_in_the_keyring_and_never_in_the_accounts_file(
    secret_keyring: object,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    state = _password_state(page_context)
    address = str(state.address)
    page = show_page(SavePage, state)
    assert isinstance(page, SavePage)
    assert not page.shows_next() and page.answer() is None
    assert "keyring (password store)" in _label(page, "value-password").text()
    assert address == _label(page, "value-address").text()
    assert "imap.mailbox.org" in _label(page, "value-incoming").text()
    page.grab().save(str(artifacts_dir / "wizard" / "save-ready.png"))

    answers = _answers(page)
    page.save_button.click()
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    answer = answers[0]
    assert isinstance(answer, SaveDone) and answer.account_key == address
    assert page.answer() == answer and page.shows_next()

    assert load_secret(address, SecretPurpose.ACCOUNT) == Secret(PASSWORD)
    store: AccountStore = page_context.services.store
    saved = store.get(address)
    assert saved is not None and saved.secrets == ("account",) and saved.client == "thunderbird"
    raw = store.path.read_bytes()
    assert PASSWORD.encode() not in raw and address.encode() in raw
    page.grab().save(str(artifacts_dir / "wizard" / "save-saved.png"))


def test_without_a_keyring_nothing_is_saved_and_the_page_says_what_to_do(
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    page_context.services.keyring_backend = fail.Keyring()  # type: ignore[no-untyped-call]
    state = _password_state(page_context)
    address = str(state.address)
    page = show_page(SavePage, state)
    assert isinstance(page, SavePage)
    answers = _answers(page)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=10_000)
    assert answers == [] and page.answer() is None
    assert page.error.text().startswith("Nothing was saved.")
    store: AccountStore = page_context.services.store
    assert store.get(address) is None
    assert not store.path.exists() or PASSWORD.encode() not in store.path.read_bytes()
    assert page.without_password.isVisible()
    page.grab().save(str(artifacts_dir / "wizard" / "save-keyring-unavailable.png"))

    # the offered way on: save the account without its password
    page.without_password.click()
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    saved = store.get(address)
    assert saved is not None and saved.secrets == ()
    assert PASSWORD.encode() not in store.path.read_bytes()


def test_a_store_that_cannot_be_written_leaves_no_secret_behind(
    secret_keyring: object,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the accounts folder should be\n")
    page_context.services.store = AccountStore(blocker / "accounts.json", lock_timeout=1.0)
    state = _password_state(page_context)
    address = str(state.address)
    page = show_page(SavePage, state)
    assert isinstance(page, SavePage)
    answers = _answers(page)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=10_000)
    assert answers == []
    assert load_secret(address, SecretPurpose.ACCOUNT) is None
    assert not page.without_password.isVisible()  # the keyring was not the problem


def test_a_settings_file_for_classic_outlook_is_written_without_the_password(
    page_context: PageContext, show_page: ShowPage, tmp_path: Path
) -> None:
    state = replace(_password_state(page_context), app=MailApp.CLASSIC_OUTLOOK)
    page = show_page(SavePage, state)
    assert isinstance(page, SavePage)
    assert "Classic Outlook" in page.export_button.text()
    target = tmp_path / "account.prf"
    asked: list[str] = []

    def choose(_parent: QWidget, suggested: str, filter_text: str) -> str:
        asked.append(suggested)
        assert "*.prf" in filter_text
        return str(target)

    page.choose_file = choose
    page.export_button.click()
    assert asked and asked[0].endswith(".prf")
    content = target.read_bytes().decode("utf-16")  # Outlook reads .prf files as UTF-16
    assert "imap.mailbox.org" in content and PASSWORD not in content
    assert str(target) in page.export_status.text()


@pytest.mark.parametrize("platform", [Platform.MACOS, Platform.WINDOWS])
def test_on_a_mac_the_apple_profile_is_opened_for_system_settings_to_offer(
    platform: Platform, page_context: PageContext, show_page: ShowPage, tmp_path: Path
) -> None:
    page_context.flow_context = replace(page_context.flow_context, platform=platform)
    state = replace(_password_state(page_context), app=MailApp.APPLE_MAIL)
    page = show_page(SavePage, state)
    assert isinstance(page, SavePage)
    target = tmp_path / "account.mobileconfig"
    page.choose_file = lambda _parent, _suggested, _filter: str(target)
    page.export_button.click()
    assert b"imap.mailbox.org" in target.read_bytes()
    assert PASSWORD.encode() not in target.read_bytes()
    shown = page.export_status.text()
    assert "Device Management" in shown  # where to click, on every system
    if platform is Platform.MACOS:
        assert page_context.opened == [target.as_uri()]
        assert "System Settings now offers the profile." in shown
    else:
        assert page_context.opened == []


# -- done ----------------------------------------------------------------------------------------


def test_done_for_microsoft_shows_the_outlook_app_qr_code(
    page_context: PageContext, show_page: ShowPage, artifacts_dir: Path
) -> None:
    state = walk_m365(MailApp.CLASSIC_OUTLOOK).flow.state
    assert state.step is Step.DONE
    page = show_page(DonePage, state)
    assert isinstance(page, DonePage)
    assert page.next_text() == "Finish" and not page.can_go_back()
    qr = page.qr_code
    assert qr.isVisible()
    pixmap = qr.pixmap()
    assert not pixmap.isNull()
    assert OUTLOOK_MOBILE_URL in qr.accessibleName()
    assert OUTLOOK_MOBILE_URL in page.phone_text.accessibleName()
    # the pixmap's modules are exactly the link's QR code (read back at each module's centre)
    image = pixmap.toImage()
    matrix = qr_matrix(OUTLOOK_MOBILE_URL)
    scale = image.width() // (len(matrix) + 2 * QUIET_ZONE)
    assert image.width() == scale * (len(matrix) + 2 * QUIET_ZONE)
    read = tuple(
        tuple(
            image.pixelColor(
                (x + QUIET_ZONE) * scale + scale // 2, (y + QUIET_ZONE) * scale + scale // 2
            ).lightness()
            < 128
            for x in range(len(matrix))
        )
        for y in range(len(matrix))
    )
    assert read == matrix
    assert image.pixelColor(1, 1).lightness() > 128  # the quiet zone is light
    assert not page.password_box.isVisible()  # Microsoft signs in: no password to copy
    assert "File > Add Account" in page.next_steps.text()
    page.grab().save(str(artifacts_dir / "wizard" / "done-microsoft.png"))


def test_copy_password_again_and_the_clipboard_is_cleared(
    page_context: PageContext, show_page: ShowPage, qtbot: QtBot, artifacts_dir: Path
) -> None:
    state = _with_secret(page_context, walk_icloud_classic().flow.state, APP_PASSWORD)
    assert state.sign_in is not None and state.sign_in.kind is SignInKind.ICLOUD_APP_PASSWORD
    page = show_page(DonePage, state)
    assert isinstance(page, DonePage)
    page.clear_after_ms = 200
    assert page.password_box.isVisible()
    field = page.password_field
    assert field.echoMode() is QLineEdit.EchoMode.Password
    shown = [label.text() for label in page.findChildren(QLabel)]
    assert not any(APP_PASSWORD in text for text in shown)
    assert "nothing to do" in page.phone_text.accessibleName()
    assert not page.qr_code.isVisible()
    page.grab().save(str(artifacts_dir / "wizard" / "done-app-password.png"))

    page.show_password.click()  # the "show" toggle, and back
    assert field.echoMode() is QLineEdit.EchoMode.Normal
    page.show_password.click()
    assert field.echoMode() is QLineEdit.EchoMode.Password

    clipboard = QGuiApplication.clipboard()
    page.copy_button.click()
    assert clipboard.text() == APP_PASSWORD
    assert page.copy_status.isVisible()
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=3000)

    # something else copied meanwhile is left alone
    page.copy_button.click()
    clipboard.setText("the person's own text")
    qtbot.wait(400)
    assert clipboard.text() == "the person's own text"

    # leaving the page (the window closing) clears it at once
    page.copy_button.click()
    page.leave()
    assert clipboard.text() == ""
    assert field.text() == ""


def test_done_for_another_provider_lists_the_settings_to_type(
    page_context: PageContext, show_page: ShowPage, artifacts_dir: Path
) -> None:
    page_context.flow_context = FlowContext(
        support=SupportSettings(name="Contoso IT", email="help@contoso.test", phone="+81 3 1234")
    )
    state = walk_password_provider().flow.state
    assert state.step is Step.DONE and state.sign_in == SignInAnswer(
        SignInKind.PASSWORD, state.sign_in.secret if state.sign_in else None
    )
    page = show_page(DonePage, state)
    assert isinstance(page, DonePage)
    phone = page.phone_text.accessibleName()
    assert "Incoming server (IMAP): imap.mailbox.org" in phone
    assert "Port: 993" in phone and "Security: SSL/TLS" in phone
    assert "Outgoing server (SMTP): smtp.mailbox.org" in phone
    assert not page.qr_code.isVisible()
    assert not page.password_box.isVisible()  # a normal password is not offered for copying
    assert "Thunderbird" in page.next_box.title()
    support = page.support.accessibleName()
    assert "Contoso IT" in support and "help@contoso.test" in support
    assert 'href="mailto:help@contoso.test"' in page.support.text()
    page.grab().save(str(artifacts_dir / "wizard" / "done-other.png"))


def test_a_failed_save_puts_back_the_password_saved_before(
    secret_keyring: object,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    """Setting up an account again whose store cannot be written: the password saved the first
    time is still in the keyring afterwards, not lost and not replaced by the new one."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the accounts folder should be\n")
    page_context.services.store = AccountStore(blocker / "accounts.json", lock_timeout=1.0)
    state = _password_state(page_context)
    address = str(state.address)
    store_secret(address, Secret("the-earlier-password"), SecretPurpose.ACCOUNT)
    page = show_page(SavePage, state)
    assert isinstance(page, SavePage)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=10_000)
    kept = load_secret(address, SecretPurpose.ACCOUNT)
    assert kept is not None and kept.reveal() == "the-earlier-password"
