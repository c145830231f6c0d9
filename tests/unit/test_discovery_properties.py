"""Properties of the discovery parsers, checked with Hypothesis on generated input.

- any input raises nothing but DiscoveryDocumentError;
- generated valid documents (clientConfig, Autodiscover JSON and XML, WWW-Authenticate headers)
  parse back to what they were built from;
- the typo suggester only ever suggests known domains close to what was typed.

The strategies here are also what ``tests/fuzz/fuzz_parsers.py`` runs for longer.
"""

from __future__ import annotations

import contextlib
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.discovery.autodiscover_parse import (
    AutodiscoverV2Answer,
    AutodiscoverV2Failure,
    Challenge,
    PoxSettings,
    bearer_challenge,
    parse_autodiscover_v2,
    parse_pox_autodiscover,
    parse_www_authenticate,
)
from app.core.discovery.clientconfig import (
    AuthMethod,
    DiscoveryDocumentError,
    ServerKind,
    parse_clientconfig,
    to_account_configs,
)
from app.core.discovery.typos import DomainSuggester, damerau_levenshtein, default_suggester
from app.core.model import EmailAddress, Protocol, Provenance, Security, Trust

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
ADDRESS = EmailAddress.parse("taro@example.test")
PROVENANCE = Provenance("ispdb", Trust.HIGH, True)

# --- strategies -------------------------------------------------------------------------------

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"
)
hosts = st.builds(
    lambda parts, top: ".".join([*parts, top]),
    st.lists(labels, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,5}", fullmatch=True),
)
ports = st.integers(min_value=1, max_value=65535)
# Printable text for element contents and attribute values (XML cannot carry controls).
texts = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\ufffe\uffff"
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s)
url_paths = st.from_regex(r"(/[a-zA-Z0-9._~-]{0,8}){0,3}", fullmatch=True)
https_urls = st.builds(lambda h, p: f"https://{h}{p or '/'}", hosts, url_paths)

SOCKET_TYPES = {"SSL": Security.TLS, "STARTTLS": Security.STARTTLS, "plain": Security.PLAIN}
USERNAMES = {
    "%EMAILADDRESS%": "taro@example.test",
    "%EMAILLOCALPART%": "taro",
    "%EMAILLOCALPART%@%EMAILDOMAIN%": "taro@example.test",
    "fixed-user": "fixed-user",
}
auth_methods = st.lists(st.sampled_from(list(AuthMethod)), max_size=4)


@dataclass
class GenServer:
    kind: str
    host: str
    port: int
    socket_type: str
    username: str | None
    auth: list[AuthMethod]

    def xml(self, element: str) -> str:
        parts = [
            f"<hostname>{escape(self.host)}</hostname>",
            f"<port>{self.port}</port>",
            f"<socketType>{self.socket_type}</socketType>",
        ]
        if self.username is not None:
            parts.append(f"<username>{escape(self.username)}</username>")
        parts += [f"<authentication>{m.value}</authentication>" for m in self.auth]
        return f'<{element} type="{self.kind}">{"".join(parts)}</{element}>'


@dataclass
class GenConfig:
    provider_id: str
    domains: list[str]
    display_name: str | None
    incoming: list[GenServer]
    outgoing: list[GenServer]
    calendar: str | None = None
    documentation: list[tuple[str, str]] = field(default_factory=list)

    def xml(self) -> str:
        body = [f"<domain>{escape(d)}</domain>" for d in self.domains]
        if self.display_name is not None:
            body.append(f"<displayName>{escape(self.display_name)}</displayName>")
        body += [s.xml("incomingServer") for s in self.incoming]
        body += [s.xml("outgoingServer") for s in self.outgoing]
        for url, descr in self.documentation:
            body.append(
                f"<documentation url={quoteattr(url)}><descr lang='en'>{escape(descr)}</descr>"
                "</documentation>"
            )
        after = ""
        if self.calendar is not None:
            after = (
                f'<calendar type="caldav"><serverURL>{escape(self.calendar)}</serverURL></calendar>'
            )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">'
            f"<emailProvider id={quoteattr(self.provider_id)}>{''.join(body)}</emailProvider>"
            f"{after}</clientConfig>"
        )


def servers(kinds: list[str]) -> st.SearchStrategy[GenServer]:
    return st.builds(
        GenServer,
        kind=st.sampled_from(kinds),
        host=hosts,
        port=ports,
        socket_type=st.sampled_from(list(SOCKET_TYPES)),
        username=st.none() | st.sampled_from(list(USERNAMES)),
        auth=auth_methods,
    )


configs = st.builds(
    GenConfig,
    provider_id=texts,
    domains=st.lists(hosts, max_size=3, unique=True),
    display_name=st.none() | texts,
    incoming=st.lists(servers(["imap", "pop3"]), min_size=1, max_size=4),
    outgoing=st.lists(servers(["smtp"]), max_size=3),
    calendar=st.none() | https_urls,
    documentation=st.lists(st.tuples(https_urls, texts), max_size=2),
)

# XML-shaped noise: elements the parsers look for, nested at random, with random contents.
TAGS = [
    "clientConfig", "emailProvider", "incomingServer", "outgoingServer", "hostname", "port",
    "socketType", "username", "authentication", "domain", "displayName", "oAuth2", "issuer",
    "scope", "authURL", "tokenURL", "addressBook", "calendar", "serverURL", "documentation",
    "descr", "enable", "instruction", "url", "ewsURL", "owaURL", "Autodiscover", "Response",
    "Account", "Action", "Protocol", "Type", "Server", "Port", "SSL", "Encryption", "EwsUrl",
    "RedirectAddr", "RedirectUrl", "Error", "ErrorCode", "Message", "User", "External",
    "OWAUrl",
]  # fmt: skip
VALUES = [
    "imap", "pop3", "smtp", "exchange", "ews", "caldav", "carddav", "SSL", "STARTTLS", "plain",
    "OAuth2", "password-cleartext", "993", "0", "99999", "on", "off", "TLS", "settings",
    "redirectAddr", "redirectUrl", "%EMAILADDRESS%", "%EMAILDOMAIN%", "mail.%EMAILDOMAIN%",
    "https://x.test/", "http://x.test/", "a@b.test", "imap.example.test", "-bad-", "",
]  # fmt: skip
ATTRIBUTES = ["type", "id", "url", "visiturl", "lang", "Type"]


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, content: (
            f"<{tag}"
            + "".join(f" {name}={quoteattr(value)}" for name, value in attrs)
            + f">{content}</{tag}>"
        ),
        st.sampled_from(TAGS),
        st.lists(
            st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES)),
            max_size=2,
            unique_by=lambda pair: pair[0],
        ),
        st.lists(children, max_size=4).map("".join),
    )


xml_noise = st.recursive(
    st.sampled_from(VALUES).map(escape) | texts.map(escape),
    _element,
    max_leaves=25,
).map(lambda body: body if body.startswith("<") else f"<clientConfig>{body}</clientConfig>")

TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
tokens = st.text(alphabet=TCHAR, min_size=1, max_size=12)
token68s = st.from_regex(r"[A-Za-z0-9\-._~+/]{1,16}={0,2}", fullmatch=True)
header_values = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)


@dataclass
class GenChallenge:
    scheme: str
    token68: str | None
    params: list[tuple[str, str, bool]]  # name, value, quote it

    def header(self) -> str:
        if self.token68 is not None:
            return f"{self.scheme} {self.token68}"
        if not self.params:
            return self.scheme
        rendered = []
        for name, value, quoted in self.params:
            if quoted or not value or any(ch not in TCHAR for ch in value):
                value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            rendered.append(f"{name}={value}")
        return f"{self.scheme} " + ", ".join(rendered)

    def expected(self) -> Challenge:
        return Challenge(
            self.scheme,
            self.token68,
            tuple((name.lower(), value) for name, value, _quoted in self.params)
            if self.token68 is None
            else (),
        )


challenges = st.builds(
    GenChallenge,
    scheme=tokens,
    token68=st.none() | token68s,
    params=st.lists(st.tuples(tokens, header_values, st.booleans()), max_size=4),
)

# --- nothing but the parser's own error -------------------------------------------------------


def _only_document_errors(call: Callable[[Any], object], data: object) -> None:
    with contextlib.suppress(DiscoveryDocumentError):
        call(data)


@SETTINGS
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_arbitrary_input_raises_only_document_errors(data: bytes | str) -> None:
    _only_document_errors(lambda d: parse_clientconfig(d, ADDRESS), data)
    _only_document_errors(parse_autodiscover_v2, data)
    _only_document_errors(parse_pox_autodiscover, data)
    if isinstance(data, str):
        _only_document_errors(lambda d: bearer_challenge(parse_www_authenticate(d)), data)


@SETTINGS
@given(xml_noise)
def test_xml_shaped_noise_raises_only_document_errors(document: str) -> None:
    try:
        parsed = parse_clientconfig(document, ADDRESS)
    except DiscoveryDocumentError:
        pass
    else:
        try:
            to_account_configs(parsed, ADDRESS, PROVENANCE)
        except DiscoveryDocumentError as error:
            assert error.code == "discovery.config.exchange-only"
    wrapped = document.replace("clientConfig", "Autodiscover")
    _only_document_errors(parse_pox_autodiscover, wrapped)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(["Bearer", "Basic", "realm", "=", '"', "\\", ",", " ", "a", "x=y", "=="]),
        max_size=20,
    ).map("".join)
)
def test_header_shaped_noise_raises_only_document_errors(header: str) -> None:
    _only_document_errors(lambda d: bearer_challenge(parse_www_authenticate(d)), header)


@SETTINGS
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["Url", "url", "Protocol", "ErrorCode", "ErrorMessage", "x"]),
                inner,
                max_size=3,
            )
        ),
        max_leaves=8,
    )
)
def test_any_json_raises_only_document_errors(value: object) -> None:
    _only_document_errors(parse_autodiscover_v2, json.dumps(value))


# --- round trips ------------------------------------------------------------------------------


@settings(SETTINGS, max_examples=100)
@given(configs)
def test_generated_configs_round_trip(generated: GenConfig) -> None:
    parsed = parse_clientconfig(generated.xml().encode("utf-8"), ADDRESS)
    assert parsed.provider_id == generated.provider_id
    assert parsed.domains == tuple(generated.domains)
    assert parsed.display_name == generated.display_name
    for got, made in [
        *zip(parsed.incoming, generated.incoming, strict=True),
        *zip(parsed.outgoing, generated.outgoing, strict=True),
    ]:
        assert got.kind is ServerKind(made.kind)
        assert (got.host, got.port) == (made.host, made.port)
        assert got.security is SOCKET_TYPES[made.socket_type]
        assert got.username == (USERNAMES[made.username] if made.username else None)
        assert got.auth == tuple(dict.fromkeys(made.auth))
    assert [c.url for c in parsed.calendars] == ([generated.calendar] if generated.calendar else [])
    assert [(d.url, d.description("en")) for d in parsed.documentation] == generated.documentation
    assert parsed.notes == ()

    candidates = to_account_configs(parsed, ADDRESS, PROVENANCE)
    assert [(c.incoming.host, c.incoming.port) for c in candidates] == [
        (s.host, s.port) for s in generated.incoming
    ]
    first_smtp = generated.outgoing[0] if generated.outgoing else None
    for candidate in candidates:
        assert candidate.caldav == generated.calendar
        if first_smtp is None:
            assert candidate.outgoing is None
        else:
            assert candidate.outgoing is not None
            assert candidate.outgoing.host == first_smtp.host


@SETTINGS
@given(st.lists(challenges, max_size=4), st.sampled_from([", ", ",", " , ", ",, "]))
def test_generated_headers_parse_back(generated: list[GenChallenge], separator: str) -> None:
    header = separator.join(c.header() for c in generated)
    assert list(parse_www_authenticate(header)) == [c.expected() for c in generated]
    # The same challenges on separate header lines.
    assert list(parse_www_authenticate([c.header() for c in generated])) == [
        c.expected() for c in generated
    ]


@SETTINGS
@given(st.text(alphabet=TCHAR, max_size=12), https_urls)
def test_autodiscover_v2_round_trip(protocol: str, url: str) -> None:
    answer = parse_autodiscover_v2(json.dumps({"Protocol": protocol, "Url": url}))
    assert answer == AutodiscoverV2Answer(protocol, url, url.split("/")[2])
    failure = parse_autodiscover_v2(json.dumps({"ErrorCode": protocol, "ErrorMessage": url}))
    assert failure == AutodiscoverV2Failure(protocol, url)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["IMAP", "POP3", "SMTP"]),
            hosts,
            ports,
            st.sampled_from(["SSL", "TLS", "None"]),
        ),
        max_size=4,
    )
)
def test_pox_round_trip(protocols: list[tuple[str, str, int, str]]) -> None:
    body = "".join(
        f"<Protocol><Type>{kind}</Type><Server>{host}</Server><Port>{port}</Port>"
        f"<Encryption>{encryption}</Encryption></Protocol>"
        for kind, host, port, encryption in protocols
    )
    answer = parse_pox_autodiscover(
        f"<Autodiscover><Response><Account><Action>settings</Action>{body}</Account>"
        "</Response></Autodiscover>"
    )
    assert isinstance(answer, PoxSettings)
    security = {"SSL": Security.TLS, "TLS": Security.STARTTLS, "None": Security.PLAIN}
    assert [(e.protocol, e.host, e.port, e.security) for e in answer.endpoints()] == [
        (Protocol(kind.lower()), host, port, security[encryption])
        for kind, host, port, encryption in protocols
    ]


# --- typo suggestions -------------------------------------------------------------------------


def _one_edit(draw: st.DrawFn, word: str) -> str:
    position = draw(st.integers(min_value=0, max_value=len(word) - 1))
    letter = draw(st.sampled_from(string.ascii_lowercase))
    edit = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
    if edit == "insert":
        return word[:position] + letter + word[position:]
    if edit == "delete":
        return word[:position] + word[position + 1 :]
    if edit == "replace":
        return word[:position] + letter + word[position + 1 :]
    if position == len(word) - 1:
        return word
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


@st.composite
def typed_domains(draw: st.DrawFn) -> tuple[str, str]:
    known = draw(st.sampled_from(default_suggester().domains))
    return known, _one_edit(draw, known)


@SETTINGS
@given(typed_domains())
def test_suggestions_are_known_and_close(pair: tuple[str, str]) -> None:
    known, typed = pair
    suggester = default_suggester()
    suggestion = suggester.suggest_domain(typed)
    if typed in suggester:
        assert suggestion is None
        return
    if suggestion is None:
        return  # e.g. the typo made an invalid name, or a subdomain of a known domain
    assert suggestion in suggester
    assert suggestion != typed
    stem_swap = suggestion.rpartition(".")[0] == typed.rpartition(".")[0]
    assert damerau_levenshtein(typed, suggestion) <= 2 or stem_swap
    # With only one edit made, the suggestion is at most as far away as the original.
    assert damerau_levenshtein(typed, suggestion) <= damerau_levenshtein(typed, known) or stem_swap


@settings(SETTINGS, max_examples=80)
@given(st.lists(hosts, min_size=1, max_size=5, unique=True), st.data())
def test_one_edit_away_from_a_lone_domain_is_found(domains: list[str], data: st.DataObject) -> None:
    suggester = DomainSuggester(domains)
    target = data.draw(st.sampled_from(suggester.domains))
    typed = _one_edit(data.draw, target)
    if typed in suggester or typed.count(".") == 0 or typed.startswith(".") or ".." in typed:
        return
    if any(typed.endswith("." + d) for d in suggester.domains):
        return
    suggestion = suggester.suggest_domain(typed)
    if typed.endswith(".") or typed.startswith("-") or "-." in typed or ".-" in typed:
        return  # not a valid host name; the parser would never get here
    assert suggestion is not None
    assert damerau_levenshtein(typed, suggestion) <= 1


@SETTINGS
@given(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8))
def test_distance_is_a_metric(a: str, b: str, c: str) -> None:
    ab, bc, ac = damerau_levenshtein(a, b), damerau_levenshtein(b, c), damerau_levenshtein(a, c)
    assert ab == damerau_levenshtein(b, a)
    assert (ab == 0) == (a == b)
    assert ac <= ab + bc
    assert ab <= max(len(a), len(b))
