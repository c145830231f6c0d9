"""A small async SMTP client over the network seam's ``Connection`` (RFC 5321, 3207, 4954).

Two layers, as in h11:

- sans-I/O pieces that only look at bytes: :class:`ReplyParser` (multi-line replies, RFC 2034
  enhanced status codes), :func:`parse_extensions` (what EHLO announces), :func:`dot_stuff`
  (the DATA payload), and the SASL initial responses (:func:`plain_response`,
  :func:`xoauth2_response`, :func:`oauthbearer_response`);
- :class:`SmtpClient`, the dialogue over a seam connection: greeting, EHLO, STARTTLS, AUTH
  PLAIN/LOGIN/XOAUTH2/OAUTHBEARER, MAIL/RCPT/DATA, QUIT.

The client sends nothing on its own initiative and never retries. It returns the server's
replies and lets the caller decide what they mean; it raises :class:`SmtpProtocolError` when
the peer does not speak SMTP, and the seam's ``SetupError`` subclasses for network failures
(a connection closed by the server is a ``ConnectError`` with ``ConnectFailure.CLOSED``).

Secrets: a :class:`~app.core.checks.base.Secret` is revealed only to build the bytes that go
to the server. The debug log (logger ``app.core.checks.smtp``) shows every command, with
AUTH payloads masked, and every reply with anything the client has sent as a secret masked.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from app.core.checks.base import Secret
from app.core.checks.mailcheck import MAX_SHOWN, shown
from app.core.diagnostics.redact import REDACTED, redact
from app.core.errors import ConnectError, ConnectFailure
from app.core.net import Connection, TLSInfo, format_address

log = logging.getLogger("app.core.checks.smtp")

MAX_REPLY_LINES: Final = 200  # lines of one reply before it counts as not SMTP
DEFAULT_CLIENT_NAME: Final = "localhost"

_LINE = re.compile(r"^([2-5][0-9][0-9])([ -]|$)(.*)$", re.DOTALL)
_ENHANCED = re.compile(r"^([245])\.([0-9]{1,3})\.([0-9]{1,3})(?=\s|$)")


class SmtpProtocolError(Exception):
    """The peer's bytes are not SMTP at this point (garbage, an HTTP or IMAP server, a reply
    that breaks the grammar). ``reason`` is short English for the log and the finding's
    detail; ``line`` the offending bytes as received (see :func:`shown`)."""

    def __init__(self, reason: str, line: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpReply:
    """One SMTP reply. ``lines``: the text of each line after the code and separator;
    ``enhanced``: the RFC 2034 status code of the first line (``"5.7.139"``), if any."""

    code: int
    lines: tuple[str, ...]
    enhanced: str | None = None

    @property
    def message(self) -> str:
        """The reply's text, its lines joined by spaces, the enhanced code removed from each
        line that starts with it."""
        parts: list[str] = []
        for line in self.lines:
            text = line
            if self.enhanced is not None and text.startswith(self.enhanced):
                text = text[len(self.enhanced) :]
            text = text.strip()
            if text:
                parts.append(text)
        return " ".join(parts)

    @property
    def sentence(self) -> str:
        """The whole reply as one sentence, as people quote it:
        ``535 5.7.139 Authentication unsuccessful, ...``. Matched against the knowledge
        catalog; shown (redacted) as what the server said."""
        head = f"{self.code} {self.enhanced}" if self.enhanced else str(self.code)
        message = self.message
        return f"{head} {message}" if message else head

    @property
    def positive(self) -> bool:
        """2xx: the command succeeded."""
        return 200 <= self.code < 300

    @property
    def intermediate(self) -> bool:
        """3xx: the server waits for more (``334`` challenge, ``354`` start mail input)."""
        return 300 <= self.code < 400

    @property
    def transient(self) -> bool:
        """4xx: a temporary failure."""
        return 400 <= self.code < 500

    @property
    def permanent(self) -> bool:
        """5xx: a permanent failure."""
        return self.code >= 500

    def shown(self, limit: int = MAX_SHOWN) -> str:
        return shown(self.sentence, limit)


class ReplyParser:
    """Collects one (possibly multi-line) reply from lines (bytes with or without their line
    ending). :meth:`feed` returns ``None`` while lines end in ``NNN-``, then the
    :class:`SmtpReply`; a line that is not ``NNN[ -]text``, a code that changes within the
    reply, or more than ``max_lines`` lines raise :class:`SmtpProtocolError`. One parser per
    reply."""

    def __init__(self, max_lines: int = MAX_REPLY_LINES) -> None:
        self._max = max_lines
        self._code: int | None = None
        self._lines: list[str] = []

    def feed(self, line: bytes) -> SmtpReply | None:
        text = line.rstrip(b"\r\n").decode("utf-8", "replace")
        match = _LINE.match(text)
        if match is None or "\n" in text or "\r" in text:
            raise SmtpProtocolError("not an SMTP reply", line)
        code = int(match.group(1))
        if self._code is not None and code != self._code:
            raise SmtpProtocolError("the reply code changed within one reply", line)
        if len(self._lines) >= self._max:
            raise SmtpProtocolError(f"a reply of more than {self._max} lines", line)
        self._code = code
        self._lines.append(match.group(3))
        if match.group(2) == "-":
            return None
        return SmtpReply(code, tuple(self._lines), enhanced_code(code, self._lines[0]))


def enhanced_code(code: int, text: str) -> str | None:
    """The RFC 2034 enhanced status code at the start of ``text`` (``"5.7.8"``), if its class
    agrees with the reply code's first digit; else None."""
    match = _ENHANCED.match(text.lstrip())
    if match is None or int(match.group(1)) != code // 100:
        return None
    return match.group(0)


def parse_reply(lines: Iterable[bytes]) -> SmtpReply:
    """One reply from all its lines (a convenience over :class:`ReplyParser`)."""
    parser = ReplyParser()
    for line in lines:
        reply = parser.feed(line)
        if reply is not None:
            return reply
    raise SmtpProtocolError("the reply ended in the middle")


# --- EHLO -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extensions:
    """What an EHLO reply announces: ``keywords`` maps each keyword (upper case) to its
    parameters; ``domain`` is the server's name from the first line."""

    domain: str = ""
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, keyword: str) -> bool:
        return keyword.upper() in self.keywords

    @property
    def starttls(self) -> bool:
        return self.has("STARTTLS")

    @property
    def auth(self) -> tuple[str, ...]:
        """The SASL mechanisms offered (``AUTH`` and the old ``AUTH=`` form), upper case,
        in the server's order, each once."""
        found: list[str] = []
        for keyword in ("AUTH", "AUTH="):
            for mechanism in self.keywords.get(keyword, ()):
                name = mechanism.upper()
                if name not in found:
                    found.append(name)
        return tuple(found)

    @property
    def size(self) -> int | None:
        """The SIZE limit in bytes (RFC 1870); None when not announced or without a number
        (0 means "no fixed limit")."""
        params = self.keywords.get("SIZE")
        if params is None:
            return None
        if not params:
            return 0
        try:
            return int(params[0])
        except ValueError:
            return None

    @property
    def eightbitmime(self) -> bool:
        return self.has("8BITMIME")

    @property
    def smtputf8(self) -> bool:
        return self.has("SMTPUTF8")

    @property
    def pipelining(self) -> bool:
        return self.has("PIPELINING")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the announced keywords and the facts the check reports."""
        return {
            "server_name": self.domain,
            "keywords": sorted(self.keywords),
            "starttls": self.starttls,
            "auth": list(self.auth),
            "size": self.size,
            "8bitmime": self.eightbitmime,
            "smtputf8": self.smtputf8,
            "pipelining": self.pipelining,
        }

    def summary(self) -> str:
        """One line for a step's detail: ``auth: PLAIN LOGIN; SIZE 33554432; 8BITMIME``."""
        parts = [f"auth: {' '.join(self.auth) if self.auth else 'none'}"]
        if self.starttls:
            parts.append("STARTTLS")
        size = self.size
        if size is not None:
            parts.append(f"SIZE {size}" if size else "SIZE")
        parts.extend(word for word in ("8BITMIME", "SMTPUTF8", "PIPELINING") if self.has(word))
        return "; ".join(parts)


def parse_extensions(reply: SmtpReply) -> Extensions:
    """The extensions of a ``250`` EHLO reply (empty for any other reply)."""
    if reply.code != 250 or not reply.lines:
        return Extensions()
    domain = reply.lines[0].split(" ", 1)[0]
    keywords: dict[str, tuple[str, ...]] = {}
    for line in reply.lines[1:]:
        words = line.split()
        if not words:
            continue
        keyword = words[0].upper()
        params = tuple(words[1:])
        if keyword.startswith("AUTH="):  # the pre-RFC 4954 form "AUTH=PLAIN LOGIN"
            params = (keyword[5:], *params) if keyword[5:] else params
            keyword = "AUTH="
        if keyword in keywords:
            keywords[keyword] = keywords[keyword] + params
        else:
            keywords[keyword] = params
    return Extensions(domain=domain, keywords=keywords)


# --- SASL (RFC 4616, Google/Microsoft XOAUTH2, RFC 7628) -----------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def plain_response(username: str, password: str) -> str:
    """PLAIN: base64 of ``\\0username\\0password`` (no authorization identity)."""
    return b64(f"\0{username}\0{password}".encode())


def xoauth2_response(username: str, token: str) -> str:
    """XOAUTH2: base64 of ``user=ADDRESS\\x01auth=Bearer TOKEN\\x01\\x01``."""
    return b64(f"user={username}\x01auth=Bearer {token}\x01\x01".encode())


def oauthbearer_response(username: str, token: str, host: str, port: int) -> str:
    """OAUTHBEARER (RFC 7628): the GS2 header with the user, then host, port and token."""
    text = (
        f"n,a={_saslname(username)},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    )
    return b64(text.encode())


def _saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def decode_challenge(reply: SmtpReply) -> str | None:
    """The base64 text of a ``334`` challenge, decoded (an XOAUTH2 error is JSON); None when
    it is not base64."""
    text = reply.lines[0].strip() if reply.lines else ""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8", "replace")
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


# --- DATA -------------------------------------------------------------------------------------


def dot_stuff(message: bytes) -> bytes:
    """The DATA payload for ``message``: every line ending made CRLF, a dot doubled at the
    start of each line (RFC 5321 4.5.2), a final CRLF if missing, and the ``.`` line that
    ends the data."""
    normalised = message.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not normalised:
        return b".\r\n"
    if normalised.endswith(b"\n"):
        normalised = normalised[:-1]
    lines = normalised.split(b"\n")
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    return b"".join(line + b"\r\n" for line in stuffed) + b".\r\n"


def address_literal(sockname: object) -> str:
    """This side's address as an EHLO address literal (RFC 5321 4.1.3): ``[192.0.2.1]`` or
    ``[IPv6:2001:db8::1]``; ``localhost`` when the socket does not say."""
    if isinstance(sockname, tuple) and sockname and isinstance(sockname[0], str):
        address = sockname[0].split("%")[0]
        return f"[IPv6:{address}]" if ":" in address else f"[{address}]"
    return DEFAULT_CLIENT_NAME


# --- the client -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthExchange:
    """How an AUTH went: ``reply`` is the final reply (``235`` on success); ``challenge``
    the decoded error challenge a server sent before it (XOAUTH2's JSON), if any."""

    mechanism: str
    reply: SmtpReply
    challenge: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.reply.code == 235


class SmtpClient:
    """The SMTP dialogue over one seam connection. Every read and write is bounded by the
    connection's timeout (or ``seconds``); the caller owns the connection and closes it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._masks: list[str] = []

    # -- plumbing ------------------------------------------------------------------------------

    def _hide(self, *secrets: str) -> None:
        for secret in secrets:
            if secret and secret not in self._masks:
                self._masks.append(secret)

    def scrub(self, text: str) -> str:
        """``text`` redacted, with every secret this client has sent (in any encoding)."""
        return redact(text, self._masks)

    async def read_reply(self, *, seconds: float | None = None) -> SmtpReply:
        """The next reply. A closed connection is a ``ConnectError`` (CLOSED)."""
        parser = ReplyParser()
        while True:
            line = await self.conn.readline(seconds=seconds)
            if not line:
                raise ConnectError(
                    self.conn.host,
                    self.conn.port,
                    ConnectFailure.CLOSED,
                    detail={
                        "host": self.conn.host,
                        "port": self.conn.port,
                        "peer": format_address(self.conn.peer),
                        "problem": "the server closed the connection",
                    },
                )
            try:
                reply = parser.feed(line)
            except SmtpProtocolError as exc:
                log.debug("S: %s (not SMTP)", self.scrub(shown(line)))
                raise SmtpProtocolError(exc.reason, line) from None
            log.debug("S: %s", self.scrub(shown(line)))
            if reply is not None:
                return reply

    async def send_line(
        self, line: str, *, logged: str | None = None, seconds: float | None = None
    ) -> None:
        """Send one line (CRLF added); ``logged`` is what the debug log shows instead."""
        log.debug("C: %s", logged if logged is not None else self.scrub(line))
        await self.conn.write(line.encode("utf-8") + b"\r\n", seconds=seconds)

    async def command(
        self, line: str, *, logged: str | None = None, seconds: float | None = None
    ) -> SmtpReply:
        """Send a command and read its reply."""
        await self.send_line(line, logged=logged, seconds=seconds)
        return await self.read_reply(seconds=seconds)

    # -- session -------------------------------------------------------------------------------

    async def greeting(self) -> SmtpReply:
        """The server's greeting (``220`` when it will talk to us)."""
        return await self.read_reply()

    def client_name(self) -> str:
        """The name this side gives in EHLO: its own address as a literal."""
        return address_literal(self.conn.writer.get_extra_info("sockname"))

    async def ehlo(self, name: str | None = None) -> tuple[SmtpReply, Extensions]:
        """``EHLO``; the extensions are empty unless the reply is ``250``."""
        reply = await self.command(f"EHLO {name or self.client_name()}")
        return reply, parse_extensions(reply)

    async def starttls(self) -> tuple[SmtpReply, TLSInfo | None]:
        """``STARTTLS``; on ``220`` the connection is upgraded (certificate checked by the
        seam, which raises ``TLSError``); on any other reply nothing changes."""
        reply = await self.command("STARTTLS")
        if reply.code != 220:
            return reply, None
        return reply, await self.conn.start_tls()

    async def quit(self, *, seconds: float | None = None) -> SmtpReply:
        return await self.command("QUIT", seconds=seconds)

    # -- authentication ------------------------------------------------------------------------

    async def _auth(self, mechanism: str, initial: str | None, hidden: Sequence[str]) -> SmtpReply:
        self._hide(*hidden)
        if initial is None:
            return await self.command(f"AUTH {mechanism}")
        return await self.command(
            f"AUTH {mechanism} {initial}", logged=f"AUTH {mechanism} {REDACTED}"
        )

    async def _answer(self, response: str) -> SmtpReply:
        """Answer a ``334`` challenge (``response`` is already base64, or empty)."""
        return await self.command(response, logged=REDACTED if response else "")

    async def auth_plain(self, username: str, password: Secret) -> AuthExchange:
        """AUTH PLAIN with the initial response (RFC 4954)."""
        secret = password.reveal()
        payload = plain_response(username, secret)
        reply = await self._auth("PLAIN", payload, (secret, payload, b64(secret.encode())))
        if reply.code == 334:  # a server that ignored the initial response asks again
            reply = await self._answer(payload)
        return AuthExchange("PLAIN", reply)

    async def auth_login(self, username: str, password: Secret) -> AuthExchange:
        """AUTH LOGIN: the user name and the password each answer a ``334`` challenge."""
        secret = password.reveal()
        encoded = b64(secret.encode())
        reply = await self._auth("LOGIN", None, (secret, encoded))
        if reply.code == 334:
            reply = await self._answer(b64(username.encode()))
            if reply.code == 334:
                reply = await self._answer(encoded)
        return AuthExchange("LOGIN", reply)

    async def auth_xoauth2(self, username: str, token: Secret) -> AuthExchange:
        """AUTH XOAUTH2 with the initial response. A failure may come as a ``334`` with a
        base64 JSON error: the client answers with an empty line to get the final reply."""
        secret = token.reveal()
        payload = xoauth2_response(username, secret)
        reply = await self._auth("XOAUTH2", payload, (secret, payload))
        return await self._oauth_final("XOAUTH2", reply)

    async def auth_oauthbearer(self, username: str, token: Secret) -> AuthExchange:
        """AUTH OAUTHBEARER (RFC 7628), errors handled as for XOAUTH2 (the client answers
        the error challenge with ``AQ==``, a single 0x01)."""
        secret = token.reveal()
        payload = oauthbearer_response(username, secret, self.conn.host, self.conn.port)
        reply = await self._auth("OAUTHBEARER", payload, (secret, payload))
        return await self._oauth_final("OAUTHBEARER", reply, b64(b"\x01"))

    async def _oauth_final(
        self, mechanism: str, reply: SmtpReply, answer: str = ""
    ) -> AuthExchange:
        if reply.code != 334:
            return AuthExchange(mechanism, reply)
        challenge = decode_challenge(reply)
        final = await self._answer(answer)
        return AuthExchange(mechanism, final, None if challenge is None else shown(challenge))

    # -- mail ----------------------------------------------------------------------------------

    async def mail(self, sender: str, params: Sequence[str] = ()) -> SmtpReply:
        extra = "".join(f" {p}" for p in params)
        return await self.command(f"MAIL FROM:<{sender}>{extra}")

    async def rcpt(self, recipient: str) -> SmtpReply:
        return await self.command(f"RCPT TO:<{recipient}>")

    async def data(self, message: bytes) -> SmtpReply:
        """``DATA``; after ``354`` the dot-stuffed message and its final reply. Any other
        answer to DATA is returned as it is."""
        reply = await self.command("DATA")
        if reply.code != 354:
            return reply
        payload = dot_stuff(message)
        log.debug("C: <%d bytes of message data>", len(payload))
        await self.conn.write(payload)
        return await self.read_reply()


__all__ = [
    "MAX_REPLY_LINES",
    "AuthExchange",
    "Extensions",
    "ReplyParser",
    "SmtpClient",
    "SmtpProtocolError",
    "SmtpReply",
    "address_literal",
    "b64",
    "decode_challenge",
    "dot_stuff",
    "enhanced_code",
    "oauthbearer_response",
    "parse_extensions",
    "parse_reply",
    "plain_response",
    "shown",
    "xoauth2_response",
]
