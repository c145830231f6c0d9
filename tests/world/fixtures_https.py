"""Fixtures for the test world's web servers (``tests/world/web.py``).

- ``https_server`` / ``http_server`` (session): HTTPS with the world certificate, and plain HTTP
  (for "configuration over plain HTTP" cases). One port each serves every test host by Host
  header.
- ``web`` / ``plain_web`` (function): the same servers; routes, per-host certificates and the
  request log are reset around the test.
- ``make_web_server`` (function): start an extra server, e.g. with an expired or wrong-host
  certificate: ``make_web_server(cert=test_ca.issue(...))``; stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.world import proc
from tests.world.ca import CertPair, TestCA
from tests.world.fixtures_base import Stopwatch, record_startup
from tests.world.web import WebServer, fetch_ready


def start_web_server(
    name: str, cert: CertPair | None, log: Path, ca: Path | None, *, record: bool = True
) -> WebServer:
    """A started, answering web server (WorldError with its log when it does not answer)."""
    watch = Stopwatch()
    server = WebServer(name, cert=cert, log=log)
    try:
        server.start()
    except OSError as exc:
        raise proc.WorldError(
            f"web server {name} could not start: {exc}\n{proc.tail(log)}"
        ) from exc
    proc.register_log(f"web-{name}", log)
    try:
        proc.wait_until(lambda: fetch_ready(server, ca), timeout=10, what=f"web {name}", log=log)
    except BaseException:
        server.stop()
        proc.unregister_log(f"web-{name}")
        raise
    if record:
        record_startup(name, watch.seconds())
    server.requests.clear()
    return server


@pytest.fixture(scope="session")
def https_server(world_dir: Path, world_cert: CertPair, test_ca: TestCA) -> Iterator[WebServer]:
    """HTTPS on 127.0.0.1 with the world certificate (trusted through ``test_ca.cert_path``)."""
    server = start_web_server("https", world_cert, world_dir / "https.log", test_ca.cert_path)
    try:
        yield server
    finally:
        server.stop()
        proc.unregister_log("web-https")


@pytest.fixture(scope="session")
def http_server(world_dir: Path) -> Iterator[WebServer]:
    """Plain HTTP on 127.0.0.1."""
    server = start_web_server("http", None, world_dir / "http.log", None)
    try:
        yield server
    finally:
        server.stop()
        proc.unregister_log("web-http")


def _scoped(server: WebServer) -> Iterator[WebServer]:
    state = server.snapshot()
    server.requests.clear()
    try:
        yield server
    finally:
        server.restore(state)
        server.requests.clear()


@pytest.fixture
def web(https_server: WebServer) -> Iterator[WebServer]:
    """The HTTPS server for one test: routes and log are reset afterwards."""
    yield from _scoped(https_server)


@pytest.fixture
def plain_web(http_server: WebServer) -> Iterator[WebServer]:
    """The plain HTTP server for one test: routes and log are reset afterwards."""
    yield from _scoped(http_server)


@pytest.fixture
def make_web_server(world_dir: Path, test_ca: TestCA) -> Iterator[Callable[..., WebServer]]:
    """``make_web_server(cert=None|CertPair, name="extra")``: an extra started web server (plain
    HTTP when ``cert`` is None), stopped after the test."""
    servers: list[WebServer] = []

    def make(cert: CertPair | None = None, name: str = "extra") -> WebServer:
        label = f"{name}{len(servers)}"
        server = start_web_server(label, cert, world_dir / f"web-{label}.log", None, record=False)
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
            proc.unregister_log(f"web-{server.name}")
