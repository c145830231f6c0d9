"""Windows policy registry values as a machine-wide configuration layer.

Group Policy (or Intune, or a ``.reg`` file) writes values under
``HKLM\\Software\\Policies\\MailSetup``, a key only administrators can write. The layout
mirrors the TOML file (docs/admin-guide.md, "Windows policy registry values"):

- values of the key itself are top-level keys (``schema_version`` REG_DWORD, ``locked``
  REG_MULTI_SZ);
- each subkey is a table (``...\\MailSetup\\microsoft``), its values the table's keys
  (``client_id`` REG_SZ, ``scopes`` REG_MULTI_SZ);
- a list may also be a subkey whose values are named ``1``, ``2``, ... (what an ADMX
  ``<list>`` element writes): ``...\\MailSetup\\providers\\allowed`` with ``1 = google``.

Names are compared without case (the registry's own rule) and used in lower case. REG_SZ is a
string, REG_EXPAND_SZ a string with ``%VARIABLES%`` expanded, REG_DWORD and REG_QWORD integers,
REG_MULTI_SZ a list of strings; any other type reaches the key's parser as bytes and is refused
there, naming the key and the registry key.

The registry is read through a :class:`RegistryReader`: :class:`WinregReader` on Windows,
:class:`MappingRegistryReader` over a dump (a JSON object of ``[name, data, type]`` rows per
key, as ``winreg.EnumValue`` gives them, or the text ``reg query KEY /s`` prints, parsed by
:func:`parse_reg_query`), which is how the adapter is tested on any system.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.config.layers import Layer
from app.core.config.settings import ConfigSource, LayerKind
from app.core.errors import ConfigError
from app.core.texts import Text

HIVE = "HKLM"
POLICY_KEY = "Software\\Policies\\MailSetup"
#: How the layer is named in messages: ``HKLM\Software\Policies\MailSetup``.
POLICY_LOCATION = f"{HIVE}\\{POLICY_KEY}"

REG_NONE = 0
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_DWORD_BIG_ENDIAN = 5
REG_LINK = 6
REG_MULTI_SZ = 7
REG_QWORD = 11

#: Type names as ``reg query`` prints them.
REG_TYPES: Mapping[str, int] = {
    "REG_NONE": REG_NONE,
    "REG_SZ": REG_SZ,
    "REG_EXPAND_SZ": REG_EXPAND_SZ,
    "REG_BINARY": REG_BINARY,
    "REG_DWORD": REG_DWORD,
    "REG_DWORD_BIG_ENDIAN": REG_DWORD_BIG_ENDIAN,
    "REG_LINK": REG_LINK,
    "REG_MULTI_SZ": REG_MULTI_SZ,
    "REG_QWORD": REG_QWORD,
}

_HIVE_NAMES = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU"}
_VALUE_LINE_RE = re.compile(r"^ {4}(.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$")
_EXPAND_RE = re.compile(r"%([^%]+)%")


@dataclass(frozen=True)
class RegistryValue:
    """One value: its name, its data as ``winreg`` returns it, and its type (``REG_*``)."""

    name: str
    data: object
    type: int


@dataclass(frozen=True)
class RegistryKey:
    """One key: its values and the names of its subkeys."""

    values: tuple[RegistryValue, ...] = ()
    subkeys: tuple[str, ...] = ()


class RegistryReader(Protocol):
    """Reads keys under ``HKLM``; ``path`` is relative to it (``Software\\Policies\\X``)."""

    def read_key(self, path: str) -> RegistryKey | None:
        """The key at ``path``, or None when there is none. Raises ``OSError`` when it exists
        but cannot be read."""
        ...


class WinregReader:
    """The real registry, through ``winreg`` (64-bit view): the ``HKLM`` hive, or ``HKCU``.
    Reads nothing off Windows."""

    def __init__(self, hive: str = "HKLM") -> None:
        self.hive = hive

    def read_key(self, path: str) -> RegistryKey | None:
        if sys.platform != "win32":
            return None
        import winreg

        root = winreg.HKEY_CURRENT_USER if self.hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
        access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
        try:
            handle = winreg.OpenKey(root, path, 0, access)
        except FileNotFoundError:
            return None
        with handle:
            subkey_count, value_count, _ = winreg.QueryInfoKey(handle)
            values = tuple(
                RegistryValue(*winreg.EnumValue(handle, index)) for index in range(value_count)
            )
            subkeys = tuple(winreg.EnumKey(handle, index) for index in range(subkey_count))
        return RegistryKey(values, subkeys)


class MappingRegistryReader:
    """A registry dump: ``{key path: [RegistryValue, ...]}``, paths with or without the hive
    (``HKLM\\Software\\...`` or ``Software\\...``), compared without case. Subkeys are the
    longer paths under a key."""

    def __init__(self, keys: Mapping[str, Sequence[RegistryValue]]) -> None:
        self._keys = {_strip_hive(path).lower(): tuple(values) for path, values in keys.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MappingRegistryReader:
        """From ``{path: [[name, data, type], ...]}``; ``type`` an integer or a ``REG_*`` name;
        REG_BINARY data as a hex string. Keys starting with ``_`` are comments."""
        keys: dict[str, list[RegistryValue]] = {}
        for path, rows in data.items():
            if path.startswith("_"):
                continue
            values = []
            for name, value, kind in rows:
                code = REG_TYPES[kind] if isinstance(kind, str) else int(kind)
                if code == REG_BINARY and isinstance(value, str):
                    value = bytes.fromhex(value)
                values.append(RegistryValue(str(name), value, code))
            keys[path] = values
        return cls(keys)

    @classmethod
    def from_reg_query(cls, text: str) -> MappingRegistryReader:
        """From what ``reg query HKLM\\Software\\Policies\\MailSetup /s`` prints."""
        return cls(parse_reg_query(text))

    def read_key(self, path: str) -> RegistryKey | None:
        wanted = _strip_hive(path).lower()
        prefix = wanted + "\\"
        children = {
            other[len(prefix) :].split("\\", 1)[0]
            for other in self._keys
            if other.startswith(prefix)
        }
        if wanted not in self._keys and not children:
            return None
        return RegistryKey(self._keys.get(wanted, ()), tuple(sorted(children)))


def _strip_hive(path: str) -> str:
    head, sep, rest = path.partition("\\")
    if sep and (head.upper() in _HIVE_NAMES or head.upper() in _HIVE_NAMES.values()):
        return rest
    return path


def parse_reg_query(text: str) -> dict[str, list[RegistryValue]]:
    """The keys and values in the output of ``reg query KEY /s``: a line per key path, then its
    values indented by four spaces as ``name    REG_TYPE    data``. REG_DWORD and REG_QWORD
    data are hexadecimal (``0x1``), REG_MULTI_SZ entries are separated by ``\\0``, REG_BINARY
    is hexadecimal bytes, ``(Default)`` is the unnamed value."""
    keys: dict[str, list[RegistryValue]] = {}
    current: list[RegistryValue] | None = None
    for line in text.splitlines():
        if line.startswith("HKEY_") or line.startswith("HK"):
            head, _, rest = line.strip().partition("\\")
            path = f"{_HIVE_NAMES.get(head, head)}\\{rest}" if rest else head
            current = keys.setdefault(path, [])
            continue
        match = _VALUE_LINE_RE.match(line)
        if match is None or current is None:
            continue  # blank lines, "End of search", anything else
        name, kind, raw = match.group(1), match.group(2), match.group(3) or ""
        code = REG_TYPES.get(kind, REG_NONE)
        data: object = raw
        if code in (REG_DWORD, REG_QWORD, REG_DWORD_BIG_ENDIAN):
            data = int(raw, 16)
        elif code == REG_MULTI_SZ:
            data = [item for item in raw.split("\\0") if item] if raw else []
        elif code in (REG_BINARY, REG_NONE):
            data = bytes.fromhex(raw)
        current.append(RegistryValue("" if name == "(Default)" else name, data, code))
    return keys


def _expand(text: str, environ: Mapping[str, str]) -> str:
    lowered = {name.lower(): value for name, value in environ.items()}

    def one(match: re.Match[str]) -> str:
        return lowered.get(match.group(1).lower(), match.group(0))

    return _EXPAND_RE.sub(one, text)


def _convert(value: RegistryValue, environ: Mapping[str, str]) -> object:
    data = value.data
    if value.type == REG_SZ and isinstance(data, str):
        return data
    if value.type == REG_EXPAND_SZ and isinstance(data, str):
        return _expand(data, environ)
    if value.type in (REG_DWORD, REG_QWORD, REG_DWORD_BIG_ENDIAN) and isinstance(data, int):
        return data
    if value.type == REG_MULTI_SZ and isinstance(data, list):
        return [str(item) for item in data if str(item) != ""]
    return data if isinstance(data, bytes) else str(data).encode()


def _is_list_key(key: RegistryKey) -> bool:
    return bool(key.values) and not key.subkeys and all(v.name.isdigit() for v in key.values)


def _read_table(
    reader: RegistryReader, path: str, key: RegistryKey, environ: Mapping[str, str]
) -> dict[str, object]:
    table: dict[str, object] = {}
    for value in key.values:
        if value.name:  # the unnamed "(Default)" value means nothing here
            table[value.name.lower()] = _convert(value, environ)
    for name in key.subkeys:
        sub_path = f"{path}\\{name}"
        sub = _read(reader, sub_path)
        if sub is None:
            continue
        if _is_list_key(sub):
            ordered = sorted(sub.values, key=lambda v: int(v.name))
            table[name.lower()] = [_convert(v, environ) for v in ordered]
        else:
            table[name.lower()] = _read_table(reader, sub_path, sub, environ)
    return table


def _read(reader: RegistryReader, path: str) -> RegistryKey | None:
    try:
        return reader.read_key(path)
    except OSError as exc:
        raise ConfigError(
            f"{HIVE}\\{path}",
            Text("config.unreadable", {"problem": exc.strerror or str(exc)}),
            code="config.unreadable",
            detail={"where": f"{HIVE}\\{path}", "file": POLICY_LOCATION},
        ) from exc


def read_windows_policy(
    reader: RegistryReader, *, environ: Mapping[str, str] | None = None
) -> Layer | None:
    """The policy layer under ``HKLM\\Software\\Policies\\MailSetup``, or None when the key
    does not exist. ``environ`` expands REG_EXPAND_SZ values (default ``os.environ``)."""
    root = _read(reader, POLICY_KEY)
    if root is None:
        return None
    data = _read_table(reader, POLICY_KEY, root, os.environ if environ is None else environ)
    return Layer(ConfigSource(LayerKind.POLICY, POLICY_LOCATION), data, None)
