"""Subscribers and fan-out. An event is encoded and framed once per topic, and the same bytes are
written to each subscriber's transport from the fan-out loop: no task or queue per subscriber.
Publishing never waits: a subscriber whose transport holds more than its bound of unsent bytes
is closed (4008) by its own connection, so it never slows the others. Per topic, a subscriber
receives ids in increasing order, each once. With shards (gateway/sharding/), each shard's log
numbers its events on its own, so the order is per shard and topic: a `user:` topic hears every
shard, each in its own order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from gateway.realtime.events import Event, encode
from gateway.realtime.wsprotocol import FrameSink, text_frame

CLOSE_TOO_SLOW = 4008


class Subscriber:
    """One websocket's subscriptions and where its frames go."""

    __slots__ = ("closed", "last", "max_buffer", "pending", "shard_last", "sink")

    def __init__(self, sink: FrameSink, max_buffer: int) -> None:
        self.sink = sink
        self.max_buffer = max(1, max_buffer)
        self.last: dict[str, int] = {}
        self.shard_last: dict[tuple[str, str], int] = {}  # (shard, topic) -> id, with shards
        self.pending: dict[str, list[tuple[int, bytes, str]]] = {}
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def seen(self, topic: str, shard: str = "") -> int:
        """The newest id sent on the topic (from that shard's log, with shards)."""
        return self.shard_last.get((shard, topic), 0) if shard else self.last.get(topic, 0)

    def mark(self, topic: str, event_id: int, shard: str = "") -> None:
        if shard:
            self.shard_last[(shard, topic)] = event_id
        else:
            self.last[topic] = event_id

    def offer(self, event_id: int, topic: str, frame: bytes, shard: str = "") -> None:
        """A live event: buffered while its topic replays, dropped when already sent. `shard`:
        the shard whose log it came from ("" with one database)."""
        buffered = self.pending.get(topic)
        if buffered is not None:
            buffered.append((event_id, frame, shard))
            return
        self.deliver(event_id, topic, frame, shard)

    def deliver(self, event_id: int, topic: str, frame: bytes, shard: str = "") -> None:
        if event_id <= self.seen(topic, shard) or self.closed.done():
            return
        self.mark(topic, event_id, shard)
        self.send(frame)

    def send(self, frame: bytes) -> None:
        """Write one frame; a transport holding more than the bound unsent is too slow."""
        if self.closed.done() or not self.sink.write(frame):
            return
        if self.sink.buffered() > self.max_buffer:
            self.close(CLOSE_TOO_SLOW)

    def close(self, code: int) -> None:
        if not self.closed.done():
            self.closed.set_result(code)

    def end_replay(self, topic: str) -> None:
        """Send what arrived live during the topic's replay, then hear it live."""
        for event_id, frame, shard in self.pending.pop(topic, []):
            self.deliver(event_id, topic, frame, shard)


class Hub:
    """Topic -> subscribers, and the one loop that fans an event out."""

    def __init__(self) -> None:
        self.topics: dict[str, set[Subscriber]] = {}
        self.subscribers: set[Subscriber] = set()
        self.position = 0

    def add(self, sub: Subscriber, topics: Iterable[str]) -> None:
        self.subscribers.add(sub)
        for topic in topics:
            self.topics.setdefault(topic, set()).add(sub)

    def remove(self, sub: Subscriber, topics: Iterable[str] | None = None) -> None:
        for topic in list(sub.last if topics is None else topics):
            subs = self.topics.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.topics[topic]
            sub.last.pop(topic, None)
            sub.pending.pop(topic, None)
            for key in [k for k in sub.shard_last if k[1] == topic]:
                del sub.shard_last[key]
        if topics is None:
            self.subscribers.discard(sub)

    def publish(self, events: Iterable[Event], shard: str = "") -> None:
        for event in events:
            for topic in event.topics:
                subs = self.topics.get(topic)
                if subs:
                    frame = text_frame(encode(event, topic))
                    event_id = event.id
                    for sub in list(subs):
                        sub.offer(event_id, topic, frame, shard)
            self.position = max(self.position, event.id)

    def broadcast(self, frame: bytes) -> None:
        for sub in list(self.subscribers):
            sub.send(frame)
