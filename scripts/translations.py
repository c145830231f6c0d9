"""Qt translations of the window (app/ui): extract, check and build.

    python scripts/translations.py update   # .ts from the sources, then .qm from the .ts
    python scripts/translations.py check    # exit 1 when a .ts or .qm is out of date or unfinished

The .ts files (resources/translations/mailsetup_<lang>.ts) are extracted from the sources by
pyside6-lupdate and translated by hand; the .qm files the program loads are built from them by
pyside6-lrelease. Both are committed, so installs need no Qt tools;
tests/unit/test_translations.py runs ``check``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "resources" / "translations"
LANGUAGES = {"ja": "ja_JP"}
_PLACEHOLDER = re.compile(r"%\d")


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def sources() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / "app" / "ui").rglob("*.py"))


def ts_path(language: str) -> Path:
    return FOLDER / f"mailsetup_{language}.ts"


def qm_path(language: str) -> Path:
    return FOLDER / f"mailsetup_{language}.qm"


def lupdate(target: Path, language: str) -> None:
    subprocess.run(  # noqa: S603 - Qt's own tool on the project's own files
        [
            _tool("pyside6-lupdate"),
            *sources(),
            "-ts",
            str(target),
            "-no-obsolete",
            "-locations",
            "none",
            "-target-language",
            LANGUAGES[language],
            "-silent",
        ],
        cwd=ROOT,
        check=True,
    )


def lrelease(source: Path, target: Path) -> None:
    subprocess.run(  # noqa: S603 - Qt's own tool on the project's own files
        [_tool("pyside6-lrelease"), "-silent", str(source), "-qm", str(target)],
        cwd=ROOT,
        check=True,
    )


def messages(ts: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(context, source) → (translation text, its type attribute) of a .ts file."""
    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    tree = ElementTree.parse(ts)  # noqa: S314 - our own committed file, not untrusted input
    for context in tree.getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            translation = message.find("translation")
            text = "" if translation is None else "".join(translation.itertext())
            kind = None if translation is None else translation.get("type")
            found[(name, source)] = (text, kind)
    return found


def problems(language: str) -> list[str]:
    """What is wrong with the committed files of ``language`` (empty: all is well)."""
    ts, qm = ts_path(language), qm_path(language)
    if not ts.exists():
        return [f"{ts.relative_to(ROOT)} is missing: run make translations"]
    found: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / ts.name
        shutil.copy(ts, fresh)
        lupdate(fresh, language)
        committed, extracted = messages(ts), messages(fresh)
        for key in sorted(set(extracted) - set(committed)):
            found.append(f"not in {ts.name} (run make translations): {key[0]}: {key[1]!r}")
        for key in sorted(set(committed) - set(extracted)):
            found.append(f"no longer in the sources (run make translations): {key[0]}: {key[1]!r}")
        for (context, source), (text, kind) in sorted(committed.items()):
            where = f"{context}: {source!r}"
            if kind in ("unfinished", "vanished", "obsolete") or not text.strip():
                found.append(f"unfinished: {where}")
            elif sorted(_PLACEHOLDER.findall(source)) != sorted(_PLACEHOLDER.findall(text)):
                found.append(f"placeholders differ: {where} → {text!r}")
        built = Path(folder) / qm.name
        lrelease(ts, built)
        if not qm.exists() or qm.read_bytes() != built.read_bytes():
            found.append(
                f"{qm.relative_to(ROOT)} is not built from {ts.name}: run make translations"
            )
    return found


def update() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        lupdate(ts_path(language), language)
        lrelease(ts_path(language), qm_path(language))


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
        return 0
    if argv[1:] == ["check"]:
        found = [line for language in LANGUAGES for line in problems(language)]
        for line in found:
            print(line)
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
