"""The sign-in page and its panels.

- Password / app password: the answer holds a vault reference (the vault the Secret; the answer
  and the flow's state never the text), one reference per distinct text however often Continue
  asks, the sign-in name, the provider's own hints and links from the built-in catalog, and why
  an app password is needed.
- Microsoft: without a client ID the panel says whom to ask and Continue stays off; with one,
  the real sign-in window (Qt WebEngine) shows the test identity provider's pages, the test
  signs in there, MicrosoftSignIn redeems the redirect into the token cache (the test keyring),
  and the panel says who signed in and answers by itself. Cancelling in the window or Stop
  offers Try again.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.core.checks.base import Secret
from app.core.config.orgsettings import SupportSettings
from app.core.discovery.base import SourceOutcome, SourceReport
from app.core.discovery.catalog import default_catalog
from app.core.flow import (
    AppChosen,
    FlowContext,
    MailApp,
    Problem,
    SignInAnswer,
    SignInKind,
    Step,
    WizardState,
    sign_in_kind,
)
from app.core.texts import Text, provider_note_key, render
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.pages.microsoft import MicrosoftHints, MicrosoftPanel, Phase, microsoft_hints
from app.ui.wizard.pages.password import PasswordPanel
from app.ui.wizard.pages.sign_in import SignInPage
from tests.unit.test_flow import Walk, catalog_result, until_app
from tests.world.idp import IdentityProvider

if TYPE_CHECKING:
    from app.ui.browser import SignInWindow

ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "wizard"
PASSWORD = "Sign-In-Page-Pa55"
WAIT_MS = 15_000


def walk_to_sign_in(
    address: str, provider: str, app: MailApp, context: FlowContext | None = None
) -> Walk:
    walk = until_app(address, catalog_result(address, provider), context)
    walk.answer(AppChosen(app))
    assert walk.flow.step is Step.SIGN_IN
    return walk


def show(show_page: ShowPage, state: WizardState) -> SignInPage:
    page = show_page(SignInPage, state)
    assert isinstance(page, SignInPage)
    return page


def password_panel(page: SignInPage) -> PasswordPanel:
    panel = page.panel
    assert isinstance(panel, PasswordPanel) and not panel.isHidden()
    return panel


def microsoft_panel(page: SignInPage) -> MicrosoftPanel:
    panel = page.panel
    assert isinstance(panel, MicrosoftPanel) and not panel.isHidden()
    return panel


def save(page: QWidget, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()  # the layout as it will be painted
    assert page.grab().save(str(ARTIFACTS / f"sign-in-{name}.png"))


def note(provider: str, key: str, language: str = "en") -> str:
    return render(Text(provider_note_key(provider, key)), language)  # type: ignore[arg-type]


# -- password ---------------------------------------------------------------------------------


def test_the_password_answers_with_a_vault_reference_never_the_text(
    qtbot: QtBot, show_page: ShowPage, page_context: PageContext
) -> None:
    walk = walk_to_sign_in("taro@mailbox.org", "mailboxorg", MailApp.THUNDERBIRD)
    page = show(show_page, walk.flow.state)
    panel = password_panel(page)
    assert page.answer() is None  # Continue is off until there is a password
    assert panel.password.echoMode() == QLineEdit.EchoMode.Password
    assert page.focusProxy() is panel and panel.focusProxy() is panel.password

    with qtbot.waitSignal(page.ready_changed):
        QTest.keyClicks(panel.password, PASSWORD)
    answer = page.answer()
    assert isinstance(answer, SignInAnswer)
    assert answer.kind is SignInKind.PASSWORD and answer.secret is not None
    assert page_context.vault.get(answer.secret) == Secret(PASSWORD)
    assert PASSWORD not in repr(answer)
    for _ in range(5):  # Continue asks again and again: still one entry
        assert page.answer() == answer
    assert len(page_context.vault) == 1

    after = walk.flow.advance(answer)
    assert after.step is Step.CHECKING
    assert after.state.sign_in == answer
    assert PASSWORD not in repr(after.state) and PASSWORD not in repr(after.history)

    QTest.keyClick(panel.password, Qt.Key.Key_X)  # a changed password: a new entry, old gone
    changed = page.answer()
    assert isinstance(changed, SignInAnswer) and changed.secret != answer.secret
    assert page_context.vault.get(answer.secret) is None
    assert page_context.vault.get(changed.secret) == Secret(PASSWORD + "x")
    assert len(page_context.vault) == 1

    QTest.mouseClick(panel.show_password, Qt.MouseButton.LeftButton)
    assert panel.password.echoMode() == QLineEdit.EchoMode.Normal
    panel.leave()
    assert panel.password.echoMode() == QLineEdit.EchoMode.Password


def test_the_sign_in_name_and_the_provider_hints_for_a_password_provider(
    qtbot: QtBot, show_page: ShowPage
) -> None:
    page = show(
        show_page, walk_to_sign_in("taro@mailbox.org", "mailboxorg", MailApp.THUNDERBIRD).flow.state
    )
    panel = password_panel(page)
    assert "taro@mailbox.org" in panel.intro.text() and "mailbox.org" in panel.intro.text()
    assert panel.username.placeholderText() == "Leave empty to sign in as taro@mailbox.org"
    shown = [label.text() for label in panel.hint_labels if not label.isHidden()]
    assert shown == [
        note("mailboxorg", "primary_address_login"),
        note("mailboxorg", "app_password_with_2fa"),
    ]
    assert panel.create_link.isHidden()  # mailbox.org has no app password page in the catalog
    assert not panel.help_link.isHidden()
    QTest.keyClicks(panel.password, PASSWORD)
    QTest.keyClicks(panel.username, "  taro.login ")
    answer = page.answer()
    assert isinstance(answer, SignInAnswer) and answer.username == "taro.login"
    save(page, "password")


def test_an_app_password_provider_says_why_and_links_to_its_page(
    qtbot: QtBot, show_page: ShowPage, page_context: PageContext
) -> None:
    state = walk_to_sign_in("taro@yahoo.com", "yahoo", MailApp.THUNDERBIRD).flow.state
    assert sign_in_kind(state) is SignInKind.APP_PASSWORD
    page = show(show_page, state)
    panel = password_panel(page)
    assert panel.intro.text() == "Enter an app password for taro@yahoo.com."
    assert "Yahoo Mail does not let mail apps sign in with your normal password" in (
        panel.why.text()
    )
    assert panel.password_label.text() == "App &password:"
    assert panel.password.accessibleName() == "App password"
    shown = [label.text() for label in panel.hint_labels if not label.isHidden()]
    assert shown == [note("yahoo", "app_password"), note("yahoo", "two_step_first")]
    save(page, "app-password")

    yahoo = default_catalog().get("yahoo")
    assert yahoo is not None and yahoo.app_password_url and yahoo.help_url
    QTest.mouseClick(panel.create_link, Qt.MouseButton.LeftButton)
    QTest.mouseClick(panel.help_link, Qt.MouseButton.LeftButton)
    assert page_context.opened == [yahoo.app_password_url, yahoo.help_url]
    assert panel.help_link.text() == "Open the Yahoo Mail help page"

    QTest.keyClicks(panel.password, "abcdefghijklmnop")
    answer = page.answer()
    assert isinstance(answer, SignInAnswer) and answer.kind is SignInKind.APP_PASSWORD


def test_the_hints_follow_the_state_language(show_page: ShowPage) -> None:
    state = walk_to_sign_in("taro@yahoo.com", "yahoo", MailApp.THUNDERBIRD).flow.state
    page = show(show_page, dataclasses.replace(state, language="ja"))
    panel = password_panel(page)
    assert panel.hint_labels[0].text() == note("yahoo", "app_password", "ja")


def test_back_shows_the_password_given_before_without_a_new_entry(
    qtbot: QtBot, show_page: ShowPage, page_context: PageContext
) -> None:
    walk = walk_to_sign_in("taro@mailbox.org", "mailboxorg", MailApp.THUNDERBIRD)
    ref = page_context.vault.keep(Secret(PASSWORD))
    given = SignInAnswer(SignInKind.PASSWORD, ref, username="taro.login")
    back = walk.answer(given).flow.back()
    assert back.state.answer == given
    page = show(show_page, back.state)
    panel = password_panel(page)
    assert panel.password.text() == PASSWORD and panel.username.text() == "taro.login"
    assert page.answer() == given
    assert len(page_context.vault) == 1

    QTest.keyClick(panel.password, Qt.Key.Key_End)
    QTest.keyClick(panel.password, Qt.Key.Key_X)
    changed = page.answer()
    assert isinstance(changed, SignInAnswer) and changed.secret not in (None, ref)
    assert page_context.vault.get(changed.secret) == Secret(PASSWORD + "x")
    assert page_context.vault.get(ref) == Secret(PASSWORD)  # the earlier state still holds it
    QTest.keyClick(panel.password, Qt.Key.Key_Y)
    again = page.answer()
    assert isinstance(again, SignInAnswer)
    assert page_context.vault.get(changed.secret) is None  # this page's own entry: forgotten
    assert page_context.vault.get(again.secret) == Secret(PASSWORD + "xy")
    assert len(page_context.vault) == 2


def test_a_refused_answer_is_shown_beside_the_field(show_page: ShowPage) -> None:
    state = walk_to_sign_in("taro@mailbox.org", "mailboxorg", MailApp.THUNDERBIRD).flow.state
    page = show(show_page, state)
    panel = password_panel(page)
    page.show_problems([Problem("secret", Text("flow.problem.no-secret"))])
    assert not panel.password_problem.isHidden()
    assert panel.password_problem.text() == render(Text("flow.problem.no-secret"))
    save(page, "password-problem")


def test_the_page_shows_the_panel_the_state_needs(show_page: ShowPage) -> None:
    password = walk_to_sign_in("taro@mailbox.org", "mailboxorg", MailApp.THUNDERBIRD).flow.state
    microsoft = walk_to_sign_in(
        "taro@contoso.onmicrosoft.com", "microsoft365", MailApp.THUNDERBIRD
    ).flow.state
    page = show(show_page, password)
    first = password_panel(page)
    page.show_state(microsoft)
    second = page.panel
    assert isinstance(second, MicrosoftPanel) and first.isHidden()
    page.show_state(password)
    assert page.panel is first and not first.isHidden() and second.isHidden()
    assert page.panels == {SignInKind.PASSWORD: first, SignInKind.MICROSOFT: second}


def test_an_icloud_account_gets_the_icloud_panel(qtbot: QtBot, page_context: PageContext) -> None:
    """Made and shown a state only: the iCloud panel loads Qt WebEngine when it is entered."""
    from app.ui.wizard.pages.icloud import ICloudPanel

    state = walk_to_sign_in("taro@icloud.com", "icloud", MailApp.CLASSIC_OUTLOOK).flow.state
    page = SignInPage(page_context)
    qtbot.addWidget(page)
    page.show_state(state)
    assert isinstance(page.panel, ICloudPanel)
    assert page.focusProxy() is page.panel


# -- Microsoft: not configured ----------------------------------------------------------------


def test_microsoft_without_a_client_id_says_whom_to_ask(show_page: ShowPage) -> None:
    context = FlowContext(support=SupportSettings(name="Contoso IT", email="it@contoso.test"))
    address = "taro@contoso.onmicrosoft.com"
    state = walk_to_sign_in(address, "microsoft365", MailApp.THUNDERBIRD, context).flow.state
    assert sign_in_kind(state) is SignInKind.MICROSOFT
    page = show(show_page, state)
    panel = microsoft_panel(page)
    assert panel.phase is Phase.NOT_CONFIGURED
    assert not panel.not_configured.isHidden()
    assert "has not set up Microsoft sign-in" in panel.not_configured.text()
    assert address in panel.not_configured.text()
    assert "Contoso IT" in panel.support.text() and "it@contoso.test" in panel.support.text()
    assert panel.sign_in_button.isHidden()
    assert page.answer() is None
    panel.start_sign_in()  # nothing to sign in with: nothing starts
    assert panel.phase is Phase.NOT_CONFIGURED and not panel.context.tasks.busy
    save(page, "microsoft-not-configured")


# -- Microsoft: the real sign-in --------------------------------------------------------------


@pytest.fixture
def microsoft_state(
    idp_state: IdentityProvider, page_context: PageContext, secret_keyring: Any
) -> tuple[WizardState, str]:
    """A Microsoft 365 address at the sign-in step, a user of the local identity provider
    whose sign-in name (UPN) differs from it, and the services' registration aimed at that
    provider; the token cache opens on the test keyring. Returns the state and the UPN."""
    tag = uuid.uuid4().hex[:8]
    address = f"page{tag}@contoso.onmicrosoft.com"
    upn = f"page{tag}@contoso.test"
    idp_state.add_user(upn, PASSWORD, mailbox=address)
    services = page_context.services
    services.config = services.config.override(
        "microsoft.client_id", idp_state.default_client_id
    ).override("microsoft.authority", idp_state.authority())
    state = walk_to_sign_in(address, "microsoft365", MailApp.THUNDERBIRD).flow.state
    return with_microsoft_source(state, tenant_id=idp_state.tenant_id), upn


def with_microsoft_source(state: WizardState, **data: str) -> WizardState:
    """``state`` whose detection had an answer from the Microsoft source with ``data``."""
    assert state.detection is not None
    report = SourceReport("microsoft", SourceOutcome.FOUND, data=data)
    detection = dataclasses.replace(state.detection, sources=(report,))
    return dataclasses.replace(state, detection=detection)


def test_what_detection_learnt_about_the_tenant_goes_to_the_sign_in() -> None:
    state = walk_to_sign_in(
        "taro@contoso.onmicrosoft.com", "microsoft365", MailApp.THUNDERBIRD
    ).flow.state
    assert microsoft_hints(state) == MicrosoftHints()
    found = with_microsoft_source(
        state, tenant_id="contoso.test", cloud="usgov-dod", federation_host="sts.corp.test"
    )
    assert microsoft_hints(found) == MicrosoftHints(
        "contoso.test", "login.microsoftonline.us", "sts.corp.test"
    )


def js(qtbot: QtBot, window: SignInWindow, script: str) -> Any:
    """Run ``script`` (a function body) in the sign-in page; its value, through JSON."""
    box: list[str] = []

    def done(value: object) -> None:
        box.append(str(value) if value is not None else "")

    window.page.runJavaScript(f"JSON.stringify((function(){{{script}}})())", 0, done)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT_MS)
    return json.loads(box[0]) if box[0] else None


def wait_for_element(qtbot: QtBot, window: SignInWindow, element: str) -> None:
    script = f"return document.readyState === 'complete' && !!document.getElementById('{element}');"
    deadline = time.monotonic() + WAIT_MS / 1000
    while not js(qtbot, window, script):
        assert time.monotonic() < deadline, f"no #{element} on {window.page.url().toString()}"
        qtbot.wait(50)


def phase(panel: MicrosoftPanel) -> Phase:
    return panel.phase


def opened_window(qtbot: QtBot, panel: MicrosoftPanel) -> SignInWindow:
    qtbot.waitUntil(lambda: panel.window_ is not None, timeout=WAIT_MS)
    window = panel.window_
    assert window is not None
    qtbot.waitExposed(window.widget, timeout=WAIT_MS)
    return window


def test_microsoft_sign_in_through_the_window_answers_signed_in(
    qtbot: QtBot,
    webengine_env: str,
    show_page: ShowPage,
    page_context: PageContext,
    microsoft_state: tuple[WizardState, str],
    idp_state: IdentityProvider,
) -> None:
    state, upn = microsoft_state
    state = with_microsoft_source(
        state, tenant_id=idp_state.tenant_id, federation_host="sts.corp.test"
    )
    address = str(state.address)
    page = show(show_page, state)
    panel = microsoft_panel(page)
    assert panel.phase is Phase.READY and page.answer() is None
    assert not panel.sign_in_button.isHidden()
    save(page, "microsoft-ready")

    QTest.mouseClick(panel.sign_in_button, Qt.MouseButton.LeftButton)
    window = opened_window(qtbot, panel)
    assert phase(panel) is Phase.WORKING and not panel.progress.isHidden()
    assert window.allowed_hosts == ("sts.corp.test",)  # the tenant's federation host
    assert page_context.tasks.busy  # the wizard's Cancel stops the sign-in
    assert not panel.sign_in_button.isEnabled()
    wait_for_element(qtbot, window, "username")
    assert js(qtbot, window, "return document.getElementById('username').value;") == address
    save(page, "microsoft-waiting")
    js(
        qtbot,
        window,
        f"document.getElementById('username').value = {json.dumps(upn)};"
        f"document.getElementById('password').value = {json.dumps(PASSWORD)};"
        "document.getElementById('submit').click(); return true;",
    )
    wait_for_element(qtbot, window, "accept")
    with qtbot.waitSignal(page.answered, timeout=WAIT_MS) as answered:
        js(qtbot, window, "document.getElementById('accept').click(); return true;")

    expected = SignInAnswer(SignInKind.MICROSOFT, signed_in_as=address)
    assert answered.args == [expected]
    assert page.answer() == expected
    assert phase(panel) is Phase.SIGNED_IN and panel.progress.isHidden()
    assert panel.status.text() == f"Signed in as {upn}."
    assert panel.window_ is None and window.outcome == "redirected"  # and disposed
    assert not page_context.tasks.busy
    assert idp_state.log_for("nativeclient") == []  # the redirect was caught, never loaded
    save(page, "microsoft-signed-in")

    # The tokens are in the token cache: the mailbox is linked to the account that signed in.
    service = page_context.services._microsoft
    assert service is not None and service.cache.persistent
    saved: list[Any] = []
    page_context.tasks.start(service.accounts(), done=lambda task: saved.extend(task.result()))
    qtbot.waitUntil(lambda: bool(saved), timeout=WAIT_MS)
    mine = [(a.address, a.username, a.needs_sign_in) for a in saved if a.address == address]
    assert mine == [(address, upn, False)]  # (the session's cache holds other tests' sign-ins)

    # Back from the checking page: still signed in, Continue on.
    walk = walk_to_sign_in(address, "microsoft365", MailApp.THUNDERBIRD)
    back = walk.answer(expected).flow.back()
    page.show_state(back.state)
    assert panel.phase is Phase.SIGNED_IN and page.answer() == expected


def test_microsoft_sign_in_cancelled_in_the_window_offers_try_again(
    qtbot: QtBot,
    webengine_env: str,
    show_page: ShowPage,
    page_context: PageContext,
    microsoft_state: tuple[WizardState, str],
) -> None:
    state, _upn = microsoft_state
    page = show(show_page, state)
    panel = microsoft_panel(page)
    QTest.mouseClick(panel.sign_in_button, Qt.MouseButton.LeftButton)
    window = opened_window(qtbot, panel)
    wait_for_element(qtbot, window, "username")
    with qtbot.assertNotEmitted(page.answered):
        QTest.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.phase is Phase.STOPPED, timeout=WAIT_MS)
    assert "closed before you signed in" in panel.status.text()
    assert panel.sign_in_button.text() == "&Try again" and panel.sign_in_button.isEnabled()
    assert page.answer() is None and panel.progress.isHidden()
    save(page, "microsoft-cancelled")

    QTest.mouseClick(panel.sign_in_button, Qt.MouseButton.LeftButton)  # Try again: a new window
    again = opened_window(qtbot, panel)
    assert again is not window
    wait_for_element(qtbot, again, "username")
    assert page_context.tasks.cancel()  # the wizard's Stop
    qtbot.waitUntil(lambda: panel.phase is Phase.STOPPED, timeout=WAIT_MS)
    assert "stopped" in panel.status.text()
    assert panel.window_ is None and again.outcome == "cancelled"  # and disposed


def test_microsoft_sign_in_refused_by_the_provider_shows_the_cause_and_the_fix(
    qtbot: QtBot,
    webengine_env: str,
    show_page: ShowPage,
    microsoft_state: tuple[WizardState, str],
) -> None:
    """Declining the permissions comes back as an error answer at the redirect URI: the panel
    shows what the knowledge catalog says about it, with Try again."""
    state, upn = microsoft_state
    page = show(
        show_page,
        dataclasses.replace(
            state,
            context=FlowContext(
                support=SupportSettings(name="Contoso IT", email="it@contoso.test")
            ),
        ),
    )
    panel = microsoft_panel(page)
    QTest.mouseClick(panel.sign_in_button, Qt.MouseButton.LeftButton)
    window = opened_window(qtbot, panel)
    wait_for_element(qtbot, window, "password")
    js(
        qtbot,
        window,
        f"document.getElementById('username').value = {json.dumps(upn)};"
        f"document.getElementById('password').value = {json.dumps(PASSWORD)};"
        "document.getElementById('submit').click(); return true;",
    )
    wait_for_element(qtbot, window, "cancel")
    js(qtbot, window, "document.getElementById('cancel').click(); return true;")
    qtbot.waitUntil(lambda: panel.phase in (Phase.FAILED, Phase.STOPPED), timeout=WAIT_MS)
    assert panel.phase is Phase.FAILED
    assert panel.failure.text() and not panel.failure.isHidden()
    assert panel.sign_in_button.text() == "&Try again"
    assert "it@contoso.test" in panel.support.text()
    assert page.answer() is None
    save(page, "microsoft-failed")


# -- accessibility ----------------------------------------------------------------------------


def test_every_focusable_widget_has_an_accessible_name(
    show_page: ShowPage, page_context: PageContext
) -> None:
    microsoft = walk_to_sign_in(
        "taro@contoso.onmicrosoft.com", "microsoft365", MailApp.OTHER
    ).flow.state
    page = show(
        show_page, walk_to_sign_in("taro@yahoo.com", "yahoo", MailApp.THUNDERBIRD).flow.state
    )

    def unnamed() -> list[str]:
        focusable = [
            w
            for w in page.findChildren(QWidget)
            if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisibleTo(page)
        ]
        assert focusable
        return [w.objectName() or type(w).__name__ for w in focusable if not w.accessibleName()]

    assert unnamed() == []
    page.show_state(microsoft)  # not configured
    assert unnamed() == []
    services = page_context.services
    services.config = services.config.override(
        "microsoft.client_id", "6a1d3c2b-8e4f-4b7a-9c0d-5e6f7a8b9c0d"
    )
    page.show_state(microsoft)  # ready to sign in
    assert microsoft_panel(page).phase is Phase.READY
    assert unnamed() == []
