"""The saved-accounts panel against the real Secret Service (gnome-keyring on a private bus) and
a real accounts file in the test's folder: the accounts are listed with their last check;
removing one deletes its keyring entry and its saved settings and nothing else; "Remove all";
the empty state; a declined confirmation removes nothing; the Delete key asks too; the
keyring, the file lock and a newer file are explained plainly; a Microsoft account's sign-in is
forgotten in a real token cache."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.core.auth.microsoft import MicrosoftSignIn
from app.core.auth.token_cache import MailboxLink, MemoryStorage, TokenCacheStore
from app.core.checks.base import Secret
from app.core.flow.services import WizardServices
from app.core.model import AccountConfig, AuthKind, Endpoint, Protocol, Provenance, Security, Trust
from app.core.profiles.secrets import SERVICE_NAME, entry_name, load_secret, store_secret
from app.core.profiles.store import AccountState, AccountStore, SavedAccount
from app.ui.wizard.accounts_panel import AccountsPanel
from app.ui.wizard.page import PageContext

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "wizard"
CHECKED = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


def _account(
    address: str,
    *,
    state: AccountState = AccountState.UNVERIFIED,
    checked: dt.datetime | None = None,
    provider: str | None = "Example Mail",
    client: str | None = "thunderbird",
    auth: AuthKind = AuthKind.PASSWORD,
    secrets: tuple[str, ...] = ("account",),
) -> SavedAccount:
    return SavedAccount(
        address=address,
        config=AccountConfig(
            incoming=Endpoint(Protocol.IMAP, "imap.example.test", 993, Security.TLS, address),
            outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 465, Security.TLS, address),
            auth=auth,
            provenance=Provenance("catalog", Trust.HIGH, False),
            provider_id=None if provider is None else provider.lower().replace(" ", "-"),
            provider_name=provider,
        ),
        client=client,
        secrets=secrets,
        state=state,
        checked_at=checked,
    )


def _save(services: WizardServices, account: SavedAccount, password: str | None = None) -> None:
    if password is not None:
        store_secret(account.address, Secret(password), backend=services.keyring_backend)
    services.store.save(account)


def _keyring_has(address: str) -> bool:
    return keyring.get_password(SERVICE_NAME, entry_name(address)) is not None


@pytest.fixture
def make_panel(qtbot: QtBot, page_context: PageContext) -> Iterator[Callable[[], AccountsPanel]]:
    panels: list[AccountsPanel] = []

    def make() -> AccountsPanel:
        panel = AccountsPanel(page_context)
        qtbot.addWidget(panel)
        panel.resize(760, 420)
        panel.show()  # the first showing reads the store
        qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        if panel.confirmation is not None:
            panel.confirmation.reject()


def _confirmation(qtbot: QtBot, panel: AccountsPanel) -> QMessageBox:
    qtbot.waitUntil(lambda: panel.confirmation is not None and panel.confirmation.isVisible())
    assert panel.confirmation is not None
    return panel.confirmation


def _accept(qtbot: QtBot, panel: AccountsPanel) -> None:
    box = _confirmation(qtbot, panel)
    button = box.findChild(QPushButton, "confirmButton")
    assert button is not None
    button.click()
    qtbot.waitUntil(lambda: not panel.busy and panel.confirmation is None, timeout=8000)


def _decline(qtbot: QtBot, panel: AccountsPanel) -> None:
    box = _confirmation(qtbot, panel)
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    assert cancel is not None
    cancel.click()
    qtbot.waitUntil(lambda: panel.confirmation is None)


def _save_shot(widget: QWidget, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(ARTIFACTS / f"accounts-{name}.png"))


def _four(services: WizardServices) -> None:
    _save(
        services,
        _account("taro@example.test", state=AccountState.VERIFIED, checked=CHECKED),
        "taro-password",
    )
    _save(
        services,
        _account(
            "hanako@contoso.test",
            state=AccountState.NEEDS_SIGN_IN,
            checked=CHECKED,
            provider="Microsoft 365",
            client="new-outlook",
            auth=AuthKind.OAUTH2_MICROSOFT,
            secrets=(),
        ),
    )
    _save(
        services,
        _account(
            "jiro@example.test",
            state=AccountState.FAILING,
            checked=CHECKED,
            client="outlook",
        ),
        "jiro-password",
    )
    _save(
        services,
        _account("saburo@mail.test", provider=None, client=None),
        "saburo-password",
    )


def test_lists_every_account_with_its_last_check(
    secret_keyring: Any, wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    _four(wizard_services)
    panel = make_panel()

    assert panel.addresses() == [
        "taro@example.test",
        "hanako@contoso.test",
        "jiro@example.test",
        "saburo@mail.test",
    ]
    taro = panel.row_texts("taro@example.test")
    assert taro[:4] == ["taro@example.test", "Example Mail", "Thunderbird", "Verified"]
    assert "2025" in taro[4] or "25" in taro[4]
    assert panel.row_texts("hanako@contoso.test")[1:4] == [
        "Microsoft 365",
        "New Outlook",
        "Needs sign-in",
    ]
    assert panel.row_texts("jiro@example.test")[2:4] == ["Outlook (classic)", "Failing"]
    assert panel.row_texts("saburo@mail.test")[1:] == [
        "Unknown",
        "Not recorded",
        "Not checked",
        "Never",
    ]
    assert panel.stack.currentWidget() is panel.list
    assert panel.selected_address() == "taro@example.test"
    assert panel.remove_button.isEnabled() and panel.remove_all_button.isEnabled()
    _save_shot(panel, "list")


def test_removing_one_deletes_its_keyring_entry_and_settings_and_nothing_else(
    qtbot: QtBot,
    secret_keyring: Any,
    wizard_services: WizardServices,
    make_panel: Callable[[], AccountsPanel],
) -> None:
    _four(wizard_services)
    panel = make_panel()
    panel.select("jiro@example.test")
    QTest.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    box = _confirmation(qtbot, panel)
    said = f"{box.text()} {box.informativeText()}"
    assert "jiro@example.test" in said
    assert "saved settings" in said and "keyring" in said
    assert "not deleted" in said and "not removed from your mail app" in said
    _save_shot(box, "confirm-remove")
    with qtbot.waitSignal(panel.changed, timeout=8000):
        _accept(qtbot, panel)
    qtbot.waitUntil(lambda: not panel.busy)

    assert wizard_services.store.get("jiro@example.test") is None
    assert not _keyring_has("jiro@example.test")
    assert [a.address for a in wizard_services.store.list()] == [
        "taro@example.test",
        "hanako@contoso.test",
        "saburo@mail.test",
    ]
    assert load_secret("taro@example.test") == Secret("taro-password")
    assert load_secret("saburo@mail.test") == Secret("saburo-password")
    assert panel.addresses() == ["taro@example.test", "hanako@contoso.test", "saburo@mail.test"]
    assert "jiro@example.test was removed." in panel.status.text()
    assert "password was deleted from the keyring" in panel.status.text()
    assert not panel.problem.isVisible()
    # the row that took the removed one's place is chosen, ready for the next Delete
    assert panel.selected_address() == "saburo@mail.test"
    _save_shot(panel, "removed")


def test_delete_key_asks_and_a_declined_confirmation_removes_nothing(
    qtbot: QtBot,
    secret_keyring: Any,
    wizard_services: WizardServices,
    make_panel: Callable[[], AccountsPanel],
) -> None:
    _four(wizard_services)
    before = wizard_services.store.path.read_bytes()
    panel = make_panel()
    panel.list.setFocus()
    QTest.keyClick(panel.list, Qt.Key.Key_Down)
    assert panel.selected_address() == "hanako@contoso.test"
    QTest.keyClick(panel.list, Qt.Key.Key_Delete)
    box = _confirmation(qtbot, panel)
    assert "hanako@contoso.test" in box.text()
    assert "Microsoft sign-in" in box.informativeText()  # a Microsoft account says so
    emitted: list[bool] = []
    panel.changed.connect(lambda: emitted.append(True))
    _decline(qtbot, panel)
    qtbot.wait(50)

    assert not emitted and not panel.busy
    assert wizard_services.store.path.read_bytes() == before
    assert len(panel.addresses()) == 4
    assert all(_keyring_has(a) for a in ("taro@example.test", "jiro@example.test"))

    # Remove all, declined, removes nothing either
    QTest.mouseClick(panel.remove_all_button, Qt.MouseButton.LeftButton)
    box = _confirmation(qtbot, panel)
    assert "Remove all 4 saved accounts" in box.text()
    _decline(qtbot, panel)
    assert wizard_services.store.path.read_bytes() == before
    assert _keyring_has("saburo@mail.test")


def test_remove_all_removes_every_account_and_keyring_entry(
    qtbot: QtBot,
    secret_keyring: Any,
    wizard_services: WizardServices,
    make_panel: Callable[[], AccountsPanel],
) -> None:
    _four(wizard_services)
    panel = make_panel()
    QTest.mouseClick(panel.remove_all_button, Qt.MouseButton.LeftButton)
    box = _confirmation(qtbot, panel)
    assert "keyring" in box.informativeText() and "not deleted" in box.informativeText()
    _save_shot(box, "confirm-remove-all")
    with qtbot.waitSignal(panel.changed, timeout=8000):
        _accept(qtbot, panel)
    qtbot.waitUntil(lambda: not panel.busy)

    assert wizard_services.store.list() == []
    for address in ("taro@example.test", "jiro@example.test", "saburo@mail.test"):
        assert not _keyring_has(address)
    assert panel.addresses() == []
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.isVisible()
    assert panel.status.text() == "All saved accounts were removed."
    assert not panel.remove_button.isEnabled() and not panel.remove_all_button.isEnabled()


def test_no_saved_account_shows_the_empty_state(
    wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    assert not wizard_services.store.path.exists()
    panel = make_panel()
    assert panel.empty.isVisible() and not panel.list.isVisible()
    assert panel.empty.text().startswith("No accounts saved yet")
    assert not panel.remove_button.isEnabled() and not panel.remove_all_button.isEnabled()
    assert not panel.problem.isVisible()
    panel.ask_remove_all()
    assert panel.confirmation is None
    _save_shot(panel, "empty")


def test_refresh_shows_accounts_saved_meanwhile(
    qtbot: QtBot, wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    panel = make_panel()
    assert panel.addresses() == []
    wizard_services.store.save(_account("taro@example.test", secrets=()))
    panel.refresh()
    qtbot.waitUntil(lambda: panel.addresses() == ["taro@example.test"])
    assert panel.list.isVisible() and not panel.empty.isVisible()


def test_no_usable_keyring_keeps_the_account_and_says_why(
    qtbot: QtBot, wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    wizard_services.keyring_backend = fail.Keyring()  # type: ignore[no-untyped-call]
    wizard_services.store.save(_account("taro@example.test", secrets=("account",)))
    panel = make_panel()
    emitted: list[bool] = []
    panel.changed.connect(lambda: emitted.append(True))
    panel.select("taro@example.test")
    panel.ask_remove()
    _accept(qtbot, panel)

    assert not emitted
    assert wizard_services.store.get("taro@example.test") is not None
    assert panel.addresses() == ["taro@example.test"]
    assert panel.problem.isVisible()
    assert "keyring of this computer cannot be reached" in panel.problem.text()
    assert "taro@example.test" in panel.problem.text()
    assert panel.remove_button.isEnabled()  # try again when the keyring is back
    _save_shot(panel, "keyring-unavailable")


def test_remove_all_without_a_keyring_keeps_only_the_accounts_with_a_saved_password(
    qtbot: QtBot, wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    wizard_services.keyring_backend = fail.Keyring()  # type: ignore[no-untyped-call]
    wizard_services.store.save(_account("taro@example.test", secrets=("account",)))
    wizard_services.store.save(_account("jiro@example.test", secrets=()))
    panel = make_panel()
    panel.ask_remove_all()
    with qtbot.waitSignal(panel.changed, timeout=8000):
        _accept(qtbot, panel)
    qtbot.waitUntil(lambda: not panel.busy)

    assert [a.address for a in wizard_services.store.list()] == ["taro@example.test"]
    assert panel.addresses() == ["taro@example.test"]
    assert panel.status.text() == "One account was removed."
    assert "One account could not be removed" in panel.problem.text()
    assert "keyring of this computer cannot be reached" in panel.problem.text()


def test_a_busy_accounts_file_is_explained_and_removing_works_once_it_is_free(
    qtbot: QtBot,
    secret_keyring: Any,
    wizard_services: WizardServices,
    make_panel: Callable[[], AccountsPanel],
) -> None:
    wizard_services.store = AccountStore(wizard_services.store.path, lock_timeout=0.3)
    _save(wizard_services, _account("taro@example.test"), "taro-password")
    _save(wizard_services, _account("jiro@example.test"), "jiro-password")
    panel = make_panel()
    panel.select("taro@example.test")
    holder = os.open(wizard_services.store.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another program is changing the file
        panel.ask_remove()
        _accept(qtbot, panel)
        assert "changing the saved accounts right now" in panel.problem.text()
        assert panel.problem.isVisible()
        assert wizard_services.store.get("taro@example.test") is not None
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
    panel.select("taro@example.test")
    panel.ask_remove()
    _accept(qtbot, panel)
    assert not panel.problem.isVisible()
    assert [a.address for a in wizard_services.store.list()] == ["jiro@example.test"]
    assert not _keyring_has("taro@example.test") and _keyring_has("jiro@example.test")


def test_a_file_from_a_newer_version_is_left_alone_and_explained(
    qtbot: QtBot, wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    path = wizard_services.store.path
    path.write_text(json.dumps({"format": "mailsetup-accounts", "schema": 99, "accounts": []}))
    before = path.read_bytes()
    panel = make_panel()

    assert "newer version of Mail Setup" in panel.problem.text() and panel.problem.isVisible()
    assert not panel.empty.isVisible()  # not "no accounts": they are unknown
    assert panel.retry_button.isVisible()
    assert not panel.remove_all_button.isEnabled()
    _save_shot(panel, "newer-file")
    path.write_text(json.dumps({"format": "mailsetup-accounts", "schema": 1, "accounts": []}))
    QTest.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy and panel.empty.isVisible())
    assert not panel.problem.isVisible() and not panel.retry_button.isVisible()
    assert before != path.read_bytes()


def test_an_unreadable_file_is_kept_aside_and_reported(
    wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    path = wizard_services.store.path
    path.write_text("{ not json")
    panel = make_panel()
    kept = list(path.parent.glob("accounts.json.broken-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{ not json"
    assert panel.notice.isVisible()
    assert str(kept[0]) in panel.notice.text()
    assert panel.empty.isVisible()


def test_removing_a_microsoft_account_forgets_its_sign_in(
    qtbot: QtBot,
    secret_keyring: Any,
    wizard_services: WizardServices,
    make_panel: Callable[[], AccountsPanel],
) -> None:
    cache = TokenCacheStore(MemoryStorage())
    for address in ("hanako@contoso.test", "other@contoso.test"):
        cache.set_link(
            MailboxLink(
                address=address,
                home_account_id=f"{address}-home",
                username=address,
                authority="https://login.microsoftonline.com/organizations",
            )
        )
    cache.save()
    wizard_services.microsoft_factory = lambda services: MicrosoftSignIn(
        services.config.microsoft, services.network(), cache
    )
    wizard_services.store.save(
        _account("hanako@contoso.test", auth=AuthKind.OAUTH2_MICROSOFT, secrets=())
    )
    panel = make_panel()
    panel.select("hanako@contoso.test")
    panel.ask_remove()
    _accept(qtbot, panel)

    assert wizard_services.store.list() == []
    cache.load()
    assert cache.link_for("hanako@contoso.test") is None
    assert cache.link_for("other@contoso.test") is not None
    assert "Microsoft sign-in was forgotten" in panel.status.text()


def test_every_control_has_an_accessible_name_and_the_list_comes_first(
    secret_keyring: Any, wizard_services: WizardServices, make_panel: Callable[[], AccountsPanel]
) -> None:
    _four(wizard_services)
    panel = make_panel()
    panel.select("taro@example.test")
    panel.ask_remove()  # the confirmation's buttons too
    box = panel.confirmation
    assert box is not None
    unnamed = [
        f"{type(widget).__name__} {widget.objectName()!r}"
        for root in (panel, box)
        for widget in root.findChildren(QWidget)
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        and widget.isVisibleTo(root)
        and not (widget.accessibleName() or _button_text(widget)).strip()
        and widget.parent() is not panel.list  # the list's own header and scroll bars
    ]
    assert unnamed == []
    assert panel.focusProxy() is panel.list
    assert panel.heading.buddy() is panel.list


def _button_text(widget: QWidget) -> str:
    return widget.text().replace("&", "") if isinstance(widget, QAbstractButton) else ""
