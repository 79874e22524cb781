"""create_app(): the Litestar application with core's domains, plugins' routes, and its runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from redis.asyncio import Redis

from core import db
from core.accounts.controllers import (
    AccountPages,
    ApiAuth,
    ApiKeyPages,
    ApiKeysApi,
    RegistrationPages,
    SignInPages,
)
from core.accounts.guards import provide_actor
from core.admin.api import AdminApi
from core.admin.margins import MarginPages, MarginsApi
from core.admin.pages import AdminPages
from core.admin.requests import RequestInboxApi, RequestInboxPages
from core.admin.rerating import ReratingApi, ReratingPages
from core.admin.shell import ShellPages, healthz
from core.billing import purchase as pack_purchase
from core.billing.controllers import ROUTES as BILLING_ROUTES
from core.billing.finance_controllers import FinanceApi, FinancePages
from core.billing.pack_controllers import ROUTES as PACK_ROUTES
from core.billing.payment_controllers import (
    PaymentAccountsApi,
    PaymentsApi,
    PaymentWebhooks,
    TopUpPages,
    live_balance,
)
from core.billing.schemas import LEDGER_KIND_LABELS
from core.billing.services import balance_of, low_balance_of
from core.campaigns import premoderation as campaign_premoderation
from core.campaigns.api import CampaignsApi
from core.campaigns.controllers import CampaignFromFile, CampaignPages, CampaignWizard
from core.campaigns.services import start_campaign
from core.contacts.api import ContactFieldsApi, ContactsApi, GroupsApi, StopListApi
from core.contacts.controllers import (
    ContactPages,
    ExportApi,
    ExportPages,
    GroupPages,
    ImportPages,
    ImportsApi,
    StopListPages,
)
from core.dispatch import channels, liveness
from core.dispatch.api import VendorConnectionsApi
from core.dispatch.callbacks import measure_backlog
from core.dispatch.connections import enabled_connections
from core.dispatch.controllers import VendorPages
from core.dispatch.money import register_ledger_lookup
from core.dispatch.receipts import record_deliveries, record_inbound, register_inbound_listener
from core.dispatch.stand_ins import start_local_stand_ins
from core.dispatch.statuses import EDR_STATUS_LABELS
from core.dispatch.webhooks import ROUTES as WEBHOOK_ROUTES
from core.errors import PortalError
from core.mail.controllers import DevOutbox
from core.mail.request_notices import mail_decision
from core.message_templates import premoderation as template_premoderation
from core.message_templates.api import TemplatesApi
from core.message_templates.controllers import TemplatePages
from core.message_templates.reply_api import RepliesApi
from core.message_templates.reply_pages import ReplyPages
from core.message_templates.vendor_api import VendorTemplatesApi
from core.message_templates.vendor_pages import VendorTemplatePages
from core.metrics import process_exited, register_scrape_reading
from core.numbering.controllers import ROUTES as NUMBERING_ROUTES
from core.plugins import load_plugins, plugin_routes, pm
from core.portal import EngineCalls, Portal, wire_engine
from core.public_api.auto_replies import queue_answers
from core.public_api.controllers import (
    ApiMethodsPage,
    CallbackSettingsApi,
    CallbackSettingsPages,
    KeyCallbackPages,
    KeyCallbacksApi,
    SendSmsApi,
)
from core.public_api.delivery import ledgers_of as api_ledgers_of
from core.redis_embedded import EmbeddedRedis
from core.senders import requests as sender_requests
from core.senders.api import SenderRequestsApi, SendersAdminApi, SendersApi
from core.senders.controllers import SenderPages
from core.settings import Settings, load_settings
from core.shortlinks.controllers import ShortenerApi, ShortenerPages
from core.shortlinks.redirect import ROUTES as SHORT_LINK_ROUTES
from core.statistics.controllers import DashboardApi, EdrExportPages, EdrExportsApi, EdrsApi, StatisticsPages
from core.tenancy import requests as request_chain
from core.tenancy.middleware import PortalMiddleware
from core.tenancy.resolver import resolver
from core.web.api_docs import LocalSwaggerPlugin
from core.web.errors import http_error, internal_error, portal_error
from core.web.headers import security_headers
from core.web.metrics import HTTP as HTTP_METRICS
from core.web.metrics import metrics
from core.web.requests import PortalRequest
from core.web.shell import register_header_value
from core.web.templating import CORE_DIR, app_version, register_portal_lookup, register_template_global
from core.worker import SEND_QUEUE_NAME, make_queue, make_send_worker, make_worker

log = logging.getLogger(__name__)


@asynccontextmanager
async def portal_runtime(
    settings: Settings, *, run_worker: bool, db_pool: bool, stand_ins: bool = False
) -> AsyncIterator[Portal]:
    """Redis (embedded or not), the queue, optionally a worker and the local vendor stand-ins, then plugins'
    startup hooks; undone in reverse."""
    load_plugins(settings.plugins)
    wire_engine(EngineCalls(enabled_connections, record_deliveries, record_inbound))
    register_ledger_lookup(api_ledgers_of)
    register_inbound_listener(queue_answers)
    register_scrape_reading(measure_backlog)
    embedded = EmbeddedRedis(settings.var_dir) if settings.embedded_redis else None
    redis_url = embedded.url if embedded else settings.redis_url
    redis = Redis.from_url(redis_url)
    queue, send_queue = make_queue(redis_url), make_queue(redis_url, SEND_QUEUE_NAME)
    portal = Portal(settings, redis, queue, send_queue)
    if db_pool:
        await db.open_pool()
    await queue.connect()
    await send_queue.connect()
    workers = [
        make_worker(queue, concurrency=settings.worker_concurrency, context={"portal": portal}),
        make_send_worker(send_queue, concurrency=settings.send_concurrency, context={"portal": portal}),
    ]
    try:
        async with contextlib.AsyncExitStack() as stack:
            worker_tasks: list[asyncio.Task[None]] = []
            if run_worker:
                # A worker beats in Redis while it lives, so its claimed batches are known to be in good hands.
                await stack.enter_async_context(liveness.heartbeat(redis))
                if stand_ins:
                    for stand_in in await start_local_stand_ins(portal):
                        stack.push_async_callback(stand_in.stop)
                worker_tasks = [asyncio.create_task(worker.start()) for worker in workers]
            for result in pm.hook.startup(portal=portal):
                if asyncio.iscoroutine(result):
                    await result
            try:
                yield portal
            finally:
                if worker_tasks:
                    for worker, task in zip(workers, worker_tasks, strict=True):
                        await worker.stop()
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                    await channels.stop_all(portal)
    finally:
        await send_queue.disconnect()
        await queue.disconnect()
        await redis.aclose()
        if db_pool:
            await db.close_pool()
        if embedded:
            embedded.close()


def create_app(
    settings: Settings | None = None, *, run_worker: bool = True, db_pool: bool = True, stand_ins: bool = False
) -> Litestar:
    """Build the app. ``run_worker`` starts a saq worker in this process (``portal run``, tests); ``stand_ins``
    the local vendor stand-ins with it."""
    settings = settings or load_settings()
    load_plugins(settings.plugins)
    register_header_value("balance", balance_of)
    register_header_value("low_balance", low_balance_of)
    register_template_global("ledger_kinds", LEDGER_KIND_LABELS)
    register_template_global("edr_status_labels", EDR_STATUS_LABELS)
    register_portal_lookup(resolver.cached, resolver.resolve_header)
    sender_requests.register()
    pack_purchase.register()
    campaign_premoderation.register(start_campaign)
    template_premoderation.register()
    request_chain.add_decision_listener(mail_decision)

    @asynccontextmanager
    async def runtime(app: Litestar) -> AsyncIterator[None]:
        async with portal_runtime(settings, run_worker=run_worker, db_pool=db_pool, stand_ins=stand_ins) as portal:
            app.state.portal = portal
            resolver.clear()
            yield

    return Litestar(
        route_handlers=[
            SignInPages,
            RegistrationPages,
            AccountPages,
            ApiKeyPages,
            ApiKeysApi,
            ApiAuth,
            ShellPages,
            AdminPages,
            AdminApi,
            ReratingPages,
            ReratingApi,
            MarginPages,
            MarginsApi,
            RequestInboxPages,
            RequestInboxApi,
            SendersAdminApi,
            SendersApi,
            SenderRequestsApi,
            SenderPages,
            ShortenerPages,
            ShortenerApi,
            ContactsApi,
            GroupsApi,
            ContactFieldsApi,
            StopListApi,
            ContactPages,
            GroupPages,
            StopListPages,
            ImportPages,
            ImportsApi,
            ExportPages,
            CampaignPages,
            CampaignWizard,
            CampaignFromFile,
            CampaignsApi,
            TemplatePages,
            TemplatesApi,
            ReplyPages,
            RepliesApi,
            VendorTemplatesApi,
            VendorTemplatePages,
            SendSmsApi,
            ApiMethodsPage,
            KeyCallbackPages,
            KeyCallbacksApi,
            CallbackSettingsPages,
            CallbackSettingsApi,
            StatisticsPages,
            EdrsApi,
            DashboardApi,
            EdrExportsApi,
            EdrExportPages,
            ExportApi,
            VendorConnectionsApi,
            VendorPages,
            *WEBHOOK_ROUTES,
            *SHORT_LINK_ROUTES,
            *NUMBERING_ROUTES,
            *BILLING_ROUTES,
            *PACK_ROUTES,
            FinancePages,
            FinanceApi,
            TopUpPages,
            PaymentsApi,
            PaymentWebhooks,
            PaymentAccountsApi,
            live_balance,
            DevOutbox,
            healthz,
            metrics,
            create_static_files_router(
                path="/static", directories=[CORE_DIR / "web" / "static"], include_in_schema=False
            ),
            *plugin_routes(),
        ],
        dependencies={"actor": Provide(provide_actor)},
        middleware=[PortalMiddleware(), HTTP_METRICS.middleware],
        # Links and cookies are https unless configured otherwise: tell browsers to stay on https too.
        before_send=[security_headers(hsts=settings.public_scheme == "https" and not settings.dev)],
        request_class=PortalRequest,
        lifespan=[runtime],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.cookie_secure,
            cookie_httponly=False,
            exclude=["/api/", "/healthz", "/hooks/", "/payments/"],
        ),
        exception_handlers={PortalError: portal_error, HTTPException: http_error, Exception: internal_error},
        openapi_config=OpenAPIConfig(
            title="Campaign Portal API",
            version=app_version(),
            path="/schema",
            render_plugins=[LocalSwaggerPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "basic": SecurityScheme(type="http", scheme="basic"),
                }
            ),
            security=[{"bearer": []}],
        ),
    )


def create_run_app() -> Litestar:
    """``portal run``: web, worker and, in dev mode, the stand-ins of the vendor connections to this machine.

    Only here: a ``portal worker`` that started them took a real vendor's port on restart and refused our binds.
    """
    settings = load_settings()
    return create_app(settings, stand_ins=settings.dev)


def create_web_app() -> Litestar:
    """The web side only (``portal web``); workers run in their own processes."""
    return create_app(run_worker=False)


async def run_worker_forever(settings: Settings, stop: asyncio.Event) -> None:
    """A standalone worker (``portal worker``) until ``stop`` is set."""
    try:
        async with portal_runtime(settings, run_worker=True, db_pool=True):
            await stop.wait()
    finally:
        process_exited()
