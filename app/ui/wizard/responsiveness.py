"""How responsive the window stays: the gaps between turns of the event loop.

A timer asks to run every ``interval_ms``; each time it runs, the time since the previous run
beyond the interval is how long the loop was kept from other work (painting, input). The window
is "frozen" for the person when a gap passes about 100 ms; one frame is 16 ms. Tests and
``make bench`` read :meth:`GapMonitor.summary` after a full run of the wizard."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer


@dataclass(frozen=True)
class GapSummary:
    ticks: int
    max_ms: float
    p99_ms: float
    median_ms: float

    def __str__(self) -> str:
        return (
            f"{self.ticks} ticks, largest gap {self.max_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"median {self.median_ms:.1f} ms"
        )


class GapMonitor(QObject):
    def __init__(
        self,
        interval_ms: int = 5,
        parent: QObject | None = None,
        *,
        where: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.gaps_ms: list[float] = []
        self.where = where
        self.largest: list[tuple[float, str]] = []  # the ten largest gaps, and where they were
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def pause(self) -> None:
        """Stop watching (work of the watcher's own, such as a screenshot, is not the window's)."""
        self._timer.stop()
        self._last = None

    def resume(self) -> None:
        self.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            gap = max(0.0, (now - self._last) * 1000 - self.interval_ms)
            self.gaps_ms.append(gap)
            if gap > 16 and self.where is not None:
                self.largest = sorted([*self.largest, (gap, self.where())], reverse=True)[:10]
        self._last = now

    def summary(self) -> GapSummary:
        ordered = sorted(self.gaps_ms) or [0.0]

        def at(fraction: float) -> float:
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

        return GapSummary(len(self.gaps_ms), ordered[-1], at(0.99), at(0.5))
