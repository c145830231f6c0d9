"""The sign-in window (app/ui/browser.py) driven for real: Qt WebEngine shows the test identity
provider's HTML sign-in and consent pages, the test fills them with JavaScript (or clicks with
the mouse), the window catches the redirect before it loads, MicrosoftSignIn redeems it, and
the tokens log in to Dovecot (IMAP) and the SMTP server with XOAUTH2.

Qt WebEngine reaches Microsoft's real sign-in host names at the local provider and the
``WEB_HOSTS`` of tests/gui/conftest.py at the world's HTTPS server (``webengine_env``); nothing
else resolves. Screenshots of the sign-in page in English and Japanese go to tests/artifacts.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import imapclient
import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.core.auth.microsoft import (
    MicrosoftSignIn,
    SignInCancelled,
    SignInFlow,
    SignInResult,
)
from app.core.auth.token_cache import MemoryStorage, TokenCacheStore
from app.core.config import MicrosoftSettings
from app.core.net import Network, NetworkOptions
from app.core.net.options import ResolveOverride
from tests.world.ca import TestCA
from tests.world.display import XvfbDisplay
from tests.world.dovecot import DovecotServer
from tests.world.idp import IMAP_SCOPE, SMTP_SCOPE, IdentityProvider
from tests.world.smtp import SubmissionServer
from tests.world.web import Response, WebServer, redirect

if TYPE_CHECKING:
    from app.ui.browser import SignInWindow

pytestmark = pytest.mark.world

PASSWORD = "Window-Password-9"
NATIVE_CLIENT = "https://login.microsoftonline.com/common/oauth2/nativeclient"
WAIT_MS = 15_000
TIMEOUT = 10.0


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(webengine_env: str) -> Any:
    """app.ui.browser, imported only once WebEngine's environment is set."""
    from app.ui import browser as module

    return module


@dataclass
class Opener:
    """The injectable "system browser": records what it was asked to open."""

    urls: list[str] = field(default_factory=list)

    def __call__(self, url: QUrl) -> bool:
        self.urls.append(url.toString())
        return True


@dataclass
class Account:
    upn: str  # the sign-in name
    mailbox: str  # the mailbox address (differs: UPN != SMTP)


@pytest.fixture
def account(idp_state: IdentityProvider, dovecot: DovecotServer) -> Account:
    tag = uuid.uuid4().hex[:8]
    mailbox = dovecot.add_user(f"win{tag}@example.test", "unused mailbox password")
    upn = f"win{tag}@contoso.test"
    idp_state.add_user(upn, PASSWORD, mailbox=mailbox)
    return Account(upn, mailbox)


def _settings(idp: IdentityProvider, authority: str) -> MicrosoftSettings:
    return MicrosoftSettings(
        client_id=idp.default_client_id,
        authority=authority,
        redirect_uri=NATIVE_CLIENT,
        scopes=(IMAP_SCOPE, SMTP_SCOPE),
    )


def _sign_in(idp: IdentityProvider, *, real_host: bool = False) -> MicrosoftSignIn:
    """MicrosoftSignIn on the local provider: by its address, or (``real_host``) by the name
    login.microsoftonline.com mapped to it through the network seam's --resolve."""
    if real_host:
        authority = f"https://login.microsoftonline.com/{idp.tenant_id}"
        resolve = (ResolveOverride("login.microsoftonline.com", 443, "127.0.0.1", idp.port),)
    else:
        authority, resolve = idp.authority(), ()
    net = Network(NetworkOptions(ca_bundles=(idp.ca_path,), resolve=resolve))
    return MicrosoftSignIn(_settings(idp, authority), net, TokenCacheStore(MemoryStorage()))


@pytest.fixture
def make_window(qtbot: QtBot, browser: Any) -> Iterator[Callable[..., tuple[SignInWindow, Opener]]]:
    made: list[SignInWindow] = []

    def make(
        auth_uri: str,
        *,
        redirect_uri: str = NATIVE_CLIENT,
        allowed: tuple[str, ...] = (),
        language: str = "en",
    ) -> tuple[SignInWindow, Opener]:
        opener = Opener()
        window = browser.SignInWindow(
            auth_uri, redirect_uri, allowed, language, open_external=opener
        )
        window.widget.move(20, 20)
        window.show()
        qtbot.waitExposed(window.widget, timeout=WAIT_MS)
        made.append(window)
        return window, opener

    yield make
    for window in made:
        window.dispose()
    qtbot.wait(100)  # the deletions happen in the event loop


# -- driving the page --------------------------------------------------------------------------


def js(qtbot: QtBot, window: SignInWindow, script: str) -> Any:
    """Run ``script`` (a function body) in the page; what it returns, through JSON."""
    box: list[str] = []

    def done(value: object) -> None:  # a plain function: PySide keeps it alive
        box.append(str(value) if value is not None else "")

    window.page.runJavaScript(f"JSON.stringify((function(){{{script}}})())", 0, done)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT_MS)
    return json.loads(box[0]) if box[0] else None


def wait_for_element(qtbot: QtBot, window: SignInWindow, element: str) -> None:
    """Wait until the page (loaded completely) has the element with id ``element``."""
    script = f"return document.readyState === 'complete' && !!document.getElementById('{element}');"
    deadline = time.monotonic() + WAIT_MS / 1000
    while not js(qtbot, window, script):
        assert time.monotonic() < deadline, f"no #{element} on {window.page.url().toString()}"
        qtbot.wait(50)


def fill_sign_in(qtbot: QtBot, window: SignInWindow, login: str, password: str) -> None:
    wait_for_element(qtbot, window, "password")
    js(
        qtbot,
        window,
        f"document.getElementById('username').value = {json.dumps(login)};"
        f"document.getElementById('password').value = {json.dumps(password)};"
        "document.getElementById('submit').click(); return true;",
    )


def click(qtbot: QtBot, window: SignInWindow, element: str) -> None:
    """A real mouse click on ``element`` (what a person does)."""
    wait_for_element(qtbot, window, element)
    rect = js(
        qtbot,
        window,
        f"var r = document.getElementById('{element}').getBoundingClientRect();"
        "return [r.left + r.width / 2, r.top + r.height / 2];",
    )
    target = window.view.focusProxy() or window.view
    QTest.mouseClick(
        target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*map(int, rect))
    )


def drive_to_redirect(
    qtbot: QtBot, window: SignInWindow, login: str, consent: str = "accept"
) -> str:
    """Sign in as ``login`` and answer the consent page with ``consent``; the caught URL."""
    fill_sign_in(qtbot, window, login, PASSWORD)
    wait_for_element(qtbot, window, consent)
    with qtbot.waitSignal(window.redirected, timeout=WAIT_MS) as caught:
        js(qtbot, window, f"document.getElementById('{consent}').click(); return true;")
    url = caught.args[0]
    assert isinstance(url, str)
    return url


# -- mail with the tokens ----------------------------------------------------------------------


def _imap_login(dovecot: DovecotServer, tls: ssl.SSLContext, mailbox: str, token: str) -> None:
    with imapclient.IMAPClient(
        dovecot.host, port=dovecot.imap_tls_port, ssl=True, ssl_context=tls, timeout=TIMEOUT
    ) as client:
        client.oauth2_login(mailbox, token)
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] >= 0


def _smtp_login(smtp: SubmissionServer, tls: ssl.SSLContext, mailbox: str, token: str) -> None:
    blob = f"user={mailbox}\x01auth=Bearer {token}\x01\x01"
    with smtplib.SMTP_SSL(smtp.host, smtp.tls_port, context=tls, timeout=TIMEOUT) as client:
        client.ehlo("client.example.test")
        code, _ = client.auth("XOAUTH2", lambda challenge=None: blob, initial_response_ok=True)
        assert code == 235


# -- the sign-in -------------------------------------------------------------------------------


@pytest.mark.parametrize("real_host", [False, True], ids=["idp-address", "microsoft-host-name"])
def test_sign_in_through_the_window_then_imap_and_smtp_with_the_tokens(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    account: Account,
    idp_state: IdentityProvider,
    dovecot: DovecotServer,
    smtp_server: SubmissionServer,
    test_ca: TestCA,
    real_host: bool,
) -> None:
    signin = _sign_in(idp_state, real_host=real_host)
    flow = asyncio.run(signin.start(account.mailbox))
    expected_host = "login.microsoftonline.com" if real_host else "127.0.0.1"
    assert urlsplit(flow.auth_uri).hostname == expected_host
    window, opener = make_window(flow.auth_uri)
    assert window.profile.isOffTheRecord()

    wait_for_element(qtbot, window, "username")
    shown = js(qtbot, window, "return document.getElementById('username').value;")
    assert shown == account.mailbox  # the login hint reached the page
    assert window.widget.host.text() == expected_host
    assert window.widget.padlock.accessibleName() == "Secure connection (HTTPS)"
    redirect_url = drive_to_redirect(qtbot, window, account.upn)

    assert redirect_url.startswith(NATIVE_CLIENT + "?")
    params = dict(parse_qsl(urlsplit(redirect_url).query))
    assert set(params) >= {"code", "state"} and params["state"] == flow.state
    assert window.outcome == "redirected" and not window.isVisible()
    qtbot.wait(500)  # time the page would need to load it
    assert idp_state.log_for("nativeclient") == []  # caught before it loaded: never requested
    assert not window.page.url().toString().startswith(NATIVE_CLIENT)
    assert opener.urls == []

    result = asyncio.run(signin.finish(flow, redirect_url))
    assert isinstance(result, SignInResult)
    assert result.username == account.upn and result.address == account.mailbox
    imap = asyncio.run(signin.access_token(account.mailbox, [IMAP_SCOPE])).reveal()
    smtp = asyncio.run(signin.access_token(account.mailbox, [SMTP_SCOPE])).reveal()
    tls = ssl.create_default_context(cafile=str(test_ca.cert_path))
    _imap_login(dovecot, tls, account.mailbox, imap)  # user= is the mailbox, not the UPN
    _smtp_login(smtp_server, tls, account.mailbox, smtp)
    assert dovecot.auth_successes(account.mailbox) == 1
    assert smtp_server.auth_successes(account.mailbox) == 1


# -- ending without a code ---------------------------------------------------------------------


@dataclass
class Started:
    signin: MicrosoftSignIn
    flow: SignInFlow
    account: Account


@pytest.fixture
def started(idp_state: IdentityProvider, account: Account) -> Started:
    """A sign-in started with Microsoft's host name mapped to the local provider."""
    signin = _sign_in(idp_state, real_host=True)
    return Started(signin, asyncio.run(signin.start(account.mailbox)), account)


def test_cancel_button_ends_the_flow(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], started: Started
) -> None:
    window, _ = make_window(started.flow.auth_uri)
    wait_for_element(qtbot, window, "username")
    with (
        qtbot.assertNotEmitted(window.redirected),
        qtbot.assertNotEmitted(window.failed),
        qtbot.waitSignal(window.cancelled, timeout=WAIT_MS),
    ):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert window.outcome == "cancelled" and not window.isVisible()


def test_closing_the_window_cancels(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], started: Started
) -> None:
    window, _ = make_window(started.flow.auth_uri)
    wait_for_element(qtbot, window, "username")
    with qtbot.waitSignal(window.cancelled, timeout=WAIT_MS):
        window.widget.close()  # what the window manager's close button does
    assert window.outcome == "cancelled"


def test_escape_in_the_page_cancels(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], started: Started
) -> None:
    window, _ = make_window(started.flow.auth_uri)
    window.widget.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(lambda: window.view.focusProxy().hasFocus(), timeout=WAIT_MS)
    click(qtbot, window, "password")  # the keyboard focus is in the page's password field
    qtbot.waitUntil(
        lambda: js(qtbot, window, "return document.activeElement.id;") == "password",
        timeout=WAIT_MS,
    )
    with qtbot.waitSignal(window.cancelled, timeout=WAIT_MS):
        QTest.keyClick(window.view.focusProxy(), Qt.Key.Key_Escape)
    assert window.outcome == "cancelled"


def test_declined_consent_reaches_the_core_as_cancelled(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], started: Started
) -> None:
    window, _ = make_window(started.flow.auth_uri)
    url = drive_to_redirect(qtbot, window, started.account.upn, consent="cancel")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["error"] == "access_denied" and "code" not in params
    with pytest.raises(SignInCancelled):
        asyncio.run(started.signin.finish(started.flow, url))


def test_an_error_page_stays_for_the_person_and_its_code_is_kept(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], started: Started
) -> None:
    """Microsoft shows some errors on its page (an unknown application: AADSTS700016) rather
    than at the redirect URI: the window stays open on it and keeps the code."""
    unknown = started.flow.auth_uri.replace(
        started.signin.settings.client_id or "", "00000000-0000-4000-8000-00000000dead"
    )
    window, _ = make_window(unknown)
    wait_for_element(qtbot, window, "error-code")
    qtbot.waitUntil(lambda: window.page_error is not None, timeout=WAIT_MS)
    assert window.page_error is not None and window.page_error.startswith("AADSTS700016")
    assert window.outcome is None and window.isVisible()
    with qtbot.waitSignal(window.cancelled, timeout=WAIT_MS):
        qtbot.keyClick(window.cancel_button, Qt.Key.Key_Space)
    assert window.page_error.startswith("AADSTS700016")


def test_every_control_has_an_accessible_name(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], started: Started
) -> None:
    from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QWidget

    window, _ = make_window(started.flow.auth_uri)
    wait_for_element(qtbot, window, "username")
    controls = [
        w for kind in (QLabel, QPushButton, QProgressBar) for w in window.widget.findChildren(kind)
    ]
    assert len(controls) >= 5
    assert [c.objectName() for c in controls if not c.accessibleName()] == []
    assert window.view.accessibleName() == "Microsoft sign-in page"
    assert isinstance(window.widget, QWidget) and window.widget.accessibleName()


# -- where the page may go ---------------------------------------------------------------------

_ADD_LINK = """
var a = document.createElement('a');
a.id = {id}; a.href = {href}; a.textContent = 'Link ' + {id};
if ({blank}) a.target = '_blank';
a.style.cssText = 'display:block; font-size:28px; padding:8px;';
document.querySelector('main').prepend(a);
return true;
"""


def add_link(
    qtbot: QtBot, window: SignInWindow, element: str, href: str, *, blank: bool = False
) -> None:
    wait_for_element(qtbot, window, "username")
    script = _ADD_LINK.format(
        id=json.dumps(element), href=json.dumps(href), blank=json.dumps(blank)
    )
    assert js(qtbot, window, script) is True


@pytest.mark.parametrize("blank", [False, True], ids=["same-window", "target-blank"])
def test_a_clicked_link_to_a_foreign_host_opens_in_the_system_browser(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    started: Started,
    web: WebServer,
    blank: bool,
) -> None:
    web.route("/help", Response.text("help"), host="www.example.test")
    window, opener = make_window(started.flow.auth_uri, allowed=("sts.corp.test",))
    add_link(qtbot, window, "help", "https://www.example.test/help", blank=blank)
    click(qtbot, window, "help")
    qtbot.waitUntil(lambda: opener.urls != [], timeout=WAIT_MS)
    assert opener.urls == ["https://www.example.test/help"]
    qtbot.wait(300)  # time the view would need to go there
    assert web.requests_to("/help") == []  # the view did not navigate
    assert window.page.url().host() == "login.microsoftonline.com"
    assert "www.example.test" in window.widget.status.text()
    assert window.outcome is None  # the sign-in goes on
    drive_to_redirect(qtbot, window, started.account.upn)


def test_a_clicked_link_to_an_allowed_host_stays_inside(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    started: Started,
    web: WebServer,
) -> None:
    web.route(
        "/adfs/ls", Response(200, "<h1>ADFS</h1>", content_type="text/html"), host="sts.corp.test"
    )
    window, opener = make_window(started.flow.auth_uri, allowed=("sts.corp.test",))
    add_link(qtbot, window, "federation", "https://sts.corp.test/adfs/ls")
    click(qtbot, window, "federation")
    qtbot.waitUntil(lambda: window.page.url().host() == "sts.corp.test", timeout=WAIT_MS)
    assert [r.host for r in web.requests_to("/adfs/ls")] == ["sts.corp.test"]
    assert opener.urls == [] and window.outcome is None
    assert window.widget.host.text() == "sts.corp.test"


def test_a_clicked_link_within_the_page_s_own_host_stays_inside(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], web: WebServer
) -> None:
    """A server redirect took the flow to a host nobody listed (an identity provider's); a
    link there to the same host ("use another account") stays in the window."""
    form = '<h1>IdP</h1><p><a id="other" href="/other-account">Another account</a></p>'
    web.route("/start", redirect("https://mfa.example.test/idp"), host="sts.corp.test")
    web.route("/idp", Response(200, form, content_type="text/html"), host="mfa.example.test")
    other = Response(200, "<h1>Other</h1>", content_type="text/html")
    web.route("/other-account", other, host="mfa.example.test")
    window, opener = make_window("https://sts.corp.test/start")
    click(qtbot, window, "other")
    qtbot.waitUntil(lambda: window.page.url().path() == "/other-account", timeout=WAIT_MS)
    assert opener.urls == [] and window.outcome is None
    assert len(web.requests_to("/other-account")) == 1


def test_a_script_navigation_to_another_host_stays_inside(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    started: Started,
    web: WebServer,
) -> None:
    """Chromium calls ``location.href = ...`` a clicked link; without the person's click it is
    part of the flow (an MFA or federation hop) and stays in the window."""
    web.route(
        "/prompt", Response(200, "<h1>MFA</h1>", content_type="text/html"), host="mfa.example.test"
    )
    window, opener = make_window(started.flow.auth_uri)
    wait_for_element(qtbot, window, "username")
    js(qtbot, window, "location.href = 'https://mfa.example.test/prompt'; return true;")
    qtbot.waitUntil(lambda: window.page.url().host() == "mfa.example.test", timeout=WAIT_MS)
    assert len(web.requests_to("/prompt")) == 1
    assert opener.urls == [] and window.outcome is None


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_server_redirect_through_the_federation_host_stays_inside(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    started: Started,
    web: WebServer,
    language: str,
) -> None:
    """The flow starts at the tenant's federation host, which sends the browser on to the
    sign-in (a server redirect): all of it in the window, with the UI language asked for."""
    web.route("/federate", redirect(started.flow.auth_uri), host="sts.corp.test")
    window, opener = make_window(
        "https://sts.corp.test/federate", allowed=("sts.corp.test",), language=language
    )
    url = drive_to_redirect(qtbot, window, started.account.upn)
    hop = web.requests_to("/federate")
    assert len(hop) == 1
    wanted = "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7" if language == "ja" else "en-US,en;q=0.9"
    assert hop[0].headers["Accept-Language"] == wanted
    assert opener.urls == []
    result = asyncio.run(started.signin.finish(started.flow, url))
    assert result.username == started.account.upn


@pytest.mark.parametrize(
    ("host", "code"),
    [
        ("untrusted.example.test", "tls.untrusted"),
        ("expired.example.test", "tls.expired"),
        ("wronghost.example.test", "tls.wrong-host"),
    ],
)
def test_a_certificate_error_fails_and_is_never_accepted(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    web: WebServer,
    test_ca: TestCA,
    corporate_ca: TestCA,
    host: str,
    code: str,
) -> None:
    import datetime as dt

    from app.core.errors import TLSError

    now = dt.datetime.now(dt.UTC)
    old, past = now - dt.timedelta(days=30), now - dt.timedelta(days=2)
    certs = {
        "untrusted.example.test": lambda: corporate_ca.issue((host,)),
        "expired.example.test": lambda: test_ca.issue((host,), not_before=old, not_after=past),
        "wronghost.example.test": lambda: test_ca.issue(("someone-else.example.test",)),
    }
    web.set_certificate(certs[host](), host=host)
    web.route("/start", Response(200, "<h1>never</h1>", content_type="text/html"), host=host)
    window, _ = make_window(f"https://{host}/start?login_hint=someone")
    with qtbot.waitSignal(window.failed, timeout=WAIT_MS) as failed:
        pass
    assert failed.args == [code]
    assert window.outcome == "failed" and not window.isVisible()
    assert isinstance(window.failure, TLSError) and window.failure.host == host
    assert window.failure.detail["url"] == f"https://{host}/start"  # no query: no hint, no code
    assert web.requests_to("/start") == []  # nothing was sent over the refused connection


def test_a_page_that_cannot_load_fails(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]]
) -> None:
    window, _ = make_window("https://nowhere.example.test/authorize")
    with qtbot.waitSignal(window.failed, timeout=WAIT_MS) as failed:
        pass
    assert failed.args == ["dns.not-found"]
    assert window.failure is not None and window.failure.detail["host"] == "nowhere.example.test"


def test_a_redirect_to_plain_http_fails_before_anything_is_sent(
    qtbot: QtBot, make_window: Callable[..., tuple[SignInWindow, Opener]], web: WebServer
) -> None:
    web.route("/downgrade", redirect("http://www.example.test/login"), host="sts.corp.test")
    window, opener = make_window("https://sts.corp.test/downgrade", allowed=("sts.corp.test",))
    with qtbot.waitSignal(window.failed, timeout=WAIT_MS) as failed:
        pass
    assert failed.args == ["signin.insecure-page"]
    assert opener.urls == []
    qtbot.wait(300)
    assert window.page.url().scheme() != "http"  # the plain-HTTP page was never opened


# -- how it looks ------------------------------------------------------------------------------


def _distinct_colours(image: QImage, area: QRect) -> int:
    part = image.copy(area).convertToFormat(QImage.Format.Format_RGB32)
    return len(set(memoryview(bytes(part.constBits())).cast("I")))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_screenshot_of_the_sign_in_page(
    qtbot: QtBot,
    make_window: Callable[..., tuple[SignInWindow, Opener]],
    started: Started,
    xvfb_display: XvfbDisplay,
    artifacts_dir: Path,
    language: str,
) -> None:
    window, _ = make_window(started.flow.auth_uri, language=language)
    wait_for_element(qtbot, window, "username")
    qtbot.waitUntil(lambda: window.widget.progress.value() == 100, timeout=WAIT_MS)
    cancel = {"en": "Cancel", "ja": "キャンセル"}[language]
    assert window.cancel_button.text() == cancel
    assert window.widget.host.text() == "login.microsoftonline.com"
    qtbot.wait(300)  # let Chromium paint the page before the X server is read
    path = xvfb_display.screenshot(artifacts_dir / f"signin_{language}.png")
    screen = QImage(str(path))
    widget = window.widget
    view = QRect(window.view.mapToGlobal(QPoint(0, 0)), window.view.size())
    chrome = QRect(widget.mapToGlobal(QPoint(0, 0)), QSize(widget.width(), 40))
    assert _distinct_colours(screen, view) > 8  # the page was drawn, not a blank view
    assert _distinct_colours(screen, chrome) > 4  # host name and padlock


# -- the rules, without a page -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind", "main", "allowed", "expected"),
    [
        (NATIVE_CLIENT + "?code=x&state=y", "redirect", True, (), "redirect"),
        (NATIVE_CLIENT + "/?code=x", "other", True, (), "load"),  # another path
        (
            "https://login.microsoftonline.com:8443/common/oauth2/nativeclient",
            "redirect",
            True,
            (),
            "load",
        ),
        (NATIVE_CLIENT + "?code=x", "other", False, (), "external"),  # a frame: refused
        ("https://www.example.test/help", "click", True, (), "external"),
        ("https://www.example.test/help", "click", False, (), "load"),  # in a frame
        ("https://www.example.test/help", "redirect", True, (), "load"),
        ("https://www.example.test/help", "other", True, (), "load"),
        ("https://login.live.com/x", "click", True, (), "load"),
        ("https://login.microsoftonline.us/x", "click", True, (), "load"),  # national cloud
        ("https://aadcdn.msftauth.net/x", "click", True, (), "load"),
        ("https://sts.corp.test/adfs", "click", True, ("sts.corp.test",), "load"),
        ("https://corp.okta.com/x", "click", True, ("*.okta.com",), "load"),
        ("https://okta.com.evil.test/x", "click", True, ("*.okta.com",), "external"),
        ("http://login.microsoftonline.com/x", "redirect", True, (), "insecure"),
        ("mailto:help@example.test", "click", True, (), "load"),
    ],
)
def test_navigation_rules(
    browser: Any, url: str, kind: str, main: bool, allowed: tuple[str, ...], expected: str
) -> None:
    decision = browser.decide(
        url,
        browser.Kind(kind),
        main_frame=main,
        redirect_uri=NATIVE_CLIENT,
        allowed_hosts=allowed,
    )
    assert decision.value == expected


def test_loopback_redirect_matches_its_port_only(browser: Any) -> None:
    assert browser.matches_redirect("http://localhost:8400/?code=1", "http://localhost:8400")
    assert not browser.matches_redirect("http://localhost:8401/?code=1", "http://localhost:8400")
    assert not browser.matches_redirect("https://localhost:8400/?code=1", "http://localhost:8400")


def test_host_resolver_rules_from_resolve_overrides() -> None:
    from app.core.net.options import parse_resolve
    from app.ui import qt_env

    overrides = [
        parse_resolve("login.microsoftonline.com:443:127.0.0.1:8443"),
        parse_resolve("*:443:[::1]"),
    ]
    assert qt_env.host_resolver_rules(overrides) == (
        "MAP login.microsoftonline.com:443 127.0.0.1:8443, MAP *:443 [::1]:443"
    )
    blocked = qt_env.host_resolver_rules([], block_others=True)
    assert blocked.endswith("MAP * ~NOTFOUND") and "EXCLUDE 127.0.0.1" in blocked
    merged = qt_env.merge_flags(
        '--disable-gpu --host-resolver-rules="MAP * ~NOTFOUND"', "MAP a:443 127.0.0.1:1"
    )
    assert merged == '--disable-gpu "--host-resolver-rules=MAP a:443 127.0.0.1:1, MAP * ~NOTFOUND"'
    assert qt_env.merge_flags(merged, "MAP a:443 127.0.0.1:1") == merged  # idempotent


def test_webengine_environment_as_root_and_not() -> None:
    from app.core.net.options import parse_resolve
    from app.ui import qt_env

    resolve = [parse_resolve("login.microsoftonline.com:443:127.0.0.1:8443")]
    root = qt_env.webengine_environment({}, resolve=resolve, is_root=True, platform="linux")
    assert root == {
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
        "QTWEBENGINE_CHROMIUM_FLAGS": (
            '"--host-resolver-rules=MAP login.microsoftonline.com:443 127.0.0.1:8443"'
        ),
    }
    assert qt_env.webengine_environment({}, is_root=False, platform="linux") == {}
    assert qt_env.webengine_environment({}, is_root=True, platform="win32") == {}


# -- mailsetup signin, in this process, with the window on Xvfb --------------------------------


@dataclass
class _Found:
    """The window the command opened, as the driving helpers above see a SignInWindow."""

    view: Any
    page: Any


def _find_window() -> _Found | None:
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "signInWindow" and widget.isVisible():
            return _Found(widget.view, widget.view.page())
    return None


@pytest.mark.parametrize("consent", ["accept", "cancel", "close", "unknown-app"])
def test_mailsetup_signin_in_its_window(
    qtbot: QtBot,
    browser: Any,
    account: Account,
    idp_state: IdentityProvider,
    secret_keyring: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    consent: str,
) -> None:
    """``mailsetup signin ADDRESS --json`` opens the window; the person (this test, once the
    window is up) signs in; the command stores the tokens and prints the account, or exits 5
    when the permissions are declined."""
    from PySide6.QtCore import QTimer

    from app.cli import main

    client_id = idp_state.default_client_id
    if consent == "unknown-app":  # a client ID Microsoft does not know: its error page
        client_id = "00000000-0000-4000-8000-00000000dead"
    config = tmp_path / "config.toml"
    config.write_text(
        "[microsoft]\n"
        f'client_id = "{client_id}"\n'
        f'authority = "https://login.microsoftonline.com/{idp_state.tenant_id}"\n'
        f"[network]\nca_bundle = [{json.dumps(str(idp_state.ca_path))}]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MAILSETUP_CONFIG", str(config))
    driven: list[str] = []

    def person() -> None:
        qtbot.waitUntil(lambda: _find_window() is not None, timeout=WAIT_MS)
        window = _find_window()
        assert window is not None
        if consent in ("close", "unknown-app"):  # the person closes the window instead
            wait_for_element(qtbot, window, "username" if consent == "close" else "error-code")
            qtbot.wait(300)  # the window reads the page's error once it has loaded
            window.view.window().close()
            driven.append("done")
            return
        fill_sign_in(qtbot, window, account.upn, PASSWORD)
        wait_for_element(qtbot, window, consent)
        js(qtbot, window, f"document.getElementById('{consent}').click(); return true;")
        driven.append("done")

    QTimer.singleShot(0, person)
    resolve = f"login.microsoftonline.com:443:127.0.0.1:{idp_state.port}"
    code = main.run(["signin", account.mailbox, "--json", "--resolve", resolve])
    out, err = capsys.readouterr()
    assert driven == ["done"]
    qtbot.wait(100)
    assert _find_window() is None  # closed and freed
    if consent != "accept":
        expected = {"cancel": "aadsts.65004", "close": "cancelled", "unknown-app": "aadsts.700016"}
        assert code == (3 if consent == "unknown-app" else 5), (out, err)
        assert json.loads(out)["error"]["code"] == expected[consent]
        return
    assert code == 0, (out, err)
    answer = json.loads(out)
    assert answer["username"] == account.upn and answer["address"] == account.mailbox
    assert answer["method"] == "embedded" and answer["persistent"] is True
    assert answer["authority"] == f"https://login.microsoftonline.com/{idp_state.tenant_id}"
    secrets = [t.token for t in idp_state.tokens(account.upn)["access"]]
    assert secrets and not [s for s in secrets if s in out + err]
