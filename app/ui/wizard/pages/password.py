"""The sign-in panel for a password or an app password (sign-in kinds PASSWORD and
APP_PASSWORD): the password field (hidden, with a "show" toggle), an optional sign-in name for
accounts whose login is not the address, and the provider's own hints and links from the
built-in catalog (where to create an app password, the provider's help page). For an app
password it says why one is needed.

The password goes into the window's vault at once; the answer holds only its reference. One
reference is kept per distinct text (``answer()`` is asked often, for the Continue button):
when the text changes the old entry is forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.checks.base import Secret
from app.core.discovery.catalog import MX_ONLY_NOTES, Provider, default_catalog
from app.core.flow import Answer, Problem, SecretRef, SignInAnswer, SignInKind, WizardState, rules
from app.core.texts import Language, Text, render
from app.ui.wizard.page import PageContext, problem_label, show_problem, wrapped

#: The provider notes about signing in, shown on this panel (the others, about IMAP being
#: switched on, POP or port 25, belong to the finding and checking pages).
SIGN_IN_NOTES = (
    "app_password",
    "app_password_with_2fa",
    "app_password_needs_2sv",
    "two_factor_required",
    "two_step_first",
    "password_change_revokes",
    "app_passwords_reset",
    "mail_password",
    "biglobe_password",
    "imap_id_and_password",
    "wifi_off_to_check",
    "password_is_generated",
    "yahoo_japan_id",
    "passwordless_accounts",
    "custom_domain_login",
    "primary_address_login",
    "alias_login",
    "workspace_admin",
)
_ASK_USERNAME_KEYS = ("discovery.catalog.ask-username", "discovery.catalog.ask-username-generic")


def provider_for(state: WizardState) -> Provider | None:
    """The built-in catalog's entry for the state's provider, if it has one."""
    provider_id = rules.provider_id(state)
    return None if provider_id is None else default_catalog().get(provider_id)


def provider_name(state: WizardState) -> str:
    config = state.config
    if config is not None and config.provider_name:
        return config.provider_name
    detection = state.detection
    if detection is not None and detection.provider is not None:
        return detection.provider.name
    provider = provider_for(state)
    return provider.name if provider is not None else ""


def sign_in_hints(state: WizardState) -> tuple[Text, ...]:
    """The provider's notes about signing in, in the catalog's order; first the hint saying
    which sign-in name to type when the settings ask for one (the note it quotes is then not
    shown again)."""
    provider = provider_for(state)
    if provider is None:
        return ()
    config = state.config
    hints = config.hints if config is not None and config.provider_id == provider.id else ()
    found: list[Text] = [h for h in hints if h.key in _ASK_USERNAME_KEYS]
    quoted = [h.params.get("what") for h in found]
    wanted = frozenset(SIGN_IN_NOTES)
    for key, text in provider.notes.items():
        if key not in wanted or text in quoted:
            continue
        if key in MX_ONLY_NOTES and text not in hints:
            continue  # a custom domain's note: only when detection added it to the settings
        found.append(text)
    return tuple(found)


def _stacked(*widgets: QWidget) -> QVBoxLayout:
    """A form field made of several widgets one below the other (a field, its note, its
    problem), so hidden ones take no room."""
    column = QVBoxLayout()
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(4)
    for widget in widgets:
        column.addWidget(widget)
    return column


class PasswordPanel(QWidget):
    """Sign-in with a password or an app password. The interface every sign-in panel has:
    ``show_state``, ``answer``, ``show_problems``, ``enter``, ``leave``, and the signals
    ``ready_changed`` and ``answered``."""

    ready_changed = Signal()
    answered = Signal(object)

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.state: WizardState | None = None
        self.kind = SignInKind.PASSWORD
        self._ref: SecretRef | None = None
        self._owned = False  # whether this panel made self._ref (else a state holds it)
        self.setObjectName("passwordPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)

        self.intro = wrapped("", self, name="passwordIntro")
        layout.addWidget(self.intro)
        self.why = wrapped("", self, name="appPasswordWhy")
        layout.addWidget(self.why)

        self.hints = QFrame(self)
        self.hints.setObjectName("providerHints")
        self.hints.setFrameShape(QFrame.Shape.StyledPanel)
        self.hints_layout = QVBoxLayout(self.hints)
        self.hints_layout.setContentsMargins(12, 10, 12, 10)
        self.hints_layout.setSpacing(6)
        self.hint_labels: list[QLabel] = []
        links = QHBoxLayout()
        links.setContentsMargins(0, 0, 0, 0)
        self.create_link = QPushButton(self.tr("Create an app password"), self.hints)
        self.create_link.setObjectName("appPasswordLink")
        self.create_link.setAccessibleName(self.tr("Create an app password"))
        self.create_link.setAccessibleDescription(
            self.tr("Opens your provider's page for app passwords in your web browser.")
        )
        self.create_link.setAutoDefault(False)
        self.create_link.clicked.connect(lambda: self._open("app_password_url"))
        self.help_link = QPushButton(self.tr("Open the provider's help page"), self.hints)
        self.help_link.setObjectName("helpLink")
        self.help_link.setAccessibleName(self.tr("Open the provider's help page"))
        self.help_link.setAccessibleDescription(
            self.tr("Opens your provider's help for mail apps in your web browser.")
        )
        self.help_link.setAutoDefault(False)
        self.help_link.clicked.connect(lambda: self._open("help_url"))
        links.addWidget(self.create_link)
        links.addWidget(self.help_link)
        links.addStretch(1)
        self.hints_layout.addLayout(links)
        layout.addWidget(self.hints)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.password_label = QLabel(self.tr("&Password:"), self)
        self.password = QLineEdit(self)
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(self.tr("Password"))
        self.password.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
            | Qt.InputMethodHint.ImhSensitiveData
        )
        self.password_label.setBuddy(self.password)
        self.show_password = QCheckBox(self.tr("&Show the password"), self)
        self.show_password.setObjectName("showPassword")
        self.show_password.setAccessibleName(self.tr("Show the password"))
        self.show_password.toggled.connect(self._show_toggled)
        self.show_password.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.password_problem = problem_label(self, name="passwordProblem")
        form.addRow(
            self.password_label,
            _stacked(self.password, self.show_password, self.password_problem),
        )
        self.username_label = QLabel(self.tr("Sign-in &name:"), self)
        self.username = QLineEdit(self)
        self.username.setObjectName("username")
        self.username.setAccessibleName(self.tr("Sign-in name"))
        self.username.setAccessibleDescription(
            self.tr("Only needed when you sign in with something other than your email address.")
        )
        self.username.setInputMethodHints(Qt.InputMethodHint.ImhNoAutoUppercase)
        self.username_label.setBuddy(self.username)
        self.username_note = QLabel(
            self.tr("Only needed when you sign in with something other than your email address."),
            self,
        )
        self.username_note.setObjectName("usernameNote")
        self.username_note.setWordWrap(True)
        self.username_problem = problem_label(self, name="usernameProblem")
        form.addRow(
            self.username_label,
            _stacked(self.username, self.username_note, self.username_problem),
        )
        layout.addLayout(form)
        layout.addStretch(1)

        self.setTabOrder(self.password, self.show_password)
        self.setTabOrder(self.show_password, self.username)
        self.setTabOrder(self.username, self.create_link)
        self.setTabOrder(self.create_link, self.help_link)
        self.setFocusProxy(self.password)

        self.password.textChanged.connect(self._password_changed)
        self.username.textChanged.connect(self._username_changed)
        self._urls: dict[str, str] = {}

    # -- the panel -----------------------------------------------------------------------------

    @property
    def language(self) -> Language:
        return self.state.language if self.state is not None else "en"

    def core_text(self, text: Text) -> str:
        return render(text, self.language)

    def show_state(self, state: WizardState) -> None:
        self.state = state
        kind = rules.sign_in_kind(state)
        self.kind = kind if kind is not None else SignInKind.PASSWORD
        app_password = self.kind is not SignInKind.PASSWORD
        address = "" if state.address is None else str(state.address)
        name = provider_name(state)
        self._show_texts(app_password, address, name)
        self._show_hints(state, name)
        self._show_username_placeholder(state, address)

        previous = state.answer if isinstance(state.answer, SignInAnswer) else state.sign_in
        self.show_password.setChecked(False)
        self._ref = None
        self._owned = False
        self.password.blockSignals(True)
        self.username.blockSignals(True)
        try:
            if previous is not None and previous.kind is self.kind:
                secret = self.context.vault.get(previous.secret)
                self.password.setText(secret.reveal() if secret is not None else "")
                self._ref = previous.secret if secret is not None else None
                self.username.setText(previous.username)
                self.password.selectAll()
            else:
                self.password.clear()
                self.username.clear()
        finally:
            self.password.blockSignals(False)
            self.username.blockSignals(False)
        show_problem(self.password_problem, "")
        show_problem(self.username_problem, "")
        self.ready_changed.emit()

    def answer(self) -> Answer | None:
        text = self.password.text()
        if not text or self.state is None:
            return None
        return SignInAnswer(
            self.kind, secret=self._keep(text), username=self.username.text().strip()
        )

    def show_problems(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            label = self.username_problem if problem.field == "username" else self.password_problem
            show_problem(label, self.problem_text(problem), warning=not problem.blocking)
        if any(p.field == "username" for p in problems):
            self.username.setFocus()
        else:
            self.password.setFocus()

    def problem_text(self, problem: Problem) -> str:
        return render(problem.text, self.language)

    def enter(self) -> None:
        """Nothing runs on this panel."""

    def leave(self) -> None:
        self.show_password.setChecked(False)  # the password is hidden again when back here

    # -- helpers -------------------------------------------------------------------------------

    def _keep(self, text: str) -> SecretRef:
        """The vault reference for ``text``: the one kept already when the text is the same,
        else a new one (and the old entry forgotten when this panel made it: an entry a state
        of the flow's history holds stays, for Back)."""
        vault = self.context.vault
        kept = vault.get(self._ref)
        if self._ref is not None and kept is not None and kept.reveal() == text:
            return self._ref
        if self._owned:
            vault.forget(self._ref)
        self._ref = vault.keep(Secret(text))
        self._owned = True
        return self._ref

    def _show_texts(self, app_password: bool, address: str, name: str) -> None:
        if app_password:
            intro = self.tr("Enter an app password for %1.").replace("%1", address)
            if name:
                why = self.tr(
                    "%1 does not let mail apps sign in with your normal password. Create an app "
                    "password on the %1 website: a separate password only for mail apps, which "
                    "you can revoke at any time. Then enter it here."
                ).replace("%1", name)
            else:
                why = self.tr(
                    "This account does not let mail apps sign in with your normal password. "
                    "Create an app password on your provider's website: a separate password "
                    "only for mail apps, which you can revoke at any time. Then enter it here."
                )
            label = self.tr("App &password:")
            accessible = self.tr("App password")
        else:
            if name:
                intro = (
                    self.tr("Enter the password of your %1 account %2.")
                    .replace("%1", name)
                    .replace("%2", address)
                )
            else:
                intro = self.tr("Enter the password for %1.").replace("%1", address)
            why = self.tr(
                "The wizard checks it with your provider's servers. It is saved only in this "
                "computer's protected password store, never in a file."
            )
            label = self.tr("&Password:")
            accessible = self.tr("Password")
        self.intro.setText(intro)
        self.intro.setAccessibleName(intro)
        self.why.setText(why)
        self.why.setAccessibleName(why)
        self.password_label.setText(label)
        self.password.setAccessibleName(accessible)

    def _show_hints(self, state: WizardState, name: str) -> None:
        texts = [self.core_text(text) for text in sign_in_hints(state)]
        while len(self.hint_labels) < len(texts):
            label = wrapped("", self.hints, name=f"hint-{len(self.hint_labels)}")
            self.hints_layout.insertWidget(len(self.hint_labels), label)
            self.hint_labels.append(label)
        for index, label in enumerate(self.hint_labels):
            text = texts[index] if index < len(texts) else ""
            label.setText(text)
            label.setAccessibleName(text)
            label.setVisible(bool(text))
        provider = provider_for(state)
        self._urls = {}
        if provider is not None and provider.app_password_url:
            self._urls["app_password_url"] = provider.app_password_url
        if provider is not None and provider.help_url:
            self._urls["help_url"] = provider.help_url
        self.create_link.setVisible("app_password_url" in self._urls)
        self.create_link.setToolTip(self._urls.get("app_password_url", ""))
        self.help_link.setVisible("help_url" in self._urls)
        self.help_link.setToolTip(self._urls.get("help_url", ""))
        if name:
            text = self.tr("Open the %1 help page").replace("%1", name)
        else:
            text = self.tr("Open the provider's help page")
        self.help_link.setText(text)
        self.help_link.setAccessibleName(text)
        self.hints.setVisible(bool(texts) or bool(self._urls))

    def _show_username_placeholder(self, state: WizardState, address: str) -> None:
        config = state.config
        usual = config.incoming.username if config is not None else None
        default = usual or address
        self.username.setPlaceholderText(
            self.tr("Leave empty to sign in as %1").replace("%1", default)
        )

    def _open(self, which: str) -> None:
        url = self._urls.get(which)
        if url:
            self.context.open_url(url)

    def _show_toggled(self, shown: bool) -> None:
        self.password.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )

    def _password_changed(self, _text: str) -> None:
        show_problem(self.password_problem, "")
        self.ready_changed.emit()

    def _username_changed(self, _text: str) -> None:
        show_problem(self.username_problem, "")
        self.ready_changed.emit()
