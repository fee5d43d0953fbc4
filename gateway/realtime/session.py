"""One authenticated websocket: its subscriptions, replay with `since`, and the token's expiry.
Its frames go straight to the connection's transport (gateway/realtime/wsprotocol.py): the
session's own work is one task reading the client's messages and one timer for the token.
Protocol and close codes: docs/REALTIME.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.errors.problem import Problem
from gateway.realtime.config import RealtimeSettings
from gateway.realtime.events import encode, may_subscribe, valid_topic
from gateway.realtime.hub import Hub, Subscriber
from gateway.realtime.wsauth import AuthError, WsPrincipal, principal_from_token
from gateway.realtime.wsprotocol import FrameSink, text_frame
from gateway.services.engine import Engine

# with shards: the shard (name, engine) whose event log holds a topic, None when it spans shards
ShardOf = Callable[[str], Awaitable[tuple[str, Engine] | None]]

CLOSE_UNAUTHORIZED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_SERVER_ERROR = 1011
REPLAY_PAGE = 1000


def frame(message: dict[str, Any]) -> bytes:
    return text_frame(json.dumps(message, separators=(",", ":")))


class Closing(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Session:
    def __init__(
        self,
        ws: WebSocket,
        sink: FrameSink,
        who: WsPrincipal,
        hub: Hub,
        engine: Engine,
        settings: RealtimeSettings,
        secret: str,
        shard_of: ShardOf | None = None,
    ) -> None:
        self.ws = ws
        self.who = who
        self.hub = hub
        self.engine = engine
        self.settings = settings
        self.secret = secret
        # with shards: the shard (name, engine) whose log holds a topic, None for a topic that
        # spans shards (`user:`); each shard numbers its events, so a `since` is a place in the
        # log of its topic's shard, and a topic spanning shards is told to resync instead
        self.shard_of = shard_of
        self.sub = Subscriber(sink, settings.send_buffer_bytes)
        self.reason = ""
        self.expiry: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        self.hub.add(self.sub, [])
        self._authenticated()
        reader = asyncio.create_task(self._read())
        code = 1000
        try:
            waits: list[asyncio.Future[Any]] = [reader, self.sub.closed]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if self.sub.closed.done():
                code = self.sub.closed.result()
                if code == CLOSE_UNAUTHORIZED:
                    self.reason = "the token has expired"
                else:
                    self.reason = "the client cannot keep up; resume with since"
            elif not reader.cancelled() and reader.exception() is not None:
                exc = reader.exception()
                if isinstance(exc, Closing):
                    code, self.reason = exc.code, exc.reason
                elif isinstance(exc, WebSocketDisconnect):
                    code = -1
                else:
                    code, self.reason = CLOSE_SERVER_ERROR, "internal error"
        finally:
            self.hub.remove(self.sub)
            if self.expiry is not None:
                self.expiry.cancel()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        if code != -1:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code, self.reason[:120]), 2)
        self.sub.sink.abort_later(self.settings.close_grace_seconds)

    def _authenticated(self) -> None:
        """Tell the client who it is, and close the connection when that token expires."""
        self.sub.send(
            frame(
                {
                    "type": "authenticated",
                    "sub": self.who.sub,
                    "role": self.who.role,
                    "exp": int(self.who.exp),
                    "position": self.hub.position,
                }
            )
        )
        if self.expiry is not None:
            self.expiry.cancel()
        remaining = max(0.0, self.who.exp - time.time())
        self.expiry = asyncio.get_running_loop().call_later(remaining, self._expired)

    def _expired(self) -> None:
        if time.time() < self.who.exp:  # the clock moved: look again later
            self.expiry = asyncio.get_running_loop().call_later(
                self.who.exp - time.time(), self._expired
            )
            return
        self.sub.close(CLOSE_UNAUTHORIZED)

    async def _read(self) -> None:
        while True:
            raw = await self.ws.receive()
            if raw["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(raw.get("code", 1000))
            text = raw.get("text")
            try:
                msg = json.loads(text) if text is not None else None
            except ValueError:
                msg = None
            if not isinstance(msg, dict):
                self._error("bad-message", "messages are JSON objects with a type")
                continue
            kind = msg.get("type")
            if kind == "subscribe":
                await self._subscribe(msg)
            elif kind == "unsubscribe":
                topics = [t for t in msg.get("topics") or [] if isinstance(t, str)]
                self.hub.remove(self.sub, topics)
                self.sub.send(frame({"type": "unsubscribed", "topics": topics}))
            elif kind == "ping":
                self.sub.send(frame({"type": "pong", "position": self.hub.position}))
            elif kind == "auth":
                self._reauth(msg.get("token"))
            else:
                self._error("bad-message", f"unknown message type {kind!r}")

    def _error(self, code: str, detail: str) -> None:
        self.sub.send(frame({"type": "error", "code": code, "detail": detail}))

    def _reauth(self, token: object) -> None:
        """A fresh token extends the connection; it must name the same subject and role."""
        try:
            who = principal_from_token(self.secret, token)
        except AuthError as exc:
            raise Closing(CLOSE_UNAUTHORIZED, str(exc)) from exc
        if (who.sub, who.role) != (self.who.sub, self.who.role):
            raise Closing(CLOSE_UNAUTHORIZED, "a new token must be for the same subject and role")
        self.who = who
        self._authenticated()

    async def _subscribe(self, msg: dict[str, Any]) -> None:
        topics = msg.get("topics")
        since = msg.get("since")
        if not isinstance(topics, list) or not topics or not all(valid_topic(t) for t in topics):
            self._error(
                "bad-topic",
                "topics must be a non-empty list of availability:<service>:"
                "<YYYY-MM-DD>, user:<sub>, location:<id> or service:<id>",
            )
            return
        if since is not None and (
            not isinstance(since, int) or isinstance(since, bool) or since < 0
        ):
            self._error("bad-since", "since must be an event id (an integer, 0 or more)")
            return
        for topic in topics:
            if not may_subscribe(self.who.role, self.who.sub, topic, self.who.limited_to_locations):
                raise Closing(CLOSE_FORBIDDEN, f"not allowed to subscribe to {topic}")
        wanted = list(dict.fromkeys(t for t in topics if t not in self.sub.last))
        if len(self.sub.last) + len(wanted) > self.settings.max_topics:
            self._error("too-many-topics", f"at most {self.settings.max_topics} topics")
            return
        if since is None:
            for topic in wanted:
                self.sub.last[topic] = 0
            self.hub.add(self.sub, wanted)
            self.sub.send(
                frame({"type": "subscribed", "topics": wanted, "position": self.hub.position})
            )
            return
        groups: dict[str, tuple[Engine, list[str]]] = {"": (self.engine, wanted)}
        spanning: list[str] = []
        if self.shard_of is not None:
            groups = {}
            for topic in wanted:
                found = await self.shard_of(topic)
                if found is None:
                    spanning.append(topic)
                else:
                    groups.setdefault(found[0], (found[1], []))[1].append(topic)
        for shard, (_, topics) in groups.items():
            for topic in topics:
                self.sub.last[topic] = since
                self.sub.mark(topic, since, shard)
                self.sub.pending[topic] = []
        for topic in spanning:
            self.sub.last[topic] = 0
        self.hub.add(self.sub, wanted)
        self.sub.send(frame({"type": "subscribed", "topics": wanted, "since": since}))
        if spanning:
            self.sub.send(frame({"type": "resync", "topics": spanning, "horizon": since}))
        try:
            for shard, (engine, topics) in groups.items():
                await self._replay(topics, since, engine, shard)
        except Problem as exc:
            raise Closing(CLOSE_SERVER_ERROR, "the event log is unavailable") from exc
        for topic in wanted:
            await self._end_replay(topic)

    async def _end_replay(self, topic: str) -> None:
        """Send what arrived live during the topic's replay, waiting at the socket's high-water
        mark as the replay did (a burst held back by a long replay must not look like a slow
        client), then hear the topic live."""
        while (held := self.sub.pending.get(topic)) and not self.sub.closed.done():
            event_id, held_frame, shard = held.pop(0)
            self.sub.deliver(event_id, topic, held_frame, shard)
            await self.sub.sink.drain()
        self.sub.end_replay(topic)

    async def _replay(self, topics: list[str], since: int, engine: Engine, shard: str) -> None:
        """Events after `since` on these topics from the log (of this shard, with shards), in
        order; resync when too old."""
        horizon = await engine.event_retention_horizon()
        if since < horizon:
            self.sub.send(frame({"type": "resync", "topics": topics, "horizon": horizon}))
            return
        wanted = set(topics)
        after, sent = since, 0
        while not self.sub.closed.done():  # a closed connection reads no further pages
            events = await engine.read_events(after, REPLAY_PAGE, topics)
            for event in events:
                for topic in event.topics:
                    if topic in wanted and event.id > self.sub.seen(topic, shard):
                        self.sub.mark(topic, event.id, shard)
                        self.sub.send(text_frame(encode(event, topic)))
                        await self.sub.sink.drain()  # a replay may wait; live events never do
                        sent += 1
            if len(events) < REPLAY_PAGE:
                return
            after = events[-1].id
            if sent > self.settings.replay_max:
                self.sub.send(frame({"type": "resync", "topics": topics, "horizon": horizon}))
                return
