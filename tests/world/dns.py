"""The test world's DNS server: an authoritative server for the ``.test`` domains.

It runs in-process (two threads: UDP and TCP on the same port of 127.0.0.1) and answers from a
mutable in-memory zone, so a test can add an MX, SRV, TXT, A, AAAA or CNAME record and point the
program at ``--dns-server 127.0.0.1:PORT``. It behaves like a real authoritative server: unknown
names answer NXDOMAIN, known names without the asked type answer NOERROR with no answers
(NODATA), large UDP answers are truncated (TC) so the client retries over TCP. Failures can be
set per name: SERVFAIL, NXDOMAIN, REFUSED, or TIMEOUT (never answers); ``delay`` slows a name.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, SRV, TXT, A, DNSRecord
from dnslib.dns import DNSError

FAIL_MODES = ("SERVFAIL", "NXDOMAIN", "REFUSED", "TIMEOUT")
# How long a TCP connection whose query should time out is held open (or until the server stops).
HOLD_LIMIT = 30.0
_UDP_DEFAULT_PAYLOAD = 512


def normalize(name: str) -> str:
    """``Example.TEST.`` -> ``example.test``: names are case-insensitive, the dot optional."""
    return name.strip().rstrip(".").lower()


def _label(value: str) -> str:
    return value.strip().rstrip(".") + "."


def _rdata(rtype: str, value: str | Sequence[str]) -> Any:
    """The dnslib rdata for the text form of a record's value."""
    if rtype == "TXT":
        strings = [value] if isinstance(value, str) else list(value)
        chunks: list[bytes] = []
        for text in strings:
            data = text.encode()
            # one character-string holds at most 255 bytes; longer values are split, as
            # real zone tools do
            if not data:
                chunks.append(b"")
            chunks.extend(data[i : i + 255] for i in range(0, len(data), 255))
        return TXT(chunks)
    if not isinstance(value, str):
        raise ValueError(f"{rtype} value must be text, got {value!r}")
    parts = value.split()
    if rtype == "A":
        return A(value.strip())
    if rtype == "AAAA":
        return AAAA(value.strip())
    if rtype == "CNAME":
        return CNAME(_label(value))
    if rtype == "MX":
        if len(parts) != 2:
            raise ValueError(f"MX value must be 'PRIORITY HOST', got {value!r}")
        return MX(_label(parts[1]), int(parts[0]))
    if rtype == "SRV":
        if len(parts) != 4:
            raise ValueError(f"SRV value must be 'PRIORITY WEIGHT PORT TARGET', got {value!r}")
        return SRV(int(parts[0]), int(parts[1]), int(parts[2]), _label(parts[3]))
    # anything else dnslib knows (NS, PTR, SOA, CAA ...) through its zone-file parser
    return RR.fromZone(f"x. 60 IN {rtype} {value}")[0].rdata


@dataclass(frozen=True)
class Record:
    """One resource record of the zone, kept in text form for reading in assertions."""

    name: str
    rtype: str
    value: str | tuple[str, ...]
    ttl: int
    rdata: Any = field(compare=False, repr=False)

    def rr(self, owner: str) -> RR:
        return RR(owner, getattr(QTYPE, self.rtype), rdata=self.rdata, ttl=self.ttl)


@dataclass(frozen=True)
class Failure:
    mode: str
    rtype: str | None  # None: every type


@dataclass(frozen=True)
class ZoneState:
    """A copy of the zone and its failures (``DNSServer.snapshot``/``restore``)."""

    records: dict[str, tuple[Record, ...]]
    failures: dict[str, tuple[Failure, ...]]
    delays: dict[str, float]


class DNSServer:
    """An authoritative DNS server for tests on ``127.0.0.1:port`` (UDP and TCP).

    ``add``/``remove``/``fail``/``delay``/``clear`` change what it answers at once;
    ``queries`` lists ``(name, rtype)`` of every query received, names normalized.
    """

    def __init__(self, host: str = "127.0.0.1", log: Path | None = None) -> None:
        self.host = host
        self.port = 0
        self.log_path = log
        self.queries: list[tuple[str, str]] = []
        self._records: dict[str, list[Record]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._delays: dict[str, float] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._udp: socketserver.ThreadingUDPServer | None = None
        self._tcp: socketserver.ThreadingTCPServer | None = None
        self._threads: list[threading.Thread] = []
        self._log_lock = threading.Lock()

    # ----------------------------------------------------------------- the zone

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, the form ``--dns-server`` takes."""
        return f"{self.host}:{self.port}"

    def add(self, name: str, rtype: str, value: str | Sequence[str], ttl: int = 60) -> Record:
        """Add a record; ``value`` in zone-file text form without quotes, e.g. ``"10 mx.x.test."``
        for MX, ``"0 1 993 imap.x.test."`` for SRV, ``"v=spf1 -all"`` for TXT (a list of strings
        makes one TXT record of several strings)."""
        rtype = rtype.upper()
        key = normalize(name)
        stored: str | tuple[str, ...] = value if isinstance(value, str) else tuple(value)
        record = Record(key, rtype, stored, ttl, _rdata(rtype, value))
        with self._lock:
            self._records.setdefault(key, []).append(record)
        return record

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Forget the records of ``name`` (only those of ``rtype`` if given) and its failures."""
        key = normalize(name)
        with self._lock:
            if rtype is None:
                self._records.pop(key, None)
                self._failures.pop(key, None)
                self._delays.pop(key, None)
                return
            kept = [r for r in self._records.get(key, []) if r.rtype != rtype.upper()]
            if kept:
                self._records[key] = kept
            else:
                self._records.pop(key, None)

    def fail(self, name: str, mode: str, rtype: str | None = None) -> None:
        """Make queries for ``name`` (of ``rtype`` only, if given) fail with ``mode``: SERVFAIL,
        NXDOMAIN, REFUSED, or TIMEOUT (no answer at all)."""
        mode = mode.upper()
        if mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {FAIL_MODES}, got {mode!r}")
        with self._lock:
            self._failures.setdefault(normalize(name), []).append(
                Failure(mode, rtype.upper() if rtype else None)
            )

    def delay(self, name: str, seconds: float) -> None:
        """Answer queries for ``name`` only after ``seconds`` (a slow server)."""
        with self._lock:
            self._delays[normalize(name)] = seconds

    def clear(self) -> None:
        """Forget every record, failure and delay (``queries`` stays)."""
        with self._lock:
            self._records.clear()
            self._failures.clear()
            self._delays.clear()

    def records(self, name: str | None = None) -> list[Record]:
        with self._lock:
            if name is not None:
                return list(self._records.get(normalize(name), []))
            return [r for rs in self._records.values() for r in rs]

    def snapshot(self) -> ZoneState:
        with self._lock:
            return ZoneState(
                {k: tuple(v) for k, v in self._records.items()},
                {k: tuple(v) for k, v in self._failures.items()},
                dict(self._delays),
            )

    def restore(self, state: ZoneState) -> None:
        with self._lock:
            self._records = {k: list(v) for k, v in state.records.items()}
            self._failures = {k: list(v) for k, v in state.failures.items()}
            self._delays = dict(state.delays)

    def queried(self, name: str, rtype: str | None = None) -> bool:
        """Whether a query for ``name`` (and ``rtype``, if given) arrived."""
        key = normalize(name)
        return any(n == key and (rtype is None or t == rtype.upper()) for n, t in self.queries)

    # ----------------------------------------------------------------- answering

    def _exists(self, key: str) -> bool:
        # a name exists if it owns records or if a longer name lies below it (an "empty
        # non-terminal" such as _tcp.example.test): both answer NODATA, not NXDOMAIN
        suffix = "." + key
        return key in self._records or any(n.endswith(suffix) for n in self._records)

    def answer(self, request: DNSRecord) -> DNSRecord | None:
        """The reply to ``request``, or None for no reply (TIMEOUT)."""
        question = request.q
        key = normalize(str(question.qname))
        qtype = QTYPE.get(question.qtype, str(question.qtype))
        self.queries.append((key, qtype))
        with self._lock:
            failures = [
                f for f in self._failures.get(key, []) if f.rtype is None or f.rtype == qtype
            ]
            pause = self._delays.get(key, 0.0)
        if pause and self._stopping.wait(pause):
            return None
        reply = request.reply(ra=0, aa=1)
        if failures:
            mode = failures[-1].mode
            self._log(f"{key} {qtype}: {mode} (set by test)")
            if mode == "TIMEOUT":
                return None
            reply.header.rcode = getattr(RCODE, mode)
            return reply
        owner = str(question.qname)
        with self._lock:
            seen: set[str] = set()
            while True:
                records = self._records.get(key, [])
                cname = [r for r in records if r.rtype == "CNAME"]
                if cname and qtype not in ("CNAME", "ANY") and key not in seen:
                    seen.add(key)
                    reply.add_answer(cname[0].rr(owner))
                    owner = str(cname[0].rdata.label)
                    key = normalize(owner)
                    continue
                matching = [r for r in records if qtype == "ANY" or r.rtype == qtype]
                for record in matching:
                    reply.add_answer(record.rr(owner))
                if not matching and not reply.rr and not self._exists(key):
                    reply.header.rcode = RCODE.NXDOMAIN
                break
        self._log(f"{normalize(str(question.qname))} {qtype}: {RCODE.get(reply.header.rcode)}")
        return reply

    def answer_bytes(self, data: bytes, *, udp: bool) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except DNSError as exc:
            self._log(f"unparsable query: {exc}")
            return None
        if not request.questions:
            reply = request.reply(ra=0, aa=0)
            reply.header.rcode = RCODE.FORMERR
            return bytes(reply.pack())
        reply = self.answer(request)
        if reply is None:
            return None
        packed = bytes(reply.pack())
        if udp:
            limit = _UDP_DEFAULT_PAYLOAD
            for extra in request.ar:
                if extra.rtype == QTYPE.OPT:
                    limit = max(_UDP_DEFAULT_PAYLOAD, int(extra.rclass))
            if len(packed) > limit:
                short = request.reply(ra=0, aa=1)
                short.header.tc = 1
                packed = bytes(short.pack())
        return packed

    def _log(self, line: str) -> None:
        if self.log_path is None:
            return
        with self._log_lock, self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    # ----------------------------------------------------------------- running

    def start(self) -> DNSServer:
        """Bind UDP and TCP on one free port and serve in background threads."""
        server = self
        stopping = self._stopping

        class UDPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = server.answer_bytes(data, udp=True)
                if reply is not None:
                    with contextlib.suppress(OSError):
                        sock.sendto(reply, self.client_address)

        class TCPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.settimeout(10)
                try:
                    while not stopping.is_set():
                        head = _recv_exactly(conn, 2)
                        if head is None:
                            return
                        data = _recv_exactly(conn, struct.unpack("!H", head)[0])
                        if data is None:
                            return
                        reply = server.answer_bytes(data, udp=False)
                        if reply is None:  # TIMEOUT: hold the connection, say nothing
                            stopping.wait(HOLD_LIMIT)
                            return
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

        class UDP(socketserver.ThreadingUDPServer):
            daemon_threads = True
            allow_reuse_address = False

        class TCP(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        last_error: OSError | None = None
        for _ in range(20):
            udp = UDP((self.host, 0), UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = TCP((self.host, port), TCPHandler)
            except OSError as exc:
                udp.server_close()
                last_error = exc
                continue
            break
        else:
            raise OSError(f"no port free for both UDP and TCP: {last_error}")
        self._udp, self._tcp, self.port = udp, tcp, int(port)
        for srv, label in ((udp, "udp"), (tcp, "tcp")):
            thread = threading.Thread(
                target=srv.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"world-dns-{label}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        self._log(f"listening on {self.address} (udp+tcp)")
        return self

    def stop(self) -> None:
        self._stopping.set()
        for srv in (self._udp, self._tcp):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._log("stopped")

    def __enter__(self) -> DNSServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _recv_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def query_ready(server: DNSServer, timeout: float = 1.0) -> bool:
    """Whether the server answers a UDP query (a readiness check that uses no library)."""
    probe = DNSRecord.question("ready.invalid", "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(probe.pack(), (server.host, server.port))
            data, _ = sock.recvfrom(4096)
        except OSError:
            return False
    return bool(DNSRecord.parse(data).header.id == probe.header.id)


__all__ = ["FAIL_MODES", "DNSServer", "Record", "ZoneState", "normalize", "query_ready"]
