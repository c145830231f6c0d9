"""The knowledge catalog: what each known failure means, why it happens, what to do about it and
who can do it, in English and Japanese; and the rules that recognise a failure from what a
server or a sign-in service said.

The catalog is data: every ``resources/knowledge/*.toml`` (schema and rules in
``resources/knowledge/README.md``). Each entry is keyed by a stable finding code::

    ["smtp.auth.disabled-tenant"]
    outcome = "error"                       # ok | info | warning | error
    fixer = "admin"                         # user | admin | provider | nobody
    help_topic = "smtp-auth"
    title = { en = "...", ja = "..." }
    cause = { en = "...", ja = "..." }      # may use {named} placeholders
    fix = { en = "...", ja = "..." }
    [["smtp.auth.disabled-tenant".match]]
    protocol = "smtp"                        # optional: a protocol or a list of them
    code = "5.7.139"                         # optional: reply code, enhanced status, AADSTS...
    pattern = "(?i)SmtpClientAuthentication is disabled for the Tenant"  # optional regex

The texts of an entry are also texts of the program's text catalog, under
``knowledge.<code>.title|cause|fix`` (see :func:`app.core.texts.knowledge_text_key`), so a
Finding made here renders like any other.

API (module functions use the program's catalog, loaded once):

- :func:`finding` builds a :class:`~app.core.model.Finding` from an entry;
- :func:`match` recognises a server's reply: the most specific rule wins (protocol + code +
  pattern, then code + pattern, then protocol + pattern, then pattern, then protocol + code,
  then a bare code), so a whole sentence beats a bare code such as 5.7.139, which has many
  meanings; among rules equally specific, the longer matched sentence wins. A rule that names
  protocols applies only to them: without ``protocol`` (a sign-in service's error), only rules
  for any protocol apply;
- :func:`explain` lists every entry a pasted error text or code may be about
  (``mailsetup explain``);
- :func:`entries` and :func:`entry` for listing and documentation.

Unknown codes: :func:`finding` with a code the catalog does not define emits a
:class:`KnowledgeWarning` and returns a generic "unexpected problem" finding that keeps the
code asked for (``strict=True`` raises :class:`UnknownCodeError` instead). The test suite turns
warnings into errors, so a misspelt code fails loudly there, while a user at worst sees a
generic explanation instead of a crash.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, TypeVar

from app.core.diagnostics.redact import redact
from app.core.errors import Fixer
from app.core.model import Finding, Outcome, Protocol
from app.core.resources import resource_path
from app.core.texts import LANGUAGES, Language, ParamValue, Text, knowledge_text_key, placeholders

__all__ = [
    "TEXT_FIELDS",
    "UNKNOWN_CODE",
    "Entry",
    "Knowledge",
    "KnowledgeWarning",
    "MatchRule",
    "UnknownCodeError",
    "default_knowledge",
    "entries",
    "entry",
    "explain",
    "finding",
    "match",
]

#: The texts every entry has, each in every language.
TEXT_FIELDS: Final = ("title", "cause", "fix")
#: The entry used for a code the catalog does not know.
UNKNOWN_CODE: Final = "unknown"

_CODE: Final = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")  # as app.core.model's Finding
_HELP_TOPIC: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ENTRY_FIELDS: Final = frozenset({"outcome", "fixer", "help_topic", "match", *TEXT_FIELDS})
_MATCH_FIELDS: Final = frozenset({"protocol", "code", "pattern"})
_PROTOCOLS: Final = frozenset(p.value for p in Protocol)
_JAPANESE: Final = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_E = TypeVar("_E", Outcome, Fixer)


class UnknownCodeError(KeyError):
    """A finding code that no knowledge file defines."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"no knowledge entry has the code {self.code!r} (add it to resources/knowledge)"


class KnowledgeWarning(UserWarning):
    """A finding was asked for with a code the catalog does not define."""


class KnowledgeError(Exception):
    """A knowledge file cannot be read at all (not TOML)."""


@dataclass(frozen=True)
class MatchRule:
    """One way to recognise an entry. ``protocols`` empty means any protocol."""

    protocols: frozenset[str]
    code: str | None
    pattern: re.Pattern[str] | None

    def specificity(self) -> tuple[int, int, int]:
        """(has a pattern, has a code, names a protocol): compared as a tuple, higher wins."""
        return (
            int(self.pattern is not None),
            int(self.code is not None),
            int(bool(self.protocols)),
        )

    def applies(
        self, text: str, protocol: str | None, code: str | None, *, any_protocol: bool = False
    ) -> int | None:
        """The length of the matched sentence (0 for a code-only rule) if this rule recognises
        ``text``/``code`` for ``protocol``, else None. A rule naming protocols applies only to
        them (not to ``protocol`` None), unless ``any_protocol`` (for :meth:`Knowledge.explain`,
        which does not know the protocol)."""
        if self.protocols and not any_protocol and protocol not in self.protocols:
            return None
        if self.code is not None and not _code_matches(self.code, text, code):
            return None
        if self.pattern is None:
            return 0
        found = self.pattern.search(text)
        return None if found is None else max(1, len(found.group(0)))


def _code_matches(rule_code: str, text: str, code: str | None) -> bool:
    """Whether ``rule_code`` is the code given, or stands in ``text`` as a whole token
    (``5.7.3`` is not found in ``5.7.39``; ``AADSTS50173`` is found in ``AADSTS50173:``)."""
    if code is not None and code.strip().casefold() == rule_code.casefold():
        return True
    token = re.compile(r"(?<![\w.])" + re.escape(rule_code) + r"(?![\w]|\.\w)", re.IGNORECASE)
    return token.search(text) is not None


@dataclass(frozen=True)
class Entry:
    """One known failure (or result). ``texts[field][language]`` are the templates;
    ``source`` the file that defines it."""

    code: str
    outcome: Outcome
    fixer: Fixer
    help_topic: str
    texts: Mapping[str, Mapping[str, str]]
    rules: tuple[MatchRule, ...]
    source: str

    def text(self, field: str, params: Mapping[str, ParamValue] | None = None) -> Text:
        """The Text of ``field`` ("title", "cause" or "fix") with ``params``."""
        if field not in TEXT_FIELDS:
            raise ValueError(f"{field!r} is not one of {TEXT_FIELDS}")
        return Text(knowledge_text_key(self.code, field), params or {})

    @property
    def placeholders(self) -> frozenset[str]:
        """Every ``{name}`` the entry's texts use (the params a finding should pass)."""
        names: set[str] = set()
        for by_language in self.texts.values():
            for template in by_language.values():
                names |= placeholders(template)
        return frozenset(names)

    def to_dict(self, language: Language = "en") -> dict[str, object]:
        """The entry for ``mailsetup explain`` and documentation (templates unrendered)."""
        return {
            "code": self.code,
            "outcome": self.outcome.value,
            "fixer": self.fixer.value,
            "help_topic": self.help_topic,
            **{name: self.texts[name][language] for name in TEXT_FIELDS},
        }


@dataclass(frozen=True)
class Knowledge:
    """A loaded catalog: entries by code, and every problem found while loading (an invalid
    entry is left out and reported here; a valid catalog has none)."""

    by_code: Mapping[str, Entry]
    problems: tuple[str, ...] = ()

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> Knowledge:
        """Load and validate knowledge files. Raises KnowledgeError for a file that is not
        TOML; every other mistake is collected in ``problems``."""
        by_code: dict[str, Entry] = {}
        problems: list[str] = []
        for path in paths:
            try:
                with path.open("rb") as handle:
                    data = tomllib.load(handle)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise KnowledgeError(f"cannot read the knowledge file {path}: {exc}") from exc
            for code, table in data.items():
                if code in by_code:
                    problems.append(
                        f"{path.name}: {code!r} is already defined in {by_code[code].source}"
                    )
                    continue
                entry, entry_problems = _parse_entry(code, table, path.name)
                problems.extend(f"{path.name}: {p}" for p in entry_problems)
                if entry is not None:
                    by_code[code] = entry
        return cls(by_code=by_code, problems=tuple(problems))

    @classmethod
    def from_directory(cls, directory: Path) -> Knowledge:
        """Load every ``*.toml`` in ``directory``, sorted by name."""
        return cls.from_files(sorted(directory.glob("*.toml")))

    def entry(self, code: str) -> Entry:
        """The entry of ``code``; UnknownCodeError if there is none."""
        found = self.by_code.get(code)
        if found is None:
            raise UnknownCodeError(code)
        return found

    def finding(
        self,
        code: str,
        *,
        checked: Text,
        server_said: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
        detail: Mapping[str, str | int] | None = None,
        strict: bool = False,
    ) -> Finding:
        """A Finding for entry ``code``. ``params`` fill the entry's placeholders;
        ``server_said`` is redacted once more (patterns only: callers redact their secrets).

        An unknown code: KnowledgeWarning and the generic entry (UnknownCodeError if
        ``strict``)."""
        found = self.by_code.get(code)
        shown_code = code
        if found is None:
            if strict:
                raise UnknownCodeError(code)
            warnings.warn(str(UnknownCodeError(code)), KnowledgeWarning, stacklevel=3)
            found = self.by_code.get(UNKNOWN_CODE)
            if found is None:
                raise UnknownCodeError(code)
            if not _CODE.match(code):
                shown_code = UNKNOWN_CODE
        values = dict(params or {})
        return Finding(
            code=shown_code,
            checked=checked,
            outcome=found.outcome,
            title=found.text("title", values),
            cause=found.text("cause", values),
            fix=found.text("fix", values),
            fixer=found.fixer,
            help_topic=found.help_topic,
            server_said=None if server_said is None else redact(server_said),
            detail=dict(detail or {}),
        )

    def ranked(
        self,
        text: str,
        *,
        protocol: str | None = None,
        code: str | None = None,
        any_protocol: bool = False,
    ) -> list[tuple[tuple[int, int, int], str]]:
        """Every entry whose rules recognise ``text``/``code``, best first, with its score
        (specificity, length of the matched sentence, earlier in the files). With
        ``any_protocol``, rules for any protocol apply (without their protocol's weight)."""
        protocol = _protocol_name(protocol)
        scored: dict[str, tuple[int, int, int]] = {}
        for order, found in enumerate(self.by_code.values()):
            for rule in found.rules:
                length = rule.applies(text, protocol, code, any_protocol=any_protocol)
                if length is None:
                    continue
                has_pattern, has_code, has_protocol = rule.specificity()
                if protocol is None:
                    has_protocol = 0
                score = (has_pattern * 4 + has_code * 2 + has_protocol, length, -order)
                if found.code not in scored or score > scored[found.code]:
                    scored[found.code] = score
        return sorted(((s, c) for c, s in scored.items()), reverse=True)

    def match(
        self, text: str, *, protocol: str | None = None, code: str | None = None
    ) -> str | None:
        """The code of the entry that best explains a server's reply ``text`` (with its reply
        ``code``, if the caller parsed one out), for ``protocol`` (None: not a mail protocol,
        e.g. a sign-in service; then rules naming a protocol do not apply); None if none
        does."""
        best = self.ranked(text, protocol=protocol, code=code)
        return best[0][1] if best else None

    def explain(self, text: str) -> list[str]:
        """The codes of every entry ``text`` may be about, most likely first: a finding code
        itself, an AADSTS code (``AADSTS50173`` or ``50173``), an enhanced status code
        (``5.7.139``), an Apple error (``NSURLErrorDomain 1012``) or a pasted sentence."""
        query = text.strip()
        codes: list[str] = []
        if query in self.by_code:
            codes.append(query)
        candidates = [query]
        if query.isdigit():
            candidates.append(f"AADSTS{query}")
        for candidate in candidates:
            for _score, found in self.ranked(candidate, code=candidate, any_protocol=True):
                if found not in codes:
                    codes.append(found)
        # A bare code (5.7.139) also names every entry whose rules pair it with a sentence:
        # all its possible meanings, after the entries it matched fully.
        for candidate in (c for c in candidates if not any(ch.isspace() for ch in c)):
            for item in self.by_code.values():
                if item.code not in codes and any(
                    rule.code is not None and _code_matches(rule.code, candidate, candidate)
                    for rule in item.rules
                ):
                    codes.append(item.code)
        return codes


def _protocol_name(protocol: str | None) -> str | None:
    return None if protocol is None else str(getattr(protocol, "value", protocol)).lower()


def _parse_entry(code: str, table: object, source: str) -> tuple[Entry | None, list[str]]:
    problems: list[str] = []
    if not isinstance(table, dict):
        return None, [f"{code!r} is not a table"]
    if not _CODE.match(code):
        problems.append(f"{code!r} is not a finding code like 'imap.auth.failed'")
    elif any(part in TEXT_FIELDS for part in re.split(r"[.]", code)):
        problems.append(f"{code!r} has a part named like a text field {TEXT_FIELDS}")
    unknown = set(table) - _ENTRY_FIELDS
    if unknown:
        problems.append(f"{code!r} has unknown fields {sorted(unknown)}")
    outcome = _enum(Outcome, table.get("outcome"), "outcome", code, problems)
    fixer = _enum(Fixer, table.get("fixer"), "fixer", code, problems)
    help_topic = table.get("help_topic")
    if not isinstance(help_topic, str) or not _HELP_TOPIC.match(help_topic):
        problems.append(f"{code!r}: help_topic {help_topic!r} is not like 'wrong-password'")
    texts: dict[str, dict[str, str]] = {}
    for name in TEXT_FIELDS:
        texts[name] = _texts(code, name, table.get(name), problems)
    rules = _rules(code, table.get("match", []), problems)
    if problems or outcome is None or fixer is None or not isinstance(help_topic, str):
        return None, problems
    entry = Entry(
        code=code,
        outcome=outcome,
        fixer=fixer,
        help_topic=help_topic,
        texts=texts,
        rules=rules,
        source=source,
    )
    return entry, problems


def _enum(kind: type[_E], value: object, name: str, code: str, problems: list[str]) -> _E | None:
    if isinstance(value, str) and value in {member.value for member in kind}:
        return kind(value)
    allowed = ", ".join(member.value for member in kind)
    problems.append(f"{code!r}: {name} {value!r} is not one of {allowed}")
    return None


def _texts(code: str, name: str, value: object, problems: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append(f"{code!r} has no {name} table with en and ja texts")
        return {}
    texts: dict[str, str] = {}
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        problems.append(f"{code!r}: {name} has unknown languages {sorted(unknown)}")
    found: dict[str, frozenset[str]] = {}
    for language in LANGUAGES:
        template = value.get(language)
        if not isinstance(template, str) or not template.strip():
            problems.append(f"{code!r}: {name} has no {language} text")
            continue
        texts[language] = template
        try:
            found[language] = placeholders(template)
        except ValueError as exc:
            problems.append(f"{code!r}: {name} ({language}): {exc}")
    if len(set(found.values())) > 1:
        described = ", ".join(f"{lang}: {sorted(names)}" for lang, names in found.items())
        problems.append(f"{code!r}: {name} uses different placeholders ({described})")
    if "ja" in texts and not _JAPANESE.search(texts["ja"]):
        problems.append(f"{code!r}: {name} (ja) is not Japanese")
    return texts


def _rules(code: str, value: object, problems: list[str]) -> tuple[MatchRule, ...]:
    if not isinstance(value, list):
        problems.append(f'{code!r}: match must be an array of tables ([["{code}".match]])')
        return ()
    rules: list[MatchRule] = []
    for index, item in enumerate(value):
        where = f"{code!r} match #{index + 1}"
        if not isinstance(item, dict):
            problems.append(f"{where} is not a table")
            continue
        unknown = set(item) - _MATCH_FIELDS
        if unknown:
            problems.append(f"{where} has unknown fields {sorted(unknown)}")
        raw_protocols = item.get("protocol", [])
        protocols = [raw_protocols] if isinstance(raw_protocols, str) else raw_protocols
        if not isinstance(protocols, list) or not all(p in _PROTOCOLS for p in protocols):
            problems.append(
                f"{where}: protocol {raw_protocols!r} is not among {sorted(_PROTOCOLS)}"
            )
            protocols = []
        rule_code = item.get("code")
        if rule_code is not None and (not isinstance(rule_code, str) or not rule_code.strip()):
            problems.append(f"{where}: code must be a non-empty string")
            rule_code = None
        raw_pattern = item.get("pattern")
        pattern: re.Pattern[str] | None = None
        if raw_pattern is not None:
            if not isinstance(raw_pattern, str) or not raw_pattern:
                problems.append(f"{where}: pattern must be a non-empty string")
            else:
                try:
                    pattern = re.compile(raw_pattern)
                except re.error as exc:
                    problems.append(f"{where}: pattern does not compile: {exc}")
                else:
                    if pattern.search(""):
                        problems.append(f"{where}: pattern matches an empty text")
                        pattern = None
        if rule_code is None and pattern is None:
            problems.append(f"{where} needs a code or a pattern")
            continue
        rules.append(MatchRule(frozenset(protocols), rule_code, pattern))
    return tuple(rules)


# --- the program's catalog --------------------------------------------------------------------


@cache
def default_knowledge() -> Knowledge:
    """Every ``resources/knowledge/*.toml``, loaded and validated once."""
    return Knowledge.from_directory(resource_path("knowledge"))


def finding(
    code: str,
    *,
    checked: Text,
    server_said: str | None = None,
    params: Mapping[str, ParamValue] | None = None,
    detail: Mapping[str, str | int] | None = None,
) -> Finding:
    """A Finding for the catalog entry ``code`` (see :meth:`Knowledge.finding`)."""
    return default_knowledge().finding(
        code, checked=checked, server_said=server_said, params=params, detail=detail
    )


def match(text: str, *, protocol: str | None = None, code: str | None = None) -> str | None:
    """The code of the entry that best explains ``text`` (see :meth:`Knowledge.match`)."""
    return default_knowledge().match(text, protocol=protocol, code=code)


def explain(text: str) -> list[str]:
    """Every entry code ``text`` may be about, most likely first (see :meth:`Knowledge.explain`)."""
    return default_knowledge().explain(text)


def entries() -> tuple[Entry, ...]:
    """Every entry of the program's catalog, in file order."""
    return tuple(default_knowledge().by_code.values())


def entry(code: str) -> Entry:
    """The entry of ``code``; UnknownCodeError if there is none."""
    return default_knowledge().entry(code)
