"""GET /metrics: the Prometheus exposition, answered to loopback clients or with the metrics token only."""

from __future__ import annotations

import hmac
import ipaddress

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from core.errors import NotFound
from core.metrics import MULTIPROCESS, QUEUE_DEPTH, take_scrape_readings
from core.portal import Portal

# Request count and latency by route template (group_path), not by raw path: ids would explode the label set.
HTTP = PrometheusConfig(app_name="portal", prefix="portal", group_path=True, exclude=["/metrics", "/static/"])


def _allowed(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


@get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    if not _allowed(request, portal.settings.metrics_token):
        # Not there for anyone else: the same answer as any unknown path.
        raise NotFound("Page")
    for queue in (portal.queue, portal.send_queue):
        QUEUE_DEPTH.labels(queue=queue.name).set(await queue.count("queued"))
    await take_scrape_readings()
    registry = REGISTRY
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
