"""Dovecot 2.3 (IMAP and POP3) as the test world's mailbox server.

``DovecotServer`` runs ``dovecot -F -c <generated config>`` with everything (config, base_dir,
state, log, user files, mail) in one folder of the test world, and four listeners on free
ports: IMAP with implicit TLS, IMAP with STARTTLS, POP3 with implicit TLS, POP3 with STLS.

Choices worth knowing:

- **It listens on 127.0.0.2, not 127.0.0.1.** Dovecot treats a connection whose local and remote
  addresses are equal as "secured" and then allows LOGIN/USER in clear text on the STARTTLS
  ports, whatever ``ssl``/``disable_plaintext_auth`` say. Linux routes all of 127.0.0.0/8 to the
  loopback device and connects to 127.0.0.2 from 127.0.0.1, so there Dovecot sees an ordinary
  client and refuses clear-text authentication before STARTTLS, as a real server does. Its
  certificate (from the test CA) must cover 127.0.0.2.
- **Users** are one small JSON file each for Dovecot's ``dict`` passdb and userdb (an
  ``fs:posix`` dict, read at every lookup, no cache), so ``add_user`` works at once while the
  server runs, also to change a password. (A passwd-file is re-read only when Dovecot stats it,
  at most once a second.) Passwords are stored ``{PLAIN.BASE64}``: any character works.
- **Every failed authentication is logged once** (``auth_verbose``, no auth cache) and
  ``auth_failures(user)`` counts those lines; ``auth_successes(user)`` counts logins.
- **No failure delay, no penalty**: a first passdb (``static``, ``noauthenticate nodelay``) only
  sets ``nodelay``, so a failed login is answered at once (Dovecot otherwise waits 0.5 s and
  then up to 15 s per repeated failure from the same address).
- **OAuth** (XOAUTH2, OAUTHBEARER) is checked by Dovecot's ``oauth2`` passdb, which POSTs
  ``token=...`` to the identity provider's introspection URL (verifying its certificate with the
  test CA) and requires ``"active": true`` and ``username`` equal to the login name.
- **Who runs what.** As root (CI): login processes run as ``dovenull`` and internal ones as
  ``dovecot``, as packaged; mail is accessed as ``nobody``/``nogroup`` (``first_valid_uid`` =
  ``last_valid_uid`` = its uid), which owns the Maildirs. pytest's temporary folders are 0700,
  which ``nobody`` cannot traverse, so the mail processes chroot into the mail folder (done as
  root, before they drop to ``nobody``) and auth runs as root to read the user files. As a
  normal user: every process runs as that user, without chroot, and the mail is theirs.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import grp
import json
import os
import pwd
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.world.ca import CertPair
from tests.world.proc import ServerProcess, WorldError, free_port, port_open, tail

MAIL_HOST = "127.0.0.2"
"""The loopback address the mail servers listen on (see the module's docstring)."""

_FORBIDDEN_IN_USER = re.compile(r"[:/\s\x00]|^\.")
_AUTH_INFO = re.compile(r" auth(?:-worker)?(?:\(\d+\))?: Info: ")
# "dict(user,ip,<session>): Password mismatch", "oauth2(user,...): oauth2 failed: ..."
_AUTH_FAILURE = re.compile(r"(?:^|: )[\w-]+\((?P<user>[^,()]*),[^()]*\): ")
_LOGIN_LINE = re.compile(r" (?:imap|pop3)-login: Info: Login: user=<(?P<user>[^>]*)>")


@dataclass(frozen=True)
class MailOwner:
    """The system account that owns the Maildirs and runs the mail processes."""

    uid: int
    gid: int
    login_user: str
    internal_user: str
    internal_group: str
    as_root: bool


def mail_owner() -> MailOwner:
    if os.geteuid() == 0:
        try:
            nobody = pwd.getpwnam("nobody")
            uid, gid = nobody.pw_uid, nobody.pw_gid
        except KeyError:
            uid, gid = 65534, 65534
        for name in ("dovenull", "dovecot"):
            try:
                pwd.getpwnam(name)
            except KeyError as exc:
                raise WorldError(
                    f"system user {name!r} is missing: install the dovecot-core package"
                ) from exc
        return MailOwner(uid, gid, "dovenull", "dovecot", "dovecot", True)
    me = pwd.getpwuid(os.getuid())
    group = grp.getgrgid(me.pw_gid).gr_name
    return MailOwner(me.pw_uid, me.pw_gid, me.pw_name, me.pw_name, group, False)


def _lower(user: str) -> str:
    return user.strip().lower()


class DovecotServer:
    """One Dovecot instance in ``root``; see the module docstring for the design."""

    def __init__(
        self,
        root: Path,
        cert: CertPair,
        ca_path: Path,
        introspection_url: str,
        *,
        host: str = MAIL_HOST,
    ) -> None:
        self.root = root
        self.cert = cert
        self.ca_path = ca_path
        self.introspection_url = introspection_url
        self.host = host
        self.owner = mail_owner()
        self.log: Path = root / "dovecot.log"
        self.users_dir = root / "users"
        self.auth_dict_file = root / "dovecot-dict-auth.conf.ext"
        self.config_file = root / "dovecot.conf"
        self.oauth2_file = root / "dovecot-oauth2.conf.ext"
        self.mail_root = root / "mail"
        self.imap_tls_port = 0
        self.imap_starttls_port = 0
        self.pop3_tls_port = 0
        self.pop3_starttls_port = 0
        self._users: dict[str, str] = {}
        self._process: ServerProcess | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> float:
        """Start Dovecot and wait until all four listeners answer; returns the seconds taken."""
        started = time.monotonic()
        _check_host(self.host)
        self._prepare_folders()
        self.imap_tls_port, self.imap_starttls_port = _free_ports(self.host, 2)
        self.pop3_tls_port, self.pop3_starttls_port = _free_ports(self.host, 2)
        self.auth_dict_file.write_text(self._users_config())
        self.auth_dict_file.chmod(0o644)
        self.oauth2_file.write_text(self._oauth2_config())
        self.oauth2_file.chmod(0o644)
        self.config_file.write_text(self._config())
        ports = (
            self.imap_tls_port,
            self.imap_starttls_port,
            self.pop3_tls_port,
            self.pop3_starttls_port,
        )
        self._process = ServerProcess(
            "dovecot", ["dovecot", "-F", "-c", str(self.config_file)], self.log, cwd=self.root
        )
        self._process.start(
            lambda: all(port_open(self.host, port) for port in ports), timeout=timeout
        )
        return time.monotonic() - started

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> DovecotServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def alive(self) -> bool:
        return self._process is not None and self._process.alive()

    # -- users and mail ------------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> str:
        """Add (or re-password) mailbox ``name`` (a full address); Dovecot sees it at the next
        login. Returns the name as Dovecot knows it (lower case)."""
        user = _lower(name)
        if not user or _FORBIDDEN_IN_USER.search(user):
            raise ValueError(f"not a usable mailbox name: {name!r}")
        self._users[user] = password
        self._prepare_folders()
        self._make_maildir(user)
        self._write_user(user)
        return user

    def remove_user(self, name: str) -> None:
        user = _lower(name)
        self._users.pop(user, None)
        self._write_user(user)

    def has_user(self, name: str) -> bool:
        return _lower(name) in self._users

    def password(self, name: str) -> str | None:
        return self._users.get(_lower(name))

    def home(self, user: str) -> Path:
        return self.mail_root / _lower(user)

    def _home_for_dovecot(self, user: str) -> str:
        """The home as the mail process sees it: inside its chroot when running as root."""
        return f"/{_lower(user)}" if self.owner.as_root else str(self.home(user))

    def maildir(self, user: str) -> Path:
        """The user's Maildir (its INBOX)."""
        return self.home(user) / "Maildir"

    def deliver(self, user: str, message: bytes) -> Path:
        """Drop ``message`` into the user's INBOX as a new message (Maildir ``new/``), the way
        a delivery agent does: written in ``tmp/``, then renamed."""
        if not self.has_user(user):
            raise KeyError(f"no Dovecot user {user!r}")
        maildir = self._make_maildir(_lower(user))
        unique = f"{time.time_ns() // 1000}.M{uuid.uuid4().hex}P{os.getpid()}.world"
        temporary = maildir / "tmp" / unique
        with temporary.open("xb") as handle:
            handle.write(message.replace(b"\r\n", b"\n"))
            if self.owner.as_root:
                os.fchown(handle.fileno(), self.owner.uid, self.owner.gid)
        final = maildir / "new" / unique
        temporary.rename(final)
        return final

    def messages(self, user: str) -> list[email.message.Message]:
        """The messages in the user's INBOX, oldest first (new and seen alike)."""
        return [
            email.message_from_bytes(raw, policy=email.policy.default)
            for raw in self.raw_messages(user)
        ]

    def raw_messages(self, user: str) -> list[bytes]:
        maildir = self.maildir(user)
        for _ in range(20):  # Dovecot may move a file from new/ to cur/ while we read
            try:
                files = [
                    f
                    for sub in ("new", "cur")
                    if (maildir / sub).is_dir()
                    for f in (maildir / sub).iterdir()
                    if not f.name.startswith(".")
                ]
                files.sort(key=_maildir_order)
                return [f.read_bytes() for f in files]
            except FileNotFoundError:
                time.sleep(0.01)
        raise WorldError(f"could not read the Maildir of {user} (kept changing)")

    # -- the log -------------------------------------------------------------------------------

    def log_text(self, settle: float = 0.15, limit: float = 3.0) -> str:
        """The log once it has stopped growing for ``settle`` seconds (Dovecot writes it through
        its log process, a moment after the client has its answer)."""
        deadline = time.monotonic() + limit
        size = -1
        quiet_since = time.monotonic()
        while True:
            current = self.log.stat().st_size if self.log.exists() else 0
            now = time.monotonic()
            if current != size:
                size, quiet_since = current, now
            elif now - quiet_since >= settle or now >= deadline:
                return self.log.read_text("utf-8", "replace")
            time.sleep(0.02)

    def auth_failures(self, user: str) -> int:
        """How many authentications for ``user`` failed (any mechanism, IMAP and POP3): each
        is one line of the auth process (``Password mismatch``, ``unknown user``,
        ``oauth2 failed: ...``)."""
        wanted = _lower(user)
        count = 0
        for line in self.log_text().splitlines():
            info = _AUTH_INFO.search(line)
            found = _AUTH_FAILURE.search(line[info.end() :]) if info else None
            if found and _lower(found["user"]) == wanted:
                count += 1
        return count

    def auth_successes(self, user: str) -> int:
        """How many logins of ``user`` succeeded (IMAP and POP3)."""
        wanted = _lower(user)
        return sum(1 for m in _LOGIN_LINE.finditer(self.log_text()) if _lower(m["user"]) == wanted)

    def tail(self) -> str:
        return tail(self.log)

    # -- files ---------------------------------------------------------------------------------

    def _prepare_folders(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for folder in ("run", "state", "users/passdb", "users/userdb"):
            (self.root / folder).mkdir(mode=0o755, parents=True, exist_ok=True)
        if not self.mail_root.is_dir():
            self.mail_root.mkdir(mode=0o755)
            self._chown(self.mail_root)

    def _chown(self, path: Path) -> None:
        if self.owner.as_root:
            os.chown(path, self.owner.uid, self.owner.gid)

    def _make_maildir(self, user: str) -> Path:
        home = self.home(user)
        maildir = home / "Maildir"
        for folder in (home, maildir, maildir / "cur", maildir / "new", maildir / "tmp"):
            if not folder.is_dir():
                folder.mkdir(mode=0o700)
                self._chown(folder)
        return maildir

    def _write_user(self, user: str) -> None:
        """One JSON file per user for the passdb and one for the userdb (a ``dict`` backed by
        files, which Dovecot reads at every lookup)."""
        password = self._users.get(user)
        if password is None:
            for kind in ("passdb", "userdb"):
                (self.users_dir / kind / user).unlink(missing_ok=True)
            return
        encoded = base64.b64encode(password.encode("utf-8")).decode("ascii")
        records = {
            "passdb": {"password": "{PLAIN.BASE64}" + encoded},
            "userdb": {
                "uid": self.owner.uid,
                "gid": self.owner.gid,
                "home": self._home_for_dovecot(user),
            },
        }
        for kind, record in records.items():
            path = self.users_dir / kind / user
            temporary = path.with_name(f".{user}.tmp")
            temporary.write_text(json.dumps(record))
            temporary.chmod(0o644)
            temporary.replace(path)

    def _users_config(self) -> str:
        return (
            f"uri = fs:posix:prefix={self.users_dir}/\n"
            "password_key = passdb/%Lu\n"
            "user_key = userdb/%Lu\n"
            "iterate_disable = yes\n"
        )

    def _oauth2_config(self) -> str:
        return (
            "introspection_mode = post\n"
            f"introspection_url = {self.introspection_url}\n"
            f"tls_ca_cert_file = {self.ca_path}\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
            "force_introspection = yes\n"
            "timeout_msecs = 5000\n"
        )

    def _config(self) -> str:
        owner = self.owner
        extra = _AS_ROOT.format(mail_root=self.mail_root) if owner.as_root else _NO_CHROOT
        return (
            _CONFIG.format(
                host=self.host,
                root=self.root,
                cert=self.cert.chain,
                key=self.cert.key,
                users=self.auth_dict_file,
                oauth2=self.oauth2_file,
                login_user=owner.login_user,
                internal_user=owner.internal_user,
                internal_group=owner.internal_group,
                uid=owner.uid,
                gid=owner.gid,
                imap_starttls=self.imap_starttls_port,
                imap_tls=self.imap_tls_port,
                pop3_starttls=self.pop3_starttls_port,
                pop3_tls=self.pop3_tls_port,
            )
            + extra
        )


def _maildir_order(path: Path) -> tuple[int, str]:
    base = path.name.split(":", 1)[0]
    stamp = base.split(".", 1)[0]
    return (int(stamp) if stamp.isdigit() else 0, base)


def _free_ports(host: str, count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port(host)
        if port not in ports:
            ports.append(port)
    return ports


def _check_host(host: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, 0))
        except OSError as exc:
            raise WorldError(
                f"cannot listen on {host}: {exc}. The mail servers of the test world need this "
                "loopback address (Linux has all of 127.0.0.0/8; on macOS: "
                f"`sudo ifconfig lo0 alias {host}`)"
            ) from exc


_CONFIG = """\
# Generated by tests/world/dovecot.py for one test run.
protocols = imap pop3
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
instance_name = mailsetup-world
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
shutdown_clients = yes

default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:~/Maildir

ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
login_greeting = Test world mail server ready.

auth_mechanisms = plain login xoauth2 oauthbearer
auth_cache_size = 0
auth_verbose = yes
auth_failure_delay = 0

# Only sets "nodelay", so failures are answered at once and no penalty builds up.
passdb {{
  driver = static
  args = noauthenticate=yes nodelay=yes
}}
passdb {{
  driver = dict
  args = {users}
  mechanisms = plain login
}}
passdb {{
  driver = oauth2
  args = {oauth2}
  mechanisms = xoauth2 oauthbearer
}}
userdb {{
  driver = dict
  args = {users}
}}

protocol imap {{
  mail_max_userip_connections = 200
}}
protocol pop3 {{
  mail_max_userip_connections = 200
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_starttls}
  }}
  inet_listener imaps {{
    port = {imap_tls}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_starttls}
  }}
  inet_listener pop3s {{
    port = {pop3_tls}
    ssl = yes
  }}
}}
"""

# As root: the world folder is inside pytest's 0700 temporary folders, which the unprivileged
# mail user cannot traverse. The mail processes chroot into the mail folder (as root, before
# dropping to the mail user), and auth runs as root to read the user files.
_AS_ROOT = """
mail_chroot = {mail_root}
service auth {{
  user = root
}}
service auth-worker {{
  user = root
}}
"""

# Without root there is no chroot and no other user to switch to.
_NO_CHROOT = """
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
service ipc {
  chroot =
}
service old-stats {
  chroot =
}
service aggregator {
  chroot =
}
service director {
  chroot =
}
service submission-login {
  chroot =
}
service imap-urlauth-login {
  chroot =
}
"""
