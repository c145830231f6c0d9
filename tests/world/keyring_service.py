"""A private Secret Service (gnome-keyring) for the test world.

``KeyringService`` starts its own D-Bus session bus (``dbus-daemon`` with a minimal config: no
service activation, so nothing else can be started on it) and ``gnome-keyring-daemon
--unlock --components=secrets`` on that bus, with HOME and the XDG folders in a temporary folder.
The unlock password creates the ``login`` collection, encrypted with that password, unlocked, and
set as the ``default`` alias. The real user's session bus and keyring are never touched: every
process here gets an environment built from scratch, and clients reach the bus only through
``environ()``'s ``DBUS_SESSION_BUS_ADDRESS``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jeepney import DBusAddress, Properties, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.world.proc import ServerProcess, WorldError, wait_until

BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"

# Longest usable AF_UNIX socket path is 107 bytes; leave some room.
_MAX_SOCKET_PATH = 100

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class KeyringService:
    """A private D-Bus session bus with gnome-keyring's Secret Service on it."""

    def __init__(self, directory: Path, unlock_password: str = "world-keyring-unlock") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._scratch: Path | None = None
        if len(str(directory / "run" / "bus")) > _MAX_SOCKET_PATH:
            self._scratch = Path(tempfile.mkdtemp(prefix="mailsetup-keyring-"))
            directory = self._scratch
        self.root = directory
        self.home = directory / "home"
        self.data_home = directory / "data"
        self.config_home = directory / "config"
        self.cache_home = directory / "cache"
        self.runtime_dir = directory / "run"
        for folder in (self.home, self.data_home, self.config_home, self.cache_home):
            folder.mkdir(exist_ok=True)
        self.runtime_dir.mkdir(mode=0o700, exist_ok=True)
        self.runtime_dir.chmod(0o700)
        self.socket = self.runtime_dir / "bus"
        self.bus_address = f"unix:path={self.socket}"
        self.keyrings_dir = self.data_home / "keyrings"
        self.dbus_log = directory / "dbus.log"
        self.log = directory / "gnome-keyring.log"
        self.collection_path: str | None = None
        self._unlock_password = unlock_password
        self._password_file = directory / "unlock-password"
        bus_config = directory / "bus.conf"
        bus_config.write_text(_BUS_CONFIG.format(socket=self.socket), encoding="utf-8")
        env = self.process_environ()
        self._bus = ServerProcess(
            "keyring-dbus",
            ["dbus-daemon", f"--config-file={bus_config}", "--nofork", "--nopidfile"],
            self.dbus_log,
            env=env,
            cwd=self.home,
        )
        self._daemon = ServerProcess(
            "gnome-keyring",
            [
                "sh",
                "-c",
                'exec gnome-keyring-daemon --foreground --unlock --components=secrets < "$0"',
                str(self._password_file),
            ],
            self.log,
            env=env,
            cwd=self.home,
        )

    # -- environments -------------------------------------------------------------------------

    def environ(self) -> dict[str, str]:
        """What a client needs to reach this Secret Service (and nothing else)."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus_address}

    def process_environ(self) -> dict[str, str]:
        """A complete environment, built from scratch, for processes run inside this world."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.data_home),
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_CACHE_HOME": str(self.cache_home),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            **self.environ(),
        }

    # -- life cycle ---------------------------------------------------------------------------

    def _bus_answers(self) -> bool:
        try:
            with open_dbus_connection(bus=self.bus_address, auth_timeout=1.0) as connection:
                reply = connection.send_and_get_reply(message_bus.GetId(), timeout=1.0)
                unwrap_msg(reply)
        except Exception:
            return False
        return True

    def _default_collection_unlocked(self) -> bool:
        """True once the Secret Service owns its name and its default collection is unlocked."""
        try:
            with open_dbus_connection(bus=self.bus_address, auth_timeout=1.0) as connection:
                owned = unwrap_msg(
                    connection.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=1.0)
                )[0]
                if not owned:
                    return False
                service = DBusAddress(
                    SERVICE_PATH, bus_name=BUS_NAME, interface="org.freedesktop.Secret.Service"
                )
                alias = new_method_call(service, "ReadAlias", "s", ("default",))
                path = unwrap_msg(connection.send_and_get_reply(alias, timeout=1.0))[0]
                if path == "/":
                    return False
                collection = DBusAddress(
                    path, bus_name=BUS_NAME, interface="org.freedesktop.Secret.Collection"
                )
                locked = unwrap_msg(
                    connection.send_and_get_reply(Properties(collection).get("Locked"), timeout=1.0)
                )[0][1]
        except Exception:
            return False
        if locked:
            return False
        self.collection_path = str(path)
        return True

    def start(self, timeout: float = 20.0) -> float:
        """Start the bus and the keyring daemon; returns the total start-up time in seconds."""
        self._bus.start(self._bus_answers, timeout=timeout)
        self._password_file.write_text(self._unlock_password, encoding="utf-8")
        self._password_file.chmod(0o600)
        try:
            self._daemon.start(self._default_collection_unlocked, timeout=timeout)
        except BaseException:
            self._bus.stop()
            raise
        finally:
            self._password_file.unlink(missing_ok=True)
        assert self._bus.startup_seconds is not None and self._daemon.startup_seconds is not None
        return self._bus.startup_seconds + self._daemon.startup_seconds

    def stop(self) -> None:
        self._daemon.stop()
        self._bus.stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def alive(self) -> bool:
        return self._bus.alive() and self._daemon.alive()

    # -- looking inside -----------------------------------------------------------------------

    def secret_tool(
        self, *args: str, input: str | None = None, timeout: float = 10.0
    ) -> subprocess.CompletedProcess[str]:
        """Run libsecret's ``secret-tool`` against this Secret Service only."""
        try:
            return subprocess.run(
                ["secret-tool", *args],
                env=self.process_environ(),
                input=input,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                cwd=self.home,
            )
        except subprocess.TimeoutExpired as exc:
            raise WorldError(f"secret-tool {' '.join(args)} hung for {timeout}s") from exc

    def files_containing(self, needle: bytes) -> list[Path]:
        """Every regular file under this service's folders whose bytes contain ``needle``."""
        found: list[Path] = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                found.append(path)
        return found

    def wait_for_keyring_file(self, timeout: float = 5.0) -> Path:
        """The encrypted ``login.keyring`` file, once gnome-keyring has written it."""
        path = self.keyrings_dir / "login.keyring"
        wait_until(path.is_file, timeout=timeout, what="login.keyring", log=self.log)
        return path
