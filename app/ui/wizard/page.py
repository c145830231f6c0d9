"""What every wizard page is: it shows a :class:`~app.core.flow.WizardState` (including the
answer given there before, when the person came back) and gives an answer.

- ``show_state(state)``: show it (called before every showing).
- ``answer()``: what Continue gives, or None while the page is not ready (Continue is then
  disabled); ``ready_changed`` says when that may have changed.
- ``answered``: the page answers by itself (a link such as "Something stopped working", or a
  sign-in that finished).
- ``show_problems``: the flow refused the answer; the page shows why beside the fields.
- ``enter()``: called each time the page is shown, after ``render``; pages with work to do
  (finding, checking) start it here through ``context.tasks``, and stop it in ``leave()``.

Texts: the page's own through ``self.tr`` (Qt translations); the core's (findings, provider
notes, advice) through :meth:`core_text` in the state's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.checks.base import Secret
from app.core.errors import SetupError
from app.core.flow import Answer, FlowContext, Problem, Step, WizardState
from app.core.flow.services import WizardServices
from app.core.texts import Language, Text, render
from app.ui.wizard.tasks import TaskRunner
from app.ui.wizard.vault import SecretVault


@dataclass
class PageContext:
    """What pages share: the core services, the secrets held for this run, the running work,
    the flow's context (platform, policy, installed apps). ``open_url`` opens a link in the
    system browser (tests replace it)."""

    services: WizardServices
    vault: SecretVault
    tasks: TaskRunner
    flow_context: FlowContext
    opened: list[str] = field(default_factory=list)

    def open_url(self, url: str) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        self.opened.append(url)
        QDesktopServices.openUrl(QUrl(url))


class WizardPage(QWidget):
    step: ClassVar[Step]
    answered = Signal(object)
    ready_changed = Signal()

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.state: WizardState | None = None
        self.setObjectName(f"page-{self.step.value}")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(12)

    # -- what the window calls -----------------------------------------------------------------

    @property
    def language(self) -> Language:
        return self.state.language if self.state is not None else "en"

    def show_state(self, state: WizardState) -> None:
        """Show ``state``. Subclasses call this first."""
        self.state = state

    def enter(self) -> None:
        """The page is now shown."""

    def leave(self) -> None:
        """The page is about to be replaced (Back, Continue, or the window closing)."""

    def answer(self) -> Answer | None:
        return None

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """The flow refused the answer: show why (default: under the page's text)."""
        del problems

    def next_text(self) -> str:
        # (PySide's tr takes the context from the object's own class: a base class names its own)
        return QCoreApplication.translate("WizardPage", "Continue")

    def shows_next(self) -> bool:
        return True

    def can_go_back(self) -> bool:
        return True

    # -- for subclasses ------------------------------------------------------------------------

    def secret(self) -> Secret | None:
        """The secret entered on the sign-in page, held in the window's vault (None: no sign-in
        page was needed, or nothing was entered)."""
        state = self.state
        if state is None or state.sign_in is None:
            return None
        return self.context.vault.get(state.sign_in.secret)

    def core_text(self, text: Text) -> str:
        return render(text, self.language)

    def problem_text(self, problem: Problem) -> str:
        return render(problem.text, self.language)

    def error_text(self, first: str, error: SetupError) -> str:
        """``first`` (what it meant: "Nothing was saved."), then the error, its cause and what
        to do, one per line."""
        parts = [first, error.render(self.language)]
        if error.cause is not None and error.cause != error.message:
            parts.append(self.core_text(error.cause))
        if error.fix is not None:
            what = QCoreApplication.translate("WizardPage", "What to do: %1")
            parts.append(what.replace("%1", self.core_text(error.fix)))
        return "\n".join(parts)


def wrapped(text: str = "", parent: QWidget | None = None, *, name: str = "") -> QLabel:
    """A label that wraps, selectable, with links opening outside."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    label.setOpenExternalLinks(True)  # (word wrap keeps Qt's height-for-width size policy)
    if name:
        label.setObjectName(name)
    return label


def wrapped_to_fit(text: str = "", parent: QWidget | None = None, *, name: str = "") -> QLabel:
    """A wrapping label as tall as its text needs at the width it gets, for long pages in the
    window's scroll area (which lays pages out by height for width): a wrapped label's own
    minimum height is that of one word per line, which would make such a page far too tall."""
    label = wrapped(text, parent, name=name)
    policy = label.sizePolicy()
    policy.setHeightForWidth(True)
    label.setSizePolicy(policy)
    label.setMinimumHeight(1)
    return label


def problem_label(parent: QWidget | None = None, *, name: str = "problem") -> QLabel:
    """A line for a field's problem: hidden while there is none; read out when shown."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setObjectName(name)
    label.setProperty("role", "problem")
    label.setVisible(False)
    return label


def is_dark(widget: QWidget) -> bool:
    """Whether the widget's palette is a dark one (light text on a dark window)."""
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


def problem_colour(widget: QWidget, *, warning: bool = False) -> str:
    """A red (or amber for warnings) readable on the widget's palette, light or dark."""
    if is_dark(widget):
        return "#ffb74d" if warning else "#ff8a80"
    return "#8a5300" if warning else "#b3261e"


def show_problem(label: QLabel, text: str, *, warning: bool = False) -> None:
    """Show ``text`` as a problem (or a warning) under a field; empty hides the line."""
    label.setText(text)
    label.setProperty("role", "warning" if warning else "problem")
    label.setAccessibleName(text)
    label.setStyleSheet(f"color: {problem_colour(label, warning=warning)};")
    label.setVisible(bool(text))


def link_button(text: str, parent: QWidget | None = None, *, name: str = "") -> QPushButton:
    """A button that looks like a link (the palette's link colour, underlined), for secondary
    ways out such as "Something stopped working?"; keyboard focus and Enter work as usual."""
    button = QPushButton(text, parent)
    button.setFlat(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setStyleSheet(
        "QPushButton { color: palette(link); text-decoration: underline; border: none;"
        " padding: 2px 4px; text-align: left; }"
        " QPushButton:focus { outline: 1px dotted palette(link); }"
    )
    button.setAccessibleName(text.replace("&", ""))
    if name:
        button.setObjectName(name)
    return button
