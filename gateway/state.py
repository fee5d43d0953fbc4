"""What one gateway process holds: settings, pool-backed engine (and the shard router), cache,
limiter, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from gateway.config import Settings
from gateway.http.metrics import Metrics
from gateway.http.ratelimit import RateLimiter
from gateway.realtime.versions import VersionMap
from gateway.services.cache import AvailabilityCache
from gateway.services.db import Database
from gateway.services.engine import Engine
from gateway.services.redisconn import OptionalRedis
from gateway.sharding.router import Router


@dataclass(frozen=True, slots=True)
class Gateway:
    settings: Settings
    db: Database
    engine: Engine
    redis: OptionalRedis
    cache: AvailabilityCache
    limiter: RateLimiter
    metrics: Metrics
    router: Router  # which shard's engine serves a request (just `engine` with one database)
    versions: VersionMap = field(default_factory=VersionMap)  # fed by the realtime listener


def gateway(request: Request) -> Gateway:
    g: Gateway = request.app.state.gateway
    return g
