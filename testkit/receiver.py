"""A real HTTP receiver for the webhook tests and benchmark: a threaded HTTP/1.1 server on
127.0.0.1 that records every request and answers as a script says (status, delay), per path."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float


# (path, how many requests this path had before) -> (status, seconds to wait before answering)
Script = Callable[[str, int], tuple[int, float]]


def always_ok(path: str, seen: int) -> tuple[int, float]:
    return 204, 0.0


@dataclass
class Receiver:
    port: int = 0
    script: Script = always_ok
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender went away mid-request: nothing was received
                    self.close_connection = True
                    return
                with receiver.lock:
                    seen = sum(1 for r in receiver.received if r.path == self.path)
                status, delay = receiver.script(self.path, seen)
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                            time.monotonic(),
                        )
                    )
                answer = b"x" * 5000 if status >= 500 else b"" if status == 204 else b"ok"
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self, path: str) -> list[Received]:
        """The requests of a path answered 2xx, in the order they came."""
        with self.lock:
            return [r for r in self.received if r.path == path and 200 <= r.status < 300]

    def all(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]
