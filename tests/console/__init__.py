"""Console tests (roster files, poll descriptions, the console over HTTP)."""

from __future__ import annotations

import io
import re


def pdf_text(data: bytes) -> str:
    """A PDF's text read back with pypdf, without spaces (CJK text extracts with gaps)."""
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[\s\x00]+", "", text)
