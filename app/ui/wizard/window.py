"""The wizard's window: a stage list on the side, the current page, and Back / Cancel /
Continue below. It owns the :class:`~app.core.flow.Flow` (every routing decision is the flow's),
shows the page for each state, and hands answers to the flow.

- Continue asks the page for its answer; a refused answer goes back to the page with the
  problems. Enter presses Continue, Alt+Left (and Back) goes back with the input kept, Esc is
  Cancel.
- Cancel while work runs (finding, checking, signing in) stops that work and stays; otherwise
  it asks before closing (nothing is saved before the save page).
- The window's size is remembered; the language follows the system or the settings page, and
  changing it rebuilds the pages for the same state.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.flow import (
    STEPS,
    Answer,
    Flow,
    FlowContext,
    InvalidAnswer,
    MailApp,
    Platform,
    Step,
    WizardState,
)
from app.core.flow.services import WizardServices
from app.core.texts import Language, render
from app.ui.wizard import i18n
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.tasks import TaskRunner
from app.ui.wizard.vault import SecretVault

_log = logging.getLogger(__name__)

#: The stages on the side, and the steps each covers.
_STAGES: tuple[tuple[str, frozenset[Step]], ...] = (
    ("address", frozenset({Step.WELCOME, Step.SETTINGS, Step.TROUBLESHOOT})),
    ("finding", frozenset({Step.FINDING, Step.MANUAL, Step.BLOCKED})),
    ("app", frozenset({Step.CHOOSE_APP})),
    ("sign-in", frozenset({Step.SIGN_IN})),
    ("checking", frozenset({Step.CHECKING})),
    ("save", frozenset({Step.SAVE})),
    ("done", frozenset({Step.DONE})),
)
GEOMETRY_SETTING = "window/geometry"
DEFAULT_SIZE = (880, 640)


def current_platform() -> Platform:
    if sys.platform.startswith("win"):
        return Platform.WINDOWS
    if sys.platform == "darwin":
        return Platform.MACOS
    return Platform.LINUX


def installed_mail_apps() -> frozenset[MailApp]:
    """The mail apps found on this computer (the core's adapters)."""
    from app.core.clients import installed_apps

    return frozenset(MailApp(found.app) for found in installed_apps())


def flow_context(
    services: WizardServices, installed: frozenset[MailApp] | None = None
) -> FlowContext:
    config = services.config
    return FlowContext(
        providers=config.providers,
        organisation=config.organisation,
        support=config.support,
        platform=current_platform(),
        installed=installed_mail_apps() if installed is None else installed,
    )


def page_classes() -> dict[Step, type[WizardPage]]:
    """Each step's page class (imported here so the window module stays light)."""
    from app.ui.wizard.pages import registry

    return registry.PAGES


class WizardWindow(QMainWindow):
    def __init__(
        self,
        services: WizardServices,
        *,
        context: FlowContext | None = None,
        language: Language | None = None,
        settings: QSettings | None = None,
        pages: Callable[[], dict[Step, type[WizardPage]]] = page_classes,
    ) -> None:
        super().__init__()
        self.setObjectName("wizardWindow")
        self.settings = settings or QSettings()
        self.tasks = TaskRunner(self)
        self.vault = SecretVault()
        self.page_context = PageContext(
            services=services,
            vault=self.vault,
            tasks=self.tasks,
            flow_context=context or flow_context(services),
        )
        chosen = language or i18n.effective_language(self.settings)
        i18n.install(chosen)
        self.flow = Flow.start(WizardState(context=self.page_context.flow_context, language=chosen))
        self._page_classes = pages()
        self._pages: dict[Step, WizardPage] = {}
        self._current: WizardPage | None = None
        self._closing_confirmed = False
        self._build()
        self.tasks.busy_changed.connect(self._update_buttons)
        self._restore_geometry()
        self.show_flow(self.flow)
        self._warming: asyncio.Task[None] | None = None
        QTimer.singleShot(0, self._warm_up)

    def _warm_up(self) -> None:
        """Read catalogs and the trust store in a worker thread while the person types (not
        shown as busy: it is the window's own preparation, and harmless to abandon)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no asyncio loop runs with this window (some tests)
            return
        self._warming = loop.create_task(self.page_context.services.warm_up())

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        outer = QHBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.sidebar = QFrame(central)
        self.sidebar.setObjectName("stages")
        self.sidebar.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar.setAutoFillBackground(True)
        self.sidebar.setBackgroundRole(self.sidebar.backgroundRole().AlternateBase)
        side = QVBoxLayout(self.sidebar)
        side.setContentsMargins(20, 24, 20, 24)
        side.setSpacing(10)
        self.logo = QLabel(self.sidebar)
        self.logo.setObjectName("logo")
        logo = self.page_context.services.config.branding.logo
        if logo is not None:  # the organisation's logo (checked to exist when the config loads)
            from PySide6.QtGui import QPixmap

            picture = QPixmap(str(logo))
            if not picture.isNull():
                ratio = self.devicePixelRatioF()
                picture = picture.scaled(
                    int(120 * ratio),
                    int(60 * ratio),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                picture.setDevicePixelRatio(ratio)
                self.logo.setPixmap(picture)
        self.logo.setVisible(self.logo.pixmap() is not None and not self.logo.pixmap().isNull())
        side.addWidget(self.logo)
        self.stage_labels: dict[str, QLabel] = {}
        for name, _steps in _STAGES:
            label = QLabel(self.sidebar)
            label.setObjectName(f"stage-{name}")
            self.stage_labels[name] = label
            side.addWidget(label)
        side.addStretch(1)
        outer.addWidget(self.sidebar)

        main = QVBoxLayout()
        main.setContentsMargins(28, 24, 28, 16)
        main.setSpacing(14)
        self.title = QLabel(central)
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        main.addWidget(self.title)

        self.stack = QStackedWidget(central)
        self.stack.setObjectName("pages")
        self.page_scroll = QScrollArea(central)
        self.page_scroll.setObjectName("pageScroll")
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.page_scroll.setWidget(self.stack)
        main.addWidget(self.page_scroll, 1)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.back_button = QPushButton(central)
        self.back_button.setObjectName("backButton")
        self.back_button.clicked.connect(self.go_back)
        self.cancel_button = QPushButton(central)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        self.next_button = QPushButton(central)
        self.next_button.setObjectName("nextButton")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.go_next)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.next_button)
        main.addLayout(buttons)
        outer.addLayout(main, 1)
        self.setCentralWidget(central)

        for keys in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self._enter_pressed)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self).activated.connect(self.cancel)
        QShortcut(QKeySequence("Alt+Left"), self).activated.connect(self.go_back)
        quit_action = QAction(self)
        quit_action.setObjectName("quitAction")
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)
        self._retranslate()

    def _retranslate(self) -> None:
        branding = self.page_context.services.config.branding
        # the organisation's product name, if it set one (it is a name: not translated)
        self.setWindowTitle(branding.product_name or self.tr("Mail Setup Wizard"))
        names = {
            "address": self.tr("Your address"),
            "finding": self.tr("Find settings"),
            "app": self.tr("Mail app"),
            "sign-in": self.tr("Sign in"),
            "checking": self.tr("Check"),
            "save": self.tr("Save"),
            "done": self.tr("Done"),
        }
        for name, label in self.stage_labels.items():
            label.setText(names[name])
            label.setAccessibleName(names[name])
        self.sidebar.setAccessibleName(self.tr("Steps"))
        self.back_button.setText(self.tr("&Back"))
        self.back_button.setAccessibleName(self.tr("Back"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.stack.setAccessibleName(self.tr("Page"))
        self.page_scroll.setAccessibleName(self.tr("Page"))

    def _restore_geometry(self) -> None:
        saved = self.settings.value(GEOMETRY_SETTING)
        if isinstance(saved, QByteArray) and self.restoreGeometry(saved):
            return
        width, height = DEFAULT_SIZE
        screen = self.screen()
        if screen is not None:  # a small or scaled screen: the whole window stays on it
            room = screen.availableGeometry()
            width = min(width, int(room.width() * 0.95))
            height = min(height, int(room.height() * 0.9))
        self.resize(width, height)

    # -- pages ---------------------------------------------------------------------------------

    @property
    def page(self) -> WizardPage:
        assert self._current is not None
        return self._current

    def page_for(self, step: Step) -> WizardPage:
        page = self._pages.get(step)
        if page is None:
            page = self._page_classes[step](self.page_context, self.stack)
            page.answered.connect(self._page_answered)
            page.ready_changed.connect(self._update_buttons)
            for field in page.findChildren(QLineEdit):  # Enter in a field presses Continue
                field.returnPressed.connect(self._enter_pressed)
            self.stack.addWidget(page)
            self._pages[step] = page
        return page

    def show_flow(self, flow: Flow) -> None:
        """Show the page of ``flow``'s state (the window's only way to change page)."""
        if self._current is not None:
            self._current.leave()
        language_changed = flow.state.language != self.flow.state.language
        self.flow = flow
        if language_changed:
            self._change_language(flow.state.language)
        page = self.page_for(flow.step)
        self._current = page
        page.show_state(flow.state)
        self.stack.setCurrentWidget(page)
        self.title.setText(render(STEPS[flow.step].title, flow.state.language))
        self.title.setAccessibleName(self.title.text())
        self._mark_stage(flow.step)
        self._update_buttons()
        _log.info("page shown: %s", flow.step.value)  # (the helpdesk's log: which page, no input)
        page.enter()
        self._focus_first(page)

    def _change_language(self, language: Language) -> None:
        i18n.install(language)
        for page in self._pages.values():
            self.stack.removeWidget(page)
            page.deleteLater()
        self._pages.clear()
        self._current = None
        self._retranslate()

    def _mark_stage(self, step: Step) -> None:
        reached = True
        for name, steps in _STAGES:
            label = self.stage_labels[name]
            current = step in steps
            font = label.font()
            font.setBold(current)
            label.setFont(font)
            label.setEnabled(reached or current)
            if current:
                reached = False
                label.setAccessibleDescription(self.tr("Current step"))
            else:
                label.setAccessibleDescription("")

    def _focus_first(self, page: WizardPage) -> None:
        proxy = page.focusProxy()
        target = page.nextInFocusChain()
        if proxy is not None:
            proxy.setFocus(Qt.FocusReason.OtherFocusReason)
        elif target is not None and page.isAncestorOf(target):
            target.setFocus(Qt.FocusReason.TabFocusReason)
        else:
            self.next_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _update_buttons(self, *_args: object) -> None:
        page = self._current
        if page is None:
            return
        busy = self.tasks.busy
        self.back_button.setEnabled(self.flow.can_go_back and page.can_go_back())
        self.back_button.setVisible(self.flow.can_go_back)
        finished = self.flow.is_finished
        self.next_button.setVisible(page.shows_next())
        text = page.next_text()
        self.next_button.setText(text)
        self.next_button.setAccessibleName(text.replace("&", ""))
        self.next_button.setEnabled(not busy and (finished or page.answer() is not None))
        self.cancel_button.setText(self.tr("Stop") if busy else self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.cancel_button.text())
        self.cancel_button.setVisible(busy or not finished)

    # -- moving --------------------------------------------------------------------------------

    def _enter_pressed(self) -> None:
        if self.next_button.isVisible() and self.next_button.isEnabled():
            self.next_button.click()

    def go_next(self) -> None:
        if self.flow.is_finished:
            self._closing_confirmed = True
            self.close()
            return
        answer = self.page.answer()
        if answer is not None:
            self.submit(answer)

    def _page_answered(self, answer: object) -> None:
        if self.sender() is self._current:
            self.submit(answer)  # type: ignore[arg-type]

    def submit(self, answer: Answer) -> bool:
        """Give ``answer`` to the flow; True when it moved on."""
        try:
            flow = self.flow.advance(answer)
        except InvalidAnswer as refused:
            self.page.show_problems(refused.problems)
            return False
        self.show_flow(flow)
        return True

    def go_back(self) -> None:
        if not self.flow.can_go_back or not self.page.can_go_back():
            return
        self.tasks.cancel()
        self.show_flow(self.flow.back())

    def cancel(self) -> None:
        if self.tasks.cancel():
            return
        self.close()

    # -- closing -------------------------------------------------------------------------------

    def _confirm_close(self) -> bool:
        if self._closing_confirmed or self.flow.is_finished or self.flow.state.saved_as:
            return True
        if not self.flow.can_go_back:
            return True  # nothing entered yet
        box = QMessageBox(self)
        box.setObjectName("confirmClose")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Stop setting up?"))
        box.setText(self.tr("Stop setting up this account?"))
        box.setInformativeText(
            self.tr("Nothing has been saved yet. You can start again at any time.")
        )
        stop = box.addButton(self.tr("Stop"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(self.tr("Keep going"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stop)
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and box.buttonRole(clicked) == box.buttonRole(stop)

    def _close_when_saved(self) -> None:
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tasks.finishing:  # saving: close once it is done, never half-way
            event.ignore()
            self._closing_confirmed = True
            self.tasks.when_idle(self._close_when_saved)
            return
        if not self._confirm_close():
            event.ignore()
            return
        if self._current is not None:
            self._current.leave()
        self.tasks.cancel_all()
        if self._warming is not None:
            self._warming.cancel()
        self.vault.clear()
        self.settings.setValue(GEOMETRY_SETTING, self.saveGeometry())
        super().closeEvent(event)
