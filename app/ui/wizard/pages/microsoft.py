"""The sign-in panel for Microsoft accounts (sign-in kind MICROSOFT): "Sign in with Microsoft"
opens the program's sign-in window (Qt WebEngine, app/ui/browser.py) on Microsoft's page; the
redirect it catches is redeemed by the core's MicrosoftSignIn, which keeps the tokens in the
encrypted token cache. Then the panel says who signed in and answers by itself.

Without an application registration (no ``[microsoft] client_id``) there is nothing to sign in
with: the panel says so and whom to ask, and Continue stays disabled. A sign-in that was
cancelled, failed, or stopped shows why and what to do, with "Try again".

Qt WebEngine is imported only when the window is first needed, after its environment has been
set (:func:`app.ui.qt_env.prepare_webengine`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core.errors import CancelledByUser, SetupError
from app.core.flow import Answer, Problem, SignInAnswer, SignInKind, WizardState
from app.core.texts import Language, Text, render
from app.ui.wizard.page import PageContext, problem_label, show_problem, wrapped
from app.ui.wizard.support import support_html

if TYPE_CHECKING:
    from app.core.auth.microsoft import SignInFlow, SignInResult
    from app.ui.browser import SignInWindow

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MicrosoftHints:
    """What detection's Microsoft source learnt about the account's tenant: the tenant (GUID,
    or the consumer tenant for a personal account), the sign-in host of its cloud, and the
    organisation's federation host (ADFS and the like, which the sign-in window must show)."""

    tenant: str | None = None
    authority_host: str | None = None
    federation_host: str | None = None


def microsoft_hints(state: WizardState) -> MicrosoftHints:
    detection = state.detection
    report = None
    if detection is not None:
        report = next((r for r in detection.sources if r.name == "microsoft"), None)
    if report is None:
        return MicrosoftHints()
    data = report.data

    def text(key: str) -> str | None:
        value = data.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    host = None
    cloud_id = text("cloud")
    if cloud_id is not None:
        from app.core.discovery.microsoft.clouds import default_clouds

        cloud = default_clouds().get(cloud_id)
        host = cloud.login_host if cloud is not None else None
    return MicrosoftHints(text("tenant_id"), host, text("federation_host"))


class Phase(Enum):
    NOT_CONFIGURED = "not-configured"
    READY = "ready"  # the button, nothing done yet
    WORKING = "working"
    SIGNED_IN = "signed-in"
    FAILED = "failed"
    STOPPED = "stopped"


class MicrosoftPanel(QWidget):
    """Sign-in with Microsoft (the same interface as every sign-in panel: ``show_state``,
    ``answer``, ``show_problems``, ``enter``, ``leave``, ``ready_changed``, ``answered``)."""

    ready_changed = Signal()
    answered = Signal(object)

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.state: WizardState | None = None
        self.phase = Phase.READY
        self.signed_in_as = ""
        self.window_: SignInWindow | None = None
        self._task: asyncio.Task[SignInResult] | None = None
        self._shown = False
        self.setObjectName("microsoftPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)

        self.intro = wrapped("", self, name="microsoftIntro")
        layout.addWidget(self.intro)
        self.not_configured = wrapped("", self, name="notConfigured")
        layout.addWidget(self.not_configured)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("progress")
        self.progress.setRange(0, 0)  # busy, with no end known
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Signing in"))
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = wrapped("", self, name="status")
        layout.addWidget(self.status)
        self.failure = wrapped("", self, name="failure")
        font = self.failure.font()
        font.setBold(True)
        self.failure.setFont(font)
        layout.addWidget(self.failure)
        self.cause = wrapped("", self, name="failureCause")
        layout.addWidget(self.cause)
        self.fix = wrapped("", self, name="failureFix")
        layout.addWidget(self.fix)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.sign_in_button = QPushButton(self.tr("&Sign in with Microsoft"), self)
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setAccessibleName(self.tr("Sign in with Microsoft"))
        self.sign_in_button.setAutoDefault(False)
        self.sign_in_button.clicked.connect(self.start_sign_in)
        row.addWidget(self.sign_in_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.support = wrapped("", self, name="support")
        layout.addWidget(self.support)
        self.problem = problem_label(self, name="signInProblem")
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.setFocusProxy(self.sign_in_button)

    # -- the panel -----------------------------------------------------------------------------

    @property
    def language(self) -> Language:
        return self.state.language if self.state is not None else "en"

    def core_text(self, text: Text) -> str:
        return render(text, self.language)

    @property
    def configured(self) -> bool:
        return self.context.services.microsoft_configured

    @property
    def address(self) -> str:
        return "" if self.state is None or self.state.address is None else str(self.state.address)

    def show_state(self, state: WizardState) -> None:
        self.state = state
        intro = self.tr(
            "%1 signs in with Microsoft. Select Sign in with Microsoft: a window with "
            "Microsoft's own sign-in page opens. Your password goes only to Microsoft, never "
            "to this program."
        ).replace("%1", self.address)
        self.intro.setText(intro)
        self.intro.setAccessibleName(intro)
        show_problem(self.problem, "")
        if not self.configured:
            self._set_phase(Phase.NOT_CONFIGURED)
            return
        previous = state.answer
        if (
            isinstance(previous, SignInAnswer)
            and previous.kind is SignInKind.MICROSOFT
            and previous.signed_in_as
        ):
            self.signed_in_as = previous.signed_in_as
            self._set_phase(Phase.SIGNED_IN)
        elif self.phase is not Phase.WORKING:
            self.signed_in_as = ""
            self._set_phase(Phase.READY)

    def answer(self) -> Answer | None:
        if self.phase is not Phase.SIGNED_IN or not self.signed_in_as:
            return None
        return SignInAnswer(SignInKind.MICROSOFT, signed_in_as=self.signed_in_as)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        text = " ".join(render(p.text, self.language) for p in problems)
        show_problem(self.problem, text, warning=all(not p.blocking for p in problems))

    def enter(self) -> None:
        self._shown = True

    def leave(self) -> None:
        """Going elsewhere stops a sign-in under way (its window closes)."""
        self._shown = False
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # -- signing in ----------------------------------------------------------------------------

    def start_sign_in(self) -> None:
        if not self.configured or self.state is None:
            return
        if self._task is not None and not self._task.done():
            return
        self.signed_in_as = ""
        self._set_phase(Phase.WORKING, self.tr("Opening Microsoft's sign-in page…"))
        self._task = self.context.tasks.start(self._sign_in(self.address), done=self._done)

    async def _sign_in(self, address: str) -> SignInResult:
        hints = microsoft_hints(self.state) if self.state is not None else MicrosoftHints()
        service = await self.context.services.microsoft()
        flow = await service.start(
            address, tenant_hint=hints.tenant, authority_host=hints.authority_host
        )
        redirect_url = await self._show_window(flow, hints)
        self._set_status(self.tr("Finishing the sign-in…"))
        return await service.finish(flow, redirect_url)

    async def _show_window(self, flow: SignInFlow, hints: MicrosoftHints) -> str:
        """Show the sign-in window until it ends: the redirect URL it caught, or the
        SetupError that says why not (CancelledByUser for a plain cancel)."""
        from app.ui.qt_env import prepare_webengine

        prepare_webengine(resolve=self.context.services.net_options.resolve)
        from app.ui.browser import SignInWindow

        allowed = self.context.services.config.microsoft.allowed_hosts
        if hints.federation_host:
            allowed = (*allowed, hints.federation_host)
        window = SignInWindow(
            flow.auth_uri,
            flow.redirect_uri,
            allowed,
            self.language,
            open_external=self._open_outside,
        )
        self.window_ = window
        ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def finish(*_args: object) -> None:
            if not ended.done():
                ended.set_result(window.outcome or "cancelled")

        for signal in (window.redirected, window.cancelled, window.failed):
            signal.connect(finish)
        try:
            self._place(window)
            window.show()
            self._set_status(self.tr("Sign in in the Microsoft window that has opened."))
            if window.outcome is not None:
                finish()
            outcome = await ended
        finally:
            self.window_ = None
            window.dispose()
        if outcome == "redirected" and window.redirect_url is not None:
            return window.redirect_url
        if outcome == "failed" and window.failure is not None:
            raise window.failure
        if window.page_error:
            # Closed on Microsoft's error page: that error, not a plain cancel.
            from app.core.auth.microsoft import error_for_response

            shown = {"error": "invalid_request", "error_description": window.page_error}
            raise error_for_response(shown, address=flow.address, authority=flow.authority.url)
        raise CancelledByUser()

    def _place(self, window: SignInWindow) -> None:
        """Put the sign-in window over the wizard's window."""
        top = self.window()
        if top is None or not top.isVisible():
            return
        widget = window.widget
        centre = top.frameGeometry().center()
        widget.move(centre - QPoint(widget.width() // 2, widget.height() // 2))

    def _open_outside(self, url: QUrl) -> bool:
        self.context.open_url(url.toString())
        return True

    def _done(self, task: asyncio.Task[SignInResult]) -> None:
        if task is not self._task:
            return
        self._task = None
        if task.cancelled():
            self._set_phase(
                Phase.STOPPED,
                self.tr("The sign-in was stopped. Select Try again to sign in."),
            )
            return
        error = task.exception()
        if isinstance(error, CancelledByUser):
            self._set_phase(
                Phase.STOPPED,
                self.tr(
                    "The sign-in window was closed before you signed in. Select Try again to "
                    "sign in."
                ),
            )
            return
        if isinstance(error, SetupError):
            self._show_failure(error)
            return
        if error is not None:
            _log.error("the Microsoft sign-in failed", exc_info=error)
            self._set_phase(
                Phase.FAILED,
                self.tr("Something went wrong while signing in. Select Try again."),
            )
            return
        result = task.result()
        self.signed_in_as = result.address
        self._set_phase(Phase.SIGNED_IN)
        status = self.tr("Signed in as %1.").replace("%1", result.username or result.address)
        self._set_status(status)
        answer = self.answer()
        if answer is not None and self._shown:
            self.answered.emit(answer)

    def _show_failure(self, error: SetupError) -> None:
        self._set_phase(Phase.FAILED)
        message = self.core_text(error.message)
        cause = self.core_text(error.cause) if error.cause is not None else ""
        fix = self.core_text(error.fix) if error.fix is not None else ""
        for label, text in (
            (self.failure, message),
            (self.cause, "" if cause == message else cause),
            (self.fix, fix),
        ):
            label.setText(text)
            label.setAccessibleName(text)
            label.setVisible(bool(text))

    # -- showing -------------------------------------------------------------------------------

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setAccessibleName(text)
        self.status.setVisible(bool(text))

    def _set_phase(self, phase: Phase, status: str = "") -> None:
        self.phase = phase
        configured = phase is not Phase.NOT_CONFIGURED
        self.intro.setVisible(configured)
        self.not_configured.setVisible(not configured)
        if not configured:
            text = self.tr(
                "Your organisation has not set up Microsoft sign-in for this program, so it "
                "cannot sign in to %1 yet. Ask your helpdesk: they need to register the program "
                "with Microsoft and add its client ID to the program's configuration."
            ).replace("%1", self.address)
            self.not_configured.setText(text)
            self.not_configured.setAccessibleName(text)
        contact = ""
        if phase in (Phase.NOT_CONFIGURED, Phase.FAILED) and self.state is not None:
            contact = support_html(self.state.context.support)
        self.support.setText(contact)
        self.support.setAccessibleName(self._plain(contact))
        self.support.setVisible(bool(contact))
        self.sign_in_button.setVisible(configured)
        self.sign_in_button.setEnabled(phase is not Phase.WORKING)
        if phase in (Phase.FAILED, Phase.STOPPED):
            text = self.tr("&Try again")
        elif phase is Phase.SIGNED_IN:
            text = self.tr("Sign in &again")
        else:
            text = self.tr("&Sign in with Microsoft")
        self.sign_in_button.setText(text)
        self.sign_in_button.setAccessibleName(text.replace("&", ""))
        self.progress.setVisible(phase is Phase.WORKING)
        if phase is not Phase.FAILED:
            for label in (self.failure, self.cause, self.fix):
                label.setText("")
                label.setVisible(False)
        if phase is Phase.SIGNED_IN and not status:
            status = self.tr("Signed in as %1.").replace("%1", self.signed_in_as)
        self._set_status(status)
        self.ready_changed.emit()

    @staticmethod
    def _plain(html_text: str) -> str:
        from PySide6.QtGui import QTextDocumentFragment

        return QTextDocumentFragment.fromHtml(html_text).toPlainText() if html_text else ""
