"""An A4 PDF with the Chinese font embedded, and QR codes drawn as vector squares."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import qrcode
from fpdf import FPDF

FONT = "cjk"
# Debian's fonts-noto-cjk (OpenType/CFF in a collection); RENDA_PDF_FONT overrides.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


class FontMissing(RuntimeError):
    """No Chinese font to embed: install Debian's fonts-noto-cjk."""


@cache
def font_file() -> tuple[str, int]:
    """The font file and the collection index of its Simplified Chinese face."""
    explicit = os.environ.get("RENDA_PDF_FONT")
    for candidate in (explicit,) if explicit else FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate, _sc_index(candidate)
    raise FontMissing("没有可嵌入的中文字体：请安装 Debian 软件包 fonts-noto-cjk")


def _sc_index(path: str) -> int:
    if not path.endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    for i, font in enumerate(collection.fonts):
        name = font["name"].getDebugName(1) or ""
        if name.endswith(" SC"):
            return i
    return 0


def document(title: str) -> FPDF:
    """A new A4 portrait document (millimetres) with the Chinese font as ``FONT``."""
    path, index = font_file()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("Renda")
    pdf.set_lang("zh-CN")
    pdf.add_font(FONT, fname=path, collection_font_number=index)
    pdf.set_font(FONT, size=11)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    return pdf


def draw_qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """A QR code of ``text`` at (x, y), ``size`` mm wide, quiet zone included."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    cell = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + start * cell, y + r * cell, (c - start) * cell, cell, style="F")


def groups(text: str, size: int = 4) -> str:
    """``abcdefgh`` → ``abcd efgh`` (a fingerprint or code read aloud)."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def output(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
