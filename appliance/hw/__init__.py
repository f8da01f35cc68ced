"""The box's senses: SSD1306 OLED status screen over I2C (smbus2 is imported only here), a simulated
I2C panel for tests and dev machines, and sysfs sensors (CPU temperature, fan PWM, Raspberry Pi
throttling/undervoltage). ``HwManager`` runs them on the loop and publishes topic "hw"."""

from appliance.hw.manager import DisplayState, HwConfig, HwManager, HwSnapshot
from appliance.hw.screen import DisplayStatus, render_status
from appliance.hw.sensors import SensorError, SensorReading, read_sensors
from appliance.hw.simbus import SimulatedBus, SimulatedSSD1306, SSD1306ProtocolError
from appliance.hw.ssd1306 import SSD1306, DisplayError

__all__ = [
    "SSD1306",
    "DisplayError",
    "DisplayState",
    "DisplayStatus",
    "HwConfig",
    "HwManager",
    "HwSnapshot",
    "SSD1306ProtocolError",
    "SensorError",
    "SensorReading",
    "SimulatedBus",
    "SimulatedSSD1306",
    "read_sensors",
    "render_status",
]
