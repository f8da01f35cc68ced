"""A simulated I2C bus carrying a simulated SSD1306, for tests and for dev machines without a panel.

``SimulatedBus`` offers the smbus2.SMBus methods the driver uses and NACKs (``OSError`` EREMOTEIO,
as the kernel does) for addresses with no device. ``SimulatedSSD1306`` decodes the real byte stream:
the control byte (Co / D/C#), every command of the datasheet's command table with its parameters,
the three addressing modes with their column/page windows and pointer wrap-around, and the display
configuration (on/off, charge pump, contrast, inverse, entire-on, segment remap, COM scan direction,
start line, offset, multiplex ratio). ``image()`` returns what a person would see on a common module
(whose glass puts SEG127/COM63 at the top-left), and ``save_png`` writes it atomically.
Scrolling is accepted and recorded but rendered as a still frame.
"""

from __future__ import annotations

import errno
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from appliance.hw import ssd1306 as c
from appliance.system.files import atomic_write_bytes


class SSD1306ProtocolError(ValueError):
    """The byte stream is not valid SSD1306 protocol (unknown command, value out of range)."""


@dataclass
class _Pending:
    opcode: int
    params: list[int] = field(default_factory=list)


class SimulatedSSD1306:
    """Decodes one controller's command/data stream into its 128x8-page GDDRAM."""

    def __init__(self, strict: bool = True, needs_charge_pump: bool = True) -> None:
        self.strict = strict
        self.needs_charge_pump = needs_charge_pump
        self.protocol_errors: list[str] = []
        self.gddram = bytearray(c.FRAME_BYTES)
        # Reset values from the datasheet.
        self.display_on = False
        self.charge_pump = False
        self.contrast = 0x7F
        self.inverse = False
        self.entire_on = False
        self.segment_remap = False
        self.com_scan_dec = False
        self.start_line = 0
        self.display_offset = 0
        self.multiplex = c.HEIGHT
        self.addressing_mode = c.MODE_PAGE
        self.col_start, self.col_end = 0, c.WIDTH - 1
        self.page_start, self.page_end = 0, c.PAGES - 1
        self.col, self.page = 0, 0
        self.page_mode_col_start = 0
        self.scroll_active = False
        self.commands_seen = 0
        self.data_bytes_seen = 0
        self._pending: _Pending | None = None

    # -- transport --------------------------------------------------------------------------------

    def transaction(self, payload: Sequence[int]) -> None:
        """One I2C write after the address byte: control byte, then bytes, per the Co/D/C# bits."""
        i = 0
        while i < len(payload):
            control = payload[i]
            if control & ~(c.CONTROL_CO | c.CONTROL_DC) & 0xFF:
                self._error(f"control byte 0x{control:02x} has reserved bits set")
            is_data = bool(control & c.CONTROL_DC)
            if control & c.CONTROL_CO:
                body = payload[i + 1 : i + 2]  # exactly one byte, then another control byte
                i += 2
            else:
                body = payload[i + 1 :]  # the rest of the transaction
                i = len(payload)
            for byte in body:
                if is_data:
                    self._data(byte)
                else:
                    self._command_byte(byte)

    # -- decoding ---------------------------------------------------------------------------------

    def _error(self, message: str) -> None:
        self.protocol_errors.append(message)
        if self.strict:
            raise SSD1306ProtocolError(message)

    def _command_byte(self, byte: int) -> None:
        if self._pending is not None:
            self._pending.params.append(byte)
            if len(self._pending.params) == c.PARAM_COUNTS[self._pending.opcode]:
                pending, self._pending = self._pending, None
                self._execute(pending.opcode, pending.params)
            return
        if byte in c.PARAM_COUNTS:
            self._pending = _Pending(byte)
            return
        self._execute(byte, [])

    def _execute(self, op: int, p: list[int]) -> None:
        self.commands_seen += 1
        if op <= 0x0F:
            self.page_mode_col_start = (self.page_mode_col_start & 0xF0) | op
            self.col = self.page_mode_col_start
        elif op <= 0x1F:
            self.page_mode_col_start = ((op & 0x0F) << 4) | (self.page_mode_col_start & 0x0F)
            if self.page_mode_col_start >= c.WIDTH:
                self._error(f"page-mode column {self.page_mode_col_start} beyond {c.WIDTH - 1}")
                self.page_mode_col_start &= c.WIDTH - 1
            self.col = self.page_mode_col_start
        elif op == c.SET_ADDRESSING_MODE:
            if p[0] > c.MODE_PAGE:
                self._error(f"addressing mode {p[0]} is invalid")
                return
            self.addressing_mode = p[0]
        elif op == c.SET_COLUMN_ADDRESS:
            self._set_window(p, c.WIDTH - 1, "column")
        elif op == c.SET_PAGE_ADDRESS:
            self._set_window(p, c.PAGES - 1, "page")
        elif 0x40 <= op <= 0x7F:
            self.start_line = op & 0x3F
        elif 0xB0 <= op <= 0xB7:
            self.page = op & 0x07
        elif op in (c.DISPLAY_ON, c.DISPLAY_OFF):
            self.display_on = op == c.DISPLAY_ON
        elif op in (c.NORMAL_DISPLAY, c.INVERT_DISPLAY):
            self.inverse = op == c.INVERT_DISPLAY
        elif op in (c.ENTIRE_ON_RESUME, c.ENTIRE_ON_FORCE):
            self.entire_on = op == c.ENTIRE_ON_FORCE
        elif op in (c.SEGMENT_REMAP_OFF, c.SEGMENT_REMAP_ON):
            self.segment_remap = op == c.SEGMENT_REMAP_ON
        elif op in (c.COM_SCAN_INC, c.COM_SCAN_DEC):
            self.com_scan_dec = op == c.COM_SCAN_DEC
        elif op == c.SET_CONTRAST:
            self.contrast = p[0]
        elif op == c.CHARGE_PUMP:
            if p[0] & ~0x04 & 0xFF != 0x10:
                self._error(f"charge pump parameter 0x{p[0]:02x} is not 0x10/0x14")
                return
            self.charge_pump = bool(p[0] & 0x04)
        elif op == c.SET_MULTIPLEX:
            if not 15 <= p[0] <= 63:
                self._error(f"multiplex ratio {p[0] + 1} outside 16..64")
                return
            self.multiplex = p[0] + 1
        elif op == c.SET_DISPLAY_OFFSET:
            self.display_offset = p[0] & 0x3F
        elif op in (c.SCROLL_ACTIVATE, c.SCROLL_DEACTIVATE):
            self.scroll_active = op == c.SCROLL_ACTIVATE
        elif op in (c.SET_COM_PINS, c.SET_CLOCK_DIV, c.SET_PRECHARGE, c.SET_VCOM_DETECT, c.NOP,
                    c.SET_VERT_SCROLL_AREA, c.SCROLL_LEFT, c.SCROLL_RIGHT, c.SCROLL_VERT_LEFT,
                    c.SCROLL_VERT_RIGHT):  # fmt: skip
            pass  # analogue timing / scroll set-up: no effect on the still picture
        else:
            self.commands_seen -= 1
            self._error(f"unknown command 0x{op:02x}")

    def _set_window(self, p: list[int], limit: int, what: str) -> None:
        start, end = p
        if start > limit or end > limit or start > end:
            self._error(f"{what} window {start}..{end} invalid (0..{limit}, start <= end)")
            return
        if what == "column":
            self.col_start, self.col_end, self.col = start, end, start
        else:
            self.page_start, self.page_end, self.page = start, end, start

    def _data(self, byte: int) -> None:
        self.data_bytes_seen += 1
        self.gddram[self.page * c.WIDTH + self.col] = byte
        if self.addressing_mode == c.MODE_PAGE:
            # Column wraps to the page-mode start; the page pointer does not move.
            self.col = self.col + 1 if self.col < c.WIDTH - 1 else self.page_mode_col_start
        elif self.addressing_mode == c.MODE_HORIZONTAL:
            if self.col < self.col_end:
                self.col += 1
            else:
                self.col = self.col_start
                self.page = self.page + 1 if self.page < self.page_end else self.page_start
        elif self.page < self.page_end:  # vertical
            self.page += 1
        else:
            self.page = self.page_start
            self.col = self.col + 1 if self.col < self.col_end else self.col_start

    # -- what the glass shows ---------------------------------------------------------------------

    def pixel_ram(self, column: int, row: int) -> bool:
        return bool(self.gddram[(row // 8) * c.WIDTH + column] >> (row % 8) & 1)

    def lit(self) -> bool:
        return self.display_on and (self.charge_pump or not self.needs_charge_pump)

    def image(self) -> Image.Image:
        """The visible 128x64 picture (mode "1": white = lit pixel)."""
        img = Image.new("1", (c.WIDTH, c.HEIGHT), 0)
        if not self.lit():
            return img
        pixels = img.load()
        assert pixels is not None
        for y in range(c.HEIGHT):
            com = c.HEIGHT - 1 - y  # module glass: COM63 is the top row
            line = (self.multiplex - 1 - com) if self.com_scan_dec else com
            if not 0 <= line < self.multiplex:
                continue  # rows beyond the multiplex ratio are not driven
            row = (line + self.display_offset + self.start_line) % c.HEIGHT
            for x in range(c.WIDTH):
                seg = c.WIDTH - 1 - x  # module glass: SEG127 is the left column
                column = c.WIDTH - 1 - seg if self.segment_remap else seg
                on = True if self.entire_on else self.pixel_ram(column, row) != self.inverse
                if on:
                    pixels[x, y] = 1
        return img

    def png_bytes(self, scale: int = 4) -> bytes:
        img = self.image()
        if scale != 1:
            img = img.resize((c.WIDTH * scale, c.HEIGHT * scale), Image.Resampling.NEAREST)
        out = io.BytesIO()
        img.save(out, format="PNG")
        return out.getvalue()

    def save_png(self, path: str | Path, scale: int = 4) -> None:
        atomic_write_bytes(path, self.png_bytes(scale))


class SimulatedBus:
    """smbus2.SMBus stand-in: routes writes to simulated devices by 7-bit address."""

    def __init__(self, devices: dict[int, SimulatedSSD1306] | None = None) -> None:
        self.devices = devices if devices is not None else {c.DEFAULT_ADDRESS: SimulatedSSD1306()}
        self.transactions = 0
        self.closed = False

    def _device(self, i2c_addr: int) -> SimulatedSSD1306:
        if self.closed:
            raise OSError(errno.EBADF, "bus is closed")
        if i2c_addr not in self.devices:
            raise OSError(errno.EREMOTEIO, f"no ACK from 0x{i2c_addr:02x}")
        self.transactions += 1
        return self.devices[i2c_addr]

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        if len(data) > c.BLOCK_MAX:
            raise ValueError(f"block of {len(data)} bytes exceeds {c.BLOCK_MAX}")  # as smbus2 does
        self._device(i2c_addr).transaction([register, *data])

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        self._device(i2c_addr).transaction([register, value])

    def close(self) -> None:
        self.closed = True
