"""The checking page against the test world's real Dovecot and SMTP server: the right password
gives ticks and Continue; a wrong one shows the cause and what to do, costs one failed login,
keeps Continue off and offers Sign in again; Stop while a server hangs (a fault proxy that
accepts and never answers) says "Stopped", closes the connection and offers Try again; the
buttons answer the flow."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.checks.base import Secret
from app.core.flow import (
    AppChosen,
    CheckAction,
    CheckingDone,
    MailApp,
    SignInAnswer,
    SignInKind,
    Step,
    WizardState,
)
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.pages.checking import CheckingPage, RowKind, RowStatus
from tests.world.faultproxy import FaultProxy
from tests.world.fixtures_faultproxy import FaultProxyFactory
from tests.world.fixtures_mail import MailWorld

pytestmark = pytest.mark.world

PASSWORD = "Checking-Page-Pa55"
WAIT_MS = 15_000
ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]


#: Every event loop the tests here used, kept alive: see ``_keep_loop``.
_LOOPS: list[object] = []


@pytest.fixture(autouse=True)
def _keep_loop(qt_loop: object) -> object:
    """Keep each test's qasync loop referenced after it closed. The checks leave worker threads
    behind (the IMAP check's blocking socket thread), and Python's garbage collector may run in
    one of them: collecting the closed loop there destroys its timer QObject outside the GUI
    thread ("Timers cannot be stopped from another thread"), and the timer then fires on freed
    memory. (The qt_loop fixture could instead collect garbage in the GUI thread when it closes.)
    """
    _LOOPS.append(qt_loop)
    return qt_loop


def _config(world: MailWorld, imap: tuple[str, int] | None = None) -> AccountConfig:
    host, port = imap or (world.host, world.dovecot.imap_tls_port)
    return AccountConfig(
        incoming=Endpoint(Protocol.IMAP, host, port, Security.TLS),
        outgoing=Endpoint(
            Protocol.SMTP, world.smtp.host, world.smtp.starttls_port, Security.STARTTLS
        ),
        auth=AuthKind.PASSWORD,
        provenance=Provenance("manual", Trust.HIGH, over_https=False),
    )


def _state(context: PageContext, address: str, password: str, config: AccountConfig) -> WizardState:
    """At the checking step, signed in with ``password`` (kept in the page context's vault)."""
    ref = context.vault.keep(Secret(password))
    return WizardState(
        step=Step.CHECKING,
        address=EmailAddress.parse(address),
        config=config,
        app=AppChosen(MailApp.THUNDERBIRD).app,
        sign_in=SignInAnswer(SignInKind.PASSWORD, ref),
    )


def _user(world: MailWorld) -> str:
    return world.mail_user(f"check-{uuid.uuid4().hex[:8]}@example.test", PASSWORD)


def _row(page: CheckingPage, kind: RowKind) -> RowStatus:
    return page.rows[kind].status


def _done(page: CheckingPage) -> bool:
    return not page.running and page._result is not None


def _answers(page: WizardPage) -> list[object]:
    got: list[object] = []
    page.answered.connect(got.append)
    return got


def test_the_right_password_shows_ticks_and_allows_continue(
    mail_world: MailWorld,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    user = _user(mail_world)
    page = show_page(CheckingPage, _state(page_context, user, PASSWORD, _config(mail_world)))
    assert isinstance(page, CheckingPage)
    assert page.running and page.answer() is None
    assert _row(page, RowKind.INCOMING) is RowStatus.RUNNING
    assert page.rows[RowKind.INCOMING].busy.isVisible()
    qtbot.wait(30)  # lay the rows out before the picture
    if page.running:
        page.grab().save(str(artifacts_dir / "wizard" / "checking-running.png"))
    qtbot.waitUntil(lambda: _done(page), timeout=WAIT_MS)

    assert _row(page, RowKind.INCOMING) is RowStatus.OK
    assert _row(page, RowKind.SENDING) is RowStatus.OK
    assert _row(page, RowKind.CALENDARS) is RowStatus.NOT_OFFERED
    assert _row(page, RowKind.CONTACTS) is RowStatus.NOT_OFFERED
    assert not page.rows[RowKind.INCOMING].busy.isVisible()
    assert mail_world.dovecot.auth_successes(user) >= 1
    answer = page.answer()
    assert isinstance(answer, CheckingDone) and answer.action is CheckAction.CONTINUE
    assert answer.result.ok and answer.result.address == user
    # the timeline arrived live and is in the helpdesk details, with the TLS version
    details = page.details.toPlainText()
    assert "authenticate" in details and "TLSv1." in details
    assert not page.details.isVisible()
    page.details_toggle.click()
    assert page.details.isVisible()
    assert PASSWORD not in details
    page.grab().save(str(artifacts_dir / "wizard" / "checking-success.png"))


def test_a_wrong_password_shows_why_and_what_to_do_and_keeps_continue_off(
    mail_world: MailWorld,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    user = _user(mail_world)
    state = _state(page_context, user, "not the password", _config(mail_world))
    page = show_page(CheckingPage, state)
    assert isinstance(page, CheckingPage)
    qtbot.waitUntil(lambda: _done(page), timeout=WAIT_MS)

    incoming = page.rows[RowKind.INCOMING]
    assert incoming.status is RowStatus.FAILED
    assert incoming.cause.isVisible() and incoming.cause.text()
    assert incoming.fix.isVisible() and incoming.fix.text().startswith("What to do:")
    assert page.answer() is None
    # lockout safety: the wrong password was tried once (by whichever check came first), not
    # once per server
    failures = mail_world.dovecot.auth_failures(user) + mail_world.smtp.auth_failures(user)
    assert failures == 1
    assert page.sign_in_again.isVisible() and page.sign_in_again.isEnabled()
    page.grab().save(str(artifacts_dir / "wizard" / "checking-wrong-password.png"))

    answers = _answers(page)
    page.sign_in_again.click()
    page.try_again.click()
    page.change_settings.click()
    actions = [a.action for a in answers if isinstance(a, CheckingDone)]
    assert actions == [
        CheckAction.SIGN_IN_AGAIN,
        CheckAction.TRY_AGAIN,
        CheckAction.CHANGE_SETTINGS,
    ]
    assert all(isinstance(a, CheckingDone) and not a.result.ok for a in answers)


def test_stop_while_a_server_hangs_says_stopped_and_try_again_answers(
    mail_world: MailWorld,
    page_context: PageContext,
    show_page: ShowPage,
    fault_proxy: FaultProxyFactory,
    qtbot: QtBot,
    artifacts_dir: Path,
) -> None:
    user = _user(mail_world)
    hanging: FaultProxy = fault_proxy(
        mail_world.host, mail_world.dovecot.imap_tls_port, accept_and_hang=True
    )
    config = _config(mail_world, imap=(hanging.host, hanging.port))
    page = show_page(CheckingPage, _state(page_context, user, PASSWORD, config))
    assert isinstance(page, CheckingPage)
    # sending signs in (its timeline shows live); receiving hangs at the proxy
    qtbot.waitUntil(
        lambda: "authenticate" in [s.name for s in page._live.get(Protocol.SMTP, [])],
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: hanging.open_connections == 1, timeout=WAIT_MS)
    assert page.running and _row(page, RowKind.INCOMING) is RowStatus.RUNNING

    assert page_context.tasks.cancel()  # what the window's Stop does
    qtbot.waitUntil(lambda: not page.running, timeout=2000)
    assert _row(page, RowKind.INCOMING) is RowStatus.STOPPED
    assert page.summary.text().startswith("Stopped.")
    assert page.answer() is None
    assert hanging.wait_idle(2.0), "the hanging connection was left open"
    assert page.try_again.isEnabled()
    page.grab().save(str(artifacts_dir / "wizard" / "checking-stopped.png"))

    answers = _answers(page)
    page.try_again.click()
    assert len(answers) == 1
    answer = answers[0]
    assert isinstance(answer, CheckingDone) and answer.action is CheckAction.TRY_AGAIN
    assert answer.result.address == user


def test_an_app_that_signs_in_by_itself_is_checked_without_a_password(
    mail_world: MailWorld,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
) -> None:
    user = _user(mail_world)
    state = WizardState(
        step=Step.CHECKING,
        address=EmailAddress.parse(user),
        config=_config(mail_world),
        app=MailApp.NEW_OUTLOOK,
    )
    base = state.config
    assert base is not None
    from dataclasses import replace

    state = replace(state, config=replace(base, auth=AuthKind.NONE))
    page = show_page(CheckingPage, state)
    assert isinstance(page, CheckingPage)
    qtbot.waitUntil(lambda: _done(page), timeout=WAIT_MS)
    assert _row(page, RowKind.INCOMING) is RowStatus.OK
    assert (
        mail_world.dovecot.auth_successes(user) == 0 and mail_world.dovecot.auth_failures(user) == 0
    )
    assert not page.sign_in_again.isVisible()
    assert isinstance(page.answer(), CheckingDone)
    assert "sign in by itself" in page.summary.text()


def test_coming_back_shows_the_result_without_checking_again(
    mail_world: MailWorld,
    page_context: PageContext,
    show_page: ShowPage,
    qtbot: QtBot,
) -> None:
    user = _user(mail_world)
    state = _state(page_context, user, PASSWORD, _config(mail_world))
    first = show_page(CheckingPage, state)
    assert isinstance(first, CheckingPage)
    qtbot.waitUntil(lambda: _done(first), timeout=WAIT_MS)
    done = first.answer()
    assert isinstance(done, CheckingDone)
    logins = mail_world.dovecot.auth_successes(user)
    from dataclasses import replace

    again = show_page(CheckingPage, replace(state, answer=done))
    assert isinstance(again, CheckingPage)
    assert not again.running
    assert again.answer() == done
    assert mail_world.dovecot.auth_successes(user) == logins
