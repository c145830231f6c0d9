"""The helpdesk page (TROUBLESHOOT) against the test world: Dovecot and the SMTP server of
``mail_world``, the real keyring of ``secret_keyring``, the saved accounts in the test's folder.

A saved account whose password was changed on the server shows the credentials finding with its
fix; a working one shows all good; "Copy summary" and "Save report" hold no password (the server
is made to say it); the window's Stop ends a run at once; a warning shows when run as root.
Screenshots: tests/artifacts/wizard/troubleshoot-*.png.
"""

from __future__ import annotations

import base64
import dataclasses
import gc
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QRadioButton, QWidget
from pytestqt.qtbot import QtBot

from app.core.checks.base import Secret
from app.core.checks.runner import VerifyOptions
from app.core.diagnostics.environment import HostFacts
from app.core.diagnostics.redact import REDACTED
from app.core.diagnostics.report import mask_address
from app.core.diagnostics.symptoms import symptoms
from app.core.discovery.engine import DetectionOptions
from app.core.flow import FlowContext, Step, WizardState
from app.core.flow.services import WizardServices
from app.core.model import AccountConfig, Endpoint, Protocol, Provenance, Security, Trust
from app.core.net import parse_dns_server
from app.core.profiles.secrets import SecretPurpose, store_secret
from app.core.profiles.store import AccountStore, SavedAccount
from app.core.texts import Text, render
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.pages import troubleshoot
from app.ui.wizard.pages.troubleshoot import TroubleshootPage
from app.ui.wizard.window import WizardWindow
from tests.world.dns import DNSServer
from tests.world.faultproxy import FaultProxy
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import MailWorld

PASSWORD = "sentinel-Pa55word-7f3e"
NEW_PASSWORD = "changed-on-the-server-91c2"
USER_FACTS = HostFacts("Linux", "6", "#1", "x86_64", "3.11", "0.1.0", "taro", privileged=False)
ROOT_FACTS = dataclasses.replace(USER_FACTS, user="root", privileged=True)
STATE = WizardState(step=Step.TROUBLESHOOT)
W = TypeVar("W", bound=QWidget)
ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def wizard_services(wizard_services: WizardServices, dns: DNSServer) -> WizardServices:
    """The conftest's services, resolving through the world's DNS server, with no system proxy
    and short deadlines."""
    options = dataclasses.replace(
        wizard_services.net_options,
        dns_server=parse_dns_server(dns.address),
        system_proxy=False,
        timeout=3.0,
    )
    return dataclasses.replace(
        wizard_services,
        net_options=options,
        detection=DetectionOptions(deadline=3.0),
        checking=VerifyOptions(deadline=15.0),
    )


@pytest.fixture(autouse=True)
def _collect_qt_garbage_here() -> Iterator[None]:
    """After ``qt_loop`` is closed (this fixture's teardown runs after it), collect its
    leftovers on this, the GUI thread: qasync's worker QThreads and timers sit in reference
    cycles, and a collection that happens to start in a worker thread later deletes them
    there and crashes Qt."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home without Thunderbird profiles, and a log folder of the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("MAILSETUP_LOG_DIR", str(tmp_path / "logs"))
    return home


@pytest.fixture
def as_user(monkeypatch: pytest.MonkeyPatch) -> HostFacts:
    """The program runs as an ordinary user (the test world often runs as root)."""
    monkeypatch.setattr(troubleshoot, "local_facts", lambda: USER_FACTS)
    return USER_FACTS


@pytest.fixture
def screenshots(artifacts_dir: Path) -> Callable[[QWidget, str], Path]:
    folder = artifacts_dir / "wizard"
    folder.mkdir(parents=True, exist_ok=True)

    def save(widget: QWidget, case: str) -> Path:
        path = folder / f"troubleshoot-{case}.png"
        assert widget.grab().save(str(path))
        return path

    return save


def _config(host: str, imap_port: int, smtp_port: int | None) -> AccountConfig:
    return AccountConfig(
        incoming=Endpoint(Protocol.IMAP, host, imap_port, Security.TLS),
        outgoing=None
        if smtp_port is None
        else Endpoint(Protocol.SMTP, host, smtp_port, Security.STARTTLS),
        provenance=Provenance("manual", Trust.HIGH, over_https=False),
    )


@pytest.fixture
def save_account(wizard_services: WizardServices, secret_keyring: object) -> Callable[..., str]:
    """Save an account (settings to the store, ``password`` to the keyring); its address."""

    def save(config: AccountConfig, password: str | None = PASSWORD, name: str = "") -> str:
        address = name or f"help{time.monotonic_ns()}@helpdesk.test"
        secrets: tuple[str, ...] = ()
        if password is not None:
            store_secret(address, Secret(password), SecretPurpose.ACCOUNT)
            secrets = (SecretPurpose.ACCOUNT.value,)
        wizard_services.store.save(SavedAccount(address=address, config=config, secrets=secrets))
        return address

    return save


@pytest.fixture
def world_account(mail_world: MailWorld, save_account: Callable[..., str]) -> str:
    """A saved account on the world's servers whose saved password works."""
    config = _config(
        mail_world.host, mail_world.dovecot.imap_tls_port, mail_world.smtp.starttls_port
    )
    address = save_account(config)
    mail_world.mail_user(address, PASSWORD)
    return address


def _page(show_page: ShowPage, qtbot: QtBot) -> TroubleshootPage:
    page = show_page(TroubleshootPage, STATE)
    assert isinstance(page, TroubleshootPage)
    qtbot.waitUntil(lambda: page.facts is not None, timeout=5000)
    return page


def _run(page: TroubleshootPage, qtbot: QtBot, address: str, symptom: str) -> None:
    button = page.findChild(QRadioButton, f"symptom-{symptom}")
    assert button is not None
    button.click()
    page.account.setEditText(address)
    run = page.findChild(QPushButton, "runChecks")
    assert run is not None and run.isEnabled()
    run.click()
    assert page.result_view.isVisible()


def _wait_results(page: TroubleshootPage, qtbot: QtBot, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not page.running, timeout=timeout)
    assert page.diagnosis is not None, page.status.text()


def _shown_findings(page: TroubleshootPage) -> list[QFrame]:
    return [frame for frame in page.findChildren(QFrame, "finding") if frame.isVisibleTo(page)]


def _child(parent: QWidget, kind: type[W], name: str) -> W:
    found = parent.findChild(kind, name)
    assert found is not None, name
    return found


def _text_of(frame: QWidget, name: str) -> str:
    label = frame.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


def _all_shown_text(page: QWidget) -> str:
    return "\n".join(label.text() for label in page.findChildren(QLabel))


def _secret_forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("=")]


# --- the questions ------------------------------------------------------------------------------


def test_the_questions_offer_every_symptom_and_the_saved_accounts(
    show_page: ShowPage,
    qtbot: QtBot,
    as_user: HostFacts,
    mail_world: MailWorld,
    save_account: Callable[..., str],
    screenshots: Callable[[QWidget, str], Path],
) -> None:
    config = _config(mail_world.host, mail_world.dovecot.imap_tls_port, None)
    first = save_account(config, name="taro@helpdesk.test")
    save_account(config, password=None, name="hanako@helpdesk.test")
    page = _page(show_page, qtbot)
    labels = [b.text() for b in page.findChildren(QRadioButton) if b.isVisible()]
    assert labels == [s.label_in("en") for s in symptoms()]
    assert page.chosen_symptom().name == "something-else"
    assert not page.privileged_warning.isVisible()
    assert [page.account.itemText(i) for i in range(page.account.count())] == [
        first,
        "hanako@helpdesk.test",
    ]
    assert page.account.currentText() == first
    assert "saved password" in page.account_note.text()
    page.account.setCurrentIndex(1)
    assert "without a password" in page.account_note.text()
    page.account.setEditText("someone@else.test")
    assert "not saved" in page.account_note.text()
    assert page.shows_next() is False and page.answer() is None
    page.account.setEditText(first)
    screenshots(page, "ask")
    # Japanese: the symptoms in the person's words
    page.show_state(dataclasses.replace(STATE, language="ja"))
    cannot_send = page.findChild(QRadioButton, "symptom-cannot-send")
    assert cannot_send is not None and cannot_send.text() == "受信はできるが送信できない"


def test_a_typed_address_that_is_not_one_stays_on_the_questions(
    show_page: ShowPage, qtbot: QtBot, as_user: HostFacts
) -> None:
    page = _page(show_page, qtbot)
    assert not page.run_button.isEnabled()  # nothing typed, no saved account
    page.account.setEditText("taro@@example")
    page.run_button.click()
    assert page.ask_view.isVisible() and not page.running
    problem = page.findChild(QLabel, "accountProblem")
    assert problem is not None and problem.isVisible() and problem.text()


def test_running_as_root_warns_that_another_users_keyring_is_seen(
    show_page: ShowPage,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Callable[[QWidget, str], Path],
) -> None:
    monkeypatch.setattr(troubleshoot, "local_facts", lambda: ROOT_FACTS)
    page = _page(show_page, qtbot)
    warning = page.findChild(QLabel, "privilegedWarning")
    assert warning is not None and warning.isVisible()
    assert "root" in warning.text() and "keyring" in warning.text()
    screenshots(page, "root")


# --- results ------------------------------------------------------------------------------------


def _saved_state(store: AccountStore, address: str) -> str | None:
    saved = store.get(address)
    return None if saved is None else saved.state.value


def test_a_password_changed_on_the_server_shows_the_credentials_finding_with_its_fix(
    show_page: ShowPage,
    qtbot: QtBot,
    as_user: HostFacts,
    mail_world: MailWorld,
    world_account: str,
    screenshots: Callable[[QWidget, str], Path],
) -> None:
    mail_world.mail_user(world_account, NEW_PASSWORD)  # changed elsewhere; the keyring has the old
    page = _page(show_page, qtbot)
    _run(page, qtbot, world_account, "keeps-asking-password")
    _wait_results(page, qtbot)
    assert page.diagnosis is not None and page.diagnosis.credentials == "password"
    assert page.verdict.text() == render(Text("diagnose.verdict.broken"), "en")
    findings = _shown_findings(page)
    first = findings[0]
    code = str(first.property("code"))
    assert code.startswith(("imap.auth.", "smtp.auth.")), [f.property("code") for f in findings]
    assert first.property("outcome") == "error"
    finding = next(f for f in page.diagnosis.findings if f.code == code)
    assert finding.fix is not None
    assert _text_of(first, "findingFix") == "What to do: " + render(finding.fix, "en")
    assert _text_of(first, "findingTitle").startswith("Problem: ")
    assert _text_of(first, "findingFixer").startswith("Who can fix it: ")
    good = page.findChild(QLabel, "allGood")
    assert good is None or not good.isVisible()
    shown = _all_shown_text(page)
    assert all(form not in shown for form in _secret_forms(PASSWORD))
    screenshots(page, "broken")
    # the re-check is recorded: the saved accounts list shows the account failing, and why
    store = page.context.services.store
    qtbot.waitUntil(lambda: _saved_state(store, world_account) == "failing", timeout=5000)
    saved = store.get(world_account)
    assert saved is not None and code in saved.findings


def test_a_working_account_shows_all_good(
    show_page: ShowPage,
    qtbot: QtBot,
    as_user: HostFacts,
    world_account: str,
    screenshots: Callable[[QWidget, str], Path],
) -> None:
    page = _page(show_page, qtbot)
    _run(page, qtbot, world_account, "something-else")
    _wait_results(page, qtbot)
    assert page.diagnosis is not None
    assert page.diagnosis.verdict.value == "healthy", [f.code for f in page.diagnosis.findings]
    assert page.diagnosis.credentials == "password"
    assert page.diagnosis.verification is not None
    assert all(c.authenticated for c in page.diagnosis.verification.checks)
    good = page.findChild(QLabel, "allGood")
    assert good is not None and good.isVisible()
    assert page.verdict.text() == render(Text("diagnose.verdict.healthy"), "en")
    assert all(f.property("outcome") == "info" for f in _shown_findings(page))
    for name in ("copySummary", "saveReport", "tryAgain", "changeAnswers"):
        button = page.findChild(QPushButton, name)
        assert button is not None and button.isVisible(), name
    screenshots(page, "healthy")
    store = page.context.services.store
    qtbot.waitUntil(lambda: _saved_state(store, world_account) == "verified", timeout=5000)
    _child(page, QPushButton, "changeAnswers").click()
    assert page.ask_view.isVisible() and page.account.currentText() == world_account


def test_copy_summary_and_the_saved_report_hold_no_password(
    show_page: ShowPage,
    qtbot: QtBot,
    as_user: HostFacts,
    mail_world: MailWorld,
    world_account: str,
    tmp_path: Path,
) -> None:
    page = _page(show_page, qtbot)
    # The server repeats the password in its refusal: the text must still never carry it.
    said = f"5.7.8 Authentication failed for {world_account} with password {PASSWORD}"
    with mail_world.smtp.refusing_auth(535, said):
        _run(page, qtbot, world_account, "cannot-send")
        _wait_results(page, qtbot)
    assert page.diagnosis is not None and page.diagnosis.credentials == "password"
    codes = [str(f.property("code")) for f in _shown_findings(page)]
    assert codes[0].startswith("smtp.auth."), codes

    _child(page, QPushButton, "copySummary").click()
    copied = QGuiApplication.clipboard().text()
    assert world_account in copied and codes[0] in copied
    assert all(form not in copied for form in _secret_forms(PASSWORD))
    assert "copied" in _child(page, QLabel, "actionNote").text()

    page.mask_address.setChecked(True)
    page.copy_summary()
    masked = QGuiApplication.clipboard().text()
    assert world_account not in masked and mask_address(world_account) in masked
    page.mask_address.setChecked(False)

    task = page.save_report_to(tmp_path / "for-the-helpdesk")
    assert task is not None
    qtbot.waitUntil(task.done, timeout=10_000)
    saved = tmp_path / "for-the-helpdesk.zip"
    assert task.result() == saved and saved.is_file()
    assert [p.name for p in tmp_path.glob(".report-*")] == []  # no temporary left behind
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name).decode("utf-8") for name in names}
    assert {"report.html", "report.json", "summary.txt"} <= set(names)
    assert world_account in contents["report.json"]
    # the server's reply is in the report, without the password it repeated
    assert f"with password {REDACTED}" in contents["report.json"]
    for name, text in contents.items():
        for form in _secret_forms(PASSWORD):
            assert form not in text, f"{name} holds the password"
    assert str(saved) in _child(page, QLabel, "actionNote").text()


def test_a_report_that_cannot_be_written_says_so(
    show_page: ShowPage,
    qtbot: QtBot,
    as_user: HostFacts,
    world_account: str,
    tmp_path: Path,
) -> None:
    page = _page(show_page, qtbot)
    _run(page, qtbot, world_account, "something-else")
    _wait_results(page, qtbot)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", "utf-8")
    task = page.save_report_to(blocker / "report.zip")
    assert task is not None
    qtbot.waitUntil(task.done, timeout=10_000)
    problem = page.findChild(QLabel, "actionProblem")
    assert problem is not None and problem.isVisible()
    assert problem.text().startswith("The report could not be saved")
    assert page.save_button.isEnabled()


# --- stopping -----------------------------------------------------------------------------------


@pytest.fixture
def hanging_account(
    fault_proxy: FaultProxyFactory, mail_world: MailWorld, save_account: Callable[..., str]
) -> Iterator[tuple[str, FaultProxy]]:
    """A saved account whose IMAP server accepts connections and never answers."""
    proxy = fault_proxy("127.0.0.2", mail_world.dovecot.imap_tls_port, accept_and_hang=True)
    address = save_account(_config("127.0.0.1", proxy.port, None))
    yield address, proxy


def test_stop_ends_a_run_at_once_and_try_again_runs_it_again(
    show_page: ShowPage,
    qtbot: QtBot,
    as_user: HostFacts,
    page_context: PageContext,
    hanging_account: tuple[str, FaultProxy],
    screenshots: Callable[[QWidget, str], Path],
) -> None:
    address, proxy = hanging_account
    page = _page(show_page, qtbot)
    _run(page, qtbot, address, "something-else")
    qtbot.waitUntil(lambda: proxy.open_connections > 0, timeout=10_000)
    assert page_context.tasks.busy and page.progress.isVisible()
    assert "seconds so far" in page.status.text()
    screenshots(page, "running")
    started = time.monotonic()
    assert page_context.tasks.cancel()  # what the window's Stop does
    qtbot.waitUntil(lambda: not page.running, timeout=2000)
    assert time.monotonic() - started < 2.0
    assert page.status.text().startswith("Stopped")
    again = page.findChild(QPushButton, "tryAgain")
    assert again is not None and again.isVisible() and again.text().replace("&", "") == "Try again"
    assert not page.progress.isVisible() and page.diagnosis is None
    assert proxy.wait_idle(5.0)  # its connections were closed
    screenshots(page, "stopped")
    again.click()
    assert page.running and page_context.tasks.busy
    page_context.tasks.cancel()
    qtbot.waitUntil(lambda: not page.running, timeout=2000)


def test_the_windows_stop_button_stops_the_checks_and_back_returns_to_welcome(
    qtbot: QtBot,
    qt_loop: object,
    as_user: HostFacts,
    wizard_services: WizardServices,
    hanging_account: tuple[str, FaultProxy],
    tmp_path: Path,
) -> None:
    from PySide6.QtCore import QSettings

    address, proxy = hanging_account
    window = WizardWindow(
        wizard_services,
        context=FlowContext(),
        language="en",
        settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.show()
    link = window.page.findChild(QPushButton, "troubleshootLink")
    assert link is not None
    link.click()
    page = window.page
    assert page.step is Step.TROUBLESHOOT
    assert isinstance(page, TroubleshootPage)
    assert not window.next_button.isVisible()
    qtbot.waitUntil(lambda: page.facts is not None, timeout=5000)
    _run(page, qtbot, address, "something-else")
    qtbot.waitUntil(lambda: window.cancel_button.isVisible(), timeout=2000)
    assert window.cancel_button.text() == "Stop"
    window.cancel_button.click()
    qtbot.waitUntil(lambda: not page.running, timeout=2000)
    assert window.isVisible() and window.page is page
    assert page.status.text().startswith("Stopped")
    # Back while the checks run stops them too, and the page shows its questions again.
    _child(page, QPushButton, "tryAgain").click()
    assert page.running and window.tasks.busy
    window.back_button.click()
    assert window.page.step is Step.WELCOME
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=2000)
    assert not page.running and proxy.wait_idle(5.0)
    _child(window.page, QPushButton, "troubleshootLink").click()
    assert window.page is page and page.ask_view.isVisible()
    window._closing_confirmed = True
    window.close()
