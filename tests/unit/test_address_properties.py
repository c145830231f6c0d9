"""Properties of the address parser, checked with Hypothesis on generated input."""

from __future__ import annotations

import string
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidAddressError
from app.core.model import EmailAddress

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
# Letters IDNA 2008 accepts in domain labels, Latin and Japanese.
IDN_LETTERS = (
    "abcdefghijklmnopqrstuvwxyzäöüßéèçñøå"
    + "あいうえおかきくけこさしすせそ"
    + "アイウエオ日本語例東京山田"
)

atoms = st.text(alphabet=ATEXT, min_size=1, max_size=10)
ascii_locals = st.lists(atoms, min_size=1, max_size=3).map(".".join)
utf8_locals = st.text(
    alphabet="山田太郎あいうえおäöü" + string.ascii_lowercase, min_size=1, max_size=8
)
# Labels such as "ab--cd" are reserved by IDNA (rejected, tested in test_model.py).
ascii_labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"
)
idn_labels = st.text(alphabet=IDN_LETTERS + string.digits, min_size=1, max_size=10)
top_labels = st.from_regex(r"[a-z]{2,6}", fullmatch=True) | st.sampled_from(["テスト", "日本"])
domains = st.builds(
    lambda labels, top: ".".join([*labels, top]),
    st.lists(ascii_labels | idn_labels, min_size=1, max_size=3),
    top_labels,
)
addresses = st.builds(
    lambda local, domain: f"{local}@{domain}", ascii_locals | utf8_locals, domains
)


def _parse_or_none(text: str) -> EmailAddress | None:
    try:
        return EmailAddress.parse(text)
    except InvalidAddressError:
        return None


@SETTINGS
@given(addresses)
def test_generated_addresses_parse_and_round_trip(text: str) -> None:
    address = EmailAddress.parse(text)
    assert EmailAddress.parse(str(address)) == address
    assert EmailAddress.parse(address.ascii) == address
    assert EmailAddress.parse(f"{address.local}@{address.domain_ascii.upper()}") == address


@SETTINGS
@given(ascii_locals, st.lists(ascii_labels, min_size=1, max_size=3), top_labels)
def test_ascii_addresses_keep_their_parts(local: str, labels: list[str], top: str) -> None:
    domain = ".".join([*labels, top])
    address = EmailAddress.parse(f"{local}@{domain}")
    assert address.local == local
    assert address.domain == domain


@SETTINGS
@given(addresses)
def test_ascii_form_is_ascii_unless_the_local_part_is_international(text: str) -> None:
    address = EmailAddress.parse(text)
    assert address.domain_ascii.isascii()
    assert address.ascii.isascii() == (not address.needs_smtputf8)
    assert address.domain_ascii == address.domain_ascii.lower()


@SETTINGS
@given(addresses)
def test_full_width_input_means_the_same(text: str) -> None:
    address = EmailAddress.parse(text)
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    assert EmailAddress.parse(full_width) == address


@SETTINGS
@given(st.text(max_size=40))
@example("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ")
@example("ﬁ@ｅｘａｍｐｌｅ．ｊｐ")
def test_nfkc_idempotence(text: str) -> None:
    address = _parse_or_none(text)
    assert _parse_or_none(unicodedata.normalize("NFKC", text)) == address
    if address is not None:
        assert unicodedata.is_normalized("NFKC", str(address))


@SETTINGS
@given(st.text(max_size=80))
@example("a@xn--.com")
@example("a@xn--a.com")
@example("a@b.xn--")
@example("a@\u0301.com")
@example("a@a\u200db.com")
@example("a@ab.\u05d0\u05d1")
@example("\x00@\x00")
@example("@@@")
def test_garbage_only_ever_raises_invalid_address_error(text: str) -> None:
    address = _parse_or_none(text)
    if address is not None:
        assert EmailAddress.parse(str(address)) == address


@SETTINGS
@given(st.text(alphabet=ATEXT + ".@ 　＠．。" + IDN_LETTERS, max_size=40))
def test_near_miss_input_only_ever_raises_invalid_address_error(text: str) -> None:
    address = _parse_or_none(text)
    if address is not None:
        assert "@" in text or "＠" in text
        assert EmailAddress.parse(str(address)) == address
