"""The simulated SSD1306 decodes raw command streams like the datasheet says, and the driver's
output through it lands in the right GDDRAM cells."""

from __future__ import annotations

import errno

import pytest

from appliance.hw import ssd1306 as c
from appliance.hw.simbus import SimulatedBus, SimulatedSSD1306, SSD1306ProtocolError
from appliance.hw.ssd1306 import SSD1306, DisplayError

CMD, DATA = c.CONTROL_COMMANDS, c.CONTROL_DATA


def cell(sim: SimulatedSSD1306, page: int, col: int) -> int:
    return sim.gddram[page * c.WIDTH + col]


def test_horizontal_mode_window_wraps_columns_then_pages() -> None:
    sim = SimulatedSSD1306()
    sim.transaction([CMD, 0x20, 0x00, 0x21, 10, 13, 0x22, 2, 3])
    sim.transaction([DATA, *range(1, 13)])
    assert [cell(sim, 2, col) for col in range(10, 14)] == [9, 10, 11, 12]  # wrapped back to page 2
    assert [cell(sim, 3, col) for col in range(10, 14)] == [5, 6, 7, 8]
    assert cell(sim, 2, 9) == 0 and cell(sim, 2, 14) == 0 and cell(sim, 4, 10) == 0
    assert (sim.page, sim.col) == (3, 10)


def test_page_mode_column_wraps_to_page_start_column_and_page_stays() -> None:
    sim = SimulatedSSD1306()
    sim.transaction([CMD, 0x20, 0x02, 0xB5, 0x0E, 0x17])  # page 5, column 0x7E
    assert (sim.page, sim.col) == (5, 126)
    sim.transaction([DATA, 0xA1, 0xA2, 0xA3])
    assert cell(sim, 5, 126) == 0xA3  # 126, 127, then back to the page-mode start column 126
    assert cell(sim, 5, 127) == 0xA2
    assert sim.page == 5 and cell(sim, 6, 0) == 0


def test_vertical_mode_walks_pages_first() -> None:
    sim = SimulatedSSD1306()
    sim.transaction([CMD, 0x20, 0x01, 0x21, 0, 1, 0x22, 0, 2])
    sim.transaction([DATA, 1, 2, 3, 4, 5, 6, 7])
    assert [cell(sim, p, 0) for p in range(3)] == [7, 2, 3]
    assert [cell(sim, p, 1) for p in range(3)] == [4, 5, 6]


def test_continuation_bit_splits_commands_and_data_in_one_transaction() -> None:
    sim = SimulatedSSD1306()
    # Co=1 pairs: display on, contrast opcode, its parameter (pending across control bytes),
    # then one data byte (Co=1, D/C#=1), then a Co=0 command tail.
    sim.transaction([0x80, 0xAF, 0x80, 0x81, 0x80, 0x10, 0xC0, 0x5A, 0x00, 0xA7, 0xC8])
    assert sim.display_on and sim.contrast == 0x10 and sim.inverse and sim.com_scan_dec
    assert cell(sim, 0, 0) == 0x5A and sim.data_bytes_seen == 1


def test_driver_init_sequence_is_understood() -> None:
    bus = SimulatedBus()
    SSD1306(bus).init(contrast=0x42)
    sim = bus.devices[c.DEFAULT_ADDRESS]
    assert sim.protocol_errors == []
    assert sim.display_on and sim.charge_pump and sim.contrast == 0x42
    assert sim.addressing_mode == c.MODE_HORIZONTAL and sim.segment_remap and sim.com_scan_dec
    assert sim.multiplex == 64 and sim.start_line == 0 and not sim.inverse and not sim.entire_on


@pytest.mark.parametrize("mode", ["horizontal", "page"])
def test_driver_frame_lands_in_gddram(mode: str) -> None:
    bus = SimulatedBus()
    panel = SSD1306(bus, mode=mode)  # type: ignore[arg-type]
    panel.init()
    frame = bytes((i * 7 + i // 128) & 0xFF for i in range(c.FRAME_BYTES))
    assert panel.show(frame) == c.PAGES
    assert bytes(bus.devices[c.DEFAULT_ADDRESS].gddram) == frame


@pytest.mark.parametrize("mode", ["horizontal", "page"])
def test_driver_sends_only_changed_pages(mode: str) -> None:
    bus = SimulatedBus()
    panel = SSD1306(bus, mode=mode)  # type: ignore[arg-type]
    panel.init()
    frame = bytearray(c.FRAME_BYTES)
    sent = panel.bytes_sent
    panel.show(bytes(frame))
    full = panel.bytes_sent - sent
    sim = bus.devices[c.DEFAULT_ADDRESS]
    before, sent = sim.data_bytes_seen, panel.bytes_sent
    assert panel.show(bytes(frame)) == 0
    frame[5 * c.WIDTH + 17] = 0xFF
    assert panel.show(bytes(frame)) == 1
    partial = panel.bytes_sent - sent
    assert sim.data_bytes_seen - before == c.WIDTH
    assert bytes(sim.gddram) == bytes(frame)
    print(
        f"{mode}: bus bytes for a full frame {full}, for one changed page {partial} ({full / partial:.1f}x)"
    )


def test_visible_picture_follows_panel_configuration() -> None:
    bus = SimulatedBus()
    panel = SSD1306(bus)
    panel.init()
    frame = bytearray(c.FRAME_BYTES)
    frame[0] = 0x01  # top-left pixel
    panel.show(bytes(frame))
    sim = bus.devices[c.DEFAULT_ADDRESS]
    assert sim.image().getpixel((0, 0))
    assert sum(1 for v in sim.image().get_flattened_data() if v) == 1
    sim.transaction([CMD, 0xA0, 0xC0])  # no remap: a common module shows it rotated by 180°
    assert sim.image().getpixel((127, 63))
    sim.transaction([CMD, 0xA1, 0xC8, 0x41])  # start line 1: row 0 scrolls off the top
    assert sim.image().getpixel((0, 63)) and sim.image().getpixel((0, 0)) == 0
    sim.transaction([CMD, 0x40, 0xA7])  # inverse
    assert sim.image().getpixel((0, 0)) == 0 and sim.image().getpixel((1, 0))
    sim.transaction([CMD, 0xA6, 0xA8, 31])  # multiplex 32: only 32 rows are driven
    sim.transaction([CMD, 0xA5])
    lit = [y for y in range(64) if sim.image().getpixel((5, y))]
    assert len(lit) == 32
    sim.transaction([CMD, 0xA4, 0xA8, 63, 0xAE])
    assert not any(sim.image().get_flattened_data())  # display off
    sim.transaction([CMD, 0xAF, 0x8D, 0x10])
    assert not any(sim.image().get_flattened_data())  # charge pump off: no panel voltage


def test_rotate180_driver_option_turns_the_picture() -> None:
    frame = bytearray(c.FRAME_BYTES)
    frame[0] = 0x03
    frame[c.WIDTH + 40] = 0x80
    images = []
    for rotate in (False, True):
        bus = SimulatedBus()
        panel = SSD1306(bus, rotate180=rotate)
        panel.init()
        panel.show(bytes(frame))
        images.append(bus.devices[c.DEFAULT_ADDRESS].image())
    assert images[0].rotate(180).tobytes() == images[1].tobytes()


def test_png_is_saved_scaled(tmp_path) -> None:
    from PIL import Image

    bus = SimulatedBus()
    SSD1306(bus).init()
    sim = bus.devices[c.DEFAULT_ADDRESS]
    sim.transaction([DATA, 0xFF])
    path = tmp_path / "oled.png"
    sim.save_png(path, scale=3)
    with Image.open(path) as img:
        assert img.size == (384, 192)
        assert img.getpixel((0, 0)) and img.getpixel((2, 23)) and not img.getpixel((3, 0))


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ([CMD, 0x23], "unknown command 0x23"),
        ([CMD, 0x20, 0x03], "addressing mode 3 is invalid"),
        ([CMD, 0x21, 20, 10], "column window 20..10 invalid"),
        ([CMD, 0x22, 0, 8], "page window 0..8 invalid"),
        ([CMD, 0xA8, 3], "multiplex ratio 4 outside"),
        ([CMD, 0x8D, 0x55], "charge pump parameter 0x55"),
        ([0x01, 0xAF], "reserved bits"),
        ([CMD, 0x1F], "page-mode column 240"),
    ],
)
def test_invalid_streams_are_protocol_errors(stream: list[int], message: str) -> None:
    sim = SimulatedSSD1306()
    with pytest.raises(SSD1306ProtocolError, match=message):
        sim.transaction(stream)
    lenient = SimulatedSSD1306(strict=False)
    lenient.transaction(stream)
    assert any(message in err for err in lenient.protocol_errors)


def test_invalid_window_keeps_previous_window() -> None:
    sim = SimulatedSSD1306(strict=False)
    sim.transaction([CMD, 0x21, 4, 8, 0x21, 9, 3])
    assert (sim.col_start, sim.col_end) == (4, 8)


def test_missing_device_nacks_and_driver_raises_display_error() -> None:
    bus = SimulatedBus(devices={})
    with pytest.raises(OSError) as info:
        bus.write_byte_data(0x3C, CMD, 0xAF)
    assert info.value.errno == errno.EREMOTEIO
    with pytest.raises(DisplayError, match="0x3c"):
        SSD1306(bus).init()


def test_oversized_block_and_bad_frame_are_refused() -> None:
    bus = SimulatedBus()
    with pytest.raises(ValueError, match="exceeds 32"):
        bus.write_i2c_block_data(0x3C, DATA, [0] * 33)
    panel = SSD1306(bus)
    with pytest.raises(DisplayError, match="expected 1024"):
        panel.show(b"\x00" * 1000)
    with pytest.raises(ValueError, match="contrast"):
        panel.contrast(300)
    with pytest.raises(ValueError, match="addressing mode"):
        SSD1306(bus, mode="vertical")  # type: ignore[arg-type]
    bus.close()
    with pytest.raises(DisplayError, match="closed"):
        panel.power(True)
