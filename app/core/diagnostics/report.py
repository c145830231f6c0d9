"""The helpdesk report of a :class:`~app.core.diagnostics.diagnose.Diagnosis`: JSON, a
self-contained HTML page, a short plain-text summary for chat, and the ``.zip`` that holds the
page, the JSON and the redacted log.

- **JSON** (``report.json``): the verify object (``mailsetup verify --json``) plus ``verdict``,
  ``findings``, ``environment`` and the rest (:meth:`Diagnosis.to_dict`), and ``report``
  (format version, language, whether the address is masked).
- **HTML** (``report.html``): one file, inline CSS, no script, no external resource, every value
  escaped. The verdict first, then what failed and why (cause, fix, who can fix it), the
  symptom's advice, then the details: timeline, checks and their steps, TLS, DNS, environment,
  settings, keyring and sign-in, Thunderbird. In the chosen language; when that is not English,
  the whole report again in English below, for the helpdesk.
- **Summary**: a few lines for a chat message.
- **Zip**: the three, plus ``logs/`` with the program's log files (already redacted when
  written; redacted again on the way in).

Everything written passes :func:`~app.core.diagnostics.redact.redact` with the secrets the caller
knows (the password given, tokens), and, with ``mask=True``, the address and user names become
``t*****@example.com`` (:class:`Masker`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from app.core.diagnostics.diagnose import Diagnosis, Verdict
from app.core.diagnostics.logfile import current_log_file, log_directory, log_files
from app.core.diagnostics.redact import SecretLike, redact
from app.core.model import Finding, Fixer, Outcome
from app.core.texts import DEFAULT_LANGUAGE, Language, Text, render

__all__ = [
    "REPORT_VERSION",
    "Masker",
    "mask_address",
    "render_html",
    "report_json",
    "summary_text",
    "write_report_zip",
]

REPORT_VERSION: Final = 1

_VERDICT_TEXTS: Final = {
    Verdict.HEALTHY: Text("diagnose.verdict.healthy"),
    Verdict.WARNINGS: Text("diagnose.verdict.warnings"),
    Verdict.BROKEN: Text("diagnose.verdict.broken"),
}
_FIXER_TEXTS: Final = {
    Fixer.USER: Text("diagnose.fixer.user"),
    Fixer.ADMIN: Text("diagnose.fixer.admin"),
    Fixer.PROVIDER: Text("diagnose.fixer.provider"),
    Fixer.NOBODY: Text("diagnose.fixer.nobody"),
}
_SEVERITY_TEXTS: Final = {
    Outcome.ERROR: Text("diagnose.severity.error"),
    Outcome.WARNING: Text("diagnose.severity.warning"),
    Outcome.INFO: Text("diagnose.severity.info"),
    Outcome.OK: Text("diagnose.severity.ok"),
}
_CREDENTIAL_TEXTS: Final = {
    "none": Text("diagnose.report.credentials.none"),
    "password": Text("diagnose.report.credentials.password"),
    "token": Text("diagnose.report.credentials.token"),
}
_VERDICT_COLOURS: Final = {
    Verdict.HEALTHY: "#1b7f3b",
    Verdict.WARNINGS: "#9a6700",
    Verdict.BROKEN: "#b42318",
}


# --- masking ----------------------------------------------------------------------------------


def mask_address(text: str) -> str:
    """``taro@example.com`` -> ``t*****@example.com``; a bare user name ``taro`` -> ``t*****``."""
    local, at, domain = text.partition("@")
    shown = (local[:1] or "*") + "*****"
    return f"{shown}@{domain}" if at else shown


@dataclass(frozen=True)
class Masker:
    """Replaces the address and user names in any text (``names``: addresses and sign-in
    names to hide; empty: nothing is masked)."""

    names: tuple[str, ...] = ()

    @classmethod
    def for_diagnosis(cls, diagnosis: Diagnosis) -> Masker:
        found = {diagnosis.address}
        settings = diagnosis.settings
        if settings is not None:
            for endpoint in (settings.incoming, settings.outgoing):
                if endpoint is not None and endpoint.username:
                    found.add(endpoint.username)
        for item in diagnosis.thunderbird:
            if isinstance(item.get("username"), str) and item["username"]:
                found.add(str(item["username"]))
        if diagnosis.sign_in is not None and isinstance(diagnosis.sign_in.get("link"), Mapping):
            link = diagnosis.sign_in["link"]
            assert isinstance(link, Mapping)
            if isinstance(link.get("username"), str):
                found.add(str(link["username"]))
            claims = link.get("id_token_claims")
            if isinstance(claims, Mapping) and isinstance(claims.get("preferred_username"), str):
                found.add(str(claims["preferred_username"]))
        # The local part on its own too (user names are often it).
        for name in list(found):
            local = name.partition("@")[0]
            if len(local) >= 3:
                found.add(local)
        return cls(tuple(sorted(found, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for name in self.names:
            if "@" in name:
                pattern = re.escape(name)
            else:  # a bare name only as a whole word, never inside another word
                pattern = r"(?<![\w.+-])" + re.escape(name) + r"(?![\w-])"
            text = re.sub(pattern, mask_address(name), text, flags=re.IGNORECASE)
        return text


def _clean(text: str, secrets: Sequence[SecretLike], masker: Masker) -> str:
    return masker(redact(text, secrets))


# --- JSON -------------------------------------------------------------------------------------


def report_json(
    diagnosis: Diagnosis,
    language: Language = DEFAULT_LANGUAGE,
    *,
    mask: bool = False,
    secrets: Iterable[SecretLike] = (),
) -> dict[str, Any]:
    """The report's JSON object (redacted, masked if asked)."""
    data = diagnosis.to_dict(language)
    data["report"] = {
        "version": REPORT_VERSION,
        "language": language,
        "masked": mask,
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    text = json.dumps(data, ensure_ascii=False)
    masker = Masker.for_diagnosis(diagnosis) if mask else Masker()
    cleaned: dict[str, Any] = json.loads(_clean_json(text, list(secrets), masker))
    return cleaned


def _clean_json(text: str, secrets: Sequence[SecretLike], masker: Masker) -> str:
    """Redact and mask inside JSON string values without breaking the document."""

    def each(value: Any) -> Any:
        if isinstance(value, str):
            return _clean(value, secrets, masker)
        if isinstance(value, list):
            return [each(item) for item in value]
        if isinstance(value, dict):
            return {_clean(str(k), secrets, masker): each(v) for k, v in value.items()}
        return value

    return json.dumps(each(json.loads(text)), ensure_ascii=False)


# --- summary ----------------------------------------------------------------------------------


def summary_text(
    diagnosis: Diagnosis,
    language: Language = DEFAULT_LANGUAGE,
    *,
    mask: bool = False,
    secrets: Iterable[SecretLike] = (),
) -> str:
    """A few lines for a chat message: the verdict, then each error and warning with its code
    and fix."""
    masker = Masker.for_diagnosis(diagnosis) if mask else Masker()
    env = diagnosis.environment.facts
    lines = [
        render(Text("diagnose.report.title", {"address": diagnosis.address}), language),
        render(_VERDICT_TEXTS[diagnosis.verdict], language),
        render(
            Text("diagnose.report.symptom", {"symptom": diagnosis.symptom.label_in(language)}),
            language,
        ),
    ]
    for finding in diagnosis.findings:
        if not finding.outcome.is_problem:
            continue
        title = finding.title or finding.cause
        lines.append(f"- [{finding.outcome.value}] {finding.code}: {render(title, language)}")
        if finding.fix is not None:
            lines.append(f"  -> {render(finding.fix, language)}")
    lines.append(
        f"mailsetup {env.app_version}, {env.system} {env.release}, "
        f"{render(_CREDENTIAL_TEXTS[diagnosis.credentials], language)}"
    )
    return _clean("\n".join(lines) + "\n", list(secrets), masker)


# --- HTML -------------------------------------------------------------------------------------

_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",sans-serif;
margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:1rem;margin:1rem 0 .25rem}
.verdict{padding:1rem;border-radius:.5rem;color:#fff;font-size:1.2rem;font-weight:600}
.finding{border-left:.3rem solid #888;padding:.25rem .75rem;margin:.75rem 0;background:#f7f7f8}
.finding.error{border-color:#b42318}.finding.warning{border-color:#9a6700}
.finding.info{border-color:#2f6feb}.finding.ok{border-color:#1b7f3b}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
pre{white-space:pre-wrap;background:#f3f3f3;padding:.5rem;border-radius:.25rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.small{color:#555;font-size:.85rem}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _finding_html(finding: Finding, language: Language) -> str:
    title = render(finding.title or finding.cause, language)
    parts = [
        f'<div class="finding {_e(finding.outcome.value)}">',
        f"<h3>{_e(title)}</h3>",
        f'<p class="small">{_e(render(Text("diagnose.report.code"), language))}: '
        f"<code>{_e(finding.code)}</code> · {_e(render(finding.checked, language))}</p>",
        f"<p><b>{_e(render(Text('diagnose.report.cause'), language))}:</b> "
        f"{_e(render(finding.cause, language))}</p>",
    ]
    if finding.fix is not None:
        parts.append(
            f"<p><b>{_e(render(Text('diagnose.report.fix'), language))}:</b> "
            f"{_e(render(finding.fix, language))}</p>"
        )
    parts.append(
        f"<p><b>{_e(render(Text('diagnose.report.fixer'), language))}:</b> "
        f"{_e(render(_FIXER_TEXTS[finding.fixer], language))}</p>"
    )
    if finding.server_said:
        parts.append(
            f"<p><b>{_e(render(Text('diagnose.report.server-said'), language))}:</b></p>"
            f"<pre>{_e(finding.server_said)}</pre>"
        )
    parts.append("</div>")
    return "\n".join(parts)


def _table(rows: Iterable[Sequence[object]], header: Sequence[str] | None = None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append(
            "<tr>" + "".join(f"<td>{_e('' if c is None else c)}</td>" for c in row) + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _json_block(value: object) -> str:
    return f"<pre>{_e(json.dumps(value, ensure_ascii=False, indent=2))}</pre>"


def _body(diagnosis: Diagnosis, language: Language) -> str:
    def t(text: Text) -> str:
        return _e(render(text, language))

    facts = diagnosis.environment.facts
    symptom_text = Text(
        "diagnose.report.symptom", {"symptom": diagnosis.symptom.label_in(language)}
    )
    generated = Text(
        "diagnose.report.generated",
        {
            "date": diagnosis.started_at,
            "version": facts.app_version,
            "system": f"{facts.system} {facts.release}",
        },
    )
    out: list[str] = [
        f"<h1>{t(Text('diagnose.report.title', {'address': diagnosis.address}))}</h1>",
        f'<div class="verdict" style="background:{_VERDICT_COLOURS[diagnosis.verdict]}">'
        f"{t(_VERDICT_TEXTS[diagnosis.verdict])}</div>",
        f"<p>{t(symptom_text)}<br>{t(_CREDENTIAL_TEXTS[diagnosis.credentials])}</p>",
        f'<p class="small">{t(generated)}</p>',
        f"<h2>{t(Text('diagnose.report.problems'))}</h2>",
    ]
    problems = [f for f in diagnosis.findings if f.outcome.is_problem]
    if not problems:
        out.append(f"<p>{t(Text('diagnose.report.no-problems'))}</p>")
    for outcome in (Outcome.ERROR, Outcome.WARNING):
        chosen = [f for f in problems if f.outcome is outcome]
        if chosen:
            out.append(f"<h3>{t(_SEVERITY_TEXTS[outcome])} ({len(chosen)})</h3>")
            out.extend(_finding_html(f, language) for f in chosen)
    out.append(f"<h2>{t(Text('diagnose.report.advice'))}</h2>")
    out.extend(f"<p>{_e(line)}</p>" for line in diagnosis.symptom.advice_in(language))
    notes = [f for f in diagnosis.findings if not f.outcome.is_problem]
    if notes:
        out.append(f"<h2>{t(Text('diagnose.report.notes'))}</h2>")
        out.extend(_finding_html(f, language) for f in notes)

    out.append(f"<h2>{t(Text('diagnose.report.details'))}</h2>")
    out.append(f"<h3>{t(Text('diagnose.report.timeline'))}</h3>")
    out.append(
        _table(
            [(i["name"], i["started_ms"], i["ms"], i.get("detail")) for i in diagnosis.timeline],
            ("step", "started ms", "ms", "detail"),
        )
    )
    out.append(f"<h3>{t(Text('diagnose.report.checks'))}</h3>")
    tls_rows: list[tuple[object, ...]] = []
    if diagnosis.verification is not None:
        for check in diagnosis.verification.checks:
            mark = "ok" if check.ok else "FAIL"
            out.append(
                f"<p><b>{_e(mark)}</b> <code>{_e(check.protocol.value)}</code> "
                f"{_e(check.target)}</p>"
            )
            out.append(
                _table(
                    [(s.name, "ok" if s.ok else "failed", s.ms, s.detail) for s in check.steps],
                    ("step", "result", "ms", "detail"),
                )
            )
            data = check.to_dict(language)
            tls = data.get("tls")
            if isinstance(tls, Mapping):
                cert = tls.get("certificate") or {}
                assert isinstance(cert, Mapping)
                tls_rows.append(
                    (
                        check.target,
                        tls.get("version"),
                        tls.get("cipher"),
                        cert.get("subject"),
                        cert.get("issuer"),
                        cert.get("not_after"),
                    )
                )
    env = diagnosis.environment
    for probe in env.tls:
        cert = (probe.tls or {}).get("certificate") or {}
        assert isinstance(cert, Mapping)
        tls_rows.append(
            (
                f"{probe.host}:{probe.port}" + (" (sign-in)" if probe.sign_in else ""),
                (probe.tls or {}).get("version") or probe.error,
                (probe.tls or {}).get("cipher"),
                cert.get("subject"),
                cert.get("issuer"),
                cert.get("not_after"),
            )
        )
    out.append(f"<h3>{t(Text('diagnose.report.tls'))}</h3>")
    out.append(_table(tls_rows, ("where", "version", "cipher", "subject", "issuer", "valid until")))
    out.append(f"<h3>{t(Text('diagnose.report.dns'))}</h3>")
    out.append(
        _table(
            [
                ("program", env.dns_program),
                ("system", ", ".join(env.dns_system) or "-"),
                ("source", env.dns_source),
            ]
        )
    )
    out.append(
        _table(
            [
                (
                    f"{r.host}:{r.port}",
                    r.via,
                    ", ".join(r.ipv4) or "-",
                    r.ipv4_ok,
                    ", ".join(r.ipv6) or "-",
                    r.ipv6_ok,
                    r.error,
                )
                for r in env.reachability
            ],
            ("host", "via", "IPv4", "IPv4 ok", "IPv6", "IPv6 ok", "error"),
        )
    )
    out.append(f"<h3>{t(Text('diagnose.report.environment'))}</h3>")
    clock = env.clock
    out.append(
        _table(
            [
                *((k, v) for k, v in facts.to_dict().items()),
                ("proxy", ", ".join(f"{k}={v}" for k, v in env.proxy.items()) or "-"),
                ("clock", "-" if clock is None else f"{clock.offset_seconds} s vs {clock.url}"),
            ]
        )
    )
    out.append(f"<h3>{t(Text('diagnose.report.settings'))}</h3>")
    out.append(
        _json_block(
            {
                "source": diagnosis.settings_source,
                "settings": None
                if diagnosis.settings is None
                else diagnosis.settings.to_dict(language),
                "saved_account": diagnosis.saved,
            }
        )
    )
    out.append(f"<h3>{t(Text('diagnose.report.sign-in'))}</h3>")
    out.append(_json_block({"keyring": diagnosis.keyring, "sign_in": diagnosis.sign_in}))
    out.append(f"<h3>{t(Text('diagnose.report.thunderbird'))}</h3>")
    out.append(_json_block(list(diagnosis.thunderbird)))
    return "\n".join(out)


def render_html(
    diagnosis: Diagnosis,
    language: Language = DEFAULT_LANGUAGE,
    *,
    mask: bool = False,
    secrets: Iterable[SecretLike] = (),
) -> str:
    """The self-contained HTML page (see the module docstring)."""
    body = _body(diagnosis, language)
    if language != "en":
        body += (
            f"\n<details><summary>{_e(render(Text('diagnose.report.english'), language))}"
            f"</summary>\n{_body(diagnosis, 'en')}\n</details>"
        )
    title = render(Text("diagnose.report.title", {"address": diagnosis.address}), language)
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
    masker = Masker.for_diagnosis(diagnosis) if mask else Masker()
    return _clean(page, list(secrets), masker)


# --- the zip ----------------------------------------------------------------------------------


def write_report_zip(
    diagnosis: Diagnosis,
    path: Path,
    language: Language = DEFAULT_LANGUAGE,
    *,
    mask: bool = False,
    secrets: Iterable[SecretLike] = (),
    log_dir: Path | None = None,
) -> Path:
    """Write ``report.html``, ``report.json``, ``summary.txt`` and ``logs/*`` into the zip at
    ``path`` (atomically: a temporary file renamed into place). Returns ``path``."""
    known = list(secrets)
    masker = Masker.for_diagnosis(diagnosis) if mask else Masker()
    files: dict[str, str] = {
        "report.html": render_html(diagnosis, language, mask=mask, secrets=known),
        "report.json": json.dumps(
            report_json(diagnosis, language, mask=mask, secrets=known), ensure_ascii=False, indent=2
        ),
        "summary.txt": summary_text(diagnosis, language, mask=mask, secrets=known),
    }
    current = current_log_file()
    folder = log_dir or (current.parent if current is not None else log_directory())
    for log_path in log_files(folder):
        try:
            text = log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        files[f"logs/{log_path.name}"] = _clean(text, known, masker)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".report-", suffix=".zip", dir=path.parent)
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for name, content in files.items():
                archive.writestr(name, content.encode("utf-8"))
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
