"""A printable settings sheet (HTML) for people who type the settings into a mail program by hand.

Every server with its port, security and sign-in name, the calendar and contacts addresses,
the provider's advice, in English or Japanese. The page is self-contained (styles inline, no
script, no image, no font or file fetched from anywhere), every value is HTML-escaped, and the
font list names fonts with Japanese glyphs on Windows, macOS and Linux (Yu Gothic, Meiryo,
Hiragino, Noto Sans CJK, IPA Gothic) so Japanese never prints as empty boxes. A password is
shown only when the person asked for it, with a warning on the sheet itself.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Final

from app.core.model import AuthKind, Endpoint, Finding, Protocol, Security
from app.core.profiles.common import Export, ExportAccount, password_included, safe_file_stem
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

__all__ = ["FORMAT", "settings_html", "settings_sheet"]

FORMAT: Final = "html"

_FONTS: Final = {
    "en": (
        'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
        '"Hiragino Sans", "Yu Gothic UI", "Yu Gothic", Meiryo, "Noto Sans CJK JP", '
        '"Noto Sans JP", "IPAGothic", "IPAexGothic", sans-serif'
    ),
    "ja": (
        '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Yu Gothic", '
        'YuGothic, Meiryo, "Noto Sans CJK JP", "Noto Sans JP", "IPAGothic", "IPAexGothic", '
        "system-ui, sans-serif"
    ),
}
_MONO: Final = (
    'ui-monospace, Menlo, Consolas, "Noto Sans Mono CJK JP", "IPAGothic", "Yu Gothic", '
    "Meiryo, monospace"
)
_STYLE: Final = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: FONTS; color: #111; background: #fff; margin: 2em auto; max-width: 46em;
  line-height: 1.6; line-break: strict; overflow-wrap: anywhere; padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; border-bottom: 1px solid #999; }
.meta { color: #444; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35em .6em; border: 1px solid #bbb; }
th { width: 32%; background: #f2f2f2; font-weight: 600; }
.value { font-family: MONO; font-size: .95em; }
.note { color: #444; font-size: .92em; }
.warning { border: 2px solid #b00; padding: .6em .8em; margin: 1em 0; }
ul { padding-left: 1.3em; }
footer { margin-top: 2em; color: #666; font-size: .85em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  section { break-inside: avoid; } }
"""

_SECURITY: Final = {
    Security.TLS: "export.sheet.security.tls",
    Security.STARTTLS: "export.sheet.security.starttls",
    Security.PLAIN: "export.sheet.security.plain",
}
_AUTH: Final = {
    AuthKind.PASSWORD: "export.sheet.auth.password",
    AuthKind.APP_PASSWORD: "export.sheet.auth.app-password",
    AuthKind.OAUTH2_MICROSOFT: "export.sheet.auth.oauth2-microsoft",
    AuthKind.OAUTH2_GOOGLE: "export.sheet.auth.oauth2-google",
    AuthKind.EXCHANGE_HYBRID: "export.sheet.auth.oauth2-microsoft",
    AuthKind.NONE: "export.sheet.auth.none",
}
_HEADINGS: Final = {
    Protocol.IMAP: "export.sheet.heading.imap",
    Protocol.POP3: "export.sheet.heading.pop3",
    Protocol.SMTP: "export.sheet.heading.smtp",
}


def settings_html(
    account: ExportAccount,
    *,
    language: Language = DEFAULT_LANGUAGE,
    printed: dt.date | None = None,
) -> str:
    """The sheet as an HTML document (see the module docstring); ``printed`` adds the date."""

    def say(key: str, **params: str | int) -> str:
        return escape(render(Text(key, dict(params)), language))

    def value(text: str) -> str:
        return f'<span class="value">{escape(text)}</span>'

    def row(label_key: str, cell: str) -> str:
        return f"<tr><th>{say(label_key)}</th><td>{cell}</td></tr>"

    def password_cell() -> str:
        if account.password is not None:
            return value(account.password.reveal())
        return say(_AUTH[account.config.auth])

    def server(endpoint: Endpoint) -> str:
        host = value(endpoint.host_unicode)
        if endpoint.host_unicode != endpoint.host:
            host += f' <span class="note">({escape(endpoint.host)})</span>'
        login = endpoint.username
        rows = [
            row("export.sheet.label.server", host),
            row("export.sheet.label.port", value(str(endpoint.port))),
            row("export.sheet.label.security", say(_SECURITY[endpoint.security])),
            row(
                "export.sheet.label.username",
                value(login) if login else say("export.sheet.username-unknown"),
            ),
            row("export.sheet.label.password", password_cell()),
        ]
        heading = say(_HEADINGS[endpoint.protocol])
        return f"<section><h2>{heading}</h2><table>{''.join(rows)}</table></section>"

    def dav(heading_key: str, url: str) -> str:
        login = account.dav_login
        rows = [
            row("export.sheet.label.url", value(url)),
            row(
                "export.sheet.label.username",
                value(login) if login else say("export.sheet.username-unknown"),
            ),
            row("export.sheet.label.password", password_cell()),
        ]
        return f"<section><h2>{say(heading_key)}</h2><table>{''.join(rows)}</table></section>"

    config = account.config
    parts: list[str] = []
    title = say("export.sheet.title", address=account.email)
    meta = [escape(account.email)]
    if account.display_name:
        meta.insert(0, escape(account.display_name))
    if config.provider_name:
        meta.append(escape(config.provider_name))
    if printed is not None:
        meta.append(say("export.sheet.printed", date=printed.isoformat()))
    parts.append(f"<h1>{title}</h1>")
    parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
    if account.password is not None:
        parts.append(f'<p class="warning">{say("export.sheet.password-warning")}</p>')
    if account.microsoft is not None:
        parts.append(f"<p>{say('export.sheet.microsoft')}</p>")
    parts.append(server(config.incoming))
    if config.outgoing is not None:
        parts.append(server(config.outgoing))
    if config.caldav:
        parts.append(dav("export.sheet.heading.caldav", config.caldav))
    if config.carddav:
        parts.append(dav("export.sheet.heading.carddav", config.carddav))
    notes = [escape(render(hint, language)) for hint in config.hints]
    if notes:
        items = "".join(f"<li>{note}</li>" for note in notes)
        parts.append(
            f"<section><h2>{say('export.sheet.heading.notes')}</h2><ul>{items}</ul></section>"
        )
    parts.append(f"<footer>{say('export.sheet.footer')}</footer>")
    style = _STYLE.replace("FONTS", _FONTS[language]).replace("MONO", _MONO)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def settings_sheet(
    account: ExportAccount,
    *,
    language: Language = DEFAULT_LANGUAGE,
    printed: dt.date | None = None,
) -> Export:
    findings: list[Finding] = []
    if account.password is not None:
        findings.append(password_included(FORMAT))
    html = settings_html(account, language=language, printed=printed)
    return Export(
        format=FORMAT,
        content=html.encode("utf-8"),
        file_name=f"{safe_file_stem(account)}.html",
        media_type="text/html",
        findings=tuple(findings),
        instructions=(Text("export.html.step.print"),),
    )
