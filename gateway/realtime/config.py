"""Realtime settings from the environment, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_ORIGINS = "http://localhost:*,http://127.0.0.1:*"


@dataclass(frozen=True, slots=True)
class RealtimeSettings:
    origins: tuple[str, ...]
    heartbeat_seconds: float
    send_buffer_bytes: int
    auth_timeout_seconds: float
    replay_max: int
    poll_seconds: float
    followup_seconds: float
    batch: int
    listener_app_name: str
    maintenance_seconds: float
    event_retention_seconds: int | None
    max_topics: int
    close_grace_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> RealtimeSettings:
        env = os.environ
        retention = env.get("BOOKING_EVENT_RETENTION_SECONDS")
        return cls(
            origins=tuple(
                o.strip()
                for o in env.get("BOOKING_WS_ORIGINS", DEFAULT_ORIGINS).split(",")
                if o.strip()
            ),
            heartbeat_seconds=float(env.get("BOOKING_WS_HEARTBEAT_SECONDS", "25")),
            send_buffer_bytes=int(env.get("BOOKING_WS_SEND_BUFFER", str(256 * 1024))),
            auth_timeout_seconds=float(env.get("BOOKING_WS_AUTH_TIMEOUT_SECONDS", "10")),
            replay_max=int(env.get("BOOKING_WS_REPLAY_MAX", "10000")),
            poll_seconds=float(env.get("BOOKING_LISTENER_POLL_SECONDS", "0.25")),
            followup_seconds=float(env.get("BOOKING_LISTENER_FOLLOWUP_SECONDS", "0.005")),
            batch=int(env.get("BOOKING_LISTENER_BATCH", "1000")),
            listener_app_name=env.get("BOOKING_LISTENER_APP_NAME", "booking-listener"),
            maintenance_seconds=float(env.get("BOOKING_MAINTENANCE_SECONDS", "5")),
            event_retention_seconds=int(retention) if retention else None,
            max_topics=int(env.get("BOOKING_WS_MAX_TOPICS", "200")),
            close_grace_seconds=float(env.get("BOOKING_WS_CLOSE_GRACE_SECONDS", "10")),
        )
