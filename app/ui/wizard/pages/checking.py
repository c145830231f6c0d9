"""Checking your account: every server is tried for real, at the same time (receiving, sending,
calendars, contacts), with the password from the sign-in page (none when the mail app signs in
by itself: then only the servers' offer and their encryption are checked).

One row per check: a running indicator while it runs, then a tick, a cross with the finding's
cause and fix in plain words, or "Not offered" when the account has no such service. The
timeline of each check (and the TLS version and certificate) is in a details area for helpdesk
people. Try again, Change settings and (when the account signs in here) Sign in again answer the
flow; Continue is possible only when everything passed. Stop (the window's Cancel) stops the
checks at once: the page says "Stopped" and offers Try again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QWidget,
)

from app.core.checks.base import CheckResult
from app.core.checks.base import Step as CheckStep
from app.core.checks.runner import VerifyResult, describe
from app.core.errors import SetupError
from app.core.flow import (
    Answer,
    CheckAction,
    CheckingDone,
    Problem,
    Step,
    WizardState,
    sign_in_kind,
)
from app.core.flow.services import check_targets
from app.core.model import Finding, Outcome, Protocol
from app.core.net import TLSInfo
from app.ui.wizard.page import PageContext, WizardPage, wrapped

__all__ = ["CHECKING", "CheckingPage", "RowKind", "RowStatus"]

CHECKING = Step.CHECKING


class RowKind(StrEnum):
    """The rows of the page (the values are in the rows' object names: ``row-incoming``)."""

    INCOMING = "incoming"
    SENDING = "sending"
    CALENDARS = "calendars"
    CONTACTS = "contacts"


class RowStatus(StrEnum):
    """What a row shows (its ``status`` property, for tests and screen readers)."""

    RUNNING = "running"
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    NOT_OFFERED = "not-offered"
    STOPPED = "stopped"


def _kind(protocol: Protocol) -> RowKind:
    if protocol.is_incoming:
        return RowKind.INCOMING
    return {
        Protocol.SMTP: RowKind.SENDING,
        Protocol.CALDAV: RowKind.CALENDARS,
        Protocol.CARDDAV: RowKind.CONTACTS,
    }[protocol]


def _set_text(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))


class _StepRelay(QObject):
    """Brings a check's live steps to the page in the window's thread, whichever thread the
    check reported them from."""

    step = Signal(int, object, object)


class _CheckRow(QFrame):
    """One check: icon, name, state, and for a problem its cause and what to do."""

    def __init__(self, kind: RowKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName(f"row-{kind.value}")
        self.setFrameShape(QFrame.Shape.NoFrame)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.icon = QLabel(self)
        self.icon.setObjectName(f"icon-{kind.value}")
        self.icon.setFixedSize(QSize(22, 22))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.title.setObjectName(f"title-{kind.value}")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.busy = QProgressBar(self)
        self.busy.setObjectName(f"busy-{kind.value}")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(12)
        self.busy.setMaximumWidth(120)
        self.state = QLabel(self)
        self.state.setObjectName(f"state-{kind.value}")
        self.state.setWordWrap(True)
        self.cause = wrapped("", self, name=f"cause-{kind.value}")
        self.fix = wrapped("", self, name=f"fix-{kind.value}")
        grid.addWidget(self.icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.title, 0, 1)
        grid.addWidget(self.busy, 0, 2, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.state, 1, 1, 1, 2)
        grid.addWidget(self.cause, 2, 1, 1, 2)
        grid.addWidget(self.fix, 3, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        self.status = RowStatus.NOT_OFFERED

    def show_status(
        self, status: RowStatus, state: str, cause: str = "", fix: str = "", title: str = ""
    ) -> None:
        self.status = status
        self.setProperty("status", status.value)
        if title:
            self.title.setText(title)
        self.busy.setVisible(status is RowStatus.RUNNING)
        icons = {
            RowStatus.OK: QStyle.StandardPixmap.SP_DialogApplyButton,
            RowStatus.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
            RowStatus.FAILED: QStyle.StandardPixmap.SP_MessageBoxCritical,
        }
        icon = icons.get(status)
        if icon is None:
            self.icon.clear()
        else:
            self.icon.setPixmap(self.style().standardIcon(icon).pixmap(QSize(20, 20)))
        self.state.setText(state)
        self.state.setEnabled(status is not RowStatus.NOT_OFFERED)
        self.title.setEnabled(status is not RowStatus.NOT_OFFERED)
        _set_text(self.cause, cause)
        _set_text(self.fix, fix)
        spoken = " ".join(part for part in (self.title.text(), state, cause, fix) if part)
        self.setAccessibleName(self.title.text())
        self.setAccessibleDescription(spoken)
        self.icon.setAccessibleName(state)

    def show_state_text(self, text: str) -> None:
        self.state.setText(text)


class CheckingPage(WizardPage):
    step = Step.CHECKING

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.summary = wrapped("", self, name="summary")
        self.layout_.addWidget(self.summary)
        self.account_findings = wrapped("", self, name="accountFindings")
        self.account_findings.setVisible(False)
        self.layout_.addWidget(self.account_findings)

        self.rows: dict[RowKind, _CheckRow] = {}
        rows_box = QFrame(self)
        rows_box.setObjectName("checks")
        rows_layout = QGridLayout(rows_box)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        rows_layout.setVerticalSpacing(6)
        for index, kind in enumerate(RowKind):
            row = _CheckRow(kind, rows_box)
            self.rows[kind] = row
            rows_layout.addWidget(row, index, 0)
        self.layout_.addWidget(rows_box)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.try_again = QPushButton(self.tr("&Try again"), self)
        self.try_again.setObjectName("tryAgainButton")
        self.try_again.setAccessibleName(self.tr("Try again"))
        self.try_again.clicked.connect(lambda: self._act(CheckAction.TRY_AGAIN))
        self.change_settings = QPushButton(self.tr("C&hange settings"), self)
        self.change_settings.setObjectName("changeSettingsButton")
        self.change_settings.setAccessibleName(self.tr("Change settings"))
        self.change_settings.clicked.connect(lambda: self._act(CheckAction.CHANGE_SETTINGS))
        self.sign_in_again = QPushButton(self.tr("&Sign in again"), self)
        self.sign_in_again.setObjectName("signInAgainButton")
        self.sign_in_again.setAccessibleName(self.tr("Sign in again"))
        self.sign_in_again.clicked.connect(lambda: self._act(CheckAction.SIGN_IN_AGAIN))
        for button in (self.try_again, self.change_settings, self.sign_in_again):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.layout_.addLayout(buttons)

        self.details_toggle = QPushButton(self.tr("Show &details for the helpdesk"), self)
        self.details_toggle.setObjectName("detailsToggle")
        self.details_toggle.setAccessibleName(self.tr("Details for the helpdesk"))
        self.details_toggle.setCheckable(True)
        self.details_toggle.setFlat(True)
        self.details_toggle.toggled.connect(self._toggle_details)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("details")
        self.details.setAccessibleName(self.tr("Technical details of the checks"))
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setMinimumHeight(160)
        self.details.setVisible(False)
        details_row = QHBoxLayout()
        details_row.addWidget(self.details_toggle)
        details_row.addStretch(1)
        self.layout_.addLayout(details_row)
        self.layout_.addWidget(self.details, 1)
        self.layout_.addStretch(1)
        self.setTabOrder(self.try_again, self.change_settings)
        self.setTabOrder(self.change_settings, self.sign_in_again)
        self.setTabOrder(self.sign_in_again, self.details_toggle)
        self.setTabOrder(self.details_toggle, self.details)

        self._relay = _StepRelay(self)
        self._relay.step.connect(self._step_arrived)
        self._run = 0
        self._task: asyncio.Task[VerifyResult] | None = None
        self._result: VerifyResult | None = None
        self._stopped = False
        self._signed_in = True
        self._live: dict[Protocol, list[CheckStep]] = {}
        self._targets: dict[Protocol, str] = {}
        self._show_buttons(running=False)

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        self.sign_in_again.setVisible(sign_in_kind(state) is not None)
        self._signed_in = self.secret() is not None or sign_in_kind(state) is not None
        previous = state.answer
        if isinstance(previous, CheckingDone) and previous.result.checks:
            self._show_result(previous.result)
        elif state.verify is not None:
            self._show_result(state.verify)
        else:
            self._result = None

    def enter(self) -> None:
        if self.state is not None and self._result is None and not self.running:
            self.start()

    def leave(self) -> None:
        self.stop()

    def answer(self) -> Answer | None:
        if self._result is None or not self._result.ok or self.running:
            return None
        return CheckingDone(self._result, CheckAction.CONTINUE)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        texts = [self.problem_text(problem) for problem in problems]
        if texts:
            _set_text(self.summary, " ".join(texts))

    # -- running the checks --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run every check afresh."""
        state = self.state
        if state is None:
            return
        self.stop()
        self._run += 1
        run = self._run
        self._result = None
        self._stopped = False
        self._live = {}
        secret = self.secret()
        self._signed_in = secret is not None or sign_in_kind(state) is not None
        targets = check_targets(state, secret)
        self._targets = {}
        offered = {_kind(target.protocol): target.protocol for target in targets}
        for target in targets:
            self._targets[target.protocol] = describe(target)
        for kind, row in self.rows.items():
            protocol = offered.get(kind)
            title = self._row_title(kind, protocol)
            if protocol is None:
                row.show_status(RowStatus.NOT_OFFERED, self._not_offered(kind), title=title)
            else:
                row.show_status(RowStatus.RUNNING, self.tr("Checking…"), title=title)
        if self._signed_in:
            text = self.tr("Checking your account. This usually takes a few seconds.")
        else:
            text = self.tr(
                "Checking the servers. Your mail app signs in by itself, so this program only "
                "checks that the servers answer and are secured."
            )
        _set_text(self.summary, text)
        _set_text(self.account_findings, "")
        self._refresh_details()

        def on_step(protocol: Protocol, step: CheckStep) -> None:
            self._relay.step.emit(run, protocol, step)

        work = self.context.services.check(state, secret, state.language, on_step)
        self._task = self.context.tasks.start(work, done=lambda task: self._finished(run, task))
        self._show_buttons(running=True)
        self.ready_changed.emit()

    def stop(self) -> None:
        """Stop the checks now (their connections close at once)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            self._run += 1  # whatever the cancelled run still reports is not shown
            self._task = None
            self._show_stopped()
            self._show_buttons(running=False)
            self.ready_changed.emit()

    def _finished(self, run: int, task: asyncio.Task[VerifyResult]) -> None:
        if run != self._run:
            return
        self._task = None
        if task.cancelled():
            self._show_stopped()
        elif (error := task.exception()) is not None:
            self._show_error(error)
        else:
            self._show_result(task.result())
        self._show_buttons(running=False)
        self.ready_changed.emit()

    def _step_arrived(self, run: int, protocol: Protocol, step: CheckStep) -> None:
        if run != self._run or not self.running:
            return
        self._live.setdefault(protocol, []).append(step)
        row = self.rows[_kind(protocol)]
        if row.status is RowStatus.RUNNING:
            row.show_state_text(self._step_text(step))
        self._refresh_details()

    # -- showing -------------------------------------------------------------------------------

    def _show_result(self, result: VerifyResult) -> None:
        self._result = result
        self._stopped = False
        seen: set[RowKind] = set()
        for check in result.checks:
            kind = _kind(check.protocol)
            seen.add(kind)
            self._targets[check.protocol] = check.target
            self._show_check(self.rows[kind], check)
        for kind, row in self.rows.items():
            if kind not in seen:
                title = self._row_title(kind, None)
                row.show_status(RowStatus.NOT_OFFERED, self._not_offered(kind), title=title)
        if result.ok and self._signed_in:
            text = self.tr("Everything works. Press Continue to save the account.")
        elif result.ok:
            text = self.tr(
                "The servers answer and are secured. Your mail app will sign in by itself. "
                "Press Continue to save the account."
            )
        else:
            text = self.tr(
                "Something did not work. Below it says why and what to do. Then press Try again."
            )
        _set_text(self.summary, text)
        problems = [f for f in result.findings if f.outcome.is_problem]
        _set_text(
            self.account_findings,
            "\n".join(self._finding_text(f) for f in problems),
        )
        self._show_buttons(running=False)
        self._refresh_details()
        self.ready_changed.emit()

    def _show_check(self, row: _CheckRow, check: CheckResult) -> None:
        title = self._row_title(row.kind, check.protocol)
        if check.ok:
            warning = next((f for f in check.findings if f.outcome is Outcome.WARNING), None)
            if check.authenticated:
                state = self.tr("Works. Signing in worked.")
            elif not self._signed_in:
                state = self.tr("Works. The server answers and is secured.")
            else:
                state = self.tr("Works.")
            if warning is None:
                row.show_status(RowStatus.OK, state, title=title)
            else:
                row.show_status(
                    RowStatus.WARNING,
                    state,
                    self.core_text(warning.cause),
                    self._fix_text(warning),
                    title=title,
                )
            return
        finding = check.finding or next((f for f in check.findings if f.outcome.is_problem), None)
        if finding is None:
            row.show_status(RowStatus.FAILED, self.tr("Did not work."), title=title)
            return
        headline = self.core_text(finding.title) if finding.title is not None else ""
        state = headline or self.tr("Did not work.")
        row.show_status(
            RowStatus.FAILED,
            state,
            self.core_text(finding.cause),
            self._fix_text(finding),
            title=title,
        )

    def _show_stopped(self) -> None:
        self._stopped = True
        state = self.state
        address = "" if state is None or state.address is None else str(state.address)
        self._result = VerifyResult(address, (), 0)
        for row in self.rows.values():
            if row.status is RowStatus.RUNNING:
                row.show_status(RowStatus.STOPPED, self.tr("Stopped."))
        _set_text(
            self.summary,
            self.tr("Stopped. Nothing was changed. Press Try again to check again."),
        )
        self._refresh_details()

    def _show_error(self, error: BaseException) -> None:
        state = self.state
        address = "" if state is None or state.address is None else str(state.address)
        self._result = VerifyResult(address, (), 0)
        for row in self.rows.values():
            if row.status is RowStatus.RUNNING:
                row.show_status(RowStatus.STOPPED, self.tr("Not checked."))
        if isinstance(error, SetupError):
            text = self.error_text(self.tr("The check could not run."), error)
        else:
            text = self.tr(
                "The check could not run because of an error in this program. Press Try again; "
                "if it happens again, ask your helpdesk."
            )
        _set_text(self.summary, text)

    def _show_buttons(self, *, running: bool) -> None:
        finished = not running
        self.try_again.setEnabled(finished)
        self.change_settings.setEnabled(finished)
        self.sign_in_again.setEnabled(finished)
        state = self.state
        self.sign_in_again.setVisible(state is not None and sign_in_kind(state) is not None)

    def _act(self, action: CheckAction) -> None:
        if self.running:
            return
        state = self.state
        result = self._result
        if result is None:
            address = "" if state is None or state.address is None else str(state.address)
            result = VerifyResult(address, (), 0)
        self.answered.emit(CheckingDone(result, action))

    # -- texts ---------------------------------------------------------------------------------

    def _row_title(self, kind: RowKind, protocol: Protocol | None) -> str:
        if kind is RowKind.INCOMING:
            if protocol is Protocol.POP3:
                return self.tr("Receiving mail (POP)")
            return self.tr("Receiving mail (IMAP)")
        if kind is RowKind.SENDING:
            return self.tr("Sending mail (SMTP)")
        if kind is RowKind.CALENDARS:
            return self.tr("Calendars (CalDAV)")
        return self.tr("Contacts (CardDAV)")

    def _not_offered(self, kind: RowKind) -> str:
        if kind is RowKind.SENDING:
            return self.tr("Not set up: there is no server for sending mail.")
        if kind is RowKind.CALENDARS:
            return self.tr("Not offered for this account.")
        if kind is RowKind.CONTACTS:
            return self.tr("Not offered for this account.")
        return self.tr("Not set up.")

    def _step_text(self, step: CheckStep) -> str:
        name = step.name
        if name == "connect":
            return self.tr("Connecting…")
        if name in ("tls", "starttls"):
            return self.tr("Securing the connection…")
        if name == "authenticate":
            return self.tr("Signing in…")
        return self.tr("Checking…")

    def _fix_text(self, finding: Finding) -> str:
        if finding.fix is None:
            return ""
        return self.tr("What to do: %1").replace("%1", self.core_text(finding.fix))

    def _finding_text(self, finding: Finding) -> str:
        text = self.core_text(finding.cause)
        if finding.fix is not None:
            text += " " + self.core_text(finding.fix)
        return text

    # -- details -------------------------------------------------------------------------------

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_toggle.setText(
            self.tr("Hide &details") if shown else self.tr("Show &details for the helpdesk")
        )

    def details_text(self) -> str:
        """What the details area shows: each check's target, timeline, TLS and findings."""
        lines: list[str] = []
        result = self._result
        checks = {} if result is None else {c.protocol: c for c in result.checks}
        protocols = list(dict.fromkeys([*self._targets, *checks]))
        for protocol in protocols:
            check = checks.get(protocol)
            target = check.target if check is not None else self._targets.get(protocol, "")
            lines.append(f"{protocol.value.upper()}  {target}")
            steps = list(check.steps) if check is not None else self._live.get(protocol, [])
            for step in steps:
                mark = self.tr("ok") if step.ok else self.tr("failed")
                detail = f"  {step.detail}" if step.detail else ""
                lines.append(
                    f"  +{step.started_ms:>5} ms  {step.name:<14} {mark:<6} {step.ms} ms{detail}"
                )
            if check is not None:
                if check.tls is not None:
                    lines.extend(f"  {line}" for line in self._tls_lines(check.tls))
                for finding in check.findings:
                    lines.append(f"  {finding.outcome.value}: {finding.code}")
                    if finding.server_said:
                        said = self.tr("Server said: %1").replace("%1", finding.server_said)
                        lines.append(f"    {said}")
            lines.append("")
        if result is not None and result.checks:
            took = self.tr("All checks took %1 ms.").replace("%1", str(result.elapsed_ms))
            lines.append(took)
        if self._stopped:
            lines.append(self.tr("Stopped."))
        return "\n".join(lines).rstrip() + "\n"

    def _tls_lines(self, tls: TLSInfo) -> list[str]:
        lines = [
            self.tr("TLS: %1, %2").replace("%1", tls.version).replace("%2", tls.cipher),
        ]
        cert = tls.certificate
        if cert is not None:
            lines.append(self.tr("Certificate: %1").replace("%1", cert.subject))
            lines.append(self.tr("Issued by: %1").replace("%1", cert.issuer))
            valid = self.tr("Valid from %1 to %2")
            lines.append(
                valid.replace("%1", cert.not_before.date().isoformat()).replace(
                    "%2", cert.not_after.date().isoformat()
                )
            )
            names = ", ".join((*cert.dns_names, *cert.ip_addresses))
            if names:
                lines.append(self.tr("Names: %1").replace("%1", names))
            lines.append(self.tr("SHA-256: %1").replace("%1", cert.sha256))
        return lines

    def _refresh_details(self) -> None:
        self.details.setPlainText(self.details_text())
