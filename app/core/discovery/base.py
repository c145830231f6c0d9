"""What a discovery source is, what it hands the engine, and what it may ask the engine for.

Each source (built-in catalog, MX, SRV, ISP autoconfig, ISPDB, Microsoft, guessing) is one
module with one class following :class:`Source`. A source gets a :class:`DiscoveryContext`
(the address, the network seam, shared look-ups such as the MX records) and returns a
:class:`SourceReport`: what it found (candidate :class:`~app.core.model.AccountConfig`s with
their provenance), which provider it recognised, and what went wrong, as findings. A source may
also raise :class:`~app.core.errors.SetupError`; the engine turns that into a failed report.
Sources never decide when detection ends: the engine does (``engine.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.core.model import AccountConfig, EmailAddress, Finding
from app.core.net import MXRecord, Network
from app.core.texts import DEFAULT_LANGUAGE, Language

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


class SourceOutcome(StrEnum):
    FOUND = "found"  # at least one candidate
    NOTHING = "nothing"  # asked and answered: nothing here (404, NXDOMAIN, no match)
    FAILED = "failed"  # could not get an answer (error, TLS failure, bad document)
    SKIPPED = "skipped"  # not applicable (offline, not a Microsoft domain, ...)
    CANCELLED = "cancelled"  # stopped by the engine: a trusted answer came first
    TIMED_OUT = "timed-out"  # the engine's deadline passed first


@dataclass(frozen=True)
class ProviderRef:
    """A recognised provider: a stable lowercase id (``icloud``) and its display name."""

    id: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class SourceReport:
    """One source's answer. ``detail`` is a short technical, secret-free note for helpdesks
    (``"HTTP 404 from https://autoconfig.example.com/..."``); ``data`` holds JSON-ready facts
    the source wants shown (e.g. the Microsoft tenant id)."""

    name: str
    outcome: SourceOutcome
    candidates: tuple[AccountConfig, ...] = ()
    provider: ProviderRef | None = None
    findings: tuple[Finding, ...] = ()
    detail: str | None = None
    data: Mapping[str, JSONValue] = field(default_factory=dict)
    ms: int = 0


@dataclass
class DiscoveryContext:
    """What sources share during one detection run. Look-ups more than one source needs
    (the MX records) are made once; the first caller's query serves everybody."""

    address: EmailAddress
    net: Network
    language: Language = DEFAULT_LANGUAGE
    _mx_task: asyncio.Task[list[MXRecord]] | None = field(default=None, repr=False)

    async def mx(self) -> list[MXRecord]:
        """The domain's MX records, sorted by preference (numerically). Raises the
        network seam's DNSError like ``Network.mx`` does, for every caller."""
        if self._mx_task is None:
            self._mx_task = asyncio.ensure_future(self.net.mx(self.address.domain_ascii))
        return await asyncio.shield(self._mx_task)

    def close(self) -> None:
        """Cancel shared look-ups still running (the engine calls this at the end)."""
        if self._mx_task is not None and not self._mx_task.done():
            self._mx_task.cancel()


class Source(Protocol):
    """A discovery source. ``name`` is stable (it appears in JSON output and reports)."""

    name: str

    async def run(self, context: DiscoveryContext) -> SourceReport: ...


class Stopwatch:
    """Milliseconds since creation, for ``SourceReport.ms``."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def ms(self) -> int:
        return round((time.monotonic() - self._start) * 1000)
