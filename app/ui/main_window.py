"""The main window. For now it shows the product's name and version; the wizard replaces it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from app import __version__


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("Mail Setup Wizard"))
        central = QWidget(self)
        layout = QVBoxLayout(central)
        title = QLabel(self.tr("Mail Setup Wizard"), central)
        title.setObjectName("productName")
        title.setAccessibleName(self.tr("Product name"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        version = QLabel(self.tr("Version %1").replace("%1", __version__), central)
        version.setObjectName("productVersion")
        version.setAccessibleName(self.tr("Version"))
        # name and version sit together in the middle, the free space above and below them
        layout.addStretch(1)
        for label in (title, version):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(1)
        self.setCentralWidget(central)
        self.resize(640, 420)
        # Ctrl+Q (Cmd+Q on macOS) closes the window, as in other desktop programs
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setObjectName("quitAction")
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)
