"""Fixture for the test world's fault proxy (``tests/world/faultproxy.py``).

``fault_proxy`` (function): a factory, ``fault_proxy(target_host, target_port, **behaviour)``
-> a started ``FaultProxy`` relaying to the target; every proxy made in a test is closed after
it. Intercepting proxies trust the world's test CA towards the real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.world import proc
from tests.world.ca import TestCA
from tests.world.faultproxy import FaultProxy


class FaultProxyFactory:
    """Makes started proxies (``make`` or call the factory itself) and closes them all."""

    def __init__(self, log: Path, upstream_ca: Path) -> None:
        self.log = log
        self.upstream_ca = upstream_ca
        self.proxies: list[FaultProxy] = []

    def make(self, target_host: str, target_port: int, **behaviour: Any) -> FaultProxy:
        proxy = FaultProxy(
            target_host, target_port, upstream_ca=self.upstream_ca, log=self.log, **behaviour
        )
        try:
            proxy.start()
        except OSError as exc:
            proxy.close()
            raise proc.WorldError(f"fault proxy could not start: {exc}") from exc
        self.proxies.append(proxy)
        return proxy

    __call__ = make

    def close_all(self) -> None:
        for proxy in self.proxies:
            proxy.close()
        self.proxies.clear()


@pytest.fixture
def fault_proxy(world_dir: Path, test_ca: TestCA) -> Iterator[FaultProxyFactory]:
    """``fault_proxy(host, port, latency=0.2)`` -> FaultProxy; all closed after the test."""
    log = world_dir / "faultproxy.log"
    proc.register_log("faultproxy", log)
    factory = FaultProxyFactory(log, test_ca.cert_path)
    try:
        yield factory
    finally:
        factory.close_all()
        proc.unregister_log("faultproxy")
