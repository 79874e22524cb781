"""WhatsAppChannel against the stand-in Cloud API over loopback HTTP: what a campaign sender would notice."""

from __future__ import annotations

import json

import msgspec
import pytest

from core import InvalidInput, Unauthenticated, WebhookRequest
from plugins.whatsapp.provider import NO_CONNECTION, NO_TEMPLATE, SIGNATURE_HEADER, WhatsAppChannel, sign
from plugins.whatsapp.schemas import TemplateRequest
from tests.plugins.whatsapp.conftest import connection, messages, started


@pytest.fixture(autouse=True)
async def clean_state() -> None:
    """Replaces the suite's autouse fixture: these tests touch no table."""


async def test_a_template_message_carries_each_recipients_parameters_and_our_edr_id(meta):
    channel = await started(connection(meta, id=7))
    try:
        results = await channel.send_batch(messages(3))
    finally:
        await channel.stop()
    assert [r.accepted for r in results] == [True] * 3 and [r.edr_id for r in results] == [0, 1, 2]
    assert {r.vendor_message_id for r in results} == {"wamid.1", "wamid.2", "wamid.3"}
    assert {r.connection for r in results} == {7}
    sent = {r.to: r for r in meta.last_requests}
    second = sent["34607000001"]
    assert (second.template.name, second.template.language.code) == ("order_update", "es")
    assert [(c.type, [p.text for p in c.parameters]) for c in second.template.components] == [
        ("body", ["Ana 1", "A-1"])
    ]
    assert second.biz_opaque_callback_data == "edr:1"


async def test_throttling_and_server_errors_are_retried_until_sent_once(meta):
    meta.fail_next.extend([429, 503, 429])
    channel = await started(connection(meta, window=1))
    try:
        [result] = await channel.send_batch(messages(1))
    finally:
        await channel.stop()
    assert result.accepted and meta.throttled == 2
    assert sum(meta.submitted.values()) == 1


async def test_a_vendor_that_keeps_throttling_fails_the_message_with_the_reason_after_retrying(meta):
    meta.fail_next.extend([429] * 1000)  # 130429 for as long as the test runs
    channel = await started(connection(meta, window=1), retry_for=0.3)
    try:
        [result] = await channel.send_batch(messages(1))
    finally:
        await channel.stop()
    assert not result.accepted and not result.unknown
    assert result.error == "WhatsApp kept refusing: HTTP 429"
    assert meta.throttled >= 2 and not meta.submitted


async def test_a_refused_message_fails_at_once_with_metas_error_and_its_meaning(meta):
    channel = await started(connection(meta, access_token="expired"))
    try:
        [result] = await channel.send_batch(messages(1))
    finally:
        await channel.stop()
    assert not result.accepted and not result.unknown
    assert result.error == "refused by WhatsApp (HTTP 401, error 190: the access token expired or is invalid)"


async def test_a_message_without_a_template_or_whose_text_does_not_fit_it_is_never_sent(meta):
    good, no_template, other_text = messages(3)
    no_template = msgspec.structs.replace(no_template, extra={})
    other_text = msgspec.structs.replace(other_text, text="A text of its own")
    channel = await started(connection(meta))
    try:
        results = await channel.send_batch([good, no_template, other_text])
    finally:
        await channel.stop()
    assert [(r.edr_id, r.accepted, r.error) for r in results] == [
        (0, True, ""),
        (1, False, NO_TEMPLATE),
        (2, False, NO_TEMPLATE),
    ]
    assert sum(meta.submitted.values()) == 1


async def test_no_connection_fails_every_message_plainly():
    channel = WhatsAppChannel()
    results = await channel.send_batch(messages(2))
    assert [(r.accepted, r.error) for r in results] == [(False, NO_CONNECTION)] * 2


def test_the_hub_challenge_is_echoed_only_for_the_connections_verify_token(meta):
    channel, wa = WhatsAppChannel(), connection(meta)

    def handshake(**query: str) -> str:
        return channel.answer_handshake(wa, WebhookRequest(headers={}, body=b"", query=query))

    ok = {"hub.mode": "subscribe", "hub.verify_token": "whatsapp-demo-verify", "hub.challenge": "1158201444"}
    assert handshake(**ok) == "1158201444"
    for bad in ({"hub.verify_token": "guess"}, {"hub.mode": "unsubscribe"}, {"hub.verify_token": ""}):
        with pytest.raises(Unauthenticated):
            handshake(**(ok | bad))


def test_webhooks_are_read_only_with_the_app_secrets_signature(meta):
    channel, wa = WhatsAppChannel(), connection(meta)
    status = {"id": "wamid.1", "status": "read", "timestamp": "1700000000", "biz_opaque_callback_data": "edr:4"}
    body = b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":%s}]}]}'
    raw = body % (b'{"statuses":[%s]}' % json.dumps(status).encode())

    def parse(raw: bytes, signature: str) -> object:
        return channel.parse_callback(wa, WebhookRequest(headers={SIGNATURE_HEADER: signature}, body=raw))

    for wrong in ("", sign("guessed", raw), sign("whatsapp-demo-secret", raw + b" "), "sha256=é"):
        with pytest.raises(Unauthenticated):
            parse(raw, wrong)
    callback = parse(raw, sign("whatsapp-demo-secret", raw).upper().replace("SHA256=", "sha256="))
    [report] = callback.reports  # type: ignore[attr-defined]
    assert (report.vendor_message_id, report.state, report.vendor_status, report.connection) == (
        "wamid.1",
        "seen",
        "read",
        1,
    )
    with pytest.raises(InvalidInput):
        parse(b"[", sign("whatsapp-demo-secret", b"["))


@pytest.mark.parametrize("missing", ["header", "button"])
async def test_meta_refuses_a_message_lacking_the_header_or_button_value(meta, missing):
    meta.templates["1"] = TemplateRequest(
        name="order_update",
        language="es",
        category="UTILITY",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way"},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://shop.example/o/{{1}}"}]},
        ],
    )
    both = {"template_header_param": "A-1", "template_button_0": "A-1"}
    extra = {
        "template_name": "order_update",
        "template_language": "es",
        "template_body": "Hi {{1}}, your order {{2}} is on its way",
    }
    channel = await started(connection(meta))
    try:
        [good] = await channel.send_batch(messages(1, extra=extra | both))
        lacking = {k: v for k, v in both.items() if missing not in k}
        [bad] = await channel.send_batch(messages(1, start=1, extra=extra | lacking))
    finally:
        await channel.stop()
    assert good.accepted and not bad.accepted
    assert bad.error == (
        "refused by WhatsApp (HTTP 400, error 132000: the number of template parameters does not match the template)"
    )
    assert [m.to for m in meta.last_requests] == ["34607000000"]
