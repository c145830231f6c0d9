"""The built-in provider catalog: well-known providers answered offline, with no network at all.

The data is ``resources/providers/*.toml`` (one provider per file; the schema is in that
folder's README.md). :class:`ProviderCatalog` loads and validates it strictly: a file that
breaks the schema is an error (:class:`CatalogDataError` lists every problem), never a silently
skipped entry. A provider matches an address by its domain (exact, or ``*.suffix`` for any
depth below ``suffix``) or, through the MX source (``mx.py``), by the host names of the
domain's MX records (shell-style patterns).

:class:`CatalogSource` is the discovery source ``"catalog"``: by domain only, never the
network, trust HIGH. :meth:`Provider.account_configs` turns an entry into candidate
:class:`~app.core.model.AccountConfig` values for one address; hints come from the entry's
notes, which the text catalog loads as ``provider.<id>.note.<key>``
(:func:`~app.core.texts.provider_note_key`).
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, get_args
from urllib.parse import urlsplit

from app.core.discovery.base import (
    DiscoveryContext,
    ProviderRef,
    SourceOutcome,
    SourceReport,
    Stopwatch,
)
from app.core.discovery.clientconfig import expand_placeholders
from app.core.errors import InvalidSettingError
from app.core.model import (
    AccountConfig,
    AuthKind,
    EmailAddress,
    Endpoint,
    Protocol,
    Provenance,
    Security,
    Trust,
    normalise_host,
)
from app.core.resources import resource_path
from app.core.texts import Text, provider_note_key

__all__ = [
    "ASK",
    "LOGIN_NOTES",
    "MX_ONLY_NOTES",
    "CatalogDataError",
    "CatalogSource",
    "Evidence",
    "FactSource",
    "MatchedBy",
    "Provider",
    "ProviderCatalog",
    "ServerEntry",
    "default_catalog",
    "parse_provider",
]

SCHEMA_VERSION: Final = 1
#: The username placeholder meaning "cannot be derived from the address: ask the person".
ASK: Final = "%ASK%"
USERNAME_TEMPLATES: Final = frozenset({"%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%", ASK})
#: Notes that tell the person which sign-in name to type; the first one an entry has is
#: quoted in the hint of a candidate whose user name is ``%ASK%``.
LOGIN_NOTES: Final = (
    "custom_domain_login",
    "imap_id_and_password",
    "yahoo_japan_id",
    "primary_address_login",
    "alias_login",
)
#: Notes that only concern addresses recognised by their MX records (a custom domain).
MX_ONLY_NOTES: Final = frozenset({"custom_domain_login"})

MatchedBy = Literal["domain", "mx"]
_MATCHED_BY: Final = frozenset(get_args(MatchedBy))


class Evidence(StrEnum):
    """How well a server's values are sourced (README: ``evidence``)."""

    PROVIDER = "provider"
    ISPDB = "ispdb"
    THIRD_PARTY = "third-party"


class CatalogDataError(ValueError):
    """The provider catalog's data breaks its schema. ``problems`` lists every one found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("the provider catalog is invalid:\n" + "\n".join(self.problems))


@dataclass(frozen=True)
class ServerEntry:
    """One ``[[incoming]]`` or ``[[outgoing]]`` table; ``username`` is still a placeholder."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    username: str
    evidence: Evidence
    applies_to: MatchedBy | None = None
    mechanisms: tuple[str, ...] = ()

    def applies(self, matched_by: MatchedBy) -> bool:
        return self.applies_to is None or self.applies_to == matched_by

    @property
    def asks_username(self) -> bool:
        return self.username == ASK

    def endpoint(self, address: EmailAddress) -> Endpoint:
        """The server for ``address``: placeholders filled in, ``%ASK%`` as username None."""
        username = None if self.asks_username else expand_placeholders(self.username, address)
        return Endpoint(self.protocol, self.host, self.port, self.security, username)


@dataclass(frozen=True)
class FactSource:
    """One ``[[sources]]`` table: where facts of the entry came from."""

    url: str
    supports: str
    kind: str
    seen: str | None = None


@dataclass(frozen=True)
class Provider:
    """One provider of the catalog (one file). ``notes`` maps note keys, in file order, to
    their renderable :class:`~app.core.texts.Text`."""

    id: str
    name: str
    evidence: Evidence
    domains: tuple[str, ...]
    mx_patterns: tuple[str, ...]
    auth: AuthKind
    incoming: tuple[ServerEntry, ...]
    outgoing: tuple[ServerEntry, ...]
    notes: Mapping[str, Text] = field(hash=False)
    sources: tuple[FactSource, ...]
    auth_fallback: AuthKind | None = None
    app_password_url: str | None = None
    help_url: str | None = None
    enable_url: str | None = None
    caldav: str | None = None
    carddav: str | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def ref(self) -> ProviderRef:
        return ProviderRef(self.id, self.name)

    @property
    def login_note(self) -> str | None:
        """The key of the note saying which sign-in name to type, if the entry has one."""
        return next((key for key in LOGIN_NOTES if key in self.notes), None)

    def matches_domain(self, domain: str) -> bool:
        """Whether ``domain`` (ASCII, lower case) is one of the provider's domains."""
        return any(_domain_matches(entry, domain) for entry in self.domains)

    def mx_pattern_for(self, host: str) -> str | None:
        """The first of the provider's MX patterns that ``host`` (lower case) matches."""
        return next((p for p in self.mx_patterns if fnmatchcase(host, p)), None)

    def hints(self, matched_by: MatchedBy, *, asks_username: bool = False) -> tuple[Text, ...]:
        """The notes for the person as hints, in file order; with ``asks_username`` first a
        hint that the sign-in name must be typed, quoting the note that says which one."""
        hints: list[Text] = []
        quoted = None
        if asks_username:
            quoted = self.login_note
            if quoted is None:
                hints.append(
                    Text("discovery.catalog.ask-username-generic", {"provider": self.name})
                )
            else:
                hints.append(
                    Text(
                        "discovery.catalog.ask-username",
                        {"provider": self.name, "what": self.notes[quoted]},
                    )
                )
        for key, text in self.notes.items():
            if key == quoted or (key in MX_ONLY_NOTES and matched_by != "mx"):
                continue
            hints.append(text)
        return tuple(hints)

    def account_configs(
        self,
        address: EmailAddress,
        provenance: Provenance,
        matched_by: MatchedBy = "domain",
    ) -> tuple[AccountConfig, ...]:
        """Candidates for ``address``, most preferred first: each incoming server that applies
        to ``matched_by`` with the first outgoing server, then the first incoming server with
        each further outgoing server (so every listed server appears once). A ``%ASK%`` user
        name becomes None, with a hint saying what to type."""
        if matched_by not in _MATCHED_BY:
            raise ValueError(f"matched_by must be 'domain' or 'mx', not {matched_by!r}")
        incoming = [s for s in self.incoming if s.applies(matched_by)]
        outgoing = [s for s in self.outgoing if s.applies(matched_by)]
        if not incoming:
            return ()
        pairs: list[tuple[ServerEntry, ServerEntry | None]] = [
            (server, outgoing[0] if outgoing else None) for server in incoming
        ]
        pairs.extend((incoming[0], server) for server in outgoing[1:])
        caldav = expand_placeholders(self.caldav, address, in_url=True) if self.caldav else None
        carddav = expand_placeholders(self.carddav, address, in_url=True) if self.carddav else None
        configs: list[AccountConfig] = []
        for inc, out in pairs:
            asks = inc.asks_username or (out is not None and out.asks_username)
            configs.append(
                AccountConfig(
                    incoming=inc.endpoint(address),
                    outgoing=None if out is None else out.endpoint(address),
                    caldav=caldav,
                    carddav=carddav,
                    auth=self.auth,
                    provider_id=self.id,
                    provider_name=self.name,
                    hints=self.hints(matched_by, asks_username=asks),
                    provenance=provenance,
                )
            )
        return tuple(configs)


def _domain_matches(entry: str, domain: str) -> bool:
    if entry.startswith("*."):
        return domain.endswith(entry[1:])
    return domain == entry


# --- parsing and validation ---------------------------------------------------------------------

_ID: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NOTE_KEY: Final = re.compile(r"^[a-z0-9_]+$")
_MX_PATTERN: Final = re.compile(r"^[a-z0-9*.-]+$")
_JAPANESE: Final = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_AUTH_VALUES: Final = frozenset(kind.value for kind in AuthKind if kind is not AuthKind.NONE)
_SOURCE_KINDS: Final = frozenset({"provider", "ispdb", "third-party", "project-research"})
_MECHANISMS: Final = frozenset({"password", "encrypted"})
_URL_KEYS: Final = ("app_password_url", "help_url", "enable_url", "caldav", "carddav")
_TOP_KEYS: Final = frozenset(_URL_KEYS) | {
    *("schema", "id", "name", "evidence", "domains", "mx_patterns", "auth", "auth_fallback"),
    *("incoming", "outgoing", "notes", "sources"),
}
_SERVER_KEYS: Final = frozenset(
    {"protocol", "host", "port", "security", "username", "applies_to", "evidence", "mechanisms"}
)
_SOURCE_KEYS: Final = frozenset({"url", "supports", "kind", "seen"})
#: Used to check URLs that contain placeholders.
_SAMPLE_ADDRESS: Final = EmailAddress.parse("taro.yamada@example.jp")


class _Problems:
    """Problems found in one file, each prefixed with the file and the place."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, place: str, message: str) -> None:
        self.items.append(f"{self.where}: {place}: {message}")


def _text(data: Mapping[str, object], key: str, problems: _Problems, place: str) -> str | None:
    value = data.get(key)
    if value is None:
        problems.add(place, f"{key!r} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(place, f"{key!r} must be a non-empty string")
        return None
    return value


def _optional_text(
    data: Mapping[str, object], key: str, problems: _Problems, place: str
) -> str | None:
    if key not in data:
        return None
    return _text(data, key, problems, place)


def _https_url(url: str | None, key: str, problems: _Problems, *, template: bool = False) -> None:
    if url is None:
        return
    checked = expand_placeholders(url, _SAMPLE_ADDRESS, in_url=True) if template else url
    if "%" in checked.replace("%40", ""):
        problems.add(key, f"{url!r} has an unknown placeholder")
    parts = urlsplit(checked)
    if parts.scheme != "https" or not parts.hostname:
        problems.add(key, f"{url!r} is not an https URL")
        return
    try:
        normalise_host(parts.hostname)
    except InvalidSettingError:
        problems.add(key, f"{url!r} has an invalid host name")


def _enum(value: object, allowed: Iterable[str], key: str, problems: _Problems, place: str) -> bool:
    choices = sorted(allowed)
    if not isinstance(value, str) or value not in choices:
        problems.add(place, f"{key} {value!r} is not one of {choices}")
        return False
    return True


def _string_list(data: Mapping[str, object], key: str, problems: _Problems) -> list[str]:
    value = data.get(key)
    if value is None:
        problems.add(key, "is required (it may be an empty list)")
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.add(key, "must be a list of strings")
        return []
    duplicates = sorted({item for item in value if value.count(item) > 1})
    if duplicates:
        problems.add(key, f"lists {duplicates} more than once")
    return list(dict.fromkeys(value))


def _check_domain(entry: str, problems: _Problems) -> None:
    name = entry[2:] if entry.startswith("*.") else entry
    try:
        valid = normalise_host(name) == name and "." in name and "*" not in name
    except InvalidSettingError:
        valid = False
    if not valid:
        problems.add("domains", f"{entry!r} is not a lower-case ASCII domain or '*.suffix'")


def _check_mx_pattern(pattern: str, problems: _Problems) -> None:
    if not _MX_PATTERN.match(pattern) or ".." in pattern or pattern.startswith("."):
        problems.add("mx_patterns", f"{pattern!r} is not a lower-case host name pattern")
        return
    # The literal part after the last "*" must name at least a registered domain, so that a
    # pattern can never match every host under a top-level domain.
    suffix = pattern.rsplit("*", 1)[-1].lstrip(".-")
    if "*" in pattern and suffix.count(".") < 1:
        problems.add("mx_patterns", f"{pattern!r} is too broad")


def _server(
    data: object, direction: str, index: int, problems: _Problems, default: Evidence | None
) -> ServerEntry | None:
    place = f"{direction}[{index}]"
    if not isinstance(data, dict):
        problems.add(place, "must be a table")
        return None
    unknown = sorted(set(data) - _SERVER_KEYS)
    if unknown:
        problems.add(place, f"unknown keys {unknown}")
    protocols = {"imap", "pop3"} if direction == "incoming" else {"smtp"}
    protocol = data.get("protocol")
    ok = _enum(protocol, protocols, "protocol", problems, place)
    ok = (
        _enum(data.get("security"), {s.value for s in Security}, "security", problems, place) and ok
    )
    username = data.get("username")
    ok = _enum(username, USERNAME_TEMPLATES, "username", problems, place) and ok
    applies_to: MatchedBy | None = None
    if "applies_to" in data:
        value = data["applies_to"]
        if _enum(value, _MATCHED_BY, "applies_to", problems, place):
            applies_to = "domain" if value == "domain" else "mx"
        else:
            ok = False
    evidence = data.get("evidence", None if default is None else default.value)
    ok = _enum(evidence, {e.value for e in Evidence}, "evidence", problems, place) and ok
    mechanisms = data.get("mechanisms", [])
    if "mechanisms" in data and (
        not isinstance(mechanisms, list) or not mechanisms or not set(mechanisms) <= _MECHANISMS
    ):
        problems.add(place, f"mechanisms {mechanisms!r} must be some of {sorted(_MECHANISMS)}")
        ok = False
    host, port = data.get("host"), data.get("port")
    if not isinstance(host, str) or isinstance(port, bool) or not isinstance(port, int):
        problems.add(place, "host must be a string and port an integer")
        return None
    if not ok:
        return None
    try:
        endpoint = Endpoint(Protocol(str(protocol)), host, port, Security(str(data["security"])))
    except InvalidSettingError as exc:
        problems.add(place, f"{host}:{port} is not a valid server ({exc.code})")
        return None
    if endpoint.host != host:
        problems.add(place, f"host {host!r} must be written as {endpoint.host!r}")
    return ServerEntry(
        protocol=endpoint.protocol,
        host=endpoint.host,
        port=endpoint.port,
        security=endpoint.security,
        username=str(username),
        evidence=Evidence(str(evidence)),
        applies_to=applies_to,
        mechanisms=tuple(str(m) for m in mechanisms),
    )


def _servers(
    data: Mapping[str, object], direction: str, problems: _Problems, default: Evidence | None
) -> tuple[ServerEntry, ...]:
    tables = data.get(direction)
    if not isinstance(tables, list) or not tables:
        problems.add(direction, "must be a non-empty array of tables")
        return ()
    found = (_server(t, direction, i, problems, default) for i, t in enumerate(tables))
    return tuple(server for server in found if server is not None)


def _notes(provider_id: str, data: Mapping[str, object], problems: _Problems) -> dict[str, Text]:
    notes = data.get("notes")
    if not isinstance(notes, dict):
        problems.add("notes", "is required and must be a table (it may be empty)")
        return {}
    result: dict[str, Text] = {}
    for key, entry in notes.items():
        place = f"notes.{key}"
        if not _NOTE_KEY.match(key):
            problems.add(place, "keys are lower-case ASCII, digits and '_'")
        if not isinstance(entry, dict) or set(entry) != {"en", "ja"}:
            problems.add(place, "must be { en = ..., ja = ... } and nothing else")
            continue
        for language in ("en", "ja"):
            text = entry[language]
            if not isinstance(text, str) or not text.strip():
                problems.add(place, f"{language} must be a non-empty string")
            elif "{" in text or "}" in text:
                problems.add(place, f"{language} must not contain braces (they mean placeholders)")
        if isinstance(entry["ja"], str) and not _JAPANESE.search(entry["ja"]):
            problems.add(place, "ja is not Japanese")
        result[key] = Text(provider_note_key(provider_id, key))
    return result


def _sources(data: Mapping[str, object], problems: _Problems) -> tuple[FactSource, ...]:
    tables = data.get("sources")
    if not isinstance(tables, list) or not tables:
        problems.add("sources", "every entry must say where its facts came from")
        return ()
    result: list[FactSource] = []
    for index, table in enumerate(tables):
        place = f"sources[{index}]"
        if not isinstance(table, dict):
            problems.add(place, "must be a table")
            continue
        unknown = sorted(set(table) - _SOURCE_KEYS)
        if unknown:
            problems.add(place, f"unknown keys {unknown}")
        url = _text(table, "url", problems, place)
        supports = _text(table, "supports", problems, place)
        kind = table.get("kind")
        if not _enum(kind, _SOURCE_KINDS, "kind", problems, place) or not url or not supports:
            continue
        if not url.startswith(("https://", "http://", "/work/shared/research/", "code corpus:")):
            problems.add(place, f"url {url!r} is not a web page, project research or code corpus")
        seen = table.get("seen")
        if seen is not None and not isinstance(seen, str | datetime.date):
            problems.add(place, "seen must be a date")
        result.append(FactSource(url, supports, str(kind), None if seen is None else str(seen)))
    return tuple(result)


def parse_provider(data: Mapping[str, object], file_id: str, path: Path | None = None) -> Provider:
    """The provider described by ``data`` (one file's TOML) whose file is ``<file_id>.toml``.

    Raises CatalogDataError listing every problem: unknown keys, missing or mistyped values,
    enum values, host names, ports, non-https URLs, notes without both languages, entries
    without sources, servers that leave a way of matching without an incoming or outgoing
    server, ``%ASK%`` without a note saying what to type.
    """
    problems = _Problems(f"{file_id}.toml")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        problems.add("top level", f"unknown keys {unknown}")
    schema = data.get("schema")
    if isinstance(schema, bool) or schema != SCHEMA_VERSION:
        problems.add("schema", f"must be {SCHEMA_VERSION}, not {schema!r}")
    provider_id = _text(data, "id", problems, "id") or file_id
    if provider_id != file_id:
        problems.add("id", f"{provider_id!r} must equal the file name {file_id!r}")
    if not _ID.match(provider_id):
        problems.add("id", f"{provider_id!r} must be lower-case ASCII words joined by '-'")
    name = _text(data, "name", problems, "name") or provider_id
    evidence_value = data.get("evidence")
    evidence = None
    if _enum(evidence_value, {e.value for e in Evidence}, "evidence", problems, "evidence"):
        evidence = Evidence(str(evidence_value))
    domains = _string_list(data, "domains", problems)
    for domain in domains:
        _check_domain(domain, problems)
    patterns = _string_list(data, "mx_patterns", problems)
    for pattern in patterns:
        _check_mx_pattern(pattern, problems)
    if not domains and not patterns:
        problems.add("domains", "domains and mx_patterns cannot both be empty")
    auth: AuthKind | None = None
    if _enum(data.get("auth"), _AUTH_VALUES, "auth", problems, "auth"):
        auth = AuthKind(str(data["auth"]))
    fallback: AuthKind | None = None
    if "auth_fallback" in data and _enum(
        data["auth_fallback"], _AUTH_VALUES, "auth_fallback", problems, "auth_fallback"
    ):
        fallback = AuthKind(str(data["auth_fallback"]))
        if fallback == auth:
            problems.add("auth_fallback", "must differ from auth")
    urls = {key: _optional_text(data, key, problems, key) for key in _URL_KEYS}
    for key, url in urls.items():
        _https_url(url, key, problems, template=key in ("caldav", "carddav"))
    incoming = _servers(data, "incoming", problems, evidence)
    outgoing = _servers(data, "outgoing", problems, evidence)
    ways: tuple[tuple[MatchedBy, list[str]], ...] = (("domain", domains), ("mx", patterns))
    for matched_by, listed in ways:
        for direction, servers in (("incoming", incoming), ("outgoing", outgoing)):
            if listed and not any(s.applies(matched_by) for s in servers):
                problems.add(direction, f"no server applies to addresses matched by {matched_by}")
    notes = _notes(provider_id, data, problems)
    asks = any(s.asks_username for s in (*incoming, *outgoing))
    if asks and not any(key in notes for key in LOGIN_NOTES):
        problems.add("notes", f"'%ASK%' needs a note saying what to type (one of {LOGIN_NOTES})")
    sources = _sources(data, problems)
    if problems.items or auth is None or evidence is None:
        raise CatalogDataError(problems.items or [f"{file_id}.toml: invalid"])
    return Provider(
        id=provider_id,
        name=name,
        evidence=evidence,
        domains=tuple(domains),
        mx_patterns=tuple(patterns),
        auth=auth,
        auth_fallback=fallback,
        app_password_url=urls["app_password_url"],
        help_url=urls["help_url"],
        enable_url=urls["enable_url"],
        caldav=urls["caldav"],
        carddav=urls["carddav"],
        incoming=incoming,
        outgoing=outgoing,
        notes=MappingProxyType(notes),
        sources=sources,
        path=path,
    )


# --- the catalog --------------------------------------------------------------------------------


class ProviderCatalog:
    """Every provider, indexed by domain and MX pattern. Raises CatalogDataError when two
    providers claim the same domain or the same MX pattern."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self.providers = tuple(providers)
        problems: list[str] = []
        self._by_id: dict[str, Provider] = {}
        self._exact: dict[str, Provider] = {}
        self._wildcards: list[tuple[str, Provider]] = []
        patterns: dict[str, Provider] = {}
        for provider in self.providers:
            if provider.id in self._by_id:
                problems.append(f"provider id {provider.id!r} is used twice")
            self._by_id[provider.id] = provider
            for entry in provider.domains:
                if entry.startswith("*."):
                    self._wildcards.append((entry[1:], provider))
                elif entry in self._exact:
                    owner_id = self._exact[entry].id
                    problems.append(f"domain {entry!r} is claimed by {owner_id} and {provider.id}")
                else:
                    self._exact[entry] = provider
            for pattern in provider.mx_patterns:
                if pattern in patterns:
                    owner_id = patterns[pattern].id
                    problems.append(f"MX pattern {pattern!r} is in {owner_id} and {provider.id}")
                patterns[pattern] = provider
        # A wildcard may not cover another provider's domain or wildcard either.
        for suffix, provider in self._wildcards:
            for domain, owner in self._exact.items():
                if owner is not provider and domain.endswith(suffix):
                    problems.append(
                        f"domain {domain!r} of {owner.id} is under *{suffix} of {provider.id}"
                    )
            for other_suffix, other in self._wildcards:
                if other is not provider and other_suffix.endswith(suffix):
                    problems.append(
                        f"*{other_suffix} of {other.id} is under *{suffix} of {provider.id}"
                    )
        # Longest suffix first, so that the most specific wildcard wins.
        self._wildcards.sort(key=lambda item: -len(item[0]))
        if problems:
            raise CatalogDataError(problems)

    @classmethod
    def from_directory(cls, directory: Path) -> ProviderCatalog:
        """Load and validate every ``*.toml`` in ``directory`` (sorted by name); raises
        CatalogDataError with the problems of all files together."""
        providers: list[Provider] = []
        problems: list[str] = []
        for path in sorted(directory.glob("*.toml")):
            try:
                with path.open("rb") as handle:
                    data = tomllib.load(handle)
                providers.append(parse_provider(data, path.stem, path))
            except tomllib.TOMLDecodeError as exc:
                problems.append(f"{path.name}: not TOML: {exc}")
            except CatalogDataError as exc:
                problems.extend(exc.problems)
        if not providers and not problems:
            problems.append(f"{directory}: no provider files")
        if problems:
            raise CatalogDataError(problems)
        return cls(providers)

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)

    def get(self, provider_id: str) -> Provider | None:
        return self._by_id.get(provider_id)

    def by_domain(self, domain: str) -> Provider | None:
        """The provider whose ``domains`` list ``domain`` (exact first, then the longest
        ``*.suffix`` it is below). Case, a final dot and Unicode (IDNA) forms are accepted."""
        name = _normalise(domain)
        if name is None:
            return None
        exact = self._exact.get(name)
        if exact is not None:
            return exact
        return next((p for suffix, p in self._wildcards if name.endswith(suffix)), None)

    def match_mx(self, host: str) -> tuple[Provider, str] | None:
        """The provider one of whose ``mx_patterns`` the MX host ``host`` matches, with that
        pattern (shell-style, on the lower-case name without a final dot)."""
        name = _normalise(host)
        if name is None:
            return None
        for provider in self.providers:
            pattern = provider.mx_pattern_for(name)
            if pattern is not None:
                return provider, pattern
        return None

    def by_mx(self, host: str) -> Provider | None:
        """The provider whose MX patterns match ``host``, or None."""
        match = self.match_mx(host)
        return None if match is None else match[0]

    def all_domains(self) -> tuple[str, ...]:
        """Every exact domain of every provider (not the ``*.suffix`` entries), by file name
        and then in file order: the known domains for "did you mean ...?"."""
        return tuple(d for p in self.providers for d in p.domains if not d.startswith("*."))


def _normalise(name: str) -> str | None:
    try:
        return normalise_host(name)
    except InvalidSettingError:
        return None


@cache
def default_catalog() -> ProviderCatalog:
    """The program's catalog (``resources/providers``), loaded and validated once."""
    return ProviderCatalog.from_directory(resource_path("providers"))


# --- the discovery source -----------------------------------------------------------------------


class CatalogSource:
    """Discovery source ``"catalog"``: the provider that lists the address's domain. Uses no
    network at all (it works with ``NetworkOptions(offline=True)``); its answers are trusted."""

    name = "catalog"

    def __init__(self, catalog: ProviderCatalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> ProviderCatalog:
        return self._catalog if self._catalog is not None else default_catalog()

    async def run(self, context: DiscoveryContext) -> SourceReport:
        watch = Stopwatch()
        domain = context.address.domain_ascii
        provider = self.catalog.by_domain(domain)
        if provider is None:
            return SourceReport(
                name=self.name,
                outcome=SourceOutcome.NOTHING,
                detail=f"no provider of the built-in catalog lists {domain}",
                ms=watch.ms(),
            )
        entry = next(d for d in provider.domains if _domain_matches(d, domain))
        detail = f"built-in catalog: {provider.id} lists {entry}"
        provenance = Provenance(source=self.name, trust=Trust.HIGH, over_https=False, detail=detail)
        candidates = provider.account_configs(context.address, provenance, "domain")
        return SourceReport(
            name=self.name,
            outcome=SourceOutcome.FOUND if candidates else SourceOutcome.NOTHING,
            candidates=candidates,
            provider=provider.ref,
            detail=detail,
            data={"provider": provider.id, "matched_by": "domain", "entry": entry},
            ms=watch.ms(),
        )
