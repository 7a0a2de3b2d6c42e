"""A printable enrolment card: the enrolment code as a QR code in a PNG (no imaging library)."""

from __future__ import annotations

import struct
import zlib

import qrcode


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def qr_png(text: str, *, scale: int = 8, border: int = 4) -> bytes:
    """PNG (1-bit greyscale) of a QR code holding ``text``."""
    qr = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    size = len(matrix) * scale
    rows = []
    for row in matrix:
        bits = []
        for cell in row:
            bits.extend([0 if cell else 1] * scale)  # 1 = white
        packed = bytearray()
        for i in range(0, size, 8):
            byte = 0
            for j, bit in enumerate(bits[i : i + 8]):
                byte |= bit << (7 - j)
            packed.append(byte)
        line = b"\x00" + bytes(packed)
        rows.extend([line] * scale)
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
