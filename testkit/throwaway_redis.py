"""A redis-server a test or benchmark starts and owns: own port, nothing on disk, stopped by its
owner."""

from __future__ import annotations

import subprocess
import time

import redis


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:`port`, answering PING when this returns."""
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    try:
        for _ in range(200):
            try:
                client.ping()
                return proc
            except redis.RedisError:
                time.sleep(0.05)
    finally:
        client.close()
    proc.kill()
    proc.wait(10)
    raise RuntimeError("redis-server did not answer")
