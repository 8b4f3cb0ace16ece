"""In Chromium with a virtual security key (Chrome DevTools' WebAuthn domain): a staff member adds the key as
their second factor on allauth's 2FA page, logs out, logs in with the password and the key, and reaches the
dashboard. Without the key (another device, or no authenticator at all) they stay at the second-factor step."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import CDPSession, Page, expect

PASSWORD = "pw-secret-123"
EMAIL = "staf@example.test"


def _watch_errors(page: Page) -> list[str]:
    """Script errors and CSP violations on the page (the browser's own favicon request is not jasa's business)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and not msg.location.get("url", "").endswith("/favicon.ico") else None)
    return errors


def _plug_in_security_key(page: Page) -> tuple[CDPSession, str]:
    """A USB CTAP2 key that holds resident keys and always verifies its user (a touch + PIN that never fails)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    key = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    return cdp, key["authenticatorId"]


def _add_security_key(page: Page, base: str, name: str) -> None:
    """From the account pages to the 2FA page; allauth asks for the password again before adding a factor."""
    page.goto(base + "/accounts/email/")
    page.locator(".account-nav").get_by_role("link", name="Autentikasi dua langkah").click()
    expect(page.get_by_role("heading", name="Autentikasi Dua Faktor")).to_be_visible()
    expect(page.get_by_text("Belum ada kunci keamanan yang ditambahkan.")).to_be_visible()
    page.locator("main a[href='/accounts/2fa/webauthn/add/']").click()
    expect(page.get_by_role("heading", name="Konfirmasi Akses")).to_be_visible()
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")
    expect(page.get_by_role("heading", name="Tambahkan Kunci Keamanan")).to_be_visible()
    page.get_by_label("Nama kunci").fill(name)
    with page.expect_navigation():
        page.click("#mfa_webauthn_add")


def _log_in_with_password(page: Page, base: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")


# allauth's script reports a failed WebAuthn request as an `allauth.error` event (and logs it unless prevented).
CATCH_ERROR = """document.addEventListener('allauth.error', (e) => {
    window.webauthnError = String(e.detail.exception); e.preventDefault() })"""

# A key that was never registered with jasa makes its own credential for this site, then answers the pending
# challenge with it (no allowCredentials, so the browser accepts it) and the page's form is submitted as allauth does.
FORGE_ASSERTION = """async () => {
    await navigator.credentials.create({publicKey: {
        rp: {id: location.hostname, name: 'jasa'}, challenge: new Uint8Array(32),
        user: {id: new Uint8Array([9, 9, 9]), name: 'penyusup', displayName: 'penyusup'},
        pubKeyCredParams: [{type: 'public-key', alg: -7}], authenticatorSelection: {residentKey: 'required'}}})
    const options = JSON.parse(document.getElementById('js_data').textContent).request_options
    delete options.publicKey.allowCredentials
    const credential = await window.webauthnJSON.get(options)
    const ids = JSON.parse(document.querySelector('[data-allauth-onload$=authenticateForm]').textContent).ids
    const input = document.getElementById(ids.credential)
    input.value = JSON.stringify(credential)
    input.form.submit()
}"""


@pytest.fixture
def setup(transactional_db, live_server, settings, workspace, user_factory, member_factory):
    # allauth's rate limits and MFA state must not carry over between runs sharing a Redis cache.
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}
    settings.SITE_URL = live_server.url
    member_factory(workspace, role="staff", user=user_factory(email=EMAIL, password=PASSWORD))
    # WebAuthn needs a secure context: http://localhost is one, and the relying party id is the host.
    assert live_server.url.startswith("http://localhost:")
    return live_server.url, workspace


@pytest.mark.browser
@pytest.mark.parametrize("insecure_origin_allowed", [True, False], ids=["development", "origin-checked"])
def test_staff_adds_a_security_key_and_logs_in_with_it(setup, page, settings, insecure_origin_allowed):
    """`origin-checked` is production's setting: the browser's origin must match the host the key is bound to."""
    from allauth.mfa.models import Authenticator

    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = insecure_origin_allowed
    base, workspace = setup
    dashboard = f"/dashboard/{workspace.slug}/"
    errors = _watch_errors(page)
    cdp, key = _plug_in_security_key(page)

    # 1. log in with the password; the account's 2FA page offers to add a security key
    _log_in_with_password(page, base, dashboard)
    expect(page).to_have_url(base + dashboard)
    _add_security_key(page, base, "Kunci USB")
    assert not errors, errors  # e.g. a CSP violation blocking allauth's scripts
    [authenticator] = Authenticator.objects.filter(user__email=EMAIL, type=Authenticator.Type.WEBAUTHN)
    assert authenticator.wrap().name == "Kunci USB"
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": key})["credentials"]) == 1
    # allauth generated recovery codes with the first key and shows them
    expect(page).to_have_url(base + "/accounts/2fa/recovery-codes/")
    page.goto(base + "/accounts/2fa/webauthn/")
    expect(page.locator("main")).to_contain_text("Belum pernah dipakai.")

    # 2. log out
    page.goto(base + "/accounts/logout/")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    page.goto(base + dashboard)
    expect(page).to_have_url(f"{base}/accounts/login/?next={dashboard}")

    # 3. the password alone is not enough: allauth asks for the second factor; the key answers it
    _log_in_with_password(page, base, dashboard)
    expect(page).to_have_url(base + "/accounts/2fa/authenticate/")
    with page.expect_navigation():
        page.click("#mfa_webauthn_authenticate")
    expect(page).to_have_url(base + dashboard)
    expect(page.get_by_role("heading", name=workspace.name)).to_be_visible()

    # 4. the key's page shows when it was last used; it can be renamed
    page.goto(base + "/accounts/2fa/")
    page.locator("main a[href='/accounts/2fa/webauthn/']").click()
    expect(page.get_by_role("cell", name="Kunci USB")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Terakhir digunakan")
    page.get_by_role("link", name="Edit").click()
    # renaming is sensitive too: allauth asks to confirm access, and the key itself can confirm it
    expect(page.get_by_role("heading", name="Konfirmasi Akses")).to_be_visible()
    page.get_by_role("link", name="Gunakan kunci keamanan").click()
    with page.expect_navigation():
        page.click("#mfa_webauthn_reauthenticate")
    page.get_by_label("Nama kunci").fill("Kunci kantor")
    with page.expect_navigation():
        page.get_by_role("button", name="Simpan").click()
    assert Authenticator.objects.get(pk=authenticator.pk).wrap().name == "Kunci kantor"
    assert not errors, errors


@pytest.mark.browser
def test_without_the_security_key_login_stays_at_the_second_factor(setup, page, browser):
    from allauth.mfa.models import Authenticator

    base, workspace = setup
    dashboard = f"/dashboard/{workspace.slug}/"
    _plug_in_security_key(page)
    _log_in_with_password(page, base, dashboard)
    _add_security_key(page, base, "Kunci USB")
    assert Authenticator.objects.filter(user__email=EMAIL, type=Authenticator.Type.WEBAUTHN).count() == 1

    # another browser with a different key (it holds no credential for jasa)
    other = browser.new_context(locale="id-ID")
    try:
        stranger = other.new_page()
        _plug_in_security_key(stranger)
        _log_in_with_password(stranger, base, dashboard)
        expect(stranger).to_have_url(base + "/accounts/2fa/authenticate/")
        stranger.evaluate(CATCH_ERROR)
        stranger.click("#mfa_webauthn_authenticate")
        stranger.wait_for_function("() => window.webauthnError !== undefined")
        assert "NotAllowedError" in stranger.evaluate("window.webauthnError")
        expect(stranger).to_have_url(base + "/accounts/2fa/authenticate/")
        stranger.goto(base + dashboard)  # the dashboard sends them back to the pending second factor
        expect(stranger).to_have_url(base + "/accounts/2fa/authenticate/")

        # the stranger's key signs jasa's challenge with a credential of its own: the server refuses it
        with stranger.expect_navigation():
            stranger.evaluate(FORGE_ASSERTION)
        expect(stranger).to_have_url(base + "/accounts/2fa/authenticate/")
        expect(stranger.get_by_role("alert")).to_have_text(
            "Kunci keamanan tidak diterima. Kode salah. Gunakan kunci yang Anda tambahkan ke akun ini, "
            "atau pilihan lain di halaman ini.")
        expect(stranger.locator("main")).not_to_contain_text("Bidang tersembunyi")  # Django's "(Hidden field …)"
        stranger.goto(base + dashboard)
        expect(stranger).to_have_url(base + "/accounts/2fa/authenticate/")
    finally:
        other.close()

    # a browser with no security key at all: the request waits for a key that never comes, so they stay at the
    # second factor (the dashboard sends them back to it) until they cancel, which logs them out
    bare = browser.new_context(locale="id-ID")
    try:
        nobody = bare.new_page()
        _log_in_with_password(nobody, base, dashboard)
        expect(nobody).to_have_url(base + "/accounts/2fa/authenticate/")
        nobody.click("#mfa_webauthn_authenticate")
        nobody.goto(base + dashboard)
        expect(nobody).to_have_url(base + "/accounts/2fa/authenticate/")
        with nobody.expect_navigation():
            nobody.get_by_role("button", name="Batal").click()
        nobody.goto(base + dashboard)
        expect(nobody).to_have_url(f"{base}/accounts/login/?next={dashboard}")
    finally:
        bare.close()
