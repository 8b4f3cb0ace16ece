"""The permission matrix: per role, what each can read and change in its own workspace, and that
nothing of another workspace can be read or changed — through the web pages and the API.

Two workspaces, A ("ws-a") and B ("ws-b"), each with an owner, admin, staff and finance member.
The actors are A's members, A's API keys, an outsider (logged in, no membership) and anonymous.
Every action is tried against A (expected: the table) and against B (expected: not found).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest

from jasa.accounts.models import Invitation, Membership, Role, Workspace
from jasa.accounts.services import apikey_create

ROLES = ["owner", "admin", "staff", "finance"]
PEOPLE = [*ROLES, "outsider", "anonymous"]
KEYS = ["key_admin", "key_staff", "key_finance"]

OK, DENIED, HIDDEN, LOGIN, UNAUTH = "ok", "denied", "hidden", "login", "unauth"


def row(*outcomes: str) -> dict[str, str]:
    return dict(zip(PEOPLE, outcomes, strict=True))


@dataclass
class World:
    a: Workspace
    b: Workspace
    users: dict
    keys: dict  # actor name -> raw key of workspace A


@pytest.fixture
def world(db, workspace_factory, user_factory, member_factory) -> World:
    users = {}
    spaces = {}
    for label in ("a", "b"):
        owner = user_factory(email=f"owner-{label}@example.test")
        ws = workspace_factory(slug=f"ws-{label}", owner=owner, name=f"Workspace {label.upper()}")
        spaces[label] = ws
        if label == "a":
            users["owner"] = owner
        for role in ("admin", "staff", "finance"):
            m = member_factory(ws, role=role, user=user_factory(email=f"{role}-{label}@example.test"))
            if label == "a":
                users[role] = m.user
        Invitation.objects.create(workspace=ws, email=f"pending-{label}@example.test", role="staff",
                                  expires_at=ws.created_at + dt.timedelta(days=30))
    users["outsider"] = user_factory(email="outsider@example.test")
    keys = {f"key_{r}": apikey_create(workspace=spaces["a"], name=r, role=r)[1] for r in ("admin", "staff", "finance")}
    return World(a=spaces["a"], b=spaces["b"], users=users, keys=keys)


def _client(client, world: World, actor: str):
    if actor in world.users:
        client.force_login(world.users[actor])
    return client


def _outcome(response) -> str:
    code = response.status_code
    if code in (200, 201):
        return OK
    if code == 302:
        return LOGIN if "/accounts/login/" in response["Location"] else OK
    return {403: DENIED, 404: HIDDEN, 401: UNAUTH}.get(code, f"status {code}")


def _assert_changed(actions: dict, action: str, ws: Workspace, actor: str, changed: bool) -> None:
    """The action's effect is in the database exactly when it was allowed."""
    check = actions[action][3]
    if check is not None:
        assert check(ws, actor) is changed


def _member_of(ws: Workspace, who: str) -> Membership:
    """The membership of the person who STARTED with role ``who`` (roles change during the tests)."""
    return Membership.objects.get(workspace=ws, user__email__startswith=f"{who}-")


# ---------------------------------------------------------------------------------------------
# Web pages. Each action: (method, url builder, data builder, "did it change?" check)
# ---------------------------------------------------------------------------------------------

def _pending(ws: Workspace) -> Invitation:
    return Invitation.objects.get(workspace=ws, email__startswith="pending-")


def _web_actions():
    def changed_name(ws, actor):
        return Workspace.objects.get(pk=ws.pk).name == f"Renamed by {actor}"

    def invited(ws, actor):
        return Invitation.objects.filter(workspace=ws, email=f"new-{actor}@example.test").exists()

    return {
        "dashboard": ("get", lambda ws: f"/dashboard/{ws.slug}/", None, None),
        "settings_view": ("get", lambda ws: f"/dashboard/{ws.slug}/settings/", None, None),
        "team_view": ("get", lambda ws: f"/dashboard/{ws.slug}/team/", None, None),
        "audit_view": ("get", lambda ws: f"/dashboard/{ws.slug}/audit/", None, None),
        "profile_view": ("get", lambda ws: f"/dashboard/{ws.slug}/profile/", None, None),
        "settings_change": (
            "post", lambda ws: f"/dashboard/{ws.slug}/settings/",
            lambda ws, actor: {"ws-name": f"Renamed by {actor}", "ws-brand_colour": ws.brand_colour,
                               "ws-time_zone": ws.time_zone, "ws-currency": ws.currency,
                               "ws-languages": ["id", "en"]},
            changed_name,
        ),
        "team_invite": (
            "post", lambda ws: f"/dashboard/{ws.slug}/team/invite/",
            lambda ws, actor: {"email": f"new-{actor}@example.test", "role": "staff"}, invited,
        ),
        "member_role": (
            "post", lambda ws: f"/dashboard/{ws.slug}/team/{_member_of(ws, 'staff').pk}/role/",
            lambda ws, actor: {"role": "finance"},
            lambda ws, actor: _member_of(ws, "staff").role == "finance",
        ),
        "member_deactivate": (
            "post", lambda ws: f"/dashboard/{ws.slug}/team/{_member_of(ws, 'finance').pk}/deactivate/",
            lambda ws, actor: {}, lambda ws, actor: not _member_of(ws, "finance").is_active,
        ),
        "invitation_cancel": (
            "post", lambda ws: f"/dashboard/{ws.slug}/team/invitations/{_pending(ws).pk}/cancel/",
            lambda ws, actor: {}, lambda ws, actor: not _pending(ws).is_open,
        ),
        "apikey_create": (
            "post", lambda ws: f"/dashboard/{ws.slug}/settings/api-keys/",
            lambda ws, actor: {"key-name": f"by {actor}", "key-role": "staff"},
            lambda ws, actor: ws.api_keys.filter(name=f"by {actor}").exists(),
        ),
    }


WEB_ACTIONS = _web_actions()

# Expected outcome in the actor's OWN workspace (A). In workspace B every member gets HIDDEN.
WEB_TABLE: dict[str, dict[str, str]] = {
    #                   owner admin  staff   finance outsider anonymous
    "dashboard":        row(OK, OK, OK, OK, HIDDEN, LOGIN),
    "settings_view":    row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
    "team_view":        row(OK, OK, OK, OK, HIDDEN, LOGIN),
    "audit_view":       row(OK, OK, DENIED, OK, HIDDEN, LOGIN),
    "profile_view":     row(OK, OK, OK, OK, HIDDEN, LOGIN),
    "settings_change":  row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
    "team_invite":      row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
    "member_role":      row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
    "member_deactivate": row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
    "invitation_cancel": row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
    "apikey_create":    row(OK, OK, DENIED, DENIED, HIDDEN, LOGIN),
}


def _do_web(client, world, actor, action, ws):
    method, url, data, _ = WEB_ACTIONS[action]
    c = _client(client, world, actor)
    if method == "get":
        return c.get(url(ws))
    return c.post(url(ws), data(ws, actor))


@pytest.mark.parametrize("actor", PEOPLE)
@pytest.mark.parametrize("action", list(WEB_TABLE))
def test_web_own_workspace(client, world, actor, action):
    expected = WEB_TABLE[action][actor]
    response = _do_web(client, world, actor, action, world.a)
    assert _outcome(response) == expected, response.content[:300]
    _assert_changed(WEB_ACTIONS, action, world.a, actor, expected == OK)


@pytest.mark.parametrize("actor", PEOPLE)
@pytest.mark.parametrize("action", list(WEB_TABLE))
def test_web_other_workspace_is_invisible_and_unchanged(client, world, actor, action):
    response = _do_web(client, world, actor, action, world.b)
    assert _outcome(response) == (LOGIN if actor == "anonymous" else HIDDEN)
    _assert_changed(WEB_ACTIONS, action, world.b, actor, False)


@pytest.mark.parametrize("actor", ["owner", "admin"])
def test_web_ids_from_another_workspace_are_not_found_through_my_workspace(client, world, actor):
    """A's admin using A's URLs with B's membership / key ids changes nothing in B."""
    c = _client(client, world, actor)
    b_staff = _member_of(world.b, "staff")
    assert c.post(f"/dashboard/ws-a/team/{b_staff.pk}/role/", {"role": "finance"}).status_code == 404
    assert c.post(f"/dashboard/ws-a/team/{b_staff.pk}/deactivate/").status_code == 404
    assert c.get(f"/dashboard/ws-a/team/{b_staff.pk}/profile/").status_code == 404
    b_key, _ = apikey_create(workspace=world.b, name="b", role="admin")
    assert c.post(f"/dashboard/ws-a/settings/api-keys/{b_key.pk}/revoke/").status_code == 404
    b_staff.refresh_from_db()
    b_key.refresh_from_db()
    assert b_staff.role == "staff" and b_staff.is_active and b_key.is_active


@pytest.mark.parametrize("actor", ROLES)
def test_web_audit_and_team_pages_show_nothing_of_the_other_workspace(client, world, actor):
    c = _client(client, world, actor)
    team = c.get("/dashboard/ws-a/team/").content.decode()
    assert "staff-b@example.test" not in team and "staff-a@example.test" in team
    if WEB_TABLE["audit_view"][actor] == OK:
        audit = c.get("/dashboard/ws-a/audit/").content.decode()
        assert "ws-b" not in audit and "ws-a" in audit


# ---------------------------------------------------------------------------------------------
# API. Actors add A's API keys (Bearer) to the people above.
# ---------------------------------------------------------------------------------------------

API_ACTORS = [*PEOPLE, *KEYS]


def api_row(*outcomes: str) -> dict[str, str]:
    return dict(zip(API_ACTORS, outcomes, strict=True))

def _charge_target(ws: Workspace):
    """An open invoice of ``ws`` and a card its client saved (at the sandbox, which says yes), made once."""
    from jasa.accounts.models import Client
    from jasa.core import clock
    from jasa.core.money import Money
    from jasa.payments.models import Invoice, SavedPaymentMethod
    from jasa.payments.services import invoice_create, invoice_issue
    from jasa.sandbox.services import merchant_for_workspace

    invoice = Invoice.objects.filter(workspace=ws, source="permissions:charge").first()
    if invoice is None:
        merchant_for_workspace(ws)
        client = Client.objects.create(workspace=ws, name="Klien", email=f"klien@{ws.slug}.test")
        invoice = invoice_issue(invoice_create(workspace=ws, client=client, source="permissions:charge",
                                               lines=[{"description": "Langganan", "amount": Money(99_000)}]))
        SavedPaymentMethod.objects.create(workspace=ws, client=client, gateway="sandbox", method="card",
                                          token="tok_sandbox_success", consent_at=clock.now())
    return invoice, SavedPaymentMethod.objects.get(workspace=ws, client=invoice.client)


def _charged(ws, actor) -> bool:
    from jasa.payments.models import PaymentIntent

    invoice, saved = _charge_target(ws)
    return PaymentIntent.objects.filter(invoice=invoice, saved_method=saved, off_session=True).exists()


API_ACTIONS = {
    "workspace_get": ("get", lambda ws: f"/api/v1/workspaces/{ws.slug}", None, None),
    "members_get": ("get", lambda ws: f"/api/v1/workspaces/{ws.slug}/members", None, None),
    "workspace_patch": (
        "patch", lambda ws: f"/api/v1/workspaces/{ws.slug}", lambda ws, actor: {"legal_name": f"PT {actor}"},
        lambda ws, actor: Workspace.objects.get(pk=ws.pk).legal_name == f"PT {actor}",
    ),
    "invitation_post": (
        "post", lambda ws: f"/api/v1/workspaces/{ws.slug}/invitations",
        lambda ws, actor: {"email": f"api-{actor}@example.test", "role": "staff"},
        lambda ws, actor: Invitation.objects.filter(workspace=ws, email=f"api-{actor}@example.test").exists(),
    ),
    "charge_saved_method": (
        "post", lambda ws: f"/api/v1/workspaces/{ws.slug}/invoices/{_charge_target(ws)[0].pk}/payments",
        lambda ws, actor: {"saved_method_id": str(_charge_target(ws)[1].pk)}, _charged,
    ),
}

#                      owner admin staff finance outsider anonymous key_admin key_staff key_finance
API_TABLE: dict[str, dict[str, str]] = {
    "workspace_get":   api_row(OK, OK, OK, OK, HIDDEN, UNAUTH, OK, OK, OK),
    "members_get":     api_row(OK, OK, OK, OK, HIDDEN, UNAUTH, OK, OK, OK),
    "workspace_patch": api_row(OK, OK, DENIED, DENIED, HIDDEN, UNAUTH, OK, DENIED, DENIED),
    "invitation_post": api_row(OK, OK, DENIED, DENIED, HIDDEN, UNAUTH, OK, DENIED, DENIED),
    # as starting a payment: invoices.manage
    "charge_saved_method": api_row(OK, OK, DENIED, OK, HIDDEN, UNAUTH, OK, DENIED, OK),
}


def _do_api(client, world, actor, action, ws):
    method, url, data, _ = API_ACTIONS[action]
    headers = {}
    if actor in world.keys:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {world.keys[actor]}"
    c = _client(client, world, actor)
    if method == "get":
        return c.get(url(ws), **headers)
    return getattr(c, method)(url(ws), data=json.dumps(data(ws, actor)), content_type="application/json", **headers)


@pytest.mark.parametrize("actor", API_ACTORS)
@pytest.mark.parametrize("action", list(API_TABLE))
def test_api_own_workspace(client, world, actor, action):
    expected = API_TABLE[action][actor]
    response = _do_api(client, world, actor, action, world.a)
    assert _outcome(response) == expected, response.content[:300]
    _assert_changed(API_ACTIONS, action, world.a, actor, expected == OK)


@pytest.mark.parametrize("actor", API_ACTORS)
@pytest.mark.parametrize("action", list(API_TABLE))
def test_api_other_workspace_is_invisible_and_unchanged(client, world, actor, action):
    response = _do_api(client, world, actor, action, world.b)
    assert _outcome(response) == (UNAUTH if actor == "anonymous" else HIDDEN)
    assert response.json()["code"] in ("not_found", "unauthenticated")
    _assert_changed(API_ACTIONS, action, world.b, actor, False)


@pytest.mark.parametrize("actor", [*ROLES, "outsider", *KEYS])
def test_api_workspace_list_holds_only_my_workspaces(client, world, actor):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.keys[actor]}"} if actor in world.keys else {}
    response = _client(client, world, actor).get("/api/v1/workspaces", **headers)
    assert response.status_code == 200
    assert [w["slug"] for w in response.json()] == ([] if actor == "outsider" else ["ws-a"])


def test_api_members_of_my_workspace_never_include_the_other(client, world):
    response = _client(client, world, "staff").get("/api/v1/workspaces/ws-a/members")
    emails = {m["email"] for m in response.json()}
    assert emails == {"owner-a@example.test", "admin-a@example.test", "staff-a@example.test",
                      "finance-a@example.test"}


def test_api_session_write_needs_csrf(world):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["owner"])
    response = c.patch("/api/v1/workspaces/ws-a", data=json.dumps({"legal_name": "x"}),
                       content_type="application/json")
    assert response.status_code in (401, 403)
    assert Workspace.objects.get(pk=world.a.pk).legal_name != "x"


def test_api_key_cannot_invite_an_owner(client, world):
    response = client.post("/api/v1/workspaces/ws-a/invitations", data=json.dumps({"email": "o@x.test",
                           "role": Role.OWNER}), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {world.keys['key_admin']}")
    assert response.status_code == 403
