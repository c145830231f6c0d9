"""WebDAV XML for the CalDAV/CardDAV check, without any I/O (sans-I/O).

Builds the PROPFIND request bodies of RFC 6764 bootstrapping (``current-user-principal``,
then ``calendar-home-set`` / ``addressbook-home-set``, then the collections of the home set)
and reads the ``207 Multi-Status`` answers: namespace-aware (servers such as iCloud write
``<multistatus xmlns="DAV:">`` with a default namespace, others ``<D:multistatus>``), parsed
with defusedxml (no DTD, no entities, no external references) and refused over
:data:`MAX_BYTES`. Every ``href`` is made absolute against the URL that was asked, so a home
set on another host (iCloud's ``https://pNN-caldav.icloud.com:443/...``) stays on that host.

Problems raise :class:`DavXmlError` whose ``problem`` is one of :data:`TOO_LARGE`,
:data:`MALFORMED`, :data:`UNSAFE` and :data:`NOT_MULTISTATUS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_element_tree

__all__ = [
    "CALDAV_NS",
    "CARDDAV_NS",
    "DAV_NS",
    "MALFORMED",
    "MAX_BYTES",
    "NOT_MULTISTATUS",
    "TOO_LARGE",
    "UNSAFE",
    "Collection",
    "DavResponse",
    "DavXmlError",
    "Multistatus",
    "Prop",
    "Service",
    "clark",
    "collections_in",
    "collections_request",
    "home_set_request",
    "parse_multistatus",
    "parse_status",
    "principal_request",
    "propfind_body",
    "same_resource",
]

DAV_NS: Final = "DAV:"
CALDAV_NS: Final = "urn:ietf:params:xml:ns:caldav"
CARDDAV_NS: Final = "urn:ietf:params:xml:ns:carddav"

#: The largest answer read; real discovery answers are a few kilobytes.
MAX_BYTES: Final = 1024 * 1024

TOO_LARGE: Final = "too-large"
MALFORMED: Final = "malformed"  # not well-formed XML (or an encoding expat refuses)
UNSAFE: Final = "unsafe"  # a DTD, entity declaration or external reference
NOT_MULTISTATUS: Final = "not-multistatus"  # XML, but not a DAV:multistatus

_PREFIXES: Final = {DAV_NS: "d", CALDAV_NS: "c", CARDDAV_NS: "card"}


def clark(namespace: str, local: str) -> str:
    """An element name in Clark notation, as ElementTree writes it: ``{DAV:}href``."""
    return f"{{{namespace}}}{local}"


HREF: Final = clark(DAV_NS, "href")
MULTISTATUS: Final = clark(DAV_NS, "multistatus")
RESPONSE: Final = clark(DAV_NS, "response")
PROPSTAT: Final = clark(DAV_NS, "propstat")
PROP: Final = clark(DAV_NS, "prop")
STATUS: Final = clark(DAV_NS, "status")
RESOURCETYPE: Final = clark(DAV_NS, "resourcetype")
DISPLAYNAME: Final = clark(DAV_NS, "displayname")
COLLECTION: Final = clark(DAV_NS, "collection")
CURRENT_USER_PRINCIPAL: Final = clark(DAV_NS, "current-user-principal")
UNAUTHENTICATED: Final = clark(DAV_NS, "unauthenticated")
CALENDAR_HOME_SET: Final = clark(CALDAV_NS, "calendar-home-set")
CALENDAR_USER_ADDRESS_SET: Final = clark(CALDAV_NS, "calendar-user-address-set")
SUPPORTED_COMPONENTS: Final = clark(CALDAV_NS, "supported-calendar-component-set")
CALENDAR: Final = clark(CALDAV_NS, "calendar")
ADDRESSBOOK_HOME_SET: Final = clark(CARDDAV_NS, "addressbook-home-set")
ADDRESSBOOK: Final = clark(CARDDAV_NS, "addressbook")


class Service(StrEnum):
    """CalDAV or CardDAV: what differs between the two is only which names are asked for."""

    CALDAV = "caldav"
    CARDDAV = "carddav"

    @property
    def well_known_path(self) -> str:
        """RFC 6764 section 5: ``/.well-known/caldav`` or ``/.well-known/carddav``."""
        return f"/.well-known/{self.value}"

    @property
    def home_set(self) -> str:
        return CALENDAR_HOME_SET if self is Service.CALDAV else ADDRESSBOOK_HOME_SET

    @property
    def collection_type(self) -> str:
        """The resource type that makes a collection a calendar or an address book."""
        return CALENDAR if self is Service.CALDAV else ADDRESSBOOK


class DavXmlError(ValueError):
    """An answer that is not a usable multistatus; ``problem`` says why, ``detail`` is a
    short technical note (never the document itself)."""

    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else problem)
        self.problem = problem
        self.detail = detail


# --- requests ---------------------------------------------------------------------------------


def _split(name: str) -> tuple[str, str]:
    namespace, _, local = name[1:].partition("}")
    if not name.startswith("{") or not namespace or not local:
        raise ValueError(f"{name!r} is not a name in Clark notation")
    return namespace, local


def propfind_body(props: Sequence[str]) -> bytes:
    """A ``PROPFIND`` body asking for ``props`` (Clark names), UTF-8 encoded."""
    if not props:
        raise ValueError("a PROPFIND asks for at least one property")
    namespaces = {DAV_NS: "d"}
    parts: list[str] = []
    for name in props:
        namespace, local = _split(name)
        prefix = namespaces.get(namespace)
        if prefix is None:
            prefix = _PREFIXES.get(namespace, f"n{len(namespaces)}")
            namespaces[namespace] = prefix
        parts.append(f"<{prefix}:{local}/>")
    declarations = " ".join(f'xmlns:{p}="{ns}"' for ns, p in namespaces.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<d:propfind {declarations}><d:prop>{''.join(parts)}</d:prop></d:propfind>\n"
    ).encode()


def principal_request(service: Service) -> bytes:
    """Depth 0 on the context path: who am I (RFC 5397), and the home set in case the
    server puts it right there."""
    return propfind_body([CURRENT_USER_PRINCIPAL, RESOURCETYPE, service.home_set])


def home_set_request(service: Service) -> bytes:
    """Depth 0 on the principal: where the calendars or address books live."""
    props = [service.home_set, DISPLAYNAME]
    if service is Service.CALDAV:
        props.append(CALENDAR_USER_ADDRESS_SET)
    return propfind_body(props)


def collections_request(service: Service) -> bytes:
    """Depth 1 on the home set: its collections with their names (and, for calendars, the
    kinds of component they hold: VEVENT, VTODO...)."""
    props = [RESOURCETYPE, DISPLAYNAME]
    if service is Service.CALDAV:
        props.append(SUPPORTED_COMPONENTS)
    return propfind_body(props)


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    """One property as a response gave it: its text, the ``href``s inside it (absolute), the
    names of its child elements, and the ``name`` attributes of those children (CalDAV's
    ``<comp name="VEVENT"/>``)."""

    name: str
    text: str | None = None
    hrefs: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    child_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DavResponse:
    """One ``DAV:response`` of a multistatus. ``url`` is its href made absolute; ``status`` the
    response-level status (when the whole resource failed), else None; ``props`` the properties
    found (a 2xx propstat); ``missing`` the others with their status (404: not defined here)."""

    url: str
    href: str
    status: int | None = None
    props: Mapping[str, Prop] = field(default_factory=dict)
    missing: Mapping[str, int] = field(default_factory=dict)

    def hrefs(self, name: str) -> tuple[str, ...]:
        prop = self.props.get(name)
        return () if prop is None else prop.hrefs

    def href_of(self, name: str) -> str | None:
        found = self.hrefs(name)
        return found[0] if found else None

    @property
    def resourcetypes(self) -> frozenset[str]:
        prop = self.props.get(RESOURCETYPE)
        return frozenset(() if prop is None else prop.children)

    @property
    def displayname(self) -> str | None:
        prop = self.props.get(DISPLAYNAME)
        return None if prop is None or not prop.text else prop.text

    @property
    def unauthenticated(self) -> bool:
        """``current-user-principal`` says ``<unauthenticated/>``: nobody is signed in."""
        prop = self.props.get(CURRENT_USER_PRINCIPAL)
        return prop is not None and UNAUTHENTICATED in prop.children


@dataclass(frozen=True)
class Multistatus:
    responses: tuple[DavResponse, ...]

    def for_url(self, url: str) -> DavResponse | None:
        """The response about ``url`` (trailing slash and percent-encoding ignored), else the
        only response there is (Depth 0 answers about the resource asked for)."""
        for response in self.responses:
            if same_resource(response.url, url):
                return response
        return self.responses[0] if len(self.responses) == 1 else None

    def first_href(self, name: str) -> str | None:
        """The first ``href`` of property ``name`` in any response."""
        for response in self.responses:
            found = response.href_of(name)
            if found is not None:
                return found
        return None


def parse_status(text: str | None) -> int | None:
    """The code of a status line such as ``HTTP/1.1 200 OK``; None if there is none."""
    if not text:
        return None
    parts = text.split()
    if len(parts) >= 2 and parts[0].upper().startswith("HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def _text(element: Element) -> str | None:
    value = "".join(element.itertext()).strip()
    return value or None


def _absolute(base_url: str, href: str) -> str | None:
    """``href`` made absolute against ``base_url``; None when it is not a usable URL (an
    unclosed IPv6 bracket, a bad port)."""
    try:
        url = urljoin(base_url, href.strip())
        urlsplit(url).port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return url


def _prop(element: Element, base_url: str) -> Prop:
    absolute = (_absolute(base_url, h.text) for h in element.iter(HREF) if h.text)
    hrefs = tuple(url for url in absolute if url)
    kids = [child for child in element if isinstance(child.tag, str)]
    return Prop(
        name=str(element.tag),
        text=_text(element) if not kids else None,
        hrefs=hrefs,
        children=tuple(str(child.tag) for child in kids),
        child_names=tuple(child.get("name", "") for child in kids if child.get("name")),
    )


def _response(element: Element, base_url: str) -> DavResponse | None:
    href_element = element.find(HREF)
    if href_element is None or not href_element.text or not href_element.text.strip():
        return None
    href = href_element.text.strip()
    url = _absolute(base_url, href)
    if url is None:
        return None
    found: dict[str, Prop] = {}
    missing: dict[str, int] = {}
    for propstat in element.findall(PROPSTAT):
        code = parse_status(propstat.findtext(STATUS))
        prop = propstat.find(PROP)
        if prop is None:
            continue
        for child in prop:
            if not isinstance(child.tag, str):
                continue
            if code is not None and 200 <= code < 300:
                found[child.tag] = _prop(child, base_url)
            else:
                missing[child.tag] = code if code is not None else 0
    return DavResponse(
        url=url,
        href=href,
        status=parse_status(element.findtext(STATUS)),
        props=found,
        missing=missing,
    )


def parse_multistatus(body: bytes, base_url: str, *, max_bytes: int = MAX_BYTES) -> Multistatus:
    """The responses of a ``207 Multi-Status`` body (hrefs made absolute against
    ``base_url``, the URL asked). Raises :class:`DavXmlError`."""
    if len(body) > max_bytes:
        raise DavXmlError(TOO_LARGE, f"{len(body)} bytes, more than {max_bytes}")
    if not body.strip():
        raise DavXmlError(MALFORMED, "the answer is empty")
    try:
        root = safe_element_tree.fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise DavXmlError(UNSAFE, type(exc).__name__) from exc
    except (ParseError, ValueError, LookupError) as exc:
        # ParseError: not well-formed; ValueError and LookupError: encodings expat refuses.
        raise DavXmlError(MALFORMED, str(exc)[:200]) from exc
    if not isinstance(root, Element) or root.tag != MULTISTATUS:
        tag = root.tag if isinstance(root, Element) else type(root).__name__
        raise DavXmlError(NOT_MULTISTATUS, f"the document is <{str(tag)[:100]}>")
    responses = (_response(element, base_url) for element in root.findall(RESPONSE))
    return Multistatus(tuple(r for r in responses if r is not None))


# --- what the answers mean --------------------------------------------------------------------


def _key(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    try:
        port = parts.port or default
    except ValueError:
        port = None
    path = unquote(parts.path or "/").rstrip("/") or "/"
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, path


def same_resource(first: str, second: str) -> bool:
    """Whether two URLs name the same resource: scheme, host and port (default ports filled
    in) equal, paths equal once percent-decoded and without a trailing slash."""
    return _key(first) == _key(second)


@dataclass(frozen=True)
class Collection:
    """A calendar or address book found in the home set."""

    url: str
    displayname: str | None
    components: tuple[str, ...] = ()  # VEVENT, VTODO... (calendars that say so)

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "displayname": self.displayname,
            "components": list(self.components),
        }


def collections_in(
    multistatus: Multistatus, service: Service, home_url: str
) -> tuple[Collection, ...]:
    """The calendars (CalDAV) or address books (CardDAV) of a Depth 1 answer on the home set:
    the responses whose resource type says so, other than the home set itself. Scheduling
    inboxes and outboxes, notification collections and plain folders are left out."""
    found: list[Collection] = []
    for response in multistatus.responses:
        if same_resource(response.url, home_url):
            continue
        if service.collection_type not in response.resourcetypes:
            continue
        components: Iterable[str] = ()
        if service is Service.CALDAV:
            prop = response.props.get(SUPPORTED_COMPONENTS)
            components = () if prop is None else prop.child_names
        found.append(Collection(response.url, response.displayname, tuple(components)))
    return tuple(found)
