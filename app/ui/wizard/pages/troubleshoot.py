"""Helpdesk mode in the window (the TROUBLESHOOT step; the flow ends here, this page does it all).

Two views on one page:

- **The questions**: what is not working (the symptoms of ``resources/diagnostics/symptoms.toml``
  in the person's words), which account (a saved one, or an address typed in), and "Run checks".
  A warning shows when the program runs as root or SYSTEM: it then sees that account's keyring
  and settings, not the person's.
- **The results**: the core's :func:`~app.core.diagnostics.diagnose.diagnose` (what ``mailsetup
  diagnose`` runs) as a task of the window, with the time so far while it runs; the window's Stop
  cancels it ("Stopped", "Try again"). Then the verdict and each finding's cause, fix and who can
  fix it, most likely first, and the symptom's advice; "Copy summary" (a short redacted text on
  the clipboard) and "Save report…" (the redacted ``.zip`` of
  :func:`~app.core.diagnostics.report.write_report_zip`, written atomically), optionally with the
  address hidden.

A saved account is checked with its saved password (read from the keyring in a worker thread,
kept in the window's vault, never in a widget) or its saved Microsoft sign-in; anything else is
checked without a password. Everything shown, copied or saved passes the core's redaction with
that password.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Final, TypeAlias

from PySide6.QtCore import QStandardPaths, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.core.checks.base import CheckTarget, Secret
from app.core.diagnostics import report
from app.core.diagnostics.diagnose import (
    DiagnoseOptions,
    Diagnosis,
    TargetsHook,
    Verdict,
    diagnose,
)
from app.core.diagnostics.environment import HostFacts, local_facts
from app.core.diagnostics.redact import install_redaction, redact
from app.core.diagnostics.symptoms import DEFAULT_SYMPTOM, Symptom, symptoms
from app.core.errors import InvalidAddressError, SetupError
from app.core.flow import SecretRef, Step, WizardState
from app.core.flow.services import with_microsoft_tokens
from app.core.model import AccountConfig, AuthKind, EmailAddress, Finding, Fixer, Outcome
from app.core.profiles.secrets import SecretPurpose, load_secret
from app.core.profiles.store import SavedAccount, account_key
from app.core.texts import Text
from app.ui.wizard.page import PageContext, WizardPage, problem_label, show_problem, wrapped

_log = logging.getLogger(__name__)

#: What the page reads when it is shown: the saved accounts, this computer's facts, and the
#: store's problem when the accounts could not be read.
_Loaded: TypeAlias = tuple[list[SavedAccount], HostFacts, SetupError | None]

#: How long reading the saved password from the keyring may take (it may ask to unlock it).
KEYRING_WAIT: Final = 30.0


def _label(text: str, parent: QWidget, name: str) -> QLabel:
    """A wrapped label (see :func:`wrapped`) that takes the height its text needs at the width
    it gets: with the default vertical policy it would keep the height of its size hint (its
    text wrapped at a narrower width), leaving gaps between the lines of a finding."""
    label = wrapped(text, parent, name=name)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setAccessibleName(text)
    return label


def _say(label: QLabel, text: str) -> None:
    """Set a label's text and what a screen reader reads for it; hide it when empty."""
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))


class TroubleshootPage(WizardPage):
    step = Step.TROUBLESHOOT

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.diagnosis: Diagnosis | None = None
        self.facts: HostFacts | None = None
        self._saved: dict[str, SavedAccount] = {}
        self._symptoms: tuple[Symptom, ...] = symptoms()
        self._task: asyncio.Task[tuple[Diagnosis, SecretRef | None, Finding | None]] | None = None
        self._load_task: asyncio.Task[_Loaded] | None = None
        self._secret_ref: SecretRef | None = None
        self._started = 0.0
        self._checking_address = ""

        self.views = QStackedWidget(self)
        self.views.setObjectName("views")
        self.layout_.addWidget(self.views, 1)
        self.ask_view = self._build_ask_view()
        self.result_view = self._build_result_view()
        self.views.addWidget(self.ask_view)
        self.views.addWidget(self.result_view)

        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self.setFocusProxy(self.symptom_buttons[0] if self.symptom_buttons else self.account)

    # -- building --------------------------------------------------------------------------

    def _build_ask_view(self) -> QWidget:
        view = QWidget(self)
        view.setObjectName("askView")
        layout = QVBoxLayout(view)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        self.intro = _label(
            self.tr(
                "Tell us what is not working and for which account. We check the servers, the "
                "saved settings and this computer, and explain what we find. Your password is "
                "never shown and never put in the summary or the report."
            ),
            view,
            "intro",
        )
        layout.addWidget(self.intro)
        self.privileged_warning = problem_label(view, name="privilegedWarning")
        layout.addWidget(self.privileged_warning)

        self.symptom_box = QGroupBox(self.tr("What is not working?"), view)
        self.symptom_box.setObjectName("symptoms")
        self.symptom_box.setAccessibleName(self.tr("What is not working?"))
        box_layout = QVBoxLayout(self.symptom_box)
        box_layout.setSpacing(4)
        self.symptom_group = QButtonGroup(self)
        self.symptom_group.setExclusive(True)
        self.symptom_buttons: list[QRadioButton] = []
        for index, item in enumerate(self._symptoms):
            button = QRadioButton(self.symptom_box)
            button.setObjectName(f"symptom-{item.name}")
            button.setChecked(item.name == DEFAULT_SYMPTOM)
            self.symptom_group.addButton(button, index)
            self.symptom_buttons.append(button)
            box_layout.addWidget(button)
        self._label_symptoms()
        layout.addWidget(self.symptom_box)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.account = QComboBox(view)
        self.account.setObjectName("account")
        self.account.setEditable(True)
        self.account.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.account.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.account.setMinimumContentsLength(18)
        self.account.setAccessibleName(self.tr("Email address of the account"))
        self.account.setAccessibleDescription(
            self.tr("Choose a saved account or type an email address.")
        )
        edit = self.account.lineEdit()
        assert edit is not None  # an editable combo box has one
        edit.setObjectName("accountAddress")
        edit.setAccessibleName(self.tr("Email address of the account"))
        edit.setPlaceholderText(self.tr("name@example.com"))
        edit.setInputMethodHints(
            Qt.InputMethodHint.ImhEmailCharactersOnly | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        edit.setClearButtonEnabled(True)
        account_label = QLabel(self.tr("&Account:"), view)
        account_label.setBuddy(self.account)
        field = QVBoxLayout()
        field.setSpacing(4)
        field.addWidget(self.account)
        self.account_problem = problem_label(view, name="accountProblem")
        field.addWidget(self.account_problem)
        self.account_note = _label("", view, "accountNote")
        self.account_note.setVisible(False)
        field.addWidget(self.account_note)
        form.addRow(account_label, field)
        layout.addLayout(form)

        row = QHBoxLayout()
        self.run_button = QPushButton(self.tr("&Run checks"), view)
        self.run_button.setObjectName("runChecks")
        self.run_button.setAccessibleName(self.tr("Run checks"))
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_checks)
        row.addWidget(self.run_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

        self.account.currentTextChanged.connect(self._account_changed)
        QWidget.setTabOrder(self.symptom_buttons[-1], self.account)
        QWidget.setTabOrder(self.account, self.run_button)
        return view

    def _build_result_view(self) -> QWidget:
        view = QWidget(self)
        view.setObjectName("resultView")
        layout = QVBoxLayout(view)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.result_title = _label("", view, "resultTitle")
        font = self.result_title.font()
        font.setBold(True)
        self.result_title.setFont(font)
        layout.addWidget(self.result_title)

        self.status = _label("", view, "status")
        layout.addWidget(self.status)
        self.progress = QProgressBar(view)
        self.progress.setObjectName("progress")
        self.progress.setRange(0, 0)  # busy: how far is not known in advance
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Checking"))
        layout.addWidget(self.progress)

        verdict_row = QHBoxLayout()
        self.verdict_icon = QLabel(view)
        self.verdict_icon.setObjectName("verdictIcon")
        self.verdict_icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        verdict_row.addWidget(self.verdict_icon)
        self.verdict = _label("", view, "verdict")
        font = self.verdict.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.verdict.setFont(font)
        verdict_row.addWidget(self.verdict, 1)
        layout.addLayout(verdict_row)
        self.credentials_note = _label("", view, "credentialsNote")
        layout.addWidget(self.credentials_note)

        self.findings_area = QScrollArea(view)
        self.findings_area.setObjectName("findingsArea")
        self.findings_area.setAccessibleName(self.tr("What was found"))
        self.findings_area.setWidgetResizable(True)
        self.findings_area.setFrameShape(QFrame.Shape.NoFrame)
        self.findings_box = QWidget(self.findings_area)
        self.findings_box.setObjectName("findings")
        self.findings_layout = QVBoxLayout(self.findings_box)
        self.findings_layout.setContentsMargins(0, 0, 4, 0)
        self.findings_layout.setSpacing(8)
        self.findings_area.setWidget(self.findings_box)
        layout.addWidget(self.findings_area, 1)

        self.mask_address = QCheckBox(
            self.tr("&Hide my address in the summary and the report"), view
        )
        self.mask_address.setObjectName("maskAddress")
        self.mask_address.setAccessibleName(
            self.tr("Hide my address in the summary and the report")
        )
        layout.addWidget(self.mask_address)

        buttons = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("&Copy summary"), view)
        self.copy_button.setObjectName("copySummary")
        self.copy_button.setAccessibleName(self.tr("Copy summary"))
        self.copy_button.setToolTip(
            self.tr("Copies a short text for a chat or an email to your helpdesk.")
        )
        self.copy_button.clicked.connect(self.copy_summary)
        self.save_button = QPushButton(self.tr("&Save report…"), view)
        self.save_button.setObjectName("saveReport")
        self.save_button.setAccessibleName(self.tr("Save report"))
        self.save_button.setToolTip(
            self.tr("Saves the full report as a .zip file to send to your helpdesk.")
        )
        self.save_button.clicked.connect(self.save_report)
        self.again_button = QPushButton(view)
        self.again_button.setObjectName("tryAgain")
        self.again_button.clicked.connect(self.run_checks)
        self.change_button = QPushButton(self.tr("Change a&nswers"), view)
        self.change_button.setObjectName("changeAnswers")
        self.change_button.setAccessibleName(self.tr("Change answers"))
        self.change_button.clicked.connect(self.show_questions)
        for button in (self.copy_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.change_button)
        layout.addLayout(buttons)
        self.action_note = _label("", view, "actionNote")
        self.action_note.setVisible(False)
        layout.addWidget(self.action_note)
        self.action_problem = problem_label(view, name="actionProblem")
        layout.addWidget(self.action_problem)
        layout.addStretch(0)  # takes the room while there are no results to show
        return view

    def _label_symptoms(self) -> None:
        for button, item in zip(self.symptom_buttons, self._symptoms, strict=True):
            text = item.label_in(self.language)
            button.setText(text)
            button.setAccessibleName(text)

    # -- the page --------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        self._label_symptoms()
        if state.address is not None and not self.account.currentText().strip():
            self.account.setEditText(str(state.address))

    def enter(self) -> None:
        self._load_task = self.context.tasks.start(
            self._load(), done=self._loaded, cancellable=False
        )

    def leave(self) -> None:
        """Stop what runs; coming back shows the questions again."""
        for task in (self._task, self._load_task):
            if task is not None:
                task.cancel()
        self._task = self._load_task = None
        self._ticker.stop()
        if self.views.currentWidget() is self.result_view and self.diagnosis is None:
            self.views.setCurrentWidget(self.ask_view)

    def shows_next(self) -> bool:
        return False

    @property
    def running(self) -> bool:
        """Checks were started and their results (or "Stopped") are not shown yet."""
        return self._task is not None

    def chosen_symptom(self) -> Symptom:
        index = self.symptom_group.checkedId()
        if 0 <= index < len(self._symptoms):
            return self._symptoms[index]
        return next(s for s in self._symptoms if s.name == DEFAULT_SYMPTOM)

    # -- what is known before the checks ---------------------------------------------------

    async def _load(self) -> _Loaded:
        facts = await asyncio.to_thread(local_facts)
        try:
            accounts = await asyncio.to_thread(self.context.services.store.list)
        except SetupError as error:
            return [], facts, error
        return accounts, facts, None

    def _loaded(self, task: asyncio.Task[_Loaded]) -> None:
        if task is not self._load_task:
            return  # the page was left meanwhile
        self._load_task = None
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                _log.error("the saved accounts could not be read", exc_info=task.exception())
            return
        accounts, facts, error = task.result()
        self.facts = facts
        if facts.privileged:
            show_problem(
                self.privileged_warning,
                self.tr(
                    "This program is running as %1, an administrator account. It sees that "
                    "account's keyring and settings, not those of the person whose mail is not "
                    "working, so the results can be wrong. Close it and start it again as that "
                    "person, without administrator rights."
                ).replace("%1", facts.user),
                warning=True,
            )
        else:
            show_problem(self.privileged_warning, "")
        typed = self.account.currentText()
        self._saved = {account.key: account for account in accounts}
        self.account.blockSignals(True)
        self.account.clear()
        self.account.addItems([account.address for account in accounts])
        self.account.blockSignals(False)
        if typed.strip():
            self.account.setEditText(typed)
        elif self.state is not None and self.state.address is not None:
            self.account.setEditText(str(self.state.address))
        elif accounts:
            self.account.setCurrentIndex(0)
        else:
            self.account.setEditText("")
        if error is not None:
            show_problem(self.account_problem, self.core_text(error.message), warning=True)
        self._account_changed(self.account.currentText())

    def _saved_for(self, text: str) -> SavedAccount | None:
        try:
            address = EmailAddress.parse(text.strip())
        except InvalidAddressError:
            return None
        return self._saved.get(account_key(str(address)))

    def _account_changed(self, text: str) -> None:
        if self.account_problem.property("role") == "problem":
            show_problem(self.account_problem, "")
        self.run_button.setEnabled(bool(text.strip()))
        if not text.strip():
            _say(self.account_note, "")
            return
        saved = self._saved_for(text)
        if saved is None:
            note = self.tr(
                "This account is not saved on this computer. The checks run without a "
                "password: they show whether the servers answer, not whether the password "
                "is right."
            )
        elif saved.auth is AuthKind.OAUTH2_MICROSOFT:
            note = self.tr(
                "This account is saved on this computer. The checks use its saved Microsoft "
                "sign-in when there is one."
            )
        elif SecretPurpose.ACCOUNT.value in saved.secrets:
            note = self.tr(
                "This account is saved on this computer. The checks use its saved password, "
                "which is never shown."
            )
        else:
            note = self.tr(
                "This account is saved on this computer without a password. The checks show "
                "whether the servers answer, not whether the password is right."
            )
        _say(self.account_note, note)

    # -- running the checks ----------------------------------------------------------------

    def run_checks(self) -> None:
        """Run the checks for the account and symptom chosen (the window's Stop cancels)."""
        if self.running:
            return
        text = self.account.currentText().strip()
        try:
            address = EmailAddress.parse(text)
        except InvalidAddressError as error:
            self.views.setCurrentWidget(self.ask_view)
            show_problem(self.account_problem, self.core_text(error.message))
            self.account.setFocus()
            return
        chosen = self.chosen_symptom()
        self.context.vault.forget(self._secret_ref)
        self._secret_ref = None
        self.diagnosis = None
        self._checking_address = str(address)
        self._show_running()
        self._task = self.context.tasks.start(
            self._diagnose(address, chosen, self.facts), done=self._finished
        )

    async def _diagnose(
        self, address: EmailAddress, chosen: Symptom, facts: HostFacts | None
    ) -> tuple[Diagnosis, SecretRef | None, Finding | None]:
        services = self.context.services
        mailbox = str(address)
        saved: SavedAccount | None = None
        try:
            saved = await asyncio.to_thread(services.store.get, mailbox)
        except SetupError:
            saved = None  # diagnose reports the store's problem itself
        secret: Secret | None = None
        note: Finding | None = None
        if (
            saved is not None
            and saved.auth is not AuthKind.OAUTH2_MICROSOFT
            and SecretPurpose.ACCOUNT.value in saved.secrets
        ):
            try:
                secret = await asyncio.wait_for(
                    asyncio.to_thread(
                        load_secret,
                        mailbox,
                        SecretPurpose.ACCOUNT,
                        backend=services.keyring_backend,
                    ),
                    KEYRING_WAIT,
                )
            except SetupError as error:
                note = error.to_finding(Text("diagnose.check.saved"))
            except TimeoutError:
                _log.warning("the keyring did not answer within %s s", KEYRING_WAIT)
        ref = None
        if secret is not None:
            install_redaction(secrets=[secret])
            ref = self.context.vault.keep(secret)
        options = DiagnoseOptions(
            symptom=chosen.name,
            secret=secret,
            dav_username=None if saved is None else saved.dav_username,
            deadline=services.checking.deadline,
            detect_deadline=services.detection.deadline,
            targets_hook=_microsoft_tokens(self.context, mailbox),
            accounts=services.store,
            token_store=_token_store,
            keyring_backend=services.keyring_backend,
            facts=facts,
        )
        try:
            diagnosis = await diagnose(address, services.network(), options, language=self.language)
        except BaseException:
            self.context.vault.forget(ref)
            raise
        return diagnosis, ref, note

    def _show_running(self) -> None:
        self.views.setCurrentWidget(self.result_view)
        _say(
            self.result_title,
            self.tr("Checking %1").replace("%1", self._checking_address),
        )
        self._started = time.monotonic()
        self._tick()
        self.progress.setVisible(True)
        for label in (self.verdict, self.credentials_note, self.action_note):
            _say(label, "")
        self.verdict_icon.clear()
        self.verdict_icon.setVisible(False)
        show_problem(self.action_problem, "")
        self._clear_findings()
        self.findings_area.setVisible(False)
        for widget in (self.mask_address, self.copy_button, self.save_button, self.again_button):
            widget.setVisible(False)
        self.change_button.setVisible(False)
        self._ticker.start()
        self.status.setFocus()  # a screen reader reads what is going on

    def _tick(self) -> None:
        seconds = int(time.monotonic() - self._started)
        _say(
            self.status,
            self.tr(
                "Looking at the servers, the saved settings and this computer. %1 seconds so far."
            ).replace("%1", str(seconds)),
        )

    def _finished(
        self, task: asyncio.Task[tuple[Diagnosis, SecretRef | None, Finding | None]]
    ) -> None:
        if task is not self._task:  # left meanwhile (see leave)
            if not task.cancelled() and task.exception() is None:
                self.context.vault.forget(task.result()[1])
            return
        # Keep no reference to the ended task: its traceback (a cancelled or failed run) holds
        # the coroutine's frame and with it this page, a cycle only the garbage collector would
        # break, possibly in a worker thread (Qt objects must be deleted in the GUI thread).
        self._task = None
        self._ticker.stop()
        self.progress.setVisible(False)
        self.change_button.setVisible(True)
        if task.cancelled():
            self._show_stopped(self.tr("Stopped. Nothing was changed."))
            return
        error = task.exception()
        if error is not None:
            _log.error("helpdesk checks failed", exc_info=error)
            if isinstance(error, SetupError):
                text = self.tr("The checks could not finish: %1").replace(
                    "%1", self.core_text(error.message)
                )
            else:
                text = self.tr(
                    "The checks stopped because of an unexpected problem. Try again; if it "
                    "happens again, save the log file for your helpdesk."
                )
            self._show_stopped(text)
            return
        diagnosis, ref, note = task.result()
        self.diagnosis = diagnosis
        self._secret_ref = ref
        self._show_results(diagnosis, note)
        if diagnosis.saved is not None and diagnosis.verification is not None:
            # a saved account was checked again: its state in the list says so from now on
            services = self.context.services
            self.context.tasks.start(
                services.record_check(diagnosis.address, diagnosis.verification),
                cancellable=False,
            )

    def _show_stopped(self, text: str) -> None:
        _say(self.status, text)
        self._set_again(self.tr("Try &again"), self.tr("Try again"))
        self.again_button.setFocus()

    def _set_again(self, text: str, name: str) -> None:
        self.again_button.setText(text)
        self.again_button.setAccessibleName(name)
        self.again_button.setVisible(True)

    # -- results ---------------------------------------------------------------------------

    def _show_results(self, diagnosis: Diagnosis, note: Finding | None) -> None:
        _say(self.result_title, self.tr("Results for %1").replace("%1", diagnosis.address))
        _say(self.status, "")
        _say(self.verdict, self.core_text(Text(f"diagnose.verdict.{diagnosis.verdict.value}")))
        icon = {
            Verdict.HEALTHY: QStyle.StandardPixmap.SP_DialogApplyButton,
            Verdict.WARNINGS: QStyle.StandardPixmap.SP_MessageBoxWarning,
            Verdict.BROKEN: QStyle.StandardPixmap.SP_MessageBoxCritical,
        }[diagnosis.verdict]
        size = self.verdict.fontMetrics().height() + 6
        self.verdict_icon.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
        self.verdict_icon.setVisible(True)
        credentials = {
            "password": self.tr("Checked with the saved password."),
            "token": self.tr("Checked with the saved Microsoft sign-in."),
        }.get(
            diagnosis.credentials,
            self.tr("Checked without a password, so signing in itself was not tested."),
        )
        _say(self.credentials_note, credentials)
        self._clear_findings()
        shown = [f for f in diagnosis.findings if f.outcome is not Outcome.OK]
        if note is not None:
            shown.insert(0, note)
        for finding in shown:
            self.findings_layout.addWidget(self._finding_widget(finding))
        if not any(f.outcome.is_problem for f in shown):
            good = _label(
                self.tr("All good: nothing failed and nothing needs your attention."),
                self.findings_box,
                "allGood",
            )
            self.findings_layout.insertWidget(0, good)
        # The advice of "something else" is about the report's details; the window has none.
        advice = diagnosis.symptom.advice_in(self.language)
        if advice and diagnosis.symptom.name != DEFAULT_SYMPTOM:
            heading = QLabel(self.tr("About this problem"), self.findings_box)
            heading.setObjectName("adviceHeading")
            heading.setAccessibleName(heading.text())
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            self.findings_layout.addWidget(heading)
            for line in advice:
                label = _label(line, self.findings_box, "advice")
                self.findings_layout.addWidget(label)
        self.findings_layout.addStretch(1)
        self.findings_area.setVisible(True)
        self.findings_area.verticalScrollBar().setValue(0)
        for widget in (self.mask_address, self.copy_button, self.save_button):
            widget.setVisible(True)
        self._set_again(self.tr("Check &again"), self.tr("Check again"))
        self.copy_button.setFocus()

    def _clear_findings(self) -> None:
        while self.findings_layout.count():
            item = self.findings_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()

    def _finding_widget(self, finding: Finding) -> QFrame:
        frame = QFrame(self.findings_box)
        frame.setObjectName("finding")
        frame.setProperty("code", finding.code)
        frame.setProperty("outcome", finding.outcome.value)
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        known = self._known_secrets()

        def clean(text: Text) -> str:
            return redact(self.core_text(text), known)

        headline = clean(finding.title or finding.cause)
        title_text = {
            Outcome.ERROR: self.tr("Problem: %1"),
            Outcome.WARNING: self.tr("Warning: %1"),
        }.get(finding.outcome, self.tr("Note: %1"))
        title = _label(title_text.replace("%1", headline), frame, "findingTitle")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        labels = [title]
        if finding.title is not None:
            labels.append(_label(clean(finding.cause), frame, "findingCause"))
        if finding.fix is not None:
            fix = self.tr("What to do: %1").replace("%1", clean(finding.fix))
            labels.append(_label(fix, frame, "findingFix"))
        if finding.fixer is not Fixer.NOBODY:
            who = self.core_text(Text(f"diagnose.fixer.{finding.fixer.value}"))
            labels.append(
                _label(self.tr("Who can fix it: %1").replace("%1", who), frame, "findingFixer")
            )
        for label in labels:
            label.setAccessibleName(label.text())
            if label is not title:
                layout.addWidget(label)
        return frame

    def _known_secrets(self) -> list[Secret]:
        secret = self.context.vault.get(self._secret_ref)
        return [] if secret is None else [secret]

    def show_questions(self) -> None:
        """Back to the questions (symptom and account), the answers kept."""
        self.views.setCurrentWidget(self.ask_view)
        self.account.setFocus()

    # -- summary and report ----------------------------------------------------------------

    def summary(self) -> str:
        """The short redacted summary of the last results ("" when there are none)."""
        if self.diagnosis is None:
            return ""
        return report.summary_text(
            self.diagnosis,
            self.language,
            mask=self.mask_address.isChecked(),
            secrets=self._known_secrets(),
        )

    def copy_summary(self) -> None:
        text = self.summary()
        if not text:
            return
        QGuiApplication.clipboard().setText(text)
        _say(
            self.action_note,
            self.tr("The summary was copied. Paste it into a chat or an email to your helpdesk."),
        )
        show_problem(self.action_problem, "")

    def default_report_path(self) -> Path:
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        ) or str(Path.home())
        stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M")
        return Path(folder) / f"mailsetup-report-{stamp}.zip"

    def save_report(self) -> None:
        """Ask where to save the report, then save it there."""
        if self.diagnosis is None:
            return
        chosen, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the report"),
            str(self.default_report_path()),
            self.tr("Report files (*.zip)"),
        )
        if chosen:
            self.save_report_to(Path(chosen))

    def save_report_to(self, path: Path) -> asyncio.Task[Path] | None:
        """Save the redacted report (.zip) at ``path`` in a worker thread (the file appears
        whole or not at all). Returns the task (None when there are no results)."""
        if self.diagnosis is None:
            return None
        if path.suffix.lower() != ".zip":
            path = path.with_name(path.name + ".zip")
        diagnosis, language = self.diagnosis, self.language
        mask, known = self.mask_address.isChecked(), self._known_secrets()

        async def write() -> Path:
            return await asyncio.to_thread(
                report.write_report_zip, diagnosis, path, language, mask=mask, secrets=known
            )

        self.save_button.setEnabled(False)
        return self.context.tasks.start(write(), done=self._saved_report, cancellable=False)

    def _saved_report(self, task: asyncio.Task[Path]) -> None:
        self.save_button.setEnabled(True)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            _say(
                self.action_note,
                self.tr("The report was saved to %1.").replace("%1", str(task.result())),
            )
            show_problem(self.action_problem, "")
            return
        _log.error("the report could not be saved", exc_info=error)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        _say(self.action_note, "")
        show_problem(
            self.action_problem,
            self.tr("The report could not be saved: %1").replace(
                "%1", redact(reason, self._known_secrets())
            ),
        )


def _microsoft_tokens(context: PageContext, address: str) -> TargetsHook:
    """Check a Microsoft account with its saved sign-in's tokens (refreshed silently), when the
    program is registered with Microsoft and has a sign-in for ``address``; else as given."""
    services = context.services

    async def with_tokens(config: AccountConfig, targets: list[CheckTarget]) -> list[CheckTarget]:
        if config.auth is not AuthKind.OAUTH2_MICROSOFT or not services.microsoft_configured:
            return targets
        service = await services.microsoft()
        wanted = address.casefold()
        if not any(a.address.casefold() == wanted for a in await service.accounts()):
            return targets
        return await with_microsoft_tokens(service, address, targets)

    return with_tokens


def _token_store() -> object:
    from app.core.auth.token_cache import TokenCacheStore

    return TokenCacheStore.open()
