"""``mailsetup admin ...``: commands for the organisation's administrator.

``mailsetup admin consent-url --tenant T`` prints the admin-consent link of the configured
application registration for tenant ``T`` (a GUID or one of its domains): the page where an
administrator grants the program's permissions for the whole organisation
(docs/admin-guide.md). With ``--json``: ``{"tenant", "client_id", "redirect_uri",
"consent_url"}``.

Exit codes: 0 printed, 1 a malformed tenant or host, 6 no client ID configured (or an invalid
configuration).
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.output import print_json
from app.cli.signin import no_client_id_error, report_error
from app.core.config import DEFAULT_AUTHORITY_HOST, MicrosoftSettings, admin_consent_url
from app.core.texts import LANGUAGES, Language, language_from_environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="admin_command", metavar="ADMIN_COMMAND", required=True)
    consent = commands.add_parser(
        "consent-url",
        help="print the link where a tenant's administrator grants the program's permissions",
        description="Print the admin-consent link of the configured app registration.",
    )
    consent.add_argument(
        "--tenant", metavar="TENANT", required=True, help="the tenant: its GUID or a domain"
    )
    consent.add_argument(
        "--authority-host",
        metavar="HOST",
        help="the sign-in host of the tenant's cloud (default: the configured authority's "
        f"when it is Microsoft's, else {DEFAULT_AUTHORITY_HOST})",
    )
    consent.add_argument("--json", action="store_true", help="print one JSON object")
    consent.add_argument(
        "--language", choices=LANGUAGES, help="language of messages (default: the system's)"
    )


def authority_host(settings: MicrosoftSettings) -> str:
    """The sign-in host of the configured authority when it is one of Microsoft's clouds'
    (a national cloud's), else the worldwide one."""
    from app.core.discovery.microsoft.clouds import default_clouds

    host = urlsplit(settings.authority or "").hostname or ""
    return host if default_clouds().is_login_host(host) else DEFAULT_AUTHORITY_HOST


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    as_json = bool(args.json)
    settings = configuration.load(language).microsoft
    client_id = (settings.client_id or "").strip()
    if not client_id:
        report_error(no_client_id_error(), as_json=as_json, language=language)
        return ExitCode.ENVIRONMENT
    host = args.authority_host or authority_host(settings)
    url = admin_consent_url(args.tenant, client_id, settings.redirect_uri, authority_host=host)
    if as_json:
        print_json(
            {
                "tenant": args.tenant,
                "client_id": client_id,
                "redirect_uri": settings.redirect_uri,
                "consent_url": url,
            }
        )
    else:
        print(url)
    return ExitCode.OK
