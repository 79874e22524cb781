"""Day filters cut days in the user's time zone, the same way in every list (issue 9, item 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec

from core.actor import Actor
from core.campaigns.controllers._list import campaign_filter
from core.contacts.schemas import ContactFilter, ContactIn
from core.contacts.services import create_contact, list_contacts
from core.contacts.tables import Contact
from core.statistics.controllers import edr_filter
from core.web.periods import day_range, user_zone
from tests.core.contacts.helpers import actor_of
from tests.factories import make_world

ZONE = "America/New_York"  # UTC-5 in January: a day there ends at 05:00 UTC of the next day
LAST_DAY = date(2026, 1, 10)


def test_day_range_is_the_users_days_in_utc():
    assert day_range(date(2026, 1, 9), LAST_DAY, ZONE) == (
        datetime(2026, 1, 9, 5, tzinfo=UTC),
        datetime(2026, 1, 11, 5, tzinfo=UTC),
    )
    assert day_range(None, None, ZONE) == (None, None)
    assert user_zone("Not/AZone") == user_zone("") == user_zone("UTC")


def test_every_page_filter_uses_the_same_bounds():
    days = {"from": "2026-01-09", "to": "2026-01-10"}
    params = {f"{name}_{side}": day for name in ("created", "date") for side, day in days.items()}
    expected = day_range(date(2026, 1, 9), LAST_DAY, ZONE)
    actor = msgspec.structs.replace(_actor_stub(), timezone=ZONE)
    campaigns, _ = campaign_filter(actor, params)
    edrs, _ = edr_filter(actor, params)
    assert (campaigns.created_from, campaigns.created_to) == expected
    assert (edrs.created_from, edrs.created_to) == expected


async def test_a_day_filter_ends_at_local_midnight():
    world = await make_world()
    actor = msgspec.structs.replace(await actor_of(world.a), timezone=ZONE)
    late = await create_contact(actor, ContactIn(phone="+34 600 000 001", groups=[world.a.group_id], first_name="Late"))
    next_day = await create_contact(
        actor, ContactIn(phone="+34 600 000 002", groups=[world.a.group_id], first_name="Next")
    )
    # 23:30 local on the last day is 04:30 UTC the day after; 00:30 local the next day is 05:30 UTC.
    await Contact.update({Contact.created_at: datetime(2026, 1, 11, 4, 30, tzinfo=UTC)}).where(Contact.id == late.id)
    await Contact.update({Contact.created_at: datetime(2026, 1, 11, 5, 30, tzinfo=UTC)}).where(
        Contact.id == next_day.id
    )
    found = await list_contacts(actor, ContactFilter(created_from=LAST_DAY, created_to=LAST_DAY))
    assert [c.id for c in found.items] == [late.id]


def _actor_stub():

    return Actor(
        user_id=1,
        email="u@example.test",
        first_name="U",
        last_name="Ser",
        role="admin",
        partner_id=1,
        partner_name="P",
        partner_kind="end_user",
        partner_path="0000000001/",
        currency="EUR",
        portal_id=1,
    )
