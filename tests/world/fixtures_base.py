"""Fixtures every part of the test world shares: its folder, its CAs, the standard server
certificate, the artifacts folder, and the start-up timings printed at the end of the run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.world.ca import CertPair, TestCA

# The test domains the world serves. ``.test`` is reserved (RFC 2606): never a real host.
TEST_DOMAINS = (
    "example.test",
    "*.example.test",
    "example.jp.test",
    "*.example.jp.test",
    "corp.test",
    "*.corp.test",
)
# 127.0.0.2: the mail servers listen there, so that Dovecot sees a client address that differs
# from its own and refuses LOGIN before STARTTLS as a real server does (tests/world/dovecot.py).
WORLD_NAMES = ("localhost", "127.0.0.1", "127.0.0.2", "::1", *TEST_DOMAINS)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

STARTUP_TIMES: dict[str, float] = {}


def record_startup(name: str, seconds: float) -> None:
    """Remember how long a world server took to start (shown in the run's summary)."""
    STARTUP_TIMES[name] = seconds


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.start


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("world")


@pytest.fixture(scope="session")
def test_ca(world_dir: Path) -> TestCA:
    """The CA every honest server of the world uses; the program trusts it via --ca-bundle."""
    return TestCA(world_dir / "ca")


@pytest.fixture(scope="session")
def corporate_ca(world_dir: Path) -> TestCA:
    """A TLS-inspecting proxy's CA: not trusted by the program unless a test says so."""
    return TestCA(world_dir / "corporate-ca", common_name="Contoso Corporate Inspection CA")


@pytest.fixture(scope="session")
def world_cert(test_ca: TestCA) -> CertPair:
    """The certificate honest servers present: loopback names plus every test domain."""
    return test_ca.issue(WORLD_NAMES, label="world")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep what a person should look at (screenshots); ignored by git."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def world_stopwatch() -> Iterator[Stopwatch]:
    yield Stopwatch()
