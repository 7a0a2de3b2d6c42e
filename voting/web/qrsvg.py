"""A QR code as inline SVG (PyPI qrcode computes the matrix; no imaging library, no file)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import qrcode
import qrcode.constants


def qr_svg(text: str, label: str, *, border: int = 2) -> str:
    """An ``<svg role="img">`` of a QR code holding ``text``, named ``label`` for screen readers.

    Dark modules are one path of unit squares on a white background, so it scales to any size
    without blurring (a hall projector at 4K)."""
    qr = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    size = len(matrix)
    parts = [
        f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, cell in enumerate(row) if cell
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(label)} '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>'
        f'<path fill="#000000" d="{"".join(parts)}"/></svg>'
    )
