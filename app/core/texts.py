"""The core's user-visible texts: message references, the catalog, and rendering in a language.

The core never builds English sentences. It builds :class:`Text` values (a message key plus named
parameters) and a caller renders them late, in the language the person reads, with
:func:`render`. The sentences live in ``resources/texts/*.toml``: one table per message key,
each with an ``en`` and a ``ja`` entry (and optionally a ``note`` for translators)::

    [address.no-at]
    en = "The address has no @. ..."
    ja = "メールアドレスに「@」がありません。..."

Dotted table names nest in TOML; the catalog flattens them back into keys such as
``address.no-at``. A key is defined once across all files.

Write each key as a string literal, the first argument of the ``Text`` call: a test scans
app/core and app/cli for such calls and fails when a key is missing from the catalog.

The notes of the built-in provider catalog (``[notes]`` of ``resources/providers/*.toml``, each
with ``en`` and ``ja``) are texts too, under ``provider.<file name>.note.<note key>`` (see
:func:`provider_note_key`), so hints made from them render like any other text. So are the
title, cause and fix of each entry of the knowledge catalog (``resources/knowledge/*.toml``),
under ``knowledge.<code>.title|cause|fix`` (see :func:`knowledge_text_key`).

Unknown keys and missing parameters: :meth:`Catalog.template` raises :class:`UnknownTextError`
(a ``KeyError``). :func:`render` does not crash the program over a missing text: it emits a
:class:`TextWarning` and shows the key (or leaves ``{name}`` in place). The test suite turns
warnings into errors (``filterwarnings = error``), so there the same mistake fails loudly,
while a user at worst sees a key instead of a sentence. ``render(..., strict=True)`` raises
instead of warning.
"""

from __future__ import annotations

import os
import string
import tomllib
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, TypeAlias, get_args

from app.core.resources import resource_path

Language: TypeAlias = Literal["en", "ja"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "en"

#: Fields an entry of a catalog may have besides the languages.
_EXTRA_FIELDS = frozenset({"note"})

ParamValue: TypeAlias = "str | int | float | Text"


class UnknownTextError(KeyError):
    """A message key that no catalog defines."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no text has the key {self.key!r} (add it to resources/texts/*.toml)"


class TextWarning(UserWarning):
    """A text could not be rendered as written (unknown key, missing parameter, bad template)."""


class CatalogError(Exception):
    """A catalog file cannot be read at all (not TOML, or not a table of texts)."""


@dataclass(frozen=True)
class Text:
    """A reference to a translatable message: a key and named parameters, rendered later.

    ``params`` is copied on construction; a parameter may itself be a :class:`Text`, which is
    rendered in the same language. Texts compare and hash by key and parameters.
    """

    key: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key or not isinstance(self.key, str):
            raise ValueError("a Text needs a non-empty key")
        copied = dict(self.params)
        for name in copied:
            if not name.isidentifier():
                raise ValueError(f"parameter name {name!r} of text {self.key!r} is not a name")
        object.__setattr__(self, "params", copied)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(self.params.items(), key=lambda item: item[0]))))

    def render(self, language: Language = DEFAULT_LANGUAGE) -> str:
        """This text in ``language``, from the program's catalog."""
        return render(self, language)


def placeholders(template: str) -> frozenset[str]:
    """The names of the ``{placeholders}`` in a template; ValueError if it is malformed."""
    names: set[str] = set()
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name like {{host}}")
        names.add(name)
    return frozenset(names)


@dataclass(frozen=True)
class Catalog:
    """Message templates by key and language, and the problems found while loading them."""

    entries: Mapping[str, Mapping[str, str]]
    problems: tuple[str, ...] = ()

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path],
        provider_files: Iterable[Path] = (),
        knowledge_files: Iterable[Path] = (),
    ) -> Catalog:
        """Load and merge TOML catalogs, then the ``[notes]`` of ``provider_files`` (provider
        catalog files) as ``provider.<file name>.note.<key>``, then the texts of
        ``knowledge_files`` (knowledge catalog files) as ``knowledge.<code>.<field>``. Raises
        CatalogError for a file that is not TOML."""
        tables = [(path, _read_toml(path)) for path in paths]
        for path in provider_files:
            notes = _read_toml(path).get("notes")
            if isinstance(notes, dict) and notes:
                tables.append((path, {"provider": {path.stem: {"note": notes}}}))
        for path in knowledge_files:
            tables.append((path, {"knowledge": _knowledge_texts(_read_toml(path))}))
        entries: dict[str, dict[str, str]] = {}
        origin: dict[str, Path] = {}
        problems: list[str] = []
        for path, data in tables:
            for key, entry, entry_problems in _flatten(data, ()):
                problems.extend(f"{path.name}: {problem}" for problem in entry_problems)
                if key in entries:
                    problems.append(f"{path.name}: {key!r} is already defined in {origin[key]}")
                    continue
                entries[key] = entry
                origin[key] = path
                problems.extend(f"{path.name}: {p}" for p in _check_entry(key, entry))
        return cls(entries=entries, problems=tuple(problems))

    @classmethod
    def from_directory(cls, directory: Path) -> Catalog:
        """Load every ``*.toml`` in ``directory`` (sorted by name)."""
        return cls.from_files(sorted(directory.glob("*.toml")))

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def template(self, key: str, language: Language) -> str:
        """The template of ``key`` in ``language`` (English if that one is missing).

        Raises UnknownTextError if no catalog defines ``key``.
        """
        entry = self.entries.get(key)
        if entry is None:
            raise UnknownTextError(key)
        return entry.get(language) or entry.get(DEFAULT_LANGUAGE) or key

    def render(self, text: Text, language: Language, *, strict: bool = False) -> str:
        """``text`` in ``language``. See the module docstring for what happens on mistakes."""
        try:
            template = self.template(text.key, language)
        except UnknownTextError:
            if strict:
                raise
            warnings.warn(f"unknown text key {text.key!r}", TextWarning, stacklevel=3)
            return text.key
        parts: list[str] = []
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            if strict:
                raise
            warnings.warn(f"text {text.key!r} is malformed: {exc}", TextWarning, stacklevel=3)
            return template
        for literal, name, _spec, _conversion in parsed:
            parts.append(literal)
            if name is None:
                continue
            if name not in text.params:
                if strict:
                    raise KeyError(f"text {text.key!r} needs the parameter {name!r}")
                warnings.warn(
                    f"text {text.key!r} needs the parameter {name!r}", TextWarning, stacklevel=3
                )
                parts.append("{" + name + "}")
                continue
            parts.append(self._format_value(text.params[name], language, strict))
        return "".join(parts)

    def _format_value(self, value: ParamValue, language: Language, strict: bool) -> str:
        if isinstance(value, Text):
            return self.render(value, language, strict=strict)
        if isinstance(value, float):
            return format(value, "g")
        return str(value)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot read the text catalog {path}: {exc}") from exc


def provider_note_key(provider_id: str, note: str) -> str:
    """The text key of note ``note`` of the provider catalog file ``<provider_id>.toml``."""
    return f"provider.{provider_id}.note.{note}"


def knowledge_text_key(code: str, field: str) -> str:
    """The text key of ``field`` ("title", "cause", "fix") of knowledge entry ``code``."""
    return f"knowledge.{code}.{field}"


def _knowledge_texts(data: Mapping[str, object]) -> dict[str, object]:
    """The texts of a knowledge file, by entry code and field; the rest of each entry (outcome,
    fixer, match rules) is validated by app.core.diagnostics.knowledge, not here. A code is one
    table name even though it contains dots."""
    texts: dict[str, object] = {}
    for code, entry in data.items():
        if not isinstance(entry, dict):
            continue
        fields = {f: entry[f] for f in ("title", "cause", "fix") if isinstance(entry.get(f), dict)}
        if fields:
            texts[code] = fields
    return texts


def _flatten(
    table: Mapping[str, object], prefix: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """Yield (key, entry, problems) for every text in a (possibly nested) TOML table."""
    for name, value in table.items():
        path = (*prefix, name)
        key = ".".join(path)
        if not isinstance(value, dict):
            yield key, {}, [f"{key!r} is not a table with en and ja texts"]
            continue
        languages = {n: v for n, v in value.items() if not isinstance(v, dict)}
        children = {n: v for n, v in value.items() if isinstance(v, dict)}
        if languages:
            # A text may have texts nested under it: [error.config] and [error.config.fix].
            problems: list[str] = []
            entry = {n: v for n, v in languages.items() if isinstance(v, str)}
            problems.extend(
                f"{key!r}: {n!r} is not a string" for n, v in languages.items() if n not in entry
            )
            yield key, entry, problems
        elif not children:
            yield key, {}, [f"{key!r} is an empty table"]
        yield from _flatten(children, path)


def _check_entry(key: str, entry: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    unknown = set(entry) - set(LANGUAGES) - _EXTRA_FIELDS
    if unknown:
        problems.append(f"{key!r} has unknown fields {sorted(unknown)}")
    found: dict[str, frozenset[str]] = {}
    for language in LANGUAGES:
        template = entry.get(language, "")
        if not template.strip():
            problems.append(f"{key!r} has no {language} text")
            continue
        try:
            found[language] = placeholders(template)
        except ValueError as exc:
            problems.append(f"{key!r} ({language}): {exc}")
    if len(found) == len(LANGUAGES) and len(set(found.values())) > 1:
        described = ", ".join(f"{lang}: {sorted(names)}" for lang, names in found.items())
        problems.append(f"{key!r} uses different placeholders ({described})")
    return problems


@cache
def default_catalog() -> Catalog:
    """The program's catalog: every ``resources/texts/*.toml``, the notes of every
    ``resources/providers/*.toml`` and the texts of every ``resources/knowledge/*.toml``,
    loaded once."""
    return Catalog.from_files(
        sorted(resource_path("texts").glob("*.toml")),
        sorted(resource_path("providers").glob("*.toml")),
        sorted(resource_path("knowledge").glob("*.toml")),
    )


def render(text: Text, language: Language = DEFAULT_LANGUAGE, *, strict: bool = False) -> str:
    """``text`` in ``language`` from the program's catalog (see the module docstring)."""
    return default_catalog().render(text, language, strict=strict)


def normalise_language(locale: str | None) -> Language:
    """The supported language for a locale name; English for anything else.

    Accepts POSIX (``ja_JP.UTF-8``, ``ja_JP@euro``), BCP 47 (``ja-JP``), Windows
    (``Japanese_Japan.932``) and bare (``JA``) forms.
    """
    if not locale:
        return DEFAULT_LANGUAGE
    name = locale.strip().lower()
    for separator in (".", "@", "_", "-"):
        name = name.split(separator, 1)[0]
    aliases: dict[str, Language] = {"ja": "ja", "jpn": "ja", "japanese": "ja"}
    return aliases.get(name, DEFAULT_LANGUAGE)


def language_from_environment(environ: Mapping[str, str] | None = None) -> Language:
    """The language the POSIX locale variables ask for (LANGUAGE, LC_ALL, LC_MESSAGES, LANG).

    The first variable that is set decides; ``LANGUAGE`` may list several (``ja:en``) and its
    first entry counts. The Qt window asks Qt's own locale instead.
    """
    env = os.environ if environ is None else environ
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable, "").split(":", 1)[0].strip()
        if value:
            return normalise_language(value)
    return DEFAULT_LANGUAGE
