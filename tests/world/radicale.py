"""Radicale 3 as the test world's CalDAV/CardDAV server.

``RadicaleServer`` runs ``python -m radicale`` on a free 127.0.0.1 port with TLS (the world
certificate), plain-text htpasswd users (re-read by Radicale on every request, so users can be
added while it runs), ``owner_only`` rights (each user sees only their own collections) and its
storage in a folder of the test world. ``add_user`` also creates the user's calendar and address
book over HTTP (MKCALENDAR and extended MKCOL), so they are real collections Radicale serves.
"""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

from tests.world.ca import CertPair
from tests.world.proc import LOOPBACK, ServerProcess, WorldError, free_port

CALENDAR_NAME = "calendar"
ADDRESSBOOK_NAME = "addressbook"

_MKCALENDAR_BODY = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>Calendar</D:displayname>
    <C:supported-calendar-component-set>
      <C:comp name="VEVENT"/><C:comp name="VTODO"/>
    </C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>
"""

_MKCOL_ADDRESSBOOK_BODY = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
    <D:displayname>Contacts</D:displayname>
  </D:prop></D:set>
</D:mkcol>
"""

_CONFIG = """\
[server]
hosts = {host}:{port}
ssl = True
certificate = {cert}
key = {key}
delay_on_error = 0
timeout = 10

[encoding]
request = utf-8
stock = utf-8

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {storage}

[web]
type = none

[logging]
level = info
mask_passwords = True
"""


class RadicaleServer:
    """One Radicale process; ``start()`` returns once it answers HTTPS requests."""

    def __init__(self, directory: Path, cert: CertPair, ca_path: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.host = LOOPBACK
        self.port = free_port()
        self.url = f"https://{self.host}:{self.port}/"
        self.ca_path = ca_path
        self.log = directory / "radicale.log"
        self.config_path = directory / "config"
        self.users_path = directory / "users"
        self.storage = directory / "collections"
        self._cert = cert
        self._users: dict[str, str] = {}
        self._with_collections: set[str] = set()
        self._write_users()
        self.config_path.write_text(
            _CONFIG.format(
                host=self.host,
                port=self.port,
                cert=cert.chain,
                key=cert.key,
                users=self.users_path,
                storage=self.storage,
            ),
            encoding="utf-8",
        )
        self._process = ServerProcess(
            "radicale",
            [sys.executable, "-m", "radicale", "--config", str(self.config_path)],
            self.log,
            cwd=directory,
        )

    # -- life cycle ---------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def client(self, user: str | None = None, password: str | None = None) -> httpx.Client:
        """An httpx client for this server (base URL set), authenticated when ``user`` is given
        (with the password ``add_user`` stored unless ``password`` says otherwise)."""
        auth: tuple[str, str] | None = None
        if user is not None:
            auth = (user, self._users[user] if password is None else password)
        return httpx.Client(
            base_url=self.url,
            verify=self.ssl_context(),
            auth=auth,
            trust_env=False,
            timeout=10.0,
        )

    def _answers(self) -> bool:
        try:
            with self.client() as client:
                response = client.get("/.well-known/caldav", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code in (301, 302, 307, 308)

    def start(self, timeout: float = 20.0) -> float:
        """Start Radicale; returns the start-up time in seconds."""
        self._process.start(self._answers, timeout=timeout)
        assert self._process.startup_seconds is not None
        return self._process.startup_seconds

    def stop(self) -> None:
        self._process.stop()

    def alive(self) -> bool:
        return self._process.alive()

    # -- users and collections ----------------------------------------------------------------

    def _write_users(self) -> None:
        """Rewrite the htpasswd file atomically (Radicale re-reads it on every login)."""
        lines = "".join(f"{name}:{password}\n" for name, password in self._users.items())
        temporary = self.users_path.with_suffix(".tmp")
        temporary.write_text(lines, encoding="utf-8")
        os.replace(temporary, self.users_path)

    def add_user(self, name: str, password: str) -> None:
        """Add (or re-password) a user such as ``alice@example.test``; on first add, create the
        user's calendar and address book. Idempotent for the same name and password."""
        if not name or ":" in name or any(c in name + password for c in "\r\n"):
            raise ValueError(f"unusable htpasswd user or password for {name!r}")
        if self._users.get(name) != password:
            self._users[name] = password
            self._write_users()
        if name in self._with_collections:
            return
        with self.client(name) as client:
            calendar = client.request(
                "MKCALENDAR",
                self.calendar_url(name),
                content=_MKCALENDAR_BODY.encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
            addressbook = client.request(
                "MKCOL",
                self.addressbook_url(name),
                content=_MKCOL_ADDRESSBOOK_BODY.encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
        for what, response in (("MKCALENDAR", calendar), ("MKCOL", addressbook)):
            if response.status_code != 201:
                raise WorldError(
                    f"radicale: {what} for {name} answered {response.status_code}: "
                    f"{response.text[:500]}"
                )
        self._with_collections.add(name)

    def password(self, name: str) -> str:
        return self._users[name]

    def principal_path(self, user: str) -> str:
        """The principal's path as Radicale writes it in hrefs (``@`` percent-encoded)."""
        return f"/{quote(user, safe='')}/"

    def principal_url(self, user: str) -> str:
        return self.url.rstrip("/") + self.principal_path(user)

    def calendar_url(self, user: str) -> str:
        return f"{self.principal_url(user)}{CALENDAR_NAME}/"

    def addressbook_url(self, user: str) -> str:
        return f"{self.principal_url(user)}{ADDRESSBOOK_NAME}/"
