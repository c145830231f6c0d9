"""Which app will you use? One choice per mail app offered on this platform (Apple Mail on macOS
only), each with a line saying what it is and whether it is installed here. The app chosen
before, else the organisation's default, else the first installed one is preselected. Below the
choice, the advice for the chosen app with this provider (for example: new Outlook signs in to
iCloud by itself), updated as the choice changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.flow import Answer, AppChosen, MailApp, Problem, Step, WizardState, rules
from app.ui.wizard.page import PageContext, WizardPage, problem_label, show_problem, wrapped


class ChooseAppPage(WizardPage):
    step = Step.CHOOSE_APP

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.intro = wrapped(
            self.tr(
                "Choose the app you will read this account's mail in. The wizard checks the "
                "account for that app and sets it up there."
            ),
            self,
            name="intro",
        )
        self.intro.setAccessibleName(self.intro.text())
        self.layout_.addWidget(self.intro)

        names = {
            MailApp.NEW_OUTLOOK: self.tr("&New Outlook"),
            MailApp.CLASSIC_OUTLOOK: self.tr("C&lassic Outlook"),
            MailApp.THUNDERBIRD: self.tr("&Thunderbird"),
            MailApp.APPLE_MAIL: self.tr("Apple &Mail"),
            MailApp.OTHER: self.tr("An&other app"),
        }
        descriptions = {
            MailApp.NEW_OUTLOOK: self.tr(
                "The new Outlook for Windows, which comes with Windows 11 and replaces Mail "
                "and Calendar."
            ),
            MailApp.CLASSIC_OUTLOOK: self.tr(
                "Outlook from Microsoft 365 or Office, with the File menu and Account Settings."
            ),
            MailApp.THUNDERBIRD: self.tr("The free mail app from Mozilla."),
            MailApp.APPLE_MAIL: self.tr("The Mail app that comes with your Mac."),
            MailApp.OTHER: self.tr(
                "Any other mail app, or your phone. You will get the settings to enter there."
            ),
        }
        self.installed_text = self.tr("Installed on this computer.")

        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        self.options = QWidget(self)
        self.options.setObjectName("apps")
        column = QVBoxLayout(self.options)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        self.rows: dict[MailApp, QWidget] = {}
        self.buttons: dict[MailApp, QRadioButton] = {}
        self.descriptions: dict[MailApp, QLabel] = {}
        self.installed: dict[MailApp, QLabel] = {}
        for app in MailApp:
            option = QWidget(self.options)
            option.setObjectName(f"option-{app.value}")
            grid = QGridLayout(option)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setHorizontalSpacing(0)
            grid.setVerticalSpacing(2)
            button = QRadioButton(names[app], option)
            button.setObjectName(f"app-{app.value}")
            button.setAccessibleName(names[app].replace("&", ""))
            button.setAccessibleDescription(descriptions[app])
            self.choices.addButton(button)
            description = QLabel(descriptions[app], option)
            description.setObjectName(f"description-{app.value}")
            description.setWordWrap(True)
            description.setBuddy(button)
            installed = QLabel(self.installed_text, option)
            installed.setObjectName(f"installed-{app.value}")
            installed.setWordWrap(True)
            font = installed.font()
            font.setItalic(True)
            installed.setFont(font)
            installed.setVisible(False)
            grid.addWidget(button, 0, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(description, 1, 1)
            grid.addWidget(installed, 2, 1)
            style = button.style()
            indent = style.pixelMetric(style.PixelMetric.PM_ExclusiveIndicatorWidth)
            spacing = style.pixelMetric(style.PixelMetric.PM_RadioButtonLabelSpacing)
            grid.setColumnMinimumWidth(0, indent + spacing)
            grid.setColumnStretch(1, 1)
            column.addWidget(option)
            self.rows[app] = option
            self.buttons[app] = button
            self.descriptions[app] = description
            self.installed[app] = installed
        self.layout_.addWidget(self.options)
        self.app_problem = problem_label(self, name="appProblem")
        self.layout_.addWidget(self.app_problem)

        self.advice = QFrame(self)
        self.advice.setObjectName("advice")
        self.advice.setFrameShape(QFrame.Shape.StyledPanel)
        self.advice_layout = QVBoxLayout(self.advice)
        self.advice_layout.setContentsMargins(12, 10, 12, 10)
        self.advice_layout.setSpacing(6)
        self.advice_labels: list[QLabel] = []
        self.advice.setVisible(False)
        self.layout_.addWidget(self.advice)
        self.layout_.addStretch(1)

        self.choices.buttonToggled.connect(self._toggled)
        self.setFocusProxy(self.buttons[MailApp.NEW_OUTLOOK])

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        offered = rules.offered_apps(state.context.platform)
        for app, button in self.buttons.items():
            shown = app in offered
            self.rows[app].setVisible(shown)
            button.setVisible(shown)
            self.descriptions[app].setVisible(shown)
            here = shown and app in state.context.installed
            self.installed[app].setVisible(here)
            description = self.descriptions[app].text()
            button.setAccessibleDescription(
                f"{description} {self.installed_text}" if here else description
            )
        previous = state.answer
        chosen = (
            previous.app
            if isinstance(previous, AppChosen) and previous.app in offered
            else rules.preselected_app(state)
        )
        self.buttons[chosen].setChecked(True)
        self.setFocusProxy(self.buttons[chosen])
        show_problem(self.app_problem, "")
        self._show_advice(chosen)
        self.ready_changed.emit()

    def answer(self) -> Answer | None:
        app = self.chosen()
        return None if app is None else AppChosen(app)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        text = " ".join(self.problem_text(p) for p in problems)
        show_problem(self.app_problem, text, warning=all(not p.blocking for p in problems))

    # -- the choice ----------------------------------------------------------------------------

    def chosen(self) -> MailApp | None:
        for app, button in self.buttons.items():
            if button.isChecked() and not button.isHidden():
                return app
        return None

    def _toggled(self, button: object, checked: bool) -> None:
        if not checked:
            return
        app = next((a for a, b in self.buttons.items() if b is button), None)
        if app is None:
            return
        show_problem(self.app_problem, "")
        self._show_advice(app)
        self.ready_changed.emit()

    def _show_advice(self, app: MailApp) -> None:
        texts: tuple[str, ...] = ()
        if self.state is not None:
            advice = rules.advice(dataclasses.replace(self.state, app=app))
            texts = tuple(self.core_text(text) for text in advice)
        while len(self.advice_labels) < len(texts):
            label = wrapped("", self.advice, name=f"advice-{len(self.advice_labels)}")
            self.advice_layout.addWidget(label)
            self.advice_labels.append(label)
        for index, label in enumerate(self.advice_labels):
            text = texts[index] if index < len(texts) else ""
            label.setText(text)
            label.setAccessibleName(text)
            label.setVisible(bool(text))
        self.advice.setVisible(bool(texts))
        self.advice.setAccessibleName(" ".join(texts))

    def advice_texts(self) -> list[str]:
        """The advice shown now (for tests and the accessibility tree)."""
        return [label.text() for label in self.advice_labels if not label.isHidden()]
