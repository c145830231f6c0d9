"""A guard that keeps the test suite's own process on the loopback network.

Installed for the whole session by ``tests/conftest.py``: any TCP connect or UDP send from the
test process to an address outside 127.0.0.0/8 and ::1 raises ``ForeignAddressError`` before a
packet leaves. Host names are refused too unless they are ``localhost``: code under test must
resolve through the network seam's overrides, never through the system resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_sendto = socket.socket.sendto
_installed = False


class ForeignAddressError(ConnectionRefusedError):
    """The test suite tried to reach an address that is not on this machine's loopback."""


def is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and other non-IP families
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
        raise ForeignAddressError(f"test tried to reach {address!r}, which is not loopback")


def _connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _original_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _original_connect_ex(self, address)


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    address = args[-1]
    _check(self, address)
    return _original_sendto(self, data, *args)  # type: ignore[call-overload, no-any-return]


def install() -> None:
    global _installed
    if _installed:
        return
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _sendto  # type: ignore[method-assign]
    _installed = True
