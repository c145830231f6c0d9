"""DNS lookups for the network seam (dnspython's asyncio resolver).

``DnsClient`` asks the ``--dns-server`` when one is set, else the system's configured
resolvers, never with search domains appended, and without a cache (each run sees the answer
of now). Answers come back as small typed records, already sorted the way callers use them:
MX by preference (RFC 5321), SRV by priority then weight (RFC 2782). Failures become
``DNSError``: ``NOT_FOUND`` (NXDOMAIN), ``NO_ANSWER`` (the name exists, without records of that
type) or ``FAILED`` with ``detail["problem"]`` saying ``servfail``, ``refused``, ``timeout``,
``unreachable``, ``no-resolver``, ``bad-name`` or ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from app.core.errors import DNSFailure
from app.core.net import _errors
from app.core.net.options import NetworkOptions

ROOT = "."
# dnspython retransmits to a silent server after this long, within the overall timeout
_RETRANSMIT_AFTER = 2.0


@dataclass(frozen=True)
class MXRecord:
    preference: int
    exchange: str  # host name without the trailing dot; "." for a null MX (RFC 7505)

    @property
    def is_null(self) -> bool:
        """A "null MX": the domain says it accepts no mail."""
        return self.exchange == ROOT


@dataclass(frozen=True)
class SRVRecord:
    priority: int
    weight: int
    port: int
    target: str  # host name without the trailing dot; "." when the service is not offered

    @property
    def unavailable(self) -> bool:
        """RFC 2782: a target of "." means the service is decidedly not available here."""
        return self.target == ROOT


def _host_text(name: dns.name.Name) -> str:
    if name == dns.name.root:
        return ROOT
    return name.to_text(omit_final_dot=True).lower()


class DnsClient:
    """Typed DNS queries bounded by the options' timeout; offline mode refuses them all."""

    def __init__(self, options: NetworkOptions) -> None:
        self._options = options
        self._resolver: dns.asyncresolver.Resolver | None = None

    @property
    def server(self) -> str:
        """Which resolver answers: the ``--dns-server`` address, or ``system``."""
        return str(self._options.dns_server) if self._options.dns_server else "system"

    def _get_resolver(self, name: str) -> dns.asyncresolver.Resolver:
        if self._resolver is not None:
            return self._resolver
        server = self._options.dns_server
        if server is not None:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [dns.nameserver.Do53Nameserver(server.host, server.port)]
        else:
            try:
                resolver = dns.asyncresolver.Resolver(configure=True)
            except (dns.resolver.NoResolverConfiguration, OSError) as exc:
                raise _errors.dns_error(
                    name, DNSFailure.FAILED, _errors.DNS_NO_RESOLVER, self.server
                ) from exc
        resolver.cache = None
        resolver.timeout = min(_RETRANSMIT_AFTER, self._options.timeout)
        resolver.lifetime = self._options.timeout
        resolver.retry_servfail = False
        self._resolver = resolver
        return resolver

    async def query(self, name: str, rtype: str) -> dns.resolver.Answer:
        """The raw answer for ``name``/``rtype`` (``"MX"``, ``"TXT"`` ...), with errors mapped."""
        if self._options.offline:
            raise _errors.offline_error(name)
        resolver = self._get_resolver(name)
        try:
            qname = dns.name.from_text(name)
            return await resolver.resolve(qname, dns.rdatatype.from_text(rtype), search=False)
        except dns.resolver.NXDOMAIN as exc:
            raise _errors.dns_error(name, DNSFailure.NOT_FOUND, server=self.server) from exc
        except dns.resolver.NoAnswer as exc:
            raise _errors.dns_error(name, DNSFailure.NO_ANSWER, server=self.server) from exc
        except dns.resolver.NoNameservers as exc:
            problem = _problem_of(exc)
            raise _errors.dns_error(name, DNSFailure.FAILED, problem, self.server) from exc
        except dns.exception.Timeout as exc:
            raise _errors.dns_error(
                name, DNSFailure.FAILED, _errors.DNS_TIMEOUT, self.server
            ) from exc
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
            raise _errors.dns_error(
                name, DNSFailure.FAILED, _errors.DNS_BAD_NAME, self.server
            ) from exc
        except dns.name.IDNAException as exc:
            raise _errors.dns_error(
                name, DNSFailure.FAILED, _errors.DNS_BAD_NAME, self.server
            ) from exc
        except dns.exception.DNSException as exc:
            raise _errors.dns_error(
                name, DNSFailure.FAILED, _errors.DNS_OTHER, self.server
            ) from exc

    async def mx(self, domain: str) -> list[MXRecord]:
        """MX records, lowest preference (most preferred) first; ties by name."""
        answer = await self.query(domain, "MX")
        records = [MXRecord(int(r.preference), _host_text(r.exchange)) for r in answer]
        return sorted(records, key=lambda r: (r.preference, r.exchange))

    async def srv(self, name: str) -> list[SRVRecord]:
        """SRV records (``_imaps._tcp.example.test``), by priority ascending, then weight
        descending (RFC 2782: a heavier record is more likely picked), then target."""
        answer = await self.query(name, "SRV")
        records = [
            SRVRecord(int(r.priority), int(r.weight), int(r.port), _host_text(r.target))
            for r in answer
        ]
        return sorted(records, key=lambda r: (r.priority, -r.weight, r.target, r.port))

    async def txt(self, name: str) -> list[str]:
        """TXT records, each one's strings joined (as SPF and friends read them)."""
        answer = await self.query(name, "TXT")
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]

    async def a(self, name: str) -> list[str]:
        return [r.address for r in await self.query(name, "A")]

    async def aaaa(self, name: str) -> list[str]:
        return [r.address for r in await self.query(name, "AAAA")]


def _problem_of(exc: dns.resolver.NoNameservers) -> str:
    """What the servers said, when they all failed: servfail, refused or unreachable."""
    errors = exc.kwargs.get("errors") or []
    seen = [str(error[3]) if isinstance(error[3], str) else error[3] for error in errors]
    if any(item == "SERVFAIL" for item in seen):
        return _errors.DNS_SERVFAIL
    if any(item == "REFUSED" for item in seen):
        return _errors.DNS_REFUSED
    if any(isinstance(item, OSError | EOFError) for item in seen):
        return _errors.DNS_UNREACHABLE
    return _errors.DNS_OTHER
