"""How the CLI prints: human text or one JSON object, and errors in the same two forms.

With ``--json`` every outcome, errors included, is one JSON object on standard output, so a
script can always parse what it gets: ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from app.core.errors import SetupError
from app.core.texts import Language, render


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    out = sys.stdout if stream is None else stream
    json.dump(obj, out, ensure_ascii=False, indent=2, sort_keys=False)
    out.write("\n")
    out.flush()


def print_error(code: str, message: str, *, as_json: bool, stream: TextIO | None = None) -> None:
    """Report an error: JSON on stdout with ``--json``, else one line on stderr."""
    if as_json:
        print_json({"error": {"code": code, "message": message}}, stream)
    else:
        err = sys.stderr if stream is None else stream
        err.write(f"mailsetup: {message}\n")
        err.flush()


def write_error_lines(error: SetupError, language: Language) -> None:
    """An error as lines on stderr: what went wrong, why (when it says more) and what to do."""
    lines = [f"mailsetup: {error.render(language)}"]
    if error.cause is not None and error.cause != error.message:
        lines.append(f"  {render(error.cause, language)}")
    if error.fix is not None:
        lines.append(f"  {render(error.fix, language)}")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()
