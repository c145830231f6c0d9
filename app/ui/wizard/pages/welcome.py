"""Welcome: the email address (and, optionally, the name others see).

The address is checked as it is typed, after a short pause, and never while an input method is
composing (Japanese input shows unconverted text until the person confirms it). Full-width
characters are fine (the core normalises them). A likely typo of a well-known domain offers
"Did you mean …?", which fills the field in. Links lead to helpdesk mode and to the settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLineEdit, QWidget

from app.core.errors import InvalidAddressError
from app.core.flow import (
    AddressEntered,
    Answer,
    Problem,
    SettingsChosen,
    Step,
    TroubleshootChosen,
    WizardState,
    validate,
)
from app.core.model import EmailAddress
from app.ui.wizard.page import (
    PageContext,
    WizardPage,
    link_button,
    problem_label,
    show_problem,
    wrapped,
)

#: How long typing must pause before the address is checked, in milliseconds.
CHECK_DELAY_MS = 450


class _Composition(QObject):
    """Knows whether an input method is composing text in the watched field."""

    def __init__(self, field: QLineEdit, changed: QTimer) -> None:
        super().__init__(field)
        self.composing = False
        self._changed = changed
        field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.InputMethod and isinstance(event, QInputMethodEvent):
            self.composing = bool(event.preeditString())
            if not self.composing:
                self._changed.start()
        return False


class WelcomePage(WizardPage):
    step = Step.WELCOME

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.intro = wrapped(
            self.tr(
                "Type your email address. We will find the right settings for it, check that "
                "they work, and set up your mail app."
            ),
            self,
            name="intro",
        )
        self.layout_.addWidget(self.intro)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.address = QLineEdit(self)
        self.address.setObjectName("address")
        self.address.setPlaceholderText(self.tr("name@example.com"))
        self.address.setAccessibleName(self.tr("Email address"))
        self.address.setInputMethodHints(
            Qt.InputMethodHint.ImhEmailCharactersOnly | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        self.address.setClearButtonEnabled(True)
        form.addRow(self.tr("&Email address:"), self.address)
        self.address_problem = problem_label(self, name="addressProblem")
        form.addRow("", self.address_problem)
        self.suggestion = link_button("", self, name="suggestion")
        self.suggestion.setVisible(False)
        self.suggestion.clicked.connect(self._use_suggestion)
        form.addRow("", self.suggestion)
        self.name = QLineEdit(self)
        self.name.setObjectName("displayName")
        self.name.setPlaceholderText(self.tr("Optional"))
        self.name.setAccessibleName(self.tr("Your name"))
        self.name.setAccessibleDescription(
            self.tr("The name people see when you send them mail. You can leave it empty.")
        )
        form.addRow(self.tr("Your &name:"), self.name)
        self.name_problem = problem_label(self, name="nameProblem")
        form.addRow("", self.name_problem)
        self.layout_.addLayout(form)
        self.layout_.addStretch(1)

        links = QHBoxLayout()
        self.troubleshoot = link_button(
            self.tr("Something stopped working? Get help"),
            self,
            name="troubleshootLink",
        )
        self.troubleshoot.setAccessibleName(
            self.tr("Something stopped working, or I am from the helpdesk")
        )
        self.troubleshoot.clicked.connect(lambda: self.answered.emit(TroubleshootChosen()))
        self.settings_link = link_button(self.tr("Settings"), self, name="settingsLink")
        self.settings_link.clicked.connect(lambda: self.answered.emit(SettingsChosen()))
        links.addWidget(self.troubleshoot)
        links.addStretch(1)
        links.addWidget(self.settings_link)
        self.layout_.addLayout(links)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self._check_now)
        self._composition = _Composition(self.address, self._timer)
        self.address.textEdited.connect(self._typed)
        self.address.textChanged.connect(lambda _text: self.ready_changed.emit())
        self.name.textEdited.connect(lambda _text: self._timer.start())
        self.setFocusProxy(self.address)
        self._suggested = ""

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        previous = state.answer
        if isinstance(previous, AddressEntered):
            self.address.setText(previous.address)
            self.name.setText(previous.display_name)
        elif state.address is not None:
            self.address.setText(str(state.address))
            self.name.setText(state.display_name)
        self._show_suggestion("")
        show_problem(self.address_problem, "")
        show_problem(self.name_problem, "")

    def answer(self) -> Answer | None:
        if not self.address.text().strip() or self._composition.composing:
            return None
        return AddressEntered(self.address.text(), self.name.text())

    def show_problems(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            label = self.name_problem if problem.field == "display_name" else self.address_problem
            show_problem(label, self.problem_text(problem), warning=not problem.blocking)
        (self.name if any(p.field == "display_name" for p in problems) else self.address).setFocus()

    # -- checking as you type ------------------------------------------------------------------

    def _typed(self, _text: str) -> None:
        show_problem(self.address_problem, "")
        self._show_suggestion("")
        self._timer.start()

    def _check_now(self) -> None:
        if self._composition.composing or self.state is None:
            return
        text = self.address.text()
        if not text.strip():
            show_problem(self.address_problem, "")
            return
        problems = validate(self.state, AddressEntered(text, self.name.text()))
        show_problem(self.address_problem, "")
        show_problem(self.name_problem, "")
        if problems:
            self.show_problems(problems)
            return
        self._show_suggestion(_suggestion_for(text))

    def _show_suggestion(self, address: str) -> None:
        self._suggested = address
        if address:
            text = self.tr("Did you mean %1?").replace("%1", address)
            self.suggestion.setText(text)
            self.suggestion.setAccessibleName(text)
        self.suggestion.setVisible(bool(address))

    def _use_suggestion(self) -> None:
        if self._suggested:
            self.address.setText(self._suggested)
            self._show_suggestion("")
            self.address.setFocus()


def _suggestion_for(text: str) -> str:
    from app.core.discovery.typos import suggest_address

    try:
        return suggest_address(EmailAddress.parse(text)) or ""
    except InvalidAddressError:
        return ""
