"""Starts the Qt application and shows the main window."""

from __future__ import annotations

import sys


def launch(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1] if argv is None else argv)
    app.setApplicationName("Mail Setup Wizard")
    window = MainWindow()
    window.show()
    return app.exec()
