"""``mailsetup detect ADDRESS``: find the settings for an address and say where they came from.

Exit codes: 0 settings found, 4 nothing found, 1 bad input (docs/cli.md). ``--json`` prints
the detection result's JSON shape (``DetectionResult.to_dict``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from app.cli import configuration
from app.cli.exitcodes import ExitCode
from app.cli.netargs import add_network_arguments
from app.cli.output import print_json
from app.core.discovery.engine import DetectionOptions, DetectionResult, detect
from app.core.model import AccountConfig, EmailAddress, Endpoint
from app.core.net import Network
from app.core.net.options import parse_timeout
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", metavar="ADDRESS", help="the email address")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--deadline",
        metavar="SECONDS",
        help="the most the whole detection may take (default 10)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="language of hints and findings (default: the system's)",
    )
    add_network_arguments(parser)


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    address = EmailAddress.parse(args.address)
    net = Network(configuration.network_options(args, configuration.load(language)))
    options = DetectionOptions()
    if args.deadline is not None:
        options = DetectionOptions(deadline=parse_timeout(args.deadline))
    result = asyncio.run(detect(address, net, options=options, language=language))
    if args.json:
        print_json(result.to_dict(language))
    else:
        print_table(result, language, sys.stdout)
    return ExitCode.OK if result.found else ExitCode.NOT_FOUND


def _server(endpoint: Endpoint | None) -> str:
    if endpoint is None:
        return "-"
    text = (
        f"{endpoint.protocol.value.upper()} {endpoint.host}:{endpoint.port} "
        f"{endpoint.security.value.upper()}"
    )
    return text if endpoint.username is None else f"{text} ({endpoint.username})"


def _row(index: int, candidate: AccountConfig) -> list[str]:
    return [
        str(index),
        candidate.provenance.source,
        candidate.provenance.trust.value,
        _server(candidate.incoming),
        _server(candidate.outgoing),
        candidate.auth.value,
    ]


def print_table(result: DetectionResult, language: Language, out: TextIO) -> None:
    """A short table for people: candidates, hints, what each source said."""

    def say(text: Text) -> None:
        out.write(render(text, language) + "\n")

    provider = result.provider.name if result.provider else "-"
    say(Text("cli.detect.heading", {"address": str(result.address), "provider": provider}))
    if result.suggestion:
        say(Text("cli.detect.suggestion", {"suggestion": result.suggestion}))
    if result.candidates:
        header = [render(column, language) for column in _COLUMNS]
        rows = [header] + [_row(i, c) for i, c in enumerate(result.candidates, 1)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
            out.write("\n")
        best = result.candidates[0]
        for label, url in (("CalDAV", best.caldav), ("CardDAV", best.carddav)):
            if url:
                out.write(f"{label}: {url}\n")
        for hint in best.hints:
            out.write(f"- {render(hint, language)}\n")
    else:
        say(Text("cli.detect.nothing"))
    for finding in result.findings:
        out.write(f"! {render(finding.cause, language)}\n")
    say(Text("cli.detect.sources"))
    for report in result.sources:
        note = f" — {report.detail}" if report.detail else ""
        out.write(f"  {report.name:<11} {report.outcome.value:<10} {report.ms:>6} ms{note}\n")
    say(Text("cli.detect.elapsed", {"ms": result.elapsed_ms}))


_COLUMNS = (
    Text("cli.detect.column.number"),
    Text("cli.detect.column.source"),
    Text("cli.detect.column.trust"),
    Text("cli.detect.column.incoming"),
    Text("cli.detect.column.outgoing"),
    Text("cli.detect.column.auth"),
)
