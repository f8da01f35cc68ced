"""QR codes as images for screens other than the OLED (the page's pairing card): the same library
the OLED status screen draws its QR code with (segno), as an SVG data URL an ``<img>`` shows."""

from __future__ import annotations

import segno


def qr_data_url(text: str) -> str:
    """``text`` as a QR code (error correction M), ``data:image/svg+xml`` with a 2-module border."""
    return str(segno.make(text, error="m").svg_data_uri(scale=4, border=2))
