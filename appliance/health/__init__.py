"""The box's health: one object listing what is wrong, why, and what a person can do about it.

Modelled on Home Assistant supervisor's resolution centre: every problem is data (an id, the
component it belongs to, a severity, a reason and a remedy, since when), found by small checks —
one per file — over the snapshots the domains already keep. :class:`HealthMonitor` runs them, keeps
``since`` stable while a problem lasts and derives the overall status. ``GET /api/v1/health``, the
page, the OTA health gate, the systemd watchdog and the init pause all read this one object.
"""

from appliance.health.model import Check, Finding, HealthReport, Problem, Severity, Status
from appliance.health.monitor import HealthMonitor

__all__ = ["Check", "Finding", "HealthMonitor", "HealthReport", "Problem", "Severity", "Status"]
