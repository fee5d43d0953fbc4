"""The read-your-writes fence: once a write has been answered (committed or failed), this
process's cached reads wait for the listener to have read the log past it (the version map's
fence), so the writer never reads an answer older than its own write."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.state import Gateway

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteFenceMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        g: Gateway = scope["app"].state.gateway

        async def send_fenced(message: Message) -> None:
            if message["type"] == "http.response.start":
                g.versions.written()
            await send(message)

        await self.app(scope, receive, send_fenced)
