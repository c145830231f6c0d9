"""The keys a configuration file may hold: their names, sections and parsers.

A key is written ``section.name`` (``microsoft.client_id``) or, at the top level, ``name``
(``schema_version``). Their default values are data, in ``resources/config/defaults.toml``;
this module only says which keys exist and how each is checked. A key this version does not
know is reported as unknown (a warning, never a failure), so an older program survives a newer
file.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.core.config import orgvalues, values
from app.core.config.values import Parser

#: Checks a parsed value for what deserves a warning, not an error: each (item, suggestion).
Advisor = Callable[[object], list[tuple[str, str | None]]]


def _advise_provider_ids(parsed: object) -> list[tuple[str, str | None]]:
    if not isinstance(parsed, tuple):
        return []
    return orgvalues.unknown_provider_ids(tuple(str(item) for item in parsed))


#: The schema this program understands. A file with a higher ``schema_version`` is read with
#: a warning: what this version knows is used, the rest is reported as unknown.
SCHEMA_VERSION = 1

#: The top-level key of the machine-wide file that lists the keys nobody else may change.
LOCKED_KEY = "locked"


@dataclass(frozen=True)
class Setting:
    """One configuration key: its dotted name, its parser and, for some, an ``advise`` check
    whose findings are warnings (unknown provider ids)."""

    key: str
    parse: Parser
    advise: Advisor | None = None

    @property
    def section(self) -> str | None:
        """The table the key lives in, or None for a top-level key."""
        head, dot, _ = self.key.partition(".")
        return head if dot else None

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2]


_ALL: tuple[Setting, ...] = (
    Setting("schema_version", values.schema_version),
    Setting("microsoft.client_id", values.client_id),
    Setting("microsoft.authority", values.authority),
    Setting("microsoft.tenant", values.tenant),
    Setting("microsoft.account_types", values.account_types),
    Setting("microsoft.redirect_uri", values.redirect_uri),
    Setting("microsoft.scopes", values.scopes),
    Setting("microsoft.allowed_hosts", values.host_names),
    Setting("network.ca_bundle", values.ca_bundles),
    Setting("network.ispdb_url", orgvalues.ispdb_url),
    Setting("network.proxy", orgvalues.proxy),
    Setting("providers.allowed", orgvalues.provider_ids, _advise_provider_ids),
    Setting("providers.hidden", orgvalues.provider_ids, _advise_provider_ids),
    Setting("organisation.default_app", orgvalues.default_app),
    Setting("branding.product_name", orgvalues.product_name),
    Setting("branding.logo", orgvalues.logo),
    Setting("support.name", orgvalues.support_name),
    Setting("support.email", orgvalues.support_email),
    Setting("support.phone", orgvalues.support_phone),
    Setting("support.url", orgvalues.support_url),
)

#: Every known key by its dotted name.
SETTINGS: Mapping[str, Setting] = {setting.key: setting for setting in _ALL}

#: Tables that hold keys this version knows.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(s.section for s in _ALL if s.section))

#: Tables kept for settings of a later version: known, but every key in them is reported as
#: unknown for now. (Issue 8 filled the ones issue 5 kept.)
RESERVED_SECTIONS: tuple[str, ...] = ()

#: Key names that would hold a client secret or another confidential-client credential.
_CREDENTIAL_NAMES = frozenset({"client_credential", "client_assertion", "certificate_key"})


def is_credential_name(name: str) -> bool:
    """True for a key name that would hold a confidential client's credential."""
    lowered = name.lower()
    return "secret" in lowered or lowered in _CREDENTIAL_NAMES


def top_level_names() -> tuple[str, ...]:
    """Every name a file may use at the top level: keys, ``locked`` and tables."""
    keys = tuple(s.key for s in _ALL if s.section is None)
    return (*keys, LOCKED_KEY, *SECTIONS, *RESERVED_SECTIONS)


def suggest(key: str) -> str | None:
    """The known key (or table) an unknown ``key`` was probably meant to be, or None.

    A key in a table is compared with the keys of that table first, then with keys of the same
    name in other tables (``microsoft.ca_bundle`` -> ``network.ca_bundle``), then with the
    keys of other tables.
    """
    section, dot, name = key.rpartition(".")
    if not dot:
        match = difflib.get_close_matches(key, top_level_names(), n=1, cutoff=0.75)
        return match[0] if match else None
    siblings = [s.name for s in _ALL if s.section == section]
    match = difflib.get_close_matches(name, siblings, n=1, cutoff=0.75)
    if match:
        return f"{section}.{match[0]}"
    same_name = [s.key for s in _ALL if s.name == name and s.section != section]
    if same_name:
        return same_name[0]
    known_sections = (*SECTIONS, *RESERVED_SECTIONS)
    if section not in known_sections:
        close = difflib.get_close_matches(section, known_sections, n=1, cutoff=0.75)
        if close and f"{close[0]}.{name}" in SETTINGS:
            return f"{close[0]}.{name}"
        if close:
            return close[0]
    elsewhere = {s.name: s.key for s in _ALL if s.section is not None and s.section != section}
    match = difflib.get_close_matches(name, list(elsewhere), n=1, cutoff=0.75)
    return elsewhere[match[0]] if match else None


def is_known_lock(key: str) -> bool:
    """True when ``key`` may appear in ``locked``: a known key or a whole known table."""
    return key in SETTINGS or key in SECTIONS
