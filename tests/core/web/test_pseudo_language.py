"""The tests' pseudo-language: every catalogue string in markers, served only while a test installs it."""

from __future__ import annotations

from core.accounts.tables import User
from tests.core.web.pseudo import PSEUDO, pseudo_catalogue, pseudo_language, unmarked
from tests.factories import make_world, set_portal_flags, sign_in


def test_every_kind_of_lookup_is_wrapped_and_unknown_text_is_not() -> None:
    catalogue = pseudo_catalogue()
    assert catalogue.gettext("Sign in") == "⟦Sign in⟧"
    assert catalogue.ngettext("%(num)d row", "%(num)d rows", 1) == "⟦%(num)d row⟧"
    assert catalogue.ngettext("%(num)d row", "%(num)d rows", 5) == "⟦%(num)d rows⟧"
    assert catalogue.pgettext("person", "Name") == "⟦Name⟧"
    assert catalogue.gettext("Acme Retail") == "Acme Retail"  # never marked: stays as it is
    assert unmarked("⟦Balance of ⟦Acme⟧⟧: 5.00 EUR").split() == [":", "5.00", "EUR"]


async def test_a_page_speaks_it_only_while_installed(client_for) -> None:
    world = await make_world()
    await User.update({User.language: PSEUDO}).where(User.email == world.a.end_user_admin)
    await set_portal_flags(world.a.portal_id, languages=["en", PSEUDO])
    client = client_for(world.a.host)
    await sign_in(client, world.a.end_user_admin)
    with pseudo_language():
        page = (await client.get("/contacts")).text
        assert f'<html lang="{PSEUDO}"' in page and "⟦Sign out⟧" in page
    # Without it the code has no catalogue: English, as for any language without one.
    page = (await client.get("/contacts")).text
    assert "⟦" not in page and "Sign out" in page
