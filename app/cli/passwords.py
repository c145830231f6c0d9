"""``--password-stdin``: the password on the first line of standard input, read the one way
every subcommand reads it (only the line's own ending removed, so a password may end in spaces
or any other character)."""

from __future__ import annotations

from typing import TextIO

from app.core.checks.base import Secret
from app.core.errors import InvalidSettingError
from app.core.texts import Text


def read_password(stream: TextIO, missing: Text, *, code: str | None = None) -> Secret:
    """The first line of ``stream`` without its line ending (``\\n`` or ``\\r\\n``). An empty
    line raises InvalidSettingError with ``missing`` (and ``code``, when given)."""
    line = stream.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password[:-1] if password.endswith("\r") else password
    if not password:
        if code is None:
            raise InvalidSettingError("--password-stdin", missing)
        raise InvalidSettingError("--password-stdin", missing, code=code)
    return Secret(password)
