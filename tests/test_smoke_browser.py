import pytest


@pytest.mark.browser
def test_home_page_renders_in_chromium(live_server, page, transactional_db):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "jasa"
    # the language switch works without a login
    page.select_option("#lang-select", "en")
    page.wait_for_load_state()
    assert "Sign up" in page.content()
