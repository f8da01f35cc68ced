"""The phone UI's server: the aiohttp app (``/api/v1`` + OpenAPI, live updates over SSE, the page
at ``/``). The daemon builds an :class:`AppServices`, then ``create_app`` and ``serve``."""

from appliance.web.app import create_app, serve
from appliance.web.services import AppServices, ServiceError

__all__ = ["AppServices", "ServiceError", "create_app", "serve"]
