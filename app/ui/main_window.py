"""The main window. For now it shows the product's name and version; the wizard replaces it."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
        for label in (title, version):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        self.setCentralWidget(central)
        self.resize(640, 420)
