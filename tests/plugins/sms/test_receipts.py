"""Receipts as vendors really send them (text only, odd dates, odd labels) and multipart MO by SAR TLVs."""

from __future__ import annotations

from datetime import UTC, datetime

from plugins.sms import pdu
from plugins.sms.pdu import ShortMessage
from plugins.sms.receipts import MoAssembler, parse_receipt


def receipt(text: str, **tlvs: bytes) -> ShortMessage:
    return ShortMessage(source_addr="4915100000001", destination_addr="Shop", esm_class=4, short_message=text.encode())


def test_a_text_only_receipt_with_12_digit_dates_and_a_capital_text_label():
    report = parse_receipt(
        receipt(
            "id:0A1B2C sub:001 dlvrd:000 submit date:261126101500 done date:261126101733 "
            "stat:undeliv err:075 Text:stat:DELIVRD is only words"
        )
    )
    assert report is not None
    assert (report.vendor_message_id, report.state, report.vendor_status, report.error_code) == (
        "0A1B2C",
        "undelivered",
        "UNDELIV",
        "075",
    )
    assert report.done_at == datetime(2026, 11, 26, 10, 17, 33, tzinfo=UTC)


def test_ten_digit_dates_and_every_stat_word():
    words = {"DELIVRD": "delivered", "EXPIRED": "expired", "DELETED": "deleted", "ACCEPTD": "accepted"}
    words |= {"UNKNOWN": "unknown", "REJECTD": "rejected", "ENROUTE": "enroute", "WHATEVER": "unknown"}
    for word, state in words.items():
        report = parse_receipt(receipt(f"id:77 submit date:2611261015 done date:2611261016 stat:{word} err:0"))
        assert report is not None and report.state == state and report.vendor_status == word
        assert report.done_at == datetime(2026, 11, 26, 10, 16, tzinfo=UTC)


def test_tlvs_win_over_the_text_and_a_receipt_without_any_id_is_ignored():
    sm = ShortMessage(
        esm_class=4,
        short_message=b"id:TEXTID stat:DELIVRD err:000",
        tlvs={
            pdu.TLV_RECEIPTED_MESSAGE_ID: b"TLVID\0",
            pdu.TLV_MESSAGE_STATE: b"\x05",
            pdu.TLV_NETWORK_ERROR_CODE: b"\x03\x00\x22",
        },
    )
    report = parse_receipt(sm)
    assert report is not None and (report.vendor_message_id, report.state, report.error_code) == (
        "TLVID",
        "undelivered",
        "034",
    )
    assert parse_receipt(receipt("stat:DELIVRD")) is None


def test_multipart_mo_by_sar_tlvs_is_reassembled_in_order():
    assembler = MoAssembler()
    text = "Здравствуйте, хочу узнать больше"
    octets = text.encode("utf-16-be")
    halves = [octets[:31], octets[31:]]  # splits a character in two, as a handset may
    sms = [
        ShortMessage(
            source_addr="4915100000001",
            destination_addr="12345",
            data_coding=8,
            short_message=half,
            tlvs={
                pdu.TLV_SAR_MSG_REF_NUM: b"\x01\x02",
                pdu.TLV_SAR_TOTAL_SEGMENTS: b"\x02",
                pdu.TLV_SAR_SEGMENT_SEQNUM: bytes((seq,)),
            },
        )
        for seq, half in ((2, halves[1]), (1, halves[0]))
    ]
    assert assembler.add(sms[0]) is None
    message = assembler.add(sms[1])
    assert message is not None and message.text == text and message.source == "4915100000001"
