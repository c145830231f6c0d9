"""Settings: the window's language (the system's, English or Japanese) and the saved accounts
(listed with the state of their last check; removable)."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QGroupBox, QRadioButton, QVBoxLayout, QWidget

from app.core.flow import Answer, SettingsClosed, Step, WizardState
from app.core.texts import Language
from app.ui.wizard import i18n
from app.ui.wizard.page import PageContext, WizardPage


class SettingsPage(WizardPage):
    step = Step.SETTINGS

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        box = QGroupBox(self.tr("Language"), self)
        box.setObjectName("languageBox")
        box.setAccessibleName(self.tr("Language"))
        inner = QVBoxLayout(box)
        self.group = QButtonGroup(self)
        self.choices: dict[str, QRadioButton] = {}
        # Each language is named in its own words, so it can be found whatever is shown now.
        for value, label in (
            (i18n.SYSTEM, self.tr("Same as the system")),
            ("en", "English"),
            ("ja", "日本語 (Japanese)"),
        ):
            button = QRadioButton(label, box)
            button.setObjectName(f"language-{value}")
            button.setAccessibleName(label)
            self.group.addButton(button)
            self.choices[value] = button
            inner.addWidget(button)
        self.layout_.addWidget(box)
        from app.ui.wizard.accounts_panel import AccountsPanel

        self.accounts = AccountsPanel(context, self)
        self.layout_.addWidget(self.accounts, 1)
        self.setFocusProxy(self.choices[i18n.SYSTEM])

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        chosen = i18n.chosen_language()
        self.choices.get(chosen, self.choices[i18n.SYSTEM]).setChecked(True)
        self.setFocusProxy(self.choices.get(chosen, self.choices[i18n.SYSTEM]))

    def chosen(self) -> str:
        for value, button in self.choices.items():
            if button.isChecked():
                return value
        return i18n.SYSTEM

    def answer(self) -> Answer | None:
        choice = self.chosen()
        language: Language = (
            i18n.system_language() if choice == i18n.SYSTEM else ("ja" if choice == "ja" else "en")
        )
        return SettingsClosed(language)

    def enter(self) -> None:
        self.accounts.refresh()

    def leave(self) -> None:
        i18n.remember_language(self.chosen())

    def next_text(self) -> str:
        return self.tr("Done")
