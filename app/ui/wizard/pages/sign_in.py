"""Sign in: one panel per sign-in kind the account may need (:func:`rules.sign_in_kind`), made
when first needed; the page shows the one for the current state and passes everything to it.

- PASSWORD, APP_PASSWORD: :class:`~app.ui.wizard.pages.password.PasswordPanel`
- MICROSOFT: :class:`~app.ui.wizard.pages.microsoft.MicrosoftPanel`
- ICLOUD_APP_PASSWORD: ``ICloudPanel`` of :mod:`app.ui.wizard.pages.icloud` (Apple's steps
  beside the field); the password panel stands in while that module does not exist.

Every panel is a QWidget with the signals ``ready_changed`` and ``answered`` and the methods
``show_state``, ``answer``, ``show_problems``, ``enter`` and ``leave``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from app.core.flow import Answer, Problem, SignInKind, Step, WizardState, rules
from app.ui.wizard.page import PageContext, WizardPage, wrapped


class SignInPanel(Protocol):
    """What the page asks of a panel (besides being a QWidget with ``ready_changed`` and
    ``answered``)."""

    def show_state(self, state: WizardState) -> None: ...

    def answer(self) -> Answer | None: ...

    def show_problems(self, problems: Sequence[Problem]) -> None: ...

    def enter(self) -> None: ...

    def leave(self) -> None: ...


PanelFactory = Callable[[PageContext, QWidget], QWidget]


def _password(context: PageContext, parent: QWidget) -> QWidget:
    from app.ui.wizard.pages.password import PasswordPanel

    return PasswordPanel(context, parent)


def _microsoft(context: PageContext, parent: QWidget) -> QWidget:
    from app.ui.wizard.pages.microsoft import MicrosoftPanel

    return MicrosoftPanel(context, parent)


def _icloud(context: PageContext, parent: QWidget) -> QWidget:
    name = "app.ui.wizard.pages.icloud"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name != name:
            raise  # the module is there but needs something missing: not ours to hide
        return _password(context, parent)  # until the iCloud panel exists
    return cast(QWidget, module.ICloudPanel(context, parent))


PANELS: dict[SignInKind, PanelFactory] = {
    SignInKind.PASSWORD: _password,
    SignInKind.APP_PASSWORD: _password,
    SignInKind.MICROSOFT: _microsoft,
    SignInKind.ICLOUD_APP_PASSWORD: _icloud,
}


class SignInPage(WizardPage):
    step = Step.SIGN_IN

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.panels: dict[SignInKind, QWidget] = {}
        self.kind: SignInKind | None = None
        self.nothing = wrapped(
            self.tr("This account needs no sign-in here. Go back to choose another app."),
            self,
            name="noSignIn",
        )
        self.nothing.setAccessibleName(self.nothing.text())
        self.nothing.setVisible(False)
        self.layout_.addWidget(self.nothing)

    # -- the panels ----------------------------------------------------------------------------

    def panel_for(self, kind: SignInKind) -> QWidget:
        """The panel for ``kind``, made the first time it is needed (the same panel serves
        PASSWORD and APP_PASSWORD)."""
        panel = self.panels.get(kind)
        if panel is None:
            factory = PANELS[kind]
            panel = next((p for k, p in self.panels.items() if PANELS[k] is factory), None)
            if panel is None:
                panel = factory(self.context, self)
                panel.setVisible(False)
                self.layout_.addWidget(panel, 1)
                signals = cast(_Signals, panel)
                signals.ready_changed.connect(self.ready_changed)
                signals.answered.connect(lambda answer, made=panel: self._answered(made, answer))
            self.panels[kind] = panel
        return panel

    @property
    def panel(self) -> QWidget | None:
        """The panel shown now."""
        return None if self.kind is None else self.panels.get(self.kind)

    def _current(self) -> SignInPanel | None:
        panel = self.panel
        return None if panel is None else cast(SignInPanel, panel)

    def _answered(self, panel: QWidget, answer: object) -> None:
        if panel is self.panel:
            self.answered.emit(answer)

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        kind = rules.sign_in_kind(state)
        shown = None if kind is None else self.panel_for(kind)
        if self.panel is not None and self.panel is not shown:
            cast(SignInPanel, self.panel).leave()
        self.kind = kind
        for panel in self.panels.values():
            panel.setVisible(panel is shown)
        self.nothing.setVisible(shown is None)
        if shown is None:
            self.setFocusProxy(self.nothing)
        else:
            self.setFocusProxy(shown)
            cast(SignInPanel, shown).show_state(state)
        self.ready_changed.emit()

    def answer(self) -> Answer | None:
        current = self._current()
        return None if current is None else current.answer()

    def show_problems(self, problems: Sequence[Problem]) -> None:
        current = self._current()
        if current is not None:
            current.show_problems(problems)

    def enter(self) -> None:
        current = self._current()
        if current is not None:
            current.enter()

    def leave(self) -> None:
        current = self._current()
        if current is not None:
            current.leave()


class _Signals(Protocol):
    ready_changed: SignalInstance
    answered: SignalInstance
