"""The "Finding your settings" page against the real detection engine and the test world:
a catalog provider answered offline, a custom domain found through its provider's own setup
file (over HTTPS, and over plain HTTP with its warning), a search stopped mid-run and tried
again, a suggested address, "edit manually", a hybrid Exchange mailbox, and Back showing the
earlier result without searching again. Each answer goes through the real flow."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.core.discovery.autoconfig import AUTOCONFIG_PATH
from app.core.discovery.engine import SOURCE_ORDER, DetectionOptions
from app.core.flow import (
    AddressEntered,
    AppChosen,
    DetectionDone,
    FindingAction,
    Flow,
    MailApp,
    Step,
    WizardState,
)
from app.core.flow.services import WizardServices
from app.core.model import AuthKind, Trust
from app.core.texts import render
from app.ui.wizard.page import PageContext, WizardPage
from app.ui.wizard.pages.finding import FindingPage, Phase, RowState
from tests.unit.test_flow import hybrid_result
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.scenarios_autoconfig import DiscoveryWorld, isp_config
from tests.world.web import Response, WebServer, delayed, hang

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "wizard"
ShowPage = Callable[[type[WizardPage], WizardState], WizardPage]
DOMAIN = "example.test"
AUTOCONFIG_HOST = f"autoconfig.{DOMAIN}"


def snap(page: QWidget, case: str) -> Path:
    """Save the page as it looks, tall enough for all of it."""
    layout = page.layout()
    assert layout is not None
    height = layout.totalHeightForWidth(760) if layout.hasHeightForWidth() else 0
    page.resize(760, max(560, height))
    QApplication.processEvents()  # the boxes' own layouts follow their texts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"finding-{case}.png"
    assert page.grab().save(str(path))
    return path


def at_finding(address: str) -> Flow:
    """The real flow, at the finding step for ``address``."""
    return Flow.start().advance(AddressEntered(address, "Taro Yamada"))


def finding_page(show_page: ShowPage, flow: Flow) -> FindingPage:
    page = show_page(FindingPage, flow.state)
    assert isinstance(page, FindingPage)
    return page


def wait_done(qtbot: QtBot, page: FindingPage, timeout: int = 8000) -> None:
    qtbot.waitUntil(lambda: page.phase is Phase.DONE, timeout=timeout)


def visible_texts(widget: QWidget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


@pytest.fixture
def offline(wizard_services: WizardServices) -> WizardServices:
    wizard_services.net_options = replace(wizard_services.net_options, offline=True)
    return wizard_services


@pytest.fixture
def world(
    web: WebServer,
    plain_web: WebServer,
    dns: DNSServer,
    test_ca: TestCA,
    wizard_services: WizardServices,
) -> Iterator[DiscoveryWorld]:
    """The test world's DNS and web servers; the services see exactly that world (options are
    read at each search, so scenarios may publish more after this)."""
    world = DiscoveryWorld(web, test_ca, dns=dns, plain_web=plain_web)
    wizard_services.detection = DetectionOptions(deadline=6.0, guess_after=2.0)
    yield world


def aim(services: WizardServices, world: DiscoveryWorld) -> None:
    services.net_options = world.options(timeout=3.0)


# --- a catalog provider, offline ---------------------------------------------------------------


def test_a_catalog_provider_is_found_offline(
    qtbot: QtBot, show_page: ShowPage, offline: WizardServices
) -> None:
    flow = at_finding("someone@gmail.com")
    page = finding_page(show_page, flow)
    wait_done(qtbot, page)

    assert page.provider_name.text() == "Gmail"
    assert not page.logo.pixmap().isNull()  # a generated badge: the catalog has no logos
    assert page.row_state("catalog") is RowState.FOUND
    for name in SOURCE_ORDER[1:]:
        assert page.row_state(name) is RowState.SKIPPED, name
        assert page.rows[name].status.text() == "Skipped"
    assert page.rows["catalog"].icon.text() == "✓"
    assert page.rows["catalog"].label.accessibleName() == "Built-in list of providers: Found"
    assert "imap.gmail.com" in page.incoming.text()
    assert "port 993" in page.incoming.text()
    assert "smtp.gmail.com" in page.outgoing.text()
    assert "apidata.googleusercontent.com" in page.calendars.text()
    assert page.found_by.text() == "Built-in list of providers"
    assert page.trust.text().startswith("High")
    assert not page.trust_warning.isVisibleTo(page)
    assert not page.progress.isVisibleTo(page)
    # the provider's notes, in the state's language
    notes = visible_texts(page.notes_box)
    assert any("Google Account" in text for text in notes)
    # Gmail has several candidates: the expert may pick another one
    assert page.candidates.isVisibleTo(page)
    assert page.candidates.count() == len(page.result.candidates) >= 2  # type: ignore[union-attr]
    snap(page, "catalog")

    answer = page.answer()
    assert isinstance(answer, DetectionDone)
    assert (answer.action, answer.candidate) == (FindingAction.CONTINUE, 0)
    page.candidates.setCurrentIndex(1)
    assert "pop.gmail.com" in page.incoming.text()
    answer = page.answer()
    assert isinstance(answer, DetectionDone) and answer.candidate == 1
    moved = flow.advance(answer)
    assert moved.step is Step.CHOOSE_APP
    assert moved.state.config is not None
    assert moved.state.config.incoming.host == "pop.gmail.com"


# --- a custom domain through the test world ----------------------------------------------------


def test_a_custom_domain_is_found_live_through_its_setup_file(
    qtbot: QtBot,
    show_page: ShowPage,
    world: DiscoveryWorld,
    web: WebServer,
    wizard_services: WizardServices,
) -> None:
    # The provider's file answers after a moment, so the rows can be seen while it runs.
    world.serve_isp_autoconfig(DOMAIN, delayed(Response.xml(isp_config(DOMAIN)), 0.6))
    aim(wizard_services, world)
    flow = at_finding(f"taro.yamada@{DOMAIN}")
    page = finding_page(show_page, flow)

    assert page.phase is Phase.RUNNING
    assert page.progress.isVisibleTo(page)
    assert page.answer() is None
    assert "Looking for the settings for taro.yamada@example.test" in page.status.text()
    qtbot.waitUntil(lambda: page.row_state("autoconfig") is RowState.LOOKING, timeout=3000)
    assert page.row_state("catalog") is RowState.NOTHING  # answered: not a catalog domain
    assert page.rows["autoconfig"].status.text() == "Looking…"
    snap(page, "running")
    wait_done(qtbot, page)

    assert page.row_state("autoconfig") is RowState.FOUND
    assert all(row.state is not RowState.LOOKING for row in page.rows.values())
    assert page.provider_name.text() == "Example Net Mail"
    assert "imap.example.test" in page.incoming.text()
    assert page.found_by.text() == "Your provider's own setup file"
    assert page.found_at.text() == f"https://{AUTOCONFIG_HOST}{AUTOCONFIG_PATH}"
    assert page.trust.text().startswith("High")
    assert not page.trust_warning.isVisibleTo(page)
    assert web.requests_to(AUTOCONFIG_PATH, host=AUTOCONFIG_HOST)
    snap(page, "custom-domain")
    answer = page.answer()
    assert isinstance(answer, DetectionDone)
    assert flow.advance(answer).step is Step.CHOOSE_APP


def test_settings_over_plain_http_are_flagged(
    qtbot: QtBot,
    show_page: ShowPage,
    world: DiscoveryWorld,
    plain_web: WebServer,
    wizard_services: WizardServices,
) -> None:
    world.serve_isp_autoconfig(DOMAIN, isp_config(DOMAIN), plain=True)
    aim(wizard_services, world)
    page = finding_page(show_page, at_finding(f"taro@{DOMAIN}"))
    wait_done(qtbot, page)

    assert page.result is not None
    best = page.result.candidates[page.chosen_candidate()]
    assert best.provenance.trust is Trust.LOW
    assert page.trust_warning.isVisibleTo(page)
    assert "plain HTTP" in page.trust_warning.text()
    assert page.trust.text().startswith("Low")
    assert page.found_at.text().startswith("http://")
    assert plain_web.requests_to(AUTOCONFIG_PATH, host=AUTOCONFIG_HOST)
    snap(page, "plain-http")


# --- stopping and trying again -----------------------------------------------------------------


def test_stop_mid_run_then_try_again(
    qtbot: QtBot,
    show_page: ShowPage,
    page_context: PageContext,
    world: DiscoveryWorld,
    web: WebServer,
    wizard_services: WizardServices,
) -> None:
    web.hang_limit = 5
    world.serve_isp_autoconfig(DOMAIN, hang())  # accepts the request, never answers
    aim(wizard_services, world)
    page = finding_page(show_page, at_finding(f"taro@{DOMAIN}"))
    qtbot.waitUntil(lambda: bool(web.requests_to(AUTOCONFIG_PATH, host=AUTOCONFIG_HOST)))
    assert page.row_state("autoconfig") is RowState.LOOKING
    assert page_context.tasks.busy

    stopped_at = time.monotonic()
    assert page_context.tasks.cancel()  # what the window's Stop does
    qtbot.waitUntil(lambda: page.phase is Phase.STOPPED, timeout=2000)
    assert time.monotonic() - stopped_at < 1.0
    assert page.stopped_text.text().startswith("Stopped.")
    assert page.try_again.isVisibleTo(page)
    assert page.row_state("autoconfig") is RowState.STOPPED
    assert page.rows["autoconfig"].status.text() == "Stopped"
    assert page.answer() is None
    assert not page.progress.isVisibleTo(page)
    snap(page, "stopped")

    world.serve_isp_autoconfig(DOMAIN, isp_config(DOMAIN))  # the server answers now
    QTest.mouseClick(page.try_again, Qt.MouseButton.LeftButton)
    assert page.phase is Phase.RUNNING
    assert not page.try_again.isVisibleTo(page)
    wait_done(qtbot, page)
    assert page.row_state("autoconfig") is RowState.FOUND
    assert page.answer() is not None


# --- nothing found, a suggestion -----------------------------------------------------------------


def test_a_typo_offers_the_suggested_address_and_searches_it(
    qtbot: QtBot, show_page: ShowPage, offline: WizardServices
) -> None:
    flow = at_finding("someone@gmial.com")
    page = finding_page(show_page, flow)
    wait_done(qtbot, page)
    assert page.result is not None and not page.result.found
    assert page.nothing_found.isVisibleTo(page)
    assert "someone@gmial.com" in page.nothing_found.text()
    assert not page.result_box.isVisibleTo(page)
    assert page.suggestion.isVisibleTo(page)
    assert "someone@gmail.com" in page.suggestion.text()
    snap(page, "suggestion")

    with qtbot.waitSignal(page.answered) as signal:
        QTest.mouseClick(page.suggestion, Qt.MouseButton.LeftButton)
    answer = signal.args[0]
    assert answer == DetectionDone(page.result, FindingAction.USE_SUGGESTION)
    moved = flow.advance(answer)
    assert moved.step is Step.FINDING
    assert str(moved.state.address) == "someone@gmail.com"
    # the window shows the same page again: it searches the corrected address
    page.leave()
    page.show_state(moved.state)
    page.enter()
    wait_done(qtbot, page)
    assert page.provider_name.text() == "Gmail"


def test_nothing_found_continues_to_manual_entry(
    qtbot: QtBot, show_page: ShowPage, offline: WizardServices
) -> None:
    flow = at_finding("someone@nowhere-at-all.test")
    page = finding_page(show_page, flow)
    wait_done(qtbot, page)
    assert page.nothing_found.isVisibleTo(page)
    assert not page.suggestion.isVisibleTo(page)
    snap(page, "nothing-found")
    answer = page.answer()
    assert isinstance(answer, DetectionDone)
    moved = flow.advance(answer)
    assert moved.step is Step.MANUAL


# --- edit manually, Back -----------------------------------------------------------------------


def test_edit_manually_answers_with_the_chosen_candidate(
    qtbot: QtBot, show_page: ShowPage, offline: WizardServices
) -> None:
    flow = at_finding("someone@gmail.com")
    page = finding_page(show_page, flow)
    wait_done(qtbot, page)
    page.candidates.setCurrentIndex(2)
    with qtbot.waitSignal(page.answered) as signal:
        QTest.mouseClick(page.edit, Qt.MouseButton.LeftButton)
    answer = signal.args[0]
    assert isinstance(answer, DetectionDone)
    assert (answer.action, answer.candidate) == (FindingAction.EDIT, 2)
    moved = flow.advance(answer)
    assert moved.step is Step.MANUAL
    assert moved.state.manual is not None
    assert moved.state.manual.outgoing_port == "587"  # the third Gmail candidate


def test_back_shows_the_earlier_result_without_searching_again(
    qtbot: QtBot,
    show_page: ShowPage,
    page_context: PageContext,
    offline: WizardServices,
) -> None:
    flow = at_finding("someone@gmail.com")
    page = finding_page(show_page, flow)
    wait_done(qtbot, page)
    page.candidates.setCurrentIndex(1)
    answer = page.answer()
    assert isinstance(answer, DetectionDone)
    page.leave()
    later = flow.advance(answer).advance(AppChosen(MailApp.THUNDERBIRD))
    back = later.back().back()
    assert back.step is Step.FINDING and back.state.answer == answer

    # Were it to search, it would run: the services are online now, with no DNS to ask.
    page.context.services.net_options = replace(page.context.services.net_options, offline=False)
    again = finding_page(show_page, back)
    assert again.phase is Phase.DONE
    assert not page_context.tasks.busy
    assert again.result is answer.result
    assert again.chosen_candidate() == 1
    assert again.row_state("catalog") is RowState.FOUND
    assert again.row_state("autoconfig") is RowState.SKIPPED
    assert again.answer() == answer


# --- hybrid Exchange ---------------------------------------------------------------------------


def test_a_hybrid_mailbox_says_what_works_and_what_the_admin_must_enable(
    show_page: ShowPage,
) -> None:
    address = "taro@corp.test"
    result = hybrid_result(address)
    flow = at_finding(address)
    state = replace(flow.state, answer=DetectionDone(result))  # shown again after Back
    page = show_page(FindingPage, state)
    assert isinstance(page, FindingPage)
    assert page.phase is Phase.DONE
    assert page.provider_name.text() == "Exchange (Corp)"
    assert page.advice_box.isVisibleTo(page)
    advice = visible_texts(page.advice_box)
    assert render_en("flow.advice.hybrid-works") in advice
    assert render_en("flow.advice.hybrid-admin") in advice
    assert result.best is not None and result.best.auth is AuthKind.EXCHANGE_HYBRID
    assert "Exchange hybrid" in page.sign_in.text()
    assert page.found_by.text() == "Microsoft 365 and Exchange"
    snap(page, "hybrid")


def render_en(key: str) -> str:
    from app.core.texts import Text

    return render(Text(key), "en")


# --- accessibility -----------------------------------------------------------------------------


def test_every_focusable_widget_has_an_accessible_name(
    qtbot: QtBot, show_page: ShowPage, offline: WizardServices
) -> None:
    page = finding_page(show_page, at_finding("someone@gmail.com"))
    wait_done(qtbot, page)
    for widget in page.findChildren(QWidget):
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus and not isinstance(widget, QLabel):
            assert widget.accessibleName(), widget.objectName() or type(widget).__name__
