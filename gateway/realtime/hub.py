"""Subscribers and fan-out. Each subscriber has a bounded send queue; publishing never waits: a
subscriber whose queue is full is marked too slow and closed (4008) by its own connection, so it
never slows the others. Per topic, a subscriber receives ids in increasing order, each once.
With shards (gateway/sharding/), each shard's log numbers its events on its own, so the order is
per shard and topic: a `user:` topic hears every shard, each in its own order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from gateway.realtime.events import Event, encode

CLOSE_TOO_SLOW = 4008


class Subscriber:
    """One websocket's subscriptions and its outgoing queue of encoded messages."""

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=max(1, queue_size))
        self.last: dict[str, int] = {}
        self.shard_last: dict[tuple[str, str], int] = {}  # (shard, topic) -> id, with shards
        self.pending: dict[str, list[tuple[int, str, str]]] = {}
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def seen(self, topic: str, shard: str = "") -> int:
        """The newest id sent on the topic (from that shard's log, with shards)."""
        return self.shard_last.get((shard, topic), 0) if shard else self.last.get(topic, 0)

    def mark(self, topic: str, event_id: int, shard: str = "") -> None:
        if shard:
            self.shard_last[(shard, topic)] = event_id
        else:
            self.last[topic] = event_id

    def offer(self, event_id: int, topic: str, message: str, shard: str = "") -> None:
        """A live event: buffered while its topic replays, dropped when already sent. `shard`:
        the shard whose log it came from ("" with one database)."""
        buffered = self.pending.get(topic)
        if buffered is not None:
            buffered.append((event_id, message, shard))
            return
        self.deliver(event_id, topic, message, shard)

    def deliver(self, event_id: int, topic: str, message: str, shard: str = "") -> None:
        if event_id <= self.seen(topic, shard) or self.closed.done():
            return
        self.mark(topic, event_id, shard)
        self.send(message)

    def send(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW)

    def close(self, code: int) -> None:
        if not self.closed.done():
            self.closed.set_result(code)

    def end_replay(self, topic: str) -> None:
        """Send what arrived live during the topic's replay, then hear it live."""
        for event_id, message, shard in self.pending.pop(topic, []):
            self.deliver(event_id, topic, message, shard)


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
                    message = encode(event, topic)
                    for sub in list(subs):
                        sub.offer(event.id, topic, message, shard)
            self.position = max(self.position, event.id)

    def broadcast(self, message: str) -> None:
        for sub in list(self.subscribers):
            sub.send(message)
