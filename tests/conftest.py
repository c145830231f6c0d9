"""Suite-wide setup: the network guard, a clean environment, the test world's fixtures, and the
server logs attached to every failing test's report."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator

import pytest

from tests.world import netguard, proc

pytest_plugins = [
    "tests.world.fixtures_base",
    "tests.world.fixtures_dns",
    "tests.world.fixtures_https",
    "tests.world.fixtures_faultproxy",
    "tests.world.fixtures_idp",
    "tests.world.fixtures_mail",
    "tests.world.fixtures_dav",
    "tests.world.fixtures_keyring",
    "tests.world.fixtures_display",
    "tests.world.exchange",
]

# Variables that would send the code under test somewhere else than the test world.
_FOREIGN_ENV = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "MAILSETUP_CONFIG",
)


_HOME: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    netguard.install()
    for name in _FOREIGN_ENV:
        os.environ.pop(name, None)
    # The program reads and writes per-user files (settings, saved accounts, logs): never the
    # real user's. A private HOME and XDG folders for the whole run; fixtures that need their
    # own (the keyring, the e2e tests) set them again.
    global _HOME
    _HOME = tempfile.mkdtemp(prefix="mailsetup-test-home-")
    os.environ["HOME"] = _HOME
    for variable, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        path = os.path.join(_HOME, folder)
        os.makedirs(path, exist_ok=True)
        os.environ[variable] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    if _HOME is not None:
        shutil.rmtree(_HOME, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for name, path in proc.registered_logs().items():
            report.sections.append((f"world log: {name}", proc.tail(path)))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.world.fixtures_base import STARTUP_TIMES

    if STARTUP_TIMES:
        terminalreporter.section("test world start-up times")
        for name, seconds in sorted(STARTUP_TIMES.items()):
            terminalreporter.write_line(f"{name:<28} {seconds * 1000:8.0f} ms")
