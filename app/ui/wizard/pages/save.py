"""Save: what will be saved (address, name, servers, and where the password goes: the system's
keyring, never a file) and what happens with the chosen app; the Save button saves it.

Saving runs as work that cannot be cancelled once begun (the secret goes to the keyring first,
then the account to the saved-accounts store; if the store fails the keyring entry is removed
again, so nothing is ever half-saved). Its errors (no keyring, the keyring refused, the accounts
file cannot be written) are shown plainly with what to do; without a keyring the account can be
saved without its password. "Save a settings file" writes the chosen app's settings file (or a
printable settings sheet), never with the password in it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.core.errors import SetupError
from app.core.flow import (
    Answer,
    MailApp,
    Platform,
    SaveDone,
    SignInKind,
    Step,
    WizardState,
    advice,
    sign_in_kind,
)
from app.core.model import AccountConfig, AuthKind, Endpoint, Protocol, Security
from app.core.profiles.common import Export, ExportAccount, ExportNotPossible
from app.core.profiles.secrets import KeyringUnavailable
from app.core.profiles.store import write_atomically
from app.core.texts import Text
from app.ui.wizard.page import PageContext, WizardPage, problem_label, show_problem, wrapped

__all__ = [
    "SAVE",
    "SavePage",
    "account_config",
    "app_name",
    "export_account",
    "is_microsoft",
    "page_advice",
    "security_name",
    "server_text",
]

SAVE = Step.SAVE
#: Advice that belongs before the sign-in page ("the next page shows how").
_BEFORE_SIGN_IN = frozenset({"flow.advice.icloud-app-password"})
#: Asks where to write a settings file: (suggested path, file-type filter) -> chosen path, or ""
#: when the person cancelled. Tests replace it.
FileChooser = Callable[[QWidget, str, str], str]


def security_name(security: Security) -> str:
    """The encryption as mail apps name it."""
    if security is Security.TLS:
        return QCoreApplication.translate("MailSettings", "SSL/TLS")
    if security is Security.STARTTLS:
        return QCoreApplication.translate("MailSettings", "STARTTLS")
    return QCoreApplication.translate("MailSettings", "None (not encrypted)")


def server_text(endpoint: Endpoint) -> str:
    """``imap.example.com, port 993, SSL/TLS``."""
    template = QCoreApplication.translate("MailSettings", "%1, port %2, encryption: %3")
    return (
        template.replace("%1", endpoint.host_unicode)
        .replace("%2", str(endpoint.port))
        .replace("%3", security_name(endpoint.security))
    )


def account_config(state: WizardState) -> AccountConfig | None:
    """The state's settings with the sign-in name given on the sign-in page (what is saved)."""
    config = state.config
    if config is None:
        return None
    username = state.sign_in.username.strip() if state.sign_in is not None else ""
    if not username:
        return config
    outgoing = config.outgoing
    return replace(
        config,
        incoming=replace(config.incoming, username=username),
        outgoing=None if outgoing is None else replace(outgoing, username=username),
    )


def export_account(state: WizardState) -> ExportAccount | None:
    """The state's account as the exporters take it (never with the password)."""
    config = account_config(state)
    if config is None or state.address is None:
        return None
    apple = state.sign_in.apple_account.strip() if state.sign_in is not None else ""
    return ExportAccount(
        address=state.address,
        config=config,
        display_name=state.display_name or None,
        dav_username=apple or None,
    )


def is_microsoft(state: WizardState) -> bool:
    """A Microsoft 365, Outlook.com or hybrid Exchange mailbox."""
    config = state.config
    if config is None:
        return False
    return config.provider_id in ("microsoft365", "outlook") or config.auth in (
        AuthKind.OAUTH2_MICROSOFT,
        AuthKind.EXCHANGE_HYBRID,
    )


def page_advice(state: WizardState) -> list[Text]:
    """The core's advice for this provider and app, as the pages after signing in show it (not
    the advice about creating an app password: that was the sign-in page's)."""
    return [note for note in advice(state) if note.key not in _BEFORE_SIGN_IN]


def _choose_file(parent: QWidget, suggested: str, filter_text: str) -> str:
    chosen, _filter = QFileDialog.getSaveFileName(
        parent,
        QCoreApplication.translate("MailSettings", "Save a settings file"),
        suggested,
        filter_text,
    )
    return chosen


class SavePage(WizardPage):
    step = Step.SAVE

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.choose_file: FileChooser = _choose_file
        # (text set after word wrap: a label made with its text keeps a stale size hint)
        self.intro = wrapped("", self, name="intro")
        intro = self.tr("This is what will be saved on this computer. Press Save when it is right.")
        self.intro.setText(intro)
        self.intro.setAccessibleName(intro)
        self.layout_.addWidget(self.intro)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for key, label in (
            ("address", self.tr("Email address:")),
            ("name", self.tr("Your name:")),
            ("incoming", self.tr("Receiving mail:")),
            ("outgoing", self.tr("Sending mail:")),
            ("calendars", self.tr("Calendars:")),
            ("contacts", self.tr("Contacts:")),
            ("username", self.tr("Sign-in name:")),
            ("password", self.tr("Password:")),
            ("app", self.tr("Mail app:")),
        ):
            value = wrapped("", self, name=f"value-{key}")
            caption = QLabel(label, self)
            caption.setObjectName(f"caption-{key}")
            caption.setBuddy(value)
            self.form.addRow(caption, value)
            self.values[key] = value
        self.layout_.addLayout(self.form)

        self.app_note = wrapped("", self, name="appNote")
        self.layout_.addWidget(self.app_note)

        save_row = QHBoxLayout()
        self.save_button = QPushButton(self.tr("&Save"), self)
        self.save_button.setObjectName("saveButton")
        self.save_button.setAccessibleName(self.tr("Save"))
        self.save_button.clicked.connect(lambda: self.save())
        self.progress = QProgressBar(self)
        self.progress.setObjectName("saveProgress")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self.status = QLabel(self)
        self.status.setObjectName("saveStatus")
        self.status.setWordWrap(True)
        save_row.addWidget(self.save_button)
        save_row.addWidget(self.progress)
        save_row.addWidget(self.status, 1)
        self.layout_.addLayout(save_row)

        self.error = problem_label(self, name="saveError")
        self.layout_.addWidget(self.error)
        self.without_password = QPushButton(self.tr("Save &without the password"), self)
        self.without_password.setObjectName("saveWithoutPasswordButton")
        self.without_password.setAccessibleName(self.tr("Save without the password"))
        self.without_password.setAccessibleDescription(
            self.tr("Your mail app will ask for the password when it first connects.")
        )
        self.without_password.setVisible(False)
        self.without_password.clicked.connect(lambda: self.save(with_secret=False))
        without_row = QHBoxLayout()
        without_row.addWidget(self.without_password)
        without_row.addStretch(1)
        self.layout_.addLayout(without_row)

        export_row = QHBoxLayout()
        self.export_button = QPushButton(self)
        self.export_button.setObjectName("exportButton")
        self.export_button.clicked.connect(self.export)
        self.export_status = wrapped("", self, name="exportStatus")
        export_row.addWidget(self.export_button)
        export_row.addStretch(1)
        self.layout_.addLayout(export_row)
        self.layout_.addWidget(self.export_status)
        self.layout_.addStretch(1)

        self.setFocusProxy(self.save_button)
        self.setTabOrder(self.save_button, self.without_password)
        self.setTabOrder(self.without_password, self.export_button)
        self._task: asyncio.Task[str] | None = None
        self._saved_as: str | None = None

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        self._saved_as = state.saved_as
        previous = state.answer
        if isinstance(previous, SaveDone):
            self._saved_as = previous.account_key
        self._show_summary(state)
        self._show_app(state)
        show_problem(self.error, "")
        self.without_password.setVisible(False)
        self._set_status(self.tr("Saved.") if self._saved_as else "")
        self.save_button.setText(self.tr("&Save again") if self._saved_as else self.tr("&Save"))
        self.save_button.setAccessibleName(self.save_button.text().replace("&", ""))
        self._show_export_button(state)

    def answer(self) -> Answer | None:
        if self._saved_as and not self.saving:
            return SaveDone(self._saved_as)
        return None

    def shows_next(self) -> bool:
        # Until it is saved, the page's own Save button is the way on (it moves on by itself).
        return bool(self._saved_as)

    def can_go_back(self) -> bool:
        return not self.saving

    # -- what is shown -------------------------------------------------------------------------

    def _put(self, key: str, text: str) -> None:
        value = self.values[key]
        value.setText(text)
        value.setAccessibleName(text)
        caption = self.form.labelForField(value)
        shown = bool(text)
        value.setVisible(shown)
        if caption is not None:
            caption.setVisible(shown)

    def _show_summary(self, state: WizardState) -> None:
        config = account_config(state)
        self._put("address", "" if state.address is None else str(state.address))
        self._put("name", state.display_name)
        if config is None:
            for key in ("incoming", "outgoing", "calendars", "contacts", "username"):
                self._put(key, "")
        else:
            incoming = config.incoming
            kind = "POP" if incoming.protocol is Protocol.POP3 else "IMAP"
            self._put("incoming", f"{server_text(incoming)} ({kind})")
            self._put(
                "outgoing",
                self.tr("None: this account cannot send mail.")
                if config.outgoing is None
                else f"{server_text(config.outgoing)} (SMTP)",
            )
            self._put("calendars", config.caldav or "")
            self._put("contacts", config.carddav or "")
            username = incoming.username or ""
            shown = "" if state.address is not None and username == str(state.address) else username
            self._put("username", shown)
        self._put("password", self._password_text(state))
        self._put("app", app_name(state.app))

    def _password_text(self, state: WizardState) -> str:
        kind = sign_in_kind(state)
        if kind is SignInKind.MICROSOFT:
            return self.tr(
                "No password is saved: you signed in with Microsoft, and your mail app signs in "
                "with Microsoft too."
            )
        if kind is None:
            return self.tr("No password is saved: your mail app signs in by itself.")
        if self.secret() is None:
            return self.tr("No password is saved: your mail app will ask for it.")
        return self.tr("Saved in your system's keyring (password store), never in a file on disk.")

    def _show_app(self, state: WizardState) -> None:
        app = state.app
        if app is MailApp.CLASSIC_OUTLOOK and is_microsoft(state):
            text = self.tr(
                "Classic Outlook: after saving, add the account in Outlook with File > Add "
                "Account and type your address. Outlook finds the rest and signs in with "
                "Microsoft."
            )
        elif app is MailApp.CLASSIC_OUTLOOK:
            text = self.tr(
                "Classic Outlook: after saving, you can save a settings file for Outlook and "
                "open it, or add the account in Outlook with File > Add Account and the "
                "settings above."
            )
        elif app is MailApp.NEW_OUTLOOK:
            text = self.tr(
                "The new Outlook: you add the account in Outlook itself. After saving, the next "
                "page shows how."
            )
        elif app is MailApp.THUNDERBIRD:
            text = self.tr(
                "Thunderbird: after saving, add the account in Thunderbird with the settings "
                "above. The next page shows how."
            )
        elif app is MailApp.APPLE_MAIL:
            text = self.tr(
                "Apple Mail: after saving, you can save a settings file (a configuration "
                "profile) and open it. System Settings then asks you to install it."
            )
        else:
            text = self.tr(
                "Your mail app: after saving, the next page lists the settings to type in."
            )
        notes = [self.core_text(note) for note in page_advice(state)]
        full = "\n\n".join([text, *notes])
        self.app_note.setText(full)
        self.app_note.setAccessibleName(full)

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setAccessibleName(text)

    # -- saving --------------------------------------------------------------------------------

    @property
    def saving(self) -> bool:
        return self._task is not None and not self._task.done()

    def save(self, *, with_secret: bool = True) -> None:
        """Save the account (the secret to the keyring first); moves on when it is saved."""
        state = self.state
        if state is None or self.saving:
            return
        secret = self.secret() if with_secret else None
        show_problem(self.error, "")
        self.without_password.setVisible(False)
        self._set_status(self.tr("Saving…"))
        self.progress.setVisible(True)
        self.save_button.setEnabled(False)
        work = self.context.services.save(state, secret)
        self._task = self.context.tasks.start(work, done=self._saved, cancellable=False)
        self.ready_changed.emit()

    def _saved(self, task: asyncio.Task[str]) -> None:
        self._task = None
        self.progress.setVisible(False)
        self.save_button.setEnabled(True)
        if task.cancelled():  # only when the window closes
            self._set_status("")
            self.ready_changed.emit()
            return
        error = task.exception()
        if error is not None:
            self._set_status("")
            self._show_error(error)
            self.ready_changed.emit()
            return
        self._saved_as = task.result()
        self._set_status(self.tr("Saved."))
        self.ready_changed.emit()
        self.answered.emit(SaveDone(self._saved_as))

    def _show_error(self, error: BaseException) -> None:
        if isinstance(error, SetupError):
            text = self.error_text(self.tr("Nothing was saved."), error)
        else:
            text = self.tr(
                "Nothing was saved: something went wrong in this program. Press Save to try "
                "again; if it happens again, ask your helpdesk."
            )
        show_problem(self.error, text)
        can_skip = isinstance(error, KeyringUnavailable) and self.secret() is not None
        self.without_password.setVisible(can_skip)

    # -- settings files ------------------------------------------------------------------------

    def _show_export_button(self, state: WizardState) -> None:
        app = state.app
        if app in (MailApp.CLASSIC_OUTLOOK, MailApp.APPLE_MAIL):
            text = self.tr("Save a settings &file for %1…").replace("%1", app_name(app))
        else:
            text = self.tr("Save a settings &sheet to keep or print…")
        self.export_button.setText(text)
        self.export_button.setAccessibleName(text.replace("&", "").rstrip("…"))
        self.export_button.setVisible(export_account(state) is not None)
        self._export_said("")

    def build_export(self) -> Export | None:
        """The settings file for the chosen app (None: no account yet). Raises SetupError."""
        state = self.state
        account = None if state is None else export_account(state)
        if state is None or account is None:
            return None
        language = self.language
        if state.app is MailApp.CLASSIC_OUTLOOK:
            from app.core.profiles.outlook_prf import outlook_prf
            from app.core.profiles.outlook_reg import outlook_reg

            try:
                return outlook_prf(account)
            except ExportNotPossible:
                return outlook_reg(account, language)
        if state.app is MailApp.APPLE_MAIL:
            from app.core.profiles.mobileconfig import mobileconfig

            return mobileconfig(account, language=language)
        from app.core.profiles.settings_sheet import settings_sheet

        return settings_sheet(account, language=language, printed=dt.date.today())

    def export(self) -> None:
        """Ask where, then write the settings file there (atomically)."""
        try:
            made = self.build_export()
        except SetupError as error:
            self._export_said(error.render(self.language))
            return
        if made is None:
            return
        suffix = Path(made.file_name).suffix
        filter_text = self.tr("Settings file (*%1)").replace("%1", suffix)
        suggested = str(Path.home() / made.file_name)
        chosen = self.choose_file(self, suggested, filter_text)
        if not chosen:
            return
        target = Path(chosen)
        try:
            write_atomically(target, made.content)
        except OSError as error:
            text = self.tr("The file could not be written: %1").replace(
                "%1", error.strerror or type(error).__name__
            )
            self._export_said(text)
            return
        said = [self.tr("Saved to %1.").replace("%1", str(target))]
        if (
            target.suffix == ".mobileconfig"
            and self.context.flow_context.platform is Platform.MACOS
        ):
            # Opening the profile hands it to System Settings, which then offers to install it
            # (the instructions below say where: Device Management, or Profiles).
            self.context.open_url(QUrl.fromLocalFile(str(target)).toString())
            said.append(self.tr("System Settings now offers the profile."))
        said += [self.core_text(step) for step in made.instructions]
        self._export_said(" ".join(said))

    def _export_said(self, text: str) -> None:
        self.export_status.setText(text)
        self.export_status.setAccessibleName(text)
        self.export_status.setVisible(bool(text))


def app_name(app: MailApp | None) -> str:
    if app is MailApp.CLASSIC_OUTLOOK:
        return QCoreApplication.translate("MailSettings", "Classic Outlook")
    if app is MailApp.NEW_OUTLOOK:
        return QCoreApplication.translate("MailSettings", "The new Outlook")
    if app is MailApp.THUNDERBIRD:
        return QCoreApplication.translate("MailSettings", "Thunderbird")
    if app is MailApp.APPLE_MAIL:
        return QCoreApplication.translate("MailSettings", "Apple Mail")
    if app is MailApp.OTHER:
        return QCoreApplication.translate("MailSettings", "Another mail app")
    return ""
