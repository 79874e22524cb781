"""Every hook of core/hookspecs.py, exercised by an external plugin registered at run time (no install)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest
from redis.asyncio import Redis
from saq.queue.redis import RedisQueue

from core import db
from core.app import create_app
from core.events import (
    CampaignStatusChanged,
    LinkClicked,
    MessageStatusChange,
    MessageStatusChanged,
    PaymentSettled,
    emit,
)
from core.hookspecs import hookimpl
from core.plugins import pm, reset_registries
from core.worker import make_worker
from tests.factories import api_token, make_world, post_form, sign_in
from tests.fake_plugin import plugin as fake


@pytest.fixture
def fake_plugin(fresh_templates) -> object:
    fake.CALLS.clear()
    pm.register(fake, "telegram")
    reset_registries()
    yield fake
    pm.unregister(name="telegram")
    reset_registries()


@pytest.fixture
async def fake_app(fake_plugin, settings) -> AsyncIterator[object]:
    """A second app built after the plugin was registered, as a restart after installing it would be."""
    app = create_app(settings, run_worker=False, db_pool=False)
    ready, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            ready.set()
            await done.wait()

    task = asyncio.create_task(hold())
    await ready.wait()
    yield app
    done.set()
    await task


def client_of(app, host):
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"https://{host}")


async def test_a_new_channel_appears_in_the_portal_without_core_changes(fake_app):
    world = await make_world()
    async with client_of(fake_app, world.owner_host) as client:
        headers = await api_token(client, "owner@main.test")
        channels = [c["name"] for c in (await client.get("/api/admin/channels", headers=headers)).json()]
        assert channels == ["sms", "telegram", "viber", "whatsapp"]
        granted = await client.patch(
            f"/api/admin/partners/{world.a.end_user_id}", headers=headers, json={"options": {"channels": ["telegram"]}}
        )
        assert granted.status_code == 200 and granted.json()["options"]["channels"] == ["telegram"]
        await sign_in(client, "owner@main.test")
        form = await client.get("/admin/partners/new")
        assert 'value="telegram"' in form.text and "Telegram" in form.text
        created = await post_form(
            client, "/admin/partners", {"name": "Bot Shop", "kind": "end_user", "options.channels": "telegram"}
        )
        assert created.status_code in (302, 303), created.text
        partner = await client.get(created.headers["location"])
        assert partner.status_code == 200 and "Telegram" in partner.text  # its channel options name the new channel


def test_hook_register_channels(fake_plugin):
    from core.plugins import registries

    channel = registries().channels.get("telegram")
    assert channel is not None and channel.label == "Telegram" and channel.capabilities.buttons
    assert registries().channels.get("sms").segments("x" * 161) == 2


def test_hook_register_payment_providers(fake_plugin):
    from core.plugins import registries

    assert registries().payment_providers.names() == ["fakepay", "stripe"]


def test_hook_register_shorteners(fake_plugin):
    from core.plugins import registries

    assert registries().shorteners.names() == ["fakeshort", "local"]


async def test_hook_register_settings(fake_app, monkeypatch):
    portal = fake_app.state.portal
    monkeypatch.setenv("PORTAL_TELEGRAM_RATE", "7")
    settings = portal.plugin_settings("telegram")
    assert settings == fake.TelegramSettings(rate=7)
    monkeypatch.setenv("PORTAL_TELEGRAM_RATE", "fast")
    with pytest.raises(msgspec.ValidationError, match="rate"):
        portal.plugin_settings("telegram")
    assert portal.plugin_settings("sms").port == 2775


async def test_hook_register_stand_ins(fake_app):
    stand_ins = fake_app.state.portal.registries.stand_ins
    assert stand_ins["sms"].__name__ == "StandInSmsc"  # the built-in SMS plugin's SMSC
    stand_in = stand_ins["telegram"]()
    port = await stand_in.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello\n")
        assert await reader.readline() == b"ok\n"
        writer.close()
        assert stand_in.connection_settings() == {"host": "127.0.0.1", "port": port}
    finally:
        await stand_in.stop()


async def test_hook_register_routes(fake_app):
    await make_world()
    async with client_of(fake_app, "main.test") as client:
        assert (await client.get("/fake/ping")).json() == {"pong": "telegram"}


async def test_hook_template_dirs(fake_app):
    world = await make_world()
    async with client_of(fake_app, world.a.host) as client:
        await sign_in(client, world.a.end_user_admin)
        page = await client.get("/fake/hello")
        assert page.status_code == 200
        assert "Hello from the fake plugin, Test." in page.text and "Brand a" in page.text  # inside the shell


async def test_hook_menu_links(fake_app):
    world = await make_world()
    async with client_of(fake_app, world.a.host) as client:
        await sign_in(client, world.a.end_user_admin)
        page = (await client.get("/")).text
        assert page.index(">Dashboard<") < page.index(">Telegram<")  # sorted by order


async def test_hook_startup(fake_app):
    assert fake.CALLS["startup"] == [fake_app.state.portal]


async def test_hook_register_piccolo_apps(fake_plugin):
    from tests.fake_plugin.tables import FakeNote

    try:
        await db.migrate()
        await FakeNote.insert(FakeNote(text="kept by the plugin's own table"))
        assert await FakeNote.select(FakeNote.text) == [{"text": "kept by the plugin's own table"}]
    finally:
        await db.engine().run_ddl("DROP TABLE IF EXISTS fake_note")
        await db.engine().run_ddl("DELETE FROM migration WHERE app_name = 'fake_plugin'")
        pm.unregister(name="telegram")
        db.refresh_app_registry()
        pm.register(fake, "telegram")


async def test_hook_register_jobs(fake_plugin, redis_url):
    # Its own queue: the session app's worker was built before the plugin and does not know this task.
    queue = RedisQueue(Redis.from_url(redis_url), name="plugin-jobs-test")
    worker = make_worker(queue, concurrency=2)
    await queue.connect()
    task = asyncio.create_task(worker.start())
    try:
        assert await queue.apply("fake_double", value=21, timeout=10) == 42
    finally:
        await worker.stop()
        task.cancel()
        await queue.disconnect()


def _events():
    now = datetime.now(UTC)
    return {
        "message_status_changed": MessageStatusChanged(
            changes=(MessageStatusChange(edr_id=1, partner_id=2, channel="sms", status="DELIVERED"),)
        ),
        "campaign_status_changed": CampaignStatusChanged(
            campaign_id=3, partner_id=2, old_status="scheduled", new_status="in_progress"
        ),
        "payment_settled": PaymentSettled(
            payment_id=4, partner_id=2, provider="stripe", amount_micros=10_000_000, currency="EUR"
        ),
        "link_clicked": LinkClicked(link_id=5, partner_id=2, campaign_id=None, clicked_at=now, os="Android"),
    }


class Broken:
    """A listener that fails: the others must still hear the event."""

    @hookimpl(tryfirst=True)
    def message_status_changed(self, event):
        raise RuntimeError("listener bug")


async def _emit_and_check(hook: str, app) -> None:
    event = _events()[hook]
    await app.state.portal.emit(event)
    received = fake.CALLS[hook][-1]
    assert (received[1] if isinstance(received, tuple) else received) == event


async def test_hook_message_status_changed(fake_app):
    pm.register(Broken(), "broken")
    try:
        await _emit_and_check("message_status_changed", fake_app)
    finally:
        pm.unregister(name="broken")


async def test_hook_campaign_status_changed(fake_app):
    await _emit_and_check("campaign_status_changed", fake_app)
    assert fake.CALLS["campaign_status_changed"][-1][0] is fake_app.state.portal


async def test_hook_payment_settled(fake_app):
    await _emit_and_check("payment_settled", fake_app)


async def test_hook_link_clicked(fake_app):
    await _emit_and_check("link_clicked", fake_app)


async def test_events_reach_listeners_in_registration_order():
    heard: list[str] = []

    def listener(name: str, **marks: bool) -> object:
        class Listener:
            @hookimpl(**marks)
            def link_clicked(self, event):
                heard.append(name)

        return Listener()

    plugins = {"zulu": {}, "alpha": {}, "last": {"trylast": True}, "mike": {}, "first": {"tryfirst": True}}
    for name, marks in plugins.items():
        pm.register(listener(name, **marks), name)
    try:
        await emit(None, _events()["link_clicked"])
    finally:
        for name in plugins:
            pm.unregister(name=name)
    assert heard == ["first", "zulu", "alpha", "mike", "last"]
