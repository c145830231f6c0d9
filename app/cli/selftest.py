"""``mailsetup --self-test``: is this installation complete, and does it work here?

Run from source or from a frozen bundle (PyInstaller), it checks, one line each:

- ``resources``: the data files the program cannot start without, and in a bundle every file
  of the build's list (``resources/FILES.txt``, written by ``packaging/build.py`` with
  :func:`file_list`: path, size and SHA-256) plus the version stamp ``version.txt``;
- ``texts``, ``providers``, ``knowledge``, ``clouds``: each catalog loads and validates
  (texts in English and Japanese);
- ``config``: the built-in defaults and the build's publisher settings load, then the real
  layers of this machine (user, ``MAILSETUP_CONFIG``, organisation file);
- ``translations``: Qt's own Japanese translation, Qt WebEngine's ``en-US`` and ``ja``
  locales, and every compiled translation of the program (``resources/translations/*.qm``);
- ``backends``: the keyring backends and the msal-extensions stores of this operating system,
  and the DNS record types, which the program imports by name (a bundle must carry them);
- ``offline``: detection works with no network at all (``taro@icloud.com`` from the catalog);
- ``window`` and ``webengine``: Qt opens the main window, and Qt WebEngine starts its helper
  process, loads a local page and runs its script.

It prints a short report and exits 0 when every check passed, 6 (``ExitCode.ENVIRONMENT``)
otherwise. It never opens a network connection.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from app import __version__
from app.cli.exitcodes import ExitCode

#: The list of every resource file a build ships, written into the bundle's resources.
FILE_LIST = "FILES.txt"
#: The version stamp a build writes into its resources (read by ``app._version``).
VERSION_STAMP = "version.txt"

#: Files the program needs in every way it is run (relative to ``resources/``).
REQUIRED_FILES: tuple[str, ...] = (
    "MANIFEST.txt",
    "config/defaults.toml",
    "config/publisher.toml",
    "microsoft/clouds.toml",
    "known_domains.txt",
    "texts/core.toml",
)
#: Folders that must hold at least one catalog file.
REQUIRED_GLOBS: tuple[str, ...] = ("texts/*.toml", "providers/*.toml", "knowledge/*.toml")

#: Entry point names of the keyring backends each system needs (keyring finds them by name).
KEYRING_BACKENDS: dict[str, tuple[str, ...]] = {
    "win32": ("Windows", "chainer"),
    "darwin": ("macOS", "chainer"),
    "linux": ("SecretService", "KWallet", "libsecret", "chainer"),
}
#: msal-extensions modules each system's encrypted token cache uses.
MSAL_EXTENSION_MODULES: dict[str, tuple[str, ...]] = {
    "win32": ("msal_extensions.windows",),
    "darwin": ("msal_extensions.osx",),
    "linux": ("msal_extensions.libsecret",),
}
#: The address detected with the network switched off.
OFFLINE_ADDRESS = "taro@icloud.com"
OFFLINE_PROVIDER = "icloud"
#: How long Qt may take to show the window and to load the page (seconds).
QT_DEADLINE = 30.0
_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>loading</title></head>"
    "<body><p>mailsetup self-test</p>"
    "<script>document.title = 'self-test ' + (6 * 7);</script></body></html>"
)
_PAGE_TITLE = "self-test 42"


class CheckFailed(Exception):
    """A check found a problem; the message names what is missing or broken."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    ms: int


# --- the list of a build's files ----------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_list(root: Path) -> str:
    """The text of ``FILES.txt`` for the resources folder ``root``: one line per file
    (``sha256  size  path``, ``/`` separators, sorted), the list itself excepted."""
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative != FILE_LIST:
            lines.append(f"{_digest(path)}  {path.stat().st_size}  {relative}")
    return "\n".join(lines) + "\n"


def _listed_problems(root: Path, listing: str) -> tuple[int, list[str]]:
    """(how many files the list names, what is missing or changed)."""
    problems: list[str] = []
    count = 0
    for line in listing.splitlines():
        if not line.strip():
            continue
        digest, _size, relative = line.split(None, 2)
        count += 1
        path = root / relative
        if not path.is_file():
            problems.append(f"missing {relative}")
        elif _digest(path) != digest:
            problems.append(f"changed {relative}")
    return count, problems


# --- the checks -----------------------------------------------------------------------------------


def check_resources() -> str:
    from app.core.resources import resources_root

    try:
        root = resources_root()
    except FileNotFoundError as error:
        raise CheckFailed(str(error)) from error
    problems = [f"missing {name}" for name in REQUIRED_FILES if not (root / name).is_file()]
    problems += [f"no {pattern}" for pattern in REQUIRED_GLOBS if not any(root.glob(pattern))]
    listing = root / FILE_LIST
    count = sum(1 for p in root.rglob("*") if p.is_file())
    if listing.is_file():
        count, listed = _listed_problems(root, listing.read_text("utf-8"))
        problems += listed
    elif getattr(sys, "frozen", False):
        problems.append(f"missing {FILE_LIST} (the build's list of files)")
    if getattr(sys, "frozen", False):
        stamp = root / VERSION_STAMP
        if not stamp.is_file():
            problems.append(f"missing {VERSION_STAMP}")
        elif stamp.read_text("utf-8").strip() != __version__:
            problems.append(f"{VERSION_STAMP} says {stamp.read_text('utf-8').strip()}")
    if problems:
        raise CheckFailed(f"in {root}: " + "; ".join(problems))
    return f"{count} files in {root}"


def check_texts() -> str:
    from app.core.texts import Text, default_catalog

    catalog = default_catalog()
    if catalog.problems:
        raise CheckFailed("; ".join(catalog.problems[:5]))
    sample = Text("address.empty")
    english, japanese = catalog.render(sample, "en"), catalog.render(sample, "ja")
    if not english or not japanese or english == japanese:
        raise CheckFailed("texts/core.toml has no English and Japanese address.empty")
    return f"{len(catalog.entries)} texts in English and Japanese"


def check_providers() -> str:
    from app.core.discovery.catalog import default_catalog

    return f"{len(default_catalog())} providers"


def check_knowledge() -> str:
    from app.core.diagnostics.knowledge import entries

    return f"{len(entries())} known failures"


def check_clouds() -> str:
    from app.core.discovery.microsoft.clouds import default_clouds

    table = default_clouds()
    return f"Microsoft clouds table loaded ({type(table).__name__})"


def check_config() -> str:
    from app.core.config import load_config

    with tempfile.TemporaryDirectory(prefix="mailsetup-selftest-") as folder:
        shipped = load_config(environ={}, machine_paths=(), user_path=Path(folder) / "none.toml")
    publisher = "a publisher client ID" if shipped.microsoft.client_id else "no publisher client ID"
    here = load_config()
    layers = ", ".join(source.kind.value for source in here.sources)
    return f"built in: defaults, {publisher}; on this machine: {layers}"


def _qt_translations_dir() -> Path:
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def check_translations() -> str:
    from PySide6.QtCore import QTranslator

    from app.core.resources import resource_path

    qt_dir = _qt_translations_dir()
    files = [qt_dir / "qtbase_ja.qm", *sorted(resource_path("translations").glob("*.qm"))]
    problems: list[str] = []
    for path in files:
        translator = QTranslator()
        if not translator.load(str(path)):
            problems.append(f"cannot load {path}")
    problems += [
        f"missing {qt_dir / 'qtwebengine_locales' / name}"
        for name in ("en-US.pak", "ja.pak")
        if not (qt_dir / "qtwebengine_locales" / name).is_file()
    ]
    sources = sorted(resource_path("translations").glob("*.ts"))
    problems += [
        f"{ts.name} is not compiled" for ts in sources if not ts.with_suffix(".qm").exists()
    ]
    if problems:
        raise CheckFailed("; ".join(problems))
    return (
        f"Qt's Japanese, {len(files) - 1} of the program's translations, "
        "WebEngine's en-US and ja locales"
    )


def _system() -> str:
    return "linux" if sys.platform.startswith("linux") else sys.platform


def check_backends() -> str:
    from importlib.metadata import entry_points

    import dns.rdata

    wanted = KEYRING_BACKENDS.get(_system(), ("chainer",))
    found = {point.name: point for point in entry_points(group="keyring.backends")}
    problems = [f"keyring backend {name} is not registered" for name in wanted if name not in found]
    for name in wanted:
        if name in found:
            try:
                found[name].load()
            except ImportError as error:
                problems.append(f"keyring backend {name}: {error}")
    try:
        importlib.import_module("msal_extensions.persistence")
    except ImportError as error:
        problems.append(f"msal_extensions.persistence: {error}")
    # present, not imported: libsecret's needs PyGObject, which the program may go without
    for module in MSAL_EXTENSION_MODULES.get(_system(), ()):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} is missing")
    for rdtype in ("MX", "SRV", "TXT", "CNAME", "A", "AAAA"):
        try:
            dns.rdata.from_text("IN", rdtype, _RDATA[rdtype])
        except Exception as error:  # a missing dns.rdtypes module surfaces as any error
            problems.append(f"DNS record type {rdtype}: {error}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"keyring {', '.join(wanted)}; msal-extensions; DNS record types"


_RDATA = {
    "MX": "10 mail.example.test.",
    "SRV": "0 1 993 imap.example.test.",
    "TXT": '"v=spf1 -all"',
    "CNAME": "mail.example.test.",
    "A": "127.0.0.1",
    "AAAA": "::1",
}


def check_offline() -> str:
    from app.core.discovery.engine import detect
    from app.core.model import EmailAddress
    from app.core.net import Network, NetworkOptions

    address = EmailAddress.parse(OFFLINE_ADDRESS)
    result = asyncio.run(detect(address, Network(NetworkOptions(offline=True))))
    if result.provider is None or result.provider.id != OFFLINE_PROVIDER or not result.best:
        raise CheckFailed(f"{OFFLINE_ADDRESS} was not detected from the catalog offline")
    incoming = result.best.incoming
    return (
        f"{OFFLINE_ADDRESS}: {result.provider.name} ({incoming.protocol.value} "
        f"{incoming.host}:{incoming.port}) with no network"
    )


# --- Qt: the window and WebEngine ----------------------------------------------------------------


@dataclass
class _Qt:
    """What the Qt checks share: the application, once it has started."""

    app: object | None = None
    problem: str | None = None


_QT = _Qt()


def _start_qt() -> object:
    """The QApplication, started once (WebEngine's modules first, as Qt requires)."""
    if _QT.app is not None:
        return _QT.app
    if _QT.problem is not None:
        raise CheckFailed(_QT.problem)
    from app.cli.gui import display_problem

    problem = display_problem(os.environ, sys.platform)
    if problem is not None:
        _QT.problem = problem
        raise CheckFailed(problem)
    from app.ui.qt_env import FLAGS_VARIABLE, prepare_webengine

    flags = os.environ.get(FLAGS_VARIABLE, "")
    if "--disable-gpu" not in flags.split():  # a page load needs no GPU (CI, virtual machines)
        os.environ[FLAGS_VARIABLE] = f"{flags} --disable-gpu".strip()
    prepare_webengine()
    import PySide6.QtWebEngineWidgets  # noqa: F401  (before the application, as Qt wants)
    from PySide6.QtCore import QCoreApplication, Qt

    from app.ui.launch import create_application, identify

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = create_application(["mailsetup"])
    identify(app)
    _QT.app = app
    return app


def _wait(done: Callable[[], bool], seconds: float) -> bool:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return True


def check_window() -> str:
    _start_qt()
    from app.ui.main_window import MainWindow

    started = time.monotonic()
    window = MainWindow()
    window.show()
    handle = window.windowHandle()
    shown = _wait(lambda: handle is not None and handle.isExposed(), QT_DEADLINE)
    ms = round((time.monotonic() - started) * 1000)
    window.close()
    window.deleteLater()
    if not shown:
        raise CheckFailed(f"the main window was not shown within {QT_DEADLINE:.0f} s")
    from PySide6.QtGui import QGuiApplication

    return f"main window shown in {ms} ms on Qt platform {QGuiApplication.platformName()}"


def check_webengine() -> str:
    _start_qt()
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
    from PySide6.QtWebEngineWidgets import QWebEngineView

    profile = QWebEngineProfile()  # off the record: nothing written to disk
    view = QWebEngineView()
    page = QWebEnginePage(profile, view)
    view.setPage(page)
    loaded: list[bool] = []
    titles: list[str] = []
    page.loadFinished.connect(loaded.append)
    try:
        view.resize(320, 200)
        view.show()
        page.setHtml(_PAGE)
        if not _wait(lambda: bool(loaded), QT_DEADLINE):
            raise CheckFailed(f"the local page did not load within {QT_DEADLINE:.0f} s")
        if not loaded[0]:
            raise CheckFailed("the local page failed to load (the WebEngine helper process?)")
        page.runJavaScript("document.title", 0, lambda value: titles.append(str(value)))
        if not _wait(lambda: bool(titles), QT_DEADLINE):
            raise CheckFailed("the page's script did not answer")
        if titles[0] != _PAGE_TITLE:
            raise CheckFailed(f"the page's script gave {titles[0]!r}, not {_PAGE_TITLE!r}")
    finally:
        view.close()
        view.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        profile.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return "Qt WebEngine loaded a local page and ran its script"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("resources", check_resources),
    ("texts", check_texts),
    ("providers", check_providers),
    ("knowledge", check_knowledge),
    ("clouds", check_clouds),
    ("config", check_config),
    ("translations", check_translations),
    ("backends", check_backends),
    ("offline", check_offline),
    ("window", check_window),
    ("webengine", check_webengine),
)


# --- running and reporting -----------------------------------------------------------------------


def run_checks(checks: Iterable[tuple[str, Callable[[], str]]] = CHECKS) -> list[CheckResult]:
    """Run every check, each on its own: one failing does not stop the others."""
    results = []
    for name, check in checks:
        started = time.monotonic()
        try:
            detail, ok = check(), True
        except CheckFailed as problem:
            detail, ok = str(problem), False
        except Exception as error:  # any other failure is a finding of the self-test too
            detail, ok = f"{type(error).__name__}: {error}", False
        detail = " ".join(detail.split())  # one line per check
        results.append(CheckResult(name, ok, detail, round((time.monotonic() - started) * 1000)))
    return results


def _where() -> str:
    if getattr(sys, "frozen", False):
        return f"frozen bundle {Path(sys.executable).resolve().parent}"
    return f"source {Path(__file__).resolve().parent.parent.parent}"


def report(results: list[CheckResult], total_ms: int) -> str:
    lines = [f"mailsetup {__version__} self-test ({_where()}, {sys.platform})"]
    width = max(len(result.name) for result in results)
    for result in results:
        status = "ok  " if result.ok else "FAIL"
        lines.append(f"{status}  {result.name:<{width}}  {result.detail} [{result.ms} ms]")
    failed = [result.name for result in results if not result.ok]
    if failed:
        lines.append(f"self-test FAILED: {', '.join(failed)} ({total_ms} ms)")
    else:
        lines.append(f"self-test passed: {len(results)} checks ({total_ms} ms)")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace | None = None) -> int:
    """Run the self-test, print the report; 0 when every check passed, else 6."""
    del args
    started = time.monotonic()
    results = run_checks()
    sys.stdout.write(report(results, round((time.monotonic() - started) * 1000)))
    sys.stdout.flush()
    return ExitCode.OK if all(result.ok for result in results) else ExitCode.ENVIRONMENT
