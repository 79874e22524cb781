"""Hook implementations of the URL shortener plugin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from saq import CronJob

from core import CampaignStatusChanged, Portal, Shortener, hookimpl
from plugins.shortener import archive
from plugins.shortener.provider import LocalShortener
from plugins.shortener.schemas import ShortenerSettings

SHORTENER = LocalShortener()  # one per process: its memory cache serves every redirect


@hookimpl
def register_shorteners(register: Callable[[Shortener], None]) -> None:
    register(SHORTENER)


@hookimpl
def register_settings(register: Callable[[str, type[msgspec.Struct]], None]) -> None:
    register("shortener", ShortenerSettings)


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.shortener.piccolo_app"]


@hookimpl
def startup(portal: Portal) -> None:
    settings = portal.plugin_settings("shortener")
    assert isinstance(settings, ShortenerSettings)
    SHORTENER.settings = settings
    SHORTENER.redis = portal.redis


@hookimpl
async def campaign_status_changed(portal: Portal, event: CampaignStatusChanged) -> None:
    if event.new_status in archive.FINISHED:
        await archive.schedule_inactive(SHORTENER, event.campaign_id)


async def purge_archived_links(ctx: dict[str, Any]) -> str:
    """Daily: delete the links archived for longer than the archive keeps them, with their clicks."""
    return f"{await archive.purge(SHORTENER.settings)} archived short links deleted"


@hookimpl
def register_jobs() -> Sequence[Any]:
    return [CronJob(purge_archived_links, cron="23 3 * * *", unique=True, timeout=600)]
