"""Languages and time zones: how the locale is chosen, <html lang>, dates in the reader's zone, and the catalogs.

The pages are rendered with catalogs compiled afresh from translations/*/LC_MESSAGES/messages.po into a temporary
folder, so the tests judge the catalogs in the repository and not whatever .mo files were last built.
"""

import html
import re
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_login import login_user

from community.auth.models import User
from community.core.templating import datetime_tag, local_datetime
from community.extensions import babel, db
from config import BASE_DIR, Config, TestingConfig

TRANSLATIONS = BASE_DIR / "translations"
LOCALES = ["pt_BR", "es", "en"]
HTML_LANG = {"pt_BR": "pt-BR", "es": "es", "en": "en"}


# --- catalogs: shared with test_security ------------------------------------------------------------------------


def po_path(locale):
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@cache
def read_catalog(locale):
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale)


def read_template():
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        return read_po(f)


def translated(locale, msgid, **variables):
    """The catalog's translation of `msgid`, failing clearly when there is none yet."""
    message = read_catalog(locale).get(msgid)
    assert message is not None, f"{locale}: {msgid!r} is not in the catalog (run `make messages`)"
    text = message.string[0] if isinstance(message.string, tuple | list) else message.string
    assert text and not message.fuzzy, f"{locale}: {msgid!r} is not translated yet"
    return text % variables if variables else text


_compiled = {}


def compiled_translations(tmp_path_factory):
    """Compile every catalog to .mo in a temporary folder, once per run; return the folder."""
    if "path" not in _compiled:
        root = tmp_path_factory.mktemp("translations")
        for locale in LOCALES:
            folder = root / locale / "LC_MESSAGES"
            folder.mkdir(parents=True)
            with (folder / "messages.mo").open("wb") as f:
                write_mo(f, read_catalog(locale))  # fuzzy entries are left out, as `pybabel compile` does
        _compiled["path"] = str(root)
    return _compiled["path"]


def text_of(response):
    """The page's text with entities decoded, for comparing with catalog strings."""
    return html.unescape(response.get_data(as_text=True))


def html_lang(response):
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has <html lang>"
    return match.group(1)


def forget_loaded_translations():
    """Flask-Babel caches loaded catalogs on the shared `babel` object, across apps, keyed by locale only."""
    domain = babel.__dict__.get("domain_instance")
    if domain is not None:
        domain.cache.clear()


def use_fresh_catalogs(monkeypatch, tmp_path_factory):
    """Make apps created from now on read the freshly compiled catalogs."""
    monkeypatch.setattr(TestingConfig, "BABEL_TRANSLATION_DIRECTORIES", compiled_translations(tmp_path_factory))
    forget_loaded_translations()


@pytest.fixture(autouse=True)
def fresh_catalogs(monkeypatch, tmp_path_factory):
    use_fresh_catalogs(monkeypatch, tmp_path_factory)
    yield
    forget_loaded_translations()  # later tests load the catalogs their own app points at


# --- the locale: browser, then the switcher, then the user's choice ---------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "locale"),
    [
        ("pt-BR", "pt_BR"),
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt_BR"),
        ("pt", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("es-AR", "es"),
        ("es", "es"),
        ("es-MX,es;q=0.9", "es"),
        ("en-US", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr", "pt_BR"),
        ("fr-FR,fr;q=0.9,es;q=0.5", "es"),
        ("de, *;q=0.1", "pt_BR"),
        (None, "pt_BR"),
    ],
)
def test_the_locale_comes_from_accept_language(client, accept_language, locale):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/cities/", headers=headers)
    assert response.status_code == 200
    assert html_lang(response) == HTML_LANG[locale]
    assert translated(locale, "Cities") in text_of(response)


@pytest.mark.parametrize("locale", LOCALES)
def test_html_lang_and_text_follow_the_locale(client, locale):
    response = client.get("/login", headers={"Accept-Language": HTML_LANG[locale]})
    assert html_lang(response) == HTML_LANG[locale]
    page = text_of(response)
    for msgid in ("Sign in", "Forgot your password?", "Skip to content"):
        assert translated(locale, msgid) in page


def test_portuguese_and_spanish_pages_are_really_translated(client):
    pt = text_of(client.get("/login", headers={"Accept-Language": "pt-BR"}))
    es = text_of(client.get("/login", headers={"Accept-Language": "es"}))
    assert "Forgot your password?" not in pt
    assert "Forgot your password?" not in es
    assert translated("pt_BR", "Forgot your password?") != translated("es", "Forgot your password?")


def test_the_switcher_choice_wins_over_the_browser(client):
    response = client.post("/language?next=/cities/", data={"locale": "es"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/cities/"
    for path in ("/cities/", "/", "/login"):
        page = client.get(path, headers={"Accept-Language": "en"})
        assert html_lang(page) == "es", path
    assert translated("es", "Cities") in text_of(client.get("/cities/", headers={"Accept-Language": "en"}))


def test_the_switcher_takes_next_from_the_form_too(client):
    response = client.post("/language", data={"locale": "en", "next": "/cities/?q=re"})
    assert response.headers["Location"] == "/cities/?q=re"
    assert html_lang(client.get("/")) == "en"


def test_the_switcher_can_change_its_mind(client):
    client.post("/language", data={"locale": "es"})
    client.post("/language", data={"locale": "pt_BR"})
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "pt-BR"


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/", "//evil.example.com/cities/", "javascript:alert(1)", "/\\evil.example.com"]
)
def test_the_switcher_ignores_a_next_off_the_site(client, target):
    response = client.post("/language", query_string={"next": target}, data={"locale": "en"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert html_lang(client.get("/")) == "en", "the choice is still saved"


@pytest.mark.parametrize("locale", ["fr", "pt", "", "pt-BR", "EN", "<script>"])
def test_the_switcher_refuses_an_unknown_locale_without_change(client, locale):
    client.post("/language", data={"locale": "es"})
    response = client.post("/language?next=/cities/", data={"locale": locale})
    assert response.status_code in (302, 400)
    with client.session_transaction() as session:
        assert session["locale"] == "es"
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "es"


def test_an_unknown_locale_on_a_fresh_visit_leaves_the_browser_in_charge(client):
    client.post("/language", data={"locale": "fr"})
    with client.session_transaction() as session:
        assert "locale" not in session
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "en"


def test_the_switcher_marks_the_current_language_and_posts_back_to_the_page(client):
    page = client.get("/cities/?q=re", headers={"Accept-Language": "es"}).get_data(as_text=True)
    form = re.search(r'<form[^>]*class="language-switcher".*?</form>', page, re.S).group(0)
    assert "/language?next=" in form and "cities" in form
    buttons = re.findall(r"<button[^>]*>", form)
    assert len(buttons) == len(LOCALES)
    current = [b for b in buttons if "aria-current" in b]
    assert len(current) == 1 and 'value="es"' in current[0]
    for code in LOCALES:
        assert f'lang="{HTML_LANG[code]}"' in form, "each language is named in itself, marked with its lang"


def test_a_signed_in_users_saved_locale_wins_over_the_browser(client, auth, make):
    user = make.user(locale="es")
    auth.login(user)
    for accept in ("en-US", "pt-BR", "fr"):
        assert html_lang(client.get("/", headers={"Accept-Language": accept})) == "es"


def test_the_users_saved_locale_wins_over_an_earlier_switcher_choice(client, auth, make):
    client.post("/language", data={"locale": "en"})
    user = make.user(locale="es")
    auth.login(user)
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "es"


def test_a_user_without_a_saved_locale_follows_the_browser(client, auth, make):
    user = make.user()
    auth.login(user)
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "en"
    assert html_lang(client.get("/", headers={"Accept-Language": "es-CO"})) == "es"


def test_the_switcher_saves_a_signed_in_users_choice(app, client, auth, make):
    user = make.user(locale="pt_BR")
    auth.login(user)
    client.post("/language", data={"locale": "en"})
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": user.password})
    assert html_lang(other_device.get("/", headers={"Accept-Language": "es"})) == "en", "the choice follows the user"


def test_error_pages_follow_the_locale(client):
    for locale in LOCALES:
        response = client.get("/no-such-page", headers={"Accept-Language": HTML_LANG[locale]})
        assert response.status_code == 404
        assert html_lang(response) == HTML_LANG[locale]
        assert translated(locale, "We could not find that page.") in text_of(response)


def test_country_names_follow_the_locale(client, make):
    city = make.city("Córdoba", "Córdoba", "AR")
    en = text_of(client.get(f"/cities/{city.slug}", headers={"Accept-Language": "en"}))
    pt = text_of(client.get(f"/cities/{city.slug}", headers={"Accept-Language": "pt-BR"}))
    assert "Argentina" in en and "Argentina" in pt
    brazil = make.city("Recife")
    assert "Brazil" in text_of(client.get(f"/cities/{brazil.slug}", headers={"Accept-Language": "en"}))
    assert "Brasil" in text_of(client.get(f"/cities/{brazil.slug}", headers={"Accept-Language": "pt-BR"}))


# --- dates and time zones ---------------------------------------------------------------------------------------

MOMENT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # no daylight saving in either zone in January


def render_for(app, user_id=None, accept_language="en", format="medium"):
    """local_datetime(MOMENT) as a request by the user (or a visitor) would render it."""
    with app.test_request_context("/", headers={"Accept-Language": accept_language}):
        if user_id is not None:
            login_user(db.session.get(User, user_id))
        text, tag = local_datetime(MOMENT, format), str(datetime_tag(MOMENT, format))
    # CLDR puts narrow no-break spaces before AM/PM; compare with plain spaces.
    return text.replace("\u202f", " ").replace("\xa0", " "), tag.replace("\u202f", " ").replace("\xa0", " ")


def test_a_datetime_is_shown_in_the_users_zone_with_the_zone_named(app, make):
    sao_paulo = make.user(name="Ana Souza", timezone="America/Sao_Paulo", locale="en")
    tokyo = make.user(name="Kenji Sato", timezone="Asia/Tokyo", locale="en")
    text, _tag = render_for(app, sao_paulo.id)
    assert "9:00:00 AM" in text and "Jan 15, 2026" in text
    assert text.endswith("(America / Sao Paulo)")
    text, _tag = render_for(app, tokyo.id)
    assert "9:00:00 PM" in text and "Jan 15, 2026" in text
    assert text.endswith("(Asia / Tokyo)")


def test_a_datetime_is_written_in_the_users_language(app, make):
    pt = make.user(name="Ana Souza", timezone="America/Sao_Paulo", locale="pt_BR")
    es = make.user(name="Lucía Fernández", timezone="Asia/Tokyo", locale="es")
    text, _tag = render_for(app, pt.id, accept_language="en")
    assert "09:00" in text and "2026" in text and "AM" not in text
    text, _tag = render_for(app, es.id, accept_language="en")
    assert "21:00" in text and "ene" in text and "PM" not in text


def test_a_visitor_sees_the_default_zone(app):
    text, _tag = render_for(app, None)
    assert app.config["DEFAULT_USER_TIMEZONE"] == "America/Sao_Paulo"
    assert "9:00:00 AM" in text and text.endswith("(America / Sao Paulo)")


def test_a_user_without_a_zone_sees_the_default_zone(app, make):
    user = make.user(locale="en")
    text, _tag = render_for(app, user.id)
    assert text.endswith("(America / Sao Paulo)")


def test_the_time_tag_carries_the_exact_moment(app, make):
    user = make.user(timezone="Asia/Tokyo", locale="en")
    text, tag = render_for(app, user.id, format="short")
    assert tag.startswith('<time datetime="2026-01-15T12:00:00+00:00">')
    assert text in tag and "(Asia / Tokyo)" in tag


def test_no_date_renders_as_nothing(app):
    with app.test_request_context("/"):
        assert local_datetime(None) == ""
        assert datetime_tag(None) == ""


def test_pages_show_dates_in_the_readers_zone(app, client, auth, make):
    user = make.user(timezone="Asia/Tokyo", locale="en")
    auth.login(user)
    client.post("/profile/tokens", data={"name": "dashboard"})
    page = client.get("/profile/tokens").get_data(as_text=True)
    assert re.search(r'<time datetime="[^"]+\+00:00">[^<]*\(Asia / Tokyo\)</time>', page)


# --- the catalogs -----------------------------------------------------------------------------------------------


def test_the_configured_languages_are_the_catalogs():
    assert Config.LANGUAGES[0] == Config.BABEL_DEFAULT_LOCALE == "pt_BR"
    assert set(Config.LANGUAGES) == set(LOCALES)
    on_disk = {p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")}
    assert on_disk == set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_is_translated_and_not_fuzzy(locale):
    catalog = read_catalog(locale)
    entries = [m for m in catalog if m.id]
    assert entries, f"the {locale} catalog is empty"
    untranslated = [m.id for m in entries if not (all(m.string) if isinstance(m.string, tuple | list) else m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{locale}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_message_is_in_the_catalog(locale):
    template_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_template() if m.id}
    catalog_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_catalog(locale) if m.id}
    missing = sorted(template_ids - catalog_ids)
    assert template_ids
    assert not missing, f"{locale}: {len(missing)} messages missing (run `make messages`), e.g. {missing[:5]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_their_placeholders_and_plural_forms(locale):
    catalog = read_catalog(locale)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, f"{locale}: {problems[:5]}"
    assert catalog.num_plurals >= 2


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalog_declares_its_language(locale):
    assert str(read_catalog(locale).locale) == locale


def test_the_template_is_up_to_date_with_the_code(tmp_path):
    """Every translatable string in the code and templates is in messages.pot (`make messages` refreshes it)."""
    extracted = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2",
         "--no-location", "--sort-output", "-o", str(extracted), "."],
        cwd=BASE_DIR, check=True, capture_output=True,
    )  # fmt: skip
    with extracted.open("rb") as f:
        in_code = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_template() if m.id}
    assert in_code, "extraction found the app's strings"
    missing = sorted(in_code - in_template)
    assert not missing, f"{len(missing)} strings missing from messages.pot (run `make messages`): {missing[:10]}"
