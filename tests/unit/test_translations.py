"""The window's translations are complete and built from the sources: every tr() string of
app/ui is in the Japanese .ts file, translated, with the same placeholders, and the committed
.qm file is exactly what pyside6-lrelease builds from it (scripts/translations.py check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTranslator

ROOT = Path(__file__).resolve().parents[2]


def test_the_japanese_translation_is_complete_and_built() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "translations.py"), "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_built_file_translates_the_windows_words() -> None:
    translator = QTranslator()
    assert translator.load(str(ROOT / "resources" / "translations" / "mailsetup_ja.qm"))
    assert translator.translate("WizardPage", "Continue") == "続ける"
    assert translator.translate("WizardWindow", "Cancel") == "キャンセル"
