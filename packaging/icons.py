"""The application icon, drawn at build time: PNG (Linux, the window), ICO (Windows), ICNS (macOS).

The picture is vector-drawn with Qt's raster painter (no display or QApplication needed): a blue
rounded square, a white envelope and a green check mark. The ICO and ICNS containers are written
here directly, each size stored as PNG (Windows Vista and later, macOS 10.7 and later read them).
"""

from __future__ import annotations

import struct
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS element types holding PNG data, by pixel size.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"icp6", 64),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),
    (b"ic09", 512),
    (b"ic14", 512),
    (b"ic10", 1024),
)


def render_png(size: int) -> bytes:
    """The icon as PNG bytes, ``size`` pixels square."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 256, size / 256)  # drawn on a 256 x 256 grid
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#1f6fd1"))
    painter.drawRoundedRect(QRectF(12, 12, 232, 232), 44, 44)
    # the envelope: a white card and its flap
    painter.setBrush(QColor("#ffffff"))
    painter.drawRoundedRect(QRectF(44, 70, 168, 116), 12, 12)
    flap = QPen(QColor("#1f6fd1"), 12)
    flap.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    flap.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(flap)
    painter.drawPolyline([QPointF(54, 82), QPointF(128, 136), QPointF(202, 82)])
    # the check mark on a green disc, bottom right
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#22a45d"))
    painter.drawEllipse(QRectF(146, 146, 92, 92))
    tick = QPen(QColor("#ffffff"), 14)
    tick.setCapStyle(Qt.PenCapStyle.RoundCap)
    tick.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(tick)
    path = QPainterPath(QPointF(168, 193))
    path.lineTo(186, 211)
    path.lineTo(217, 174)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not write a PNG image")
    buffer.close()
    return bytes(data.data())


def ico_bytes(sizes: tuple[int, ...] = ICO_SIZES) -> bytes:
    """A Windows .ico file with one PNG image per size."""
    images = [render_png(size) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, image in zip(sizes, images, strict=True):
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return header + entries + b"".join(images)


def icns_bytes() -> bytes:
    """A macOS .icns file with PNG elements from 16 to 1024 pixels."""
    cache: dict[int, bytes] = {}
    body = b""
    for kind, size in ICNS_TYPES:
        image = cache.setdefault(size, render_png(size))
        body += kind + struct.pack(">I", 8 + len(image)) + image
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_icons(folder: Path) -> dict[str, Path]:
    """Write ``mailsetup.png`` (256 px), ``mailsetup.ico`` and ``mailsetup.icns`` into
    ``folder``; returns them by format."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "png": folder / "mailsetup.png",
        "ico": folder / "mailsetup.ico",
        "icns": folder / "mailsetup.icns",
    }
    written["png"].write_bytes(render_png(256))
    written["ico"].write_bytes(ico_bytes())
    written["icns"].write_bytes(icns_bytes())
    return written
