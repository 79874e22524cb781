"""The send job of an API request (one per HTTP request): a retry after a killed attempt never submits twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.dispatch import submission
from core.dispatch.sending import UNKNOWN_OUTCOME
from core.dispatch.sweeper import EXPIRED
from core.dispatch.tables import Edr
from core.portal import Portal
from core.public_api import checks, delivery, jobs, services
from core.public_api.schemas import SendSmsIn
from core.public_api.tables import ApiRequest
from tests.core.dispatch.conftest import ES_ALL, add_plan
from tests.core.public_api.conftest import FUNDS, api_edrs, balance, wait_for_edrs


class HeldQueue:
    """Stands in for the send queue: keeps what was enqueued, so this test runs the job itself."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    async def enqueue(self, task: str, **kwargs: Any) -> None:
        self.jobs.append((task, kwargs))


async def _ignore(_: list[Any]) -> None:
    """A killed attempt recorded no answer."""


async def test_a_retried_job_fails_what_may_have_left_and_sends_the_rest_once(app, sms):
    real: Portal = app.state.portal
    held = HeldQueue()
    accepting = Portal(real.settings, real.redis, real.queue, held)  # type: ignore[arg-type]
    item = SendSmsIn(channels="SMS", sender="BrandA", to="34612345001,34612345002,34612345003", message="Hi")
    out = await services.send(accepting, sms.actor, sms.tenant.api_key_id, checks.check_request([item]))
    assert len(out.results) == 3
    assert [task for task, _ in held.jobs] == ["send_api_request"]  # one job for the whole request
    job = held.jobs[0][1]["job"]
    assert held.jobs[0][1]["key"] == job
    request_ids = [r["id"] for r in await ApiRequest.select(ApiRequest.id).where(ApiRequest.job == job)]
    rows = await api_edrs()
    assert {r["status"] for r in rows} == {"BILLED"} and await balance(sms.tenant.end_user_id) == FUNDS - 3 * ES_ALL
    # A first attempt was killed after announcing the first message as leaving, before any answer was stored.
    name = delivery.log_name(request_ids[0])
    await submission.open_log(real.redis, name)
    await submission.Progress(real.redis, name, _ignore).leaving([rows[0]["id"]])
    assert await delivery.send_request(real, request_ids[0]) == "2 messages submitted, 1 with an unknown outcome"
    after = {r["destination"]: r for r in await wait_for_edrs({"DELIVERED", "FAILED"}, 3)}
    assert after["34612345001"]["status"] == "FAILED" and after["34612345001"]["error"] == UNKNOWN_OUTCOME
    assert sms.smsc.submitted == {"34612345002": 1, "34612345003": 1}
    assert await balance(sms.tenant.end_user_id) == FUNDS - 2 * ES_ALL  # the unknown one is paid back
    assert (await ApiRequest.select(ApiRequest.state).first())["state"] == "done"
    assert await delivery.send_request(real, request_ids[0]) == "nothing to send"
    assert sms.smsc.submitted == {"34612345002": 1, "34612345003": 1}


def test_transaction_ids_are_version_4_uuids():
    ids = services.transaction_ids(500)
    assert len(set(ids)) == 500
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)


async def test_a_request_whose_job_was_lost_is_sent_by_the_sweep(app, sms):
    real: Portal = app.state.portal
    held = HeldQueue()
    accepting = Portal(real.settings, real.redis, real.queue, held)  # type: ignore[arg-type]
    item = SendSmsIn(channels="SMS", sender="BrandA", to="34612345001", message="Hi")
    await services.send(accepting, sms.actor, sms.tenant.api_key_id, checks.check_request([item]))
    assert await delivery.resend_stalled(real) == 0  # just accepted: its job may still be on the way
    await ApiRequest.update({ApiRequest.created_at: datetime.now(UTC) - timedelta(minutes=2)}).where(
        ApiRequest.state == "accepted"
    )
    assert await jobs.sweep_api_requests({"portal": real}) == "1 send jobs enqueued again, 0 messages expired"
    await wait_for_edrs({"DELIVERED"}, 1)
    assert sms.smsc.submitted == {"34612345001": 1}
    assert (await ApiRequest.select(ApiRequest.state).first())["state"] == "done"
    assert await delivery.resend_stalled(real) == 0


async def test_messages_without_a_report_expire_and_by_delivered_money_comes_back(app, client_for, sms):
    await add_plan(sms.tenant.end_user_id, mode="delivered")
    sms.smsc.outcomes["34612345001"] = "never"
    reply = await client_for(sms.tenant.host).post(
        "/api/send_sms",
        json={"channels": "SMS", "from": "BrandA", "to": "34612345001", "message": "Hi"},
        headers={"Authorization": f"Bearer {sms.tenant.api_key}"},
    )
    assert reply.status_code == 200
    await wait_for_edrs({"SENT"}, 1)
    assert await delivery.expire_messages(app.state.portal) == 0  # within its validity
    await Edr.update({Edr.sent_at: datetime.now(UTC) - timedelta(hours=delivery.VALIDITY_H, minutes=1)}).where(
        Edr.campaign.is_null()
    )
    assert await delivery.expire_messages(app.state.portal) == 1
    row = (await api_edrs())[0]
    assert (row["status"], row["vendor_status"], row["error"]) == ("UNDELIVERED", "EXPIRED", EXPIRED)
    assert await balance(sms.tenant.end_user_id) == FUNDS  # By Delivered: paid back
