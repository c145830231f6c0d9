"""``mailsetup explain "<error text or code>"``: what a pasted error means, from the knowledge
catalog: each entry it may be about, most likely first, with its title, cause, fix and who can
fix it. Exit codes: 0 something found, 4 nothing, 1 an empty text (docs/cli.md).
"""

from __future__ import annotations

import argparse
import sys

from app.cli.exitcodes import ExitCode
from app.cli.output import print_error, print_json
from app.core.diagnostics.knowledge import default_knowledge
from app.core.texts import LANGUAGES, Language, Text, language_from_environment, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "text",
        metavar="TEXT",
        nargs="+",
        help="the error text or code (AADSTS50173, 5.7.139, a finding code, a pasted reply)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--language", choices=LANGUAGES, help="language of the texts (default: the system's)"
    )


def run(args: argparse.Namespace) -> int:
    language: Language = args.language or language_from_environment()
    text = " ".join(args.text).strip()
    if not text:
        print_error("explain.empty", render(Text("explain.cli.empty"), language), as_json=args.json)
        return ExitCode.BAD_INPUT
    catalog = default_knowledge()
    codes = catalog.explain(text)
    entries = [catalog.entry(code).to_dict(language) for code in codes]
    if args.json:
        print_json({"text": text, "entries": entries})
    elif not entries:
        sys.stderr.write(
            f"mailsetup: {render(Text('explain.cli.nothing', {'text': text}), language)}\n"
        )
    else:
        for number, item in enumerate(entries, start=1):
            if number > 1:
                sys.stdout.write("\n")
            sys.stdout.write(f"{item['code']}  [{item['outcome']}, {item['fixer']}]\n")
            for field in ("title", "cause", "fix"):
                sys.stdout.write(f"  {field}: {item[field]}\n")
    return ExitCode.OK if entries else ExitCode.NOT_FOUND
