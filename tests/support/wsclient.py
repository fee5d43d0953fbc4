"""A small websocket client for the realtime tests: connect, authenticate, read JSON messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

Json = dict[str, Any]


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/v1/ws"


async def connect(
    base: str, token: str | None = None, *, via_subprotocol: bool = False, **kwargs: Any
) -> ClientConnection:
    """An open websocket, authenticated (its `authenticated` message read) given a token."""
    kwargs.setdefault("proxy", None)
    if token is not None and via_subprotocol:
        offered: list[Any] = ["bearer", token]
        ws = await websockets.connect(ws_url(base), subprotocols=offered, **kwargs)
    else:
        ws = await websockets.connect(ws_url(base), **kwargs)
        if token is not None:
            await ws.send(json.dumps({"type": "auth", "token": token}))
    if token is not None:
        first = await recv_json(ws)
        assert first["type"] == "authenticated", first
    return ws


async def recv_json(ws: ClientConnection, within: float = 10.0) -> Json:
    raw = await asyncio.wait_for(ws.recv(), within)
    message: Json = json.loads(raw)
    return message


async def subscribe(ws: ClientConnection, topics: list[str], since: int | None = None) -> Json:
    body: Json = {"type": "subscribe", "topics": topics}
    if since is not None:
        body["since"] = since
    await ws.send(json.dumps(body))
    while True:
        reply = await recv_json(ws)
        if reply["type"] == "subscribed":
            return reply
        assert reply["type"] == "heartbeat", reply


async def next_event(ws: ClientConnection, within: float = 10.0) -> Json:
    """The next event message, skipping heartbeats."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        message = await recv_json(ws, max(0.01, deadline - loop.time()))
        if message["type"] == "event":
            return message
        assert message["type"] in ("heartbeat", "pong"), message


async def close_code(ws: ClientConnection, within: float = 10.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else None
