"""The ``/api/v1/nodemode`` handlers: how the box earns, the node's addresses, TLS files, presets,
each identity's post-service state, and the identity hand-off. Validates and delegates to the
:class:`NodeModeService` (``appliance.node.nodemode_service``); holds no logic."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from appliance.web._http import ApiError, call, read_json
from appliance.web.services import SERVICES

MAX_TLS_BODY = 200 * 1024  # three PEM files as text in JSON
MAX_KEY_BODY = 1024


class NodeModeService(Protocol):
    def view(self) -> dict[str, Any]: ...
    async def update(self, change: dict[str, Any]) -> dict[str, Any]: ...
    async def set_tls(self, files: dict[str, bytes] | None) -> dict[str, Any]: ...
    async def key_file(self, node_id_hex: str) -> tuple[str, bytes]: ...
    async def adopt_key(self, node_id_hex: str, text: str) -> dict[str, Any]: ...
    async def commitment_from_node(self) -> dict[str, Any]: ...
    async def earnings(self) -> dict[str, Any]: ...


routes = web.RouteTableDef()


def _service(request: web.Request) -> NodeModeService:
    service = request.app[SERVICES].nodemode
    if service is None:
        raise ApiError(503, "unavailable", "node mode is not available on this box yet")
    return service


async def _call(request: web.Request, awaitable: Any) -> Any:
    return await call(awaitable, request.app[SERVICES].call_timeout)


@routes.get("/api/v1/nodemode")
async def get_nodemode(request: web.Request) -> web.Response:
    return web.json_response(_service(request).view())


@routes.patch("/api/v1/nodemode")
async def patch_nodemode(request: web.Request) -> web.Response:
    service = _service(request)
    body = await read_json(request, "NodeModePatch")
    return web.json_response(await _call(request, service.update(body)))


@routes.put("/api/v1/nodemode/tls")
async def put_tls(request: web.Request) -> web.Response:
    service = _service(request)
    body = await read_json(request, "NodeModeTls", limit=MAX_TLS_BODY)
    files = {name: body[name].encode() for name in ("ca_cert", "cert", "key")}
    return web.json_response(await _call(request, service.set_tls(files)))


@routes.delete("/api/v1/nodemode/tls")
async def delete_tls(request: web.Request) -> web.Response:
    return web.json_response(await _call(request, _service(request).set_tls(None)))


@routes.get("/api/v1/nodemode/earnings")
async def earnings(request: web.Request) -> web.Response:
    return web.json_response(await _call(request, _service(request).earnings()))


@routes.post("/api/v1/nodemode/commitment")
async def commitment(request: web.Request) -> web.Response:
    return web.json_response(await _call(request, _service(request).commitment_from_node()))


@routes.get("/api/v1/nodemode/identities/{node_id}/key")
async def download_key(request: web.Request) -> web.Response:
    name, data = await _call(request, _service(request).key_file(request.match_info["node_id"]))
    return web.Response(body=data, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })  # fmt: skip


@routes.put("/api/v1/nodemode/identities/{node_id}/key")
async def upload_key(request: web.Request) -> web.Response:
    service = _service(request)
    body = await read_json(request, "NodeKeyUpload", limit=MAX_KEY_BODY)
    adopted = await _call(request, service.adopt_key(request.match_info["node_id"], body["key"]))
    return web.json_response(adopted)
