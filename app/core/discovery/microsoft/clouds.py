"""Microsoft's clouds as data: which sign-in, Autodiscover and mail hosts belong to which cloud.

The facts live in ``resources/microsoft/clouds.toml`` (its header documents every field); this
module loads and checks them, finds a tenant's cloud from what tenant discovery said
(``cloud_instance_name``, ``tenant_region_sub_scope``), and builds the catalog
:class:`~app.core.discovery.catalog.Provider` whose servers a cloud's candidates use: the
worldwide cloud takes the ``microsoft365`` catalog entry as it is, a national cloud the same
entry with its own servers and name.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from app.core.discovery.catalog import (
    Evidence,
    Provider,
    ProviderCatalog,
    ServerEntry,
    default_catalog,
)
from app.core.errors import InvalidSettingError
from app.core.model import Protocol, Security, normalise_host
from app.core.resources import resource_path

__all__ = [
    "WORK_PROVIDER",
    "Cloud",
    "CloudDataError",
    "CloudTable",
    "default_clouds",
]

SCHEMA_VERSION: Final = 1
#: The catalog entry of work and school mailboxes; its notes go with every cloud's candidates.
WORK_PROVIDER: Final = "microsoft365"
_USERNAMES: Final = frozenset({"%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%"})


class CloudDataError(ValueError):
    """``clouds.toml`` breaks its schema; ``problems`` lists what is wrong."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("the Microsoft cloud table is invalid:\n" + "\n".join(self.problems))


@dataclass(frozen=True)
class Cloud:
    """One Microsoft cloud (see the header of ``resources/microsoft/clouds.toml``)."""

    id: str
    name: str
    cloud_instance_names: tuple[str, ...]
    region_sub_scopes: tuple[str, ...]
    supported: bool
    login_host: str
    login_hosts: tuple[str, ...]
    autodiscover_urls: tuple[str, ...]
    exchange_hosts: tuple[str, ...]
    resource: str
    endpoints_from: str | None = None
    incoming: tuple[ServerEntry, ...] = ()
    outgoing: tuple[ServerEntry, ...] = ()
    omit_notes: tuple[str, ...] = ()

    def matches(self, instance_name: str, sub_scope: str | None) -> bool:
        """Whether a tenant with this ``cloud_instance_name`` and sub-scope is in this cloud."""
        if instance_name.lower() not in self.cloud_instance_names:
            return False
        if not self.region_sub_scopes:
            return True
        return sub_scope is not None and sub_scope.upper() in self.region_sub_scopes

    def is_login_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.login_hosts

    def is_exchange_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.exchange_hosts

    def provider(self, catalog: ProviderCatalog | None = None) -> Provider:
        """The catalog provider whose servers and notes this cloud's candidates use.

        Raises CloudDataError for an unsupported cloud or a catalog entry that is missing."""
        if not self.supported:
            raise CloudDataError([f"cloud {self.id!r} is not supported: it has no mail servers"])
        catalog = catalog or default_catalog()
        work = catalog.get(WORK_PROVIDER)
        if work is None:
            raise CloudDataError([f"the catalog has no {WORK_PROVIDER!r} entry"])
        if self.endpoints_from is not None:
            source = catalog.get(self.endpoints_from)
            if source is None:
                raise CloudDataError([f"cloud {self.id!r}: no catalog entry {self.endpoints_from}"])
            incoming, outgoing = source.incoming, source.outgoing
        else:
            incoming, outgoing = self.incoming, self.outgoing
        notes = {k: v for k, v in work.notes.items() if k not in self.omit_notes}
        return dataclasses.replace(
            work, name=self.name, incoming=incoming, outgoing=outgoing, notes=notes
        )


@dataclass(frozen=True)
class CloudTable:
    """Every cloud, in file order, and the consumer tenant."""

    clouds: tuple[Cloud, ...]
    consumer_tenant_id: str
    consumer_provider: str

    def find(self, instance_name: str | None, sub_scope: str | None) -> Cloud | None:
        """The cloud of a tenant; None when the cloud name is one this table does not know.

        A missing ``cloud_instance_name`` means the worldwide cloud (older answers omit it)."""
        name = (instance_name or "microsoftonline.com").strip().lower()
        return next((c for c in self.clouds if c.matches(name, sub_scope)), None)

    def get(self, cloud_id: str) -> Cloud | None:
        return next((c for c in self.clouds if c.id == cloud_id), None)

    def is_login_host(self, host: str) -> bool:
        """Whether ``host`` is a sign-in host of any Microsoft cloud."""
        return any(c.is_login_host(host) for c in self.clouds)

    def is_exchange_host(self, host: str) -> bool:
        """Whether ``host`` is an Exchange Online host of any Microsoft cloud."""
        return any(c.is_exchange_host(host) for c in self.clouds)

    @property
    def login_hosts(self) -> frozenset[str]:
        return frozenset(h for c in self.clouds for h in c.login_hosts)

    @property
    def exchange_hosts(self) -> frozenset[str]:
        return frozenset(h for c in self.clouds for h in c.exchange_hosts)

    @classmethod
    def from_file(cls, path: Path) -> CloudTable:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CloudDataError([f"{path.name}: {exc}"]) from exc
        return parse_clouds(data)


def parse_clouds(data: Mapping[str, object]) -> CloudTable:
    """The table from the TOML data; raises CloudDataError listing every problem."""
    problems: list[str] = []
    if data.get("schema") != SCHEMA_VERSION:
        problems.append(f"schema must be {SCHEMA_VERSION}")
    consumer = data.get("consumer")
    tenant_id = provider = ""
    if isinstance(consumer, Mapping):
        tenant_id = _string(consumer, "tenant_id", "consumer", problems).lower()
        provider = _string(consumer, "provider", "consumer", problems)
    else:
        problems.append("[consumer] is missing")
    clouds: list[Cloud] = []
    entries = data.get("clouds")
    if not isinstance(entries, list) or not entries:
        problems.append("no [[clouds]] entries")
        entries = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            problems.append(f"clouds entry {index} is not a table")
            continue
        cloud = _cloud(entry, f"clouds entry {index}", problems)
        if cloud is not None:
            clouds.append(cloud)
    ids = [c.id for c in clouds]
    problems.extend(f"cloud id {i!r} is used twice" for i in sorted(set(ids)) if ids.count(i) > 1)
    if problems:
        raise CloudDataError(problems)
    return CloudTable(tuple(clouds), tenant_id, provider)


def _cloud(entry: Mapping[str, object], where: str, problems: list[str]) -> Cloud | None:
    before = len(problems)
    cloud_id = _string(entry, "id", where, problems)
    where = f"cloud {cloud_id or where}"
    name = _string(entry, "name", where, problems)
    supported = entry.get("supported")
    if not isinstance(supported, bool):
        problems.append(f"{where}: supported must be true or false")
        supported = False
    instance_names = _strings(entry, "cloud_instance_names", where, problems, lower=True)
    if not instance_names:
        problems.append(f"{where}: cloud_instance_names is empty")
    sub_scopes = tuple(s.upper() for s in _strings(entry, "region_sub_scopes", where, problems))
    login_host = _host(_string(entry, "login_host", where, problems), where, problems)
    login_hosts = tuple(
        _host(h, where, problems) for h in _strings(entry, "login_hosts", where, problems)
    )
    if login_host and login_host not in login_hosts:
        problems.append(f"{where}: login_host is not among login_hosts")
    autodiscover = _strings(entry, "autodiscover_urls", where, problems)
    problems.extend(
        f"{where}: autodiscover URL {url!r} is not https"
        for url in autodiscover
        if not url.startswith("https://")
    )
    exchange_hosts = tuple(
        _host(h, where, problems) for h in _strings(entry, "exchange_hosts", where, problems)
    )
    resource = entry.get("resource", "")
    if not isinstance(resource, str):
        problems.append(f"{where}: resource must be text")
        resource = ""
    endpoints_from = entry.get("endpoints_from")
    if endpoints_from is not None and not isinstance(endpoints_from, str):
        problems.append(f"{where}: endpoints_from must be a catalog id")
        endpoints_from = None
    incoming = _servers(entry, "incoming", where, problems)
    outgoing = _servers(entry, "outgoing", where, problems)
    if supported:
        if not autodiscover or not exchange_hosts or not resource:
            problems.append(
                f"{where}: a supported cloud needs autodiscover_urls, exchange_hosts and resource"
            )
        if endpoints_from is None and not (incoming and outgoing):
            problems.append(f"{where}: a supported cloud needs endpoints_from or its own servers")
    omit = _strings(entry, "omit_notes", where, problems)
    if len(problems) > before:
        return None
    return Cloud(
        id=cloud_id,
        name=name,
        cloud_instance_names=instance_names,
        region_sub_scopes=sub_scopes,
        supported=supported,
        login_host=login_host,
        login_hosts=login_hosts,
        autodiscover_urls=autodiscover,
        exchange_hosts=exchange_hosts,
        resource=resource,
        endpoints_from=endpoints_from,
        incoming=incoming,
        outgoing=outgoing,
        omit_notes=omit,
    )


def _string(entry: Mapping[str, object], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key} must be non-empty text")
        return ""
    return value.strip()


def _strings(
    entry: Mapping[str, object], key: str, where: str, problems: list[str], *, lower: bool = False
) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}: {key} must be a list of text")
        return ()
    return tuple(v.lower() if lower else v for v in value)


def _host(name: str, where: str, problems: list[str]) -> str:
    if not name:
        return ""
    try:
        return normalise_host(name)
    except InvalidSettingError:
        problems.append(f"{where}: {name!r} is not a host name")
        return ""


def _servers(
    entry: Mapping[str, object], key: str, where: str, problems: list[str]
) -> tuple[ServerEntry, ...]:
    tables = entry.get(key, [])
    if not isinstance(tables, list):
        problems.append(f"{where}: {key} must be an array of tables")
        return ()
    servers: list[ServerEntry] = []
    allowed = ("imap", "pop3") if key == "incoming" else ("smtp",)
    for index, table in enumerate(tables, start=1):
        place = f"{where} {key} {index}"
        if not isinstance(table, Mapping):
            problems.append(f"{place}: not a table")
            continue
        protocol, host = table.get("protocol"), table.get("host")
        port, security, username = table.get("port"), table.get("security"), table.get("username")
        if not isinstance(protocol, str) or protocol not in allowed:
            problems.append(f"{place}: protocol must be one of {allowed}")
            continue
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            problems.append(f"{place}: port must be 1-65535")
            continue
        if security not in ("tls", "starttls"):
            problems.append(f"{place}: security must be tls or starttls")
            continue
        if username not in _USERNAMES:
            problems.append(f"{place}: username must be one of {sorted(_USERNAMES)}")
            continue
        checked_host = _host(host if isinstance(host, str) else "", place, problems)
        if not checked_host:
            problems.append(f"{place}: host is missing")
            continue
        servers.append(
            ServerEntry(
                protocol=Protocol(protocol),
                host=checked_host,
                port=port,
                security=Security(security),
                username=str(username),
                evidence=Evidence.THIRD_PARTY,
            )
        )
    return tuple(servers)


@cache
def default_clouds() -> CloudTable:
    """The program's table (``resources/microsoft/clouds.toml``), loaded and checked once."""
    return CloudTable.from_file(resource_path("microsoft", "clouds.toml"))
