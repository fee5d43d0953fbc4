"""GET /v1/ws: Origin check (HTTP 403 before the handshake), bearer authentication (4001), then
a Session. Heartbeats come from the service, one timer per process. The session writes frames
to the connection's transport, which needs `booking serve`'s websocket protocol
(gateway/realtime/wsprotocol.py); under another server the connection is closed with 1011."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.realtime.origins import origin_allowed
from gateway.realtime.session import CLOSE_SERVER_ERROR, CLOSE_UNAUTHORIZED, Session
from gateway.realtime.wsauth import (
    SUBPROTOCOL,
    AuthError,
    principal_from_token,
    subprotocol_token,
)
from gateway.realtime.wsprotocol import sink_of

if TYPE_CHECKING:
    from gateway.realtime.service import Realtime


async def websocket_endpoint(ws: WebSocket) -> None:
    rt: Realtime = ws.app.state.realtime
    if not origin_allowed(ws.headers.get("origin"), rt.settings.origins):
        await ws.close(code=1008)  # before accept: the server answers the handshake with 403
        return
    offered = subprotocol_token(list(ws.scope.get("subprotocols") or []))
    token: object = offered
    if offered is not None:
        await ws.accept(subprotocol=SUBPROTOCOL)
    else:
        await ws.accept()
        try:
            first = await asyncio.wait_for(ws.receive_text(), rt.settings.auth_timeout_seconds)
            msg = json.loads(first)
            token = (
                msg.get("token") if isinstance(msg, dict) and msg.get("type") == "auth" else None
            )
        except TimeoutError:
            await ws.close(CLOSE_UNAUTHORIZED, "no auth message in time")
            return
        except WebSocketDisconnect:
            return
        except (ValueError, KeyError, RuntimeError):
            token = None
    try:
        who = principal_from_token(rt.jwt_secret, token)
    except AuthError as exc:
        await ws.close(CLOSE_UNAUTHORIZED, str(exc)[:120])
        return
    sink = sink_of(ws.scope)
    if sink is None:
        await ws.close(CLOSE_SERVER_ERROR, "serve with `booking serve` (its websocket protocol)")
        return
    await Session(
        ws, sink, who, rt.hub, rt.engine, rt.settings, rt.jwt_secret, shard_of=rt.shard_of
    ).run()


def websocket_route() -> WebSocketRoute:
    return WebSocketRoute("/v1/ws", websocket_endpoint)
