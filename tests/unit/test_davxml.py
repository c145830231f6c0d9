"""The sans-I/O WebDAV XML of the CalDAV/CardDAV check: PROPFIND bodies, multistatus answers as
iCloud, Radicale and others write them, and refusal of what must not be read."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.checks import davxml
from app.core.checks.davxml import DavXmlError, Service

DAV = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CARD = "{urn:ietf:params:xml:ns:carddav}"


def _props_asked(body: bytes) -> list[str]:
    root: Element = ElementTree.fromstring(body)
    assert root.tag == f"{DAV}propfind"
    prop = root.find(f"{DAV}prop")
    assert prop is not None
    return [child.tag for child in prop]


# --- requests ---------------------------------------------------------------------------------


def test_principal_request_asks_for_the_principal_in_the_dav_namespace() -> None:
    assert _props_asked(davxml.principal_request(Service.CALDAV)) == [
        f"{DAV}current-user-principal",
        f"{DAV}resourcetype",
        f"{C}calendar-home-set",
    ]
    assert _props_asked(davxml.principal_request(Service.CARDDAV))[-1] == (
        f"{CARD}addressbook-home-set"
    )


def test_home_set_is_asked_in_the_caldav_or_carddav_namespace() -> None:
    # asking for calendar-home-set in DAV: makes iCloud silently answer 404 for it
    assert _props_asked(davxml.home_set_request(Service.CALDAV)) == [
        f"{C}calendar-home-set",
        f"{DAV}displayname",
        f"{C}calendar-user-address-set",
    ]
    assert _props_asked(davxml.home_set_request(Service.CARDDAV)) == [
        f"{CARD}addressbook-home-set",
        f"{DAV}displayname",
    ]


def test_collections_request_asks_for_components_of_calendars_only() -> None:
    assert f"{C}supported-calendar-component-set" in _props_asked(
        davxml.collections_request(Service.CALDAV)
    )
    assert _props_asked(davxml.collections_request(Service.CARDDAV)) == [
        f"{DAV}resourcetype",
        f"{DAV}displayname",
    ]


def test_propfind_body_declares_unknown_namespaces_and_rejects_bad_names() -> None:
    body = davxml.propfind_body(["{http://calendarserver.org/ns/}getctag", "{DAV:}displayname"])
    assert _props_asked(body) == ["{http://calendarserver.org/ns/}getctag", f"{DAV}displayname"]
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    with pytest.raises(ValueError):
        davxml.propfind_body(["displayname"])
    with pytest.raises(ValueError):
        davxml.propfind_body([])


def test_services_know_their_well_known_paths() -> None:
    assert Service.CALDAV.well_known_path == "/.well-known/caldav"
    assert Service.CARDDAV.well_known_path == "/.well-known/carddav"
    assert Service.CALDAV.collection_type == f"{C}calendar"
    assert Service.CARDDAV.collection_type == f"{CARD}addressbook"


# --- answers ----------------------------------------------------------------------------------

ICLOUD_PRINCIPAL = b"""<?xml version="1.0" encoding="UTF-8"?>
<multistatus xmlns="DAV:">
 <response>
  <href>/.well-known/caldav/</href>
  <propstat>
   <prop><current-user-principal><href>/285963941/principal/</href></current-user-principal></prop>
   <status>HTTP/1.1 200 OK</status>
  </propstat>
 </response>
</multistatus>"""

ICLOUD_HOME = b"""<?xml version="1.0" encoding="UTF-8"?>
<multistatus xmlns="DAV:">
 <response>
  <href>/285963941/principal/</href>
  <propstat>
   <prop>
    <calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav">
     <href xmlns="DAV:">https://p42-caldav.icloud.com:443/285963941/calendars/</href>
    </calendar-home-set>
   </prop>
   <status>HTTP/1.1 200 OK</status>
  </propstat>
  <propstat>
   <prop><displayname/></prop>
   <status>HTTP/1.1 404 Not Found</status>
  </propstat>
 </response>
</multistatus>"""

RADICALE_COLLECTIONS = """<?xml version='1.0' encoding='utf-8'?>
<D:multistatus xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"
  xmlns:D="DAV:">
 <D:response><D:href>/alice%40example.test/</D:href><D:propstat><D:prop>
  <D:resourcetype><D:principal /><D:collection /></D:resourcetype>
 </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>/alice%40example.test/calendar/</D:href><D:propstat><D:prop>
  <D:resourcetype><C:calendar /><D:collection /></D:resourcetype>
  <D:displayname>Calendar</D:displayname>
  <C:supported-calendar-component-set><C:comp name="VEVENT" /><C:comp name="VTODO" />
  </C:supported-calendar-component-set>
 </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>/alice%40example.test/addressbook/</D:href><D:propstat><D:prop>
  <D:resourcetype><CR:addressbook /><D:collection /></D:resourcetype>
  <D:displayname>Contacts 連絡先</D:displayname>
 </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>/alice%40example.test/inbox/</D:href><D:propstat><D:prop>
  <D:resourcetype><C:schedule-inbox /><D:collection /></D:resourcetype>
 </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>""".encode()


def test_a_default_namespace_answer_gives_the_principal_made_absolute() -> None:
    answer = davxml.parse_multistatus(
        ICLOUD_PRINCIPAL, "https://caldav.icloud.com/.well-known/caldav"
    )
    assert len(answer.responses) == 1
    response = answer.for_url("https://caldav.icloud.com/.well-known/caldav")
    assert response is not None
    assert response.href_of(davxml.CURRENT_USER_PRINCIPAL) == (
        "https://caldav.icloud.com/285963941/principal/"
    )
    assert not response.unauthenticated


def test_a_home_set_on_another_host_keeps_that_host() -> None:
    answer = davxml.parse_multistatus(ICLOUD_HOME, "https://caldav.icloud.com/285963941/principal/")
    response = answer.for_url("https://caldav.icloud.com/285963941/principal")
    assert response is not None
    assert response.href_of(davxml.CALENDAR_HOME_SET) == (
        "https://p42-caldav.icloud.com:443/285963941/calendars/"
    )
    # a property the server does not have is missing (404), not found empty
    assert response.missing == {davxml.DISPLAYNAME: 404}
    assert response.displayname is None


def test_collections_are_calendars_or_address_books_but_not_the_home_or_inboxes() -> None:
    home = "https://127.0.0.1:5232/alice%40example.test/"
    answer = davxml.parse_multistatus(RADICALE_COLLECTIONS, home)
    calendars = davxml.collections_in(answer, Service.CALDAV, home)
    books = davxml.collections_in(
        answer, Service.CARDDAV, "https://127.0.0.1:5232/alice@example.test"
    )
    assert [c.to_dict() for c in calendars] == [
        {
            "url": "https://127.0.0.1:5232/alice%40example.test/calendar/",
            "displayname": "Calendar",
            "components": ["VEVENT", "VTODO"],
        }
    ]
    assert [(b.url, b.displayname, b.components) for b in books] == [
        ("https://127.0.0.1:5232/alice%40example.test/addressbook/", "Contacts 連絡先", ())
    ]


def test_response_level_status_and_unauthenticated_principal() -> None:
    body = b"""<d:multistatus xmlns:d="DAV:">
      <d:response><d:href>/gone/</d:href><d:status>HTTP/1.1 403 Forbidden</d:status></d:response>
      <d:response><d:href>/</d:href><d:propstat><d:prop>
        <d:current-user-principal><d:unauthenticated/></d:current-user-principal>
      </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      <d:response><d:propstat/></d:response>
      <d:response><d:href>http://[::1/</d:href></d:response>
    </d:multistatus>"""
    answer = davxml.parse_multistatus(body, "https://dav.example.test/")
    assert [r.url for r in answer.responses] == [
        "https://dav.example.test/gone/",
        "https://dav.example.test/",
    ]  # a response without a (usable) href is skipped
    assert answer.responses[0].status == 403
    root = answer.for_url("https://dav.example.test")
    assert root is not None and root.unauthenticated
    assert root.href_of(davxml.CURRENT_USER_PRINCIPAL) is None
    assert answer.first_href(davxml.CURRENT_USER_PRINCIPAL) is None


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("https://h.test/a/", "https://h.test/a", True),
        ("https://H.test:443/a%40b/", "https://h.test/a@b/", True),
        ("https://h.test/", "https://h.test", True),
        ("https://h.test/a/", "http://h.test/a/", False),
        ("https://h.test/a/", "https://p1-h.test/a/", False),
        ("https://h.test:8443/a/", "https://h.test/a/", False),
    ],
)
def test_same_resource(first: str, second: str, same: bool) -> None:
    assert davxml.same_resource(first, second) is same


@pytest.mark.parametrize(
    ("line", "code"),
    [("HTTP/1.1 200 OK", 200), ("HTTP/1.1 404 Not Found", 404), ("", None), ("200", None)],
)
def test_parse_status(line: str, code: int | None) -> None:
    assert davxml.parse_status(line) == code


# --- what must not be read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", davxml.MALFORMED),
        (b"   ", davxml.MALFORMED),
        (b"<multistatus xmlns='DAV:'><response>", davxml.MALFORMED),
        (b"\x00\xff garbage \x89PNG", davxml.MALFORMED),
        (b"<html><body>Welcome to nginx!</body></html>", davxml.NOT_MULTISTATUS),
        (b"<multistatus><response/></multistatus>", davxml.NOT_MULTISTATUS),  # no DAV: namespace
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<multistatus xmlns="DAV:">&lol2;</multistatus>',
            davxml.UNSAFE,
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.test/x.dtd">'
            b'<multistatus xmlns="DAV:"/>',
            davxml.UNSAFE,
        ),
    ],
)
def test_bad_documents_are_refused_with_the_reason(body: bytes, problem: str) -> None:
    with pytest.raises(DavXmlError) as caught:
        davxml.parse_multistatus(body, "https://dav.example.test/")
    assert caught.value.problem == problem


def test_a_document_over_the_cap_is_not_parsed() -> None:
    body = b'<multistatus xmlns="DAV:">' + b" " * 100 + b"</multistatus>"
    assert davxml.parse_multistatus(body, "https://h.test/", max_bytes=len(body)).responses == ()
    with pytest.raises(DavXmlError) as caught:
        davxml.parse_multistatus(body, "https://h.test/", max_bytes=len(body) - 1)
    assert caught.value.problem == davxml.TOO_LARGE
    assert davxml.MAX_BYTES == 1024 * 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_a_multistatus_or_a_dav_xml_error(body: bytes) -> None:
    try:
        result = davxml.parse_multistatus(body, "https://dav.example.test/")
    except DavXmlError as error:
        assert error.problem in (davxml.MALFORMED, davxml.UNSAFE, davxml.NOT_MULTISTATUS)
    else:
        assert isinstance(result, davxml.Multistatus)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_any_href_text_parses_without_crashing(href: str) -> None:
    escaped = href.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = (
        '<d:multistatus xmlns:d="DAV:"><d:response><d:href>'
        + escaped
        + "</d:href><d:propstat><d:prop><d:displayname>x</d:displayname></d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"
    ).encode()
    try:
        result = davxml.parse_multistatus(body, "https://dav.example.test/home/")
    except DavXmlError as error:  # characters XML 1.0 does not allow
        assert error.problem == davxml.MALFORMED
        return
    for response in result.responses:  # unusable hrefs (``http://[``) are left out
        assert davxml.same_resource(response.url, response.url)
        if ":" not in response.href and not response.href.startswith("//"):
            assert response.url.startswith("https://dav.example.test/")


# --- where credentials may go (app.core.checks.dav) -----------------------------------------------


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("caldav.icloud.com", "icloud.com"),
        ("p07-caldav.icloud.com", "icloud.com"),
        ("P42-Contacts.iCloud.com.", "icloud.com"),
        ("dav.example.co.jp", "example.co.jp"),
        ("p07-dav.example.test", "example.test"),
        ("dav.corp.test", "corp.test"),
        ("co.jp", "co.jp"),  # a public suffix is only itself
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("localhost", "localhost"),
    ],
)
def test_registered_domain(host: str, domain: str) -> None:
    from app.core.checks.dav import registered_domain

    assert registered_domain(host) == domain


def test_shards_share_a_domain_but_neighbours_under_a_public_suffix_do_not() -> None:
    from app.core.checks.dav import registered_domain

    assert registered_domain("caldav.icloud.com") == registered_domain("p180-caldav.icloud.com")
    assert registered_domain("a.example.co.jp") != registered_domain("b.other.co.jp")
    assert registered_domain("127.0.0.1") != registered_domain("127.0.0.2")
