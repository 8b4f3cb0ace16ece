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
