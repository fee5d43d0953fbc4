"""Prometheus metrics of one gateway process, in a registry of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gateway.services.replicas import ReadRouter

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class _PoolCollector(Collector):
    def __init__(self, stats: Callable[[], dict[str, int]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self._stats()
        for name in ("pool_size", "pool_available", "requests_waiting", "pool_max"):
            if name in stats:
                g = GaugeMetricFamily(f"booking_db_{name}", f"psycopg pool statistic {name}")
                g.add_metric([], float(stats[name]))
                yield g


class _ReplicaCollector(Collector):
    """Each replica's state as the monitor last saw it, and where read-only statements went."""

    def __init__(self, router: ReadRouter) -> None:
        self._router = router

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        lag = GaugeMetricFamily(
            "booking_replica_lag_seconds",
            "How far a replica's replay is behind the primary, in seconds (absent: unreachable)",
            labels=["replica"],
        )
        lag_bytes = GaugeMetricFamily(
            "booking_replica_lag_bytes",
            "WAL bytes the replica has not yet replayed, at the monitor's last poll",
            labels=["replica"],
        )
        rotation = GaugeMetricFamily(
            "booking_replica_in_rotation",
            "1 while the replica serves reads, 0 while it is out of rotation",
            labels=["replica"],
        )
        for r in self._router.replicas:
            if r.lag_seconds is not None:
                lag.add_metric([r.name], r.lag_seconds)
            if r.lag_bytes is not None:
                lag_bytes.add_metric([r.name], float(r.lag_bytes))
            rotation.add_metric([r.name], 1.0 if r.in_rotation else 0.0)
        reads = CounterMetricFamily(
            "booking_replica_reads",
            "Read-only statements offered to replicas, by outcome (replica: served there; any"
            " other outcome was then served by the primary)",
            labels=["outcome"],
        )
        for outcome, n in sorted(self._router.reads.items()):
            reads.add_metric([outcome], float(n))
        yield from (lag, lag_bytes, rotation, reads)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "booking_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.holds = Counter(
            "booking_holds_total", "Hold attempts by outcome", ["outcome"], registry=self.registry
        )
        self.bookings = Counter(
            "booking_bookings_total",
            "Booking attempts (direct and converted) by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.conflicts = Counter(
            "booking_conflicts_total",
            "Conflicts answered, by type",
            ["type"],
            registry=self.registry,
        )
        self.cache = Counter(
            "booking_cache_requests_total",
            "Availability cache lookups by result (hit layer or miss)",
            ["result"],
            registry=self.registry,
        )
        self.versions = Counter(
            "booking_availability_versions_total",
            "Where availability versions came from: the listener's map (no SQL) or the database",
            ["source"],
            registry=self.registry,
        )
        self.refreshes = Counter(
            "booking_cache_refreshes_total",
            "Availability days read from the database ahead of readers, after events outdated them",
            registry=self.registry,
        )
        self.shard_calls = Counter(
            "booking_shard_calls_total",
            "Calls the shard router sent, by shard and purpose (routed: by the location;"
            " locate: finding an id's location; fanout: a read of every shard; unknown: an id"
            " no shard knows)",
            ["shard", "purpose"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "booking_rate_limited_total", "Requests answered 429", registry=self.registry
        )

    def watch_pool(self, stats: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_PoolCollector(stats))

    def watch_replicas(self, router: ReadRouter) -> None:
        self.registry.register(_ReplicaCollector(router))

    def outcome(self, counter: Counter, result: Mapping[str, Any]) -> None:
        if result.get("success"):
            counter.labels("success").inc()
        else:
            ctype = str(result.get("conflict_type") or "UNKNOWN")
            counter.labels("conflict").inc()
            self.conflicts.labels(ctype).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
