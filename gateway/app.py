"""The Starlette application: routes (and the OpenAPI document) from the route specs, middleware,
problem+json errors, and the lifespan that opens the connection pool and Redis."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from gateway.config import Settings
from gateway.http.metrics import Metrics
from gateway.http.middleware import middleware_stack
from gateway.http.openapi import build_document
from gateway.http.problems import INTERNAL, Problem, method_not_allowed, not_found
from gateway.http.ratelimit import RateLimiter
from gateway.http.spec import RouteSpec, SpecRoute
from gateway.jobs.maintenance import Maintenance
from gateway.jobs.replicas import ReplicaMonitor
from gateway.jobs.webhooks import WebhookWorker
from gateway.realtime.endpoint import websocket_route
from gateway.realtime.service import Realtime
from gateway.routes import availability as routes_availability
from gateway.routes import bookings as routes_bookings
from gateway.routes import cache as routes_cache
from gateway.routes import conflicts as routes_conflicts
from gateway.routes import feeds as routes_feeds
from gateway.routes import holds as routes_holds
from gateway.routes import locations as routes_locations
from gateway.routes import locks as routes_locks
from gateway.routes import ops as routes_ops
from gateway.routes import resources as routes_resources
from gateway.routes import schedule as routes_schedule
from gateway.routes import schedule_exceptions as routes_schedule_exceptions
from gateway.routes import services as routes_services
from gateway.routes import waitlist as routes_waitlist
from gateway.routes import webhooks as routes_webhooks
from gateway.services.availability import refresh_ahead
from gateway.services.cache import AvailabilityCache
from gateway.services.db import Database, Reachability, make_pool
from gateway.services.engine import Engine
from gateway.services.redisconn import OptionalRedis
from gateway.services.replicas import ReadRouter, make_replica
from gateway.services.webhook_store import WebhookStore
from gateway.services.webhook_targets import WebhookSettings
from gateway.sharding.pools import close_shards, open_shards
from gateway.sharding.router import Router, Shard
from gateway.state import Gateway
from gateway.web import pages as web_pages
from gateway.web.routes import browser_routes, route_templates

log = logging.getLogger(__name__)

# Every HTTP operation, in the order the OpenAPI document lists them. The Starlette routes and the
# document are both made from this list (gateway/http/spec.py).
SPECS: list[RouteSpec] = [
    *routes_ops.SPECS,
    *web_pages.SPECS,
    *routes_availability.SPECS,
    *routes_holds.SPECS,
    *routes_bookings.SPECS,
    *routes_waitlist.SPECS,
    *routes_schedule.SPECS,
    *routes_locks.SPECS,
    *routes_conflicts.SPECS,
    *routes_cache.SPECS,
    *routes_locations.SPECS,
    *routes_services.SPECS,
    *routes_resources.SPECS,
    *routes_schedule_exceptions.SPECS,
    *routes_feeds.SPECS,
    *routes_webhooks.SPECS,
]
OPENAPI_DOCUMENT = build_document(SPECS)
ROUTES: list[SpecRoute] = [SpecRoute(spec, OPENAPI_DOCUMENT) for spec in SPECS]
ROUTE_TEMPLATES: dict[Any, str] = {r.endpoint: r.path for r in ROUTES}


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (RFC 9110 §15.5.6: Allow lists them all). The
    router answers 405 from the first route matching the path only, and one path may be served by
    several routes (POST and GET /v1/bookings)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return not_found(f"no route for {request.url.path}").response()
    if exc.status_code == 405:
        return method_not_allowed(allowed_methods(request)).response()
    return Problem(exc.status_code, "http-error", exc.detail or "HTTP error").response()


async def on_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Problem.of(INTERNAL, "an unexpected error occurred; it has been logged").response()


def create_app(settings: Settings | None = None) -> Starlette:
    cfg = settings or Settings.from_env()
    if not cfg.database_url:
        raise RuntimeError("DATABASE_URL is not set; run `booking serve` to start one")
    if (refusal := cfg.refusal()) is not None:
        raise RuntimeError(refusal)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reachability = Reachability()
        pool = make_pool(cfg, reachability)
        await pool.open(wait=True)
        redis = OptionalRedis(cfg.redis_url)
        router = None
        if cfg.database_replica_urls:
            router = ReadRouter([make_replica(u, cfg) for u in cfg.database_replica_urls])
            for replica in router.replicas:
                await replica.pool.open(wait=False)  # a replica down at start is no reason to stop
        db = Database(pool, cfg.max_retries, reachability, cfg.pool_down_timeout, router)
        engine = Engine(db)
        metrics = Metrics()
        metrics.watch_pool(pool.get_stats)
        monitor = None
        if router is not None:
            metrics.watch_replicas(router)
            monitor = ReplicaMonitor(router, db, cfg.replica_poll_seconds, cfg.replica_max_lag)
            app.state.replica_monitor = monitor
        shards = await open_shards(cfg, Shard("home", db, engine))
        app.state.pool = pool
        app.state.settings = cfg
        app.state.gateway = Gateway(
            settings=cfg,
            db=db,
            engine=engine,
            redis=redis,
            cache=AvailabilityCache(redis, cfg.cache_timeout),
            limiter=RateLimiter(
                redis,
                cfg.rate_limit_per_second,
                cfg.rate_limit_burst,
                use_redis=cfg.rate_limit_backend != "local",
                sync_interval=cfg.rate_limit_sync_seconds,
            ),
            metrics=metrics,
            router=Router(shards, cfg.shards, metrics.shard_calls),
        )
        realtime = Realtime(
            cfg.database_url or "",
            app.state.gateway.engine,
            app.state.gateway.cache,
            cfg.jwt_secret,
            app.state,
            versions=app.state.gateway.versions,
            refresh=lambda days: refresh_ahead(app.state.gateway, days),
            shards=None if cfg.shards is None else list(cfg.shards.shards.items()),
            shard_of=None if cfg.shards is None else app.state.gateway.router.topic_shard,
        )
        app.state.realtime = realtime
        # every database's expired holds, locks and keys are cleaned up on that database: each
        # shard's, and the home database's when it is not a shard
        home = [] if any(s.db is db for s in shards) else [Shard("home", db, engine)]
        maintenances = [
            Maintenance(
                s.engine,
                realtime.settings.maintenance_seconds,
                realtime.settings.event_retention_seconds,
            )
            for s in [*home, *shards]
        ]
        app.state.maintenance = maintenances[0]
        hooks = WebhookSettings.from_env()
        # every shard's events reach its own locations' endpoints, each under its own lease
        workers = [WebhookWorker(s.engine, WebhookStore(s.db), hooks) for s in shards]
        app.state.webhooks = workers[0]
        await realtime.start()
        app.state.gateway.limiter.start()
        if realtime.settings.maintenance_seconds > 0:
            for maintenance in maintenances:
                maintenance.start()
        if hooks.poll_seconds > 0:
            for worker in workers:
                worker.start()
        if monitor is not None:
            monitor.start()
        try:
            yield
        finally:
            await app.state.gateway.limiter.stop()
            if monitor is not None:
                await monitor.stop()
            for worker in workers:
                await worker.stop()
            for maintenance in maintenances:
                await maintenance.stop()
            await realtime.stop()
            await redis.close()
            for replica in router.replicas if router is not None else []:
                await replica.pool.close()
            await close_shards(shards, pool)
            await pool.close()

    browser = browser_routes(cfg)  # static files; the demo's tokens with the development secret
    templates = ROUTE_TEMPLATES | route_templates(browser)
    return Starlette(
        routes=[*ROUTES, websocket_route(), *browser],
        middleware=middleware_stack(lambda: templates, cfg.cors_origins),
        exception_handlers={
            Problem: on_problem,
            HTTPException: on_http_exception,
            Exception: on_error,
        },
        lifespan=lifespan,
    )
