"""The status screen: what the OLED shows (QR code of the URL on the left, name / IP / state /
temperature on the right), drawn with Pillow and packed into SSD1306 GDDRAM order.

The QR code is drawn as dark modules on a lit quiet zone, the polarity phone scanners expect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from appliance.hw.ssd1306 import HEIGHT, PAGES, WIDTH

QR_BORDER = 2  # modules of quiet zone; the spec's 4 does not fit, 2 scans fine on a lit background
FONT_SIZES = (11, 10, 9, 8, 7)
_QR_ALNUM = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


@dataclass(frozen=True)
class DisplayStatus:
    name: str = "Smeshbox"
    ip: str = ""
    url: str = ""
    state: str = "starting"
    temperature_c: float | None = None
    #: a message that replaces the status lines (the setup hotspot's password, what the setup
    #: button is about to do); ``qr`` is then the code drawn beside it instead of the URL's
    notice: tuple[str, ...] = ()
    qr: str = ""


def _fit_font(
    draw: ImageDraw.ImageDraw, text: str, width: int, fallback: str | None = None
) -> tuple[ImageFont.FreeTypeFont, str]:
    """The largest size at which ``text`` (else ``fallback``) fits, else the smallest size with the
    text shortened."""
    font = ImageFont.load_default(size=FONT_SIZES[-1])
    for candidate_text in (text, fallback) if fallback else (text,):
        for size in FONT_SIZES:
            candidate = ImageFont.load_default(size=size)
            if draw.textlength(candidate_text, font=candidate) <= width:
                return candidate, candidate_text  # type: ignore[return-value]
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return font, text + "…"  # type: ignore[return-value]


def qr_text(url: str) -> str:
    """The URL as the QR code carries it. Scheme and host name are case-insensitive, so a URL of
    just those (path "/") goes in upper case: QR's alphanumeric mode packs it into a smaller
    symbol, which the 64-row panel then draws with 2-pixel modules — big enough to scan from arm's
    length — where the same URL in byte mode would drop to 1-pixel modules."""
    upper = url.upper()
    plain = all(c in _QR_ALNUM for c in upper)
    scheme, _, rest = upper.partition("://")
    host_only = scheme in ("HTTP", "HTTPS") and rest.count("/") == 1 and rest.endswith("/")
    return upper if plain and host_only else url


def _draw_qr(img: Image.Image, url: str) -> int:
    """Draws the QR code at the left edge; returns the width used (0 when none fits)."""
    qr = segno.make_qr(qr_text(url), error="m")
    modules = qr.symbol_size(border=QR_BORDER)[0]
    scale = 2 if modules * 2 <= HEIGHT else 1
    if modules * scale > HEIGHT:
        return 0
    size = modules * scale
    top = (HEIGHT - size) // 2
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, top, size - 1, top + size - 1), fill=1)
    for row_index, row in enumerate(qr.matrix_iter(scale=1, border=QR_BORDER)):
        for col_index, dark in enumerate(row):
            if dark:
                x, y = col_index * scale, top + row_index * scale
                draw.rectangle((x, y, x + scale - 1, y + scale - 1), fill=0)
    return size


def render_notice(lines: tuple[str, ...], qr: str = "") -> Image.Image:
    """A message screen: the QR code (if any) on the left, up to four lines beside it."""
    img = Image.new("1", (WIDTH, HEIGHT), 0)
    left = _draw_qr(img, qr) + 3 if qr else 0
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    shown = lines[:4]
    pitch = HEIGHT // max(len(shown), 1)
    for index, line in enumerate(shown):
        font, text = _fit_font(draw, line, WIDTH - left)
        draw.text((left, index * pitch), text, font=font, fill=1)
    return img


def render_status(status: DisplayStatus) -> Image.Image:
    if status.notice:
        return render_notice(status.notice, status.qr)
    img = Image.new("1", (WIDTH, HEIGHT), 0)
    left = _draw_qr(img, status.url) + 3 if status.url else 0
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"  # no anti-aliasing on a 1-bit panel
    temperature = "--.- °C" if status.temperature_c is None else f"{status.temperature_c:.1f} °C"
    lines = [status.name, status.ip or "no network", status.state, temperature]
    pitch = HEIGHT // len(lines)
    # "Smeshbox 3fa9c2-2" may not fit beside the QR code: the part after the prefix is what tells
    # boxes apart, so it is shown alone rather than cut off.
    fallbacks = [status.name.partition(" ")[2] or None, None, None, None]
    for index, line in enumerate(lines):
        font, shown = _fit_font(draw, line, WIDTH - left, fallbacks[index])
        draw.text((left, index * pitch), shown, font=font, fill=1)
    return img


def image_to_frame(img: Image.Image) -> bytes:
    """Packs a 128x64 picture into GDDRAM order: 8 pages of 128 columns, bit 0 = top row of the page."""
    if img.size != (WIDTH, HEIGHT):
        raise ValueError(f"image is {img.size}, expected {(WIDTH, HEIGHT)}")
    bits = (np.asarray(img.convert("1"), dtype=np.uint8) & 1).reshape(PAGES, 8, WIDTH)
    weights = (1 << np.arange(8, dtype=np.uint16)).reshape(1, 8, 1)
    return (bits * weights).sum(axis=1).astype(np.uint8).tobytes()
