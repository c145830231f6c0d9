"""The saved accounts, in the settings page: each with its provider, its mail app and how its
last check went; "Remove…" for the selected one (also the Delete key) and "Remove all…", each
after a confirmation that says what goes (the saved settings, the password in the keyring, the
Microsoft sign-in) and what stays (the mail on the server, the account in the mail app).

Everything that touches the keyring (D-Bus) or the store's file lock runs in worker threads
through ``context.tasks``; the window's event loop never waits on it.

Removing an account is :func:`remove_saved_account`: the same core calls as ``mailsetup
accounts remove`` (:func:`app.core.profiles.secrets.forget`, then ``AccountStore.remove``);
removing all of them follows :func:`app.core.profiles.secrets.remove_accounts`, as the CLI does.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QDateTime, QEvent, QLocale, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SetupError
from app.core.flow.services import WizardServices
from app.core.model import AuthKind, Finding
from app.core.profiles.secrets import (
    Forgotten,
    KeyringFailed,
    KeyringUnavailable,
    Removal,
    forget,
    remove_accounts,
)
from app.core.profiles.store import (
    AccountsBusy,
    AccountsFileNewer,
    AccountState,
    AccountsWriteFailed,
    SavedAccount,
)
from app.ui.wizard.page import PageContext, problem_label, show_problem, wrapped

__all__ = [
    "AccountsPanel",
    "Removal",
    "remove_all_saved_accounts",
    "remove_saved_account",
]

_log = logging.getLogger(__name__)

# --- removing: the core's forget and remove_accounts, with the window's sign-out service --------


async def _forget(services: WizardServices, account: SavedAccount) -> Forgotten:
    """The account's keyring entries and, for a Microsoft account (or when a Microsoft
    registration is configured: only then can tokens exist), its Microsoft sign-in."""

    async def sign_out(address: str) -> bool:
        service = await services.microsoft()
        return await service.sign_out(address)

    signs_in = account.auth is AuthKind.OAUTH2_MICROSOFT or services.microsoft_configured
    return await forget(
        account, sign_out=sign_out if signs_in else None, backend=services.keyring_backend
    )


async def remove_saved_account(services: WizardServices, address: str) -> Forgotten | None:
    """Remove the account saved for ``address`` as ``mailsetup accounts remove`` does: its
    keyring entries and Microsoft sign-in first, the saved settings only when that worked (a
    secret is never left behind, unreachable). None when no account is saved for ``address``.

    Raises the store's errors (AccountsBusy, AccountsFileNewer, AccountsWriteFailed), the
    keyring's (KeyringUnavailable when the account has a saved secret, KeyringFailed) and the
    sign-out's (a SetupError)."""
    account = await asyncio.to_thread(services.store.get, address)
    if account is None:
        return None
    forgotten = await _forget(services, account)
    await asyncio.to_thread(services.store.remove, account.address)
    return forgotten


async def remove_all_saved_accounts(services: WizardServices) -> Removal:
    """Every saved account as :func:`remove_saved_account` removes one (``mailsetup accounts
    remove --all``; the policy is :func:`app.core.profiles.secrets.remove_accounts`). Reading
    the file raises."""
    accounts = await asyncio.to_thread(services.store.list)
    return await remove_accounts(
        services.store, accounts, lambda account: _forget(services, account)
    )


# --- the panel --------------------------------------------------------------------------------

_ADDRESS_ROLE = Qt.ItemDataRole.UserRole

#: The list's columns.
COLUMN_ADDRESS, COLUMN_PROVIDER, COLUMN_APP, COLUMN_STATE, COLUMN_CHECKED = range(5)


class AccountsPanel(QWidget):
    """The saved accounts with Remove and Remove all. ``refresh()`` reads the store again (the
    panel does so by itself the first time it is shown); ``changed`` is emitted after accounts
    were removed. Object names: ``accountList``, ``emptyState``, ``removeButton``,
    ``removeAllButton``, ``retryButton``, ``status``, ``problem``, ``notice``, ``progress``;
    the open confirmation is :attr:`confirmation` (``confirmRemove``, its button
    ``confirmButton``)."""

    changed = Signal()

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("accountsPanel")
        self.accounts: list[SavedAccount] = []
        self.confirmation: QMessageBox | None = None
        self._confirm_button: QPushButton | None = None
        self._pending: tuple[str, str] | None = None  # ("one", address) or ("all", "")
        self._loaded = False  # the last reading of the store succeeded
        self._loading = 0  # the number of the newest reading started
        self._reading = False
        self._removing = False
        self._refresh_after = False
        self._notices_seen = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        self.heading = QLabel(self.tr("&Saved accounts"), self)
        self.heading.setObjectName("heading")
        bold = self.heading.font()
        bold.setBold(True)
        self.heading.setFont(bold)
        layout.addWidget(self.heading)
        self.intro = wrapped(
            self.tr(
                "The accounts Mail Setup saved on this computer, and how each one fared when it "
                "was last checked."
            ),
            self,
            name="intro",
        )
        self.intro.setAccessibleName(self.intro.text())
        self.intro.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.intro)

        self.stack = QStackedWidget(self)
        self.list = QTreeWidget(self.stack)
        self.list.setObjectName("accountList")
        self.list.setAccessibleName(self.tr("Saved accounts"))
        self.list.setAccessibleDescription(
            self.tr("Use the arrow keys to choose an account. Press Delete to remove it.")
        )
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setAllColumnsShowFocus(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setHeaderLabels(
            [
                self.tr("Address"),
                self.tr("Provider"),
                self.tr("Mail app"),
                self.tr("Last check"),
                self.tr("Checked on"),
            ]
        )
        header = self.list.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.heading.setBuddy(self.list)
        self.stack.addWidget(self.list)
        self.empty = wrapped(
            self.tr("No accounts saved yet. The accounts you set up with Mail Setup appear here."),
            self.stack,
            name="emptyState",
        )
        self.empty.setAccessibleName(self.empty.text())
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("progress")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Working"))
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = wrapped("", self, name="status")
        self.status.setVisible(False)
        layout.addWidget(self.status)
        self.notice = problem_label(self, name="notice")
        layout.addWidget(self.notice)
        self.problem = problem_label(self, name="problem")
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        self.retry_button = QPushButton(self.tr("&Try again"), self)
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setAccessibleName(self.tr("Try again to read the saved accounts"))
        self.retry_button.setVisible(False)
        self.retry_button.clicked.connect(self.refresh)
        self.remove_button = QPushButton(self.tr("&Remove…"), self)
        self.remove_button.setObjectName("removeButton")
        self.remove_button.setAccessibleName(self.tr("Remove the selected account"))
        self.remove_button.clicked.connect(self.ask_remove)
        self.remove_all_button = QPushButton(self.tr("Remove &all…"), self)
        self.remove_all_button.setObjectName("removeAllButton")
        self.remove_all_button.setAccessibleName(self.tr("Remove all saved accounts"))
        self.remove_all_button.clicked.connect(self.ask_remove_all)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.remove_all_button)
        layout.addLayout(buttons)

        self.list.installEventFilter(self)  # Delete = Remove…
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.setTabOrder(self.list, self.retry_button)
        self.setTabOrder(self.retry_button, self.remove_button)
        self.setTabOrder(self.remove_button, self.remove_all_button)
        self.setFocusProxy(self.list)
        self._update_buttons()

    # -- what others call ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Reading or removing is under way."""
        return self._reading or self._removing

    def refresh(self) -> None:
        """Read the saved accounts again (in a worker thread)."""
        if self._removing:
            self._refresh_after = True
            return
        show_problem(self.problem, "")
        self._show_status("")
        self._read()

    def _read(self) -> None:
        self._loading += 1
        number = self._loading
        self._reading = True
        self.retry_button.setVisible(False)
        self.progress.setVisible(True)
        self._update_buttons()
        store = self.context.services.store

        async def read() -> tuple[list[SavedAccount], tuple[Finding, ...]]:
            accounts = await asyncio.to_thread(store.list)
            return accounts, store.notices()

        self.context.tasks.start(
            read(), done=lambda task: self._read_done(number, task), cancellable=False
        )

    def addresses(self) -> list[str]:
        """The addresses listed, in order."""
        return [str(item.data(0, _ADDRESS_ROLE)) for item in self._items()]

    def row_texts(self, address: str) -> list[str]:
        """What the list shows for ``address`` (one text per column); [] if not listed."""
        item = self._item(address)
        if item is None:
            return []
        return [item.text(column) for column in range(self.list.columnCount())]

    def selected_address(self) -> str | None:
        items = self.list.selectedItems()
        return str(items[0].data(0, _ADDRESS_ROLE)) if items else None

    def select(self, address: str) -> None:
        item = self._item(address)
        if item is not None:
            self.list.setCurrentItem(item)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and _is_delete(event)
        ):
            self.ask_remove()
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded and self._loading == 0:
            self.refresh()

    # -- removing ------------------------------------------------------------------------------

    def ask_remove(self) -> None:
        """Ask before removing the selected account (the Remove button, the Delete key)."""
        address = self.selected_address()
        if address is None or self.busy or self.confirmation is not None:
            return
        account = next((a for a in self.accounts if a.address == address), None)
        microsoft = account is not None and account.auth is AuthKind.OAUTH2_MICROSOFT
        title = self.tr("Remove account")
        text = self.tr("Remove %1 from Mail Setup?").replace("%1", address)
        if microsoft:
            details = self.tr(
                "Mail Setup will forget the saved settings of this account and its Microsoft "
                "sign-in on this computer, and delete any password saved for it in the keyring."
            )
        else:
            details = self.tr(
                "Mail Setup will forget the saved settings of this account and delete the "
                "password saved for it in the keyring of this computer."
            )
        stays = self.tr(
            "Your mail on the server is not deleted, and the account is not removed from your "
            "mail app. Remove it there too if you no longer want it."
        )
        self._confirm(("one", address), title, text, f"{details}\n\n{stays}")

    def ask_remove_all(self) -> None:
        """Ask before removing every saved account."""
        if not self.accounts or self.busy or self.confirmation is not None:
            return
        count = len(self.accounts)
        title = self.tr("Remove all accounts")
        if count == 1:
            text = self.tr("Remove the one saved account from Mail Setup?")
        else:
            text = self.tr("Remove all %1 saved accounts from Mail Setup?").replace(
                "%1", str(count)
            )
        details = self.tr(
            "Mail Setup will forget the saved settings of every account, delete the passwords "
            "saved for them in the keyring of this computer, and forget their Microsoft sign-ins."
        )
        stays = self.tr(
            "Your mail on the servers is not deleted, and the accounts are not removed from "
            "your mail apps. Remove them there too if you no longer want them."
        )
        self._confirm(("all", ""), title, text, f"{details}\n\n{stays}")

    def _confirm(self, pending: tuple[str, str], title: str, text: str, details: str) -> None:
        box = QMessageBox(self)
        box.setObjectName("confirmRemove")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(details)
        box.setAccessibleName(title)
        confirm = box.addButton(self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        confirm.setObjectName("confirmButton")
        confirm.setAccessibleName(self.tr("Remove"))
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        box.setDefaultButton(cancel)  # Enter does not remove by accident
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _result: self._confirmed(box))
        self.confirmation = box
        self._confirm_button = confirm
        self._pending = pending
        box.open()

    def _confirmed(self, box: QMessageBox) -> None:
        if box is not self.confirmation:
            return
        accepted = box.clickedButton() is self._confirm_button
        pending = self._pending
        self.confirmation = None
        self._confirm_button = None
        self._pending = None
        box.deleteLater()
        if not accepted or pending is None:
            self.list.setFocus()
            return
        kind, address = pending
        if kind == "one":
            self._start_remove(address)
        else:
            self._start_remove_all()

    def _start_remove(self, address: str) -> None:
        self._begin_removal(self.tr("Removing %1…").replace("%1", address))
        self.context.tasks.start(
            remove_saved_account(self.context.services, address),
            done=lambda task: self._removed(address, task),
            cancellable=False,  # once the keyring entry is gone, the account must go too
        )

    def _start_remove_all(self) -> None:
        self._begin_removal(self.tr("Removing all saved accounts…"))
        self.context.tasks.start(
            remove_all_saved_accounts(self.context.services),
            done=self._removed_all,
            cancellable=False,
        )

    def _begin_removal(self, text: str) -> None:
        self._removing = True
        self.retry_button.setVisible(False)
        show_problem(self.problem, "")
        self._show_status(text, working=True)
        self._update_buttons()

    def _removed(self, address: str, task: asyncio.Task[Forgotten | None]) -> None:
        self._removing = False
        if task.cancelled():
            self._stopped()
            return
        error = task.exception()
        if error is not None:
            self._show_status("")
            self._show_error(self._error_text(error, address), error)
            self._after_removal(changed=False)
            return
        forgotten = task.result()
        if forgotten is None:
            lines = [self.tr("%1 had already been removed.").replace("%1", address)]
        else:
            lines = [self.tr("%1 was removed.").replace("%1", address)]
            if forgotten.secrets:
                lines.append(self.tr("Its password was deleted from the keyring."))
            if forgotten.signed_out:
                lines.append(self.tr("Its Microsoft sign-in was forgotten."))
        self._show_status("\n".join(lines))
        self._after_removal(changed=forgotten is not None)

    def _removed_all(self, task: asyncio.Task[Removal]) -> None:
        self._removing = False
        if task.cancelled():
            self._stopped()
            return
        error = task.exception()
        if error is not None:
            self._show_status("")
            self._show_error(self._error_text(error, None), error)
            self._after_removal(changed=False)
            return
        removal = task.result()
        if removal.kept:
            if removal.removed:
                done = len(removal.removed)
                self._show_status(
                    self.tr("One account was removed.")
                    if done == 1
                    else self.tr("%1 accounts were removed.").replace("%1", str(done))
                )
            else:
                self._show_status("")
            address, problem = removal.kept[0]
            left = len(removal.kept)
            lines = [
                self.tr("One account could not be removed and is still in the list.")
                if left == 1
                else self.tr("%1 accounts could not be removed and are still in the list.").replace(
                    "%1", str(left)
                ),
                self._error_text(problem, address),
            ]
            self._show_error("\n".join(lines), problem)
        else:
            self._show_status(self.tr("All saved accounts were removed."))
        self._after_removal(changed=bool(removal.removed))

    def _after_removal(self, *, changed: bool) -> None:
        self._refresh_after = False
        if changed:
            self.changed.emit()
        self._read()  # keeps what the removal said

    def _stopped(self) -> None:
        self._show_status(self.tr("Stopped."))
        self.retry_button.setVisible(True)
        self._update_buttons()

    # -- reading -------------------------------------------------------------------------------

    def _read_done(
        self, number: int, task: asyncio.Task[tuple[list[SavedAccount], tuple[Finding, ...]]]
    ) -> None:
        if number != self._loading:
            return  # a newer reading was started
        self._reading = False
        self.progress.setVisible(self._removing)
        if task.cancelled():
            self._stopped()
            return
        error = task.exception()
        if error is not None:
            self._loaded = False
            self._show_error(self._error_text(error, None), error)
            self.retry_button.setVisible(True)
            self._show_accounts(self.accounts)
            return
        accounts, notices = task.result()
        self._loaded = True
        self._show_notices(notices)
        self._show_accounts(accounts)
        if self._refresh_after:
            self._refresh_after = False
            self.refresh()

    def _show_accounts(self, accounts: Sequence[SavedAccount]) -> None:
        had_focus = self.list.hasFocus()
        selected = self.selected_address()
        current = self.list.currentItem()
        row = self.list.indexOfTopLevelItem(current) if selected and current is not None else 0
        self.accounts = list(accounts)
        self.list.clear()
        for account in accounts:
            item = QTreeWidgetItem(
                [
                    account.address,
                    account.provider_name or account.provider_id or self.tr("Unknown"),
                    self._app_name(account.client),
                    self._state_text(account),
                    self._checked_text(account),
                ]
            )
            item.setData(0, _ADDRESS_ROLE, account.address)
            item.setToolTip(COLUMN_STATE, self._state_tip(account.state))
            self.list.addTopLevelItem(item)
        if accounts:
            chosen = self._item(selected) if selected else None
            if chosen is None:
                chosen = self.list.topLevelItem(min(max(row, 0), len(accounts) - 1))
            if chosen is not None:
                self.list.setCurrentItem(chosen)
        show_list = bool(accounts) or not self._loaded
        self.stack.setCurrentWidget(self.list if show_list else self.empty)
        if had_focus and not show_list:
            self.remove_all_button.setFocus()  # nothing left to choose from
        self._update_buttons()

    def _show_notices(self, notices: Sequence[Finding]) -> None:
        fresh = notices[self._notices_seen :]
        self._notices_seen = len(notices)
        for finding in fresh:
            if finding.code == "accounts.file-unreadable":
                kept = str(finding.detail.get("kept", ""))
                show_problem(
                    self.notice,
                    self.tr(
                        "The saved accounts file could not be read. It was kept as %1, and the "
                        "list starts empty."
                    ).replace("%1", kept),
                    warning=True,
                )

    # -- texts ---------------------------------------------------------------------------------

    def _app_name(self, client: str | None) -> str:
        names = {
            "thunderbird": self.tr("Thunderbird"),
            "outlook": self.tr("Outlook (classic)"),
            "new-outlook": self.tr("New Outlook"),
            "apple-mail": self.tr("Apple Mail"),
            "other": self.tr("Another app"),
        }
        if client is None:
            return self.tr("Not recorded")
        return names.get(client, client)

    def _state_text(self, account: SavedAccount) -> str:
        state = account.state
        if state is AccountState.VERIFIED:
            return self.tr("Verified")
        if state is AccountState.NEEDS_SIGN_IN:
            return self.tr("Needs sign-in")
        if state is AccountState.FAILING:
            return self.tr("Failing")
        if account.checked_at is None:
            return self.tr("Not checked")
        return self.tr("Checked without signing in")

    def _state_tip(self, state: AccountState) -> str:
        tips = {
            AccountState.VERIFIED: self.tr("Every server answered and the sign-in worked."),
            AccountState.NEEDS_SIGN_IN: self.tr(
                "The saved sign-in expired or was revoked. Sign in again."
            ),
            AccountState.FAILING: self.tr(
                "A check failed, for example a wrong password or a server that did not answer."
            ),
            AccountState.UNVERIFIED: self.tr(
                "The account was never checked, or it was checked without signing in."
            ),
        }
        return tips[state]

    def _checked_text(self, account: SavedAccount) -> str:
        if account.checked_at is None:
            return self.tr("Never")
        moment = QDateTime.fromSecsSinceEpoch(int(account.checked_at.timestamp())).toLocalTime()
        return QLocale().toString(moment, QLocale.FormatType.ShortFormat)

    def _error_text(self, error: BaseException, address: str | None) -> str:
        """A plain sentence for what went wrong."""
        who = address or self.tr("an account")
        if isinstance(error, AccountsBusy):
            return self.tr(
                "Another Mail Setup window or program is changing the saved accounts right now. "
                "Wait a moment, then try again."
            )
        if isinstance(error, AccountsFileNewer):
            return self.tr(
                "The saved accounts were written by a newer version of Mail Setup. This version "
                "leaves them unchanged; use the newer version to change them."
            )
        if isinstance(error, AccountsWriteFailed):
            return self.tr(
                "The saved accounts file could not be written. Check that the disk has free "
                "space and that you may change %1."
            ).replace("%1", str(self.context.services.store.path))
        if isinstance(error, KeyringUnavailable):
            return self.tr(
                "The keyring of this computer cannot be reached, so the password saved for %1 "
                "cannot be deleted, and the account was kept. Unlock the keyring, then try again."
            ).replace("%1", who)
        if isinstance(error, KeyringFailed):
            return self.tr(
                "The keyring refused to delete the password saved for %1, so the account was "
                "kept. Unlock the keyring if it asks you to, then try again."
            ).replace("%1", who)
        if isinstance(error, SetupError):
            return self.tr(
                "The Microsoft sign-in saved for %1 could not be forgotten, so the account was "
                "kept. Try again later."
            ).replace("%1", who)
        if isinstance(error, OSError):
            return self.tr(
                "The saved accounts file could not be read or changed. Check that you may "
                "change %1."
            ).replace("%1", str(self.context.services.store.path))
        _log.error("saved accounts: unexpected failure", exc_info=error)  # a defect
        return self.tr("Something unexpected went wrong. The details are in the log.")

    # -- helpers -------------------------------------------------------------------------------

    def _show_status(self, text: str, *, working: bool = False) -> None:
        self.status.setText(text)
        self.status.setAccessibleName(text)
        self.status.setVisible(bool(text))
        self.progress.setVisible(working)

    def _show_error(self, text: str, error: BaseException) -> None:
        show_problem(self.problem, text)
        self.problem.setToolTip(str(error))  # the technical reason, for the helpdesk

    def _update_buttons(self) -> None:
        idle = not self.busy
        self.remove_button.setEnabled(idle and self.selected_address() is not None)
        self.remove_all_button.setEnabled(idle and bool(self.accounts))

    def _items(self) -> list[QTreeWidgetItem]:
        found = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [item for item in found if item is not None]

    def _item(self, address: str) -> QTreeWidgetItem | None:
        return next((i for i in self._items() if i.data(0, _ADDRESS_ROLE) == address), None)


def _is_delete(event: QKeyEvent) -> bool:
    if event.matches(QKeySequence.StandardKey.Delete):
        return True
    # the Mac keyboard's "delete" key is Backspace
    return sys.platform == "darwin" and event.key() == Qt.Key.Key_Backspace
