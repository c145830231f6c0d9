"""Done: what was set up, what to do next in the chosen app, how to get help, and how to set up
the phone too.

- For app passwords (the mail app asks for it once), "Copy password" puts it on the clipboard
  and clears the clipboard again after a minute (or when the window closes), but only if the
  clipboard still holds it. On screen it stays masked unless the person ticks "Show".
- The phone: iCloud on an iPhone is already there; Microsoft 365 and Outlook.com use the
  Outlook app (a QR code for Microsoft's download link); anything else gets the settings to
  type, as plain text to read off.

Continue is "Finish": the flow ends here and the window closes.
"""

from __future__ import annotations

import hashlib
import html
from typing import Final

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QTextDocumentFragment
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.flow import (
    MailApp,
    SignInKind,
    Step,
    WizardState,
    provider_id,
    sign_in_kind,
)
from app.core.flow.rules import ICLOUD
from app.core.model import Endpoint, Protocol
from app.core.profiles.new_outlook import new_outlook_instructions
from app.ui.wizard.page import PageContext, WizardPage, wrapped
from app.ui.wizard.pages.save import (
    account_config,
    app_name,
    export_account,
    is_microsoft,
    page_advice,
    security_name,
)
from app.ui.wizard.qrcode import qr_pixmap
from app.ui.wizard.support import support_html

__all__ = ["CLIPBOARD_CLEAR_MS", "DONE", "OUTLOOK_MOBILE_URL", "DonePage"]

DONE = Step.DONE
#: Microsoft's own short link to the Outlook app for iPhone and Android (it sends each phone to
#: its app store). Source: Microsoft's "Outlook for iOS and Android" product page
#: (https://www.microsoft.com/microsoft-365/outlook-mobile-for-android-and-ios), which says
#: "Using your mobile device, go to https://aka.ms/outlookmobiledownload to get the Outlook
#: mobile app" beside its own QR code.
OUTLOOK_MOBILE_URL: Final = "https://aka.ms/outlookmobiledownload"
#: How long a copied password stays on the clipboard, in milliseconds.
CLIPBOARD_CLEAR_MS: Final = 60_000
_APP_PASSWORDS: Final = frozenset({SignInKind.APP_PASSWORD, SignInKind.ICLOUD_APP_PASSWORD})


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _plain(rich: str) -> str:
    return QTextDocumentFragment.fromHtml(rich).toPlainText()


class DonePage(WizardPage):
    step = Step.DONE

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        #: How long a copied password stays on the clipboard (tests shorten it).
        self.clear_after_ms = CLIPBOARD_CLEAR_MS
        self.summary = wrapped("", self, name="doneSummary")
        self.layout_.addWidget(self.summary)

        self.next_box = QGroupBox(self)
        self.next_box.setObjectName("nextStepsBox")
        next_layout = QVBoxLayout(self.next_box)
        self.next_steps = wrapped("", self.next_box, name="nextSteps")
        self.settings_text = wrapped("", self.next_box, name="settingsText")
        next_layout.addWidget(self.next_steps)
        next_layout.addWidget(self.settings_text)
        self.layout_.addWidget(self.next_box)

        self.password_box = QGroupBox(self.tr("Your app password"), self)
        self.password_box.setObjectName("passwordBox")
        self.password_box.setAccessibleName(self.tr("Your app password"))
        password_layout = QVBoxLayout(self.password_box)
        # (text set after word wrap: a label made with its text keeps a stale size hint)
        self.password_note = wrapped("", self.password_box, name="passwordNote")
        note = self.tr(
            "Your mail app will ask for the app password when it first connects. Copy it from "
            "here and paste it there."
        )
        self.password_note.setText(note)
        self.password_note.setAccessibleName(note)
        password_layout.addWidget(self.password_note)
        row = QHBoxLayout()
        self.password_field = QLineEdit(self.password_box)
        self.password_field.setObjectName("passwordField")
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_field.setReadOnly(True)
        self.password_field.setAccessibleName(self.tr("App password"))
        self.show_password = QCheckBox(self.tr("S&how"), self.password_box)
        self.show_password.setObjectName("showPassword")
        self.show_password.setAccessibleName(self.tr("Show the app password"))
        self.show_password.toggled.connect(self._show_password)
        self.copy_button = QPushButton(self.tr("&Copy password again"), self.password_box)
        self.copy_button.setObjectName("copyPasswordButton")
        self.copy_button.setAccessibleName(self.tr("Copy the app password again"))
        self.copy_button.clicked.connect(self.copy_password)
        row.addWidget(self.password_field, 1)
        row.addWidget(self.show_password)
        row.addWidget(self.copy_button)
        password_layout.addLayout(row)
        self.copy_status = wrapped("", self.password_box, name="copyStatus")
        self.copy_status.setVisible(False)
        password_layout.addWidget(self.copy_status)
        self.layout_.addWidget(self.password_box)

        self.phone_box = QGroupBox(self.tr("Set up your phone too"), self)
        self.phone_box.setObjectName("phoneBox")
        self.phone_box.setAccessibleName(self.tr("Set up your phone too"))
        phone_layout = QHBoxLayout(self.phone_box)
        self.qr_code = QLabel(self.phone_box)
        self.qr_code.setObjectName("qrCode")
        self.qr_code.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.qr_code.setVisible(False)
        self.phone_text = wrapped("", self.phone_box, name="phoneText")
        phone_layout.addWidget(self.qr_code)
        phone_layout.addWidget(self.phone_text, 1)
        self.layout_.addWidget(self.phone_box)

        self.support = wrapped("", self, name="support")
        self.layout_.addWidget(self.support)
        self.layout_.addStretch(1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_clipboard)
        self._copied: bytes | None = None
        self.setTabOrder(self.password_field, self.show_password)
        self.setTabOrder(self.show_password, self.copy_button)

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        self._show_summary(state)
        self._show_next_steps(state)
        self._show_password_box(state)
        self._show_phone(state)
        contact = support_html(self.context.flow_context.support)
        if not contact:
            contact = html.escape(
                self.tr(
                    "If something does not work later, start this program again and choose "
                    "“Something stopped working? Get help”."
                )
            )
        self._set(self.support, contact, rich=True)

    def leave(self) -> None:
        # Closing the window (or leaving) never leaves the password on the clipboard.
        self.clear_clipboard()
        self.password_field.clear()

    def next_text(self) -> str:
        return self.tr("Finish")

    def can_go_back(self) -> bool:
        return False

    # -- texts ---------------------------------------------------------------------------------

    def _set(self, label: QLabel, text: str, *, rich: bool = False) -> None:
        label.setText(text)
        label.setAccessibleName(_plain(text) if rich else text)
        label.setVisible(bool(text))

    def _show_summary(self, state: WizardState) -> None:
        address = "" if state.address is None else str(state.address)
        lines = [self.tr("%1 is set up and saved on this computer.").replace("%1", address)]
        kind = sign_in_kind(state)
        if kind is SignInKind.MICROSOFT:
            lines.append(self.tr("You signed in with Microsoft; no password was saved."))
        elif kind is not None and self.secret() is not None:
            lines.append(
                self.tr("The password is in your system's keyring (password store), not in a file.")
            )
        if state.verify is not None and state.verify.ok:
            lines.append(self.tr("Receiving and sending were checked and work."))
        self._set(self.summary, " ".join(lines))

    def _show_next_steps(self, state: WizardState) -> None:
        app = state.app
        name = app_name(app)
        self.next_box.setTitle(self.tr("What to do next in %1").replace("%1", name))
        self.next_box.setAccessibleName(self.next_box.title())
        address = "" if state.address is None else str(state.address)
        steps: list[str]
        show_settings = False
        if app is MailApp.NEW_OUTLOOK:
            account = export_account(state)
            steps = (
                []
                if account is None
                else [self.core_text(step) for step in new_outlook_instructions(account)]
            )
        elif app is MailApp.CLASSIC_OUTLOOK and is_microsoft(state):
            steps = [
                self.tr("Open Outlook and choose File > Add Account."),
                self.tr("Type %1 and choose Connect.").replace("%1", address),
                self.tr("Sign in with Microsoft when Outlook asks. That is all."),
            ]
        elif app is MailApp.CLASSIC_OUTLOOK:
            steps = [
                self.tr("Open Outlook and choose File > Add Account."),
                self.tr(
                    "Type %1, open Advanced options, tick “Let me set up my account manually” "
                    "and choose Connect."
                ).replace("%1", address),
                self._choose_kind(state),
                self.tr("Type the password when Outlook asks for it."),
            ]
            show_settings = True
        elif app is MailApp.THUNDERBIRD:
            steps = [
                self.tr(
                    "Open Thunderbird and choose Account Settings > Account Actions > Add Mail "
                    "Account."
                ),
                (
                    self.tr(
                        "Type your name and %1, leave the password empty, then choose Continue."
                    )
                    if is_microsoft(state)
                    else self.tr("Type your name, %1 and the password, then choose Continue.")
                ).replace("%1", address),
                self.tr(
                    "Thunderbird finds the settings by itself. If it does not, choose Configure "
                    "manually and type the settings below."
                ),
            ]
            if is_microsoft(state):
                steps.append(
                    self.tr(
                        "When Thunderbird opens Microsoft's sign-in window, sign in there as you "
                        "did here."
                    )
                )
            show_settings = True
        elif app is MailApp.APPLE_MAIL:
            steps = [
                self.tr("Open Mail and choose Mail > Add Account, then Other Mail Account."),
                self.tr("Type your name, %1 and the password, then choose Sign In.").replace(
                    "%1", address
                ),
                self.tr("If Mail asks for the servers, type the settings below."),
            ]
            show_settings = True
        else:
            steps = [
                self.tr("In your mail app, add a new mail account and type the settings below."),
            ]
            show_settings = True
        notes = [self.core_text(note) for note in page_advice(state)]
        numbered = [
            self.tr("%1. %2").replace("%1", str(index)).replace("%2", text)
            for index, text in enumerate(steps, start=1)
        ]
        shown = "\n".join(numbered)
        if notes:
            shown += "\n\n" + "\n".join(notes)
        self._set(self.next_steps, shown)
        self._set(
            self.settings_text, "\n".join(self._settings_lines(state)) if show_settings else ""
        )

    def _choose_kind(self, state: WizardState) -> str:
        config = state.config
        if config is not None and config.incoming.protocol is Protocol.POP3:
            return self.tr("Choose POP and type the settings below.")
        return self.tr("Choose IMAP and type the settings below.")

    def _settings_lines(self, state: WizardState) -> list[str]:
        """The settings to type, one per line, as mail apps name them."""
        config = account_config(state)
        if config is None:
            return []
        address = "" if state.address is None else str(state.address)
        lines: list[str] = []

        def server(endpoint: Endpoint, incoming: bool) -> None:
            if incoming and endpoint.protocol is Protocol.POP3:
                lines.append(
                    self.tr("Incoming server (POP): %1").replace("%1", endpoint.host_unicode)
                )
            elif incoming:
                lines.append(
                    self.tr("Incoming server (IMAP): %1").replace("%1", endpoint.host_unicode)
                )
            else:
                lines.append(
                    self.tr("Outgoing server (SMTP): %1").replace("%1", endpoint.host_unicode)
                )
            lines.append(self.tr("Port: %1").replace("%1", str(endpoint.port)))
            lines.append(self.tr("Security: %1").replace("%1", security_name(endpoint.security)))
            lines.append(self.tr("User name: %1").replace("%1", endpoint.username or address))

        server(config.incoming, True)
        if config.outgoing is not None:
            lines.append("")
            server(config.outgoing, False)
        return lines

    # -- the app password ----------------------------------------------------------------------

    def _show_password_box(self, state: WizardState) -> None:
        secret = self.secret()  # (of the state shown: show_state set it)
        shown = (
            secret is not None
            and state.sign_in is not None
            and state.sign_in.kind in _APP_PASSWORDS
        )
        self.password_box.setVisible(shown)
        self.show_password.setChecked(False)
        self.password_field.setText(secret.reveal() if shown and secret is not None else "")
        self._set(self.copy_status, "")

    def _show_password(self, shown: bool) -> None:
        self.password_field.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )

    def copy_password(self) -> None:
        """Put the app password on the clipboard; it is cleared again after a while."""
        secret = self.secret()
        if secret is None:
            return
        text = secret.reveal()
        QGuiApplication.clipboard().setText(text)
        self._copied = _digest(text)
        self._timer.start(self.clear_after_ms)
        seconds = max(1, round(self.clear_after_ms / 1000))
        self._set(
            self.copy_status,
            self.tr(
                "Copied. Paste it into your mail app. The clipboard is cleared in %1 seconds, "
                "or when you close this window."
            ).replace("%1", str(seconds)),
        )

    def clear_clipboard(self) -> None:
        """Empty the clipboard if it still holds the copied password (and only then)."""
        self._timer.stop()
        copied, self._copied = self._copied, None
        if copied is None:
            return
        clipboard = QGuiApplication.clipboard()
        if _digest(clipboard.text()) == copied:
            clipboard.clear()
            self._set(self.copy_status, self.tr("The clipboard was cleared."))

    # -- the phone -----------------------------------------------------------------------------

    def _show_phone(self, state: WizardState) -> None:
        address = "" if state.address is None else str(state.address)
        self.qr_code.setVisible(False)
        self.qr_code.clear()
        if provider_id(state) == ICLOUD:
            parts = [
                html.escape(
                    self.tr(
                        "On an iPhone or iPad signed in with your Apple Account, iCloud Mail is "
                        "already there: there is nothing to do."
                    )
                ),
                html.escape(self.tr("On another phone, add a mail account with these settings:")),
                self._settings_html(state),
            ]
            self._set(self.phone_text, "<br><br>".join(parts), rich=True)
            return
        if is_microsoft(state):
            self.qr_code.setPixmap(qr_pixmap(OUTLOOK_MOBILE_URL, scale=4))
            described = self.tr("QR code for the Outlook app: %1").replace("%1", OUTLOOK_MOBILE_URL)
            self.qr_code.setAccessibleName(described)
            self.qr_code.setToolTip(OUTLOOK_MOBILE_URL)
            self.qr_code.setVisible(True)
            link = (
                f'<a href="{html.escape(OUTLOOK_MOBILE_URL)}">{html.escape(OUTLOOK_MOBILE_URL)}</a>'
            )
            install = html.escape(
                self.tr(
                    "Install the Outlook app on your phone: scan this code with the phone's "
                    "camera, or open %1 on the phone. Then add %2 in the app and sign in."
                )
            )
            install = install.replace("%1", link).replace("%2", html.escape(address))
            web = html.escape(
                self.tr(
                    "Outlook on the web can also show a QR code that signs the Outlook app on "
                    "your phone in, if your organisation allows it."
                )
            )
            self._set(self.phone_text, f"{install}<br><br>{web}", rich=True)
            return
        parts = [
            html.escape(self.tr("On your phone, add a mail account and type these settings:")),
            self._settings_html(state),
        ]
        self._set(self.phone_text, "<br><br>".join(parts), rich=True)

    def _settings_html(self, state: WizardState) -> str:
        return "<br>".join(html.escape(line) for line in self._settings_lines(state))
