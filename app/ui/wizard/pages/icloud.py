"""The iCloud sign-in panel: Apple's account page in an embedded browser beside numbered steps
for creating an app-specific password, and the field to paste it into.

Apple gives other programs no sign-in of their own for iCloud Mail, so the person creates an
app-specific password at account.apple.com and pastes it here. The page is shown in Qt
WebEngine with an off-the-record profile (nothing kept on disk), its host and a padlock above
it; certificate errors are refused (never accepted) and explained, permissions and downloads
are refused, and plain-HTTP pages are not opened. "Open in my browser" opens Apple's page in
the system browser instead.

Qt WebEngine is imported only when the panel is first shown (:meth:`ICloudPanel.enter`), after
:func:`app.ui.qt_env.prepare_webengine`: importing this module, building the panel and showing
a state never load it, so the wizard's first page appears fast.

The sign-in page (``app/ui/wizard/pages/sign_in.py``) creates the panel and forwards the page
contract to it: ``show_state``, ``answer``, ``show_problems``, ``enter``, ``leave``,
``ready_changed`` and ``answered``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.checks.base import Secret
from app.core.errors import SetupError
from app.core.flow import (
    MailApp,
    Problem,
    SecretRef,
    SignInAnswer,
    SignInKind,
    WizardState,
    app_password_warnings,
)
from app.core.model import EmailAddress
from app.core.texts import DEFAULT_LANGUAGE, Language, render
from app.ui.wizard.page import PageContext, problem_label, show_problem, wrapped

if TYPE_CHECKING:
    from types import ModuleType

    from PySide6.QtWebEngineCore import (
        QWebEngineCertificateError,
        QWebEngineLoadingInfo,
        QWebEngineNewWindowRequest,
        QWebEnginePage,
        QWebEngineProfile,
    )
    from PySide6.QtWebEngineWidgets import QWebEngineView

#: Apple's account page, where app-specific passwords are made.
APPLE_ACCOUNT_URL = "https://account.apple.com"

#: Hosts whose pages stay in the embedded browser when the person clicks a link to them
#: (Apple's sign-in runs on idmsa.apple.com and appleid.apple.com); other links open in the
#: system browser.
APPLE_DOMAINS = ("apple.com", "icloud.com")

#: How long typing must pause before the pasted text's shape is looked at, in milliseconds.
CHECK_DELAY_MS = 400

_ABORTED = -3  # net::ERR_ABORTED: a load replaced by another, or one refused here


def _host_of(url: QUrl) -> str:
    return url.host().rstrip(".").lower()


def _is_apple_host(host: str, extra: str = "") -> bool:
    name = host.rstrip(".").lower()
    if not name:
        return False
    if extra and name == extra:
        return True
    return any(name == domain or name.endswith("." + domain) for domain in APPLE_DOMAINS)


class ICloudPanel(QWidget):
    """Apple's account page beside the steps, and the app-specific password field (see the
    module docstring). ``account_url`` replaces Apple's page (tests)."""

    ready_changed = Signal()
    answered = Signal(object)

    def __init__(
        self,
        context: PageContext,
        parent: QWidget | None = None,
        *,
        account_url: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.account_url = account_url or APPLE_ACCOUNT_URL  # (read now: tests replace it)
        self.state: WizardState | None = None
        self.setObjectName("icloudPanel")
        self._ref: SecretRef | None = None
        self._address: EmailAddress | None = None  # whose password the field holds
        self._web: ModuleType | None = None  # app.ui.browser, once Qt WebEngine is loaded
        self.view: QWebEngineView | None = None
        self.web_page: QWebEnginePage | None = None
        self.profile: QWebEngineProfile | None = None
        self.failure: SetupError | None = None
        self.opened_outside: list[str] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("icloudSplitter")
        self.splitter.setAccessibleName(self.tr("Apple's page and the steps"))
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self._build_browser_side())
        self.splitter.addWidget(self._build_steps_side())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([560, 400])
        layout.addWidget(self.splitter, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self._check_shape)
        self.password.textChanged.connect(self._password_changed)
        self.password.editingFinished.connect(self._check_shape)
        self.show_password.toggled.connect(self._toggle_echo)
        self.other_account.toggled.connect(self._toggle_other_account)
        self.apple_account.textChanged.connect(self._apple_account_changed)
        self.open_outside.clicked.connect(self._open_in_browser)
        self.reload.clicked.connect(self._try_again)
        self.copy_name.clicked.connect(self._copy_name)

        for first, second in (
            (self.password, self.show_password),
            (self.show_password, self.other_account),
            (self.other_account, self.apple_account),
            (self.apple_account, self.copy_name),
            (self.copy_name, self.open_outside),
            (self.open_outside, self.reload),
        ):
            QWidget.setTabOrder(first, second)
        self.setFocusProxy(self.password)
        self._show_app_name(None)
        self._show_host(QUrl(self.account_url), secure=None)

    # -- building ------------------------------------------------------------------------------

    def _build_browser_side(self) -> QWidget:
        side = QFrame(self)
        side.setObjectName("browserSide")
        side.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(side)
        box.setContentsMargins(1, 1, 1, 1)
        box.setSpacing(0)

        bar = QWidget(side)
        bar.setObjectName("addressBar")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(8, 4, 4, 4)
        bar_layout.setSpacing(6)
        self.padlock = QLabel(bar)
        self.padlock.setObjectName("padlock")
        self.padlock.setFixedSize(18, 18)
        self.padlock.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.host = QLabel(bar)
        self.host.setObjectName("host")
        self.host.setAccessibleName(self.tr("Address of the page"))
        self.host.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.host.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = self.host.font()
        font.setBold(True)
        self.host.setFont(font)
        self.open_outside = QPushButton(self.tr("&Open in my browser"), bar)
        self.open_outside.setObjectName("openInBrowser")
        self.open_outside.setAccessibleName(self.tr("Open Apple's page in my browser"))
        self.open_outside.setAutoDefault(False)
        bar_layout.addWidget(self.padlock)
        bar_layout.addWidget(self.host, 1)
        bar_layout.addWidget(self.open_outside)
        box.addWidget(bar)

        self.progress = QProgressBar(side)
        self.progress.setObjectName("loading")
        self.progress.setAccessibleName(self.tr("Loading the page"))
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(3)
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        self.progress.setVisible(False)
        box.addWidget(self.progress)

        trouble = QWidget(side)
        trouble.setObjectName("pageTrouble")
        trouble_layout = QVBoxLayout(trouble)
        trouble_layout.setContentsMargins(10, 8, 10, 8)
        self.page_problem = problem_label(trouble, name="pageProblem")
        self.page_problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.page_problem.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reload = QPushButton(self.tr("&Try again"), trouble)
        self.reload.setObjectName("reloadPage")
        self.reload.setAccessibleName(self.tr("Try to open Apple's page again"))
        self.reload.setAutoDefault(False)
        trouble_layout.addWidget(self.page_problem)
        trouble_layout.addWidget(self.reload, 0, Qt.AlignmentFlag.AlignLeft)
        self.trouble = trouble
        trouble.setVisible(False)
        box.addWidget(trouble)

        self.placeholder = QLabel(self.tr("Apple's page opens here."), side)
        self.placeholder.setObjectName("browserPlaceholder")
        self.placeholder.setAccessibleName(self.placeholder.text())
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.placeholder.setMinimumSize(280, 240)
        box.addWidget(self.placeholder, 1)
        self._browser_box = box
        self._browser_side = side
        return side

    def _build_steps_side(self) -> QWidget:
        side = QWidget(self)
        side.setObjectName("stepsSide")
        column = QVBoxLayout(side)
        column.setContentsMargins(4, 0, 0, 0)
        column.setSpacing(8)

        scroll = QScrollArea(side)
        scroll.setObjectName("stepsScroll")
        scroll.setAccessibleName(self.tr("How to create an app-specific password"))
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget(scroll)
        inner.setObjectName("steps")
        steps = QVBoxLayout(inner)
        steps.setContentsMargins(0, 4, 8, 4)
        steps.setSpacing(8)

        self.intro = self._text(
            self.tr(
                "iCloud Mail needs an app-specific password: Apple does not let other apps use "
                "your Apple Account password. Create one on Apple's page, then paste it below."
            ),
            inner,
            "icloudIntro",
        )
        steps.addWidget(self.intro)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        self.step_labels: list[QLabel] = []
        texts = (
            self.tr("Sign in with your Apple Account."),
            self.tr(
                "If Apple asks, enter the verification code shown on your iPhone or another "
                "trusted device (two-factor authentication)."
            ),
            # Translators: Apple's label in Japanese is 「サインインとセキュリティ」
            self.tr("Choose Sign-In and Security."),
            # Translators: Apple's label in Japanese is 「App 用パスワード」 (as Apple writes
            # it on account.apple.com; the core's texts in flow.toml use it too)
            self.tr("Choose App-Specific Passwords."),
            self.tr("If Apple asks, enter your Apple Account password again to confirm."),
            "",  # the name: filled in by _show_app_name
            self.tr(
                "Copy the password Apple shows (it looks like abcd-efgh-ijkl-mnop) and paste it "
                "below."
            ),
        )
        for index, text in enumerate(texts):
            number = QLabel(f"{index + 1}.", inner)
            number.setObjectName(f"stepNumber{index + 1}")
            number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            font = number.font()
            font.setBold(True)
            number.setFont(font)
            number.setAccessibleName(number.text())
            label = self._text(text, inner, f"step{index + 1}")
            grid.addWidget(number, index, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, index, 1, Qt.AlignmentFlag.AlignTop)
            self.step_labels.append(label)
        steps.addLayout(grid)

        name_row = QHBoxLayout()
        name_row.setContentsMargins(0, 0, 0, 0)
        self.suggested_name = QLabel(inner)
        self.suggested_name.setObjectName("suggestedName")
        self.suggested_name.setWordWrap(True)
        self.suggested_name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.suggested_name.font()
        font.setBold(True)
        self.suggested_name.setFont(font)
        self.copy_name = QPushButton(self.tr("&Copy name"), inner)
        self.copy_name.setObjectName("copyName")
        self.copy_name.setAccessibleName(self.tr("Copy the suggested name"))
        self.copy_name.setAutoDefault(False)
        name_row.addWidget(self.suggested_name, 1)
        name_row.addWidget(self.copy_name, 0, Qt.AlignmentFlag.AlignTop)
        steps.addLayout(name_row)

        self.notes: list[QLabel] = [
            self._text(
                self.tr(
                    "Apple shows the password only once. Paste it here before you close Apple's "
                    "window; if it is lost, create a new one."
                ),
                inner,
                "noteOnce",
            ),
            self._text(
                # Translators: "App-Specific Passwords" and "Sign-In and Security" are Apple's
                # labels; in Japanese 「App 用パスワード」 and 「サインインとセキュリティ」
                self.tr(
                    "App-Specific Passwords is missing when two-factor authentication is off for "
                    "your Apple Account. Turn it on under Sign-In and Security first."
                ),
                inner,
                "noteTwoFactor",
            ),
            self._text(
                self.tr(
                    "You can have at most 25 app-specific passwords. Revoke the ones you no "
                    "longer use to make room."
                ),
                inner,
                "noteLimit",
            ),
            self._text(
                self.tr(
                    "Changing your Apple Account password revokes all your app-specific "
                    "passwords; then create a new one for your mail app."
                ),
                inner,
                "noteRevoked",
            ),
        ]
        for note in self.notes:
            note.setProperty("role", "note")
            steps.addWidget(note)
        steps.addStretch(1)
        scroll.setWidget(inner)
        # Some steps stay in view whatever the form below needs; when the room is short, the
        # wizard's page scrolls rather than the steps being squeezed away.
        scroll.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        self.steps_scroll = scroll
        column.addWidget(scroll, 1)

        form = QWidget(side)
        form.setObjectName("icloudForm")
        fields = QVBoxLayout(form)
        fields.setContentsMargins(0, 0, 0, 0)
        fields.setSpacing(4)
        self.password_label = QLabel(self.tr("&Paste the app-specific password:"), form)
        self.password_label.setObjectName("passwordLabel")
        self.password_label.setWordWrap(True)
        self.password_label.setAccessibleName(self.tr("Paste the app-specific password:"))
        self.password = QLineEdit(form)
        self.password.setObjectName("appPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("xxxx-xxxx-xxxx-xxxx"))
        self.password.setAccessibleName(self.tr("App-specific password"))
        self.password.setAccessibleDescription(
            self.tr("Paste the password Apple showed, such as abcd-efgh-ijkl-mnop.")
        )
        self.password.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhNoAutoUppercase
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhSensitiveData
        )
        self.password_label.setBuddy(self.password)
        self.show_password = QCheckBox(self.tr("S&how password"), form)
        self.show_password.setObjectName("showPassword")
        self.show_password.setAccessibleName(self.tr("Show password"))
        self.password_problem = problem_label(form, name="passwordProblem")
        self.other_account = QCheckBox(self.tr("My Apple Account uses another a&ddress"), form)
        self.other_account.setObjectName("otherAppleAccount")
        self.other_account.setAccessibleName(
            self.tr("My Apple Account uses an address other than this iCloud mail address")
        )
        self.apple_account_label = QLabel(self.tr("Apple &Account address:"), form)
        self.apple_account_label.setObjectName("appleAccountLabel")
        self.apple_account_label.setWordWrap(True)
        self.apple_account_label.setAccessibleName(self.tr("Apple Account address:"))
        self.apple_account = QLineEdit(form)
        self.apple_account.setObjectName("appleAccount")
        self.apple_account.setPlaceholderText(self.tr("name@example.com"))
        self.apple_account.setAccessibleName(self.tr("Apple Account address"))
        self.apple_account.setAccessibleDescription(
            self.tr("Calendars and contacts sign in with this address.")
        )
        self.apple_account.setInputMethodHints(
            Qt.InputMethodHint.ImhEmailCharactersOnly | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        self.apple_account_label.setBuddy(self.apple_account)
        self.apple_account_hint = self._text(
            self.tr(
                "Calendars and contacts sign in with this address; mail uses your iCloud address."
            ),
            form,
            "appleAccountHint",
        )
        self.apple_account_problem = problem_label(form, name="appleAccountProblem")
        self.other_problem = problem_label(form, name="signInProblem")
        for widget in (
            self.password_label,
            self.password,
            self.show_password,
            self.password_problem,
            self.other_account,
            self.apple_account_label,
            self.apple_account,
            self.apple_account_hint,
            self.apple_account_problem,
            self.other_problem,
        ):
            fields.addWidget(widget)
        for widget in (self.apple_account_label, self.apple_account, self.apple_account_hint):
            widget.setVisible(False)
        column.addWidget(form)
        side.setMinimumWidth(self.fontMetrics().averageCharWidth() * 30)
        return side

    def _text(self, text: str, parent: QWidget, name: str) -> QLabel:
        """A wrapped, mouse-selectable label (not a Tab stop), read out with its text."""
        label = wrapped(text, parent, name=name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setAccessibleName(text)
        return label

    # -- the page contract ---------------------------------------------------------------------

    @property
    def language(self) -> Language:
        return self.state.language if self.state is not None else DEFAULT_LANGUAGE

    def show_state(self, state: WizardState) -> None:
        self.state = state
        self._show_app_name(state.app)
        previous = state.answer if isinstance(state.answer, SignInAnswer) else state.sign_in
        if previous is not None and previous.kind is SignInKind.ICLOUD_APP_PASSWORD:
            kept = self.context.vault.get(previous.secret)
            if kept is not None:
                self._ref = previous.secret
                self.password.setText(kept.reveal())
            self.other_account.setChecked(bool(previous.apple_account.strip()))
            self.apple_account.setText(previous.apple_account)
        elif state.address != self._address:  # another account: nothing of the last one
            self.password.clear()
            self._forget()
            self.other_account.setChecked(False)
            self.apple_account.clear()
        self._address = state.address
        for label in (self.apple_account_problem, self.other_problem):
            show_problem(label, "")
        self._check_shape()

    def answer(self) -> SignInAnswer | None:
        """The app-specific password (kept in the vault; one reference per distinct text)."""
        text = self.password.text().strip()
        if not text:
            self._forget()
            return None
        apple = self.apple_account.text().strip() if self.other_account.isChecked() else ""
        if self.other_account.isChecked() and not apple:
            return None
        kept = self.context.vault.get(self._ref)
        if kept is None or kept.reveal() != text:
            self._forget()
            self._ref = self.context.vault.keep(Secret(text))
        return SignInAnswer(SignInKind.ICLOUD_APP_PASSWORD, secret=self._ref, apple_account=apple)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        focus: QWidget | None = None
        for problem in problems:
            text = render(problem.text, self.language)
            warning = not problem.blocking
            if problem.field == "secret":
                show_problem(self.password_problem, text, warning=warning)
                focus = focus or self.password
            elif problem.field == "apple_account":
                self.other_account.setChecked(True)
                show_problem(self.apple_account_problem, text, warning=warning)
                focus = focus or self.apple_account
            else:
                show_problem(self.other_problem, text, warning=warning)
        (focus or self.password).setFocus()

    def enter(self) -> None:
        """Shown: open Apple's page (the first time: load Qt WebEngine, make the browser)."""
        if self.view is None:
            self._start_browser()
        self._check_shape()

    def leave(self) -> None:
        self._timer.stop()
        if self.view is not None:
            self.view.stop()

    # -- the password fields -------------------------------------------------------------------

    def _forget(self) -> None:
        self.context.vault.forget(self._ref)
        self._ref = None

    def _password_changed(self, _text: str) -> None:
        show_problem(self.password_problem, "")
        self._timer.start()
        self.ready_changed.emit()

    def _check_shape(self) -> None:
        """Warn (without blocking) when the text does not look like an app-specific password."""
        self._timer.stop()
        warnings = app_password_warnings(self.password.text())
        text = render(warnings[0].text, self.language) if warnings else ""
        show_problem(self.password_problem, text, warning=True)

    def _toggle_echo(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)

    def _toggle_other_account(self, checked: bool) -> None:
        for widget in (self.apple_account_label, self.apple_account, self.apple_account_hint):
            widget.setVisible(checked)
        if not checked:
            show_problem(self.apple_account_problem, "")
        elif self.isVisible():
            self.apple_account.setFocus()
        self.ready_changed.emit()

    def _apple_account_changed(self, _text: str) -> None:
        show_problem(self.apple_account_problem, "")
        self.ready_changed.emit()

    def _show_app_name(self, app: MailApp | None) -> None:
        names = {
            MailApp.NEW_OUTLOOK: "Outlook",
            MailApp.CLASSIC_OUTLOOK: "Outlook",
            MailApp.THUNDERBIRD: "Thunderbird",
            MailApp.APPLE_MAIL: self.tr("Apple Mail"),
        }
        app_name = names.get(app, self.tr("Mail app")) if app is not None else self.tr("Mail app")
        self.name_suggestion = self.tr("Mail Setup – %1").replace("%1", app_name)
        step = self.step_labels[5]
        # Translators: "Create" is Apple's button; in Japanese 「作成」
        text = self.tr(
            "Choose the add button (+), give the password a name such as “%1” and choose Create."
        ).replace("%1", self.name_suggestion)
        step.setText(text)
        step.setAccessibleName(text)
        self.suggested_name.setText(self.name_suggestion)
        self.suggested_name.setAccessibleName(
            self.tr("Suggested name: %1").replace("%1", self.name_suggestion)
        )

    def _copy_name(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.name_suggestion)

    # -- the browser ---------------------------------------------------------------------------

    def _open_in_browser(self) -> None:
        self.context.open_url(self.account_url)

    def _start_browser(self) -> None:
        """Load Qt WebEngine (its environment set first), make the view and open the page."""
        from app.ui.qt_env import prepare_webengine

        prepare_webengine(resolve=self.context.services.net_options.resolve)
        from PySide6.QtWebEngineWidgets import QWebEngineView

        from app.ui import browser as web

        self._web = web
        view = QWebEngineView(self._browser_side)
        view.setObjectName("applePage")
        view.setAccessibleName(self.tr("Apple's account page"))
        view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        view.setMinimumSize(280, 240)
        profile, page = web.private_page(self, self.language, view)
        page.certificateError.connect(self._certificate_error)
        page.loadingChanged.connect(self._loading_changed)
        page.loadProgress.connect(self._show_progress)
        page.urlChanged.connect(self._url_changed)
        page.newWindowRequested.connect(self._new_window)
        view.setPage(page)
        profile.setParent(self)  # last (see private_page)
        self.view, self.web_page, self.profile = view, page, profile

        self._browser_box.replaceWidget(self.placeholder, view)
        self.placeholder.hide()
        self.placeholder.deleteLater()
        QWidget.setTabOrder(self.reload, view)
        self._show_host(QUrl(self.account_url), secure=None)
        page.load(QUrl(self.account_url))

    def _show_host(self, url: QUrl, *, secure: bool | None) -> None:
        """Show ``url``'s host with a padlock for HTTPS (``secure`` None: by the scheme) and a
        warning sign otherwise."""
        self.host.setText(url.host() or url.toString())
        if secure is None:
            secure = url.scheme().lower() == "https"
        if secure and self._web is not None:
            ratio = self.devicePixelRatioF() or 1.0
            colour = self.palette().color(self.foregroundRole())
            self.padlock.setPixmap(self._web._padlock(16, ratio, colour))
            label = self.tr("Secure connection")
        elif secure:
            self.padlock.setPixmap(QPixmap())
            label = self.tr("Secure connection")
        else:
            self.padlock.setPixmap(QPixmap())
            self.padlock.setText("!")
            label = self.tr("Not secure")
        self.padlock.setToolTip(label)
        self.padlock.setAccessibleName(label)

    def _show_progress(self, percent: int) -> None:
        self.progress.setValue(percent)
        self.progress.setVisible(percent < 100)

    def _url_changed(self, url: QUrl) -> None:
        if self.failure is None:
            self._show_host(url, secure=None)

    def _show_failure(self, error: SetupError, explanation: str) -> None:
        self.failure = error
        parts = [render(error.message, self.language)]
        if error.fix is not None:
            parts.append(render(error.fix, self.language))
        parts.append(explanation)
        show_problem(self.page_problem, " ".join(parts))
        self.trouble.setVisible(True)
        self.progress.setVisible(False)

    def _clear_failure(self) -> None:
        self.failure = None
        show_problem(self.page_problem, "")
        self.trouble.setVisible(False)

    def _try_again(self) -> None:
        if self.web_page is None:
            return
        self._clear_failure()
        self._show_host(QUrl(self.account_url), secure=None)
        self.web_page.load(QUrl(self.account_url))

    def navigation_requested(
        self, url: QUrl, navigation: QWebEnginePage.NavigationType, main_frame: bool
    ) -> bool:
        """The page's question (see :class:`app.ui.browser.NavigationOwner`)."""
        from PySide6.QtWebEngineCore import QWebEnginePage

        clicked = navigation == QWebEnginePage.NavigationType.NavigationTypeLinkClicked
        return self._navigation_requested(url, clicked=clicked, main=main_frame)

    def _navigation_requested(self, url: QUrl, *, clicked: bool, main: bool) -> bool:
        """The page's question: load ``url``? Plain-HTTP pages are refused; a clicked link to a
        host that is not Apple's opens in the system browser."""
        if not main:
            return True
        scheme = url.scheme().lower()
        start_host = _host_of(QUrl(self.account_url))
        if (
            clicked
            and scheme in ("http", "https")
            and not _is_apple_host(_host_of(url), start_host)
        ):
            self._open_outside(url)
            return False
        if scheme == "http" and self._web is not None:
            self._show_host(url, secure=False)
            self._show_failure(
                self._web.insecure_failure(url),
                self.tr("The page was not opened, because it was not protected by HTTPS."),
            )
            return False
        if scheme == "https" and self.failure is not None:
            self._clear_failure()
        return True

    def _open_outside(self, url: QUrl) -> None:
        text = url.toString()
        self.opened_outside.append(text)
        self.context.open_url(text)

    def _new_window(self, request: QWebEngineNewWindowRequest) -> None:
        """A link that opens a new window: Apple's pages load here, others in the system
        browser; windows a script opens by itself are dropped."""
        url = request.requestedUrl()
        if not request.isUserInitiated() or url.scheme().lower() not in ("http", "https"):
            return
        if url.scheme().lower() == "https" and _is_apple_host(
            _host_of(url), _host_of(QUrl(self.account_url))
        ):
            if self.web_page is not None:
                self.web_page.load(url)
        else:
            self._open_outside(url)

    def _certificate_error(self, error: QWebEngineCertificateError) -> None:
        error.rejectCertificate()  # never accepted, whatever the error
        if not error.isMainFrame() or self._web is None:
            return
        self._show_host(error.url(), secure=False)
        self._show_failure(
            self._web.certificate_failure(error),
            self.tr(
                "The page was not opened and nothing was sent to it. You can open Apple's page "
                "in your own browser instead."
            ),
        )

    def _loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        from PySide6.QtWebEngineCore import QWebEngineLoadingInfo

        status = info.status()
        if status != QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus or self._web is None:
            return
        domains = QWebEngineLoadingInfo.ErrorDomain
        domain = info.errorDomain()
        if domain in (domains.HttpStatusCodeDomain, domains.CertificateErrorDomain):
            return  # the server's own error page; or reported by certificateError
        if info.errorCode() == _ABORTED or domain == domains.NoErrorDomain:
            return  # replaced by another load, or refused here
        if self.failure is not None:
            return
        self._show_failure(
            self._web.load_failure(info.url(), info.errorCode(), info.errorString()),
            self.tr(
                "Check your internet connection and try again, or open the page in your own "
                "browser."
            ),
        )
