"""Microsoft discovery answers (app/core/discovery/autodiscover_parse.py): Autodiscover v2
JSON, POX Autodiscover XML, and WWW-Authenticate challenges with the empty-Bearer probe."""

from __future__ import annotations

import json

import pytest

from app.core.discovery.autodiscover_parse import (
    MAX_HEADER_BYTES,
    AutodiscoverV2Answer,
    AutodiscoverV2Failure,
    BearerChallenge,
    Challenge,
    PoxFailure,
    PoxProtocol,
    PoxRedirectAddress,
    PoxRedirectUrl,
    PoxSettings,
    PoxUser,
    bearer_challenge,
    parse_autodiscover_v2,
    parse_bearer_challenge,
    parse_pox_autodiscover,
    parse_www_authenticate,
)
from app.core.discovery.clientconfig import MAX_DOCUMENT_BYTES, DiscoveryDocumentError
from app.core.model import EmailAddress, Endpoint, Protocol, Security
from app.core.texts import render

# --- Autodiscover v2 (JSON) -------------------------------------------------------------------


def test_v2_answer() -> None:
    body = (
        b'{"Protocol":"AutodiscoverV1",'
        b'"Url":"https://outlook.office365.com/autodiscover/autodiscover.xml"}'
    )
    assert parse_autodiscover_v2(body) == AutodiscoverV2Answer(
        protocol="AutodiscoverV1",
        url="https://outlook.office365.com/autodiscover/autodiscover.xml",
        host="outlook.office365.com",
    )


def test_v2_answer_for_a_hybrid_mailbox_with_odd_spelling() -> None:
    body = '\ufeff{"protocol": "Ews", "url": " https://Mail.Corp.test:8443/EWS/Exchange.asmx "}'
    answer = parse_autodiscover_v2(body.encode("utf-8"))
    assert answer == AutodiscoverV2Answer(
        "Ews", "https://Mail.Corp.test:8443/EWS/Exchange.asmx", "mail.corp.test"
    )
    # JSON in UTF-16 is JSON too.
    assert parse_autodiscover_v2(body[1:].encode("utf-16")) == answer


def test_v2_error_answer() -> None:
    body = json.dumps(
        {
            "ErrorCode": "InvalidProtocol",
            "ErrorMessage": "The given protocol value 'Imap' is invalid. Supported values are "
            "'Rest,ActiveSync,Ews,AutodiscoverV1'",
        }
    )
    failure = parse_autodiscover_v2(body)
    assert isinstance(failure, AutodiscoverV2Failure)
    assert failure.code == "InvalidProtocol"
    assert failure.message.startswith("The given protocol value 'Imap'")
    assert parse_autodiscover_v2('{"ErrorCode": 500}') == AutodiscoverV2Failure("500", "")


@pytest.mark.parametrize(
    "url",
    [
        "http://outlook.office365.com/autodiscover/autodiscover.xml",
        "https://",
        "https://bad host.test/x",
        "https://user:secret@mail.corp.test/",
        "https://mail.corp.test:0/",
        "https://mail.corp.test:70000/",
        "javascript:alert(1)",
        "https://mail.corp.test/\x00",
        "",
    ],
)
def test_v2_url_must_be_well_formed_https(url: str) -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_autodiscover_v2(json.dumps({"Protocol": "Ews", "Url": url}))
    assert info.value.code == "discovery.autodiscover.bad-url"
    assert "\x00" not in str(info.value)
    assert "https" in info.value.render("ja")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<html>Service unavailable</html>", "discovery.autodiscover.not-json"),
        (b"", "discovery.autodiscover.not-json"),
        (b"\xff\xfe\xfd", "discovery.autodiscover.not-json"),
        (b"[" * 100_000 + b"]" * 100_000, "discovery.autodiscover.not-json"),
        (b"1" * 5000, "discovery.autodiscover.not-json"),
        (b"[]", "discovery.autodiscover.unexpected"),
        (b'"https://outlook.office365.com/"', "discovery.autodiscover.unexpected"),
        (b'{"Protocol": "Ews"}', "discovery.autodiscover.unexpected"),
        (b'{"Url": 5}', "discovery.autodiscover.unexpected"),
        (b'{"ErrorCode": true}', "discovery.autodiscover.unexpected"),
        (b" " * (MAX_DOCUMENT_BYTES + 1), "discovery.autodiscover.too-large"),
    ],
)
def test_v2_unreadable_answers(body: bytes, code: str) -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_autodiscover_v2(body, source="https://autodiscover-s.outlook.com/x")
    assert info.value.code == code
    assert info.value.detail["source"] == "https://autodiscover-s.outlook.com/x"
    assert info.value.checked is not None
    assert render(info.value.checked, "ja")


# --- POX Autodiscover (XML) -------------------------------------------------------------------

POX_SETTINGS = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>山田 太郎</DisplayName>
      <LegacyDN>/o=Corp/ou=Exchange Administrative Group/cn=Recipients/cn=taro</LegacyDN>
      <AutoDiscoverSMTPAddress>taro@corp.test</AutoDiscoverSMTPAddress>
      <DeploymentId>0b0e6d2c-0000-4000-8000-000000000000</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>ex01.corp.test</Server>
        <ASUrl>https://mail.corp.test/Microsoft-Server-ActiveSync</ASUrl>
        <EwsUrl>https://ex01.corp.test/EWS/Exchange.asmx</EwsUrl>
        <AuthPackage>Negotiate</AuthPackage>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.corp.test</Server>
        <SSL>On</SSL>
        <AuthPackage>Ntlm</AuthPackage>
        <EwsUrl>https://mail.corp.test/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal><OWAUrl AuthenticationMethod="Fba">https://ex01.corp.test/owa/</OWAUrl></Internal>
        <External><OWAUrl AuthenticationMethod="Fba">https://mail.corp.test/owa/</OWAUrl></External>
      </Protocol>
      <Protocol>
        <Type>IMAP</Type>
        <Server>imap.corp.test</Server>
        <Port>993</Port>
        <SSL>on</SSL>
        <SPA>off</SPA>
        <LoginName>taro@corp.test</LoginName>
      </Protocol>
      <Protocol>
        <Type>POP3</Type>
        <Server>pop.corp.test</Server>
        <Port>995</Port>
        <Encryption>SSL</Encryption>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type>
        <Server>smtp.corp.test</Server>
        <Port>587</Port>
        <Encryption>TLS</Encryption>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
""".encode()

POX_REDIRECT_ADDRESS = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <Action>redirectAddr</Action>
      <RedirectAddr>taro@corp.mail.onmicrosoft.test</RedirectAddr>
    </Account>
  </Response>
</Autodiscover>
"""

POX_REDIRECT_URL = b"""<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <Action>redirectUrl</Action>
      <RedirectUrl>https://autodiscover.eu.corp.test/autodiscover/autodiscover.xml</RedirectUrl>
    </Account>
  </Response>
</Autodiscover>
"""

POX_ERROR = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response>
    <Error Time="16:42:44.4717684" Id="2042739585">
      <ErrorCode>500</ErrorCode>
      <Message>The e-mail address cannot be found.</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
"""


def test_pox_settings() -> None:
    answer = parse_pox_autodiscover(POX_SETTINGS)
    assert isinstance(answer, PoxSettings)
    assert answer.user == PoxUser("山田 太郎", "taro@corp.test")
    assert answer.account_type == "email"
    assert [p.type for p in answer.protocols] == ["EXCH", "EXPR", "WEB", "IMAP", "POP3", "SMTP"]
    exch, expr, web, imap, pop, smtp = answer.protocols
    assert exch.auth_package == "Negotiate"
    assert exch.as_url == "https://mail.corp.test/Microsoft-Server-ActiveSync"
    assert expr.ssl is True
    assert web.owa_url == "https://mail.corp.test/owa/"  # the outside address first
    assert answer.ews_url == "https://mail.corp.test/EWS/Exchange.asmx"  # EXPR before EXCH
    assert imap == PoxProtocol(
        type="IMAP",
        server="imap.corp.test",
        port=993,
        ssl=True,
        spa=False,
        login_name="taro@corp.test",
    )
    assert pop.encryption == "ssl"
    assert (smtp.encryption, smtp.security) == ("tls", Security.STARTTLS)
    assert answer.endpoints() == (
        Endpoint(Protocol.IMAP, "imap.corp.test", 993, Security.TLS, "taro@corp.test"),
        Endpoint(Protocol.POP3, "pop.corp.test", 995, Security.TLS),
        Endpoint(Protocol.SMTP, "smtp.corp.test", 587, Security.STARTTLS),
    )
    assert answer.notes == ()


def test_pox_redirect_address() -> None:
    answer = parse_pox_autodiscover(POX_REDIRECT_ADDRESS)
    assert answer == PoxRedirectAddress(EmailAddress.parse("taro@corp.mail.onmicrosoft.test"))


def test_pox_redirect_url() -> None:
    answer = parse_pox_autodiscover(POX_REDIRECT_URL)
    assert answer == PoxRedirectUrl(
        "https://autodiscover.eu.corp.test/autodiscover/autodiscover.xml"
    )


def test_pox_error() -> None:
    assert parse_pox_autodiscover(POX_ERROR) == PoxFailure(
        "500", "The e-mail address cannot be found.", None
    )


def test_pox_without_action_means_settings() -> None:
    answer = parse_pox_autodiscover(
        b"<Autodiscover><Response><Account><Protocol><Type>IMAP</Type>"
        b"<Server>imap.corp.test</Server></Protocol></Account></Response></Autodiscover>"
    )
    assert isinstance(answer, PoxSettings)
    assert answer.user is None
    assert answer.endpoints() == (Endpoint(Protocol.IMAP, "imap.corp.test", 993, Security.TLS),)


@pytest.mark.parametrize(
    ("fields", "security", "port"),
    [
        ("<Port>993</Port><SSL>on</SSL>", Security.TLS, 993),
        ("<Port>143</Port><SSL>on</SSL>", Security.STARTTLS, 143),
        ("<Port>143</Port>", Security.STARTTLS, 143),
        ("<Port>143</Port><SSL>off</SSL>", Security.PLAIN, 143),
        ("<Port>993</Port><SSL>off</SSL><Encryption>SSL</Encryption>", Security.TLS, 993),
        ("<Port>143</Port><Encryption>TLS</Encryption>", Security.STARTTLS, 143),
        ("<Port>143</Port><Encryption>None</Encryption>", Security.PLAIN, 143),
        ("<Port>10993</Port><Encryption>Auto</Encryption>", Security.TLS, 10993),
        ("<SSL>off</SSL>", Security.PLAIN, 143),
        ("", Security.TLS, 993),
        ("<Port>99999</Port>", Security.TLS, 993),
    ],
)
def test_pox_connection_security(fields: str, security: Security, port: int) -> None:
    answer = parse_pox_autodiscover(
        "<Autodiscover><Response><Account><Action>settings</Action><Protocol><Type>IMAP</Type>"
        f"<Server>imap.corp.test</Server>{fields}</Protocol></Account></Response></Autodiscover>"
    )
    assert isinstance(answer, PoxSettings)
    (endpoint,) = answer.endpoints()
    assert (endpoint.security, endpoint.port) == (security, port)


def test_pox_protocol_type_as_attribute_and_bad_values_noted() -> None:
    answer = parse_pox_autodiscover(
        b"<Autodiscover><Response><Account>"
        b'<Protocol Type="mapiHttp" Version="1"><MailStore/></Protocol>'
        b"<Protocol><Type>smtp</Type><Server>bad host</Server><Port>x</Port><SSL>maybe</SSL>"
        b"<EwsUrl>ftp://x.test/</EwsUrl></Protocol>"
        b"</Account></Response></Autodiscover>"
    )
    assert isinstance(answer, PoxSettings)
    assert [p.type for p in answer.protocols] == ["MAPIHTTP", "SMTP"]
    assert answer.endpoints() == ()  # the SMTP entry has no usable server
    assert [n.code for n in answer.notes] == [
        "server.invalid",
        "port.invalid",
        "SSL.invalid",
        "EwsUrl.invalid",
    ]
    assert answer.notes[0].where == "Protocol 2 (SMTP)"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<html/>", "discovery.autodiscover.wrong-root"),
        (b"<Autodiscover/>", "discovery.autodiscover.unexpected"),
        (b"<Autodiscover><Response/></Autodiscover>", "discovery.autodiscover.unexpected"),
        (
            b"<Autodiscover><Response><Account><Action>teleport</Action></Account></Response>"
            b"</Autodiscover>",
            "discovery.autodiscover.unexpected",
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectAddr</Action>"
            b"<RedirectAddr>not an address</RedirectAddr></Account></Response></Autodiscover>",
            "discovery.autodiscover.bad-redirect",
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectAddr</Action></Account>"
            b"</Response></Autodiscover>",
            "discovery.autodiscover.bad-redirect",
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectUrl</Action>"
            b"<RedirectUrl>http://autodiscover.corp.test/autodiscover/autodiscover.xml"
            b"</RedirectUrl></Account></Response></Autodiscover>",
            "discovery.autodiscover.bad-redirect",
        ),
        (b"<Autodiscover><Response>", "discovery.autodiscover.not-xml"),
        (
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Autodiscover>&e;</Autodiscover>',
            "discovery.autodiscover.forbidden-xml",
        ),
        (
            b"<Autodiscover>" + b"x" * MAX_DOCUMENT_BYTES + b"</Autodiscover>",
            "discovery.autodiscover.too-large",
        ),
    ],
)
def test_pox_unreadable_answers(body: bytes, code: str) -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_pox_autodiscover(body)
    assert info.value.code == code
    assert info.value.render("ja") != info.value.render("en")


def test_pox_bad_redirect_says_where_to() -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_pox_autodiscover(
            b"<Autodiscover><Response><Account><Action>redirectUrl</Action>"
            b"<RedirectUrl>http://evil.test/</RedirectUrl></Account></Response></Autodiscover>"
        )
    assert "http://evil.test/" in str(info.value)
    assert "http://evil.test/" in info.value.render("ja")


# --- WWW-Authenticate -------------------------------------------------------------------------

EMPTY_BEARER_ANSWER = (
    'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'trusted_issuers="00000001-0000-0000-c000-000000000000@*", '
    'token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"'
)


def test_the_empty_bearer_answer() -> None:
    (challenge,) = parse_www_authenticate(EMPTY_BEARER_ANSWER)
    assert challenge.scheme == "Bearer"
    assert challenge.token68 is None
    assert challenge.param("Authorization_URI") == (
        "https://login.microsoftonline.com/common/oauth2/authorize"
    )
    assert parse_bearer_challenge(EMPTY_BEARER_ANSWER) == BearerChallenge(
        authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize",
        authority="https://login.microsoftonline.com/common",
        trusted_issuers=("00000001-0000-0000-c000-000000000000@*",),
        tenant_id=None,
        token_types=("app_asserted_user_v1", "service_asserted_app_v1"),
        error="invalid_token",
    )


def test_several_challenges_in_one_header() -> None:
    header = 'Basic realm="autodiscover.corp.test", ' + EMPTY_BEARER_ANSWER + ", NTLM, Negotiate"
    challenges = parse_www_authenticate(header)
    assert [c.scheme for c in challenges] == ["Basic", "Bearer", "NTLM", "Negotiate"]
    assert challenges[0].params == (("realm", "autodiscover.corp.test"),)
    assert len(challenges[1].params) == 4
    assert challenges[2] == Challenge("NTLM")
    assert bearer_challenge(challenges) is not None


def test_several_header_lines_and_a_tenant() -> None:
    # MS-XOAUTH 4.6: the Bearer challenge and a Basic one on separate header lines.
    lines = [
        'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
        'trusted_issuers="00000001-0000-0000-c000-000000000000@*,'
        '00000001-0000-0000-c000-000000000000@9188040d-6c67-4c5b-b112-36a304b66dad"',
        'Basic Realm=""',
    ]
    challenges = parse_www_authenticate(lines)
    assert [c.scheme for c in challenges] == ["Bearer", "Basic"]
    assert challenges[1].param("realm") == ""
    bearer = bearer_challenge(challenges)
    assert bearer is not None
    assert bearer.client_id == "00000002-0000-0ff1-ce00-000000000000"
    assert bearer.tenant_id == "9188040d-6c67-4c5b-b112-36a304b66dad"
    assert bearer.authorization_uri is None and bearer.authority is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Basic realm="a, b", charset="UTF-8"',
            [Challenge("Basic", None, (("realm", "a, b"), ("charset", "UTF-8")))],
        ),
        (
            r'Bearer realm="say \"hi\", \\ then", error="x"',
            [Challenge("Bearer", None, (("realm", 'say "hi", \\ then'), ("error", "x")))],
        ),
        (
            "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, Basic realm=x",
            [
                Challenge("Negotiate", "YIIBhwYGKwYBBQUCoIIBezCCAXeg=="),
                Challenge("Basic", None, (("realm", "x"),)),
            ],
        ),
        ("Basic dXNlcjpwYXNz", [Challenge("Basic", "dXNlcjpwYXNz")]),
        ("Basic abc=", [Challenge("Basic", "abc=")]),
        # A token68 may end in "=": these are not parameters without a value.
        ("Basic realm=", [Challenge("Basic", "realm=")]),
        ("Bearer realm", [Challenge("Bearer", "realm")]),
        ('bearer REALM = "x"', [Challenge("bearer", None, (("realm", "x"),))]),
        (
            ' , ,Basic realm="x" ,, NTLM ,',
            [Challenge("Basic", None, (("realm", "x"),)), Challenge("NTLM")],
        ),
        ("", []),
        (" , ", []),
        (
            "Bearer trusted_issuers=00000001-0000-0000-c000-000000000000@*",
            [
                Challenge(
                    "Bearer", None, (("trusted_issuers", "00000001-0000-0000-c000-000000000000@*"),)
                )
            ],
        ),
        ('Digest realm="\u00e9t\u00e9"', [Challenge("Digest", None, (("realm", "été"),))]),
        ("Basic\trealm=x", [Challenge("Basic", None, (("realm", "x"),))]),
    ],
)
def test_www_authenticate_grammar(header: str, expected: list[Challenge]) -> None:
    assert list(parse_www_authenticate(header)) == expected


@pytest.mark.parametrize(
    "header",
    [
        'Bearer realm="unterminated',
        'Bearer realm="x" junk',
        "=x",
        "realm=x",
        'Basic realm="x" "y"',
        "Basic\x00realm=x",
        'Bearer"x"',
        'Bearer realm="x\\',
        "Negotiate abc==, realm=x",
        "Bearer @",
    ],
)
def test_malformed_www_authenticate(header: str) -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_www_authenticate(header)
    assert info.value.code == "discovery.www-authenticate.malformed"
    assert isinstance(info.value.detail["position"], int)
    assert "WWW-Authenticate" in info.value.render("ja")


def test_huge_www_authenticate() -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_www_authenticate("Basic realm=" + "x" * MAX_HEADER_BYTES)
    assert info.value.code == "discovery.www-authenticate.too-large"


def test_no_bearer_challenge_means_no_modern_auth() -> None:
    assert parse_bearer_challenge('Basic realm="x", NTLM') is None
    assert bearer_challenge([]) is None


@pytest.mark.parametrize(
    "uri",
    [
        "http://login.microsoftonline.com/common/oauth2/authorize",
        "https://login microsoftonline.com/",
        "not a url",
    ],
)
def test_bearer_authorization_uri_must_be_https(uri: str) -> None:
    with pytest.raises(DiscoveryDocumentError) as info:
        parse_bearer_challenge(f'Bearer authorization_uri="{uri}"')
    assert info.value.code == "discovery.www-authenticate.bad-authorization-uri"
    assert uri in str(info.value)


def test_bearer_authority_for_a_tenant_uri() -> None:
    bearer = parse_bearer_challenge(
        'Bearer authorization_uri="https://login.microsoftonline.com/'
        '72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/authorize"'
    )
    assert bearer is not None
    assert bearer.authority == (
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
    )
    bare = parse_bearer_challenge('Bearer authorization_uri="https://sts.corp.test"')
    assert bare is not None and bare.authority == "https://sts.corp.test"
