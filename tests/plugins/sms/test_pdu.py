"""The SMPP codec against PDUs written out by hand from the SMPP 3.4 layout (golden hex)."""

from __future__ import annotations

import pytest

from plugins.sms import pdu
from plugins.sms.pdu import ShortMessage
from plugins.sms.receipts import parse_receipt


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_bind_transceiver_and_its_answers():
    assert pdu.bind_transceiver(1, "portal", "secret") == h(
        "00000023 00000009 00000000 00000001  706f7274616c00 73656372657400 00 34 00 00 00"
    )
    assert pdu.bind_transceiver_resp(1, pdu.ESME_ROK, "SMSC") == h(
        "0000001a 80000009 00000000 00000001  534d534300 0210 0001 34"
    )
    assert pdu.bind_transceiver_resp(1, pdu.ESME_RINVPASWD, "SMSC") == h("00000010 80000009 0000000e 00000001")
    bind = pdu.decode_bind(pdu.bind_transceiver(1, "portal", "secret", "VMA")[16:])
    assert (bind.system_id, bind.password, bind.system_type, bind.interface_version) == (
        "portal",
        "secret",
        "VMA",
        0x34,
    )


SUBMIT = (
    "00000031 00000004 00000000 00000002"
    " 00 05 00 53686f7000 01 01 3439313233343500 00 00 00 00 00 01 00 00 00 05 4869201b65"
)


def test_submit_sm_golden_and_both_encoders_agree():
    sm = ShortMessage(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="4912345",
        registered_delivery=1,
        short_message=b"Hi \x1be",
    )
    assert pdu.submit_sm(2, sm) == h(SUBMIT)
    fast = pdu.submit_sm_body(5, 0, b"Shop", b"4912345", 0, 0, b"Hi \x1be")
    assert pdu.pdu(pdu.SUBMIT_SM, 2, fast) == h(SUBMIT)
    assert pdu.decode_short_message(h(SUBMIT)[16:]) == sm


def test_responses_and_control_pdus():
    assert pdu.submit_sm_resp(2, pdu.ESME_ROK, "abc") == h("00000014 80000004 00000000 00000002 61626300")
    assert pdu.submit_sm_resp(2, pdu.ESME_RTHROTTLED) == h("00000010 80000004 00000058 00000002")
    assert pdu.deliver_sm_resp(3) == h("00000011 80000005 00000000 00000003 00")
    assert pdu.enquire_link(7) == h("00000010 00000015 00000000 00000007")
    assert pdu.enquire_link_resp(7) == h("00000010 80000015 00000000 00000007")
    assert pdu.unbind(8) == h("00000010 00000006 00000000 00000008")
    assert pdu.unbind_resp(8) == h("00000010 80000006 00000000 00000008")
    assert pdu.generic_nack(5, pdu.ESME_RINVCMDID) == h("00000010 80000000 00000003 00000005")
    assert pdu.decode_message_id(h("61626300")) == "abc" and pdu.decode_message_id(b"") == ""


RECEIPT_TEXT = b"id:ab1 stat:DELIVRD err:000"
RECEIPT = (
    "0000005b 00000005 00000000 00000009"
    " 00 01 01 3439313233343500 05 00 53686f7000 04 00 00 00 00 00 00 00 00 1b"
    + RECEIPT_TEXT.hex()
    + " 001e 0004 61623100"
    " 0423 0003 03 0000  0427 0001 02"
)


def test_deliver_sm_receipt_with_tlvs_decodes_to_a_delivery_report():
    sm = pdu.decode_short_message(h(RECEIPT)[16:])
    assert (sm.source_addr, sm.destination_addr, sm.esm_class, sm.short_message) == ("4912345", "Shop", 4, RECEIPT_TEXT)
    assert sm.tlvs == {0x001E: b"ab1\0", 0x0423: b"\x03\x00\x00", 0x0427: b"\x02"}
    assert pdu.deliver_sm(9, sm) == h(RECEIPT)
    report = parse_receipt(sm)
    assert report is not None
    assert (report.vendor_message_id, report.state, report.vendor_status, report.error_code) == (
        "ab1",
        "delivered",
        "DELIVRD",
        "000",
    )


def test_tlvs_carry_payload_and_sar_fields():
    sm = ShortMessage(
        destination_addr="1",
        tlvs={
            pdu.TLV_SAR_MSG_REF_NUM: (0x1234).to_bytes(2, "big"),
            pdu.TLV_SAR_TOTAL_SEGMENTS: b"\x02",
            pdu.TLV_SAR_SEGMENT_SEQNUM: b"\x01",
            pdu.TLV_MESSAGE_PAYLOAD: b"long text",
        },
    )
    body = pdu.short_message_body(sm)
    assert body.endswith(h("020c 0002 1234 020e 0001 02 020f 0001 01 0424 0009") + b"long text")
    assert pdu.decode_short_message(body) == sm
    assert pdu.tlv_u16(0x020C, 7) == h("020c 0002 0007") and pdu.tlv_u8(0x0427, 2) == h("0427 0001 02")


def test_frames_are_cut_from_a_stream_that_arrives_byte_by_byte():
    stream = pdu.enquire_link(1) + h(SUBMIT) + pdu.deliver_sm_resp(3)
    buffer, frames = bytearray(), []
    for byte in stream:
        buffer.append(byte)
        frames += pdu.split_frames(buffer)
    assert [(f[0], f[2]) for f in frames] == [(pdu.ENQUIRE_LINK, 1), (pdu.SUBMIT_SM, 2), (pdu.DELIVER_SM_RESP, 3)]
    assert frames[1][3] == h(SUBMIT)[16:] and not buffer


def test_broken_pdus_raise_instead_of_desynchronising():
    with pytest.raises(pdu.PduError, match="command_length"):
        pdu.split_frames(bytearray(h("00000008 00000015 00000000 00000001")))
    with pytest.raises(pdu.PduError):
        pdu.decode_short_message(h(SUBMIT)[16:30])
    assert pdu.status_text(0x0E) == "invalid password (0x0000000E)"
