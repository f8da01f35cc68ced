"""The status screen, pushed through the driver and the simulated panel, shows a QR code that a
real decoder (zxing-cpp) reads back as the URL."""

from __future__ import annotations

import pytest
import segno
import zxingcpp
from PIL import Image

from appliance.hw.screen import DisplayStatus, _draw_qr, image_to_frame, qr_text, render_status
from appliance.hw.simbus import SimulatedBus
from appliance.hw.ssd1306 import DEFAULT_ADDRESS, SSD1306


def show_on_panel(status: DisplayStatus, mode: str, tmp_path) -> Image.Image:
    bus = SimulatedBus()
    panel = SSD1306(bus, mode=mode)  # type: ignore[arg-type]
    panel.init()
    panel.show(image_to_frame(render_status(status)))
    sim = bus.devices[DEFAULT_ADDRESS]
    assert sim.protocol_errors == []
    path = tmp_path / f"oled-{mode}.png"
    sim.save_png(path)
    return Image.open(path)


@pytest.mark.parametrize("mode", ["horizontal", "page"])
@pytest.mark.parametrize(
    "url",
    [
        "http://192.168.100.200/",
        "http://10.1.2.3:8080/",
        # too long for 2 px modules: drawn at 1 px per module
        "http://smeshbox-3fa9c2d41b.local:8080/onboarding?step=drives&lang=en",
    ],
)
def test_status_screen_qr_decodes_to_url(url: str, mode: str, tmp_path) -> None:
    status = DisplayStatus("Smeshbox 3fa9c2", "192.168.100.200", url, "initializing 42%", 51.24)
    png = show_on_panel(status, mode, tmp_path)
    found = [r.text for r in zxingcpp.read_barcodes(png)]
    assert found == [qr_text(url)] and found[0].lower() == url.lower()


@pytest.mark.parametrize("url", ["http://smeshbox.local/", "http://smeshbox-9f743a.local:8080/"])
def test_a_box_name_url_gets_two_pixel_modules(url: str) -> None:
    """Upper case (alphanumeric mode) keeps the symbol small enough for 2-pixel modules: the code
    is ~2x as large on the panel as the byte-mode one, which needs 1-pixel modules here."""
    assert qr_text(url) == url.upper()
    status = DisplayStatus("Smeshbox 9f743a", "192.168.100.200", url, "ready", 40.0)
    width = _draw_qr(Image.new("1", (128, 64)), url)
    assert width >= 50 and zxingcpp.read_barcodes(render_status(status).convert("L").resize((512, 256)))
    byte_mode = segno.make_qr(url, error="m").symbol_size(border=2)[0]
    assert width > byte_mode  # byte mode: 33 modules would not fit at 2 px
    assert qr_text("http://x/onboarding?step=1") == "http://x/onboarding?step=1"  # paths keep their case


def test_screen_without_url_has_no_qr_and_text_is_drawn(tmp_path) -> None:
    png = show_on_panel(DisplayStatus("Smeshbox", "", "", "no network"), "horizontal", tmp_path)
    assert zxingcpp.read_barcodes(png) == []
    small = png.resize((128, 64))
    assert any(small.getpixel((x, y)) for x in range(0, 40) for y in range(0, 16))  # the name


def test_text_changes_change_the_picture() -> None:
    base = DisplayStatus("Smeshbox a", "192.0.2.1", "http://192.0.2.1/", "ready", 40.0)
    hotter = DisplayStatus("Smeshbox a", "192.0.2.1", "http://192.0.2.1/", "ready", 71.5)
    assert image_to_frame(render_status(base)) != image_to_frame(render_status(hotter))
    assert image_to_frame(render_status(base)) == image_to_frame(render_status(base))


def test_url_too_long_for_any_qr_on_64_rows_is_left_out() -> None:
    status = DisplayStatus("n", "ip", "http://x/" + "a" * 300, "ready")
    img = render_status(status)
    assert zxingcpp.read_barcodes(img.resize((512, 256))) == []
    assert img.getpixel((0, 32)) == 0  # no lit quiet zone at the left edge


def test_frame_packing_bit_order_and_size_check() -> None:
    img = Image.new("1", (128, 64), 0)
    img.putpixel((3, 0), 1)
    img.putpixel((3, 9), 1)
    frame = image_to_frame(img)
    assert len(frame) == 1024 and frame[3] == 0x01 and frame[128 + 3] == 0x02
    assert sum(frame) == 3
    with pytest.raises(ValueError, match="expected"):
        image_to_frame(Image.new("1", (64, 32)))


def test_long_name_shows_the_part_that_tells_boxes_apart() -> None:
    common = {"ip": "192.168.1.23", "url": "http://192.168.1.23/", "state": "ready", "temperature_c": 50.0}
    long = render_status(DisplayStatus(name="Smeshbox 3fa9c2d4-12", **common))  # type: ignore[arg-type]
    short = render_status(DisplayStatus(name="3fa9c2d4-12", **common))  # type: ignore[arg-type]
    other = render_status(DisplayStatus(name="3fa9c2d4-13", **common))  # type: ignore[arg-type]
    assert long.tobytes() == short.tobytes() != other.tobytes()
