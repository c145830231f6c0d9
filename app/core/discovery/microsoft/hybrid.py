"""The hybrid chain: Autodiscover v2 (JSON, anonymous), its redirects, and the empty-Bearer probe.

1. ``GET https://outlook.office365.com/autodiscover/autodiscover.json?Email=<address>
   &Protocol=ActiveSync`` (the cloud's own Autodiscover host). For a mailbox in Exchange Online
   the answer names an Exchange Online URL. For a mailbox on the organisation's own Exchange
   server (hybrid), Exchange Online answers with a redirect to the organisation's
   ``https://autodiscover.<domain>/autodiscover/autodiscover.json?...&RedirectCount=N``.
2. Each redirect is judged by :class:`RedirectTracker` before it is followed (rules below); the
   organisation's server then answers ``{"Protocol": "ActiveSync", "Url": "https://mail.../
   Microsoft-Server-ActiveSync"}``.
3. :func:`bearer_probe` sends that URL a request with an empty ``Authorization: Bearer``. A server
   with hybrid modern authentication answers 401 with ``WWW-Authenticate: Bearer
   authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize",
   trusted_issuers="...@<tenant>"``; without it, only Basic/NTLM/Negotiate (a Bearer challenge
   without ``authorization_uri`` is Exchange's server-to-server OAuth, not sign-in for apps).

Redirect rules (what is legitimate): Exchange Online may send the request to any host, since the
organisation chose its on-premises Autodiscover name and Microsoft only repeats it (a hosted
Exchange can be under another domain). After that the organisation's servers may redirect only
within the user's domain or the registered domain of the first on-premises host, or back to
Microsoft's own hosts. Always refused: anything but https (the address is in the URL and must
never go over plain HTTP), URLs with credentials, targets that are not an Autodiscover JSON URL,
a different email address, a URL already visited (a loop), a redirect from a hop whose
``RedirectCount`` was 0 or a ``RedirectCount`` that was not decremented, and more than
:data:`MAX_REDIRECTS` redirects in all. A 401 from Autodiscover is a fact to report, never a
reason to stop other detection (Thunderbird let it block the IMAP path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import httpx
from publicsuffixlist import PublicSuffixList

from app.core.discovery.autodiscover_parse import (
    AutodiscoverV2Answer,
    AutodiscoverV2Failure,
    BearerChallenge,
    Challenge,
    bearer_challenge,
    parse_autodiscover_v2,
    parse_www_authenticate,
)
from app.core.discovery.clientconfig import is_valid_url, shown
from app.core.discovery.microsoft.tenant import MAX_JSON_BYTES
from app.core.errors import InvalidSettingError
from app.core.model import EmailAddress, normalise_host
from app.core.net import HttpResult, Network

__all__ = [
    "AUTODISCOVER_PATH",
    "MAX_REDIRECTS",
    "BearerResult",
    "ChainStep",
    "Hop",
    "RedirectProblem",
    "RedirectRefused",
    "RedirectTracker",
    "autodiscover_url",
    "bearer_probe",
    "fetch_autodiscover",
    "interpret_bearer",
    "redact_url",
]

#: Redirects followed at most in one chain, whatever ``RedirectCount`` says.
MAX_REDIRECTS: Final = 5
AUTODISCOVER_PATH: Final = "/autodiscover/autodiscover.json"
_COUNT_KEY: Final = "redirectcount"


class RedirectProblem(StrEnum):
    """Why a redirect was refused (``discovery.microsoft.redirect.<value>``)."""

    INSECURE = "insecure"  # not https: the address would travel unencrypted
    INVALID = "invalid"  # not a usable URL (credentials in it, no host, a bad RedirectCount)
    NOT_AUTODISCOVER = "not-autodiscover"  # not an autodiscover.json URL
    ADDRESS_CHANGED = "address-changed"  # asks about another address (or none)
    LOOP = "loop"  # a URL already visited in this chain
    COUNT_EXCEEDED = "count-exceeded"  # redirected although RedirectCount was 0
    COUNT_NOT_DECREMENTED = "count-not-decremented"
    TOO_MANY = "too-many"  # more than MAX_REDIRECTS
    FOREIGN_HOST = "foreign-host"  # an organisation's server sends the request off its domains


@dataclass(frozen=True)
class Hop:
    """One URL of the chain. ``redirect_count`` is the URL's ``RedirectCount`` (None when it
    has none); ``microsoft`` is true for the cloud's own Exchange Online hosts."""

    url: str
    host: str
    redirect_count: int | None
    microsoft: bool


@dataclass(frozen=True)
class RedirectRefused:
    """A redirect that is not followed. ``location`` is shown without the address."""

    problem: RedirectProblem
    location: str
    from_host: str


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


def _registered_domain(host: str) -> str:
    return _public_suffixes().privatesuffix(host) or host


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def redact_url(url: str) -> str:
    """``url`` without its query string (which carries the address), cut for display."""
    return shown(url.split("?", 1)[0], 200)


def autodiscover_url(base: str, address: EmailAddress, protocol: str) -> str:
    """``base?Email=<address>&Protocol=<protocol>``."""
    login = address.ascii if not address.needs_smtputf8 else str(address)
    return f"{base}?{urlencode({'Email': login, 'Protocol': protocol}, quote_via=quote)}"


def _query(url: str) -> dict[str, str]:
    return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}


def _count_of(url: str) -> tuple[bool, int | None]:
    """(valid, the URL's RedirectCount): None without one; invalid unless a small number."""
    text = _query(url).get(_COUNT_KEY)
    if text is None:
        return True, None
    text = text.strip()
    if not text.isdigit() or len(text) > 3:
        return False, None
    return True, int(text)


def _loop_key(url: str) -> str:
    parts = urlsplit(url)
    query = sorted((k.lower(), v) for k, v in parse_qsl(parts.query) if k.lower() != _COUNT_KEY)
    return f"{parts.hostname}:{parts.port or 443}{parts.path.lower()}?{query}"


def _same_address(value: str, address: EmailAddress) -> bool:
    wanted = {address.ascii.casefold(), str(address).casefold()}
    return value.strip().casefold() in wanted


class RedirectTracker:
    """Judges the redirects of one Autodiscover chain (the rules are in the module docstring).

    Start it with the first URL; :meth:`follow` takes a redirect's ``Location`` and returns the
    next :class:`Hop` (now :attr:`current`) or a :class:`RedirectRefused`. No I/O."""

    def __init__(
        self,
        address: EmailAddress,
        start_url: str,
        microsoft_hosts: Sequence[str],
        *,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.address = address
        self.microsoft_hosts = frozenset(h.lower() for h in microsoft_hosts)
        self.max_redirects = max_redirects
        first = self._hop(start_url)
        if first is None:
            raise ValueError(f"not a usable start URL: {redact_url(start_url)}")
        self.hops: list[Hop] = [first]
        self._visited = {_loop_key(start_url)}
        self._org_domains: set[str] = {address.domain_ascii}

    @property
    def current(self) -> Hop:
        return self.hops[-1]

    @property
    def redirects(self) -> int:
        return len(self.hops) - 1

    @property
    def left_microsoft(self) -> bool:
        """Whether Microsoft sent the chain to a host of its own outside Exchange Online."""
        return any(not hop.microsoft for hop in self.hops)

    def _hop(self, url: str) -> Hop | None:
        if not is_valid_url(url, https_only=True):
            return None
        host = urlsplit(url).hostname or ""
        try:
            host = normalise_host(host)
        except InvalidSettingError:
            return None
        valid, count = _count_of(url)
        if not valid:
            return None
        return Hop(url=url, host=host, redirect_count=count, microsoft=host in self.microsoft_hosts)

    def _refuse(self, problem: RedirectProblem, location: str) -> RedirectRefused:
        return RedirectRefused(problem, redact_url(location), self.current.host)

    def follow(self, location: str) -> Hop | RedirectRefused:
        current = self.current
        try:
            parts = urlsplit(location.strip())
        except ValueError:
            return self._refuse(RedirectProblem.INVALID, location)
        scheme = parts.scheme.lower()
        if scheme == "http":
            return self._refuse(RedirectProblem.INSECURE, location)
        if scheme != "https":
            return self._refuse(RedirectProblem.INVALID, location)
        hop = self._hop(location.strip())
        if hop is None:
            return self._refuse(RedirectProblem.INVALID, location)
        path = unquote(parts.path).lower()
        if AUTODISCOVER_PATH not in path:
            return self._refuse(RedirectProblem.NOT_AUTODISCOVER, location)
        email = _query(hop.url).get("email")
        in_path = path.split(AUTODISCOVER_PATH, 1)[1].rsplit("/", 1)[-1]
        asked = email if email is not None else in_path
        if not asked or not _same_address(asked, self.address):
            return self._refuse(RedirectProblem.ADDRESS_CHANGED, location)
        if _loop_key(hop.url) in self._visited:
            return self._refuse(RedirectProblem.LOOP, location)
        if self.redirects >= self.max_redirects:
            return self._refuse(RedirectProblem.TOO_MANY, location)
        if current.redirect_count is not None:
            if current.redirect_count <= 0:
                return self._refuse(RedirectProblem.COUNT_EXCEEDED, location)
            if hop.redirect_count is not None and hop.redirect_count >= current.redirect_count:
                return self._refuse(RedirectProblem.COUNT_NOT_DECREMENTED, location)
            if hop.redirect_count is None:
                hop = Hop(hop.url, hop.host, current.redirect_count - 1, hop.microsoft)
        outside = not any(_within(hop.host, domain) for domain in self._org_domains)
        if not current.microsoft and not hop.microsoft and outside:
            return self._refuse(RedirectProblem.FOREIGN_HOST, location)
        if current.microsoft and not hop.microsoft and len(self._org_domains) == 1:
            # The first on-premises host Microsoft names: its registered domain is the
            # organisation's too (a hosted Exchange may live under another domain).
            self._org_domains.add(_registered_domain(hop.host))
        self._visited.add(_loop_key(hop.url))
        self.hops.append(hop)
        return hop


# --- I/O ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainStep:
    """What one request of the chain gave: the HTTP result and, for a 200, the parsed answer."""

    result: HttpResult
    answer: AutodiscoverV2Answer | AutodiscoverV2Failure | None = None


async def fetch_autodiscover(net: Network, client: httpx.AsyncClient, url: str) -> ChainStep:
    """One Autodiscover v2 request (anonymous, no redirects followed). A 200 is parsed (the
    parser's DiscoveryDocumentError propagates); other statuses are left to the caller."""
    result = await net.fetch(
        url, headers={"Accept": "application/json"}, max_bytes=MAX_JSON_BYTES, client=client
    )
    if result.status == 200:
        return ChainStep(result, parse_autodiscover_v2(result.body, source=redact_url(url)))
    return ChainStep(result)


@dataclass(frozen=True)
class BearerResult:
    """What the empty-Bearer probe learnt. ``challenges`` are the server's WWW-Authenticate
    challenges (schemes in order); ``bearer`` the interpreted Bearer one, if any;
    ``modern_auth`` is true when that challenge names an ``authorization_uri``."""

    status: int
    challenges: tuple[Challenge, ...] = ()
    bearer: BearerChallenge | None = None
    schemes: tuple[str, ...] = field(default=())

    @property
    def modern_auth(self) -> bool:
        return self.bearer is not None and self.bearer.authorization_uri is not None


def interpret_bearer(status: int, headers: Sequence[str], *, source: str | None) -> BearerResult:
    """The probe's answer from its status and ``WWW-Authenticate`` values (sans-I/O); raises
    the header parser's DiscoveryDocumentError for a malformed header."""
    challenges = parse_www_authenticate(list(headers), source=source) if headers else ()
    bearer = bearer_challenge(challenges, source=source)
    return BearerResult(
        status=status,
        challenges=challenges,
        bearer=bearer,
        schemes=tuple(dict.fromkeys(c.scheme for c in challenges)),
    )


async def bearer_probe(net: Network, client: httpx.AsyncClient, url: str) -> BearerResult:
    """Send ``url`` a GET with an empty Bearer authorization (MS-XOAUTH 3.2.5.4) and read the
    challenges of the answer. Nothing about the user is sent."""
    result = await net.fetch(
        url, headers={"Authorization": "Bearer"}, max_bytes=64 * 1024, client=client
    )
    return interpret_bearer(
        result.status, result.headers.get_list("www-authenticate"), source=redact_url(url)
    )
