"""The iCloud app-specific password panel (app/ui/wizard/pages/icloud.py): Apple's page in Qt
WebEngine beside the steps, and the paste field.

The embedded browser loads a page of the test world's HTTPS server (``www.example.test`` and
the other ``WEB_HOSTS`` of tests/gui/conftest.py) instead of Apple's. Tests that do not request
``webengine_env`` never call ``enter()``: that would load Qt WebEngine before the session's
fixture could set its environment. Whether building and showing the panel loads WebEngine is
checked in a process of its own (this one may have loaded it for other tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QTranslator
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.core.checks.base import Secret
from app.core.errors import TLSError
from app.core.flow import (
    AppChosen,
    MailApp,
    Problem,
    SignInAnswer,
    SignInKind,
    WizardState,
    validate,
)
from app.core.texts import Text, render
from app.ui.wizard.page import PageContext
from app.ui.wizard.pages.icloud import APPLE_ACCOUNT_URL, ICloudPanel
from tests.unit.test_flow import catalog_result, until_app
from tests.world.ca import TestCA
from tests.world.display import XvfbDisplay
from tests.world.web import Response, WebServer, redirect

ROOT = Path(__file__).resolve().parents[3]
WAIT_MS = 15_000
#: About the room the sign-in page leaves the panel in the wizard's window at 880x640.
PANEL_SIZE = (690, 470)
GOOD = "abcd-efgh-ijkl-mnop"
APPLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Apple Account (test)</title></head>
<body style="font-family: sans-serif; margin: 24px">
<h1>Apple Account</h1><p>Sign in to manage your Apple Account.</p>
<p><input id="email" placeholder="Email or Phone Number"></p>
</body></html>"""


def icloud_state(app: MailApp = MailApp.CLASSIC_OUTLOOK) -> WizardState:
    """The state of the sign-in page for taro@icloud.com with ``app``."""
    address = "taro@icloud.com"
    walk = until_app(address, catalog_result(address, "icloud")).answer(AppChosen(app))
    return walk.flow.state


@pytest.fixture
def make_panel(qtbot: QtBot, page_context: PageContext) -> Iterator[Callable[..., ICloudPanel]]:
    """A shown panel with a state (``enter()`` not called)."""
    made: list[ICloudPanel] = []

    def make(
        state: WizardState | None = None, *, account_url: str = APPLE_ACCOUNT_URL
    ) -> ICloudPanel:
        panel = ICloudPanel(page_context, None, account_url=account_url)
        qtbot.addWidget(panel)
        panel.resize(*PANEL_SIZE)
        panel.show()
        panel.show_state(state or icloud_state())
        made.append(panel)
        return panel

    yield make
    for panel in made:  # freed now: a web page must go before Qt WebEngine shuts down
        panel.leave()
        panel.close()
        panel.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(50)


def save(panel: QWidget, artifacts_dir: Path, case: str) -> None:
    folder = artifacts_dir / "wizard"
    folder.mkdir(parents=True, exist_ok=True)
    assert panel.grab().save(str(folder / f"sign-in-icloud{case}.png"))


def side(panel: ICloudPanel, index: int) -> QWidget:
    """The browser's side (0) or the steps' side (1) of the splitter."""
    widget = panel.splitter.widget(index)
    assert widget is not None
    return widget


def shown(widget: QWidget) -> bool:
    return widget.isVisibleTo(widget.window())


# -- loading Qt WebEngine ----------------------------------------------------------------------

_LAZY = """
import os, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
application = QApplication([])
from app.core.flow import FlowContext, WizardState
from app.core.flow.services import WizardServices
from app.core.profiles.store import AccountStore
from app.ui import qt_env
from app.ui.wizard.page import PageContext
from app.ui.wizard.tasks import TaskRunner
from app.ui.wizard.vault import SecretVault
from app.ui.wizard.pages.icloud import ICloudPanel

services = WizardServices(store=AccountStore(Path(sys.argv[1])))
context = PageContext(services, SecretVault(), TaskRunner(), FlowContext())
panel = ICloudPanel(context, None, account_url="about:blank")
panel.show()
panel.show_state(WizardState())
panel.password.setText("abcd-efgh-ijkl-mnop")
assert panel.answer() is not None
application.processEvents()
loaded = sorted(name for name in sys.modules if "WebEngine" in name)
assert not loaded, f"before enter(): {loaded}"
prepared = []
real = qt_env.prepare_webengine
def spy(**options):
    prepared.append(qt_env.webengine_loaded())
    return real(**options)
qt_env.prepare_webengine = spy
panel.enter()
assert prepared == [False], prepared
assert qt_env.webengine_loaded() and panel.view is not None
print("lazy-ok", flush=True)
os._exit(0)
"""


def test_qt_webengine_is_imported_only_when_the_panel_is_entered(
    xvfb_display: XvfbDisplay, tmp_path: Path
) -> None:
    env = {**os.environ, **xvfb_display.environ(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_LAZY), str(tmp_path / "accounts.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "lazy-ok" in done.stdout


# -- the paste field ---------------------------------------------------------------------------


def test_the_password_is_kept_in_the_vault_as_pasted_with_only_surrounding_spaces_trimmed(
    make_panel: Callable[..., ICloudPanel], page_context: PageContext
) -> None:
    panel = make_panel()
    assert panel.answer() is None  # nothing pasted: Continue disabled
    field = panel.findChild(QLineEdit, "appPassword")
    assert field is panel.password
    assert field.echoMode() == QLineEdit.EchoMode.Password
    field.setText("  \tAbcd-EFGH ijkl-mnop \n")
    answer = panel.answer()
    assert isinstance(answer, SignInAnswer)
    assert answer.kind is SignInKind.ICLOUD_APP_PASSWORD
    assert answer.apple_account == ""
    assert page_context.vault.get(answer.secret) == Secret("Abcd-EFGH ijkl-mnop")
    assert "Abcd" not in repr(answer)  # the answer holds a reference, never the text
    assert validate(icloud_state(), answer) == []


def test_one_vault_entry_per_distinct_text_and_the_old_one_is_forgotten(
    make_panel: Callable[..., ICloudPanel], page_context: PageContext
) -> None:
    panel = make_panel()
    vault = page_context.vault
    panel.password.setText(GOOD)
    first = panel.answer()
    assert first is not None
    again = panel.answer()  # the window polls answer()
    assert again is not None and again.secret == first.secret and len(vault) == 1
    panel.password.setText(f" {GOOD} ")  # the same text once trimmed: the same entry
    same = panel.answer()
    assert same is not None and same.secret == first.secret and len(vault) == 1
    panel.password.setText("wxyz-wxyz-wxyz-wxyz")
    changed = panel.answer()
    assert changed is not None and changed.secret != first.secret
    assert vault.get(first.secret) is None and len(vault) == 1
    assert vault.get(changed.secret) == Secret("wxyz-wxyz-wxyz-wxyz")
    panel.password.clear()
    assert panel.answer() is None and len(vault) == 0


def test_an_ordinary_password_is_warned_about_but_not_blocked(
    qtbot: QtBot, make_panel: Callable[..., ICloudPanel], artifacts_dir: Path
) -> None:
    panel = make_panel()
    warning = panel.findChild(QLabel, "passwordProblem")
    assert warning is not None and not shown(warning)
    ready: list[None] = []
    panel.ready_changed.connect(lambda: ready.append(None))
    panel.password.setText("MyApplePassword1!")
    assert ready  # Continue is asked again
    expected = render(Text("flow.problem.app-password-shape"), "en")
    qtbot.waitUntil(lambda: shown(warning), timeout=2000)
    assert warning.text() == expected
    assert warning.property("role") == "warning"
    assert panel.answer() is not None  # a warning never blocks
    panel.show_password.setChecked(True)
    assert panel.password.echoMode() == QLineEdit.EchoMode.Normal
    save(panel, artifacts_dir, "-warning")
    panel.show_password.setChecked(False)
    assert panel.password.echoMode() == QLineEdit.EchoMode.Password

    panel.password.setText(f"  {GOOD}  ")
    qtbot.wait(600)  # longer than the pause before the check
    assert not shown(warning)


def test_the_warning_follows_the_state_s_language(make_panel: Callable[..., ICloudPanel]) -> None:
    panel = make_panel(replace(icloud_state(), language="ja"))
    panel.password.setText("password")
    panel.password.editingFinished.emit()
    assert panel.password_problem.text() == render(Text("flow.problem.app-password-shape"), "ja")


def test_another_apple_account_address_goes_into_the_answer(
    qtbot: QtBot, make_panel: Callable[..., ICloudPanel], artifacts_dir: Path
) -> None:
    panel = make_panel()
    panel.password.setText(GOOD)
    box = panel.findChild(QCheckBox, "otherAppleAccount")
    field = panel.findChild(QLineEdit, "appleAccount")
    assert box is not None and field is not None
    assert not shown(field)
    box.setChecked(True)
    assert shown(field) and panel.focusWidget() is field
    assert panel.answer() is None  # asked for, not given yet
    field.setText(" taro.yamada@me.com ")
    answer = panel.answer()
    assert answer is not None and answer.apple_account == "taro.yamada@me.com"
    assert validate(icloud_state(), answer) == []
    save(panel, artifacts_dir, "-apple-account")
    box.setChecked(False)
    assert not shown(field)
    answer = panel.answer()
    assert answer is not None and answer.apple_account == ""


def test_a_refused_apple_account_address_is_shown_beside_its_field(
    make_panel: Callable[..., ICloudPanel],
) -> None:
    panel = make_panel()
    panel.password.setText(GOOD)
    panel.other_account.setChecked(True)
    panel.apple_account.setText("taro@@me")
    answer = panel.answer()
    assert answer is not None
    problems = validate(icloud_state(), answer)
    assert [p.field for p in problems] == ["apple_account"]
    panel.other_account.setChecked(False)
    panel.show_problems(problems)
    assert panel.other_account.isChecked() and shown(panel.apple_account)
    assert shown(panel.apple_account_problem)
    assert panel.apple_account_problem.text() == render(problems[0].text, "en")
    assert panel.focusWidget() is panel.apple_account
    panel.apple_account.setText("taro@me.com")  # typing clears it
    assert not shown(panel.apple_account_problem)


def test_a_missing_secret_is_shown_at_the_password_field(
    make_panel: Callable[..., ICloudPanel],
) -> None:
    panel = make_panel()
    problem = Problem("secret", Text("flow.problem.no-secret"))
    panel.show_problems([problem])
    assert shown(panel.password_problem) and panel.password_problem.property("role") == "problem"
    assert panel.password_problem.text() == render(problem.text, "en")
    assert panel.focusWidget() is panel.password


def test_coming_back_shows_the_password_and_address_given_before(
    make_panel: Callable[..., ICloudPanel], page_context: PageContext
) -> None:
    ref = page_context.vault.keep(Secret(GOOD))
    given = SignInAnswer(SignInKind.ICLOUD_APP_PASSWORD, ref, apple_account="taro@me.com")
    panel = make_panel(replace(icloud_state(), answer=given))
    assert panel.password.text() == GOOD
    assert panel.password.echoMode() == QLineEdit.EchoMode.Password
    assert panel.other_account.isChecked() and panel.apple_account.text() == "taro@me.com"
    assert panel.answer() == given  # the same reference: nothing new kept
    assert len(page_context.vault) == 1


def test_another_address_starts_with_empty_fields(
    make_panel: Callable[..., ICloudPanel], page_context: PageContext
) -> None:
    panel = make_panel()
    panel.password.setText(GOOD)
    panel.other_account.setChecked(True)
    panel.apple_account.setText("taro@me.com")
    first = panel.answer()
    assert first is not None
    panel.show_state(icloud_state(MailApp.THUNDERBIRD))  # the same address, another app
    assert panel.password.text() == GOOD and panel.answer() == first
    address = "hanako@icloud.com"
    walk = until_app(address, catalog_result(address, "icloud"))
    panel.show_state(walk.answer(AppChosen(MailApp.THUNDERBIRD)).flow.state)
    assert panel.password.text() == "" and panel.answer() is None
    assert not panel.other_account.isChecked() and panel.apple_account.text() == ""
    assert page_context.vault.get(first.secret) is None


@pytest.mark.parametrize(
    ("app", "name"),
    [
        (MailApp.THUNDERBIRD, "Mail Setup – Thunderbird"),
        (MailApp.CLASSIC_OUTLOOK, "Mail Setup – Outlook"),
        (MailApp.OTHER, "Mail Setup – Mail app"),
    ],
)
def test_the_suggested_name_names_the_chosen_app(
    make_panel: Callable[..., ICloudPanel], app: MailApp, name: str
) -> None:
    panel = make_panel(icloud_state(app))
    assert panel.suggested_name.text() == name
    assert f"“{name}”" in panel.step_labels[5].text()
    copy = panel.findChild(QPushButton, "copyName")
    assert copy is not None
    copy.click()
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None and clipboard.text() == name


def test_the_steps_and_notes_say_what_apple_requires(
    make_panel: Callable[..., ICloudPanel],
) -> None:
    panel = make_panel()
    steps = [label.text() for label in panel.step_labels]
    assert len(steps) == 7
    assert "Sign-In and Security" in steps[2] and "App-Specific Passwords" in steps[3]
    assert "Apple Account password" in steps[4]
    notes = " ".join(note.text() for note in panel.notes)
    for fact in ("only once", "two-factor authentication", "25", "revokes all"):
        assert fact in notes


def test_open_in_my_browser_opens_apple_s_page(
    make_panel: Callable[..., ICloudPanel], page_context: PageContext
) -> None:
    panel = make_panel()
    assert panel.host.text() == "account.apple.com"
    button = panel.findChild(QPushButton, "openInBrowser")
    assert button is not None
    button.click()
    assert page_context.opened == [APPLE_ACCOUNT_URL]


def test_every_control_has_an_accessible_name_and_focus_starts_in_the_paste_field(
    make_panel: Callable[..., ICloudPanel],
) -> None:
    panel = make_panel()
    panel.other_account.setChecked(True)
    focusable = [
        w for w in panel.findChildren(QWidget) if w.focusPolicy() != w.focusPolicy().NoFocus
    ]
    assert len(focusable) >= 6
    assert [w.objectName() or type(w).__name__ for w in focusable if not w.accessibleName()] == []
    labels = [label for label in panel.findChildren(QLabel) if label.text()]
    assert [label.objectName() for label in labels if not label.accessibleName()] == []
    assert panel.focusProxy() is panel.password
    assert panel.password_label.buddy() is panel.password
    assert panel.apple_account_label.buddy() is panel.apple_account


def test_the_steps_are_not_cut_at_the_window_s_size(
    qtbot: QtBot, make_panel: Callable[..., ICloudPanel], artifacts_dir: Path
) -> None:
    panel = make_panel(icloud_state(MailApp.THUNDERBIRD))
    qtbot.wait(50)
    browser_side, steps_side = side(panel, 0), side(panel, 1)
    assert browser_side.width() >= 280 and steps_side.width() >= 220
    for label in [*panel.step_labels, *panel.notes, panel.intro]:
        assert label.height() >= label.heightForWidth(label.width()), label.objectName()
        assert label.width() <= panel.steps_scroll.viewport().width()
    form = panel.findChild(QWidget, "icloudForm")
    assert form is not None and form.geometry().bottom() <= steps_side.height()
    save(panel, artifacts_dir, "")


#: A draft of the Japanese texts (the lead makes the real ones), for the layout in Japanese.
JAPANESE = {
    "iCloud Mail needs an app-specific password: Apple does not let other apps use your Apple "
    "Account password. Create one on Apple's page, then paste it below.": (
        "iCloud メールには App 用パスワードが必要です。Apple は、ほかのアプリで Apple アカウントの"
        "パスワードを使うことを認めていません。Apple のページで作成し、下に貼り付けてください。"
    ),
    "Sign in with your Apple Account.": "Apple アカウントでサインインします。",
    "If Apple asks, enter the verification code shown on your iPhone or another trusted device "
    "(two-factor authentication).": (
        "求められたら、iPhone などの信頼できるデバイスに表示される確認コードを入力します"
        "（2 ファクタ認証）。"
    ),
    "Choose Sign-In and Security.": "「サインインとセキュリティ」を選びます。",
    "Choose App-Specific Passwords.": "「App 用パスワード」を選びます。",
    "If Apple asks, enter your Apple Account password again to confirm.": (
        "求められたら、確認のため Apple アカウントのパスワードをもう一度入力します。"
    ),
    "Choose the add button (+), give the password a name such as “%1” and choose Create.": (
        "追加ボタン（+）を選び、「%1」などの名前を付けて「作成」を選びます。"
    ),
    "Copy the password Apple shows (it looks like abcd-efgh-ijkl-mnop) and paste it below.": (
        "Apple が表示したパスワード（abcd-efgh-ijkl-mnop のような形式）をコピーして、"
        "下に貼り付けます。"
    ),
    "&Paste the app-specific password:": "App 用パスワードを貼り付け(&P):",
    "S&how password": "パスワードを表示(&H)",
    "My Apple Account uses another a&ddress": "Apple アカウントのアドレスが別にある(&D)",
    "Apple &Account address:": "Apple アカウントのアドレス(&A):",
    "&Open in my browser": "ブラウザーで開く(&O)",
    "&Copy name": "名前をコピー(&C)",
    "Apple's page opens here.": "ここに Apple のページが表示されます。",
}


class DraftJapanese(QTranslator):
    """The panel's texts in (draft) Japanese, whatever the context."""

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        return JAPANESE.get(source)  # None: not translated (an empty text would be a translation)

    def isEmpty(self) -> bool:
        return False


def test_the_steps_are_not_cut_in_japanese(
    qtbot: QtBot,
    qapp: QApplication,
    make_panel: Callable[..., ICloudPanel],
    artifacts_dir: Path,
) -> None:
    translator = DraftJapanese()
    qapp.installTranslator(translator)
    try:
        panel = make_panel(replace(icloud_state(MailApp.THUNDERBIRD), language="ja"))
    finally:
        qapp.removeTranslator(translator)
    assert panel.step_labels[2].text() == "「サインインとセキュリティ」を選びます。"
    assert "「Mail Setup – Thunderbird」" in panel.step_labels[5].text()
    assert panel.apple_account_hint.text().startswith("Calendars and contacts")  # not translated
    panel.password.setText("password")
    panel.password.editingFinished.emit()
    panel.other_account.setChecked(True)
    qtbot.wait(50)
    steps_side = side(panel, 1)
    for label in [*panel.step_labels, *panel.notes, panel.intro, panel.password_problem]:
        assert label.height() >= label.heightForWidth(label.width()), label.objectName()
    for widget in (panel.other_account, panel.show_password, panel.open_outside):
        assert widget.width() >= widget.sizeHint().width(), widget.objectName()
    form = panel.findChild(QWidget, "icloudForm")
    assert form is not None and form.geometry().bottom() <= steps_side.height()
    save(panel, artifacts_dir, "-ja")


# -- the embedded browser ----------------------------------------------------------------------


@pytest.fixture
def entered(
    webengine_env: str, make_panel: Callable[..., ICloudPanel]
) -> Callable[[str], ICloudPanel]:
    """A panel on ``url`` (instead of Apple's page), entered: the browser is loading it."""

    def make(url: str) -> ICloudPanel:
        panel = make_panel(account_url=url)
        panel.enter()
        assert panel.view is not None and panel.web_page is not None
        return panel

    return make


def test_the_page_is_shown_with_its_host_and_a_padlock(
    qtbot: QtBot,
    entered: Callable[[str], ICloudPanel],
    web: WebServer,
    artifacts_dir: Path,
    page_context: PageContext,
) -> None:
    host = "www.example.test"
    web.route("/apple", Response(200, APPLE_PAGE, content_type="text/html"), host=host)
    url = f"https://{host}/apple"
    panel = entered(url)
    page = panel.web_page
    assert page is not None
    qtbot.waitUntil(lambda: page.title() == "Apple Account (test)", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not panel.progress.isVisible(), timeout=WAIT_MS)
    assert panel.host.text() == host
    assert panel.padlock.accessibleName() == "Secure connection"
    assert not panel.padlock.pixmap().isNull()
    assert not shown(panel.trouble) and panel.failure is None
    assert panel.view is not None and panel.view.accessibleName()
    assert panel.view.width() >= 280 and panel.view.height() >= 240
    assert panel.findChild(QLabel, "browserPlaceholder") is None or not shown(panel.placeholder)
    (request,) = web.requests_to("/apple", host=host)
    assert request.headers["Accept-Language"].startswith("en-US")
    assert "Cookie" not in request.headers
    panel.open_outside.click()
    assert page_context.opened == [url]
    panel.enter()  # shown again: the same browser, no second load
    qtbot.wait(200)
    assert len(web.requests_to("/apple", host=host)) == 1
    qtbot.wait(300)  # let Chromium paint before the grab
    save(panel, artifacts_dir, "-page")


def test_an_untrusted_certificate_is_refused_and_explained(
    qtbot: QtBot,
    entered: Callable[[str], ICloudPanel],
    web: WebServer,
    corporate_ca: TestCA,
    artifacts_dir: Path,
) -> None:
    host = "untrusted.example.test"
    web.set_certificate(corporate_ca.issue((host,)), host=host)
    web.route("/apple", Response(200, "<h1>never</h1>", content_type="text/html"), host=host)
    panel = entered(f"https://{host}/apple")
    qtbot.waitUntil(lambda: shown(panel.page_problem), timeout=WAIT_MS)
    assert isinstance(panel.failure, TLSError) and panel.failure.code == "tls.untrusted"
    text = panel.page_problem.text()
    assert render(Text("error.tls.untrusted", {"host": host}), "en") in text
    assert "nothing was sent" in text
    assert panel.host.text() == host
    assert panel.padlock.accessibleName() == "Not secure"
    assert shown(panel.reload) and shown(panel.open_outside)
    qtbot.wait(300)  # the refusal stays: no page replaces the explanation
    assert shown(panel.page_problem)
    assert web.requests_to("/apple", host=host) == []  # nothing went over the connection
    save(panel, artifacts_dir, "-untrusted")


def test_a_redirect_to_plain_http_is_refused(
    qtbot: QtBot, entered: Callable[[str], ICloudPanel], web: WebServer
) -> None:
    host = "www.example.test"
    web.route("/downgrade", redirect(f"http://{host}/login"), host=host)
    panel = entered(f"https://{host}/downgrade")
    qtbot.waitUntil(lambda: shown(panel.page_problem), timeout=WAIT_MS)
    assert panel.failure is not None and panel.failure.code == "signin.insecure-page"
    assert panel.padlock.accessibleName() == "Not secure"
    assert web.requests_to("/login", host=host) == []


def test_a_link_to_another_site_opens_in_the_system_browser(
    qtbot: QtBot,
    entered: Callable[[str], ICloudPanel],
    web: WebServer,
    page_context: PageContext,
) -> None:
    host = "www.example.test"
    web.route("/apple", Response(200, APPLE_PAGE, content_type="text/html"), host=host)
    panel = entered(f"https://{host}/apple")
    page = panel.web_page
    assert page is not None
    qtbot.waitUntil(lambda: page.title() == "Apple Account (test)", timeout=WAIT_MS)
    # Chromium reports a script's navigation as a clicked link, as it does a real click.
    page.runJavaScript("location.href = 'https://mfa.example.test/elsewhere';")
    qtbot.waitUntil(lambda: bool(page_context.opened), timeout=WAIT_MS)
    assert page_context.opened == ["https://mfa.example.test/elsewhere"]
    qtbot.wait(200)
    assert page.url().host() == host
    assert web.requests_to("/elsewhere") == []
