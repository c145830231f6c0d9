"""A fault-injecting TCP relay between the program and a real server of the test world.

``FaultProxy`` listens on 127.0.0.1, connects each client to the target and relays bytes both
ways, misbehaving as told, for the failure tests a real network provides and a mock cannot:

- ``latency``: seconds of silence once per connection before anything is relayed;
  ``chunk_latency``: seconds added before each relayed chunk (both directions);
- ``stall_after=N``: relay N bytes of server->client, then stop relaying (the connection stays
  open until the client leaves);
- ``reset_after=N``: after N bytes of server->client (0: at once), reset the client's
  connection (SO_LINGER 0: the client sees a TCP RST);
- ``garbage=b"..."``: send these bytes instead of relaying, then close;
- ``accept_and_hang``: accept and never send anything;
- ``strip_starttls``: remove STARTTLS from SMTP EHLO replies, the STARTTLS capability from IMAP
  CAPABILITY lines (untagged and response codes) and STLS from POP3 CAPA: a downgrade attack;
- ``intercept=TestCA``: terminate TLS towards the client with a certificate that CA issues for
  the name the client asked for (SNI; else localhost/127.0.0.1) and open TLS to the target
  trusting ``upstream_ca``, as a TLS-inspecting corporate proxy does (implicit-TLS targets).

Each proxy runs its own asyncio loop in a background thread; ``close()`` ends every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import re
import socket
import ssl
import struct
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.world.ca import DEFAULT_NAMES, TestCA

CHUNK = 65536
STRIP_FLUSH_SECONDS = 0.2  # a partial line the stripper holds is sent after this much silence
CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Behaviour:
    """How a proxy treats new connections (see the module docstring)."""

    latency: float = 0.0
    chunk_latency: float = 0.0
    stall_after: int | None = None
    reset_after: int | None = None
    garbage: bytes | None = None
    accept_and_hang: bool = False
    strip_starttls: bool = False
    intercept: TestCA | None = None


_SMTP_LINE = re.compile(rb"^(\d{3})([- ])(.*?)(\r?\n)?$", re.DOTALL)
_IMAP_STARTTLS = re.compile(rb"(?i) STARTTLS(?=[\s\]])")
_TEXT = re.compile(rb"^[\x20-\x7e\r\t]*$")


class StartTLSStripper:
    """Rewrites a server's text stream so that STARTTLS/STLS is never offered.

    Works line by line: SMTP multi-line replies are held until their last line so that dropping
    ``250 STARTTLS`` can make the line before it the last; a partial line is held only while it
    looks like text (TLS records pass at once) and ``flush`` releases whatever is held.
    """

    def __init__(self) -> None:
        self._partial = b""
        self._group: list[bytes] = []

    @property
    def pending(self) -> bool:
        return bool(self._partial or self._group)

    def feed(self, data: bytes) -> bytes:
        self._partial += data
        out: list[bytes] = []
        while b"\n" in self._partial:
            line, self._partial = self._partial.split(b"\n", 1)
            out.extend(self._line(line + b"\n"))
        if self._partial and (not _TEXT.match(self._partial) or len(self._partial) > 8192):
            out.append(self.flush())
        return b"".join(out)

    def flush(self) -> bytes:
        held = b"".join(self._group) + self._partial
        self._group, self._partial = [], b""
        return held

    def _line(self, line: bytes) -> list[bytes]:
        smtp = _SMTP_LINE.match(line)
        if smtp:
            self._group.append(line)
            if smtp.group(2) == b"-":
                return []
            group, self._group = self._group, []
            return _strip_smtp(group)
        if line.strip().upper() == b"STLS":  # POP3 CAPA
            return []
        if b"CAPABILITY" in line.upper():  # IMAP untagged response or response code
            return [_IMAP_STARTTLS.sub(b"", line)]
        return [line]


def _strip_smtp(group: list[bytes]) -> list[bytes]:
    parsed = [_SMTP_LINE.match(line) for line in group]
    kept = [m for m in parsed if m and m.group(3).strip().upper() != b"STARTTLS"]
    if not kept or len(kept) == len(parsed):
        return group
    out: list[bytes] = []
    for index, m in enumerate(kept):
        sep = b" " if index == len(kept) - 1 else b"-"
        out.append(m.group(1) + sep + m.group(3) + (m.group(4) or b""))
    return out


def _unsent_bytes(sock: Any) -> int:
    """Bytes still in the kernel's send queue (Linux SIOCOUTQ); 0 where unknown."""
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])


class FaultProxy:
    """A relay on ``host:port`` to ``target_host:target_port``; see the module docstring."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        upstream_ca: Path | None = None,
        log: Path | None = None,
        **behaviour: Any,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.upstream_ca = upstream_ca
        self.log_path = log
        self.host = "127.0.0.1"
        self.port = 0
        self.behaviour = Behaviour(**behaviour)
        self.total_connections = 0
        self.client_names: list[str | None] = []  # SNI names seen when intercepting
        self._open = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._loop_error)
        self._thread = threading.Thread(target=self._run, name="world-faultproxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._intercept_contexts: dict[tuple[int, str], ssl.SSLContext] = {}
        self._closed = False

    # ------------------------------------------------------------------ public

    @property
    def open_connections(self) -> int:
        with self._lock:
            return self._open

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def set(self, **behaviour: Any) -> None:
        """Change the behaviour for new connections (unnamed settings keep their value)."""
        self.behaviour = dataclasses.replace(self.behaviour, **behaviour)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no client connection is open; False if some still are after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.open_connections:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=CLOSE_TIMEOUT)
        self._log(f"listening on {self.address} -> {self.target_host}:{self.target_port}")
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            with contextlib.suppress(Exception):
                future.result(timeout=CLOSE_TIMEOUT)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=CLOSE_TIMEOUT)
        if not self._thread.is_alive():
            self._loop.close()
        self._log("closed")

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ loop

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self._log(f"loop: {context.get('message')} {context.get('exception')!r}")

    def _log(self, line: str) -> None:
        if self.log_path is None:
            return
        with self._lock, self.log_path.open("a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%H:%M:%S')} [{self.port}] {line}\n")

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=CLOSE_TIMEOUT)

    # ------------------------------------------------------------------ connections

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        behaviour = self.behaviour
        with self._lock:
            self._open += 1
            self.total_connections += 1
            number = self.total_connections
        sides = [writer]  # every stream of this connection, aborted at the end
        try:
            await self._serve(number, behaviour, reader, writer, sides)
        except asyncio.CancelledError:
            pass
        except (OSError, ssl.SSLError, EOFError, asyncio.IncompleteReadError) as exc:
            self._log(f"#{number}: {exc!r}")
        finally:
            for side in sides:
                side.transport.abort()
            with self._lock:
                self._open -= 1
            self._tasks.discard(task)
            self._log(f"#{number}: closed")

    async def _serve(
        self,
        number: int,
        b: Behaviour,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        sides: list[asyncio.StreamWriter],
    ) -> None:
        self._log(f"#{number}: accepted, {b}")
        if b.latency:
            await asyncio.sleep(b.latency)
        if b.accept_and_hang:
            while await reader.read(CHUNK):
                pass
            return
        if b.garbage is not None:
            writer.write(b.garbage)
            await writer.drain()
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
            return
        if b.reset_after == 0:
            self._reset(writer)
            return
        server_name: str | None = None
        if b.intercept is not None:
            await writer.start_tls(self._intercept_context(b.intercept))
            ssl_object = writer.get_extra_info("ssl_object")
            server_name = getattr(ssl_object, "world_sni", None)
            self.client_names.append(server_name)
            self._log(f"#{number}: intercepted TLS for {server_name!r}")
        up_reader, up_writer = await self._connect(b, server_name)
        sides.append(up_writer)
        to_server = asyncio.create_task(self._client_to_server(b, reader, up_writer))
        to_client = asyncio.create_task(self._server_to_client(b, up_reader, writer))
        try:
            done, _ = await asyncio.wait(
                {to_server, to_client}, return_when=asyncio.FIRST_COMPLETED
            )
            if to_client in done and to_client.result() == "stall":
                self._log(f"#{number}: stalled")
                await to_server  # keep the client connected until it leaves
            elif to_client in done and to_client.result() == "eof":
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await asyncio.wait_for(writer.wait_closed(), 1)
        finally:
            for task in (to_server, to_client):
                task.cancel()
            await asyncio.gather(to_server, to_client, return_exceptions=True)

    async def _connect(
        self, b: Behaviour, server_name: str | None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if b.intercept is None:
            return await asyncio.open_connection(self.target_host, self.target_port)
        context = ssl.create_default_context(
            cafile=str(self.upstream_ca) if self.upstream_ca else None
        )
        return await asyncio.open_connection(
            self.target_host,
            self.target_port,
            ssl=context,
            server_hostname=server_name or self.target_host,
        )

    def _intercept_context(self, ca: TestCA) -> ssl.SSLContext:
        def context_for(name: str) -> ssl.SSLContext:
            key = (id(ca), name)
            if key not in self._intercept_contexts:
                names = (name,) if name else DEFAULT_NAMES
                pair = ca.issue(
                    names, label=f"intercept-{self.port}-{len(self._intercept_contexts)}"
                )
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(pair.chain, pair.key)
                self._intercept_contexts[key] = context
            return self._intercept_contexts[key]

        def pick(sock: Any, server_name: str | None, _: ssl.SSLContext) -> None:
            sock.world_sni = server_name
            if server_name:
                sock.context = context_for(server_name)

        base = context_for("")
        base.sni_callback = pick
        return base

    async def _client_to_server(
        self, b: Behaviour, reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter
    ) -> str:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return "eof"
            if b.chunk_latency:
                await asyncio.sleep(b.chunk_latency)
            if up_writer.is_closing():
                continue  # after a stall the client may still talk: nobody listens
            up_writer.write(data)
            with contextlib.suppress(OSError, ssl.SSLError):
                await up_writer.drain()

    async def _server_to_client(
        self, b: Behaviour, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> str:
        stripper = StartTLSStripper() if b.strip_starttls else None
        limits = [n for n in (b.stall_after, b.reset_after) if n is not None]
        limit = min(limits) if limits else None
        sent = 0
        while True:
            if stripper is not None and stripper.pending:
                try:
                    data = await asyncio.wait_for(up_reader.read(CHUNK), STRIP_FLUSH_SECONDS)
                except TimeoutError:
                    writer.write(stripper.flush())
                    await writer.drain()
                    continue
            else:
                data = await up_reader.read(CHUNK)
            if not data:
                if stripper is not None and stripper.pending:
                    writer.write(stripper.flush())
                    await writer.drain()
                return "eof"
            if stripper is not None:
                data = stripper.feed(data)
            if b.chunk_latency:
                await asyncio.sleep(b.chunk_latency)
            if limit is not None and sent + len(data) >= limit:
                writer.write(data[: limit - sent])
                await writer.drain()
                if limit == b.reset_after:
                    await self._flushed(writer)
                    self._reset(writer)
                    return "reset"
                return "stall"
            writer.write(data)
            sent += len(data)
            await writer.drain()

    async def _flushed(self, writer: asyncio.StreamWriter) -> None:
        """Wait (bounded) until what was written has left the machine's send queue, so a reset
        right after does not throw away bytes the client should see first."""
        sock = writer.get_extra_info("socket")
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if writer.transport.get_write_buffer_size() == 0 and (
                sock is None or _unsent_bytes(sock) == 0
            ):
                return
            await asyncio.sleep(0.005)

    def _reset(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


__all__ = ["Behaviour", "FaultProxy", "StartTLSStripper"]
