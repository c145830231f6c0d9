"""Protocol probes: does a mail server answer on a host and port, securely, and what does it offer?

Guessing (``guess.py``) asks servers directly. A probe opens one connection through the network
seam (implicit TLS, or plain and then STARTTLS), reads the greeting, asks for the capabilities
(IMAP ``CAPABILITY``, POP3 ``CAPA``, SMTP ``EHLO``), upgrades with STARTTLS/STLS when that is the
security asked for, asks again over TLS (RFC 3501 6.2.1, RFC 2595 4, RFC 3207 4.2: what was said
in clear text cannot be trusted), and says goodbye (``LOGOUT``/``QUIT``). It sends no
credentials. Certificates are verified by the seam; a probe never falls back to plain text: a
STARTTLS port whose server does not offer STARTTLS is a :class:`ProbeError`, not an answer.

Two layers:

- sans-I/O readers that take the server's lines (bytes) and return typed replies or raise
  :class:`ReplySyntaxError`: :func:`parse_imap_greeting`, :class:`ImapResponseReader`,
  :func:`parse_pop_status`, :class:`PopMultilineReader`, :class:`SmtpReplyReader`, and the
  capability builders :func:`imap_capabilities`, :func:`pop_capabilities`,
  :func:`smtp_capabilities`;
- :func:`probe`, the async dialogue over a seam :class:`~app.core.net.Connection`, which returns
  a :class:`ProbeAnswer` or raises a :class:`~app.core.errors.SetupError` (the seam's
  ``DNSError``/``ConnectError``/``TLSError``/``DeadlineError``, or :class:`ProbeError`).

A cancelled probe drops its connection at once (no goodbye), so cancelling many probes leaves
no socket open.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from app.core.errors import ConnectError, ConnectFailure, ErrorOptions, ServerError
from app.core.model import Protocol, Security
from app.core.net import Connection, Network, TLSInfo, format_address
from app.core.texts import ParamValue, Text

MAX_REPLY_LINES: Final = 200  # lines in one reply before it counts as not the protocol
MAX_WORDS: Final = 200  # capability words kept from one reply
MAX_SHOWN: Final = 200  # characters of a server line kept for reports
GOODBYE_SECONDS: Final = 0.5  # how long LOGOUT/QUIT may take before the connection is dropped

PROTOCOL_LABELS: Final = {Protocol.IMAP: "IMAP", Protocol.POP3: "POP3", Protocol.SMTP: "SMTP"}
OAUTH_MECHANISMS: Final = frozenset({"XOAUTH2", "OAUTHBEARER"})
PASSWORD_MECHANISMS: Final = frozenset({"PLAIN", "LOGIN"})


# --- errors -----------------------------------------------------------------------------------


class ReplySyntaxError(ValueError):
    """A server line is not what the protocol allows at this point (a sans-I/O parser error).

    ``line`` is the offending line as received (for :func:`shown`)."""

    def __init__(self, reason: str, line: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class ProbeProblem(StrEnum):
    """Why a server that answered is not usable. ``probe.<value>`` is the error's code."""

    NOT_PROTOCOL = "not-protocol"  # the answer is not the protocol (an HTTP server, garbage)
    REJECTED = "rejected"  # greeted with a refusal (* BYE, -ERR, 554) or refused the command
    NO_STARTTLS = "no-starttls"  # answered in clear text without offering STARTTLS/STLS
    STARTTLS_REFUSED = "starttls-refused"  # offered STARTTLS, then refused to start it


class ProbeError(ServerError):
    """A server answered a probe, but not usably (see :class:`ProbeProblem`).

    ``server_said`` is the server's line, trimmed (:func:`shown`); probes send no secrets, so
    nothing in it needs redacting.
    """

    default_code = "probe.failed"
    default_help_topic = "server"

    def __init__(
        self,
        protocol: Protocol,
        host: str,
        port: int,
        problem: ProbeProblem,
        server_said: str | None = None,
    ) -> None:
        params: dict[str, ParamValue] = {
            "host": host,
            "port": port,
            "protocol": PROTOCOL_LABELS[protocol],
        }
        if problem is ProbeProblem.NOT_PROTOCOL:
            message = Text("discovery.probe.not-protocol", params)
        elif problem is ProbeProblem.REJECTED:
            message = Text("discovery.probe.rejected", params)
        elif problem is ProbeProblem.NO_STARTTLS:
            message = Text("discovery.probe.no-starttls", params)
        else:
            message = Text("discovery.probe.starttls-refused", params)
        detail: dict[str, str | int] = {
            "host": host,
            "port": port,
            "protocol": protocol.value,
            "problem": problem.value,
        }
        options: ErrorOptions = {
            "code": f"probe.{problem.value}",
            "fix": Text("discovery.probe.fix"),
            "detail": detail,
        }
        if server_said is not None:
            options["server_said"] = server_said
        super().__init__(host, message, **options)
        self.protocol = protocol
        self.port = port
        self.problem = problem


def shown(line: bytes | str, limit: int = MAX_SHOWN) -> str:
    """A server line as it may appear in a report: line end removed, anything but printable
    ASCII replaced by ``?``, at most ``limit`` characters (``…`` marks a cut)."""
    text = line.decode("latin-1") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _text(line: bytes) -> str:
    """A protocol line as text without its line end; control characters other than tab, or
    bytes that are not UTF-8, make it not a protocol line."""
    body = line.rstrip(b"\r\n")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReplySyntaxError("not text", line) from exc
    if any(ch < " " and ch != "\t" for ch in text) or "\x7f" in text:
        raise ReplySyntaxError("control characters", line)
    return text


# --- capabilities -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What a server offers, as far as guessing cares.

    ``words``: the capability names, upper case, in the server's order (IMAP atoms such as
    ``IMAP4REV1`` and ``AUTH=PLAIN``; POP3 CAPA tags; SMTP EHLO keywords). ``auth``: the SASL
    mechanisms offered (IMAP ``AUTH=``, POP3 ``SASL``, SMTP ``AUTH``). ``starttls``: STARTTLS
    (STLS) offered. ``login_disabled``: IMAP ``LOGINDISABLED`` (no LOGIN command).
    """

    protocol: Protocol
    words: tuple[str, ...] = ()
    auth: tuple[str, ...] = ()
    starttls: bool = False
    login_disabled: bool = False

    @property
    def oauth(self) -> tuple[str, ...]:
        """The OAuth mechanisms offered (``XOAUTH2``, ``OAUTHBEARER``)."""
        return tuple(m for m in self.auth if m in OAUTH_MECHANISMS)

    @property
    def password_login(self) -> bool | None:
        """Whether a password can be sent (over TLS): IMAP ``LOGIN`` not disabled or a
        PLAIN/LOGIN mechanism, POP3 ``USER`` or PLAIN/LOGIN, SMTP PLAIN/LOGIN. ``None``
        when the server did not say (no capabilities at all)."""
        if not self.words:
            return None
        if PASSWORD_MECHANISMS.intersection(self.auth):
            return True
        if self.protocol is Protocol.IMAP:
            return not self.login_disabled
        if self.protocol is Protocol.POP3:
            return "USER" in self.words
        return False

    def to_dict(self) -> dict[str, object]:
        return {
            "capabilities": list(self.words),
            "auth": list(self.auth),
            "starttls": self.starttls,
            "login_disabled": self.login_disabled,
        }


def _unique(items: Iterable[str], limit: int = MAX_WORDS) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))[:limit]


_ATOM = re.compile(r"^[!#-'*+,\-./0-9:;<=>?@A-Z^_`a-z|~]+$")  # IMAP atom characters (roughly)


def imap_capabilities(words: Iterable[str]) -> Capabilities:
    """Capabilities from IMAP capability atoms (any case; non-atoms are dropped)."""
    atoms = _unique(w.upper() for w in words if _ATOM.match(w))
    return Capabilities(
        Protocol.IMAP,
        words=atoms,
        auth=_unique(w[5:] for w in atoms if w.startswith("AUTH=")),
        starttls="STARTTLS" in atoms,
        login_disabled="LOGINDISABLED" in atoms,
    )


def pop_capabilities(lines: Iterable[str]) -> Capabilities:
    """Capabilities from the lines of a POP3 ``CAPA`` answer (RFC 2449), e.g. ``SASL PLAIN``."""
    tags: list[str] = []
    auth: list[str] = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        tag = parts[0].upper()
        tags.append(tag)
        if tag == "SASL":
            auth.extend(p.upper() for p in parts[1:])
    words = _unique(tags)
    return Capabilities(Protocol.POP3, words=words, auth=_unique(auth), starttls="STLS" in words)


def smtp_capabilities(reply: SmtpReply) -> Capabilities:
    """Capabilities from a 250 reply to ``EHLO`` (RFC 5321 4.1.1.1): the first line names the
    server, each further line is a keyword and its parameters. ``AUTH=...`` (the old form some
    servers still send) counts like ``AUTH ...``."""
    keywords: list[str] = []
    auth: list[str] = []
    for line in reply.lines[1:]:
        parts = (
            line.replace("=", " ", 1).split()
            if line.upper().startswith("AUTH=")
            else (line.split())
        )
        if not parts:
            continue
        keyword = parts[0].upper()
        keywords.append(keyword)
        if keyword == "AUTH":
            auth.extend(p.upper() for p in parts[1:])
    words = _unique(keywords)
    return Capabilities(
        Protocol.SMTP, words=words, auth=_unique(auth), starttls="STARTTLS" in words
    )


# --- IMAP (RFC 9051, RFC 3501) ----------------------------------------------------------------


_CODE_CAPABILITY = re.compile(r"^\[CAPABILITY ([^\]]*)\]", re.IGNORECASE)


@dataclass(frozen=True)
class ImapGreeting:
    """An IMAP greeting: ``status`` is ``OK``, ``PREAUTH`` or ``BYE``; ``capabilities`` the
    atoms of a ``[CAPABILITY ...]`` response code, if the server sent one."""

    status: str
    text: str
    capabilities: tuple[str, ...] = ()


def parse_imap_greeting(line: bytes) -> ImapGreeting:
    """``* OK ...``, ``* PREAUTH ...`` or ``* BYE ...``; anything else is not IMAP."""
    text = _text(line)
    match = re.match(r"^\* (OK|PREAUTH|BYE)(?: (.*))?$", text, re.IGNORECASE)
    if not match:
        raise ReplySyntaxError("not an IMAP greeting", line)
    rest = match.group(2) or ""
    code = _CODE_CAPABILITY.match(rest)
    words = tuple(code.group(1).split()) if code else ()
    return ImapGreeting(match.group(1).upper(), rest, words)


@dataclass(frozen=True)
class ImapResponse:
    """The response to one tagged IMAP command: ``status`` (``OK``, ``NO``, ``BAD``), the
    tagged line's text, and the untagged lines before it (without ``* ``)."""

    tag: str
    status: str
    text: str
    untagged: tuple[str, ...] = ()

    def capability_words(self) -> tuple[str, ...]:
        """The atoms of untagged ``CAPABILITY`` lines and of a ``[CAPABILITY ...]`` code in
        the tagged line."""
        words: list[str] = []
        for line in self.untagged:
            if line.upper().startswith("CAPABILITY "):
                words.extend(line.split()[1:])
        code = _CODE_CAPABILITY.match(self.text)
        if code:
            words.extend(code.group(1).split())
        return tuple(words)


class ImapResponseReader:
    """Collects one command's response line by line: :meth:`feed` returns ``None`` until the
    tagged status line arrives, then the :class:`ImapResponse`."""

    def __init__(self, tag: str, max_lines: int = MAX_REPLY_LINES) -> None:
        self.tag = tag
        self._max = max_lines
        self._untagged: list[str] = []

    def feed(self, line: bytes) -> ImapResponse | None:
        text = _text(line)
        if text.startswith("* "):
            if len(self._untagged) >= self._max:
                raise ReplySyntaxError("too many lines", line)
            self._untagged.append(text[2:])
            return None
        head, _, rest = text.partition(" ")
        if head != self.tag:
            raise ReplySyntaxError("not an IMAP response", line)
        status, _, status_text = rest.partition(" ")
        if status.upper() not in ("OK", "NO", "BAD"):
            raise ReplySyntaxError("not an IMAP status", line)
        return ImapResponse(self.tag, status.upper(), status_text, tuple(self._untagged))


# --- POP3 (RFC 1939, RFC 2449) ----------------------------------------------------------------


def parse_pop_status(line: bytes) -> tuple[bool, str]:
    """A POP3 status line: (``True`` for ``+OK``, ``False`` for ``-ERR``, the text)."""
    text = _text(line)
    match = re.match(r"^([+]OK|-ERR)(?:[ \t]+(.*))?$", text, re.IGNORECASE)
    if not match:
        raise ReplySyntaxError("not a POP3 status line", line)
    return match.group(1).upper() == "+OK", match.group(2) or ""


class PopMultilineReader:
    """The lines of a POP3 multi-line answer after its ``+OK``, up to the line ``.``;
    dot-stuffing undone. :meth:`feed` returns ``None`` until the end, then the lines."""

    def __init__(self, max_lines: int = MAX_REPLY_LINES) -> None:
        self._max = max_lines
        self._lines: list[str] = []

    def feed(self, line: bytes) -> tuple[str, ...] | None:
        text = _text(line)
        if text == ".":
            return tuple(self._lines)
        if len(self._lines) >= self._max:
            raise ReplySyntaxError("too many lines", line)
        self._lines.append(text[1:] if text.startswith("..") else text)
        return None


# --- SMTP (RFC 5321) --------------------------------------------------------------------------


_SMTP_LINE = re.compile(r"^([2-5][0-9][0-9])(?:([ -])(.*))?$")


@dataclass(frozen=True)
class SmtpReply:
    """One SMTP reply: its code and the text of each line (without code and separator)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


class SmtpReplyReader:
    """Collects one (possibly multi-line) SMTP reply: :meth:`feed` returns ``None`` while
    lines end in ``NNN-``, then the :class:`SmtpReply`. Lines with differing codes, or lines
    that are not ``NNN[ -]text``, are not SMTP."""

    def __init__(self, max_lines: int = MAX_REPLY_LINES) -> None:
        self._max = max_lines
        self._code: int | None = None
        self._lines: list[str] = []

    def feed(self, line: bytes) -> SmtpReply | None:
        text = _text(line)
        match = _SMTP_LINE.match(text)
        if not match:
            raise ReplySyntaxError("not an SMTP reply", line)
        code = int(match.group(1))
        if self._code is not None and code != self._code:
            raise ReplySyntaxError("reply codes differ within one reply", line)
        if len(self._lines) >= self._max:
            raise ReplySyntaxError("too many lines", line)
        self._code = code
        self._lines.append(match.group(3) or "")
        if match.group(2) == "-":
            return None
        return SmtpReply(code, tuple(self._lines))


# --- the probe --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeAnswer:
    """A server that answered correctly over verified TLS: where, how, and what it offers.

    ``capabilities`` are those announced over TLS; ``greeting`` is the first line, trimmed."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    capabilities: Capabilities
    tls: TLSInfo
    peer: str
    greeting: str

    def to_dict(self) -> dict[str, object]:
        return {
            "protocol": self.protocol.value,
            "host": self.host,
            "port": self.port,
            "security": self.security.value,
            **self.capabilities.to_dict(),
            "tls_version": self.tls.version,
            "peer": self.peer,
            "greeting": self.greeting,
        }


class _Dialogue:
    """One probe's conversation over ``conn``: line reading with parser errors turned into
    :class:`ProbeError`, and the end of the stream into a ``ConnectError`` (closed)."""

    def __init__(self, conn: Connection, protocol: Protocol, client_name: str | None) -> None:
        self.conn = conn
        self.protocol = protocol
        self.client_name = client_name
        self.greeting = ""
        self._tag = 0

    def error(self, problem: ProbeProblem, line: bytes | str | None = None) -> ProbeError:
        said = None if line is None else shown(line)
        return ProbeError(self.protocol, self.conn.host, self.conn.port, problem, said)

    async def line(self, seconds: float | None = None) -> bytes:
        line = await self.conn.readline(seconds=seconds)
        if not line:
            raise ConnectError(
                self.conn.host,
                self.conn.port,
                ConnectFailure.CLOSED,
                detail={
                    "host": self.conn.host,
                    "port": self.conn.port,
                    "problem": "the server closed the connection",
                },
            )
        return line

    async def send(self, command: str, seconds: float | None = None) -> None:
        await self.conn.write(command.encode("ascii") + b"\r\n", seconds=seconds)

    def next_tag(self) -> str:
        self._tag += 1
        return f"a{self._tag}"

    # -- per protocol, with the parsers above ---------------------------------------------------

    async def imap_command(self, command: str, seconds: float | None = None) -> ImapResponse:
        tag = self.next_tag()
        await self.send(f"{tag} {command}", seconds)
        reader = ImapResponseReader(tag)
        while True:
            line = await self.line(seconds)
            try:
                response = reader.feed(line)
            except ReplySyntaxError as exc:
                raise self.error(ProbeProblem.NOT_PROTOCOL, exc.line) from exc
            if response is not None:
                return response

    async def imap_capabilities(self) -> Capabilities:
        response = await self.imap_command("CAPABILITY")
        if response.status != "OK":
            raise self.error(ProbeProblem.REJECTED, f"{response.status} {response.text}")
        return imap_capabilities(response.capability_words())

    async def pop_status(self, seconds: float | None = None) -> tuple[bool, bytes]:
        """Whether the next status line is ``+OK``, and the line."""
        line = await self.line(seconds)
        try:
            ok, _ = parse_pop_status(line)
        except ReplySyntaxError as exc:
            raise self.error(ProbeProblem.NOT_PROTOCOL, exc.line) from exc
        return ok, line

    async def pop_capabilities(self) -> Capabilities:
        await self.send("CAPA")
        ok, _ = await self.pop_status()
        if not ok:  # an old server without CAPA (RFC 2449): nothing announced
            return Capabilities(Protocol.POP3)
        reader = PopMultilineReader()
        while True:
            line = await self.line()
            try:
                lines = reader.feed(line)
            except ReplySyntaxError as exc:
                raise self.error(ProbeProblem.NOT_PROTOCOL, exc.line) from exc
            if lines is not None:
                return pop_capabilities(lines)

    async def smtp_reply(self, seconds: float | None = None) -> SmtpReply:
        reader = SmtpReplyReader()
        while True:
            line = await self.line(seconds)
            try:
                reply = reader.feed(line)
            except ReplySyntaxError as exc:
                raise self.error(ProbeProblem.NOT_PROTOCOL, exc.line) from exc
            if reply is not None:
                return reply

    async def smtp_capabilities(self) -> Capabilities:
        await self.send(f"EHLO {self.client_name or local_name(self.conn)}")
        reply = await self.smtp_reply()
        if reply.code == 421:
            raise self.error(ProbeProblem.REJECTED, f"{reply.code} {reply.text}")
        if reply.code != 250:  # SMTP without extensions (HELO only): nothing announced
            return Capabilities(Protocol.SMTP)
        return smtp_capabilities(reply)


def local_name(conn: Connection) -> str:
    """This side's address as an EHLO address literal (RFC 5321 4.1.3): ``[192.0.2.1]`` or
    ``[IPv6:2001:db8::1]``; ``localhost`` if the socket does not say."""
    sockname = conn.writer.get_extra_info("sockname")
    if isinstance(sockname, tuple) and sockname and isinstance(sockname[0], str):
        address = sockname[0].split("%")[0]
        return f"[IPv6:{address}]" if ":" in address else f"[{address}]"
    return "localhost"


async def _imap(talk: _Dialogue, security: Security) -> Capabilities:
    line = await talk.line()
    try:
        greeting = parse_imap_greeting(line)
    except ReplySyntaxError as exc:
        raise talk.error(ProbeProblem.NOT_PROTOCOL, exc.line) from exc
    talk.greeting = shown(line)
    if greeting.status == "BYE":
        raise talk.error(ProbeProblem.REJECTED, line)
    capabilities = await talk.imap_capabilities()
    if security is Security.STARTTLS:
        if not capabilities.starttls:
            raise talk.error(ProbeProblem.NO_STARTTLS, " ".join(capabilities.words))
        response = await talk.imap_command("STARTTLS")
        if response.status != "OK":
            raise talk.error(ProbeProblem.STARTTLS_REFUSED, f"{response.status} {response.text}")
        await talk.conn.start_tls()
        capabilities = await talk.imap_capabilities()
    return capabilities


async def _pop3(talk: _Dialogue, security: Security) -> Capabilities:
    ok, line = await talk.pop_status()
    talk.greeting = shown(line)
    if not ok:
        raise talk.error(ProbeProblem.REJECTED, line)
    capabilities = await talk.pop_capabilities()
    if security is Security.STARTTLS:
        if not capabilities.starttls:
            raise talk.error(ProbeProblem.NO_STARTTLS, " ".join(capabilities.words))
        await talk.send("STLS")
        ok, line = await talk.pop_status()
        if not ok:
            raise talk.error(ProbeProblem.STARTTLS_REFUSED, line)
        await talk.conn.start_tls()
        capabilities = await talk.pop_capabilities()
    return capabilities


async def _smtp(talk: _Dialogue, security: Security) -> Capabilities:
    greeting = await talk.smtp_reply()
    talk.greeting = shown(f"{greeting.code} {greeting.lines[0]}")
    if greeting.code != 220:
        raise talk.error(ProbeProblem.REJECTED, f"{greeting.code} {greeting.text}")
    capabilities = await talk.smtp_capabilities()
    if security is Security.STARTTLS:
        if not capabilities.starttls:
            raise talk.error(ProbeProblem.NO_STARTTLS, " ".join(capabilities.words))
        await talk.send("STARTTLS")
        reply = await talk.smtp_reply()
        if reply.code != 220:
            raise talk.error(ProbeProblem.STARTTLS_REFUSED, f"{reply.code} {reply.text}")
        await talk.conn.start_tls()
        capabilities = await talk.smtp_capabilities()
    return capabilities


async def _goodbye(talk: _Dialogue) -> None:
    """``LOGOUT``/``QUIT`` and its answer, within :data:`GOODBYE_SECONDS`; failures ignored
    (the probe already has its answer)."""
    seconds = min(talk.conn.timeout, GOODBYE_SECONDS)
    with contextlib.suppress(Exception):
        if talk.protocol is Protocol.IMAP:
            await talk.imap_command("LOGOUT", seconds)
        elif talk.protocol is Protocol.POP3:
            await talk.send("QUIT", seconds)
            await talk.pop_status(seconds)
        else:
            await talk.send("QUIT", seconds)
            await talk.smtp_reply(seconds)


_DIALOGUES: Final[dict[Protocol, Callable[[_Dialogue, Security], Awaitable[Capabilities]]]] = {
    Protocol.IMAP: _imap,
    Protocol.POP3: _pop3,
    Protocol.SMTP: _smtp,
}


async def probe(
    net: Network,
    protocol: Protocol,
    host: str,
    port: int,
    security: Security,
    *,
    client_name: str | None = None,
) -> ProbeAnswer:
    """Probe ``protocol`` on ``host:port`` with ``security`` (``TLS``: implicit TLS;
    ``STARTTLS``: plain, then upgraded only if the server offers it). Returns what a server
    that answered correctly over verified TLS offers; raises ``SetupError`` otherwise.

    ``client_name``: the name sent with SMTP ``EHLO`` (default: this side's address literal).
    Every step is bounded by the seam's timeout; the caller bounds the whole.
    """
    if protocol not in _DIALOGUES:
        raise ValueError(f"no probe for {protocol.value}")
    if security is Security.PLAIN:
        raise ValueError("probes never run without TLS")
    conn = await net.connect(host, port, tls=security is Security.TLS)
    talk = _Dialogue(conn, protocol, client_name)
    try:
        capabilities = await _DIALOGUES[protocol](talk, security)
        tls = conn.tls
        if tls is None:  # pragma: no cover - both paths above end in TLS or raise
            raise talk.error(ProbeProblem.NO_STARTTLS)
        await _goodbye(talk)
    except BaseException:
        conn.abort()
        raise
    await conn.close()
    return ProbeAnswer(
        protocol=protocol,
        host=host,
        port=port,
        security=security,
        capabilities=capabilities,
        tls=tls,
        peer=format_address(conn.peer),
        greeting=talk.greeting,
    )


def mechanisms_text(mechanisms: Sequence[str]) -> str:
    """``PLAIN LOGIN XOAUTH2`` or ``none`` for a report line."""
    return " ".join(mechanisms) if mechanisms else "none"


__all__ = [
    "GOODBYE_SECONDS",
    "MAX_REPLY_LINES",
    "OAUTH_MECHANISMS",
    "PROTOCOL_LABELS",
    "Capabilities",
    "ImapGreeting",
    "ImapResponse",
    "ImapResponseReader",
    "PopMultilineReader",
    "ProbeAnswer",
    "ProbeError",
    "ProbeProblem",
    "ReplySyntaxError",
    "SmtpReply",
    "SmtpReplyReader",
    "imap_capabilities",
    "local_name",
    "mechanisms_text",
    "parse_imap_greeting",
    "parse_pop_status",
    "pop_capabilities",
    "probe",
    "shown",
    "smtp_capabilities",
]
