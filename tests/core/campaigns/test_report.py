"""A campaign's report: its messages by status per hour (per day of the user's zone when it is long), on the
campaign page and in the API, and never another tenant's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.accounts.tables import User
from core.campaigns.report import timeline
from tests.core.campaigns.helpers import scheduled_campaign
from tests.core.contacts.helpers import actor_of
from tests.core.statistics.test_edr import edr
from tests.factories import api_token, make_world, sign_in

HOUR = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_messages_count_in_the_hour_they_were_sent_by_their_status_now(app, client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    campaign = await scheduled_campaign(app, actor, world.a, name="Winter sale")
    made = HOUR - timedelta(hours=5)
    for minute, status in ((1, "DELIVERED"), (20, "DELIVERED"), (59, "UNDELIVERED")):
        await edr(
            world.a.end_user_id,
            campaign=campaign.id,
            status=status,
            created_at=made,
            sent_at=HOUR.replace(minute=minute),
        )
    await edr(
        world.a.end_user_id, campaign=campaign.id, status="SEEN", created_at=made, sent_at=HOUR + timedelta(hours=2)
    )
    await edr(world.a.end_user_id, campaign=campaign.id, status="PREPARED", created_at=HOUR + timedelta(minutes=5))
    await edr(world.b.end_user_id, status="FAILED", created_at=HOUR)  # another tenant's, no campaign

    line = await timeline(actor, campaign.id)
    assert line.step == "hour" and line.statuses == ["DELIVERED", "SEEN", "UNDELIVERED", "PREPARED"]
    assert [(p.start, p.counts) for p in line.points] == [
        (HOUR, {"DELIVERED": 2, "UNDELIVERED": 1, "PREPARED": 1}),
        (HOUR + timedelta(hours=2), {"SEEN": 1}),
    ]

    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    page = await client.get(f"/campaigns/{campaign.id}")
    assert page.status_code == 200 and 'data-chart="stacked"' in page.text
    assert "Messages over time" in page.text and 'data-value="2"' in page.text and ">Undelivered</th>" in page.text
    api = await client.get(
        f"/api/campaigns/{campaign.id}/timeline", headers=await api_token(client, world.a.end_user_admin)
    )
    assert api.status_code == 200 and api.json()["points"][0]["counts"] == {
        "DELIVERED": 2,
        "UNDELIVERED": 1,
        "PREPARED": 1,
    }

    other = client_for(world.b.host)
    headers = await api_token(other, world.b.end_user_admin)
    assert (await other.get(f"/api/campaigns/{campaign.id}/timeline", headers=headers)).status_code == 404


async def test_a_long_campaign_counts_days_of_the_users_zone(app):
    world = await make_world()
    await User.update({User.timezone: "America/New_York"}).where(User.email == world.a.end_user_admin)  # UTC-5
    actor = await actor_of(world.a)
    campaign = await scheduled_campaign(app, actor, world.a)
    # 03:00 UTC on 1 December is still 30 November in New York; four days later another message.
    for sent in (
        datetime(2026, 12, 1, 3, tzinfo=UTC),
        datetime(2026, 12, 1, 6, tzinfo=UTC),
        datetime(2026, 12, 5, 12, tzinfo=UTC),
    ):
        await edr(world.a.end_user_id, campaign=campaign.id, sent_at=sent)
    line = await timeline(actor, campaign.id)
    assert line.step == "day"
    assert [(p.start.date().isoformat(), p.counts) for p in line.points] == [
        ("2026-11-30", {"DELIVERED": 1}),
        ("2026-12-01", {"DELIVERED": 1}),
        ("2026-12-05", {"DELIVERED": 1}),
    ]


async def test_a_campaign_without_messages_says_so(app, client_for):
    world = await make_world()
    actor = await actor_of(world.a)
    campaign = await scheduled_campaign(app, actor, world.a)
    assert (await timeline(actor, campaign.id)).points == []
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    assert "No message of this campaign has been prepared yet." in (await client.get(f"/campaigns/{campaign.id}")).text
