"""Workspace pages end to end through the Django test client."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jasa.accounts.models import ApiKey, Invitation, Membership, Workspace


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "#0b6e4f").save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.django_db
def test_create_workspace_makes_me_owner(client, user_factory):
    me = user_factory()
    client.force_login(me)
    assert client.get("/dashboard/new/").status_code == 200
    response = client.post("/dashboard/new/", {"name": "Kantor Pajak Rina", "slug": "rina",
                                               "time_zone": "Asia/Makassar", "currency": "IDR"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/rina/"
    ws = Workspace.objects.get(slug="rina")
    assert ws.time_zone == "Asia/Makassar"
    assert Membership.objects.get(workspace=ws, user=me).role == "owner"


@pytest.mark.django_db
def test_create_workspace_shows_a_taken_address_on_the_form(client, workspace, user_factory):
    client.force_login(user_factory())
    response = client.post("/dashboard/new/", {"name": "X", "slug": workspace.slug, "time_zone": "Asia/Jakarta",
                                               "currency": "IDR"})
    assert response.status_code == 200
    assert "slug" in response.context["form"].errors


@pytest.mark.django_db
def test_settings_save_with_logo_and_bilingual_texts(client, workspace, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(workspace.memberships.get(role="owner").user)
    data = {"ws-name": "Acme Baru", "ws-brand_colour": "#112233", "ws-time_zone": "Asia/Jayapura",
            "ws-currency": "IDR", "ws-languages": ["id"], "ws-legal_name": "PT Acme", "ws-npwp": "01.234.567.8-901.000",
            "ws-refund_policy_id": "Uang kembali", "ws-refund_policy_en": "Money back",
            "ws-logo": SimpleUploadedFile("logo.png", _png(), content_type="image/png")}
    response = client.post(f"/dashboard/{workspace.slug}/settings/", data)
    assert response.status_code == 302, response.content[:500]
    workspace.refresh_from_db()
    assert workspace.name == "Acme Baru" and workspace.time_zone == "Asia/Jayapura" and workspace.languages == ["id"]
    assert workspace.logo.name.startswith("logos/") and workspace.text("refund_policy", "en") == "Money back"
    public = client.get(f"/{workspace.slug}/").content.decode()
    assert workspace.logo.url in public and "PT Acme" in public


@pytest.mark.django_db
def test_settings_refuse_a_bad_colour_and_change_nothing(client, workspace):
    client.force_login(workspace.memberships.get(role="owner").user)
    response = client.post(f"/dashboard/{workspace.slug}/settings/", {
        "ws-name": "Other", "ws-brand_colour": "red", "ws-time_zone": "Asia/Jakarta", "ws-currency": "IDR",
        "ws-languages": ["id"]})
    assert response.status_code == 422
    workspace.refresh_from_db()
    assert workspace.name != "Other"


@pytest.mark.django_db
def test_api_key_is_shown_once_and_works(client, workspace):
    client.force_login(workspace.memberships.get(role="owner").user)
    response = client.post(f"/dashboard/{workspace.slug}/settings/api-keys/", {"key-name": "Zapier",
                                                                                  "key-role": "finance"})
    raw = response.context["new_key"]
    assert raw in response.content.decode() and response["Cache-Control"] == "no-store"
    assert raw not in client.get(f"/dashboard/{workspace.slug}/settings/").content.decode()
    client.logout()
    api = client.get(f"/api/v1/workspaces/{workspace.slug}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200 and api.json()["slug"] == workspace.slug
    key = ApiKey.objects.get(name="Zapier")
    assert key.role == "finance" and key.last_used_at is not None


@pytest.mark.django_db
def test_invite_and_accept_through_the_pages(client, workspace, user_factory, smtp_server,
                                             django_capture_on_commit_callbacks):
    owner = workspace.memberships.get(role="owner").user
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dashboard/{workspace.slug}/team/invite/", {"email": "tia@example.test",
                                                                            "role": "staff"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="tia@example.test")
    assert f"/invite/{invitation.token}/" in smtp_server.text(smtp_server.wait_for("tia@example.test")[0])
    assert "tia@example.test" in client.get(f"/dashboard/{workspace.slug}/team/").content.decode()

    client.logout()
    page = client.get(f"/invite/{invitation.token}/").content.decode()
    assert "/accounts/signup/?next=" in page and "/accounts/login/?next=" in page
    assert client.post(f"/invite/{invitation.token}/")["Location"].startswith("/accounts/login/")

    client.force_login(user_factory(email="someone-else@example.test"))
    assert client.post(f"/invite/{invitation.token}/").status_code == 409

    tia = user_factory(email="tia@example.test")
    client.force_login(tia)
    response = client.post(f"/invite/{invitation.token}/")
    assert response.status_code == 302 and response["Location"] == f"/dashboard/{workspace.slug}/"
    assert Membership.objects.get(workspace=workspace, user=tia).role == "staff"
    assert client.get(f"/invite/{invitation.token}/").status_code == 200  # shows "already used"
    assert client.get("/invite/not-a-token/").status_code == 404


@pytest.mark.django_db
def test_staff_edits_own_profile_and_it_shows_publicly(client, workspace, member_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    m = member_factory(workspace, role="staff")
    client.force_login(m.user)
    response = client.post(f"/dashboard/{workspace.slug}/profile/", {
        "display_name": "Nadia Putri", "headline": "Konsultan pajak", "bio_id": "Ahli pajak UMKM.",
        "bio_en": "SME tax expert.", "years_experience": "9", "certifications": "Brevet A\nBrevet B",
        "languages": "id, en", "time_zone": "Asia/Jakarta", "is_public": "on",
        "photo": SimpleUploadedFile("me.png", _png(), content_type="image/png")})
    assert response.status_code == 302, response.content[:400]
    client.cookies["django_language"] = "en"
    html = client.get(f"/{workspace.slug}/").content.decode()
    assert "Nadia Putri" in html and "SME tax expert." in html and "Brevet B" in html and "9 years" in html
    assert "staff/" in html  # the photo
    client.cookies["django_language"] = "id"
    html = client.get(f"/{workspace.slug}/").content.decode()
    assert "Ahli pajak UMKM." in html and "9 tahun pengalaman" in html


@pytest.mark.django_db
def test_demo_public_page_shows_two_staff_with_bios_and_credentials(client):
    from jasa.core.demo import demo_load

    demo_load(progress=lambda _: None)
    client.cookies["django_language"] = "en"
    html = client.get("/demo/").content.decode()
    assert html.count('class="staff-card"') >= 2
    assert "Digital business consultant" in html and "Certified Scrum Master" in html
    assert "Studio founder" in html and "Certified Digital Marketer" in html
    assert "Konsultan bisnis digital" in html


@pytest.mark.django_db
def test_home_offers_open_invitations_to_my_address(client, workspace, user_factory):
    from jasa.accounts.services import invitation_create

    invitation = invitation_create(workspace=workspace, email="tamu@example.test", role="finance",
                                   invited_by=workspace.memberships.get(role="owner").user)
    guest = user_factory(email="tamu@example.test")
    client.force_login(guest)
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert f"/invite/{invitation.token}/" in html and f"{workspace.name} invites you as Finance." in html
    client.post(f"/invite/{invitation.token}/")
    assert client.get("/")["Location"] == f"/dashboard/{workspace.slug}/"  # one workspace, no invitations left
