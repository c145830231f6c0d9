"""Shared plumbing for the test world's servers.

- ``free_port()``: a free TCP port on 127.0.0.1;
- ``wait_for_port()``: wait until something listens, with a deadline;
- ``ServerProcess``: a subprocess with its output in a log file, started with a readiness check,
  stopped with its whole process group, never left behind;
- ``register_log()``: a server log that ``tests/conftest.py`` attaches to the report of any
  failing test, so a failure shows what the server said.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"

_LOGS: dict[str, Path] = {}


class WorldError(RuntimeError):
    """A server of the test world could not start or misbehaved; the message holds its log."""


def register_log(name: str, path: Path) -> None:
    _LOGS[name] = path


def unregister_log(name: str) -> None:
    _LOGS.pop(name, None)


def registered_logs() -> dict[str, Path]:
    return dict(_LOGS)


def tail(path: Path, limit: int = 8000) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"(no log: {exc})"
    return data[-limit:].decode("utf-8", "replace")


def die_with_parent() -> None:
    """In the child, before it runs the server: ask Linux to send it SIGTERM when the test
    process dies, so that a killed pytest (a timeout, Ctrl+C twice) leaves no server behind."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


_PR_SET_PDEATHSIG = 1


def free_port(host: str = LOOPBACK) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_udp_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    log: Path | None = None,
    alive: Callable[[], bool] | None = None,
) -> float:
    """Poll ``predicate`` until true; returns the seconds it took. Raises WorldError with the
    log's tail on timeout or when ``alive`` says the server died."""
    start = time.monotonic()
    delay = 0.01
    while True:
        if predicate():
            return time.monotonic() - start
        if alive is not None and not alive():
            raise WorldError(f"{what} exited while starting\n{tail(log) if log else ''}")
        if time.monotonic() - start > timeout:
            raise WorldError(
                f"{what} did not become ready in {timeout:.0f}s\n{tail(log) if log else ''}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float = 20.0,
    what: str = "server",
    log: Path | None = None,
    alive: Callable[[], bool] | None = None,
) -> float:
    return wait_until(
        lambda: port_open(host, port), timeout=timeout, what=what, log=log, alive=alive
    )


class ServerProcess:
    """A server run as a subprocess in its own process group, its output in ``log``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    def start(self, ready: Callable[[], bool], *, timeout: float = 20.0) -> ServerProcess:
        started = time.monotonic()
        log_file = self.log.open("ab")
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            raise WorldError(f"{self.name} could not be started ({self.argv[0]}): {exc}") from exc
        finally:
            log_file.close()
        register_log(self.name, self.log)
        try:
            wait_until(ready, timeout=timeout, what=self.name, log=self.log, alive=self.alive)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        # children that outlived the leader (e.g. dovecot's login processes) share the group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        unregister_log(self.name)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running(
    server: ServerProcess, ready: Callable[[], bool], *, timeout: float = 20.0
) -> Iterator[ServerProcess]:
    server.start(ready, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()
