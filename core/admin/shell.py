"""Shell routes: the dashboard, the language picker, the health probe and theme files."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Awaitable
from pathlib import Path

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect

from core.accounts.controllers import safe_next
from core.accounts.guards import current_actor, request_portal
from core.accounts.services import set_language
from core.actor import Actor
from core.db import engine
from core.dispatch.statuses import EDR_STATUS_LABELS
from core.errors import InvalidInput
from core.plugins import registries
from core.portal import Portal
from core.statistics.dashboard import OTHER_SENDERS, PERIODS, Period, dashboard
from core.web.i18n import LANGUAGE_COOKIE, N_
from core.web.params import QueryId
from core.web.shell import page
from core.web.themes import TENANTS_DIR, available_themes
from core.worker import worker_count

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


class ShellPages(Controller):
    include_in_schema = False

    @get("/")
    async def dashboard(
        self, request: Request, actor: NamedDependency[Actor], period: FromQuery[Period] = "7d", client: QueryId = None
    ) -> Response:
        numbers = await dashboard(actor, period, client)
        return await page(
            request,
            actor,
            "dashboard.html",
            {
                "d": numbers,
                "periods": PERIODS,
                "status_labels": EDR_STATUS_LABELS,
                "other_senders": OTHER_SENDERS,
                "channels": {c.name: c.label for c in registries().channels},
            },
        )

    @post("/language")
    async def choose_language(self, request: Request) -> Response:
        """The picker (X-1): remember the language in a cookie and, when someone is signed in, on the user."""
        form = await request.form()
        language = str(form.get("language", ""))
        if language not in request_portal(request).languages:
            raise InvalidInput(N_("This language is not offered here"), field="language")
        actor = await current_actor(request)
        if actor is not None:
            await set_language(actor, language)
        portal: Portal = request.app.state.portal
        cookie = Cookie(
            key=LANGUAGE_COOKIE,
            value=language,
            max_age=LANGUAGE_COOKIE_SECONDS,
            httponly=True,
            secure=portal.settings.cookie_secure,
            samesite="lax",
            path="/",
        )
        return Redirect(safe_next(form.get("next")), cookies=[cookie])

    @get("/theme/{slug:str}/{file_path:path}", opt={"exclude_from_csrf": True})
    async def theme_file(self, slug: FromPath[str], file_path: FromPath[str]) -> File:
        """A theme's static file (logo, CSS); only files inside tenants/<slug>/static are served."""
        if slug not in available_themes():
            raise NotFoundException()
        root = (TENANTS_DIR / slug / "static").resolve()
        target = (root / file_path.lstrip("/")).resolve()
        if not target.is_file() or root not in target.parents:
            raise NotFoundException()
        media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return File(path=Path(target), media_type=media_type, content_disposition_type="inline")


PROBE_SECONDS = 2.0


async def _probe(check: Awaitable[object]) -> tuple[bool, str]:
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            result = await check
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:200]
    return True, str(result)


@get("/healthz", include_in_schema=True, tags=["Operations"], summary="State of database, Redis and workers")
async def healthz(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    db_ok, db_detail = await _probe(engine().run_ddl("SELECT 1"))
    redis_ok, redis_detail = await _probe(portal.redis.ping())
    workers_ok, workers = await _probe(worker_count(portal.queue))
    workers_ok = workers_ok and workers.isdigit() and int(workers) > 0
    body = {
        "status": "ok" if db_ok and redis_ok and workers_ok else "unavailable",
        "database": {"ok": db_ok, "engine": type(engine()).__name__, **({} if db_ok else {"error": db_detail})},
        "redis": {"ok": redis_ok, **({} if redis_ok else {"error": redis_detail})},
        "worker": {"ok": workers_ok, "workers": int(workers) if workers.isdigit() else 0},
    }
    return Response(body, status_code=200 if body["status"] == "ok" else 503, media_type=MediaType.JSON)
