"""Configuration from the environment, read once into a frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gateway.sharding.directory import ShardDirectory, directory_from_env

DEV_JWT_SECRET = "dev-secret-change-me-dev-secret-change-me"
ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    redis_url: str | None
    jwt_secret: str
    max_retries: int
    cache_timeout: int
    pool_min_size: int
    pool_max_size: int
    max_body_bytes: int = 64 * 1024
    rate_limit_per_second: float = 1000.0
    rate_limit_burst: int = 2000
    rate_limit_backend: str = "auto"
    # how often a process shares its rate-limit grants with the others through Redis
    rate_limit_sync_seconds: float = 0.05
    environment: str = "development"
    pool_timeout: float = 30.0
    pool_down_timeout: float = 1.0
    # browser origins allowed to call the HTTP API (CORS): exact origins, `scheme://host:*` for
    # any port, or `*`; none by default (a browser app on another origin is refused)
    cors_origins: tuple[str, ...] = ()
    # hot standbys that may serve reads (docs/OPERATIONS.md, "Read replicas"); none by default
    database_replica_urls: tuple[str, ...] = ()
    # a replica further behind the primary than this is taken out of rotation
    replica_max_lag: float = 5.0
    # how often the replica monitor asks each replica how far it has replayed
    replica_poll_seconds: float = 0.25
    # sharding by location (gateway/sharding/): None for one database, DATABASE_URL
    shards: ShardDirectory | None = None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            jwt_secret=env.get("BOOKING_JWT_SECRET") or DEV_JWT_SECRET,
            max_retries=int(env.get("MAX_RETRIES", "3")),
            cache_timeout=int(env.get("CACHE_TIMEOUT", "300")),
            pool_min_size=int(env.get("BOOKING_POOL_MIN", "2")),
            pool_max_size=int(env.get("BOOKING_POOL_MAX", "10")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(64 * 1024))),
            rate_limit_per_second=float(env.get("RATE_LIMIT_PER_SECOND", "1000")),
            rate_limit_burst=int(env.get("RATE_LIMIT_BURST", "2000")),
            rate_limit_backend=env.get("RATE_LIMIT_BACKEND", "auto"),
            rate_limit_sync_seconds=float(env.get("RATE_LIMIT_SYNC_MS", "50")) / 1000.0,
            environment=env.get("BOOKING_ENV") or "development",
            pool_timeout=float(env.get("BOOKING_POOL_TIMEOUT", "30")),
            pool_down_timeout=float(env.get("BOOKING_POOL_DOWN_TIMEOUT", "1")),
            cors_origins=tuple(
                o.strip().rstrip("/")
                for o in env.get("BOOKING_CORS_ORIGINS", "").split(",")
                if o.strip()
            ),
            database_replica_urls=tuple(
                u.strip() for u in env.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()
            ),
            replica_max_lag=float(env.get("BOOKING_REPLICA_MAX_LAG", "5")),
            replica_poll_seconds=float(env.get("BOOKING_REPLICA_POLL_SECONDS", "0.25")),
            shards=directory_from_env(env),
        )

    @property
    def uses_dev_secret(self) -> bool:
        """Tokens are signed with the development secret printed in this repository."""
        return self.jwt_secret == DEV_JWT_SECRET

    def refusal(self) -> str | None:
        """Why a gateway must not start with these settings, or None when it may."""
        if self.environment not in ENVIRONMENTS:
            return f"BOOKING_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.environment!r}"
        if self.environment == "production" and self.uses_dev_secret:
            return (
                "BOOKING_ENV=production refuses the development JWT secret:"
                " set BOOKING_JWT_SECRET to a random secret of 32 bytes or more"
            )
        return None
