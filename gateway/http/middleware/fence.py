"""The read-your-writes fences.

In this process: once a write has been answered (committed or failed), this process's cached
reads wait for the listener to have read the log past it (the version map's fence), so the
writer never reads an answer older than its own write.

Across processes and replicas (only with replicas configured): a write's answer carries the
primary's WAL position after it in the `Booking-Consistency` header; a read that sends it back
is answered only from a replica that has replayed that far, or from the primary
(gateway/services/consistency.py). A malformed token is a 400.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors.problem import Problem
from gateway.http.problems import bad_request
from gateway.services.consistency import HEADER, format_lsn, parse_lsn, set_request_fence
from gateway.state import Gateway

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER_KEY = HEADER.lower().encode()


class WriteFenceMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        g: Gateway = scope["app"].state.gateway
        if scope["method"] in SAFE_METHODS:
            token = next((v for k, v in scope["headers"] if k == HEADER_KEY), None)
            if token is not None:
                fence = parse_lsn(token.decode("latin-1"))
                if fence is None:
                    problem = bad_request(
                        f"the {HEADER} header must be a token a write's answer carried"
                        " (an LSN such as 0/1A2B3C8)"
                    )
                    await problem.response()(scope, receive, send)
                    return
                set_request_fence(fence)
            await self.app(scope, receive, send)
            return

        async def send_fenced(message: Message) -> None:
            if message["type"] == "http.response.start":
                g.versions.written()
                if g.db.router is not None:
                    try:
                        lsn = await g.db.write_position()
                    except Problem:
                        lsn = 0  # the primary is down: no write can have been answered
                    if lsn:
                        headers = [
                            *message.get("headers", []),
                            (HEADER_KEY, format_lsn(lsn).encode()),
                        ]
                        message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_fenced)
