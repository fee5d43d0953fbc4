"""Verify the bearer token once per request: the principal (or None) goes into the request
state; a bad token is kept as a problem that routes needing a caller raise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http.auth import authenticate
from gateway.http.problems import Problem
from gateway.state import Gateway


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        g: Gateway = scope["app"].state.gateway
        state = scope.setdefault("state", {})
        try:
            state["principal"] = authenticate(Request(scope), g.settings.jwt_secret)
        except Problem as problem:
            state["principal"] = None
            state["auth_problem"] = problem
        await self.app(scope, receive, send)
