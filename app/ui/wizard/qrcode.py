"""A QR code as a Qt image, made with ``segno`` (pure Python): dark modules on a light
background with the standard quiet zone, each module a square of whole pixels so a phone's
camera reads it sharply.

The colours are black on white whatever the window's palette: phone cameras read light-on-dark
codes badly, and the quiet zone must be lighter than the modules to be found at all.
"""

from __future__ import annotations

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap

__all__ = ["QUIET_ZONE", "qr_image", "qr_matrix", "qr_pixmap"]

#: The light border around the code, in modules (the QR standard asks for four).
QUIET_ZONE = 4
_DARK = QColor(Qt.GlobalColor.black).rgb()
_LIGHT = QColor(Qt.GlobalColor.white).rgb()


def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The code's modules for ``text`` (True: dark), without the quiet zone. Error correction
    level M: a quarter of the code may be smudged or glared and it still reads."""
    code = segno.make(text, error="m", micro=False, boost_error=False)
    return tuple(tuple(bool(module) for module in row) for row in code.matrix)


def qr_image(text: str, *, scale: int = 6, border: int = QUIET_ZONE) -> QImage:
    """``text`` as a QR code image: ``scale`` pixels per module, ``border`` modules of quiet
    zone on each side."""
    if scale < 1 or border < 0:
        raise ValueError("the scale must be at least 1 and the border not negative")
    matrix = qr_matrix(text)
    modules = len(matrix) + 2 * border
    image = QImage(modules, modules, QImage.Format.Format_RGB32)
    image.fill(_LIGHT)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.setPixel(x + border, y + border, _DARK)
    size = modules * scale
    return image.scaled(
        size,
        size,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


def qr_pixmap(text: str, *, scale: int = 6, border: int = QUIET_ZONE) -> QPixmap:
    """:func:`qr_image` as a pixmap for a label."""
    return QPixmap.fromImage(qr_image(text, scale=scale, border=border))
