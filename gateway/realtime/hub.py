"""Subscribers and fan-out. Each subscriber has a bounded send queue; publishing never waits: a
subscriber whose queue is full is marked too slow and closed (4008) by its own connection, so it
never slows the others. Per topic, a subscriber receives ids in increasing order, each once."""

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
        self.pending: dict[str, list[tuple[int, str]]] = {}
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def offer(self, event_id: int, topic: str, message: str) -> None:
        """A live event: buffered while its topic replays, dropped when already sent."""
        buffered = self.pending.get(topic)
        if buffered is not None:
            buffered.append((event_id, message))
            return
        self.deliver(event_id, topic, message)

    def deliver(self, event_id: int, topic: str, message: str) -> None:
        if event_id <= self.last.get(topic, 0) or self.closed.done():
            return
        self.last[topic] = event_id
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
        for event_id, message in self.pending.pop(topic, []):
            self.deliver(event_id, topic, message)


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
        if topics is None:
            self.subscribers.discard(sub)

    def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            for topic in event.topics:
                subs = self.topics.get(topic)
                if subs:
                    message = encode(event, topic)
                    for sub in list(subs):
                        sub.offer(event.id, topic, message)
            self.position = max(self.position, event.id)

    def broadcast(self, message: str) -> None:
        for sub in list(self.subscribers):
            sub.send(message)
