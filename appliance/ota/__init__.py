"""OTA updates: signed release manifests, resumable hashed downloads, RAUC A/B installs and the
post-boot health gate that marks a new slot good (or bad, rolling back). The only package that
talks to RAUC.

Public surface: :class:`OtaManager` (``async start()/stop()/snapshot()``, events as ``Topic.OTA``),
:class:`OtaConfig`, the typed errors in :mod:`appliance.ota.errors`, and ``python -m appliance.ota``
(``make-release``, ``keygen``, ``install``, ``gate``, ``status``).
"""

from appliance.ota.config import OtaConfig
from appliance.ota.errors import OtaError
from appliance.ota.manager import OtaManager, OtaSnapshot

__all__ = ["OtaConfig", "OtaError", "OtaManager", "OtaSnapshot"]
