""" "Did you mean ...?" for a mistyped mail domain (``gmial.com`` -> ``gmail.com``).

The well-known domains are data: ``resources/known_domains.txt`` (most used first, which is
also the tie-break order) plus the ``domains`` lists of ``resources/providers/*.toml``.

A suggestion is made only for a domain that is not itself known, and only when a known domain
is within Damerau-Levenshtein distance 1 (2 for domains of 10 or more characters; swapping two
adjacent characters counts as one edit), or when only the last label differs after at least two
labels that match (``docomo.ne.com`` -> ``docomo.ne.jp``). Among equally close domains the one
with the same last label wins, then the more used one.

Lookups are fast: every known domain's deletions of up to two characters are indexed once
(the symmetric-delete method), so a query compares against a handful of candidates only.
Subdomains of known domains (``abc.ocn.ne.jp``) are never "corrected": ISPs hand them out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Final

from app.core.model import EmailAddress, normalise_host
from app.core.resources import resource_path

__all__ = [
    "DomainSuggester",
    "damerau_levenshtein",
    "default_suggester",
    "load_known_domains",
    "suggest_address",
]

#: Domains this long or longer may be 2 edits away from their suggestion; shorter ones 1.
LONG_DOMAIN: Final = 10
_MAX_DISTANCE: Final = 2


def damerau_levenshtein(a: str, b: str) -> int:
    """The Damerau-Levenshtein distance: insertions, deletions, substitutions and swaps of
    two adjacent characters each count as one edit (the unrestricted form, in which a
    swapped pair may be edited again)."""
    if a == b:
        return 0
    infinity = len(a) + len(b)
    # d[i + 1][j + 1] is the distance between a[:i] and b[:j]; row and column 0 are sentinels.
    d = [[infinity] * (len(b) + 2) for _ in range(len(a) + 2)]
    for i in range(len(a) + 1):
        d[i + 1][1] = i
    for j in range(len(b) + 1):
        d[1][j + 1] = j
    last_row: dict[str, int] = {}  # the last row in which each character of ``a`` was seen
    for i in range(1, len(a) + 1):
        last_match_column = 0
        for j in range(1, len(b) + 1):
            swap_row = last_row.get(b[j - 1], 0)
            swap_column = last_match_column
            if a[i - 1] == b[j - 1]:
                cost = 0
                last_match_column = j
            else:
                cost = 1
            d[i + 1][j + 1] = min(
                d[i][j] + cost,
                d[i + 1][j] + 1,
                d[i][j + 1] + 1,
                d[swap_row][swap_column] + (i - swap_row - 1) + 1 + (j - swap_column - 1),
            )
        last_row[a[i - 1]] = i
    return d[len(a) + 1][len(b) + 1]


def _deletions(word: str, most: int) -> Iterator[str]:
    """``word`` and every string made by deleting up to ``most`` of its characters."""
    seen: set[str] = set()
    for count in range(min(most, len(word)) + 1):
        for positions in combinations(range(len(word)), count):
            variant = "".join(ch for i, ch in enumerate(word) if i not in positions)
            if variant not in seen:
                seen.add(variant)
                yield variant


def _normalise(domain: str) -> str | None:
    try:
        return normalise_host(domain)
    except ValueError:
        return None


class DomainSuggester:
    """Suggests a known domain for a mistyped one. ``domains`` in order of use (most used
    first); duplicates and invalid names are dropped. A wildcard entry such as
    ``*.biglobe.ne.jp`` (the provider catalog has them) counts as ``biglobe.ne.jp``, whose
    subdomains are never corrected anyway."""

    def __init__(self, domains: Iterable[str]) -> None:
        ranked: dict[str, int] = {}
        for domain in domains:
            name = _normalise(domain.strip().removeprefix("*."))
            if name is not None and "." in name and name not in ranked:
                ranked[name] = len(ranked)
        self._rank = ranked
        self._by_deletion: dict[str, list[str]] = {}
        self._by_stem: dict[str, list[str]] = {}
        for name in ranked:
            for variant in _deletions(name, _MAX_DISTANCE):
                self._by_deletion.setdefault(variant, []).append(name)
            stem, _dot, _last = name.rpartition(".")
            if "." in stem:
                self._by_stem.setdefault(stem, []).append(name)

    def __contains__(self, domain: object) -> bool:
        return isinstance(domain, str) and _normalise(domain) in self._rank

    def __len__(self) -> int:
        return len(self._rank)

    @property
    def domains(self) -> tuple[str, ...]:
        """The known domains, most used first."""
        return tuple(self._rank)

    def suggest_domain(self, domain: str) -> str | None:
        """The known domain ``domain`` was probably meant to be, or None."""
        name = _normalise(domain)
        if name is None or name in self._rank:
            return None
        labels = name.split(".")
        if any(".".join(labels[i:]) in self._rank for i in range(1, len(labels) - 1)):
            return None  # a subdomain of a known domain (user@abc.ocn.ne.jp) is not a typo
        limit = _MAX_DISTANCE if len(name) >= LONG_DOMAIN else 1
        last = name.rpartition(".")[2]
        best: tuple[int, int, int, str] | None = None
        candidates: set[str] = set()
        for variant in _deletions(name, limit):
            candidates.update(self._by_deletion.get(variant, ()))
        for candidate in candidates:
            if abs(len(candidate) - len(name)) > limit:
                continue
            distance = damerau_levenshtein(name, candidate)
            if distance > limit:
                continue
            key = (distance, int(candidate.rpartition(".")[2] != last), self._rank[candidate])
            if best is None or key < best[:3]:
                best = (*key, candidate)
        if best is not None:
            return best[3]
        stem = name.rpartition(".")[0]
        swapped = self._by_stem.get(stem, [])
        return min(swapped, key=self._rank.__getitem__) if swapped else None

    def suggest(self, address: EmailAddress) -> str | None:
        """The whole address with the suggested domain (``taro@gmail.com`` for
        ``taro@gmial.com``), or None when the domain looks right."""
        suggestion = self.suggest_domain(address.domain_ascii)
        return None if suggestion is None else f"{address.local}@{suggestion}"


def load_known_domains(known_list: Path, provider_dir: Path | None = None) -> list[str]:
    """The domains of ``known_list`` (one per line, ``#`` comments), then the ``domains`` of
    every ``*.toml`` in ``provider_dir`` (sorted by file name). A provider file that cannot be
    read is passed over: suggestions must not break the program."""
    domains: list[str] = []
    for line in known_list.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            domains.append(entry)
    if provider_dir is not None and provider_dir.is_dir():
        for path in sorted(provider_dir.glob("*.toml")):
            try:
                with path.open("rb") as handle:
                    listed = tomllib.load(handle).get("domains", [])
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if isinstance(listed, list):
                domains.extend(item for item in listed if isinstance(item, str))
    return domains


@cache
def default_suggester() -> DomainSuggester:
    """The suggester over the program's own resources, built once."""
    return DomainSuggester(
        load_known_domains(resource_path("known_domains.txt"), resource_path("providers"))
    )


def suggest_address(address: EmailAddress) -> str | None:
    """ "Did you mean ...?" for ``address``: the corrected full address, or None."""
    return default_suggester().suggest(address)
