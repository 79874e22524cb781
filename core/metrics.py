"""Prometheus metric objects of the portal, written by the dispatch engine and the web layer."""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)

# With PROMETHEUS_MULTIPROC_DIR set (before this import), every process writes its values to files there and a
# scrape of any web process sums them: `portal web` and each `portal worker` report into one /metrics.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

MESSAGES = Counter("portal_messages_total", "Messages by channel and status they reached", ["channel", "status"])
BATCH_SECONDS = Histogram(
    "portal_send_batch_seconds",
    "Time to hand one send batch to its channel and record the answers",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
WEBHOOKS_REFUSED = Counter(
    "portal_webhooks_refused_total",
    "Vendor webhook calls refused because their signature or token did not verify",
    ["channel"],
)
# Read from Redis at scrape time by the scraped process only: the most recent reading is the depth.
QUEUE_DEPTH = Gauge("portal_queue_depth", "Jobs waiting in a saq queue", ["queue"], multiprocess_mode="mostrecent")
CALLBACK_BACKLOG = Gauge(
    "portal_callback_backlog",
    "Callbacks of the outbox not delivered yet: due now, or waiting for a retry",
    ["kind"],
    multiprocess_mode="mostrecent",
)
# Readings taken at scrape time that need a domain (the outbox's counts): registered at start-up by core.app, so
# the web layer that serves /metrics imports no domain.
_scrape_readings: list[Callable[[], Awaitable[None]]] = []


def register_scrape_reading(reading: Callable[[], Awaitable[None]]) -> None:
    """Add a reading made before each scrape (once, however often the runtime starts)."""
    if reading not in _scrape_readings:
        _scrape_readings.append(reading)


async def take_scrape_readings() -> None:
    for reading in _scrape_readings:
        await reading()


def count_messages(channel: str, statuses: Iterable[str]) -> None:
    """Add one batch's messages to the counter, one increment per status (not per message)."""
    for status, n in Tally(statuses).items():
        MESSAGES.labels(channel=channel, status=status).inc(n)


def process_exited() -> None:
    """Drop this process's live gauges from the shared directory (a worker stopping)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())
