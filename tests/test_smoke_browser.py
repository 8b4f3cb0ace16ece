import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_home_page_renders_in_chromium(live_server, page, transactional_db):
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_have_text("jasa")
    # the language switch works without a login
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    expect(page.get_by_text("Sign up", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.browser
def test_pages_load_without_csp_violations_or_script_errors(live_server, page, transactional_db):
    from jasa.core.demo import DEMO_PASSWORD, demo_load

    demo_load(progress=lambda _: None)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    for url in ["/", "/accounts/signup/", "/accounts/login/", "/accounts/login/code/", "/demo/"]:
        page.goto(live_server.url + url)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", "owner@demo.jasa.local")
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form:has(input[name=password]) button[type=submit]").first.click()
    for url in ["/dashboard/demo/", "/dashboard/demo/team/", "/dashboard/demo/settings/", "/dashboard/demo/audit/",
                "/accounts/email/", "/accounts/2fa/", "/portal/"]:
        page.goto(live_server.url + url)
        assert page.url == live_server.url + url  # logged in: no detour to the login page
        expect(page.locator("#lang-select")).to_be_visible()
    # the Django admin runs under the same CSP (an operator's session)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.filter(email="owner@demo.jasa.local").update(is_staff=True, is_superuser=True)
    for url in ["/admin/", "/admin/accounts/workspace/", "/admin/accounts/user/add/"]:
        page.goto(live_server.url + url)
        assert page.url == live_server.url + url
    problems = [p for p in problems if "favicon" not in p and "404" not in p]
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
