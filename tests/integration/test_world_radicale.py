"""The test world's Radicale answers as a real CalDAV/CardDAV server: discovery through
``/.well-known``, principals and home sets, authentication, per-user rights, and stored events."""

from __future__ import annotations

import uuid
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree

from tests.world.radicale import RadicaleServer

pytestmark = pytest.mark.world

ALICE = "alice@example.test"
BOB = "bob@example.test"
PASSWORDS = {ALICE: "alice-Secret-1", BOB: "bob-Secret-2"}

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CARDDAV = "{urn:ietf:params:xml:ns:carddav}"


@pytest.fixture(scope="module")
def dav(radicale: RadicaleServer) -> RadicaleServer:
    for user, password in PASSWORDS.items():
        radicale.add_user(user, password)
    return radicale


def _propfind(dav: RadicaleServer, user: str, url: str, props: str, depth: str) -> Element:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
        ' xmlns:CR="urn:ietf:params:xml:ns:carddav">'
        f"<D:prop>{props}</D:prop></D:propfind>"
    )
    with dav.client(user) as client:
        response = client.request(
            "PROPFIND",
            url,
            content=body.encode(),
            headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
        )
    assert response.status_code == 207, response.text
    root: Element = ElementTree.fromstring(response.content)
    return root


def _href_of(root: Element, prop: str) -> str:
    hrefs = [e.text for e in root.iter(f"{DAV}href") if e.text]
    found = root.find(f".//{prop}/{DAV}href")
    assert found is not None and found.text, f"{prop} missing in {hrefs}"
    return found.text


def _collections(root: Element) -> dict[str, set[str]]:
    """href -> resource types (local names) of every response in a multistatus."""
    result: dict[str, set[str]] = {}
    for response in root.iter(f"{DAV}response"):
        href = response.findtext(f"{DAV}href") or ""
        types = response.find(f".//{DAV}resourcetype")
        result[href] = {child.tag.split("}")[1] for child in types} if types is not None else set()
    return result


@pytest.mark.parametrize("service", ["caldav", "carddav"])
def test_well_known_redirects_to_the_root(dav: RadicaleServer, service: str) -> None:
    with dav.client() as client:
        response = client.get(f"/.well-known/{service}")
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["Location"] in ("/", dav.url)


def test_current_user_principal_is_the_users_own(dav: RadicaleServer) -> None:
    root = _propfind(dav, ALICE, "/", "<D:current-user-principal/>", "0")
    assert _href_of(root, f"{DAV}current-user-principal") == dav.principal_path(ALICE)


def test_home_sets_lead_to_the_calendar_and_the_address_book(dav: RadicaleServer) -> None:
    principal = _href_of(
        _propfind(dav, ALICE, "/", "<D:current-user-principal/>", "0"),
        f"{DAV}current-user-principal",
    )
    homes = _propfind(
        dav, ALICE, principal, "<C:calendar-home-set/><CR:addressbook-home-set/>", "0"
    )
    calendar_home = _href_of(homes, f"{CALDAV}calendar-home-set")
    addressbook_home = _href_of(homes, f"{CARDDAV}addressbook-home-set")

    calendars = _collections(_propfind(dav, ALICE, calendar_home, "<D:resourcetype/>", "1"))
    books = _collections(_propfind(dav, ALICE, addressbook_home, "<D:resourcetype/>", "1"))
    calendar_path = dav.calendar_url(ALICE).removeprefix(dav.url.rstrip("/"))
    book_path = dav.addressbook_url(ALICE).removeprefix(dav.url.rstrip("/"))
    assert calendars.get(calendar_path) == {"collection", "calendar"}
    assert books.get(book_path) == {"collection", "addressbook"}


def test_wrong_password_and_unknown_user_are_refused(dav: RadicaleServer) -> None:
    with dav.client(ALICE, "not-the-password") as client:
        assert client.request("PROPFIND", "/", headers={"Depth": "0"}).status_code == 401
    with dav.client(ALICE) as client:
        client.auth = ("nobody@example.test", "whatever")
        assert client.request("PROPFIND", "/", headers={"Depth": "0"}).status_code == 401


def test_a_user_added_while_running_can_sign_in(dav: RadicaleServer) -> None:
    late = f"late-{uuid.uuid4().hex[:8]}@example.test"
    with dav.client(ALICE) as client:
        client.auth = (late, "late-Secret-3")
        assert client.request("PROPFIND", "/", headers={"Depth": "0"}).status_code == 401
    dav.add_user(late, "late-Secret-3")
    root = _propfind(dav, late, "/", "<D:current-user-principal/>", "0")
    assert _href_of(root, f"{DAV}current-user-principal") == dav.principal_path(late)


def test_users_cannot_read_each_others_calendars(dav: RadicaleServer) -> None:
    with dav.client(BOB) as client:
        response = client.request("PROPFIND", dav.calendar_url(ALICE), headers={"Depth": "0"})
    assert response.status_code in (403, 404)


def test_an_event_put_reads_back(dav: RadicaleServer) -> None:
    uid = f"{uuid.uuid4()}@example.test"
    event = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mail Setup Tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T090000Z\r\n"
        "DTSTART:20250102T100000Z\r\nDTEND:20250102T110000Z\r\n"
        "SUMMARY:Kick-off 会議\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    url = f"{dav.calendar_url(ALICE)}{uuid.uuid4().hex}.ics"
    with dav.client(ALICE) as client:
        put = client.put(
            url, content=event.encode(), headers={"Content-Type": "text/calendar; charset=utf-8"}
        )
        assert put.status_code == 201, put.text
        got = client.get(url)
    assert got.status_code == 200
    assert got.headers["Content-Type"].startswith("text/calendar")
    assert f"UID:{uid}" in got.text
    assert "SUMMARY:Kick-off 会議" in got.text
    with dav.client(BOB) as client:
        assert client.get(url).status_code in (403, 404)


def test_a_contact_put_reads_back(dav: RadicaleServer) -> None:
    uid = str(uuid.uuid4())
    card = (
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\n"
        "FN:Carol Test\r\nN:Test;Carol;;;\r\nEND:VCARD\r\n"
    )
    url = f"{dav.addressbook_url(ALICE)}{uid}.vcf"
    with dav.client(ALICE) as client:
        put = client.put(url, content=card.encode(), headers={"Content-Type": "text/vcard"})
        assert put.status_code == 201, put.text
        got = client.get(url)
    assert got.status_code == 200
    assert f"UID:{uid}" in got.text and "FN:Carol Test" in got.text
