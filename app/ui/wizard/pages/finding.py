"""Finding your settings: detection runs with live progress, one row per source, then the
result: the provider (name and badge), the servers found, where they came from and how far to
trust them, warnings (plain HTTP, low trust), advice (a hybrid Exchange mailbox: what works and
what the administrator must enable) and the provider's notes.

The person can pick another candidate (experts), accept a "did you mean …?" suggestion, open
the details to edit them by hand, or continue. Stop (the window's Cancel while the search runs)
ends the search at once; "Try again" starts it afresh. Coming back to this page shows the result
given before, without searching again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.discovery.base import SourceOutcome
from app.core.discovery.engine import SOURCE_ORDER, DetectionResult, SourceEvent
from app.core.flow import (
    Answer,
    DetectionDone,
    FindingAction,
    Problem,
    Step,
    WizardState,
    advice,
)
from app.core.model import AccountConfig, AuthKind, Endpoint, Outcome, Security, Trust
from app.core.resources import resource_path
from app.ui.wizard.page import PageContext, WizardPage, problem_label, show_problem
from app.ui.wizard.page import wrapped_to_fit as wrapped

_log = logging.getLogger(__name__)

#: The size of the provider's badge, in device-independent pixels.
BADGE_SIZE = 44


class RowState(Enum):
    """Where one source stands, as the row shows it (a glyph and a word)."""

    WAITING = "waiting"
    LOOKING = "looking"
    FOUND = "found"
    NOTHING = "nothing"
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    SKIPPED = "skipped"
    NOT_NEEDED = "not-needed"
    STOPPED = "stopped"


_GLYPHS: dict[RowState, str] = {
    RowState.WAITING: "○",
    RowState.LOOKING: "⟳",
    RowState.FOUND: "✓",
    RowState.NOTHING: "–",
    RowState.FAILED: "✗",
    RowState.TIMED_OUT: "✗",
    RowState.SKIPPED: "↷",
    RowState.NOT_NEEDED: "↷",
    RowState.STOPPED: "■",
}

_FROM_OUTCOME: dict[SourceOutcome, RowState] = {
    SourceOutcome.FOUND: RowState.FOUND,
    SourceOutcome.NOTHING: RowState.NOTHING,
    SourceOutcome.FAILED: RowState.FAILED,
    SourceOutcome.SKIPPED: RowState.SKIPPED,
    SourceOutcome.CANCELLED: RowState.NOT_NEEDED,
    SourceOutcome.TIMED_OUT: RowState.TIMED_OUT,
}


class Phase(Enum):
    IDLE = "idle"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
    DONE = "done"


@dataclass
class SourceRow:
    """One source's row: a glyph, its plain-language name and its state in words."""

    name: str
    icon: QLabel
    label: QLabel
    status: QLabel
    state: RowState = RowState.WAITING


def provider_badge(name: str, provider_id: str | None, palette: QPalette, size: int) -> QPixmap:
    """The provider's logo from ``resources/providers/<id>.png`` (or ``.svg``) when there is
    one, else a neutral round badge with the name's first letter in the palette's colours."""
    if provider_id:
        for suffix in (".png", ".svg"):
            path = resource_path("providers", provider_id + suffix)
            if path.is_file():
                logo = QPixmap(str(path))
                if not logo.isNull():
                    return logo.scaled(
                        size,
                        size,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
    letter = next((ch for ch in name if ch.isalnum()), "?").upper()
    ratio = 2.0
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
    painter.drawEllipse(QRectF(0, 0, size, size))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.5))
    painter.setFont(font)
    painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
    painter.drawText(QRectF(0, 0, size, size), int(Qt.AlignmentFlag.AlignCenter), letter)
    painter.end()
    return pixmap


def _came_over_plain_http(config: AccountConfig) -> bool:
    """Settings downloaded without TLS (Thunderbird flags these too)."""
    url = (config.provenance.url or "").lower()
    if url.startswith("http://"):
        return True
    return config.provenance.source in ("autoconfig", "ispdb") and not config.provenance.over_https


class FindingPage(WizardPage):
    step = Step.FINDING

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.phase = Phase.IDLE
        self.result: DetectionResult | None = None
        self._task: asyncio.Task[DetectionResult] | None = None
        self._run = 0
        self._build()

    # -- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.status = wrapped("", self, name="statusText")
        self.layout_.addWidget(self.status)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("progress")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Looking for your settings"))
        self.layout_.addWidget(self.progress)

        # Stopped, or failed: say so, and offer to try again.
        self.stopped_box = QWidget(self)
        self.stopped_box.setObjectName("stoppedBox")
        stopped = QHBoxLayout(self.stopped_box)
        stopped.setContentsMargins(0, 0, 0, 0)
        self.stopped_text = wrapped("", self.stopped_box, name="stoppedText")
        self.try_again = QPushButton(self.tr("&Try again"), self.stopped_box)
        self.try_again.setObjectName("tryAgain")
        self.try_again.setAccessibleName(self.tr("Try again"))
        self.try_again.clicked.connect(self._try_again)
        stopped.addWidget(self.stopped_text, 1)
        stopped.addWidget(self.try_again, 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.addWidget(self.stopped_box)

        self._build_result()
        self.nothing_found = wrapped("", self, name="nothingFound")
        self.layout_.addWidget(self.nothing_found)
        self.suggestion = QPushButton(self)
        self.suggestion.setObjectName("suggestion")
        self.suggestion.setAccessibleName(self.tr("Use the suggested address"))
        self.suggestion.clicked.connect(self._use_suggestion)
        self.layout_.addWidget(self.suggestion, 0, Qt.AlignmentFlag.AlignLeft)
        self.problem = problem_label(self, name="findingProblem")
        self.layout_.addWidget(self.problem)
        self._build_sources()
        self.layout_.addStretch(1)
        self._set_phase(Phase.IDLE)

    def _build_result(self) -> None:
        self.result_box = QWidget(self)
        self.result_box.setObjectName("resultBox")
        box = QVBoxLayout(self.result_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(10)

        head = QHBoxLayout()
        head.setSpacing(12)
        self.logo = QLabel(self.result_box)
        self.logo.setObjectName("providerLogo")
        self.logo.setFixedSize(BADGE_SIZE, BADGE_SIZE)
        self.provider_name = wrapped("", self.result_box, name="providerName")
        font = self.provider_name.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.provider_name.setFont(font)
        head.addWidget(self.logo, 0, Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.provider_name, 1, Qt.AlignmentFlag.AlignVCenter)
        box.addLayout(head)
        self.summary = wrapped("", self.result_box, name="summaryText")
        box.addWidget(self.summary)

        self.advice_box = QFrame(self.result_box)
        self.advice_box.setObjectName("adviceBox")
        self.advice_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.advice_layout = QVBoxLayout(self.advice_box)
        box.addWidget(self.advice_box)

        self.trust_warning = wrapped("", self.result_box, name="trustWarning")
        self.trust_warning.setProperty("role", "warning")
        bold = self.trust_warning.font()
        bold.setBold(True)
        self.trust_warning.setFont(bold)
        box.addWidget(self.trust_warning)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.candidates = QComboBox(self.result_box)
        self.candidates.setObjectName("candidates")
        self.candidates.setAccessibleName(self.tr("Settings to use"))
        self.candidates.view().setAccessibleName(self.tr("Settings to use"))
        self.candidates.setAccessibleDescription(
            self.tr("Several sets of settings were found. The first one is the best.")
        )
        self.candidates.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.candidates.setMinimumContentsLength(20)
        self.candidates.currentIndexChanged.connect(self._candidate_changed)
        form.addRow(self.tr("&Settings to use:"), self.candidates)
        self.candidates_label = form.labelForField(self.candidates)
        self.incoming = self._value(form, self.tr("Incoming mail:"), "incomingText")
        self.outgoing = self._value(form, self.tr("Outgoing mail:"), "outgoingText")
        self.calendars = self._value(form, self.tr("Calendars:"), "calendarsText")
        self.contacts = self._value(form, self.tr("Contacts:"), "contactsText")
        self.sign_in = self._value(form, self.tr("Sign-in:"), "signInText")
        self.found_by = self._value(form, self.tr("Found by:"), "foundByText")
        self.found_at = self._value(form, self.tr("Downloaded from:"), "foundAtText")
        self.found_at_label = form.labelForField(self.found_at)
        self.trust = self._value(form, self.tr("Trust:"), "trustText")
        box.addLayout(form)

        self.notes_box = QGroupBox(self.tr("Notes from your provider"), self.result_box)
        self.notes_box.setObjectName("notesBox")
        self.notes_layout = QVBoxLayout(self.notes_box)
        box.addWidget(self.notes_box)

        buttons = QHBoxLayout()
        self.edit = QPushButton(self.tr("Show &details / edit manually"), self.result_box)
        self.edit.setObjectName("editManually")
        self.edit.setAccessibleName(self.tr("Show details or edit the settings manually"))
        self.edit.clicked.connect(self._edit)
        buttons.addWidget(self.edit)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.layout_.addWidget(self.result_box)

    def _value(self, form: QFormLayout, title: str, name: str) -> QLabel:
        label = wrapped("", self.result_box, name=name)
        form.addRow(title, label)
        return label

    def _build_sources(self) -> None:
        self.sources_box = QGroupBox(self.tr("Where we look"), self)
        self.sources_box.setObjectName("sourcesBox")
        grid = QGridLayout(self.sources_box)
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(10)
        self.rows: dict[str, SourceRow] = {}
        for index, name in enumerate(SOURCE_ORDER):
            icon = QLabel(self.sources_box)
            icon.setObjectName(f"sourceIcon-{name}")
            icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
            icon.setMinimumWidth(icon.fontMetrics().horizontalAdvance("✓") * 2)
            label = wrapped(self._source_label(name), self.sources_box, name=f"source-{name}")
            status = QLabel(self.sources_box)
            status.setObjectName(f"sourceState-{name}")
            status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(icon, index, 0)
            grid.addWidget(label, index, 1)
            grid.addWidget(status, index, 2)
            self.rows[name] = SourceRow(name, icon, label, status)
        self.layout_.addWidget(self.sources_box)

    # -- texts ---------------------------------------------------------------------------------

    def _source_label(self, name: str) -> str:
        labels = {
            "catalog": self.tr("Built-in list of providers"),
            "autoconfig": self.tr("Your provider's own setup file"),
            "ispdb": self.tr("Thunderbird's list of providers"),
            "mx": self.tr("The servers that receive mail for your domain"),
            "microsoft": self.tr("Microsoft 365 and Exchange"),
            "srv": self.tr("Server records published for your domain"),
            "guess": self.tr("Trying common server names"),
            "autodiscover": self.tr("Your organisation's Exchange server"),
            "manual": self.tr("Entered by hand"),
        }
        return labels.get(name, name)

    def _state_text(self, state: RowState) -> str:
        return {
            RowState.WAITING: self.tr("Waiting"),
            RowState.LOOKING: self.tr("Looking…"),
            RowState.FOUND: self.tr("Found"),
            RowState.NOTHING: self.tr("Nothing found"),
            RowState.FAILED: self.tr("Failed"),
            RowState.TIMED_OUT: self.tr("Took too long"),
            RowState.SKIPPED: self.tr("Skipped"),
            RowState.NOT_NEEDED: self.tr("Not needed"),
            RowState.STOPPED: self.tr("Stopped"),
        }[state]

    def _security_text(self, security: Security) -> str:
        return {
            Security.TLS: self.tr("encrypted (SSL/TLS)"),
            Security.STARTTLS: self.tr("encrypted (STARTTLS)"),
            Security.PLAIN: self.tr("not encrypted"),
        }[security]

    def _auth_text(self, auth: AuthKind) -> str:
        return {
            AuthKind.PASSWORD: self.tr("Your password"),
            AuthKind.APP_PASSWORD: self.tr("An app password you create on your provider's site"),
            AuthKind.OAUTH2_MICROSOFT: self.tr("Sign in with Microsoft"),
            AuthKind.OAUTH2_GOOGLE: self.tr("Sign in with Google"),
            AuthKind.EXCHANGE_HYBRID: self.tr("Sign in with Microsoft (Exchange hybrid)"),
            AuthKind.NONE: self.tr("No sign-in"),
        }[auth]

    def _trust_text(self, trust: Trust) -> str:
        return {
            Trust.HIGH: self.tr(
                "High: from a reliable source. The settings are still checked before anything "
                "is saved."
            ),
            Trust.MEDIUM: self.tr(
                "Medium: probably right, but not confirmed by a secure source. The settings are "
                "checked before anything is saved."
            ),
            Trust.LOW: self.tr("Low: not confirmed, and may be wrong."),
        }[trust]

    def _endpoint_text(self, endpoint: Endpoint) -> str:
        return (
            self.tr("%1: %2, port %3, %4")
            .replace("%1", endpoint.protocol.value.upper())
            .replace("%2", endpoint.host_unicode)
            .replace("%3", str(endpoint.port))
            .replace("%4", self._security_text(endpoint.security))
        )

    def _candidate_text(self, config: AccountConfig) -> str:
        incoming = config.incoming
        first = f"{incoming.protocol.value.upper()} {incoming.host_unicode}:{incoming.port}"
        if config.outgoing is None:
            return self.tr("%1 (no outgoing server)").replace("%1", first)
        out = config.outgoing
        return (
            self.tr("%1, sending through %2")
            .replace("%1", first)
            .replace("%2", f"{out.host_unicode}:{out.port}")
        )

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        self._forget_run()
        show_problem(self.problem, "")
        self.result = None
        self._reset_rows()
        previous = state.answer
        if (
            isinstance(previous, DetectionDone)
            and state.address is not None
            and previous.result.address == state.address
        ):
            self._show_result(previous.result, previous.candidate, from_before=True)
        elif state.detection is not None and state.detection.address == state.address:
            self._show_result(state.detection, self._candidate_of(state), from_before=True)
        else:
            self._set_phase(Phase.IDLE)

    def enter(self) -> None:
        if self.phase is Phase.IDLE and self.state is not None and self.state.address is not None:
            self.start()

    def leave(self) -> None:
        task = self._task
        self._forget_run()
        if task is not None and not task.done():
            task.cancel()
            self._set_phase(Phase.STOPPED)

    def answer(self) -> Answer | None:
        if self.phase is not Phase.DONE or self.result is None:
            return None
        return DetectionDone(self.result, FindingAction.CONTINUE, self.chosen_candidate())

    def show_problems(self, problems: Sequence[Problem]) -> None:
        text = "\n".join(self.problem_text(p) for p in problems)
        show_problem(self.problem, text, warning=all(not p.blocking for p in problems))

    def chosen_candidate(self) -> int:
        index = self.candidates.currentIndex()
        return max(index, 0)

    def row_state(self, name: str) -> RowState:
        return self.rows[name].state

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        """Search for the state's address (again), showing each source's progress."""
        state = self.state
        if state is None or state.address is None:
            return
        self._forget_run()
        run = self._run
        self.result = None
        show_problem(self.problem, "")
        self._reset_rows()
        self._set_phase(Phase.RUNNING)

        def on_event(event: SourceEvent) -> None:
            if run == self._run:
                self._source_event(event)

        work = self.context.services.find(state.address, state.language, on_event)
        self._task = self.context.tasks.start(work, done=lambda task: self._finished(run, task))

    def _forget_run(self) -> None:
        """Whatever the running search still reports is ignored from now on."""
        self._run += 1
        self._task = None

    def _finished(self, run: int, task: asyncio.Task[DetectionResult]) -> None:
        if run != self._run:
            return
        self._task = None
        if task.cancelled():
            for row in self.rows.values():
                if row.state in (RowState.LOOKING, RowState.NOT_NEEDED, RowState.WAITING):
                    self._set_row(row, RowState.STOPPED)
            self._set_phase(Phase.STOPPED)
            return
        error = task.exception()
        if error is not None:
            _log.error("detection failed", exc_info=error)
            self._set_phase(Phase.FAILED)
            return
        self._show_result(task.result(), 0)

    def _source_event(self, event: SourceEvent) -> None:
        row = self.rows.get(event.name)
        if row is None:
            return
        if event.report is None:
            self._set_row(row, RowState.LOOKING)
            return
        self._set_row(row, _FROM_OUTCOME.get(event.report.outcome, RowState.FAILED))
        row.status.setToolTip(event.report.detail or "")

    def _try_again(self) -> None:
        self.start()

    # -- showing -------------------------------------------------------------------------------

    def _reset_rows(self) -> None:
        for row in self.rows.values():
            self._set_row(row, RowState.WAITING)
            row.status.setToolTip("")

    def _set_row(self, row: SourceRow, state: RowState) -> None:
        row.state = state
        text = self._state_text(state)
        row.icon.setText(_GLYPHS[state])
        row.icon.setAccessibleName(text)
        row.status.setText(text)
        row.status.setAccessibleName(text)
        spoken = self.tr("%1: %2").replace("%1", row.label.text()).replace("%2", text)
        row.label.setAccessibleName(spoken)
        row.icon.setEnabled(state is not RowState.WAITING)
        row.status.setEnabled(state is not RowState.WAITING)

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        address = (
            "" if self.state is None or self.state.address is None else str(self.state.address)
        )
        running = phase is Phase.RUNNING
        self.progress.setVisible(running)
        self.stopped_box.setVisible(phase in (Phase.STOPPED, Phase.FAILED))
        done = phase is Phase.DONE and self.result is not None
        found = done and self.result is not None and self.result.found
        self.result_box.setVisible(found)
        self.nothing_found.setVisible(done and not found)
        suggestion = self.result.suggestion if done and self.result is not None else None
        self.suggestion.setVisible(bool(suggestion))
        if suggestion:
            text = self.tr("Did you mean %1? Use this address").replace("%1", suggestion)
            self.suggestion.setText(text)
            self.suggestion.setAccessibleName(text)
        if running:
            status = self.tr("Looking for the settings for %1…").replace("%1", address)
        elif phase is Phase.STOPPED:
            status = ""
            self.stopped_text.setText(
                self.tr("Stopped. You can try again, or go back and check the address.")
            )
        elif phase is Phase.FAILED:
            status = ""
            self.stopped_text.setText(
                self.tr("Something went wrong while looking for the settings. Please try again.")
            )
        elif found:
            status = self.tr("We found the settings for %1.").replace("%1", address)
        elif done:
            status = ""
            self.nothing_found.setText(
                self.tr(
                    "We could not find the settings for %1. Continue to enter them yourself: "
                    "your provider's help pages or your helpdesk can tell you what to type."
                ).replace("%1", address)
            )
        else:
            status = ""
        self.status.setText(status)
        self.status.setVisible(bool(status))
        self.status.setAccessibleName(status)
        self.stopped_text.setAccessibleName(self.stopped_text.text())
        self.nothing_found.setAccessibleName(self.nothing_found.text())
        self.ready_changed.emit()

    def _candidate_of(self, state: WizardState) -> int:
        detection = state.detection
        if detection is None or state.config is None:
            return 0
        for index, candidate in enumerate(detection.candidates):
            if candidate == state.config:
                return index
        return 0

    def _show_result(
        self, result: DetectionResult, candidate: int, *, from_before: bool = False
    ) -> None:
        self.result = result
        if from_before:
            # Shown again from before: the rows say what each source answered then.
            for report in result.sources:
                row = self.rows.get(report.name)
                if row is not None:
                    self._set_row(row, _FROM_OUTCOME.get(report.outcome, RowState.FAILED))
                    row.status.setToolTip(report.detail or "")
        for row in self.rows.values():
            if row.state in (RowState.WAITING, RowState.LOOKING):
                self._set_row(row, RowState.NOT_NEEDED)
        self.candidates.blockSignals(True)
        self.candidates.clear()
        for config in result.candidates:
            self.candidates.addItem(self._candidate_text(config))
        several = len(result.candidates) > 1
        self.candidates.setVisible(several)
        if self.candidates_label is not None:
            self.candidates_label.setVisible(several)
        if result.candidates:
            self.candidates.setCurrentIndex(min(max(candidate, 0), len(result.candidates) - 1))
        self.candidates.blockSignals(False)
        if result.found:
            self._show_candidate()
        self._set_phase(Phase.DONE)

    def _candidate_changed(self, _index: int) -> None:
        self._show_candidate()
        self.ready_changed.emit()

    def _show_candidate(self) -> None:
        result = self.result
        if result is None or not result.found:
            return
        config = result.candidates[self.chosen_candidate()]
        name = (
            (result.provider.name if result.provider is not None else None)
            or config.provider_name
            or result.address.domain
        )
        provider = result.provider.id if result.provider is not None else config.provider_id
        self.provider_name.setText(name)
        self.provider_name.setAccessibleName(name)
        self.logo.setPixmap(provider_badge(name, provider, self.palette(), BADGE_SIZE))
        self.logo.setAccessibleName(self.tr("Logo of %1").replace("%1", name))

        self.incoming.setText(self._endpoint_text(config.incoming))
        if config.outgoing is None:
            self.outgoing.setText(
                self.tr("None found. You will not be able to send mail until one is set.")
            )
        else:
            self.outgoing.setText(self._endpoint_text(config.outgoing))
        none = self.tr("None found")
        self.calendars.setText(self._dav_text(result, config, "caldav") or none)
        self.contacts.setText(self._dav_text(result, config, "carddav") or none)
        self.sign_in.setText(self._auth_text(config.auth))
        provenance = config.provenance
        self.found_by.setText(self._source_label(provenance.source))
        self.found_at.setText(provenance.url or "")
        self.found_at.setVisible(bool(provenance.url))
        if self.found_at_label is not None:
            self.found_at_label.setVisible(bool(provenance.url))
        self.trust.setText(self._trust_text(provenance.trust))

        if _came_over_plain_http(config):
            warning = self.tr(
                "Warning: these settings were downloaded without encryption (plain HTTP), so "
                "someone could have changed them on the way. Compare them with your provider's "
                "instructions before you continue."
            )
        elif provenance.trust is Trust.LOW:
            warning = self.tr(
                "Warning: these settings could not be confirmed and may be wrong. Compare them "
                "with your provider's instructions, or edit them, before you continue."
            )
        else:
            warning = ""
        self.trust_warning.setText(("⚠ " + warning) if warning else "")
        self.trust_warning.setAccessibleName(warning)
        self.trust_warning.setVisible(bool(warning))

        self.summary.setText(
            self.tr(
                "Check the settings below, then continue. Experts can look at every detail and "
                "change it."
            )
        )
        for label in (
            self.incoming,
            self.outgoing,
            self.calendars,
            self.contacts,
            self.sign_in,
            self.found_by,
            self.found_at,
            self.trust,
            self.summary,
        ):
            label.setAccessibleName(label.text())

        state = self.state
        advised = advice(replace(state, detection=result, config=config)) if state else ()
        self._fill(self.advice_layout, [self.core_text(t) for t in advised], "advice")
        self.advice_box.setVisible(bool(advised))
        notes = [self.core_text(hint) for hint in config.hints]
        for finding in result.findings:
            if finding.outcome is Outcome.OK:
                continue
            notes.append(self.core_text(finding.title or finding.cause))
            if finding.fix is not None:
                notes.append(self.core_text(finding.fix))
        self._fill(self.notes_layout, notes, "note")
        self.notes_box.setVisible(bool(notes))

    def _dav_text(self, result: DetectionResult, config: AccountConfig, kind: str) -> str:
        url: str | None = getattr(config, kind)
        if not url:
            return ""
        if config.provenance.source != "srv":
            for report in result.sources:
                if report.name == "srv" and report.data.get(kind) == url:
                    return self.tr("%1 (published in your domain's records)").replace("%1", url)
        return url

    def _fill(self, layout: QVBoxLayout, texts: list[str], name: str) -> None:
        while layout.count():
            item = layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        parent = layout.parentWidget()
        for index, text in enumerate(texts):
            label = wrapped(text, parent, name=f"{name}-{index}")
            label.setAccessibleName(text)
            layout.addWidget(label)

    # -- answering by itself -------------------------------------------------------------------

    def _use_suggestion(self) -> None:
        if self.result is not None and self.result.suggestion:
            self.answered.emit(DetectionDone(self.result, FindingAction.USE_SUGGESTION))

    def _edit(self) -> None:
        if self.result is not None:
            self.answered.emit(
                DetectionDone(self.result, FindingAction.EDIT, self.chosen_candidate())
            )
