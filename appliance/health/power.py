"""Health check: the power supply sags (undervoltage) or the CPU is throttled.

The reading comes from the hw domain's sensors (firmware flags and the ``rpi_volt`` alarm), read
once per poll there; :meth:`PowerCheck.undervoltage` hands the same reading to the init pause."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from appliance.health.model import Finding, Severity

REMEDY = "use the official power supply (5 V, 3 A on a Pi 4, 5 A on a Pi 5) and a short cable"


class PowerReading(Protocol):
    @property
    def undervoltage(self) -> bool: ...

    @property
    def throttled(self) -> bool: ...


class PowerCheck:
    def __init__(self, reading: Callable[[], PowerReading | None]) -> None:
        self.reading = reading

    def undervoltage(self) -> str | None:
        """Why init should pause for power, or None (the init pause reads this)."""
        shot = self.reading()
        if shot is not None and shot.undervoltage:
            return "undervoltage reported by the Pi firmware: " + REMEDY
        return None

    def __call__(self) -> list[Finding]:
        shot = self.reading()
        if shot is None:
            return []
        if shot.undervoltage:
            return [Finding("undervoltage", "hw", Severity.ERROR,
                            "the power supply cannot hold 5 V: the Pi reports undervoltage, init is paused "
                            "and drives may drop out", REMEDY)]
        if shot.throttled:
            return [Finding("throttled", "hw", Severity.WARNING, "the CPU is throttled (heat or power)",
                            "give the box air and a stronger power supply")]
        return []
