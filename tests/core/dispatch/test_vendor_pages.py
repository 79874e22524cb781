"""The owner's vendor connection pages: add, configure with field errors, enable, remove; hidden from resellers."""

from __future__ import annotations

from core.db import json_value
from core.dispatch.tables import VendorConnection
from tests.factories import make_world, post_form, sign_in


async def test_owner_adds_and_configures_a_connection(app, client_for):
    world = await make_world()
    client = client_for(world.owner_host)
    await sign_in(client, "owner@main.test")
    empty = await client.get("/admin/vendors/")
    assert empty.status_code == 200 and "No vendor connection yet" in empty.text
    made = await post_form(client, "/admin/vendors/", {"channel": "sms", "name": "Vendor A"})
    assert made.status_code in (302, 303)
    row = await VendorConnection.select().first()
    assert row["enabled"] is False or row["enabled"] == 0
    form = await client.get(f"/admin/vendors/{row['id']}")
    assert 'name="settings.system_id"' in form.text and 'type="password"' in form.text
    bad = await post_form(
        client, f"/admin/vendors/{row['id']}", {"name": "Vendor A", "settings.port": "70000", "enabled": "on"}
    )
    assert bad.status_code in (400, 422) and "port" in bad.text and 'value="70000"' in bad.text
    good = await post_form(
        client,
        f"/admin/vendors/{row['id']}",
        {
            "name": "Vendor A",
            "settings.host": "10.1.1.1",
            "settings.port": "2776",
            "settings.window": "16",
            "enabled": "on",
        },
    )
    assert good.status_code in (302, 303)
    row = await VendorConnection.select().first()
    settings = json_value(row["settings"])
    assert row["enabled"] and settings["host"] == "10.1.1.1" and settings["port"] == 2776 and settings["window"] == 16
    listing = await client.get("/admin/vendors/")
    assert "10.1.1.1:2776" in listing.text
    gone = await post_form(client, f"/admin/vendors/{row['id']}/delete")
    assert gone.status_code in (302, 303) and await VendorConnection.count() == 0


async def test_resellers_do_not_see_vendor_connections(app, client_for):
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    assert (await client.get("/admin/vendors/")).status_code == 404
