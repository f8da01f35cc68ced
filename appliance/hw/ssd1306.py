"""SSD1306 128x64 OLED driver over an SMBus-like object (smbus2.SMBus or the simulated bus).

Owns the controller's command vocabulary (shared with the simulator so both speak the same bytes),
the init sequence, and frame uploads in horizontal or page addressing mode. Every I2C transaction is
``[control byte][payload]``: control 0x00 = a stream of commands, 0x40 = a stream of GDDRAM data.
Uploads only send the pages that changed, because a full frame is 1 KiB over a 400 kHz bus.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

WIDTH = 128
HEIGHT = 64
PAGES = HEIGHT // 8
FRAME_BYTES = WIDTH * PAGES
DEFAULT_ADDRESS = 0x3C
# SMBus block writes carry at most 32 bytes (I2C_SMBUS_BLOCK_MAX).
BLOCK_MAX = 32

# Control byte: bit 7 = Co (another control byte follows after one byte), bit 6 = D/C# (1 = data).
CONTROL_COMMANDS = 0x00
CONTROL_DATA = 0x40
CONTROL_CO = 0x80
CONTROL_DC = 0x40

# Fundamental commands
SET_CONTRAST = 0x81
ENTIRE_ON_RESUME = 0xA4
ENTIRE_ON_FORCE = 0xA5
NORMAL_DISPLAY = 0xA6
INVERT_DISPLAY = 0xA7
DISPLAY_OFF = 0xAE
DISPLAY_ON = 0xAF
# Scrolling
SCROLL_RIGHT = 0x26
SCROLL_LEFT = 0x27
SCROLL_VERT_RIGHT = 0x29
SCROLL_VERT_LEFT = 0x2A
SCROLL_DEACTIVATE = 0x2E
SCROLL_ACTIVATE = 0x2F
SET_VERT_SCROLL_AREA = 0xA3
# Addressing
SET_LOW_COLUMN = 0x00  # 0x00-0x0F, page mode
SET_HIGH_COLUMN = 0x10  # 0x10-0x1F, page mode
SET_ADDRESSING_MODE = 0x20
SET_COLUMN_ADDRESS = 0x21
SET_PAGE_ADDRESS = 0x22
SET_PAGE_START = 0xB0  # 0xB0-0xB7, page mode
# Hardware configuration
SET_START_LINE = 0x40  # 0x40-0x7F
SEGMENT_REMAP_OFF = 0xA0
SEGMENT_REMAP_ON = 0xA1
SET_MULTIPLEX = 0xA8
COM_SCAN_INC = 0xC0
COM_SCAN_DEC = 0xC8
SET_DISPLAY_OFFSET = 0xD3
SET_COM_PINS = 0xDA
# Timing and driving
SET_CLOCK_DIV = 0xD5
SET_PRECHARGE = 0xD9
SET_VCOM_DETECT = 0xDB
NOP = 0xE3
CHARGE_PUMP = 0x8D

MODE_HORIZONTAL = 0x00
MODE_VERTICAL = 0x01
MODE_PAGE = 0x02

# Number of parameter bytes that follow each multi-byte command.
PARAM_COUNTS: dict[int, int] = {
    SET_CONTRAST: 1,
    SCROLL_RIGHT: 6,
    SCROLL_LEFT: 6,
    SCROLL_VERT_RIGHT: 5,
    SCROLL_VERT_LEFT: 5,
    SET_VERT_SCROLL_AREA: 2,
    SET_ADDRESSING_MODE: 1,
    SET_COLUMN_ADDRESS: 2,
    SET_PAGE_ADDRESS: 2,
    SET_MULTIPLEX: 1,
    SET_DISPLAY_OFFSET: 1,
    SET_COM_PINS: 1,
    SET_CLOCK_DIV: 1,
    SET_PRECHARGE: 1,
    SET_VCOM_DETECT: 1,
    CHARGE_PUMP: 1,
}

AddressingMode = Literal["horizontal", "page"]


class DisplayError(Exception):
    """The display could not be driven (bus error, bad frame)."""


class SMBusLike(Protocol):
    """The part of smbus2.SMBus the driver uses (the simulator implements the same)."""

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None: ...


def init_sequence(contrast: int = 0xCF, rotate180: bool = False) -> list[int]:
    """The power-on command list for a 128x64 panel with the internal charge pump.

    Common modules are wired so SEG127/COM63 sit at the top-left, hence remap on + COM scan
    decrement for an upright picture; ``rotate180`` flips both for boards mounted upside down.
    """
    return [
        DISPLAY_OFF,
        SET_CLOCK_DIV, 0x80,
        SET_MULTIPLEX, HEIGHT - 1,
        SET_DISPLAY_OFFSET, 0x00,
        SET_START_LINE | 0,
        CHARGE_PUMP, 0x14,
        SET_ADDRESSING_MODE, MODE_HORIZONTAL,
        SEGMENT_REMAP_OFF if rotate180 else SEGMENT_REMAP_ON,
        COM_SCAN_INC if rotate180 else COM_SCAN_DEC,
        SET_COM_PINS, 0x12,
        SET_CONTRAST, contrast,
        SET_PRECHARGE, 0xF1,
        SET_VCOM_DETECT, 0x40,
        SCROLL_DEACTIVATE,
        ENTIRE_ON_RESUME,
        NORMAL_DISPLAY,
        DISPLAY_ON,
    ]  # fmt: skip


class SSD1306:
    """Drives one panel. Blocking (I2C is synchronous): call it from a thread, not the loop."""

    def __init__(
        self,
        bus: SMBusLike,
        address: int = DEFAULT_ADDRESS,
        mode: AddressingMode = "horizontal",
        rotate180: bool = False,
    ) -> None:
        if mode not in ("horizontal", "page"):
            raise ValueError(f"unknown addressing mode {mode!r}")
        self.bus = bus
        self.address = address
        self.mode: AddressingMode = mode
        self.rotate180 = rotate180
        self._shown: list[bytes | None] = [None] * PAGES
        self.bytes_sent = 0

    def _write(self, control: int, payload: Sequence[int]) -> None:
        for start in range(0, len(payload), BLOCK_MAX):
            chunk = list(payload[start : start + BLOCK_MAX])
            try:
                self.bus.write_i2c_block_data(self.address, control, chunk)
            except OSError as exc:  # NACK (no panel at that address), bus timeout
                raise DisplayError(f"I2C write to 0x{self.address:02x} failed: {exc}") from exc
            self.bytes_sent += len(chunk) + 1

    def command(self, *cmds: int) -> None:
        self._write(CONTROL_COMMANDS, cmds)

    def init(self, contrast: int = 0xCF) -> None:
        sequence = init_sequence(contrast, self.rotate180)
        if self.mode == "page":
            sequence[sequence.index(SET_ADDRESSING_MODE) + 1] = MODE_PAGE
        self.command(*sequence)
        self._shown = [None] * PAGES

    def power(self, on: bool) -> None:
        self.command(DISPLAY_ON if on else DISPLAY_OFF)

    def contrast(self, value: int) -> None:
        if not 0 <= value <= 255:
            raise ValueError(f"contrast {value} outside 0..255")
        self.command(SET_CONTRAST, value)

    def show(self, frame: bytes, force: bool = False) -> int:
        """Uploads a 1024-byte GDDRAM image (page-major, LSB = top pixel); returns pages sent."""
        if len(frame) != FRAME_BYTES:
            raise DisplayError(f"frame is {len(frame)} bytes, expected {FRAME_BYTES}")
        pages = [frame[p * WIDTH : (p + 1) * WIDTH] for p in range(PAGES)]
        dirty = [p for p in range(PAGES) if force or self._shown[p] != pages[p]]
        if not dirty:
            return 0
        if self.mode == "horizontal":
            # One window covering the dirty span; the column/page pointers wrap inside it.
            first, last = dirty[0], dirty[-1]
            self.command(SET_COLUMN_ADDRESS, 0, WIDTH - 1, SET_PAGE_ADDRESS, first, last)
            self._write(CONTROL_DATA, b"".join(pages[first : last + 1]))
        else:
            for p in dirty:
                self.command(SET_PAGE_START | p, SET_LOW_COLUMN | 0, SET_HIGH_COLUMN | 0)
                self._write(CONTROL_DATA, pages[p])
        for p in dirty:
            self._shown[p] = pages[p]
        return len(dirty)
