"""The update page of the web API: :class:`OtaUpdates` over the OTA manager on a Smeshbox OS
image, :class:`NoUpdates` where there is no OS slot to update (a development machine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from appliance import __version__
from appliance.errors import ServiceError
from appliance.web import services as ws

if TYPE_CHECKING:
    from appliance.ota.manager import OtaManager
    from appliance.ota.state import OtaResult

Outcome = Literal["success", "rolled-back", "failed", "refused"]  # UpdateResult.outcome
#: OtaResult.outcome's words in the API's vocabulary (the same four; anything else is a failure)
_OUTCOMES: dict[str, Outcome] = {
    "success": "success", "rolled-back": "rolled-back", "failed": "failed", "refused": "refused",
}


def result_view(last: OtaResult) -> ws.UpdateResult:
    return ws.UpdateResult(last.from_version, last.to_version, _OUTCOMES.get(last.outcome, "failed"),
                           last.reason, last.at)


class OtaUpdates:
    """``appliance.web.services.UpdateService`` over :class:`appliance.ota.manager.OtaManager`."""

    def __init__(self, ota: OtaManager) -> None:
        self.ota = ota

    def status(self) -> ws.UpdateView:
        shot = self.ota.snapshot()
        return ws.UpdateView(
            current_version=shot.version,
            available_version=(shot.available or {}).get("version"),
            phase=shot.phase, downloaded_bytes=shot.downloaded, total_bytes=shot.total,
            error=shot.error or "",
            last_result=result_view(shot.last_result) if shot.last_result else None,
        )

    async def start(self, version: str) -> None:
        from appliance.ota.errors import OtaError

        available = (self.ota.snapshot().available or {}).get("version")
        if available and version != available:
            raise ServiceError(f"version {version} is not the one offered ({available})", "conflict")
        try:
            self.ota.start_install()  # verifies the release before writing
        except OtaError as exc:
            raise ServiceError(str(exc), "conflict") from exc


class NoUpdates:
    """The update page where no OS slot can be updated (a development machine)."""

    def __init__(self, why: str) -> None:
        self.why = why

    def status(self) -> ws.UpdateView:
        return ws.UpdateView(current_version=__version__, error=self.why)

    async def start(self, version: str) -> None:
        # 409, not 503: nothing is down and retrying will not help; this machine has no OS slots
        raise ServiceError(self.why, "conflict")
