"""SmsChannel and SmppClient against the stand-in SMSC over loopback: what a campaign sender would notice."""

from __future__ import annotations

import asyncio
import time

import pytest

from core import OutboundMessage, TemporaryProviderError
from plugins.sms.client import NOT_BOUND, SmppBindError, SmppClient
from plugins.sms.provider import SmsChannel
from plugins.sms.simulator import StandInSmsc
from tests.plugins.sms.conftest import connection
from tests.waiting import eventually


def messages(n: int, text: str = "Spring sale -20%", sender: str = "Shop", start: int = 0, prefix: str = "49151"):
    return [
        OutboundMessage(edr_id=start + i, sender=sender, destination=f"+{prefix}{start + i:07d}", text=text)
        for i in range(n)
    ]


async def test_bind_and_submit_returns_vendor_ids_and_receipts_come_back_in_batches(started, smsc):
    channel, recorder = await started()
    assert smsc.binds == 1 and channel.clients[1].bound
    results = await channel.send_batch(messages(500))
    assert [r.edr_id for r in results] == list(range(500))
    assert all(r.accepted and r.vendor_message_id and not r.unknown for r in results)
    assert len({r.vendor_message_id for r in results}) == 500
    await recorder.wait_for(lambda: len(recorder.reports) == 500)
    assert {r.vendor_message_id for r in recorder.reports} == {r.vendor_message_id for r in results}
    report = recorder.reports[0]
    assert (report.state, report.vendor_status, report.error_code) == ("delivered", "DELIVRD", "000")
    assert report.done_at is not None
    assert recorder.delivery_calls <= 10  # batched, never one call per report
    assert set(smsc.submitted.values()) == {1} and len(smsc.submitted) == 500
    assert smsc.last_submits[0].destination_addr == "491510000000"  # the + is not sent


async def test_a_wrong_password_is_a_clear_error_and_nothing_is_sent(started, smsc, redis):
    bad = connection(smsc, password="nope")
    client = SmppClient(bad, redis=redis)
    with pytest.raises(SmppBindError, match=r"'smsc-1' \(#1\).*bind refused.*invalid password") as refused:
        await client.bind()
    assert "0x0000000E" in refused.value.detail
    channel, _ = await started([bad])
    assert "invalid password" in channel.clients[1].last_error
    # Configured but not bound: the batch is refused as a whole, for the core to hold and try again later.
    with pytest.raises(TemporaryProviderError, match="invalid password"):
        await channel.send_batch(messages(2))
    assert smsc.refused_binds >= 2 and not smsc.submitted


async def test_no_connection_configured_fails_every_message_plainly(started):
    channel, _ = await started([])
    results = await channel.send_batch(messages(3))
    assert [r.error for r in results] == [NOT_BOUND] * 3 and not any(r.accepted or r.unknown for r in results)
    assert await SmsChannel().send_batch(messages(1)) == [type(results[0])(edr_id=0, accepted=False, error=NOT_BOUND)]


async def test_a_long_message_arrives_as_udh_parts_and_every_part_id_is_returned(started, smsc):
    channel, recorder = await started()
    text = "Dear customer, " + "our spring collection is in store now. " * 9  # 366 septets → 3 parts
    [result] = await channel.send_batch(messages(1, text=text))
    assert result.accepted and len(result.part_ids) == 3 and result.vendor_message_id == result.part_ids[0]
    parts = list(smsc.last_submits)
    assert len(parts) == 3 and all(p.esm_class == 0x40 and p.data_coding == 0 for p in parts)
    ref = parts[0].short_message[3]
    assert [p.short_message[:6] for p in parts] == [bytes((5, 0, 3, ref, 3, i)) for i in (1, 2, 3)]
    assert b"".join(p.short_message[6:] for p in parts).decode("latin-1") == text  # plain ASCII septets
    await recorder.wait_for(lambda: len(recorder.reports) == 3)
    assert {r.vendor_message_id for r in recorder.reports} == set(result.part_ids)


async def test_unicode_flash_and_addresses_are_sent_as_the_handset_needs(started, smsc):
    channel, _ = await started()
    batch = [
        OutboundMessage(edr_id=1, sender="ShopCo", destination="4915100000001", text="Код: 1234", flash=True),
        OutboundMessage(edr_id=2, sender="12345", destination="4915100000002", text="Code 1234", flash=True),
        OutboundMessage(edr_id=3, sender="+4930123456", destination="+4915100000003", text="Hi"),
    ]
    assert all(r.accepted for r in await channel.send_batch(batch))
    first, second, third = smsc.last_submits
    assert (first.data_coding, first.short_message.decode("utf-16-be")) == (0x18, "Код: 1234")
    assert second.data_coding == 0x10 and third.data_coding == 0x00
    assert (first.source_addr_ton, first.source_addr_npi, first.source_addr) == (5, 0, "ShopCo")
    assert (second.source_addr_ton, second.source_addr_npi) == (3, 0)
    assert (third.source_addr_ton, third.source_addr_npi, third.source_addr) == (1, 1, "4930123456")
    assert all((s.dest_addr_ton, s.dest_addr_npi, s.registered_delivery) == (1, 1, 1) for s in smsc.last_submits)


async def test_throttling_is_retried_until_everything_is_accepted_once(started, smsc):
    smsc.throttle_rate = 100  # per second; the batch is three times that
    channel, _ = await started()
    results = await channel.send_batch(messages(300))
    assert all(r.accepted for r in results)
    assert smsc.throttled > 0
    assert len(smsc.submitted) == 300 and set(smsc.submitted.values()) == {1}


async def test_a_dropped_connection_makes_outstanding_messages_unknown_and_reconnects(started, smsc):
    channel, recorder = await started()
    smsc.drop_after = 40  # the 40th submit is received and never answered
    results = await channel.send_batch(messages(300))
    unknown = [r for r in results if r.unknown]
    assert unknown and all(not r.accepted and "lost" in r.error for r in unknown)
    assert all(r.accepted for r in results if not r.unknown) and len(results) == 300
    assert sum(r.accepted for r in results) >= 300 - 64  # at most a window's worth is in doubt
    assert set(smsc.submitted.values()) == {1}, "an unknown message was sent twice"
    # The SMSC got every accepted message plus the one it dropped; the rest in flight never arrived.
    assert len(smsc.submitted) == sum(r.accepted for r in results) + 1
    assert smsc.binds == 2 and channel.clients[1].binds == 2
    await recorder.wait_for(lambda: len(recorder.reports) == sum(r.accepted for r in results))


async def test_no_answer_within_the_timeout_is_unknown_and_never_resent(started, smsc):
    channel, _ = await started(response_timeout=0.3)
    smsc.mute = True
    started_at = time.monotonic()
    results = await channel.send_batch(messages(5))
    assert time.monotonic() - started_at < 3
    assert all(r.unknown and not r.accepted and "no answer" in r.error for r in results)
    smsc.mute = False
    assert all(r.accepted for r in await channel.send_batch(messages(5, start=5)))
    assert set(smsc.submitted.values()) == {1} and len(smsc.submitted) == 10


async def test_enquire_link_keeps_the_bind_alive_and_silence_makes_it_reconnect(started, smsc):
    channel, _ = await started(enquire_link_interval=0.1, response_timeout=0.3)
    await asyncio.sleep(0.6)
    assert smsc.enquire_links >= 3 and smsc.binds == 1
    smsc.mute = True  # the SMSC stops answering, enquire_link included
    await eventually(lambda: smsc.binds >= 2, within=5)
    smsc.mute = False
    await eventually(lambda: channel.clients[1].bound, within=5)
    assert all(r.accepted for r in await channel.send_batch(messages(3)))


async def test_mo_messages_reach_the_portal_including_multipart_unicode(started, smsc):
    _, recorder = await started()
    await smsc.inject_mo("+4915100000009", "ShopCo", "STOP")
    long_text = "Добрый день! " * 12 + "😀"  # UCS-2, three parts
    await smsc.inject_mo("4915100000009", "12345", long_text)
    await recorder.wait_for(lambda: len(recorder.inbound) == 2)
    first, second = recorder.inbound
    assert (first.channel, first.source, first.destination, first.text) == ("sms", "4915100000009", "ShopCo", "STOP")
    assert (second.destination, second.text) == ("12345", long_text)
    assert not recorder.reports


async def test_outcomes_follow_the_longest_destination_prefix(started, smsc):
    smsc.outcomes = {"49": "undelivered", "4916": "delivered", "44": "expired", "33": "rejected", "39": "never"}
    channel, recorder = await started()
    batch = [
        OutboundMessage(edr_id=i, sender="Shop", destination=dest, text="x")
        for i, dest in enumerate(["4915100000001", "4916100000001", "4420000001", "3361000001", "3933000001", "1555"])
    ]
    results = await channel.send_batch(batch)
    await recorder.wait_for(lambda: len(recorder.reports) == 5)
    await asyncio.sleep(0.2)  # the "never" destination stays silent
    by_id = {r.vendor_message_id: (r.state, r.vendor_status) for r in recorder.reports}
    assert [by_id.get(r.vendor_message_id) for r in results] == [
        ("undelivered", "UNDELIV"),
        ("delivered", "DELIVRD"),
        ("expired", "EXPIRED"),
        ("rejected", "REJECTD"),
        None,
        ("delivered", "DELIVRD"),
    ]


async def test_delayed_receipts_arrive_after_the_delay(started, smsc):
    smsc.receipt_delay = 0.3
    channel, recorder = await started()
    await channel.send_batch(messages(3))
    await asyncio.sleep(0.15)
    assert not recorder.reports
    await recorder.wait_for(lambda: len(recorder.reports) == 3)


async def test_the_rate_limit_is_shared_by_every_process_using_the_connection(started, smsc):
    # Two channels stand for two worker processes: the same connection id shares one bucket in Redis.
    conn = connection(smsc, throughput=100)
    first, _ = await started([conn])
    second, _ = await started([conn])
    started_at = time.monotonic()
    results = await asyncio.gather(first.send_batch(messages(150)), second.send_batch(messages(150, start=150)))
    elapsed = time.monotonic() - started_at
    assert all(r.accepted for batch in results for r in batch)
    # 100 in the full bucket, then 200 more at 100/s.
    assert elapsed >= 1.7, f"300 messages at 100/s took only {elapsed:.2f} s"


async def test_a_batch_is_spread_over_every_bound_connection_and_results_stay_in_order(started, smsc):
    channel, _ = await started([connection(smsc, 1), connection(smsc, 2, throughput=3000)])
    results = await channel.send_batch(messages(400))
    assert [r.edr_id for r in results] == list(range(400)) and all(r.accepted for r in results)
    assert smsc.binds == 2 and len(smsc.submitted) == 400


async def test_results_and_receipts_name_the_connection_they_came_over(started, smsc):
    other = StandInSmsc()
    await other.start("127.0.0.1", 0)
    try:
        for server in (smsc, other):
            server.id_prefix = ""  # two SMSCs that both count from 1
        channel, recorder = await started([connection(smsc, 1), connection(other, 2)])
        results = await channel.send_batch(messages(10))
        assert [r.connection for r in results] == [1] * 5 + [2] * 5
        assert [r.vendor_message_id for r in results[:5]] == [r.vendor_message_id for r in results[5:]]
        await recorder.wait_for(lambda: len(recorder.reports) == 10)
        sent = sorted((r.connection, r.vendor_message_id) for r in results)
        assert sorted((r.connection, r.vendor_message_id) for r in recorder.reports) == sent
    finally:
        await other.stop()


async def test_reload_binds_new_connections_and_stop_unbinds(started, smsc):
    channel, recorder = await started()
    recorder.connections = [connection(smsc, 2)]
    await channel.reload()
    assert list(channel.clients) == [2] and channel.clients[2].bound
    await recorder.wait_for(lambda: smsc.bound_sessions == 1)
    await channel.stop()
    await recorder.wait_for(lambda: smsc.bound_sessions == 0)
    assert (await channel.send_batch(messages(1)))[0].error == NOT_BOUND
