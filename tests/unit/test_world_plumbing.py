"""The test world's own guarantees: a server that fails to start fails with its log, not a
hang; nothing is left running; the suite cannot reach beyond loopback."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from tests.world import netguard, proc


def test_a_server_that_exits_while_starting_fails_with_its_log(tmp_path: Path) -> None:
    server = proc.ServerProcess(
        "broken",
        [sys.executable, "-c", "import sys; print('bad config line 3'); sys.exit(2)"],
        tmp_path / "broken.log",
    )
    started = time.monotonic()
    with pytest.raises(proc.WorldError, match="bad config line 3"):
        server.start(lambda: False, timeout=20)
    assert time.monotonic() - started < 5
    assert not server.alive()


def test_a_server_that_never_gets_ready_fails_at_its_deadline(tmp_path: Path) -> None:
    server = proc.ServerProcess(
        "silent",
        [sys.executable, "-c", "import time; print('listening soon', flush=True); time.sleep(60)"],
        tmp_path / "silent.log",
    )
    started = time.monotonic()
    with pytest.raises(proc.WorldError, match="did not become ready") as caught:
        server.start(lambda: False, timeout=0.5)
    assert time.monotonic() - started < 5
    assert "listening soon" in str(caught.value)
    assert server.process is not None and server.process.poll() is not None, "left running"


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (gone, or a zombie waiting for its parent)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    server = proc.ServerProcess("parent", [sys.executable, "-c", script], tmp_path / "p.log")
    server.start(lambda: pid_file.exists() and pid_file.read_text() != "", timeout=10)
    child_pid = int(pid_file.read_text())
    assert not _gone(child_pid)
    server.stop()
    deadline = time.monotonic() + 5
    while not _gone(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child_pid), "a server's child process outlived stop()"


@pytest.mark.parametrize(
    ("family", "address"),
    [
        (socket.AF_INET, ("192.0.2.1", 993)),  # TEST-NET-1: documentation only
        (socket.AF_INET, ("10.1.2.3", 443)),
        (socket.AF_INET6, ("2001:db8::1", 443, 0, 0)),
        (socket.AF_INET, ("example.com", 80)),
    ],
)
def test_the_network_guard_refuses_anything_but_loopback(
    family: socket.AddressFamily, address: tuple[object, ...]
) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(netguard.ForeignAddressError):
            sock.connect(address)
        with pytest.raises(netguard.ForeignAddressError):
            sock.connect_ex(address)
    with (
        socket.socket(family, socket.SOCK_DGRAM) as udp,
        pytest.raises(netguard.ForeignAddressError),
    ):
        udp.sendto(b"x", address)


def test_the_network_guard_lets_loopback_through() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_a_server_dies_with_the_test_process_that_started_it(tmp_path: Path) -> None:
    """A pytest killed outright (no teardown) must not leave its servers running."""
    pid_file = tmp_path / "server.pid"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tests.world import proc\n"
        f"server = proc.ServerProcess('s', [sys.executable, '-c', 'import time; time.sleep(60)'],"
        f" Path({str(tmp_path / 's.log')!r}))\n"
        "server.start(lambda: True)\n"
        f"Path({str(pid_file)!r}).write_text(str(server.process.pid))\n"
        "time.sleep(60)\n"
    )
    import os
    import signal
    import subprocess

    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=root)
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        server_pid = int(pid_file.read_text())
        assert not _gone(server_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while not _gone(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(server_pid), "the server outlived the killed test process"
    finally:
        parent.kill()
