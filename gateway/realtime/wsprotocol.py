"""uvicorn's websocket protocol (websockets' sans-I/O implementation) with one addition: a sink
the fan-out writes whole, prebuilt frames to.

Through ASGI, every message to every subscriber is a `websocket.send` awaited by a task of its
own, framed again for each connection. An event on a topic with a thousand subscribers is the
same bytes a thousand times, so the relay encodes and frames it once (`text_frame`) and writes
those bytes to each subscriber's transport from the fan-out loop: no task, no queue, no copy per
subscriber. The sink is offered to the app as the ASGI scope extension `booking.frames`.

Frames are written only while the connection is open and no close frame has been sent; each is
written in one `transport.write`, so it never interleaves with the protocol's own frames (pongs,
pings, close), which are whole writes too. Per-message compression is turned off in
`booking serve` (it cost two zlib contexts, about half of an idle connection's memory, for event
messages of a few hundred bytes), so frames are never compressed; RFC 7692 allows an
uncompressed message on a connection that negotiated it anyway.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

EXTENSION = "booking.frames"


def text_frame(text: str) -> bytes:
    """One unmasked, final text frame (a server's), ready to write to any connection."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class FrameSink:
    """Where a subscriber's frames go: the connection's transport."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: FanoutWebSocketProtocol) -> None:
        self.protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write one frame now; False when the connection is no longer open for messages."""
        p = self.protocol
        if p.close_sent or p.disconnected or p.conn.state is not State.OPEN:
            return False
        p.transport.write(frame)
        return True

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self.protocol.transport.get_write_buffer_size()

    async def drain(self) -> None:
        """Wait until the transport is below its high-water mark (used by replays, which may
        wait; live fan-out never does)."""
        await self.protocol.writable.wait()

    def abort_later(self, seconds: float) -> None:
        """Drop the connection in `seconds` if it still holds unsent bytes then: a client that
        stopped reading would otherwise keep them (and its close frame) for as long as TCP
        lets it."""

        def abort() -> None:
            transport = self.protocol.transport
            if transport.get_write_buffer_size() > 0:
                transport.abort()

        asyncio.get_running_loop().call_later(seconds, abort)


class FanoutWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)
        if scope is not None:  # the handshake was accepted (not answered with an error)
            scope["extensions"][EXTENSION] = FrameSink(self)

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # the handshake is answered: its request and response (their headers, a few KiB
            # per connection for as long as it lives) are read only before it is complete
            del self.request, self.response


def sink_of(scope: Any) -> FrameSink | None:
    sink: FrameSink | None = (scope.get("extensions") or {}).get(EXTENSION)
    return sink
