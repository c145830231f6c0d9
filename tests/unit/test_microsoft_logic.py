"""The sans-I/O parts of the Microsoft discovery source: tenant and realm answers, the redirect
rules of the Autodiscover chain, the Bearer probe's interpretation, the cloud table, and the
decisions that turn facts into a report."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.discovery.autodiscover_parse import AutodiscoverV2Answer
from app.core.discovery.base import SourceOutcome
from app.core.discovery.catalog import default_catalog
from app.core.discovery.clientconfig import DiscoveryDocumentError
from app.core.discovery.microsoft import findings
from app.core.discovery.microsoft.clouds import CloudDataError, default_clouds, parse_clouds
from app.core.discovery.microsoft.hybrid import (
    Hop,
    RedirectProblem,
    RedirectRefused,
    RedirectTracker,
    autodiscover_url,
    interpret_bearer,
    redact_url,
)
from app.core.discovery.microsoft.realm import Namespace, parse_user_realm, user_realm_url
from app.core.discovery.microsoft.results import Facts, Mailbox, build_report
from app.core.discovery.microsoft.tenant import (
    TenantInfo,
    TenantNotFound,
    openid_configuration_url,
    parse_tenant_answer,
)
from app.core.errors import DeadlineError, ServerError
from app.core.model import AuthKind, EmailAddress, Outcome, Trust
from app.core.texts import Text, render

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ADDRESS = EmailAddress.parse("Taro@Corp.test")
EXO = ("outlook.office365.com", "outlook.office.com", "autodiscover-s.outlook.com")
START = autodiscover_url(
    "https://outlook.office365.com/autodiscover/autodiscover.json", ADDRESS, "ActiveSync"
)
HYPOTHESIS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


# --- tenant discovery ---------------------------------------------------------------------------


def test_tenant_from_the_issuer_with_its_cloud() -> None:
    body = _json(
        {
            "issuer": f"https://login.microsoftonline.us/{TENANT.upper()}/v2.0",
            "token_endpoint": "https://login.microsoftonline.us/other/oauth2/v2.0/token",
            "tenant_region_scope": "USGov",
            "tenant_region_sub_scope": "DODCON",
            "cloud_instance_name": "MicrosoftOnline.US",
        }
    )
    assert parse_tenant_answer(200, body) == TenantInfo(
        tenant_id=TENANT,
        cloud_instance_name="microsoftonline.us",
        region_scope="USGov",
        region_sub_scope="DODCON",
        issuer=f"https://login.microsoftonline.us/{TENANT.upper()}/v2.0",
        issuer_host="login.microsoftonline.us",
    )


def test_tenant_from_the_token_endpoint_when_the_issuer_has_none() -> None:
    # The v1 document's issuer is sts.windows.net/<tenant>/; a templated one has no GUID.
    body = _json(
        {
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "token_endpoint": f"https://login.microsoftonline.com/{TENANT}/oauth2/token",
        }
    )
    info = parse_tenant_answer(200, body)
    assert isinstance(info, TenantInfo)
    assert info.tenant_id == TENANT
    assert info.cloud_instance_name is None and info.region_sub_scope is None


@pytest.mark.parametrize(
    "body",
    [
        {"error": "invalid_tenant", "error_codes": [90002], "error_description": "AADSTS90002: x"},
        {"error": "invalid_request", "error_description": "AADSTS900023: not a valid tenant"},
        {"error": "invalid_tenant"},
    ],
)
def test_not_a_tenant(body: dict[str, object]) -> None:
    answer = parse_tenant_answer(400, _json(body))
    assert isinstance(answer, TenantNotFound)
    assert answer.code in ("AADSTS90002", "AADSTS900023")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"<html></html>"),
        (200, b"[]"),
        (200, _json({"issuer": "https://login.microsoftonline.com/common/v2.0"})),
        (400, _json({"error": "invalid_request", "error_codes": [50059]})),
        (400, b"oops"),
    ],
)
def test_unreadable_tenant_answers(status: int, body: bytes) -> None:
    with pytest.raises(DiscoveryDocumentError) as caught:
        parse_tenant_answer(status, body, source="https://login.microsoftonline.com/x")
    assert caught.value.code == "discovery.microsoft.tenant.unreadable"
    render(caught.value.message, "ja", strict=True)


def test_other_statuses_are_server_errors() -> None:
    with pytest.raises(ServerError) as caught:
        parse_tenant_answer(503, b"busy")
    assert caught.value.code == "discovery.microsoft.tenant.http-error"
    assert caught.value.detail["status"] == 503


def test_the_tenant_url_carries_the_domain_only() -> None:
    url = openid_configuration_url("login.microsoftonline.com", "xn--bcher-kva.example")
    assert url == (
        "https://login.microsoftonline.com/xn--bcher-kva.example/v2.0/.well-known/openid-configuration"
    )


# --- user realm ---------------------------------------------------------------------------------


def test_managed_realm() -> None:
    realm = parse_user_realm(
        _json(
            {"NameSpaceType": "Managed", "DomainName": "corp.test", "FederationBrandName": "Corp"}
        )
    )
    assert realm.namespace is Namespace.MANAGED and not realm.is_consumer
    assert (realm.domain_name, realm.brand_name, realm.federation_host) == (
        "corp.test",
        "Corp",
        None,
    )


def test_federated_realm_names_its_sign_in_host() -> None:
    realm = parse_user_realm(
        _json(
            {
                "namespacetype": "Federated",
                "AuthURL": "https://STS.corp.test/adfs/ls/?username=taro%40corp.test",
                "federation_protocol": "WSTrust",
            }
        )
    )
    assert realm.namespace is Namespace.FEDERATED
    assert realm.federation_host == "sts.corp.test"
    assert realm.federation_protocol == "WSTrust"


def test_a_plain_http_sign_in_page_is_not_a_federation_host() -> None:
    realm = parse_user_realm(_json({"NameSpaceType": "Federated", "AuthURL": "http://sts.x/adfs"}))
    assert realm.federation_host is None


@pytest.mark.parametrize(
    "body",
    [
        {"ver": "1.0", "account_type": "MSA", "domain_name": "outlook.com"},
        {"NameSpaceType": "Managed", "IsConsumerDomain": True},
    ],
)
def test_personal_account_realms(body: dict[str, object]) -> None:
    realm = parse_user_realm(_json(body))
    assert realm.is_consumer and realm.namespace is Namespace.CONSUMER


@pytest.mark.parametrize("body", [b"{}", b"[1]", b"nope", _json({"NameSpaceType": 3})])
def test_unreadable_realms(body: bytes) -> None:
    with pytest.raises(DiscoveryDocumentError) as caught:
        parse_user_realm(body, source="https://login.microsoftonline.com/common/userrealm/a@b?x=1")
    assert caught.value.code == "discovery.microsoft.realm.unreadable"
    assert "a@b" in str(caught.value.detail["source"])  # the path, without the query
    assert "x=1" not in str(caught.value.detail["source"])


def test_realm_url() -> None:
    assert user_realm_url("login.microsoftonline.com", ADDRESS) == (
        "https://login.microsoftonline.com/common/userrealm/Taro@corp.test?api-version=2.1"
    )


# --- the redirect rules -------------------------------------------------------------------------


def _tracker(**options: int) -> RedirectTracker:
    return RedirectTracker(ADDRESS, START, EXO, **options)


def _url(
    host: str, count: int | None = None, email: str = "taro%40corp.test", scheme: str = "https"
) -> str:
    url = f"{scheme}://{host}/autodiscover/autodiscover.json?Email={email}&Protocol=ActiveSync"
    return url if count is None else f"{url}&RedirectCount={count}"


def test_the_start_is_microsoft() -> None:
    tracker = _tracker()
    assert tracker.current == Hop(START, "outlook.office365.com", None, True)
    assert not tracker.left_microsoft and tracker.redirects == 0


def test_a_hybrid_redirect_chain_is_followed() -> None:
    tracker = _tracker()
    first = tracker.follow(_url("autodiscover.corp.test", 3))
    assert first == Hop(_url("autodiscover.corp.test", 3), "autodiscover.corp.test", 3, False)
    second = tracker.follow(_url("ad2.corp.test", 2))
    assert isinstance(second, Hop) and second.redirect_count == 2
    # No RedirectCount: it is counted down for the server.
    third = tracker.follow(_url("ad3.corp.test"))
    assert isinstance(third, Hop) and third.redirect_count == 1
    # Back to Microsoft is always allowed.
    back = tracker.follow(_url("autodiscover-s.outlook.com", 0))
    assert isinstance(back, Hop) and back.microsoft
    assert tracker.left_microsoft and tracker.redirects == 4


def test_microsoft_may_name_a_host_under_another_domain_and_that_domain_is_then_allowed() -> None:
    tracker = _tracker()
    assert isinstance(tracker.follow(_url("autodiscover.hosting.example.test")), Hop)
    assert isinstance(tracker.follow(_url("mail.example.test")), Hop)  # the hoster's domain
    refused = tracker.follow(_url("autodiscover.elsewhere.test"))
    assert isinstance(refused, RedirectRefused)
    assert refused.problem is RedirectProblem.FOREIGN_HOST


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        (_url("autodiscover.corp.test", 3, scheme="http"), RedirectProblem.INSECURE),
        (_url("autodiscover.corp.test", 3, scheme="ftp"), RedirectProblem.INVALID),
        (
            "https://user:pw@autodiscover.corp.test/autodiscover/autodiscover.json?Email=taro%40corp.test",
            RedirectProblem.INVALID,
        ),
        (_url("autodiscover.corp.test") + "&RedirectCount=many", RedirectProblem.INVALID),
        (
            "https://autodiscover.corp.test/owa/?Email=taro%40corp.test",
            RedirectProblem.NOT_AUTODISCOVER,
        ),
        (
            _url("autodiscover.corp.test", 3, email="jiro%40corp.test"),
            RedirectProblem.ADDRESS_CHANGED,
        ),
        (
            "https://autodiscover.corp.test/autodiscover/autodiscover.json?Protocol=EWS",
            RedirectProblem.ADDRESS_CHANGED,
        ),
        (START + "&RedirectCount=2", RedirectProblem.LOOP),
        ("not a url at all", RedirectProblem.INVALID),
    ],
)
def test_refused_redirects(location: str, problem: RedirectProblem) -> None:
    refused = _tracker().follow(location)
    assert isinstance(refused, RedirectRefused)
    assert refused.problem is problem
    assert "taro" not in refused.location  # shown without the address
    assert refused.from_host == "outlook.office365.com"


def test_the_path_form_with_the_address_is_autodiscover_too() -> None:
    hop = _tracker().follow(
        "https://autodiscover.corp.test/autodiscover/autodiscover.json/v1.0/TARO@corp.test?Protocol=EWS"
    )
    assert isinstance(hop, Hop)


def test_redirect_count_rules() -> None:
    tracker = _tracker()
    assert isinstance(tracker.follow(_url("autodiscover.corp.test", 1)), Hop)
    same = tracker.follow(_url("ad2.corp.test", 1))
    assert isinstance(same, RedirectRefused)
    assert same.problem is RedirectProblem.COUNT_NOT_DECREMENTED
    assert isinstance(tracker.follow(_url("ad2.corp.test", 0)), Hop)
    past = tracker.follow(_url("ad3.corp.test", 0))
    assert isinstance(past, RedirectRefused) and past.problem is RedirectProblem.COUNT_EXCEEDED
    assert tracker.current.host == "ad2.corp.test"


def test_loops_are_found_whatever_the_count_says() -> None:
    tracker = _tracker()
    assert isinstance(tracker.follow(_url("autodiscover.corp.test", 3)), Hop)
    loop = tracker.follow(_url("AUTODISCOVER.corp.test", 2))
    assert isinstance(loop, RedirectRefused) and loop.problem is RedirectProblem.LOOP


def test_our_own_cap_holds_without_redirect_counts() -> None:
    tracker = _tracker(max_redirects=2)
    assert isinstance(tracker.follow(_url("a1.corp.test")), Hop)
    assert isinstance(tracker.follow(_url("a2.corp.test")), Hop)
    refused = tracker.follow(_url("a3.corp.test"))
    assert isinstance(refused, RedirectRefused) and refused.problem is RedirectProblem.TOO_MANY


def test_a_bad_start_url_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        RedirectTracker(ADDRESS, "http://outlook.office365.com/x", EXO)


@HYPOTHESIS
@given(st.text(max_size=300))
def test_follow_never_raises(location: str) -> None:
    tracker = _tracker()
    result = tracker.follow(location)
    if isinstance(result, Hop):
        assert result.url.startswith("https://") and tracker.current is result
    else:
        assert tracker.redirects == 0


def test_redacted_urls_lose_their_query() -> None:
    assert redact_url(START) == "https://outlook.office365.com/autodiscover/autodiscover.json"
    assert START.endswith("?Email=Taro%40corp.test&Protocol=ActiveSync")


# --- the empty-Bearer probe ---------------------------------------------------------------------

HMA = (
    'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
    f'trusted_issuers="00000001-0000-0000-c000-000000000000@{TENANT}", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
)


def test_hybrid_modern_auth_challenge() -> None:
    result = interpret_bearer(401, [HMA, 'Basic realm="mail.corp.test"', "NTLM"], source=None)
    assert result.modern_auth
    assert result.schemes == ("Bearer", "Basic", "NTLM")
    assert result.bearer is not None
    assert result.bearer.authority == "https://login.microsoftonline.com/common"
    assert result.bearer.tenant_id == TENANT


def test_server_to_server_bearer_is_not_modern_auth() -> None:
    s2s = 'Bearer client_id="x", trusted_issuers="00000001-0000-0000-c000-000000000000@*"'
    result = interpret_bearer(401, [s2s, "Basic realm=x"], source=None)
    assert result.bearer is not None and not result.modern_auth


def test_no_challenge_at_all() -> None:
    result = interpret_bearer(403, [], source=None)
    assert result.bearer is None and result.schemes == () and not result.modern_auth


def test_a_malformed_challenge_is_a_document_error() -> None:
    with pytest.raises(DiscoveryDocumentError):
        interpret_bearer(401, ['Bearer realm="unterminated'], source="https://mail.corp.test/x")


# --- the cloud table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sub_scope", "cloud"),
    [
        (None, None, "worldwide"),
        ("microsoftonline.com", "GCC", "worldwide"),
        ("MicrosoftOnline.us", "DODCON", "usgov-gcchigh"),
        ("microsoftonline.us", None, "usgov-gcchigh"),
        ("microsoftonline.us", "dod", "usgov-dod"),
        ("partner.microsoftonline.cn", None, "china"),
    ],
)
def test_clouds_by_instance_name(name: str | None, sub_scope: str | None, cloud: str) -> None:
    found = default_clouds().find(name, sub_scope)
    assert found is not None and found.id == cloud


def test_an_unknown_cloud_is_not_guessed() -> None:
    assert default_clouds().find("sovcloud.example", None) is None


def test_worldwide_servers_come_from_the_catalog() -> None:
    catalog = default_catalog()
    worldwide = default_clouds().get("worldwide")
    assert worldwide is not None
    provider = worldwide.provider(catalog)
    entry = catalog.get("microsoft365")
    assert entry is not None
    assert provider.incoming == entry.incoming and provider.outgoing == entry.outgoing
    assert provider.notes == entry.notes


def test_gcc_high_has_its_own_servers_and_drops_the_worldwide_smtp_note() -> None:
    cloud = default_clouds().get("usgov-gcchigh")
    assert cloud is not None
    provider = cloud.provider()
    assert {s.host for s in provider.incoming} == {"outlook.office365.us"}
    assert [s.host for s in provider.outgoing] == ["smtp.office365.us"]
    assert "smtp_auth_disabled" not in provider.notes
    assert "sign_in_with_microsoft" in provider.notes
    assert cloud.is_login_host("LOGIN.microsoftonline.us")


def test_unsupported_clouds_have_no_provider() -> None:
    cloud = default_clouds().get("usgov-dod")
    assert cloud is not None and not cloud.supported
    with pytest.raises(CloudDataError):
        cloud.provider()


def test_the_consumer_tenant() -> None:
    table = default_clouds()
    assert table.consumer_tenant_id == "9188040d-6c67-4c5b-b112-36a304b66dad"
    assert default_catalog().get(table.consumer_provider) is not None


def test_broken_cloud_data_lists_every_problem() -> None:
    with pytest.raises(CloudDataError) as caught:
        parse_clouds(
            {
                "schema": 1,
                "clouds": [
                    {
                        "id": "x",
                        "name": "X",
                        "cloud_instance_names": ["x.test"],
                        "supported": True,
                        "login_host": "login.x.test",
                        "login_hosts": ["other.x.test"],
                        "autodiscover_urls": ["http://x.test/autodiscover/autodiscover.json"],
                        "exchange_hosts": ["x.test"],
                        "resource": "https://x.test",
                        "incoming": [
                            {
                                "protocol": "smtp",
                                "host": "x.test",
                                "port": 1,
                                "security": "tls",
                                "username": "%EMAILADDRESS%",
                            }
                        ],
                    }
                ],
            }
        )
    problems = "\n".join(caught.value.problems)
    assert "[consumer] is missing" in problems
    assert "login_host is not among login_hosts" in problems
    assert "is not https" in problems
    assert "protocol must be one of" in problems
    assert "needs endpoints_from or its own servers" in problems


# --- findings -----------------------------------------------------------------------------------


def test_seam_errors_become_stage_findings() -> None:
    finding = findings.from_error(
        "autodiscover",
        DeadlineError("outlook.office365.com", 5.0),
        Text("discovery.microsoft.check.autodiscover"),
    )
    assert finding.code == "discovery.microsoft.autodiscover.timeout"
    assert finding.detail["error"] == "deadline.exceeded"
    assert finding.outcome is Outcome.WARNING
    own = ServerError("x", code="discovery.microsoft.realm.http-error")
    assert findings.from_error("realm", own, Text("discovery.microsoft.check.realm")).code == (
        "discovery.microsoft.realm.http-error"
    )


# --- decisions ----------------------------------------------------------------------------------


def _facts(**changes: object) -> Facts:
    tenant = TenantInfo(TENANT, "microsoftonline.com", "WW", None, None, None)
    facts = Facts(
        address=ADDRESS,
        tenant=tenant,
        tenant_url="https://login.microsoftonline.com/corp.test/v2.0/.well-known/openid-configuration",
        cloud=default_clouds().get("worldwide"),
    )
    for name, value in changes.items():
        setattr(facts, name, value)
    return facts


@pytest.mark.parametrize(
    ("mx", "mailbox", "trust"),
    [
        (("corp-test.mail.protection.outlook.com",), Mailbox.UNKNOWN, Trust.HIGH),
        (("corp-test.j-v1.mx.microsoft",), Mailbox.UNKNOWN, Trust.HIGH),
        (None, Mailbox.CLOUD, Trust.HIGH),
        (None, Mailbox.UNKNOWN, Trust.MEDIUM),
        (("aspmx.l.google.com",), Mailbox.CLOUD, Trust.MEDIUM),
    ],
)
def test_trust_needs_a_second_witness(
    mx: tuple[str, ...] | None, mailbox: Mailbox, trust: Trust
) -> None:
    report = build_report(_facts(mx_hosts=mx, mailbox=mailbox), 5, default_clouds())
    assert report.outcome is SourceOutcome.FOUND
    assert {c.provenance.trust for c in report.candidates} == {trust}
    assert ("discovery.microsoft.mx.elsewhere" in [f.code for f in report.findings]) == (
        mx == ("aspmx.l.google.com",)
    )


def test_hybrid_decision_needs_a_microsoft_authority() -> None:
    answer = AutodiscoverV2Answer(
        "ActiveSync", "https://mail.corp.test/Microsoft-Server-ActiveSync", "mail.corp.test"
    )
    hop = Hop(START, "outlook.office365.com", None, True)
    hybrid = build_report(
        _facts(
            mailbox=Mailbox.ON_PREMISES,
            answer=answer,
            protocol="ActiveSync",
            hops=(hop,),
            bearer=interpret_bearer(401, [HMA], source=None),
        ),
        5,
        default_clouds(),
    )
    assert hybrid.candidates[0].auth is AuthKind.EXCHANGE_HYBRID
    assert hybrid.data["activesync_url"] == answer.url
    other = HMA.replace("login.microsoftonline.com", "adfs.corp.test")
    onprem = build_report(
        _facts(
            mailbox=Mailbox.ON_PREMISES,
            answer=answer,
            bearer=interpret_bearer(401, [other], source=None),
        ),
        5,
        default_clouds(),
    )
    assert onprem.candidates[0].auth is AuthKind.PASSWORD
    odd = build_report(
        _facts(
            mailbox=Mailbox.ON_PREMISES,
            answer=answer,
            bearer=interpret_bearer(200, [], source=None),
        ),
        5,
        default_clouds(),
    )
    assert odd.outcome is SourceOutcome.FAILED
    assert [f.code for f in odd.findings] == ["discovery.microsoft.bearer.unexpected-status"]


def test_every_finding_and_hint_renders_in_both_languages() -> None:
    answer = AutodiscoverV2Answer(
        "EWS", "https://mail.corp.test/EWS/Exchange.asmx", "mail.corp.test"
    )
    reports = [
        build_report(
            _facts(
                mailbox=Mailbox.ON_PREMISES,
                answer=answer,
                bearer=interpret_bearer(401, [HMA], source=None),
            ),
            1,
            default_clouds(),
        ),
        build_report(_facts(mx_hosts=("mx.elsewhere.test",)), 1, default_clouds()),
        build_report(_facts(cloud=default_clouds().get("usgov-gcchigh")), 1, default_clouds()),
        build_report(_facts(cloud=None), 1, default_clouds()),
    ]
    for report in reports:
        for finding in report.findings:
            for language in ("en", "ja"):
                for text in (finding.checked, finding.cause, finding.fix):
                    if text is not None:
                        render(text, language, strict=True)
        for candidate in report.candidates:
            for hint in candidate.hints:
                render(hint, "ja", strict=True)
    assert reports[0].data["ews_url"] == answer.url
    assert reports[3].outcome is SourceOutcome.NOTHING


@HYPOTHESIS
@given(st.integers(min_value=100, max_value=599), st.binary(max_size=400))
def test_tenant_parser_fails_only_in_its_own_ways(status: int, body: bytes) -> None:
    try:
        parse_tenant_answer(status, body)
    except (DiscoveryDocumentError, ServerError) as exc:
        assert exc.code.startswith("discovery.microsoft.tenant.")


@HYPOTHESIS
@given(
    st.dictionaries(
        st.sampled_from(
            ["NameSpaceType", "account_type", "AuthURL", "IsConsumerDomain", "DomainName"]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40)),
    )
)
def test_realm_parser_fails_only_in_its_own_way(fields: dict[str, object]) -> None:
    try:
        realm = parse_user_realm(_json(fields))
    except DiscoveryDocumentError as exc:
        assert exc.code == "discovery.microsoft.realm.unreadable"
    else:
        assert (
            realm.federation_host is None or "." in realm.federation_host or realm.federation_host
        )
