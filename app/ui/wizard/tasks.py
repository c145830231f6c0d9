"""Long work (detection, checks, sign-in, saving) runs as asyncio tasks on the qasync event
loop, so the window never freezes. :class:`TaskRunner` keeps the window's tasks, says when it
is busy (the window then offers Cancel for the work instead of for the wizard) and cancels
them: a cancelled task stops its connections at once (the core's contract)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

T = TypeVar("T")
_log = logging.getLogger(__name__)


class TaskRunner(QObject):
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def busy(self) -> bool:
        return any(task.cancellable for task in self._tasks)  # type: ignore[attr-defined]

    def start(
        self,
        work: Coroutine[Any, Any, T],
        *,
        done: Callable[[asyncio.Task[T]], None] | None = None,
        cancellable: bool = True,
    ) -> asyncio.Task[T]:
        """Run ``work``; ``done(task)`` is called when it ends (also when cancelled).
        ``cancellable=False``: work that must finish once begun (saving): Cancel waits."""
        was_busy = self.busy
        task = asyncio.ensure_future(work)
        task.cancellable = cancellable  # type: ignore[attr-defined]
        self._tasks.add(task)

        def finished(ended: asyncio.Task[T]) -> None:
            before = self.busy
            self._tasks.discard(ended)
            if not ended.cancelled() and ended.exception() is not None and done is None:
                _log.error("background work failed", exc_info=ended.exception())
            if done is not None:
                done(ended)
            if before != self.busy:
                self.busy_changed.emit(self.busy)

        task.add_done_callback(finished)
        if was_busy != self.busy:
            self.busy_changed.emit(self.busy)
        return task

    def cancel(self) -> bool:
        """Cancel every cancellable task; True when there was one."""
        found = False
        for task in list(self._tasks):
            if task.cancellable and not task.done():  # type: ignore[attr-defined]
                task.cancel()
                found = True
        return found

    @property
    def finishing(self) -> bool:
        """Work that must finish once begun (saving) is still running."""
        return any(not task.cancellable for task in self._tasks)  # type: ignore[attr-defined]

    def when_idle(self, then: Callable[[], None]) -> None:
        """Call ``then`` once no task runs any more (at once when none runs)."""
        running = list(self._tasks)
        if not running:
            then()
            return
        running[-1].add_done_callback(lambda _task: self.when_idle(then))

    def cancel_all(self) -> None:
        """Cancel the cancellable tasks (work that must finish is left to finish)."""
        for task in list(self._tasks):
            if task.cancellable:  # type: ignore[attr-defined]
                task.cancel()
