"""The sign-in window: Microsoft's sign-in pages in an embedded browser (Qt WebEngine).

``SignInWindow`` (a QObject; its ``widget``, a :class:`SignInPanel`, is the window) shows the
authorization URL of an OAuth flow in a ``QWebEngineView`` with its own off-the-record profile
(nothing is written to disk: no cookies, no cache), the page's host and a padlock above it, and
a Cancel button below; ``Accept-Language`` follows the UI language. It ends in exactly one of
three signals:

- ``redirected(url)``: the sign-in reached the redirect URI. The navigation is caught in
  ``acceptNavigationRequest`` *before* it loads and refused, so the code never reaches any
  server; only that URL (code and state) goes to the caller, who redeems it.
- ``cancelled()``: Cancel, Esc, or the window closed.
- ``failed(code)``: the page could not be loaded, or its certificate was refused (never
  accepted), or a sign-in page was not protected by HTTPS. ``code`` is a finding code
  (``tls.untrusted``, ``dns.not-found``, ``signin.load-failed`` ...); ``window.failure`` holds
  the :class:`~app.core.errors.SetupError` with the whole story.

Navigation policy (:func:`decide`): server redirects, form posts, frames and scripts of the
sign-in flow pass, wherever they go (federated sign-in hops through ADFS, Okta, Duo,
login.live.com). A link the person clicks in the page itself, to a host that is not one of
Microsoft's sign-in hosts (:func:`is_sign_in_host`), the tenant's federation host, the
configured extra hosts or the host of the page it is on, opens in the system browser instead
(``open_external``, injectable).
Chromium reports a script's ``location.href = ...`` as a clicked link too; it is treated as a
click only right after a mouse press, key press or touch in the page.

Importing this module imports Qt WebEngine; call :func:`app.ui.qt_env.prepare_webengine` first.
"""

from __future__ import annotations

import re
import signal as signal_module
import time
from collections.abc import Callable, Iterable
from enum import Enum
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from PySide6.QtCore import (
    QChildEvent,
    QCoreApplication,
    QDateTime,
    QEvent,
    QEventLoop,
    QObject,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QDesktopServices,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QShortcut,
)
from PySide6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEngineDownloadRequest,
    QWebEngineLoadingInfo,
    QWebEngineNewWindowRequest,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import (
    ConnectError,
    ConnectFailure,
    DeadlineError,
    DNSError,
    Fault,
    Fixer,
    NetworkError,
    SetupError,
    TLSError,
    TLSFailure,
)
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

#: Microsoft's own sign-in hosts besides the clouds' login hosts (resources/microsoft/
#: clouds.toml): personal accounts, seamless single sign-on, and the CDNs of the sign-in pages.
MICROSOFT_SIGN_IN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.live.com",
        "login.windows.net",
        "account.live.com",
        "device.login.microsoftonline.com",
        "autologon.microsoftazuread-sso.com",
        "aadcdn.msauth.net",
        "aadcdn.msftauth.net",
        "aadcdn.msauthimages.net",
        "aadcdn.msftauthimages.net",
        "logincdn.msauth.net",
        "logincdn.msftauth.net",
        "lgincdn.msauth.net",
        "lgincdn.msftauth.net",
        "acctcdn.msauth.net",
        "acctcdn.msftauth.net",
    }
)

#: How long after a click or key press in the page a "link clicked" navigation counts as the
#: person's own (Chromium gives script navigations the same type).
USER_GESTURE_SECONDS = 2.0

_ACCEPT_LANGUAGE: dict[str, str] = {
    "en": "en-US,en;q=0.9",
    "ja": "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7",
}

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ABORTED = -3  # net::ERR_ABORTED: a load replaced by another, or one this window refused

# Chromium's net error codes with a finding of their own (net/base/net_error_list.h).
_DNS_ERRORS = frozenset({-105, -137})  # NAME_NOT_RESOLVED, NAME_RESOLUTION_FAILED
_CONNECT_ERRORS = {
    -102: ConnectFailure.REFUSED,  # CONNECTION_REFUSED
    -118: ConnectFailure.TIMEOUT,  # CONNECTION_TIMED_OUT
    -109: ConnectFailure.UNREACHABLE,  # ADDRESS_UNREACHABLE
    -106: ConnectFailure.UNREACHABLE,  # INTERNET_DISCONNECTED
    -101: ConnectFailure.CLOSED,  # CONNECTION_RESET
    -100: ConnectFailure.CLOSED,  # CONNECTION_CLOSED
    -324: ConnectFailure.CLOSED,  # EMPTY_RESPONSE
}
_TIMED_OUT = -7

#: A sign-in error as Microsoft's error pages show it, and the page text it is looked for in
#: (what the person sees: no scripts, no hidden elements).
_AADSTS_TEXT = re.compile(r"AADSTS\d{4,}[^\n]{0,400}")
_VISIBLE_TEXT = "document.body ? document.body.innerText : ''"


class Decision(Enum):
    """What the window does with a navigation."""

    LOAD = "load"  # let the page load it
    REDIRECT = "redirect"  # the redirect URI: refuse it and hand the URL to the caller
    EXTERNAL = "external"  # refuse it and open it in the system browser
    INSECURE = "insecure"  # refuse it and fail: a main-frame page without HTTPS


class Kind(Enum):
    """The kind of a navigation, as far as the policy cares."""

    CLICK = "click"  # a link the person clicked in the main frame
    REDIRECT = "redirect"  # a server redirect
    OTHER = "other"  # typed, form post, script, reload, back/forward


def _host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


@cache
def _cloud_login_hosts() -> frozenset[str]:
    from app.core.discovery.microsoft.clouds import default_clouds

    return default_clouds().login_hosts


def _host_matches(host: str, pattern: str) -> bool:
    pattern = pattern.strip().rstrip(".").lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def is_sign_in_host(host: str, extra: Iterable[str] = ()) -> bool:
    """Whether ``host`` belongs to the sign-in: Microsoft's sign-in hosts in every cloud, or
    one of ``extra`` (the tenant's federation host, configured ``allowed_hosts``; an entry
    ``*.example.com`` allows the subdomains of example.com)."""
    name = host.rstrip(".").lower()
    if not name:
        return False
    if name in MICROSOFT_SIGN_IN_HOSTS or name in _cloud_login_hosts():
        return True
    return any(_host_matches(name, pattern) for pattern in extra)


def matches_redirect(url: str, redirect_uri: str) -> bool:
    """Whether ``url`` goes to ``redirect_uri``: same scheme, host, port and path (an empty
    path is ``/``); the query and fragment are what the sign-in adds."""
    got, want = urlsplit(url), urlsplit(redirect_uri)
    if got.scheme.lower() != want.scheme.lower() or _host_of(url) != _host_of(redirect_uri):
        return False
    try:
        got_port = got.port or _DEFAULT_PORTS.get(got.scheme.lower())
        want_port = want.port or _DEFAULT_PORTS.get(want.scheme.lower())
    except ValueError:
        return False
    return got_port == want_port and (got.path or "/") == (want.path or "/")


def decide(
    url: str,
    kind: Kind,
    *,
    main_frame: bool,
    redirect_uri: str,
    allowed_hosts: Iterable[str] = (),
) -> Decision:
    """What the sign-in window does with a navigation to ``url`` (see the module docstring)."""
    if matches_redirect(url, redirect_uri):
        return Decision.REDIRECT if main_frame else Decision.EXTERNAL
    if not main_frame:
        return Decision.LOAD
    scheme = urlsplit(url).scheme.lower()
    clicked_out = kind is Kind.CLICK and not is_sign_in_host(_host_of(url), allowed_hosts)
    if clicked_out and scheme in ("http", "https"):
        return Decision.EXTERNAL
    if scheme == "http":
        return Decision.INSECURE
    return Decision.LOAD


def accept_language(language: Language) -> str:
    """The ``Accept-Language`` header for the UI language."""
    return _ACCEPT_LANGUAGE.get(language, _ACCEPT_LANGUAGE[DEFAULT_LANGUAGE])


# -- failures -------------------------------------------------------------------------------------


def certificate_failure(error: QWebEngineCertificateError) -> TLSError:
    """The finding for a certificate the page presented (the window refuses it)."""
    host = error.url().host() or error.url().toString()
    kind = error.type()
    types = QWebEngineCertificateError.Type
    if kind == types.CertificateCommonNameInvalid:
        failure = TLSFailure.WRONG_HOST
    elif kind == types.CertificateAuthorityInvalid:
        chain = error.certificateChain()
        failure = (
            TLSFailure.SELF_SIGNED if chain and chain[0].isSelfSigned() else TLSFailure.UNTRUSTED
        )
    elif kind == types.CertificateDateInvalid:
        chain = error.certificateChain()
        early = bool(chain) and chain[0].effectiveDate() > QDateTime.currentDateTimeUtc()
        failure = TLSFailure.NOT_YET_VALID if early else TLSFailure.EXPIRED
    else:
        failure = TLSFailure.HANDSHAKE
    return TLSError(
        host,
        failure,
        checked=Text("signin.check.page", {"host": host}),
        detail={"host": host, "url": _safe_url(error.url()), "browser": error.description()},
    )


def _safe_url(url: QUrl) -> str:
    """``url`` without its query and fragment (they may hold a code or a login hint)."""
    parts = urlsplit(url.toString())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def load_failure(url: QUrl, code: int, description: str) -> NetworkError:
    """The finding for a sign-in page that did not load (Chromium's net error ``code``)."""
    host = url.host() or url.toString()
    port = url.port(_DEFAULT_PORTS.get(url.scheme().lower(), 443))
    detail: dict[str, str | int] = {
        "host": host,
        "url": _safe_url(url),
        "browser": description,
        "net_error": code,
    }
    checked = Text("signin.check.page", {"host": host})
    if code in _DNS_ERRORS:
        return DNSError(host, checked=checked, detail=detail)
    if code in _CONNECT_ERRORS:
        return ConnectError(host, port, _CONNECT_ERRORS[code], checked=checked, detail=detail)
    if code == _TIMED_OUT:
        return DeadlineError(host, 30.0, checked=checked, detail=detail)
    return NetworkError(
        host,
        Text("signin.error.load-failed", {"host": host, "error": description or str(code)}),
        code="signin.load-failed",
        checked=checked,
        detail=detail,
    )


def insecure_failure(url: QUrl) -> NetworkError:
    host = url.host() or url.toString()
    return NetworkError(
        host,
        Text("signin.error.insecure", {"host": host}),
        code="signin.insecure-page",
        fault=Fault.LOCAL_NETWORK,
        fixer=Fixer.ADMIN,
        fix=Text("signin.error.insecure.fix"),
        checked=Text("signin.check.page", {"host": host}),
        detail={"host": host, "url": _safe_url(url)},
    )


# -- the page ----------------------------------------------------------------------------------


_NAV = QWebEnginePage.NavigationType


class NavigationOwner(Protocol):
    """Whoever decides where a page may go (the sign-in window, the iCloud panel)."""

    def navigation_requested(
        self, url: QUrl, navigation: QWebEnginePage.NavigationType, main_frame: bool
    ) -> bool: ...


class SignInPage(QWebEnginePage):
    """The page: asks its owner what to do with every navigation."""

    def __init__(
        self, profile: QWebEngineProfile, window: NavigationOwner, parent: QObject
    ) -> None:
        super().__init__(profile, parent)
        self._window = window

    def acceptNavigationRequest(
        self,
        url: QUrl | str,
        type: QWebEnginePage.NavigationType,
        isMainFrame: bool,
    ) -> bool:
        target = url if isinstance(url, QUrl) else QUrl(url)
        return self._window.navigation_requested(target, type, isMainFrame)


def private_page(
    owner: NavigationOwner, language: Language, view: QWebEngineView
) -> tuple[QWebEngineProfile, SignInPage]:
    """A page for ``view`` on an off-the-record profile of its own: nothing is written to disk
    (no cookies, no cache), ``Accept-Language`` follows the UI language, permissions (camera,
    location...) and downloads are refused, plugins are off and scripts cannot open windows;
    ``owner`` decides every navigation. The caller connects the page's signals, sets it on the
    view, and gives the profile its parent *last*: Qt deletes children in order, and a profile
    must outlive its pages (the page is the view's child)."""
    profile = QWebEngineProfile()  # no storage name: off the record, kept in memory only
    profile.setHttpAcceptLanguage(accept_language(language))
    profile.setPersistentPermissionsPolicy(
        QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime
    )
    profile.downloadRequested.connect(_refuse_download)
    page = SignInPage(profile, owner, view)
    settings = page.settings()
    settings.setAttribute(QWebEngineSettings.WebAttribute.PluginsEnabled, False)
    settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False)
    page.permissionRequested.connect(_refuse_permission)
    return profile, page


def _refuse_permission(permission: QWebEnginePermission) -> None:
    permission.deny()  # camera, location, notifications ...: never needed to sign in


def _refuse_download(download: QWebEngineDownloadRequest) -> None:
    download.cancel()


def _padlock(size: int, ratio: float, colour: QColor) -> QPixmap:
    """A small closed padlock, drawn (no icon font or theme needed)."""
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(colour, size * 0.12)
    painter.setPen(pen)
    shackle = QRectF(size * 0.28, size * 0.08, size * 0.44, size * 0.5)
    painter.drawArc(shackle, 0, 180 * 16)
    painter.drawLine(QPointF(shackle.left(), size * 0.33), QPointF(shackle.left(), size * 0.48))
    painter.drawLine(QPointF(shackle.right(), size * 0.33), QPointF(shackle.right(), size * 0.48))
    body = QPainterPath()
    body.addRoundedRect(QRectF(size * 0.16, size * 0.44, size * 0.68, size * 0.5), 2, 2)
    painter.fillPath(body, colour)
    painter.end()
    return pixmap


class _PageInput(QObject):
    """An event filter on the view and each widget Qt WebEngine puts inside it (the page's
    input goes to those): notes when the person last pressed a mouse button or a key or touched
    the page, and reports Esc (``escape``), which the page would otherwise keep for itself."""

    escape = Signal()

    _KINDS = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin})

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.last = float("-inf")
        view.installEventFilter(self)
        for child in view.findChildren(QWidget):
            child.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in self._KINDS:
            self.last = time.monotonic()
            if (
                isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape
                and event.modifiers() == Qt.KeyboardModifier.NoModifier
            ):
                self.escape.emit()
                return True
        elif kind == QEvent.Type.ChildAdded and isinstance(event, QChildEvent):
            child = event.child()
            if child is not None and child.isWidgetType():
                child.installEventFilter(self)
        return False

    def recent(self) -> bool:
        return time.monotonic() - self.last <= USER_GESTURE_SECONDS


# -- the window --------------------------------------------------------------------------------


class SignInPanel(QWidget):
    """What the person sees: host and padlock, the page, a status line and Cancel. A window of
    its own unless given a parent. Closing it (the window manager's close button) is reported
    through ``closing``."""

    closing = Signal()

    def __init__(self, language: Language, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window if parent is None else Qt.WindowType.Widget)
        self.language: Language = language
        self.setObjectName("signInWindow")
        self.setWindowTitle(self.t("signin.window.title"))
        self.setAccessibleName(self.t("signin.window.title"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        bar = QWidget(self)
        bar.setObjectName("addressBar")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(10, 6, 10, 6)
        self.padlock = QLabel(bar)
        self.padlock.setObjectName("padlock")
        self.padlock.setFixedSize(18, 18)
        self.padlock.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.host = QLabel(bar)
        self.host.setObjectName("host")
        self.host.setAccessibleName(self.t("signin.window.address"))
        self.host.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.host.font()
        font.setBold(True)
        self.host.setFont(font)
        bar_layout.addWidget(self.padlock)
        bar_layout.addWidget(self.host, 1)
        layout.addWidget(bar)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("loading")
        self.progress.setAccessibleName(self.t("signin.window.loading"))
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(3)
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # no jump of the page when it hides
        self.progress.setSizePolicy(policy)
        layout.addWidget(self.progress)

        # A web view in a layout may stay invisible without a size policy and a stretch.
        self.view = QWebEngineView(self)
        self.view.setObjectName("page")
        self.view.setAccessibleName(self.t("signin.window.page"))
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.setMinimumSize(400, 400)
        layout.addWidget(self.view, 1)

        footer = QWidget(self)
        footer.setObjectName("footer")
        footer_layout = QHBoxLayout(footer)
        footer_layout.setContentsMargins(10, 8, 10, 8)
        self.status = QLabel(self.t("signin.window.hint"), footer)
        self.status.setObjectName("status")
        self.status.setAccessibleName(self.t("signin.window.status"))
        self.status.setWordWrap(True)
        self.cancel_button = QPushButton(self.t("signin.window.cancel"), footer)
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setAccessibleName(self.t("signin.window.cancel"))
        self.cancel_button.setAccessibleDescription(self.t("signin.window.cancel.description"))
        self.cancel_button.setAutoDefault(False)
        footer_layout.addWidget(self.status, 1)
        footer_layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(footer)

        self.escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.escape.setContext(Qt.ShortcutContext.WindowShortcut)
        self.resize(560, 720)

    def t(self, key: str, **params: str) -> str:
        """Text ``key`` in the window's language."""
        return render(Text(key, params), self.language)

    def show_address(self, url: QUrl) -> None:
        """Show ``url``'s host, with a padlock for HTTPS and a warning sign otherwise."""
        self.host.setText(url.host() or url.toString())
        if url.scheme().lower() == "https":
            ratio = self.devicePixelRatioF() or 1.0
            colour = self.palette().color(self.foregroundRole())
            self.padlock.setPixmap(_padlock(16, ratio, colour))
            label = self.t("signin.window.secure")
        else:
            self.padlock.setPixmap(QPixmap())
            self.padlock.setText("!")
            label = self.t("signin.window.not-secure")
        self.padlock.setToolTip(label)
        self.padlock.setAccessibleName(label)

    def show_progress(self, percent: int) -> None:
        """The loading bar: shown while a page loads."""
        self.progress.setValue(percent)
        self.progress.setVisible(percent < 100)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)


class SignInWindow(QObject):
    """The sign-in window (see the module docstring): the controller of a :class:`SignInPanel`
    (``widget``), its page and its off-the-record profile.

    ``open_external(url)`` opens a URL in the system browser (default:
    ``QDesktopServices.openUrl``). The page starts loading at once; the window appears with
    ``show()``. ``outcome`` is None until one of the signals has been sent, then
    ``"redirected"``, ``"cancelled"`` or ``"failed"``; ``redirect_url`` and ``failure`` keep
    what went with it, ``opened_outside`` the URLs given to the system browser, ``page_error``
    the sign-in error the page shown last displays (``AADSTS...``), if any: Microsoft shows
    some errors (an unknown application, a redirect URI that is not registered, admin approval
    needed) on its page instead of sending them to the redirect URI.
    """

    redirected = Signal(str)
    cancelled = Signal()
    failed = Signal(str)

    def __init__(
        self,
        flow_auth_uri: str,
        redirect_uri: str,
        allowed_hosts: Iterable[str] = (),
        language: Language = DEFAULT_LANGUAGE,
        *,
        open_external: Callable[[QUrl], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__()
        self.auth_uri = flow_auth_uri
        self.redirect_uri = redirect_uri
        self.allowed_hosts = tuple(allowed_hosts)
        self.language: Language = language
        self.outcome: str | None = None
        self.redirect_url: str | None = None
        self.failure: SetupError | None = None
        self.opened_outside: list[str] = []
        self.page_error: str | None = None
        self._open_external = open_external or QDesktopServices.openUrl

        self.widget = SignInPanel(language, parent)
        self.view = self.widget.view
        self.cancel_button = self.widget.cancel_button
        self.widget.cancel_button.clicked.connect(self.cancel)
        self.widget.escape.activated.connect(self.cancel)
        self.widget.closing.connect(self._closing)

        profile, self.page = private_page(self, language, self.view)
        self.profile = profile
        self.page.certificateError.connect(self._certificate_error)
        self.page.loadingChanged.connect(self._loading_changed)
        self.page.loadProgress.connect(self.widget.show_progress)
        self.page.urlChanged.connect(self._url_changed)
        self.page.newWindowRequested.connect(self._new_window)
        self.view.setPage(self.page)
        profile.setParent(self.widget)  # last (see private_page)

        self._input = _PageInput(self.view)
        self._input.escape.connect(self.cancel)
        self.widget.show_address(QUrl(flow_auth_uri))
        self.page.load(QUrl(flow_auth_uri))

    # -- the widget --------------------------------------------------------------------------

    def show(self) -> None:
        self.widget.show()

    def close(self) -> None:
        self.widget.close()

    def isVisible(self) -> bool:
        return self.widget.isVisible()

    def dispose(self) -> None:
        """Close the window (cancelling if nothing ended it yet) and free it: the widget with
        the view and its page, then the profile (Qt deletes them at the next turn of the event
        loop)."""
        self.widget.close()
        self.widget.deleteLater()

    def _url_changed(self, url: QUrl) -> None:
        if self.outcome is None:
            self.widget.show_address(url)

    # -- what the page does --------------------------------------------------------------------

    def _kind(self, navigation: QWebEnginePage.NavigationType, main_frame: bool) -> Kind:
        if navigation == _NAV.NavigationTypeRedirect:
            return Kind.REDIRECT
        if navigation == _NAV.NavigationTypeLinkClicked and main_frame and self._input.recent():
            return Kind.CLICK
        return Kind.OTHER

    def navigation_requested(
        self, url: QUrl, navigation: QWebEnginePage.NavigationType, main_frame: bool
    ) -> bool:
        """The page's question: load ``url``? (See :func:`decide`.)"""
        if self.outcome is not None:
            return False
        text = url.toString(QUrl.ComponentFormattingOption.FullyEncoded)
        here = self.page.url().host()  # the flow brought the page there: its links may stay
        decision = decide(
            text,
            self._kind(navigation, main_frame),
            main_frame=main_frame,
            redirect_uri=self.redirect_uri,
            allowed_hosts=(*self.allowed_hosts, *((here,) if here else ())),
        )
        if decision is Decision.REDIRECT:
            self._finish("redirected", redirect_url=text)
        elif decision is Decision.EXTERNAL and not matches_redirect(text, self.redirect_uri):
            self._open_outside(url)  # (a frame going to the redirect URI is only refused)
        elif decision is Decision.INSECURE:
            self._finish("failed", failure=insecure_failure(url))
        return decision is Decision.LOAD

    def _open_outside(self, url: QUrl) -> None:
        self.opened_outside.append(url.toString())
        host = url.host() or url.toString()
        self.widget.status.setText(self.widget.t("signin.window.opened-outside", host=host))
        self._open_external(url)

    def _new_window(self, request: QWebEngineNewWindowRequest) -> None:
        """A link that opens a new window (target=_blank): the person's own clicks open in
        the system browser, or in this window for a sign-in host; others are dropped."""
        url = request.requestedUrl()
        if self.outcome is not None or not request.isUserInitiated():
            return
        if url.scheme().lower() not in ("http", "https"):
            return
        if is_sign_in_host(url.host(), self.allowed_hosts):
            self.page.load(url)
        else:
            self._open_outside(url)

    def _certificate_error(self, error: QWebEngineCertificateError) -> None:
        error.rejectCertificate()  # never accepted, whatever the error
        if self.outcome is None:
            self._finish("failed", failure=certificate_failure(error))

    def _loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        if self.outcome is not None:
            return
        status = info.status()
        domains = QWebEngineLoadingInfo.ErrorDomain
        domain = info.errorDomain()
        if status == QWebEngineLoadingInfo.LoadStatus.LoadSucceededStatus or (
            status == QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus
            and domain == domains.HttpStatusCodeDomain
        ):
            self._read_page_error()
        if status != QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus:
            return
        if domain == domains.HttpStatusCodeDomain:
            return  # the server's own error page (an AADSTS message): the person reads it
        if info.errorCode() == _ABORTED or domain == domains.NoErrorDomain:
            return  # replaced by another load, or refused here
        if domain == domains.CertificateErrorDomain:
            return  # reported by certificateError with its details
        self._finish(
            "failed", failure=load_failure(info.url(), info.errorCode(), info.errorString())
        )

    def _read_page_error(self) -> None:
        """Keep the sign-in error the page shows (``AADSTS700016: Application ... was not
        found``), or None: if the person then cancels, the caller can say what went wrong."""

        def shown(value: object) -> None:
            found = _AADSTS_TEXT.search(value if isinstance(value, str) else "")
            self.page_error = found.group(0).strip() if found else None

        self.page.runJavaScript(_VISIBLE_TEXT, 0, shown)

    # -- ending ----------------------------------------------------------------------------

    def cancel(self) -> None:
        """End the flow as cancelled (Cancel, Esc); the window closes."""
        self._finish("cancelled")

    def _closing(self) -> None:
        self._finish("cancelled")

    def _finish(
        self, outcome: str, *, redirect_url: str | None = None, failure: SetupError | None = None
    ) -> None:
        if self.outcome is not None:
            return
        self.outcome = outcome
        self.redirect_url = redirect_url
        self.failure = failure
        self.widget.close()
        if outcome == "redirected" and redirect_url is not None:
            self.redirected.emit(redirect_url)
        elif outcome == "failed" and failure is not None:
            self.failed.emit(failure.code)
        else:
            self.cancelled.emit()


# -- running it on its own ---------------------------------------------------------------------

#: The most the sign-in window waits for the person (then it cancels), in seconds.
SIGN_IN_LIMIT_SECONDS = 900


def run_window(
    auth_uri: str,
    redirect_uri: str,
    allowed_hosts: Iterable[str],
    language: Language,
    *,
    open_external: Callable[[QUrl], object] | None = None,
    limit_seconds: float = SIGN_IN_LIMIT_SECONDS,
) -> tuple[str, str | SetupError | None]:
    """Show a :class:`SignInWindow` until it ends (for ``mailsetup signin``), creating the
    QApplication when there is none. Returns ``("redirected", url)``, ``("failed", error)`` or
    ``("cancelled", page_error)`` (the AADSTS error the page showed, or None); Ctrl+C and
    ``limit_seconds`` without an end cancel."""
    application = QApplication.instance()
    if application is None:
        from app.ui.launch import create_application, identify

        application = create_application(["mailsetup"])
        identify(application)
    window = SignInWindow(
        auth_uri, redirect_uri, allowed_hosts, language, open_external=open_external
    )
    loop = QEventLoop()
    for signal in (window.redirected, window.cancelled, window.failed):
        signal.connect(loop.quit)
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(window.cancel)
    limit.start(int(limit_seconds * 1000))
    waker = QTimer()  # Python runs signal handlers (Ctrl+C) only when it gets control
    waker.timeout.connect(lambda: None)
    waker.start(200)
    interrupted = signal_module.getsignal(signal_module.SIGINT)
    try:
        signal_module.signal(signal_module.SIGINT, lambda *_: window.cancel())
    except ValueError:  # not the main thread: no Ctrl+C handling
        interrupted = None
    try:
        window.show()
        if window.outcome is None:
            loop.exec()
    finally:
        if interrupted is not None:
            signal_module.signal(signal_module.SIGINT, interrupted)
        waker.stop()
        limit.stop()
        window.dispose()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if window.outcome == "redirected":
        return "redirected", window.redirect_url
    if window.outcome == "failed":
        return "failed", window.failure
    return "cancelled", window.page_error
