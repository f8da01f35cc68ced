"""post-rs's operator endpoint: ``GET /status`` answers the post-service's state as JSON.

Same path and JSON as spacemeshos/post-rs @ a2d155a2a1c13c59559737634262b67686e503b1
``service/src/operator.rs`` (``"Idle"``, ``{"Proving": {"nonces": {"start", "end"}, "position"}}``,
``"DoneProving"``), so a person's monitoring keeps working when ours replaces post-rs. One tiny
read-only resource: the standard library's threaded HTTP server in its own thread is enough, and
it never touches the event loop (it reads an immutable status snapshot).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OperatorServer:
    def __init__(self, host: str, port: int, status: Callable[[], object]) -> None:
        status_fn = status

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/status":
                    self.send_error(404)
                    return
                body = json.dumps(status_fn()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="post-operator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
