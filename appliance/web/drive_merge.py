"""``POST /api/v1/drives/{drive_id}/merge``: the adoption step for a drive holding postcli pieces
(``DriveView.merge_folders``). It validates and delegates to the drives service, which merges in
the background; the page follows the drive's state and reason."""

from __future__ import annotations

from aiohttp import web

from appliance.web.routes import _call, _svc

routes = web.RouteTableDef()


@routes.post("/api/v1/drives/{drive_id}/merge")
async def merge_drive(request: web.Request) -> web.Response:
    await _call(request, _svc(request).drives.merge(request.match_info["drive_id"]))
    return web.json_response({"status": "merging"}, status=200)
