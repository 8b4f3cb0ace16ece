"""The shell pages render for the people who should see them, in both languages."""

import pytest
from django.urls import reverse


@pytest.fixture
def owner_client(client, workspace):
    owner = workspace.memberships.get(role="owner").user
    client.force_login(owner)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("name", ["dashboard", "settings", "team", "audit", "my_profile"])
def test_dashboard_pages_render_in_both_languages(owner_client, workspace, name, lang):
    owner_client.cookies["django_language"] = lang
    response = owner_client.get(reverse(f"web:{name}", kwargs={"ws": workspace.slug}))
    assert response.status_code == 200
    assert f'<html lang="{lang}"' in response.content.decode()


@pytest.mark.django_db
def test_dashboard_nav_lists_existing_pages_only(owner_client, workspace):
    html = owner_client.get(reverse("web:dashboard", kwargs={"ws": workspace.slug})).content.decode()
    assert 'class="dashboard-nav"' in html
    assert reverse("web:team", kwargs={"ws": workspace.slug}) in html
    assert reverse("web:settings", kwargs={"ws": workspace.slug}) in html


@pytest.mark.django_db
def test_workspace_switcher_appears_for_people_in_two_workspaces(client, workspace_factory, user_factory):
    person = user_factory()
    a = workspace_factory(slug="alpha", owner=person)
    workspace_factory(slug="beta", owner=person)
    client.force_login(person)
    html = client.get(reverse("web:dashboard", kwargs={"ws": a.slug})).content.decode()
    assert "ws-switch" in html and "/dashboard/beta/" in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
                                 "/accounts/login/code/"])
def test_public_and_auth_pages_render(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="lang-select"' in html and "pico" in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.django_db
def test_portal_lists_workspaces_the_user_bought_from(client, workspace, user_factory):
    from jasa.accounts.services import client_get_or_create

    buyer = user_factory(email="buyer@example.test")
    client_get_or_create(workspace=workspace, email=buyer.email, name="Buyer")
    client.force_login(buyer)
    html = client.get("/portal/").content.decode()
    assert workspace.name in html


@pytest.fixture
def section_template(settings):
    """A portal section template served from memory, as another app would ship one."""
    from jasa.web import nav

    engine = dict(settings.TEMPLATES[0])
    engine["APP_DIRS"] = False
    engine["OPTIONS"] = {**engine["OPTIONS"], "loaders": [
        ("django.template.loaders.locmem.Loader",
         {"test/_portal_section.html": "<p class='sec'>SECTION {{ workspace.slug }} {{ client.email }}</p>"}),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]}
    settings.TEMPLATES = [engine]
    before = list(nav._portal_sections)
    nav.portal_section("test/_portal_section.html", order=10)
    yield
    nav._portal_sections[:] = before


@pytest.mark.django_db
def test_apps_add_sections_to_each_workspace_in_the_portal(client, workspace_factory, user_factory,
                                                           section_template):
    from jasa.accounts.services import client_get_or_create

    buyer = user_factory(email="pembeli@example.test")
    for slug in ("toko-a", "toko-b"):
        client_get_or_create(workspace=workspace_factory(slug=slug), email=buyer.email, name="Pembeli")
    client.force_login(buyer)
    html = client.get("/portal/").content.decode()
    assert "SECTION toko-a pembeli@example.test" in html and "SECTION toko-b pembeli@example.test" in html
