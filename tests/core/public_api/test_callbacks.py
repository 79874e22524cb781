"""Delivery callbacks (API-3): written with the status change, posted signed to a real local receiver, retried,
never lost when a worker dies mid-delivery, refused for internal addresses, and shown per key."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.accounts.api_keys import CallbackUrlIn, set_callback_url
from core.accounts.callback_urls import check_callback_url, refused_address
from core.accounts.tables import ApiKey
from core.db import is_sqlite, write_transaction
from core.dispatch import callbacks, submission
from core.dispatch.receipts import Outcome, apply_outcomes
from core.dispatch.sweeper import EXPIRED
from core.dispatch.tables import CallbackOutbox, Edr
from core.errors import InvalidInput
from core.portal import Portal
from core.public_api import checks, delivery, services
from core.public_api.schemas import SendSmsIn
from core.public_api.tables import ApiRequest
from core.rawsql import RawSql
from tests.core.public_api.conftest import api_edrs, bearer, wait_for_edrs
from tests.core.public_api.test_delivery import HeldQueue, _ignore
from tests.factories import api_token, post_form, sign_in

ROOT = Path(__file__).resolve().parents[3]
BODY = {"channels": "SMS", "from": "BrandA", "to": "34612345001", "message": "Hello", "clientRef": "order-42"}


@dataclass
class Receiver:
    """A raw HTTP/1.1 server on loopback that records each POST and answers the next queued status (200 after)."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: asyncio.Server | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    connections: int = 0

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/status"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        try:
            while True:  # keep-alive: the pooled client reuses the connection
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append((headers, body))
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
        finally:
            self.writers.discard(writer)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    made.server = await asyncio.start_server(made._serve, "127.0.0.1", 0)
    yield made
    made.server.close()
    # The workers' pooled clients keep connections open: close them, so no handler outlives the test.
    for writer in list(made.writers):
        writer.close()
    await made.server.wait_closed()


def documented_verify() -> Any:
    """The Python recipe of docs/api.md, run as written."""
    text = (ROOT / "docs" / "api.md").read_text()
    code = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", text, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 — our own documentation's sample
    return namespace["verify"]


async def outbox() -> list[dict[str, Any]]:
    return await CallbackOutbox.select().order_by(CallbackOutbox.id)


async def deliver_until(portal: Portal, condition: Any, limit_s: float = 15.0) -> None:
    """Run deliveries (the session's worker may run them too) until ``condition()`` holds on the outbox rows."""
    client = callbacks.make_client(allow_private=True)
    try:
        async with asyncio.timeout(limit_s):
            while not condition(await outbox()):
                await callbacks.deliver_due(client)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"outbox: {await outbox()}") from None
    finally:
        await client.aclose()


async def with_url(key_id: int, url: str) -> None:
    await ApiKey.update({ApiKey.callback_url: url}).where(ApiKey.id == key_id)


async def test_a_delivery_report_reaches_the_url_signed_in_the_guides_format(app, client_for, sms, receiver):
    await with_url(sms.tenant.api_key_id, receiver.url)
    secret = (await ApiKey.select(ApiKey.callback_secret).where(ApiKey.id == sms.tenant.api_key_id).first())[
        "callback_secret"
    ]
    client = client_for(sms.tenant.host)
    sent = await client.post("/api/send_sms", json=BODY, headers=bearer(sms.tenant.api_key))
    transaction = sent.json()["results"][0].split(":", 1)[1]
    await wait_for_edrs({"DELIVERED"}, 1)
    await deliver_until(app.state.portal, lambda rows: len(rows) == 2 and {r["state"] for r in rows} == {"delivered"})
    assert len(receiver.received) == 2
    by_status = {msgspec.json.decode(body)["status"]: (headers, body) for headers, body in receiver.received}
    assert set(by_status) == {"SENT", "DELIVERED"}  # the vendor took it, then its report came
    for headers, body in by_status.values():
        assert documented_verify()(secret, headers["x-timestamp"], body, headers["x-signature"])
        assert not documented_verify()(secret, headers["x-timestamp"], body + b" ", headers["x-signature"])
    data = msgspec.json.decode(by_status["DELIVERED"][1])
    assert data == {
        "transactionID": transaction,
        "dnis": "34612345001",
        "status": "DELIVERED",
        "eventTime": data["eventTime"],
        "channel": "SMS",
        "clientRef": "order-42",
    }
    assert msgspec.json.decode(by_status["SENT"][1])["transactionID"] == transaction
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", data["eventTime"])
    assert headers["content-type"] == "application/json"
    # The key's history shows it, through the REST API and on the page.
    token = await api_token(client, sms.tenant.end_user_admin)
    listed = (await client.get(f"/api/keys/{sms.tenant.api_key_id}/callbacks", headers=token)).json()
    assert listed["total"] == 2
    item = next(item for item in listed["items"] if item["event"] == "DELIVERED")
    assert (item["state"], item["attempts"], item["last_status"], item["event"]) == ("delivered", 1, 200, "DELIVERED")
    await sign_in(client, sms.tenant.end_user_admin)
    page = await client.get(f"/api-keys/{sms.tenant.api_key_id}/callbacks")
    assert page.status_code == 200 and transaction in page.text and "Delivered" in page.text


async def test_the_api_methods_page_shows_the_documented_recipes(client_for, sms):
    client = client_for(sms.tenant.host)
    await sign_in(client, sms.tenant.end_user_admin)
    page = html.unescape((await client.get("/api-methods")).text)
    text = (ROOT / "docs" / "api.md").read_text()
    for language in ("python", "javascript"):
        recipe = re.search(rf"```{language}\n(.*?)```", text[text.index("#### Delivery callbacks") :], re.S)
        assert recipe is not None and recipe.group(1).strip() in page


@pytest.mark.skipif(shutil.which("node") is None, reason="node missing")
def test_the_documented_javascript_recipe_verifies_a_signature():
    text = (ROOT / "docs" / "api.md").read_text()
    code = re.search(r"```javascript\n(const crypto.*?)```", text, re.S)
    assert code is not None
    stamp, body = "1764930000", b'{"status":"DELIVERED"}'
    signature = callbacks.sign("cbs_secret", stamp, body)
    script = code.group(1) + (
        f"\nconst ok = verify('cbs_secret', '{stamp}', Buffer.from('{body.decode()}'), '{signature}', 1e12);"
        f"\nconst bad = verify('other', '{stamp}', Buffer.from('{body.decode()}'), '{signature}', 1e12);"
        "\nprocess.stdout.write(JSON.stringify([ok, bad]));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=20, check=True)
    assert out.stdout == "[true,false]"


async def test_a_failing_receiver_gets_the_callback_again_and_a_day_later_it_gives_up(app, client_for, sms, receiver):
    portal: Portal = app.state.portal
    receiver.statuses = [500, 500]  # the SENT and the DELIVERED callbacks both fail their first call
    await with_url(sms.tenant.api_key_id, receiver.url)
    client = client_for(sms.tenant.host)
    await client.post("/api/send_sms", json=BODY, headers=bearer(sms.tenant.api_key))
    await wait_for_edrs({"DELIVERED"}, 1)
    await deliver_until(
        portal, lambda rows: len(rows) == 2 and all(r["attempts"] == 1 and r["last_status"] == 500 for r in rows)
    )
    for row in await outbox():
        assert row["state"] == "pending" and row["last_error"] == "HTTP 500"
        assert row["next_attempt_at"] > datetime.now(UTC) + timedelta(seconds=5)  # backed off, not hammered
    await CallbackOutbox.update({CallbackOutbox.next_attempt_at: datetime.now(UTC)}).where(CallbackOutbox.id > 0)
    await deliver_until(portal, lambda rows: all(r["state"] == "delivered" for r in rows))
    for row in await outbox():
        assert row["attempts"] == 2 and row["last_status"] == 200
    bodies = [body for _, body in receiver.received]
    assert len(bodies) == 4 and sorted(bodies[:2]) == sorted(bodies[2:])  # the same bodies, signed again
    assert [callbacks.retry_delay(n) for n in (1, 2, 3, 20)] == [10, 20, 40, callbacks.MAX_RETRY_S]
    # A callback nobody acknowledges for a day is given up.
    receiver.statuses = [503, 503]
    await CallbackOutbox.update(
        {
            CallbackOutbox.state: "pending",
            CallbackOutbox.next_attempt_at: datetime.now(UTC),
            CallbackOutbox.created_at: datetime.now(UTC) - timedelta(hours=24),
        }
    ).where(CallbackOutbox.id > 0)
    await deliver_until(portal, lambda rows: all(r["state"] == "expired" for r in rows))
    assert {r["last_error"] for r in await outbox()} == {"HTTP 503"}


async def test_a_worker_that_dies_mid_delivery_loses_nothing(app, client_for, sms, receiver):
    """A claim taken by a worker that then died is posted once its lease has passed, and not before."""
    portal: Portal = app.state.portal
    client = client_for(sms.tenant.host)
    await client.post("/api/send_sms", json=BODY, headers=bearer(sms.tenant.api_key))
    edr = (await wait_for_edrs({"DELIVERED"}, 1))[0]
    assert await outbox() == []  # the key had no URL: no callback
    await with_url(sms.tenant.api_key_id, receiver.url)
    await Edr.update({Edr.status: "SENT"}).where(Edr.id == edr["id"])
    # The message expires (the sweeper's own path) and, in the same transaction, a worker claims the callback
    # (so no other worker sees it unclaimed); that worker then dies before its call is answered.
    now = datetime.now(UTC)
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        changed = await apply_outcomes(sql, {edr["id"]: Outcome("UNDELIVERED", "EXPIRED", EXPIRED, now)})
        await sql.execute(
            "UPDATE callback_outbox SET next_attempt_at = $1, attempts = 1, last_attempt_at = $2",
            now + timedelta(seconds=callbacks.LEASE_S),
            now,
        )
    assert len(changed) == 1
    rows = await outbox()
    assert [(r["event"], r["state"]) for r in rows] == [("UNDELIVERED", "pending")]
    assert msgspec.json.decode(rows[0]["body"])["status"] == "UNDELIVERED"
    # While the lease runs, nobody takes it again.
    other = callbacks.make_client(allow_private=True)
    try:
        assert await callbacks.deliver_due(other) == 0
    finally:
        await other.aclose()
    assert receiver.received == []
    # The lease has passed: the next run posts it.
    await CallbackOutbox.update({CallbackOutbox.next_attempt_at: datetime.now(UTC)}).where(CallbackOutbox.id > 0)
    await deliver_until(portal, lambda rows: rows[0]["state"] == "delivered")
    assert (await outbox())[0]["attempts"] == 2 and len(receiver.received) == 1


async def test_internal_addresses_are_refused_unless_allowed(app, client_for, sms):
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fe80::1", "224.0.0.1"):
        assert refused_address(address), address
    assert refused_address("::ffff:127.0.0.1")
    # Shared address space (carrier NAT), benchmarking nets, and private IPv4 carried in 6to4 or Teredo IPv6.
    for address in ("100.64.1.1", "198.18.0.1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:f5ff:fdfe"):
        assert refused_address(address), address
    assert not refused_address("2606:4700::1111")
    assert not refused_address("93.184.215.14")
    with pytest.raises(InvalidInput) as refused:
        await check_callback_url("http://127.0.0.1:9/cb", allow_private=False)
    assert refused.value.field == "callback_url" and "loopback, private" in refused.value.detail
    with pytest.raises(InvalidInput):
        await check_callback_url("http://localhost/cb", allow_private=False)
    with pytest.raises(InvalidInput) as scheme:
        await check_callback_url("ftp://example.com/cb", allow_private=True)
    assert scheme.value.field == "callback_url"
    await check_callback_url("http://127.0.0.1:9/cb", allow_private=True)  # the tests' and the demo's setting
    with pytest.raises(InvalidInput):
        await set_callback_url(sms.actor, sms.tenant.api_key_id, CallbackUrlIn(callback_url="http://10.0.0.1/x"))
    stored = await ApiKey.select(ApiKey.callback_url).where(ApiKey.id == sms.tenant.api_key_id).first()
    assert stored["callback_url"] == ""
    # At send time too: a row whose host resolves to a refused address now is not posted.
    client = callbacks.make_client(allow_private=False)
    try:
        row = {"id": 1, "attempts": 1, "url": "http://127.0.0.1:9/cb", "body": "{}"}
        result = await callbacks.post_callback(client, row, "cbs_x")
    finally:
        await client.aclose()
    assert not result.ok and result.status is None and "loopback" in result.error


@dataclass
class RebindingDns:
    """An attacker's name server (DNS is outside the system, so it alone is stood in for): the first lookup answers
    ``first``, every later one ``then``; each lookup is recorded."""

    first: str
    then: str
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return [self.first if len(self.asked) == 1 else self.then]


async def post_once(client: Any, url: str) -> callbacks.CallResult:
    row = {"id": 1, "attempts": 1, "api_key": 1, "url": url, "body": '{"status": "SENT"}'}
    return await callbacks.post_callback(client, row, "cbs_x")


async def test_a_rebinding_dns_answer_never_reaches_the_internal_address(receiver):
    dns = RebindingDns(first="93.184.215.14", then="127.0.0.1")
    url = f"http://hooks.rebind.test:{receiver.port}/status"
    # Saved while the name answers a public address, as an attacker's domain would at first.
    await check_callback_url(url, allow_private=False, resolver=dns)
    client = callbacks.make_client(allow_private=False, resolver=dns)
    try:
        result = await post_once(client, url)
    finally:
        await client.aclose()
    assert not result.ok and result.status is None and "loopback" in result.error
    # The call looked the name up once and refused what that one answer said: nothing reached the receiver.
    assert dns.asked == ["hooks.rebind.test", "hooks.rebind.test"]
    assert receiver.connections == 0 and receiver.received == []


async def test_a_call_connects_to_the_address_it_resolved_under_the_urls_name(receiver):
    """The connection goes to the one checked answer (the name is unknown to the system's DNS), the Host header
    keeps the name, and a kept-alive connection is reused without another lookup; the owner's allow-private
    setting lets the loopback receiver in."""
    dns = RebindingDns(first="127.0.0.1", then="10.9.9.9")
    url = f"http://hooks.pinned.test:{receiver.port}/status"
    client = callbacks.make_client(allow_private=True, resolver=dns)
    try:
        first, second = await post_once(client, url), await post_once(client, url)
    finally:
        await client.aclose()
    assert first.ok and second.ok and first.status == 200
    assert [headers["host"] for headers, _ in receiver.received] == [f"hooks.pinned.test:{receiver.port}"] * 2
    assert dns.asked == ["hooks.pinned.test"] and receiver.connections == 1


async def test_keys_set_their_url_and_rotate_their_secret_for_themselves_only(app, client_for, sms):
    client = client_for(sms.tenant.host)
    token = await api_token(client, sms.tenant.end_user_admin)
    key_id = sms.tenant.api_key_id
    bad = await client.put(f"/api/keys/{key_id}/callback", headers=token, json={"callback_url": "gopher://x"})
    assert bad.status_code == 400 and "callback_url" in bad.json()["detail"]
    ok = await client.put(f"/api/keys/{key_id}/callback", headers=token, json={"callback_url": "https://crm.test/s"})
    assert ok.status_code == 200 and ok.json()["callback_url"] == "https://crm.test/s"
    old = (await ApiKey.select(ApiKey.callback_secret).where(ApiKey.id == key_id).first())["callback_secret"]
    rotated = await client.post(f"/api/keys/{key_id}/callback-secret", headers=token)
    assert rotated.status_code == 200 and rotated.json()["callback_secret"].startswith("cbs_")
    assert rotated.json()["callback_secret"] != old
    empty = (await client.get(f"/api/keys/{key_id}/callbacks", headers=token)).json()
    assert empty["items"] == [] and empty["total"] == 0
    created = await client.post("/api/keys", headers=token, json={"name": "New", "callback_url": ""})
    assert created.json()["callback_secret"].startswith("cbs_")
    # Another company's key: every route is a 404 and changes nothing.
    other = sms.world.b.api_key_id
    assert (await client.get(f"/api/keys/{other}/callbacks", headers=token)).status_code == 404
    put = await client.put(f"/api/keys/{other}/callback", headers=token, json={"callback_url": "https://x.test/"})
    assert put.status_code == 404
    assert (await client.post(f"/api/keys/{other}/callback-secret", headers=token)).status_code == 404
    await sign_in(client, sms.tenant.end_user_admin)
    assert (await client.get(f"/api-keys/{other}/callbacks")).status_code == 404
    assert (await post_form(client, f"/api-keys/{other}/callbacks/secret")).status_code == 404
    stored = await ApiKey.select(ApiKey.callback_url).where(ApiKey.id == other).first()
    assert stored["callback_url"] == ""
    # The page: an empty history, the URL form (a refused URL names the field's problem), a new secret shown once.
    page = await client.get(f"/api-keys/{key_id}/callbacks")
    assert page.status_code == 200 and "No callbacks yet" in page.text
    refused = await post_form(client, f"/api-keys/{key_id}/callbacks/url", {"callback_url": "mailto:x@y.test"})
    assert refused.status_code == 422 and "callback_url" in refused.text
    saved = await post_form(client, f"/api-keys/{key_id}/callbacks/url", {"callback_url": "https://crm.test/v2"})
    assert saved.status_code in (302, 303)
    shown = await post_form(client, f"/api-keys/{key_id}/callbacks/secret")
    assert shown.status_code == 200 and 'data-testid="callback-secret"' in shown.text
    secret = (await ApiKey.select(ApiKey.callback_secret).where(ApiKey.id == key_id).first())["callback_secret"]
    assert secret in shown.text and secret not in (await client.get(f"/api-keys/{key_id}/callbacks")).text


async def test_no_callback_for_keys_without_a_url_or_for_campaign_messages(app, client_for, sms):
    client = client_for(sms.tenant.host)
    await client.post("/api/send_sms", json=BODY, headers=bearer(sms.tenant.api_key))
    await wait_for_edrs({"DELIVERED"}, 1)
    assert await outbox() == []


async def test_a_message_that_fails_at_submit_gets_its_failed_callback(app, sms, receiver):
    """A retried send job fails what may have left without an answer: that FAILED is final, so it is reported."""
    real: Portal = app.state.portal
    held = HeldQueue()
    accepting = Portal(real.settings, real.redis, real.queue, held)  # type: ignore[arg-type]
    await with_url(sms.tenant.api_key_id, receiver.url)
    item = SendSmsIn(channels="SMS", sender="BrandA", to="34612345001,34612345002", message="Hi", client_ref="r-7")
    await services.send(accepting, sms.actor, sms.tenant.api_key_id, checks.check_request([item]))
    request_id = (await ApiRequest.select(ApiRequest.id).first())["id"]
    first = (await api_edrs())[0]
    name = delivery.log_name(request_id)
    await submission.open_log(real.redis, name)
    await submission.Progress(real.redis, name, _ignore).leaving([first["id"]])
    await delivery.send_request(real, request_id)
    await deliver_until(real, lambda rows: len(rows) == 3 and all(r["state"] == "delivered" for r in rows))
    bodies = sorted(
        (msgspec.json.decode(body) for _, body in receiver.received), key=lambda b: (b["dnis"], b["status"])
    )
    assert [(b["dnis"], b["status"], b["clientRef"]) for b in bodies] == [
        ("34612345001", "FAILED", "r-7"),
        ("34612345002", "DELIVERED", "r-7"),
        ("34612345002", "SENT", "r-7"),
    ]
    assert bodies[0]["transactionID"] == first["transaction_id"]


async def test_callbacks_of_a_removed_key_are_given_up_at_once(app, client_for, sms, receiver):
    client = client_for(sms.tenant.host)
    await client.post("/api/send_sms", json=BODY, headers=bearer(sms.tenant.api_key))
    edr = (await wait_for_edrs({"DELIVERED"}, 1))[0]
    # A callback is written (the key had a URL then) and the key is removed before it is posted.
    async with write_transaction() as tx:
        sql = RawSql(tx.connection, sqlite=is_sqlite())
        await sql.execute("UPDATE api_key SET callback_url = $1 WHERE id = $2", receiver.url, sms.tenant.api_key_id)
        assert await callbacks.queue_status_callbacks(sql, [(edr["id"], "DELIVERED", datetime.now(UTC))]) == 1
        await sql.execute("DELETE FROM api_key WHERE id = $1", sms.tenant.api_key_id)
    await deliver_until(app.state.portal, lambda rows: rows and all(r["state"] == "expired" for r in rows))
    assert {r["last_error"] for r in await outbox()} == {"The API key was removed"}
    assert receiver.received == []


async def test_several_workers_at_once_post_each_callback_once(app, client_for, sms, receiver):
    now = datetime.now(UTC)
    # Not due yet: the session worker's two-second delivery cron must not take rows before the backlog is scraped.
    later = now + timedelta(hours=1)
    for start in range(0, 300, 100):
        await CallbackOutbox.insert(
            *[
                CallbackOutbox(
                    partner=sms.tenant.end_user_id,
                    api_key=sms.tenant.api_key_id,
                    event="DELIVERED",
                    transaction_id=str(n),
                    url=receiver.url,
                    body=msgspec.json.encode({"transactionID": str(n)}).decode(),
                    next_attempt_at=later,
                    created_at=now,
                )
                for n in range(start, start + 100)
            ]
        )
    scrape = client_for(sms.tenant.host)
    metrics = (await scrape.get("/metrics")).text
    assert 'portal_callback_backlog{kind="retrying"} 300.0' in metrics
    assert 'portal_callback_backlog{kind="due"} 0.0' in metrics
    await CallbackOutbox.update({CallbackOutbox.next_attempt_at: now}, force=True)
    clients = [callbacks.make_client(allow_private=True) for _ in range(3)]
    try:
        await asyncio.gather(*(callbacks.deliver_due(c) for c in clients))
        await deliver_until(app.state.portal, lambda rows: all(r["state"] == "delivered" for r in rows))
    finally:
        for c in clients:
            await c.aclose()
    posted = sorted(int(msgspec.json.decode(body)["transactionID"]) for _, body in receiver.received)
    assert posted == list(range(300))  # each once, whichever worker took it
    assert {r["attempts"] for r in await outbox()} == {1}
    assert 'portal_callback_backlog{kind="due"} 0.0' in (await scrape.get("/metrics")).text
