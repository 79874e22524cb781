"""Languages (X-1): complete and current catalogues, the picker, and the user's language across the shell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from core.accounts.tables import User
from core.mail.tables import MAIL_STATUSES
from core.tenancy.schemas import PortalUpdate
from core.tenancy.services import update_portal
from core.web.forms import split_field
from core.web.i18n import (
    LANGUAGES,
    MAIL_STATUS_NAMES,
    ROLE_REFUSALS,
    SERVICE_MESSAGES,
    TRANSLATIONS_DIR,
    field_message,
    translate,
    translations,
)
from tests.factories import make_world, post_form, sign_in

ROOT = Path(__file__).resolve().parents[3]
POT = TRANSLATIONS_DIR / "messages.pot"
TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# Words every language writes the same way, and words one language shares with English; any other msgstr
# equal to its msgid is English left behind.
# Codes and words that are the same in the translation (the E.212 codes; Spanish "Total" and "Error").
SAME_EVERYWHERE = {"API", "IP", "2FA", "MCC", "MNC", "MCCMNC", "WhatsApp"}  # brand names are not translated
SAME_IN = {
    "es": {"Portal", "portal", "No", "no", "Variable", "Total", "Error", "Marketing", "%(size)s KB", "%(size)s MB"},
    "tr": {"Portal", "portal", "Video", "%(size)s KB", "%(size)s MB"},
}


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return message.context, msgid


def _forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_msgid_has_a_real_translation_with_the_same_placeholders(language: str) -> None:
    template = _read(POT)
    catalog = _read(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po", language)
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, context=message.context)
        if translated is None:
            problems.append(f"{message.id!r}: missing")
            continue
        forms = _forms(translated.string)
        if translated.fuzzy or len(forms) != (catalog.num_plurals if message.pluralizable else 1):
            problems.append(f"{message.id!r}: fuzzy or wrong number of plural forms")
        wanted = {name for msgid in _forms(message.id) for name in PLACEHOLDER.findall(msgid)}
        for form in forms:
            if not form.strip():
                problems.append(f"{message.id!r}: empty")
            elif set(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"{message.id!r}: placeholders {wanted} became {form!r}")
            elif form == message.id and form not in SAME_EVERYWHERE | SAME_IN.get(language, set()):
                problems.append(f"{message.id!r}: still English")
    assert problems == []


def test_the_template_is_current(tmp_path: Path) -> None:
    """Extracting again, as `make i18n` does, finds nothing the .pot lacks: run `make i18n` and translate."""
    fresh = tmp_path / "fresh.pot"
    mapping, ignored = str(ROOT / "babel.cfg"), "--ignore-dirs=.* ._ node_modules var"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", mapping, "-k", "N_", ignored, "-o", str(fresh), str(ROOT)]
    )
    known = {_key(message) for message in _read(POT) if message.id}
    assert sorted(str(k) for k in {_key(m) for m in _read(fresh) if m.id} - known) == []


def test_service_messages_are_verbatim_copies_of_their_sources() -> None:
    """core/web/i18n.py repeats fixed errors raised elsewhere; a copy that drifted would never be translated."""
    sources = "\n".join(p.read_text() for p in (ROOT / "core").rglob("*.py") if p.name != "i18n.py")
    for text in SERVICE_MESSAGES:
        what = text.removesuffix(" not found")
        assert f'"{text}"' in sources or f'NotFound("{what}")' in sources, text
    # The dev outbox shows a message's status through the catalogue: every status needs its entry.
    assert sorted(MAIL_STATUS_NAMES) == sorted(MAIL_STATUSES)


def test_role_refusals_list_every_refusal_the_code_raises() -> None:
    """require_admin/require_owner build their sentence from a phrase: each whole sentence needs its entry."""
    sources = "\n".join(p.read_text() for p in [*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])
    admins = re.findall(r'require_admin\(actor, "([^"]+)"\)', sources)
    owners = [*re.findall(r'require_owner\(actor, "([^"]+)"', sources), "change the numbering book"]
    wanted = {f"Operators cannot {what}; ask an admin of your company" for what in admins}
    wanted |= {f"Only the system owner's admins can {what}" for what in owners}
    assert wanted == set(ROLE_REFUSALS)


def test_catalogues_compile_and_choose_plural_forms() -> None:
    assert translations("en").gettext("Sign in") == "Sign in"
    assert translations("es").gettext("Sign in") == "Iniciar sesión"
    assert translations("xx").gettext("Sign in") == "Sign in"
    rows = [translations("ru").ngettext("%(num)d row", "%(num)d rows", n) % {"num": n} for n in (1, 3, 25)]
    assert rows == ["1 строка", "3 строки", "25 строк"]


def test_form_limits_are_translated_with_their_number_s_plural_form() -> None:
    def error(msgspec_text: str) -> str:
        field, message = split_field(msgspec_text)
        return f"{field}: {message}"

    assert translate("es", error("Expected `str` of length >= 3 - at `$.name`")) == "name: al menos 3 caracteres"
    assert field_message("tr", error("Expected `array` of length <= 10 - at `$.buttons`")) == "en fazla 10 öğe"
    assert field_message("es", error("Expected `int` >= 5 - at `$.days`")) == "al menos 5"
    russian = [field_message("ru", error(f"Expected `str` of length <= {n} - at `$.x`")) for n in (1, 2, 5, 21)]
    assert russian == ["не больше 1 символа", "не больше 2 символов", "не больше 5 символов", "не больше 21 символа"]


def test_messages_with_values_read_in_english_and_translate_with_their_values() -> None:
    from core.campaigns.services import TEMPLATE_DELETED
    from core.message_templates.schemas import SCHEDULED_USERS, TemplateUser, users_named
    from core.web.i18n import Message as Sentence
    from core.web.i18n import ngettext

    users = [TemplateUser(kind="campaign", id=n, name=f"C{n}") for n in range(7)]
    refusal = Sentence(SCHEDULED_USERS, {"names": users_named(users)})
    names = "C0, C1, C2, C3, C4"
    assert (
        refusal
        == f"Scheduled campaigns use this template and will fail when they start: {names} and 2 more. Delete it anyway?"
    )
    assert translate("ru", refusal) == (
        f"Этот шаблон используют запланированные кампании, и при запуске они завершатся ошибкой: {names} и ещё 2."
        " Всё равно удалить?"
    )
    assert translate("es", Sentence(SCHEDULED_USERS, {"names": users_named(users[:2])})).endswith(
        ": C0, C1. ¿Eliminarla de todos modos?"
    )

    def code(length: int) -> Sentence:
        return ngettext("A code of at most %(count)s character", "A code of at most %(count)s characters", length)

    assert code(15) == "A code of at most 15 characters" and code(1) == "A code of at most 1 character"
    assert [field_message("ru", code(n)) for n in (1, 2, 15, 21)] == [
        "Код не длиннее 1 символа",
        "Код не длиннее 2 символов",
        "Код не длиннее 15 символов",
        "Код не длиннее 21 символа",
    ]
    assert translate("tr", code(15)) == "En fazla 15 karakterlik bir kod"
    assert translate("es", TEMPLATE_DELETED) == "La plantilla fue eliminada"  # a stored status reason


async def test_picker_on_sign_in_switches_the_page_to_spanish(client_for) -> None:
    world = await make_world()
    client = client_for(world.a.host)
    page = (await client.get("/login?next=/admin")).text
    assert '<html lang="en"' in page and 'action="/language"' in page
    assert all(f'name="language" value="{code}"' in page for code in LANGUAGES)
    response = await post_form(client, "/language", {"language": "es", "next": "/login?next=/admin"})
    assert response.status_code == 302 and response.headers["location"] == "/login?next=/admin"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("lang=es;") and "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert "max-age=31536000" in cookie
    page = (await client.get("/login")).text
    assert '<html lang="es"' in page and "Iniciar sesión" in page and "Contraseña" in page
    assert 'aria-pressed="true" style' in page.split('value="es"')[1].split(">")[0]


async def test_signed_in_users_language_is_saved_and_drives_menu_and_header(client_for) -> None:
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    assert 'action="/language"' in (await client.get("/")).text  # the picker in the user menu
    response = await post_form(client, "/language", {"language": "ru", "next": "/admin/partners"})
    assert response.status_code == 302 and response.headers["location"] == "/admin/partners"
    assert await User.select(User.language).where(User.email == world.a.reseller_admin).first() == {"language": "ru"}
    # A fresh browser without the cookie: the account's language, not the cookie, makes the page Russian.
    fresh = client_for(world.a.host)
    assert '<html lang="en"' in (await fresh.get("/login")).text
    await sign_in(fresh, world.a.reseller_admin)
    page = (await fresh.get("/admin/partners")).text
    assert '<html lang="ru"' in page
    assert ">Главная</a>" in page and ">Панель администратора</a>" in page  # the menu
    assert "Баланс:" in page and "Настройки аккаунта" in page and "Выйти" in page  # header and user menu
    assert '<h1 class="page-title">Партнеры</h1>' in page


async def test_unknown_or_unoffered_language_is_refused_and_changes_nothing(client_for) -> None:
    world = await make_world()
    await update_portal(world.owner, world.a.portal_id, PortalUpdate(languages=["en", "es"]))
    client = client_for(world.a.host)
    page = (await client.get("/login")).text
    assert 'value="es"' in page and 'value="ru"' not in page and 'value="tr"' not in page
    await sign_in(client, world.a.end_user_admin)
    for language in ("ru", "de", "", "es' onmouseover='x"):
        response = await post_form(client, "/language", {"language": language, "next": "/"})
        assert response.status_code == 422 and "set-cookie" not in response.headers
        assert "This language is not offered here" in response.text
    assert await User.select(User.language).where(User.email == world.a.end_user_admin).first() == {"language": "en"}
    assert '<html lang="en"' in (await client.get("/")).text
    # The refusal itself is translated for someone who reads Spanish; an open redirect is not followed.
    response = await post_form(client, "/language", {"language": "es", "next": "//evil.example/"})
    assert response.headers["location"] == "/"
    assert "Este idioma no está disponible aquí" in (await post_form(client, "/language", {"language": "tr"})).text


async def test_portal_with_one_language_shows_no_picker(client_for) -> None:
    world = await make_world()
    await update_portal(world.owner, world.a.portal_id, PortalUpdate(languages=["tr"], default_language="tr"))
    client = client_for(world.a.host)
    page = (await client.get("/login")).text
    assert '<html lang="tr"' in page and 'action="/language"' not in page and "Giriş yap" in page


async def test_error_texts_with_user_input_are_escaped_not_translated(client_for) -> None:
    """The translate filter looks errors up without trusting them: a name with markup or '%' shows as plain text."""
    world = await make_world()
    client = client_for(world.a.host)
    await sign_in(client, world.a.reseller_admin)
    await post_form(client, "/language", {"language": "es"})
    form = {"kind": "end_user", "parent_id": str(world.a.reseller_id), "credit_limit": "0"}
    name = "100% <b>Shop</b>"
    assert (await post_form(client, "/admin/partners", {**form, "name": name})).status_code in (302, 303)
    response = await post_form(client, "/admin/partners", {**form, "name": name})
    assert response.status_code == 409 and "100% &lt;b&gt;Shop&lt;/b&gt;" in response.text
    assert "<b>Shop</b>" not in response.text and '<html lang="es"' in response.text


def test_templates_translate_literals_only() -> None:
    """`_()` / `gettext()` / `ngettext()` mark their result safe and %-format it: given a variable, a name a user
    typed would run as markup or answer 500. Values go through the `translate` filter instead."""
    call = re.compile(r"\b(?:_|gettext|ngettext|pgettext|npgettext)\(\s*(?!['\"])")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("core", "plugins", "tenants")
        for path in (ROOT / folder).rglob("templates/**/*")
        if path.suffix in {".html", ".txt"}
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if call.search(line)
    ]
    assert offenders == []
