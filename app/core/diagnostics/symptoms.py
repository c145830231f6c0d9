"""Symptoms: what a person says is wrong ("it keeps asking for my password"), and what helpdesk
mode does with it: the order of the checks, the findings shown first and the advice given with
the verdict.

The symptoms are data: ``resources/diagnostics/symptoms.toml`` (its header says the schema).
Names are stable: ``mailsetup diagnose --symptom NAME`` and reports use them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, TypeVar

from app.core.model import Finding, Protocol
from app.core.resources import resource_path
from app.core.texts import LANGUAGES, Language

__all__ = [
    "DEFAULT_SYMPTOM",
    "Symptom",
    "SymptomError",
    "load_symptoms",
    "order_findings",
    "symptom",
    "symptoms",
]

#: The symptom used when none is given.
DEFAULT_SYMPTOM: Final = "something-else"

T = TypeVar("T")


class SymptomError(ValueError):
    """The symptoms file is malformed, or a symptom name is unknown."""


@dataclass(frozen=True)
class Symptom:
    """One symptom: ``checks`` the protocols in the order to show them, ``codes`` the finding
    codes (or prefixes ending in ".") to put first, ``label`` and ``advice`` per language."""

    name: str
    label: Mapping[str, str]
    checks: tuple[Protocol, ...]
    codes: tuple[str, ...]
    advice: Mapping[str, tuple[str, ...]]

    def label_in(self, language: Language) -> str:
        return self.label[language]

    def advice_in(self, language: Language) -> tuple[str, ...]:
        return self.advice[language]

    def relevance(self, code: str) -> int:
        """How early a finding with ``code`` comes: the index of the first matching entry of
        ``codes``, or ``len(codes)`` when none matches."""
        for index, wanted in enumerate(self.codes):
            if code == wanted or (wanted.endswith(".") and code.startswith(wanted)):
                return index
        return len(self.codes)

    def check_rank(self, protocol: Protocol | str) -> int:
        """Where checks of ``protocol`` come (unlisted protocols last)."""
        value = Protocol(protocol)
        return self.checks.index(value) if value in self.checks else len(self.checks)

    def to_dict(self, language: Language) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label[language],
            "checks": [p.value for p in self.checks],
            "advice": list(self.advice[language]),
        }


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SymptomError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _parse(name: str, table: object) -> Symptom:
    if not isinstance(table, dict):
        raise SymptomError(f"symptom {name!r} is not a table")
    unknown = set(table) - {"label", "checks", "codes", "advice"}
    if unknown:
        raise SymptomError(f"symptom {name!r} has unknown fields {sorted(unknown)}")
    label = table.get("label")
    advice = table.get("advice")
    if not isinstance(label, dict) or not isinstance(advice, dict):
        raise SymptomError(f"symptom {name!r} needs label and advice tables")
    labels: dict[str, str] = {}
    advices: dict[str, tuple[str, ...]] = {}
    for language in LANGUAGES:
        text = label.get(language)
        if not isinstance(text, str) or not text.strip():
            raise SymptomError(f"symptom {name!r} has no {language} label")
        labels[language] = text
        advices[language] = _strings(advice.get(language), f"{name!r} advice.{language}")
    if len({len(items) for items in advices.values()}) != 1:
        raise SymptomError(f"symptom {name!r}: advice has a different length per language")
    try:
        checks = tuple(Protocol(p) for p in _strings(table.get("checks"), f"{name!r} checks"))
    except ValueError as exc:
        raise SymptomError(f"symptom {name!r}: {exc}") from exc
    codes = table.get("codes", [])
    if codes != []:
        codes = list(_strings(codes, f"{name!r} codes"))
    return Symptom(name, labels, checks, tuple(codes), advices)


def load_symptoms(path: Path) -> dict[str, Symptom]:
    """The symptoms of ``path``, in file order; SymptomError when it is malformed."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SymptomError(f"cannot read {path}: {exc}") from exc
    found = {name: _parse(name, table) for name, table in data.items()}
    if DEFAULT_SYMPTOM not in found:
        raise SymptomError(f"{path.name} must define {DEFAULT_SYMPTOM!r}")
    return found


@cache
def _default() -> dict[str, Symptom]:
    return load_symptoms(resource_path("diagnostics", "symptoms.toml"))


def symptoms() -> tuple[Symptom, ...]:
    """Every symptom of the program, in the order the entry page lists them."""
    return tuple(_default().values())


def symptom(name: str | None) -> Symptom:
    """The symptom ``name`` (None: :data:`DEFAULT_SYMPTOM`); SymptomError if unknown."""
    found = _default().get(name or DEFAULT_SYMPTOM)
    if found is None:
        raise SymptomError(f"unknown symptom {name!r}; known: {', '.join(_default())}")
    return found


def order_findings(findings: Iterable[Finding], chosen: Symptom) -> list[Finding]:
    """``findings`` worst first; within one severity, those the symptom is about first; else
    in the order given."""
    listed = list(findings)
    return [
        finding
        for _key, finding in sorted(
            enumerate(listed),
            key=lambda pair: (
                -pair[1].outcome.severity,
                chosen.relevance(pair[1].code),
                pair[0],
            ),
        )
    ]


def order_by_check(
    items: Sequence[T], protocol_of: Mapping[int, Protocol], chosen: Symptom
) -> list[T]:
    """``items`` (checks) in the symptom's order; ``protocol_of`` maps an index to its
    protocol. Stable for equal protocols."""
    return [
        item
        for _index, item in sorted(
            enumerate(items), key=lambda pair: (chosen.check_rank(protocol_of[pair[0]]), pair[0])
        )
    ]
