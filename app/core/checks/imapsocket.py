"""imapclient over the network seam: an ``IMAPClient`` whose socket the seam opened.

``imapclient`` builds its connection through ``imaplib``, which would create its own socket
(resolving the name with the system resolver, ignoring ``--resolve``, the DNS server and the
seam's trust). Here ``imaplib``'s ``open`` takes the seam's ``BlockingSocket`` instead, so the
address, the TLS context and the certificate's host name are the seam's; STARTTLS goes through
``IMAPClient.starttls`` with the seam's context (or one the caller made with the seam's trust),
and ``imaplib`` checks the certificate against the host name asked for (``IMAP4.host``), never
against an override's address.

Every method of the client blocks: run them through ``BlockingSocket.call`` (one worker thread
per connection). ``imaplib``'s protocol trace is switched off: it would write sign-in data to
the log.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
import time
from dataclasses import dataclass

import imapclient

from app.core.net.blocking import BlockingSocket, wrap_tls


@dataclass
class Greeting:
    """The first line the server sent (whatever it was) and when it arrived (``monotonic``),
    kept even when the constructor fails, so a caller can tell a failed greeting from a failed
    first CAPABILITY."""

    line: bytes | None = None
    at: float | None = None


class SeamIMAP4(imaplib.IMAP4):
    """``imaplib.IMAP4`` on a socket the seam opened. Constructing it reads the greeting and
    asks for the capabilities (blocking), noting the greeting in ``greeting``."""

    def __init__(self, stream: BlockingSocket, greeting: Greeting | None = None) -> None:
        self._stream = stream
        self.greeting = greeting or Greeting()
        super().__init__(stream.tls_name, stream.port)

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        self.host = host
        self.port = port
        self.sock = self._stream.sock
        self.file = self.sock.makefile("rb")
        self._stream.add_closer(self._release)

    def readline(self) -> bytes:
        line = super().readline()
        if self.greeting.line is None:
            self.greeting.line = line
            self.greeting.at = time.monotonic()
        return line

    def _release(self) -> None:
        """Let go of the file and the socket (the current one: a STARTTLS wrap replaces it)."""
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(Exception):
            self.sock.close()


class _SeamWrap:
    """What ``imaplib``'s STARTTLS calls ``wrap_socket`` on: the seam's context, the handshake
    through :func:`~app.core.net.blocking.wrap_tls` (a failed one leaves nothing open)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context

    def wrap_socket(self, sock: socket.socket, server_hostname: str) -> ssl.SSLSocket:
        return wrap_tls(self._context, sock, server_hostname)


class SeamIMAPClient(imapclient.IMAPClient):  # type: ignore[misc]  # imapclient has no types
    """``imapclient.IMAPClient`` on the seam's socket. ``implicit_tls``: the socket is TLS
    already (port 993); otherwise it is plain and ``starttls(stream.context)`` secures it.
    Constructing it reads the greeting and the capabilities (blocking); pass ``greeting`` to
    see what arrived even if that fails."""

    def __init__(
        self, stream: BlockingSocket, *, implicit_tls: bool, greeting: Greeting | None = None
    ) -> None:
        self._stream = stream
        self._greeting = greeting or Greeting()
        super().__init__(
            stream.tls_name,
            port=stream.port,
            ssl=implicit_tls,
            ssl_context=stream.context,
            timeout=stream.timeout,
        )
        self._imap.debug = 0  # no protocol trace: LOGIN lines hold the password

    def _create_IMAP4(self) -> SeamIMAP4:  # the name imapclient calls
        return SeamIMAP4(self._stream, self._greeting)

    def start_tls(self, context: ssl.SSLContext | None = None) -> None:
        """STARTTLS (``IMAPClient.starttls``) with ``context`` (the seam's unless given),
        checked against the host name asked for. Raises ``ssl.SSLError`` for a failed
        handshake and imapclient's errors for a refused STARTTLS (``CapabilityError`` when it
        is not offered)."""
        self.starttls(_SeamWrap(context or self._stream.context))

    @property
    def imap4(self) -> SeamIMAP4:
        """The ``imaplib`` connection underneath."""
        imap: SeamIMAP4 = self._imap
        return imap

    def forget_commands(self) -> None:
        """Drop ``imaplib``'s in-memory log of recent commands (it holds the LOGIN line)."""
        log = getattr(self._imap, "_cmd_log", None)
        if isinstance(log, dict):
            log.clear()
